use super::*;
use crate::record::{Outcome, Speaker};

struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("frontdesk-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch { dir }
    }

    fn settings(&self) -> StoreSettings {
        StoreSettings { data_dir: self.dir.join("data"), key_file: self.dir.join("etc/master.key") }
    }

    fn open(&self, role: Role) -> Result<Store> {
        Store::open(&self.settings(), role)
    }

    /// Every byte the database has on disk: the file and its WAL.
    fn disk_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for name in ["calls.db", "calls.db-wal"] {
            all.extend(std::fs::read(self.dir.join("data").join(name)).unwrap_or_default());
        }
        all
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn record(started_at: &str, name: &str) -> CallRecord {
    let mut r = CallRecord::new(started_at.into(), Some("+16175550142".into()), Some("100".into()), false);
    r.slots.insert("name".into(), name.into());
    r.slots.insert("date_of_birth".into(), "1931-07-29".into());
    r.intent = Some("refill".into());
    r.transcript.push(Utterance {
        at_ms: 10,
        speaker: Speaker::Caller,
        text: format!("this is {name}"),
        confidence: Some(0.9),
        keypad: false,
        interrupted: false,
    });
    r.outcome = Outcome::MessageTaken;
    r.ended_at = Some(started_at.into());
    r
}

#[test]
fn records_survive_reopening_and_unfinished_calls_become_interrupted() {
    let s = Scratch::new("reopen");
    let r = record("2026-11-22T10:00:00Z", "Jane Doe");
    {
        let store = s.open(Role::Daemon).unwrap();
        let finished = store.save(&r).unwrap();
        let open = store.begin_call(&r).unwrap();
        assert_eq!(store.get(finished).unwrap().unwrap().outcome, "message_taken");
        assert_eq!(store.get(open).unwrap().unwrap().outcome, "in_progress");
    }
    // A staff command run during calls must not declare them interrupted.
    assert_eq!(s.open(Role::Staff).unwrap().all().unwrap()[1].outcome, "in_progress");
    let store = s.open(Role::Daemon).unwrap();
    let all = store.all().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].record().unwrap(), r);
    assert_eq!(all[1].outcome, "interrupted");
    assert_eq!(all[1].record().unwrap().slots["name"], "Jane Doe", "what was captured is kept");
    assert_eq!(schema::version(&store.conn()).unwrap(), schema::latest());
}

#[test]
fn nothing_identifying_reaches_the_disk_in_the_clear() {
    let s = Scratch::new("clear");
    let store = s.open(Role::Daemon).unwrap();
    let id = store.begin_call(&record("2026-11-22T10:00:00Z", "Zebulon Quarry")).unwrap();
    store.update_call(id, &record("2026-11-22T10:00:00Z", "Zebulon Quarry")).unwrap();
    store.finish_call(id, &record("2026-11-22T10:00:00Z", "Zebulon Quarry")).unwrap();
    let disk = s.disk_bytes();
    assert!(contains(&disk, "message_taken"), "the check must see the clear columns");
    for planted in ["Zebulon", "Quarry", "1931-07-29", "6175550142", "this is"] {
        assert!(!contains(&disk, planted), "{planted} is on disk in the clear");
    }
    assert_eq!(store.get(id).unwrap().unwrap().record().unwrap().slots["name"], "Zebulon Quarry");
}

/// The model's summary joins the sealed details (never the clear columns), keeps everything
/// else as it was, and is not written where retention destroyed a part or there is no call.
#[test]
fn a_summary_is_sealed_with_the_record_and_never_revives_a_purged_part() {
    let s = Scratch::new("summary");
    let store = s.open(Role::Daemon).unwrap();
    let r = record("2026-11-20T10:00:00Z", "Zebulon Quarry");
    let id = store.save(&r).unwrap();
    assert!(store.set_summary(id, "Wants a refill of the blood pressure pills").unwrap());
    let back = store.get(id).unwrap().unwrap().record().unwrap();
    assert_eq!(back.summary.as_deref(), Some("Wants a refill of the blood pressure pills"));
    assert_eq!(CallRecord { summary: None, ..back }, r, "nothing else changed");
    assert!(!contains(&s.disk_bytes(), "blood pressure"), "the summary is on disk in the clear");
    assert!(!store.set_summary(id + 1, "x").unwrap(), "no such call");

    let purged = store.save(&record("2026-09-01T10:00:00Z", "Old Person")).unwrap();
    let policy = retention::RetentionSection { transcripts_days: 30, recordings_days: 30, intake_days: 200, audit_days: 2190 };
    retention::purge(&store, &policy, "2026-11-22T12:00:00Z".parse().unwrap()).unwrap();
    assert!(!store.set_summary(purged, "x").unwrap());
    let p = store.get(purged).unwrap().unwrap();
    assert_eq!(p.transcript, Sealed::Purged, "the purged transcript stays purged");
    assert_eq!(p.record().unwrap().summary, None);
}

