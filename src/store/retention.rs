//! Retention: each class of data is kept for its configured number of days, then destroyed.
//!
//! Destroying means crypto-shredding first (the part's data key row is deleted, so any copy of
//! the ciphertext anywhere is unreadable) and then the ciphertext itself. `secure_delete` makes
//! SQLite overwrite the freed cells, and a truncating checkpoint empties the WAL, so neither
//! the key nor the blob lingers in the file or its journal.
//!
//! Classes: transcripts (the transcript blob), recordings (the recording file), intake (the
//! whole call: row, keys, recording), audit (entries older than the limit; the chain's anchor
//! moves forward so what remains still verifies).

use anyhow::Result;
use rusqlite::params;
use serde::Deserialize;

use super::Store;

/// `[retention]` in the config: days to keep each class.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetentionSection {
    #[serde(default = "default_transcripts")]
    pub transcripts_days: u32,
    #[serde(default = "default_recordings")]
    pub recordings_days: u32,
    #[serde(default = "default_intake")]
    pub intake_days: u32,
    #[serde(default = "default_audit")]
    pub audit_days: u32,
}

fn default_transcripts() -> u32 {
    90
}
fn default_recordings() -> u32 {
    30
}
fn default_intake() -> u32 {
    365
}
/// Six years: how long HIPAA asks covered entities to keep their security documentation.
fn default_audit() -> u32 {
    2190
}

impl Default for RetentionSection {
    fn default() -> Self {
        RetentionSection {
            transcripts_days: default_transcripts(),
            recordings_days: default_recordings(),
            intake_days: default_intake(),
            audit_days: default_audit(),
        }
    }
}

impl RetentionSection {
    /// (key, days) of each class, for validation messages.
    pub fn classes(&self) -> [(&'static str, u32); 4] {
        [
            ("transcripts_days", self.transcripts_days),
            ("recordings_days", self.recordings_days),
            ("intake_days", self.intake_days),
            ("audit_days", self.audit_days),
        ]
    }
}

/// What one purge destroyed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PurgeReport {
    pub transcripts: usize,
    pub recordings: usize,
    pub calls: usize,
    pub audit_entries: usize,
    /// Requests sent to a language model (their kept bodies).
    pub egress: usize,
}

impl std::fmt::Display for PurgeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} calls, {} transcripts, {} recordings, {} audit entries",
            self.calls, self.transcripts, self.recordings, self.audit_entries
        )?;
        if self.egress > 0 {
            write!(f, ", {} language model requests", self.egress)?;
        }
        Ok(())
    }
}

fn cutoff(now: jiff::Timestamp, days: u32) -> String {
    now.checked_sub(jiff::SignedDuration::from_hours(24 * days as i64)).unwrap_or(jiff::Timestamp::MIN).to_string()
}

/// Destroys what is older than its class allows at `now`, audits the run, and checkpoints.
/// Calls still in progress are never touched.
pub fn purge(store: &Store, policy: &RetentionSection, now: jiff::Timestamp) -> Result<PurgeReport> {
    let mut report = PurgeReport::default();
    let recordings_dir = super::recording::dir(store.data_dir());
    let mut files_to_remove = Vec::new();
    store.with_conn(|conn| {
        let tx = conn.unchecked_transaction()?;
        let old = "julianday(started_at) < julianday(?1) AND outcome != 'in_progress'";

        // Whole calls past the intake limit: keys first, then the rows.
        let calls: Vec<(i64, Option<String>)> = {
            let mut st = tx.prepare(&format!("SELECT id, recording FROM calls WHERE {old}"))?;
            st.query_map(params![cutoff(now, policy.intake_days)], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
        };
        for (id, recording) in &calls {
            tx.execute("DELETE FROM data_keys WHERE call_id = ?1", params![id])?;
            tx.execute("DELETE FROM calls WHERE id = ?1", params![id])?;
            if let Some(name) = recording {
                files_to_remove.push(recordings_dir.join(name));
            }
        }
        report.calls = calls.len();

        let transcripts: Vec<i64> = {
            let mut st = tx.prepare(&format!("SELECT id FROM calls WHERE transcript IS NOT NULL AND {old}"))?;
            st.query_map(params![cutoff(now, policy.transcripts_days)], |r| r.get(0))?.collect::<Result<_, _>>()?
        };
        for id in &transcripts {
            tx.execute("DELETE FROM data_keys WHERE call_id = ?1 AND class = 'transcript'", params![id])?;
            tx.execute("UPDATE calls SET transcript = NULL WHERE id = ?1", params![id])?;
        }
        report.transcripts = transcripts.len();
        // What went to a language model came from transcripts: it goes with them.
        report.egress =
            tx.execute("DELETE FROM egress WHERE julianday(at) < julianday(?1)", params![cutoff(now, policy.transcripts_days)])?;

        let recordings: Vec<(i64, String)> = {
            let mut st = tx.prepare(&format!("SELECT id, recording FROM calls WHERE recording IS NOT NULL AND {old}"))?;
            st.query_map(params![cutoff(now, policy.recordings_days)], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
        };
        for (id, name) in &recordings {
            tx.execute("DELETE FROM data_keys WHERE call_id = ?1 AND class = 'recording'", params![id])?;
            tx.execute("UPDATE calls SET recording = NULL WHERE id = ?1", params![id])?;
            files_to_remove.push(recordings_dir.join(name));
        }
        report.recordings = recordings.len() + calls.iter().filter(|(_, r)| r.is_some()).count();

        // Audit entries: the newest one dropped becomes the anchor the rest follow.
        let audit_cut = cutoff(now, policy.audit_days);
        let last_dropped: Option<(i64, i64, Vec<u8>)> = tx
            .query_row(
                "SELECT seq, n, mac FROM audit WHERE julianday(at) < julianday(?1) ORDER BY seq DESC LIMIT 1",
                params![audit_cut],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .ok();
        if let Some((seq, n, mac)) = last_dropped {
            report.audit_entries = tx.execute("DELETE FROM audit WHERE seq <= ?1", params![seq])?;
            super::audit::write_end(&tx, store.audit_key(), "anchor", n + 1, &mac)?;
        }
        tx.commit()?;
        Ok(())
    })?;
    // The rows that named these files are gone; the files were sealed with keys that are gone.
    for f in files_to_remove {
        let _ = std::fs::remove_file(f);
    }
    store.audit("purge", &format!("retention removed {report}"))?;
    store.checkpoint()?;
    Ok(report)
}
