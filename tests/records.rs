//! The records staff rely on, through the `frontdesk` command as staff and the daemon use it:
//! planted patient data never reaches the disk, the log or the statistics in the clear, but
//! `calls show` displays it; the audit trail notices a changed, removed or reordered entry;
//! retention with a shifted clock removes what is old and keeps what is fresh; a missing key,
//! a key others can read, and the wrong key all stop the daemon with a clear error.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A caller whose details appear nowhere else: if any of these strings is found in the clear,
/// it came from this test's calls.
const CALLER_ID: &str = "+19715550186";
const NAME_SAID: &str = "My name is Quillon Vexmarrow.";
const NAME: &str = "Quillon Vexmarrow";
const SPELLING: &str = "V. E. X. M. A. R. R. O. W.";
const DOB_SAID: &str = "November thirteenth, nineteen twenty one.";
const DOB: &str = "1921-11-13";
const CALLBACK_SAID: &str = "Nine seven one, five five five, zero one eight six.";
const CALLBACK: &str = "9715550186";

/// Words of these values as they could be stored or logged in any form.
const PLANTED: &[&str] = &[
    "Quillon",
    "Vexmarrow",
    "VEXMARROW",
    "1921-11-13",
    "11/13/1921",
    "9715550186",
    "971-555-0186",
    "555-0186",
    "thirteenth",
    "nineteen twenty",
];

fn appointment() -> Vec<&'static str> {
    vec![
        "I'd like to make an appointment.",
        NAME_SAID,
        SPELLING,
        "Yes.",
        DOB_SAID,
        "Yes.",
        CALLBACK_SAID,
        "Yes.",
        "A rash on my arm.",
        "Tuesday afternoon.",
        "Yes.",
        "No, thank you.",
    ]
}

struct Box_ {
    config: PathBuf,
    dir: PathBuf,
}

impl Box_ {
    fn new(name: &str, tail: &str) -> Box_ {
        let config = common::daemon::write_config(name, 18500, "", tail);
        let dir = config.parent().unwrap().to_path_buf();
        Box_ { config, dir }
    }

