//! The database schema and its migrations.
//!
//! `PRAGMA user_version` counts the migrations applied. Each runs in its own transaction, so a
//! crash in the middle of an upgrade leaves the previous version intact and the next start
//! simply tries again.

use anyhow::{Context, Result};
use rusqlite::{Connection, params};

use super::crypto::SecretKey;

/// Schema versions, in order.
const MIGRATIONS: &[&str] = &[
    // 1: the conversation engine's first store (plaintext record column).
    "CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        duration_ms INTEGER,
        outcome TEXT NOT NULL,
        intent TEXT,
        after_hours INTEGER NOT NULL DEFAULT 0,
        record TEXT
    );
    CREATE INDEX calls_started ON calls(started_at);",
    // 2: encryption at rest, the audit trail, the callback worklist.
    //    calls keeps only non-identifying columns in the clear; intake and transcript are sealed
    //    blobs, each with its own data key in data_keys (wrapped by the master key).
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE data_keys (
        call_id INTEGER NOT NULL,
        class TEXT NOT NULL,
        wrapped BLOB NOT NULL,
        PRIMARY KEY (call_id, class)
    );
    ALTER TABLE calls ADD COLUMN intake BLOB;
    ALTER TABLE calls ADD COLUMN transcript BLOB;
    ALTER TABLE calls ADD COLUMN recording TEXT;
    ALTER TABLE calls ADD COLUMN acked_at TEXT;
    ALTER TABLE calls ADD COLUMN acked_by TEXT;
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        n INTEGER NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev BLOB NOT NULL,
        mac BLOB NOT NULL
    );
    CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
    // 3: what was sent to a language model: the exact body, sealed, kept for the retention
    //    period so an auditor can see what left.
    "CREATE TABLE egress (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        host TEXT NOT NULL,
        purpose TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        body BLOB NOT NULL
    );
    CREATE INDEX egress_at ON egress(at);",
];

#[cfg(test)]
pub fn latest() -> usize {
    MIGRATIONS.len()
}

pub fn version(conn: &Connection) -> Result<usize> {
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    Ok(v.max(0) as usize)
}

/// Brings the schema up to date. `key` seals what version 1 kept in the clear.
pub fn migrate(conn: &Connection, key: &SecretKey, name: &str) -> Result<()> {
    let current = version(conn)?;
    if current > MIGRATIONS.len() {
        anyhow::bail!(
            "{name} was written by a newer frontdesk (schema {current}, this one knows {}): upgrade the software",
            MIGRATIONS.len()
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql).with_context(|| format!("schema migration {} of {name}", i + 1))?;
        if i + 1 == 2 {
            seal_plaintext_records(&tx, key).with_context(|| format!("sealing the plaintext records of {name}"))?;
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// Version 1 stored whole records as JSON in the clear: seal each, then drop the column
/// (with secure_delete on, the old text is overwritten, not just unlinked).
fn seal_plaintext_records(conn: &Connection, key: &SecretKey) -> Result<()> {
    let rows: Vec<(i64, String)> = {
        let mut st = conn.prepare("SELECT id, record FROM calls WHERE record IS NOT NULL")?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
    };
    for (id, json) in rows {
        let record: crate::record::CallRecord = serde_json::from_str(&json).with_context(|| format!("call {id}"))?;
        super::write_sealed(conn, key, id, &record)?;
    }
    conn.execute("UPDATE calls SET record = NULL", params![])?;
    conn.execute_batch("ALTER TABLE calls DROP COLUMN record;")?;
    Ok(())
}