#[test]
fn a_newer_schema_is_refused() {
    let s = Scratch::new("newer");
    drop(s.open(Role::Daemon).unwrap());
    Connection::open(s.dir.join("data/calls.db")).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let err = s.open(Role::Daemon).err().unwrap().to_string();
    assert!(err.contains("newer frontdesk"), "{err}");
}

#[test]
fn the_key_is_made_on_first_start_and_required_after() {
    let s = Scratch::new("key");
    assert!(s.open(Role::Staff).is_err(), "staff commands never create a database");
    let store = s.open(Role::Daemon).unwrap();
    assert!(s.settings().key_file.is_file());
    store.save(&record("2026-11-22T10:00:00Z", "Jane Doe")).unwrap();
    let id = store.key_id().to_string();
    assert_eq!(store.audit_entries().unwrap()[0].action, "key_created");
    drop(store);

    let key = std::fs::read(&s.settings().key_file).unwrap();
    std::fs::remove_file(&s.settings().key_file).unwrap();
    for role in [Role::Daemon, Role::Staff] {
        let err = format!("{:#}", s.open(role).err().unwrap());
        assert!(err.contains("is missing") && err.contains(&id) && err.contains("backup"), "{err}");
    }
    assert!(!s.settings().key_file.exists(), "a missing key is not silently replaced");

    crypto::create_master_key(&s.settings().key_file, None).unwrap();
    let err = format!("{:#}", s.open(Role::Daemon).err().unwrap());
    assert!(err.contains("another master key") && err.contains(&id), "{err}");

    std::fs::remove_file(&s.settings().key_file).unwrap();
    std::fs::write(&s.settings().key_file, &key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&s.settings().key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = format!("{:#}", s.open(Role::Daemon).err().unwrap());
    assert!(err.contains("mode 0644"), "{err}");
    std::fs::set_permissions(&s.settings().key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(s.open(Role::Staff).unwrap().all().unwrap()[0].record().unwrap().slots["name"], "Jane Doe");
}

#[test]
fn an_altered_or_moved_record_is_reported_not_served() {
    let s = Scratch::new("tamper");
    let store = s.open(Role::Daemon).unwrap();
    let a = store.save(&record("2026-11-22T10:00:00Z", "Ann Able")).unwrap();
    let b = store.save(&record("2026-11-22T11:00:00Z", "Bob Baker")).unwrap();
    {
        let conn = store.conn();
        // Flip one byte of a's intake; give b a's transcript.
        let mut blob: Vec<u8> = conn.query_row("SELECT intake FROM calls WHERE id = ?1", [a], |r| r.get(0)).unwrap();
        let last = blob.len() - 1;
        blob[last] ^= 1;
        conn.execute("UPDATE calls SET intake = ?2 WHERE id = ?1", params![a, blob]).unwrap();
        conn.execute("UPDATE calls SET transcript = (SELECT transcript FROM calls WHERE id = ?1) WHERE id = ?2", params![a, b]).unwrap();
    }
    let ca = store.get(a).unwrap().unwrap();
    assert_eq!(ca.intake, Sealed::Damaged);
    assert!(ca.damaged() && ca.record().is_none());
    let cb = store.get(b).unwrap().unwrap();
    assert_eq!(cb.transcript, Sealed::Damaged);
    assert!(cb.damaged());
}

#[test]
fn a_version_one_database_is_sealed_on_upgrade() {
    let s = Scratch::new("upgrade");
    let data = s.dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    {
        let conn = Connection::open(data.join("calls.db")).unwrap();
        conn.execute_batch(schema_v1()).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        let r = record("2026-11-22T10:00:00Z", "Olive Oldschema");
        conn.execute(
            "INSERT INTO calls (started_at, outcome, record) VALUES (?1, 'message_taken', ?2)",
            params![r.started_at, serde_json::to_string(&r).unwrap()],
        )
        .unwrap();
    }
    let store = s.open(Role::Daemon).unwrap();
    assert_eq!(store.all().unwrap()[0].record().unwrap().slots["name"], "Olive Oldschema");
    store.checkpoint().unwrap();
    assert!(!contains(&s.disk_bytes(), "Oldschema"));
}

fn schema_v1() -> &'static str {
    "CREATE TABLE calls (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT, duration_ms INTEGER,
        outcome TEXT NOT NULL, intent TEXT, after_hours INTEGER NOT NULL DEFAULT 0, record TEXT);
     CREATE INDEX calls_started ON calls(started_at);"
}