    fn run(&self, args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> Output {
        common::run_frontdesk(&self.config, args, stdin, envs)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, "", &[]);
        assert!(out.status.success(), "frontdesk {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A call through the conversation, stored as the daemon stores it; the debug log with it.
    fn call(&self, now: &str, lines: &[&str]) -> String {
        let out =
            self.run(&["simulate", "--save", "--now", now, "--caller", CALLER_ID], &(lines.join("\n") + "\n"), &[("RUST_LOG", "debug")]);
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{log}");
        assert!(log.contains("simulated call stored"), "{log}");
        log
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn key(&self) -> PathBuf {
        self.dir.join("etc/master.key")
    }

    /// The database and its WAL, byte for byte.
    fn disk(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for name in ["calls.db", "calls.db-wal"] {
            all.extend(std::fs::read(self.data().join(name)).unwrap_or_default());
        }
        assert!(all.len() > 4096, "no database found");
        all
    }
}

fn found(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn assert_clean(what: &str, bytes: &[u8]) {
    for p in PLANTED {
        assert!(!found(bytes, p), "{p:?} found in the clear in {what}");
    }
    // The caller ID with its +1, or as a bare number.
    assert!(!found(bytes, "19715550186"), "caller ID in the clear in {what}");
}

#[test]
fn planted_patient_data_is_sealed_on_disk_and_absent_from_logs_but_staff_see_it() {
    let b = Box_::new("records-canary", "");
    let mut logs = b.call("2026-11-23T10:00:00-05:00", &appointment());
    logs += &b.call(
        "2026-11-23T11:30:00-05:00",
        &[
            "Can I leave a message for Dr. Patel?",
            NAME_SAID,
            SPELLING,
            "Yes.",
            DOB_SAID,
            "Yes.",
            CALLBACK_SAID,
            "Yes.",
            "Please call me about my results.",
            "Yes.",
            "No, thank you.",
        ],
    );

    let show = b.ok(&["calls", "show", "1"]);
    assert!(show.contains("message_taken") && show.contains("confirmed     yes"), "{show}");
    assert!(show.contains(NAME), "{show}");
    assert!(show.contains(DOB), "{show}");
    assert!(show.contains("(971) 555-0186"), "{show}");
    assert!(show.contains(CALLER_ID), "{show}");
    assert!(show.contains("CALLER") && show.contains("rash"), "the transcript is shown: {show}");
    let list = b.ok(&["calls", "list"]);
    assert!(list.contains(NAME) && list.contains("2 calls"), "{list}");
    let export: serde_json::Value = serde_json::from_str(&b.ok(&["calls", "export", "1", "--format", "json"])).unwrap();
    assert_eq!(export["record"]["slots"]["date_of_birth"], DOB);
    assert_eq!(export["record"]["slots"]["callback"], CALLBACK);
    let messages = b.ok(&["messages"]);
    assert!(messages.contains(NAME) && messages.contains("2 waiting"), "{messages}");
    let stats = b.ok(&["calls", "stats"]);
    assert!(stats.contains("outcome=\"message_taken\""), "{stats}");

    // The check itself can fail: the clear columns are found, and so would the name be.
    let disk = b.disk();
    assert!(found(&disk, "message_taken"));
    assert_clean("the database or its WAL", &disk);
    assert_clean("the log at debug level", logs.as_bytes());
    assert_clean("calls stats (the metrics output)", stats.as_bytes());
    assert!(logs.contains('#'), "the caller is named by a keyed tag in the log: {logs}");

    // Every read above is in the audit trail, with who ran it.
    let audit = b.ok(&["audit", "show"]);
    for action in ["key_created", "calls show 1", "calls list", "call 1 as json", "messages: 2 waiting"] {
        assert!(audit.contains(action), "{action} not audited:\n{audit}");
    }
    assert!(audit.contains("(uid "), "{audit}");
    assert_clean("the audit trail", audit.as_bytes());
    assert!(b.ok(&["audit", "verify"]).contains("intact"));

    // Acknowledged messages leave the worklist and say who handled them.
    b.ok(&["messages", "ack", "1"]);
    let messages = b.ok(&["messages"]);
    assert!(messages.contains("1 waiting") && !messages.contains("#1 "), "{messages}");
    assert!(b.ok(&["calls", "show", "1"]).contains("handled"));
}

#[test]
fn patient_data_in_the_log_takes_an_explicit_switch_and_a_warning() {
    let b = Box_::new("records-debug-switch", "");
    let text = std::fs::read_to_string(&b.config).unwrap().replace("patient_data = false", "patient_data = true");
    std::fs::write(&b.config, text).unwrap();
    let log = b.call("2026-11-23T10:00:00-05:00", &appointment());
    assert!(log.contains("logging.patient_data is on"), "{log}");
    assert!(log.contains("rash on my arm"), "with the switch, debug lines carry the words: {log}");
}

/// Copies of one data directory, each tampered with differently.
fn tampered(b: &Box_, name: &str, sql: &str) -> String {
    let copy = Box_::new(name, "");
    std::fs::create_dir_all(copy.data()).unwrap();
    std::fs::create_dir_all(copy.key().parent().unwrap()).unwrap();
    std::fs::copy(b.data().join("calls.db"), copy.data().join("calls.db")).unwrap();
    std::fs::copy(b.key(), copy.key()).unwrap();
    let conn = rusqlite::Connection::open(copy.data().join("calls.db")).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    let out = copy.run(&["audit", "verify"], "", &[]);
    assert!(!out.status.success(), "tampering went unnoticed: {sql}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_audit_trail_names_the_entry_that_was_changed_removed_or_reordered() {
    let b = Box_::new("records-audit", "");
    b.call("2026-11-23T10:00:00-05:00", &["What are your hours?", "No, thank you."]);
    for _ in 0..3 {
        b.ok(&["calls", "show", "1"]);
    }
    b.ok(&["calls", "list"]);
    // key_created, the stored call, three reads of call 1, the list.
    let verdict = b.ok(&["audit", "verify"]);
    assert!(verdict.contains("intact: 6 entries"), "{verdict}");
    // Make sure everything is in the main file, so the byte edit below hits the real entry.
    drop(rusqlite::Connection::open(b.data().join("calls.db")).unwrap());

    // One byte of entry 5 ("calls show 1" -> "calls show 7"), edited in the file itself.
    let copy = Box_::new("records-audit-byte", "");
    std::fs::create_dir_all(copy.data()).unwrap();
    std::fs::create_dir_all(copy.key().parent().unwrap()).unwrap();
    std::fs::copy(b.key(), copy.key()).unwrap();
    let mut bytes = std::fs::read(b.data().join("calls.db")).unwrap();
    let at: Vec<usize> = (0..bytes.len() - 12).filter(|&i| &bytes[i..i + 12] == b"calls show 1").collect();
    assert_eq!(at.len(), 3, "three entries say calls show 1");
    // Entries are stored in rowid order within the page, oldest last or first: find entry 5's.
    let conn = rusqlite::Connection::open(b.data().join("calls.db")).unwrap();
    let seqs: Vec<i64> = conn
        .prepare("SELECT seq FROM audit WHERE detail = 'calls show 1' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    drop(conn);
    bytes[at[1] + 11] = b'7';
    std::fs::write(copy.data().join("calls.db"), &bytes).unwrap();
    let out = copy.run(&["audit", "verify"], "", &[]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains(&format!("entry {}", seqs[1])) && said.contains("changed"), "{said}");

    let said = tampered(&b, "records-audit-delete", "DELETE FROM audit WHERE seq = 4;");
    assert!(said.contains("BROKEN at entry 4") && said.contains("removed"), "{said}");
    let said = tampered(
        &b,
        "records-audit-swap",
        "DROP TRIGGER audit_append_only;
         CREATE TEMP TABLE a AS SELECT * FROM audit WHERE seq = 3;
         CREATE TEMP TABLE c AS SELECT * FROM audit WHERE seq = 5;
         DELETE FROM audit WHERE seq IN (3, 5);
         INSERT INTO audit SELECT 3, n, at, actor, action, detail, prev, mac FROM temp.c;
         INSERT INTO audit SELECT 5, n, at, actor, action, detail, prev, mac FROM temp.a;",
    );
    assert!(said.contains("BROKEN at entry 3") && said.contains("out of order"), "{said}");
    let said = tampered(&b, "records-audit-tail", "DELETE FROM audit WHERE seq = 6;");
    assert!(said.contains("BROKEN at entry 6") && said.contains("removed"), "{said}");
}

#[test]
fn retention_with_a_shifted_clock_removes_old_calls_and_keeps_fresh_ones() {
    let policy = "\n[retention]\ntranscripts_days = 30\nrecordings_days = 30\nintake_days = 200\naudit_days = 2190\n";
    let b = Box_::new("records-retention", "");
    let text = std::fs::read_to_string(&b.config).unwrap();
    let start = text.find("\n[retention]").unwrap();
    let end = start + 1 + text[start + 1..].find("\n[").unwrap();
    std::fs::write(&b.config, format!("{}{policy}{}", &text[..start], &text[end..])).unwrap();

    b.call("2026-01-12T10:00:00-05:00", &appointment()); // 314 days old: gone
    b.call(
        "2026-10-01T10:00:00-04:00",
        &[
            "Can I leave a message?",
            "My name is Ottoline Brackwater.",
            "B. R. A. C. K. W. A. T. E. R.",
            "Yes.",
            DOB_SAID,
            "Yes.",
            CALLBACK_SAID,
            "Yes.",
            "Please call me back.",
            "Yes.",
            "No, thank you.",
        ],
    ); // 52 days: transcript gone
    b.call(
        "2026-11-20T10:00:00-05:00",
        &[
            "I need a refill.",
            "My name is Perpetua Hollowell.",
            "H. O. L. L. O. W. E. L. L.",
            "Yes.",
            DOB_SAID,
            "Yes.",
            CALLBACK_SAID,
            "Yes.",
            "Lisinopril.",
            "Yes.",
            "No, thank you.",
        ],
    ); // fresh
    // Pieces of the old call's sealed data and keys, to look for after the purge.
    let conn = rusqlite::Connection::open(b.data().join("calls.db")).unwrap();
    let mut traces: Vec<Vec<u8>> = vec![conn.query_row("SELECT intake FROM calls WHERE id = 1", [], |r| r.get(0)).unwrap()];
    traces.push(conn.query_row("SELECT transcript FROM calls WHERE id = 1", [], |r| r.get(0)).unwrap());
    traces.push(conn.query_row("SELECT transcript FROM calls WHERE id = 2", [], |r| r.get(0)).unwrap());
    let keys: Vec<Vec<u8>> = conn
        .prepare("SELECT wrapped FROM data_keys WHERE call_id = 1 OR (call_id = 2 AND class = 'transcript')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(keys.len(), 3);
    traces.extend(keys);
    drop(conn);
    let disk = b.disk();
    assert!(traces.iter().all(|t| disk.windows(24).any(|w| w == &t[1..25])), "the search finds them before the purge");

    let said = b.ok(&["purge", "--now", "2026-11-22T12:00:00-05:00"]);
    assert!(said.contains("1 calls, 1 transcripts"), "{said}");
    drop(rusqlite::Connection::open(b.data().join("calls.db")).unwrap());

    let disk = b.disk();
    for (i, t) in traces.iter().enumerate() {
        assert!(!disk.windows(24).any(|w| w == &t[1..25]), "purged piece {i} is still in the file or its WAL");
    }
    let list = b.ok(&["calls", "list"]);
    assert!(!list.contains(NAME) && list.contains("2 calls"), "{list}");
    let middle = b.ok(&["calls", "show", "2"]);
    assert!(middle.contains("Ottoline") && middle.contains("transcript    (purged by retention)"), "{middle}");
    let fresh = b.ok(&["calls", "show", "3"]);
    assert!(fresh.contains("Perpetua") && fresh.contains("Lisinopril"), "{fresh}");
    assert!(b.run(&["calls", "show", "1"], "", &[]).status.code() == Some(1));
    let audit = b.ok(&["audit", "show"]);
    assert!(audit.contains("retention removed 1 calls, 1 transcripts"), "{audit}");
    assert!(b.ok(&["audit", "verify"]).contains("intact"));
}

#[test]
fn the_daemon_refuses_a_missing_loose_or_wrong_key() {
    use std::os::unix::fs::PermissionsExt;
    let b = Box_::new("records-keys", "");
    b.call("2026-11-23T10:00:00-05:00", &["What are your hours?", "No, thank you."]);
    let key = std::fs::read(b.key()).unwrap();
    let start = |b: &Box_| {
        let out = b.run(&["run"], "", &[]);
        assert!(!out.status.success(), "the daemon started");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    std::fs::set_permissions(b.key(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = start(&b);
    assert!(err.contains("mode 0644") && err.contains("chmod 600"), "{err}");

    std::fs::remove_file(b.key()).unwrap();
    let err = start(&b);
    assert!(err.contains("is missing") && err.contains("backup"), "{err}");
    assert!(!b.key().exists(), "a missing key must not be replaced by a new one");

    let err = b.run(&["key", "init"], "", &[]);
    assert!(
        String::from_utf8_lossy(&err.stderr).contains("restore the key from your backup"),
        "key init never replaces the key of existing records"
    );
    write_key(&b.key(), b"5f1e0c2b7a9d4e3f60718293a4b5c6d7e8f9011223344556677889900aabbccd\n");
    let err = start(&b);
    assert!(err.contains("another master key"), "{err}");

    std::fs::remove_file(b.key()).unwrap();
    write_key(&b.key(), &key);
    let show = b.ok(&["calls", "show", "1"]);
    assert!(show.contains("hours"), "{show}");
}

#[test]
fn a_rotated_key_opens_everything_and_the_old_one_nothing() {
    let b = Box_::new("records-rotate", "");
    b.call("2026-11-23T10:00:00-05:00", &appointment());
    let old = std::fs::read(b.key()).unwrap();
    let said = b.ok(&["key", "rotate"]);
    assert!(said.contains("replaced by"), "{said}");
    assert_ne!(std::fs::read(b.key()).unwrap(), old);
    assert!(b.ok(&["calls", "show", "1"]).contains(NAME));
    let audit = b.ok(&["audit", "show"]);
    assert!(audit.contains("key_rotated"), "{audit}");
    assert!(b.ok(&["audit", "verify"]).contains("intact"), "the chain verifies across the rotation");
    std::fs::remove_file(b.key()).unwrap();
    write_key(&b.key(), &old);
    let out = b.run(&["calls", "show", "1"], "", &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("another master key"));
}

fn write_key(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).unwrap();
    f.write_all(bytes).unwrap();
}
