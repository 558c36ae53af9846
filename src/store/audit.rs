//! The audit trail: who read, exported or changed patient data, when the daemon started and
//! stopped, which configuration it loaded, what retention purged, when keys changed.
//!
//! Each entry commits to the one before it: its MAC (HMAC-SHA-256 under a key derived from the
//! master key) covers its own fields and the previous entry's MAC. Changing, removing or
//! reordering an entry breaks the chain at that point, and without the master key nobody can
//! rebuild a chain that verifies. The table refuses UPDATE by trigger, so a mistake cannot
//! rewrite history; the MACs are what make deliberate tampering evident.
//!
//! Two records in `meta` close the chain at both ends: `audit_anchor` (the number and MAC the
//! first kept entry follows, moved forward when retention drops old entries) and `audit_head`
//! (the number and MAC of the newest entry), so removing entries at either end is noticed too.
//! Both are MACed themselves.
//!
//! Entries carry no patient data: call numbers, counts, filters, file names.

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};

use super::crypto::{SecretKey, hmac_sha256};

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Position in the table (what `audit verify` names).
    pub seq: i64,
    /// The entry's own number in the chain, covered by its MAC.
    pub n: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub prev: Vec<u8>,
    pub mac: Vec<u8>,
}

/// What `audit verify` concludes.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Intact {
        entries: usize,
    },
    /// The first place the chain breaks.
    Broken {
        position: i64,
        problem: String,
    },
}

fn entry_mac(key: &SecretKey, prev: &[u8], n: i64, at: &str, actor: &str, action: &str, detail: &str) -> [u8; 32] {
    hmac_sha256(
        key.bytes(),
        &[
            b"frontdesk audit entry\0",
            prev,
            &n.to_be_bytes(),
            at.as_bytes(),
            b"\0",
            actor.as_bytes(),
            b"\0",
            action.as_bytes(),
            b"\0",
            detail.as_bytes(),
        ],
    )
}

fn end_mac(key: &SecretKey, which: &str, n: i64, mac: &[u8]) -> [u8; 32] {
    hmac_sha256(key.bytes(), &[b"frontdesk audit ", which.as_bytes(), b"\0", &n.to_be_bytes(), mac])
}

/// One end of the chain as recorded in `meta`.
enum End {
    Missing,
    /// The number and MAC the chain starts from (anchor) or ends with (head).
    Valid(i64, Vec<u8>),
    /// Its own MAC does not match.
    Altered,
}

fn read_end(conn: &Connection, key: &SecretKey, which: &str) -> Result<End> {
    let value: Option<Vec<u8>> =
        conn.query_row("SELECT value FROM meta WHERE name = ?1", params![format!("audit_{which}")], |r| r.get(0)).optional()?;
    let Some(v) = value else { return Ok(End::Missing) };
    if v.len() != 8 + 32 + 32 {
        return Ok(End::Altered);
    }
    let n = i64::from_be_bytes(v[..8].try_into().expect("8 bytes"));
    let mac = v[8..40].to_vec();
    Ok(if end_mac(key, which, n, &mac)[..] == v[40..] { End::Valid(n, mac) } else { End::Altered })
}

pub(crate) fn write_end(conn: &Connection, key: &SecretKey, which: &str, n: i64, mac: &[u8]) -> Result<()> {
    let mut v = n.to_be_bytes().to_vec();
    v.extend_from_slice(mac);
    v.extend_from_slice(&end_mac(key, which, n, mac));
    conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)", params![format!("audit_{which}"), v])?;
    Ok(())
}

const GENESIS: [u8; 32] = [0; 32];

