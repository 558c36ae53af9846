//! `frontdesk bench records`: what encryption at rest costs per call.
//!
//! A call writes its row at the start, again after every turn, and once at the end. Each
//! write is timed through the real store (sealed intake and transcript, WAL, synchronous=FULL)
//! and through the same SQLite settings with the record as plain JSON in one column (the
//! schema before encryption), on the same disk. Database bytes per call are measured after a
//! checkpoint, so the WAL is counted in the file.

use std::time::{Duration, Instant};

use anyhow::Result;
use rusqlite::{Connection, params};

use crate::record::{CallRecord, Outcome, Speaker, Utterance};
use crate::store::{Role, Store, StoreSettings};

/// A typical appointment call: 12 turns, a few details.
fn sample_call(i: usize) -> CallRecord {
    let mut r = CallRecord::new(format!("2026-11-23T10:{:02}:00Z", i % 60), Some("+16175550199".into()), Some("100".into()), false);
    r.intent = Some("new_appointment".into());
    for (k, v) in [
        ("name", "John Smith"),
        ("date_of_birth", "1980-03-05"),
        ("callback", "6175550199"),
        ("reason", "sore throat"),
        ("preferred_times", "Monday morning"),
    ] {
        r.slots.insert(k.into(), v.into());
    }
    r.outcome = Outcome::MessageTaken;
    r.ended_at = Some(r.started_at.clone());
    r.duration_ms = 95_000;
    r
}

fn turn(r: &mut CallRecord, t: usize) {
    r.transcript.push(Utterance {
        at_ms: t as u64 * 7000,
        speaker: Speaker::Agent,
        text: "Thank you. And what is your date of birth?".into(),
        confidence: None,
        keypad: false,
        interrupted: false,
    });
    r.transcript.push(Utterance {
        at_ms: t as u64 * 7000 + 3000,
        speaker: Speaker::Caller,
        text: "It's March fifth, nineteen eighty.".into(),
        confidence: Some(0.91),
        keypad: false,
        interrupted: false,
    });
    r.latencies.push(Default::default());
}

const TURNS: usize = 12;

struct Figures {
    write: Vec<Duration>,
    bytes_per_call: f64,
}

fn run_calls(
    calls: usize,
    mut begin: impl FnMut(&CallRecord) -> Result<i64>,
    mut update: impl FnMut(i64, &CallRecord) -> Result<()>,
    mut finish: impl FnMut(i64, &CallRecord) -> Result<()>,
) -> Result<Vec<Duration>> {
    let mut times = Vec::new();
    for i in 0..calls {
        let mut r = sample_call(i);
        let t = Instant::now();
        let id = begin(&r)?;
        times.push(t.elapsed());
        for k in 0..TURNS {
            turn(&mut r, k);
            let t = Instant::now();
            update(id, &r)?;
            times.push(t.elapsed());
        }
        let t = Instant::now();
        finish(id, &r)?;
        times.push(t.elapsed());
    }
    Ok(times)
}

fn encrypted(dir: &std::path::Path, calls: usize) -> Result<Figures> {
    let settings = StoreSettings { data_dir: dir.join("sealed"), key_file: dir.join("master.key") };
    let store = Store::open(&settings, Role::Daemon)?;
    let write = run_calls(calls, |r| store.begin_call(r), |id, r| store.update_call(id, r), |id, r| store.finish_call(id, r))?;
    store.checkpoint()?;
    let bytes = std::fs::metadata(store.path())?.len() as f64;
    Ok(Figures { write, bytes_per_call: bytes / calls as f64 })
}

fn plaintext(dir: &std::path::Path, calls: usize) -> Result<Figures> {
    let path = dir.join("plain.db");
    let conn = Connection::open(&path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.execute_batch(
        "CREATE TABLE calls (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT, duration_ms INTEGER,
            outcome TEXT NOT NULL, intent TEXT, after_hours INTEGER NOT NULL DEFAULT 0, record TEXT);",
    )?;
    let write = run_calls(
        calls,
        |r| {
            conn.execute(
                "INSERT INTO calls (started_at, outcome, record) VALUES (?1, 'in_progress', ?2)",
                params![r.started_at, serde_json::to_string(r)?],
            )?;
            Ok(conn.last_insert_rowid())
        },
        |id, r| {
            conn.execute("UPDATE calls SET intent = ?2, record = ?3 WHERE id = ?1", params![id, r.intent, serde_json::to_string(r)?])?;
            Ok(())
        },
        |id, r| {
            conn.execute(
                "UPDATE calls SET ended_at = ?2, duration_ms = ?3, outcome = ?4, record = ?5 WHERE id = ?1",
                params![id, r.ended_at, r.duration_ms as i64, r.outcome.as_str(), serde_json::to_string(r)?],
            )?;
            Ok(())
        },
    )?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let bytes = std::fs::metadata(&path)?.len() as f64;
    Ok(Figures { write, bytes_per_call: bytes / calls as f64 })
}

fn pct(v: &mut [Duration], p: usize) -> f64 {
    v.sort_unstable();
    v[(v.len() * p / 100).min(v.len() - 1)].as_secs_f64() * 1000.0
}

pub fn run(calls: usize, parent: &std::path::Path) -> Result<()> {
    let dir = parent.join(format!("frontdesk-bench-records-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    println!("# frontdesk bench records: {calls} calls of {TURNS} turns, {} writes each, in {}", TURNS + 2, parent.display());
    println!();
    println!("| store | write p50 (ms) | write p95 (ms) | bytes per call |");
    println!("|---|---|---|---|");
    for (name, mut f) in [("encrypted (this store)", encrypted(&dir, calls)?), ("plain JSON (no encryption)", plaintext(&dir, calls)?)] {
        println!("| {name} | {:.2} | {:.2} | {:.0} |", pct(&mut f.write, 50), pct(&mut f.write, 95), f.bytes_per_call);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
