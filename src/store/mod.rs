//! Call records on the box: one SQLite file under the configured data directory.
//!
//! WAL mode with `synchronous = FULL`, so a record whose call ended is on disk before the
//! function returns, and a power cut or `kill -9` loses nothing that was finished. A call gets
//! its row when it starts (outcome `in_progress`); a row still in progress when the daemon
//! starts again belongs to a call the daemon never finished, and is marked `interrupted`.
//!
//! The record column holds patient data (caller number, transcript, slots). Encryption at rest
//! is the next piece of work; the columns beside it are the non-identifying ones (times,
//! outcome, intent) so statistics never need to open a record.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::call::record::CallRecord;

/// Schema versions, in order; `PRAGMA user_version` says how many have been applied.
const MIGRATIONS: &[&str] = &["CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        duration_ms INTEGER,
        outcome TEXT NOT NULL,
        intent TEXT,
        after_hours INTEGER NOT NULL DEFAULT 0,
        record TEXT
    );
    CREATE INDEX calls_started ON calls(started_at);"];

pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// A stored call, as read back.
#[derive(Debug, Clone)]
pub struct StoredCall {
    pub id: i64,
    pub outcome: String,
    pub record: Option<CallRecord>,
}

impl Store {
    /// Opens (creating if needed) `DIR/calls.db`, brings its schema up to date, and marks calls
    /// a previous run left in progress as interrupted.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the data directory {} (store.data_dir)", dir.display()))?;
        restrict(dir, 0o700);
        let path = dir.join("calls.db");
        let conn = Connection::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        restrict(&path, 0o600);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version as usize > MIGRATIONS.len() {
            anyhow::bail!("{} was written by a newer frontdesk (schema {version}, this one knows {}): upgrade the software", path.display(), MIGRATIONS.len());
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql).with_context(|| format!("schema migration {} of {}", i + 1, path.display()))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        let interrupted = conn.execute("UPDATE calls SET outcome = 'interrupted' WHERE outcome = 'in_progress'", [])?;
        if interrupted > 0 {
            tracing::warn!(calls = interrupted, "calls left in progress by the last run are stored as interrupted");
        }
        Ok(Store { conn: Mutex::new(conn), path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A row for a call that has just been answered.
    pub fn begin_call(&self, record: &CallRecord) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO calls (started_at, outcome, after_hours, record) VALUES (?1, 'in_progress', ?2, ?3)",
            params![record.started_at, record.after_hours, serde_json::to_string(record)?],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// What has been captured so far, so a crash mid-call keeps it.
    pub fn update_call(&self, id: i64, record: &CallRecord) -> Result<()> {
        self.conn().execute("UPDATE calls SET intent = ?2, record = ?3 WHERE id = ?1", params![id, record.intent, serde_json::to_string(record)?])?;
        Ok(())
    }

    /// The finished call; durable when this returns.
    pub fn finish_call(&self, id: i64, record: &CallRecord) -> Result<()> {
        self.conn().execute(
            "UPDATE calls SET ended_at = ?2, duration_ms = ?3, outcome = ?4, intent = ?5, record = ?6 WHERE id = ?1",
            params![id, record.ended_at, record.duration_ms as i64, record.outcome.as_str(), record.intent, serde_json::to_string(record)?],
        )?;
        Ok(())
    }

    /// A finished call in one go (simulate, tests).
    pub fn save(&self, record: &CallRecord) -> Result<i64> {
        let id = self.begin_call(record)?;
        self.finish_call(id, record)?;
        Ok(id)
    }

    pub fn get(&self, id: i64) -> Result<Option<StoredCall>> {
        let conn = self.conn();
        let row = conn
            .query_row("SELECT id, outcome, record FROM calls WHERE id = ?1", params![id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)))
            .optional()?;
        row.map(|(id, outcome, json)| Ok(StoredCall { id, outcome, record: json.map(|j| serde_json::from_str(&j)).transpose()? })).transpose()
    }

    /// Every call, oldest first.
    pub fn all(&self) -> Result<Vec<StoredCall>> {
        let ids: Vec<i64> = {
            let conn = self.conn();
            let mut st = conn.prepare("SELECT id FROM calls ORDER BY id")?;
            st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
        };
        ids.into_iter().filter_map(|id| self.get(id).transpose()).collect()
    }
}

fn restrict(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::record::Outcome;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("frontdesk-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn records_survive_reopening_and_unfinished_calls_become_interrupted() {
        let dir = scratch("reopen");
        let mut r = CallRecord::new("2026-11-22T10:00:00Z".into(), Some("+16175550199".into()), None, false);
        {
            let store = Store::open(&dir).unwrap();
            r.slots.insert("name".into(), "Jane Doe".into());
            r.outcome = Outcome::MessageTaken;
            r.ended_at = Some("2026-11-22T10:02:00Z".into());
            let finished = store.save(&r).unwrap();
            let open = store.begin_call(&r).unwrap();
            assert_eq!(store.get(finished).unwrap().unwrap().outcome, "message_taken");
            assert_eq!(store.get(open).unwrap().unwrap().outcome, "in_progress");
        }
        let store = Store::open(&dir).unwrap();
        let all = store.all().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].record.as_ref().unwrap().slots["name"], "Jane Doe");
        assert_eq!(all[1].outcome, "interrupted");
        let version: i64 = store.conn().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = scratch("newer");
        drop(Store::open(&dir).unwrap());
        Connection::open(dir.join("calls.db")).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let err = Store::open(&dir).err().unwrap().to_string();
        assert!(err.contains("newer frontdesk"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