/// Appends one entry. The write lock is taken first, so the daemon and a staff command
/// appending at the same moment still form one chain.
pub fn append(conn: &Connection, key: &SecretKey, actor: &str, action: &str, detail: &str) -> Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE").context("cannot lock the audit trail")?;
    let result = (|| {
        let last: Option<(i64, Vec<u8>)> =
            conn.query_row("SELECT n, mac FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        let (n, prev) = match last {
            Some((n, mac)) => (n + 1, mac),
            None => match read_end(conn, key, "anchor")? {
                End::Valid(n, mac) => (n, mac),
                _ => (1, GENESIS.to_vec()),
            },
        };
        let at = crate::record::now_rfc3339();
        let mac = entry_mac(key, &prev, n, &at, actor, action, detail);
        conn.execute(
            "INSERT INTO audit (n, at, actor, action, detail, prev, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![n, at, actor, action, detail, prev, mac.to_vec()],
        )?;
        write_end(conn, key, "head", n, &mac)?;
        anyhow::Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").context("cannot write the audit trail"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

pub fn entries(conn: &Connection) -> Result<Vec<Entry>> {
    let mut st = conn.prepare("SELECT seq, n, at, actor, action, detail, prev, mac FROM audit ORDER BY seq")?;
    let rows = st
        .query_map([], |r| {
            Ok(Entry {
                seq: r.get(0)?,
                n: r.get(1)?,
                at: r.get(2)?,
                actor: r.get(3)?,
                action: r.get(4)?,
                detail: r.get(5)?,
                prev: r.get(6)?,
                mac: r.get(7)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Walks the chain in table order and names the first entry that does not follow.
pub fn verify(conn: &Connection, key: &SecretKey) -> Result<Verdict> {
    let list = entries(conn)?;
    let (mut expected_n, mut expected_prev) = match read_end(conn, key, "anchor")? {
        End::Missing => (1, GENESIS.to_vec()),
        End::Valid(n, mac) => (n, mac),
        End::Altered => {
            return Ok(Verdict::Broken { position: 0, problem: "the chain's anchor (where retention cut it) was altered".into() });
        }
    };
    for (i, e) in list.iter().enumerate() {
        let position = i as i64 + 1;
        let self_consistent = entry_mac(key, &e.prev, e.n, &e.at, &e.actor, &e.action, &e.detail)[..] == e.mac[..];
        if !self_consistent {
            return Ok(Verdict::Broken {
                position,
                problem: format!("entry {position} was changed (its contents no longer match its MAC)"),
            });
        }
        if e.n == expected_n && e.prev == expected_prev {
            expected_n += 1;
            expected_prev = e.mac.clone();
            continue;
        }
        let problem = if e.n > expected_n && !list.iter().any(|o| o.n == expected_n) {
            let missing = e.n - expected_n;
            if missing == 1 {
                format!("entry {position}: the entry before it (number {expected_n}) was removed")
            } else {
                format!("entry {position}: {missing} entries before it (numbers {expected_n} to {}) were removed", e.n - 1)
            }
        } else {
            format!("entry {position} is out of order: it is entry number {} of the chain, where number {expected_n} belongs", e.n)
        };
        return Ok(Verdict::Broken { position, problem });
    }
    match read_end(conn, key, "head")? {
        End::Missing if list.is_empty() => {}
        End::Missing => return Ok(Verdict::Broken { position: list.len() as i64, problem: "the chain's head record is missing".into() }),
        End::Altered => return Ok(Verdict::Broken { position: list.len() as i64, problem: "the chain's head record was altered".into() }),
        End::Valid(head_n, head_mac) => {
            if head_n != expected_n - 1 || head_mac != expected_prev {
                let position = list.len() as i64 + 1;
                let problem = if head_n >= expected_n {
                    format!(
                        "entry {position} onwards: the newest {} entries (numbers {expected_n} to {head_n}) were removed",
                        head_n - expected_n + 1
                    )
                } else {
                    "the chain's head does not match its last entry".to_string()
                };
                return Ok(Verdict::Broken { position, problem });
            }
        }
    }
    Ok(Verdict::Intact { entries: list.len() })
}

/// The user this process runs as.
pub fn os_user() -> String {
    // SAFETY: getuid takes no arguments and cannot fail.
    user_name(unsafe { libc::getuid() })
}

/// Who to write down for a staff command: the login behind sudo as well, since several staff
/// may share root on a small box.
pub fn os_actor() -> String {
    let user = os_user();
    match std::env::var("SUDO_USER") {
        Ok(s) if !s.is_empty() && s != user => format!("{user} (sudo by {s})"),
        _ => user,
    }
}

fn user_name(uid: u32) -> String {
    // SAFETY: passwd is a plain C struct of integers and pointers, valid when all zero.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live local; buf.len() is the buffer's true size.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc == 0 && !result.is_null() && !pwd.pw_name.is_null() {
        // SAFETY: on success pw_name points to a NUL-terminated string inside buf, alive here.
        let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
        return format!("{} (uid {uid})", name.to_string_lossy());
    }
    format!("uid {uid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(len: usize) -> (Connection, SecretKey) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
             CREATE TABLE audit (seq INTEGER PRIMARY KEY, n INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
                action TEXT NOT NULL, detail TEXT NOT NULL, prev BLOB NOT NULL, mac BLOB NOT NULL);",
        )
        .unwrap();
        let key = SecretKey::random();
        for i in 0..len {
            append(&conn, &key, "tester", "read", &format!("call {i}")).unwrap();
        }
        (conn, key)
    }

    fn broken_at(conn: &Connection, key: &SecretKey) -> (i64, String) {
        match verify(conn, key).unwrap() {
            Verdict::Broken { position, problem } => (position, problem),
            v => panic!("expected a broken chain, got {v:?}"),
        }
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let (conn, key) = chain(6);
        assert_eq!(verify(&conn, &key).unwrap(), Verdict::Intact { entries: 6 });
        let (empty, key) = chain(0);
        assert_eq!(verify(&empty, &key).unwrap(), Verdict::Intact { entries: 0 });
    }

    /// A chain of six entries with `sql` applied: where verification says it breaks, and why.
    fn tampered(sql: &str) -> (i64, String) {
        let (conn, key) = chain(6);
        conn.execute(sql, []).unwrap();
        broken_at(&conn, &key)
    }

    #[test]
    fn changed_and_removed_entries_are_found_where_they_are() {
        let cases = [
            ("UPDATE audit SET detail = 'call 9' WHERE seq = 4", 4, "changed"),
            ("DELETE FROM audit WHERE seq = 3", 3, "number 3) was removed"),
            ("DELETE FROM audit WHERE seq = 6", 6, "removed"),
            ("DELETE FROM audit WHERE seq = 1", 1, "removed"),
        ];
        for (sql, position, problem) in cases {
            let (pos, why) = tampered(sql);
            assert_eq!(pos, position, "{sql}: {why}");
            assert!(why.contains(problem), "{sql}: {why}");
        }
    }

    #[test]
    fn swapped_entries_are_found_out_of_order() {
        let (conn, key) = chain(6);
        let swap = "UPDATE audit SET n = (SELECT n FROM audit WHERE seq = ?2), at = (SELECT at FROM audit WHERE seq = ?2),
            actor = (SELECT actor FROM audit WHERE seq = ?2), action = (SELECT action FROM audit WHERE seq = ?2),
            detail = (SELECT detail FROM audit WHERE seq = ?2), prev = (SELECT prev FROM audit WHERE seq = ?2),
            mac = (SELECT mac FROM audit WHERE seq = ?2) WHERE seq = ?1";
        conn.execute("CREATE TEMP TABLE keep AS SELECT * FROM audit WHERE seq = 2", []).unwrap();
        conn.execute(swap, params![2, 5]).unwrap();
        conn.execute(
            "UPDATE audit SET n = k.n, at = k.at, actor = k.actor, action = k.action, detail = k.detail, prev = k.prev, mac = k.mac FROM temp.keep AS k WHERE audit.seq = 5",
            [],
        )
        .unwrap();
        let (pos, why) = broken_at(&conn, &key);
        assert_eq!(pos, 2, "{why}");
        assert!(why.contains("out of order"), "{why}");
    }

    #[test]
    fn a_chain_rebuilt_without_the_key_does_not_verify() {
        let (conn, key) = chain(3);
        let forger = SecretKey::random();
        conn.execute("DELETE FROM audit", []).unwrap();
        conn.execute("DELETE FROM meta", []).unwrap();
        for i in 0..3 {
            append(&conn, &forger, "tester", "read", &format!("forged {i}")).unwrap();
        }
        assert_eq!(broken_at(&conn, &key).0, 1);
    }
}