#[test]
fn retention_shreds_each_class_at_its_age_and_the_audit_chain_still_verifies() {
    let s = Scratch::new("retention");
    let store = s.open(Role::Daemon).unwrap();
    let old = store.save(&record("2026-01-10T10:00:00Z", "Oldest Person")).unwrap();
    let middle = store.save(&record("2026-10-01T10:00:00Z", "Middle Person")).unwrap();
    let fresh = store.save(&record("2026-11-20T10:00:00Z", "Fresh Person")).unwrap();
    store.audit("read", "call 1").unwrap();
    let policy = retention::RetentionSection { transcripts_days: 30, recordings_days: 30, intake_days: 200, audit_days: 2190 };
    let now: jiff::Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
    let report = retention::purge(&store, &policy, now).unwrap();
    assert_eq!((report.calls, report.transcripts), (1, 1), "{report}");
    assert!(store.get(old).unwrap().is_none());
    let m = store.get(middle).unwrap().unwrap();
    assert_eq!(m.transcript, Sealed::Purged);
    assert_eq!(m.record().unwrap().slots["name"], "Middle Person", "intake kept longer than transcripts");
    assert!(store.get(fresh).unwrap().unwrap().transcript.as_open().is_some());
    let disk = s.disk_bytes();
    assert!(!contains(&disk, "Oldest"));
    let keys: i64 = store.conn().query_row("SELECT count(*) FROM data_keys WHERE call_id = ?1", [old], |r| r.get(0)).unwrap();
    assert_eq!(keys, 0, "the old call's keys are destroyed");
    assert_eq!(store.audit_entries().unwrap().last().unwrap().action, "purge");

    // Years later every audit entry before the cut goes, and the rest still verifies.
    let later: jiff::Timestamp = "2033-01-01T00:00:00Z".parse().unwrap();
    let report = retention::purge(&store, &policy, later).unwrap();
    assert!(report.audit_entries >= 3, "{report}");
    assert!(matches!(store.verify_audit().unwrap(), audit::Verdict::Intact { .. }));
    store.audit("read", "after the cut").unwrap();
    assert!(matches!(store.verify_audit().unwrap(), audit::Verdict::Intact { .. }));
}

#[test]
fn a_recording_plays_back_only_whole_and_with_its_key() {
    let s = Scratch::new("recording");
    let store = s.open(Role::Daemon).unwrap();
    let id = store.begin_call(&record("2026-11-22T10:00:00Z", "Rita Recorded")).unwrap();
    let mut rec = recording::Recorder::create(&store, id).unwrap();
    let tone: Vec<i16> = (0..160).map(|i| ((i as f32 * 0.3).sin() * 8000.0) as i16).collect();
    for _ in 0..150 {
        rec.caller(&tone).unwrap();
        rec.agent(&[0; 160]).unwrap();
    }
    rec.finish().unwrap();
    let path = recording::dir(store.data_dir()).join(recording::file_name(id));
    let key = store.existing_recording_key(id).unwrap().unwrap();
    let back = recording::read(&path, &key, id).unwrap();
    assert!(back.complete);
    assert_eq!(back.caller.len(), 150 * 160);
    let err: f64 =
        back.caller.iter().zip(tone.iter().cycle()).map(|(a, b)| (*a as f64 - *b as f64).abs()).sum::<f64>() / back.caller.len() as f64;
    assert!(err < 200.0, "G.711 round trip error {err}");
    assert!(recording::read(&path, &key, id + 1).is_err(), "another call's recording");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[40] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    assert!(recording::read(&path, &key, id).is_err(), "altered");
}
