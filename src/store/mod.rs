//! Call records on the box: one SQLite file under the configured data directory, with every
//! identifying field sealed (see [`crypto`]).
//!
//! WAL mode with `synchronous = FULL`, so a record whose call ended is on disk before the
//! function returns, and a power cut or `kill -9` loses nothing that was finished. A call gets
//! its row when it starts (outcome `in_progress`) and is re-sealed after every turn; a row
//! still in progress when the daemon starts again belongs to a call the daemon never
//! finished, and is marked `interrupted`, keeping what had been captured.
//!
//! In the clear: times, duration, outcome, intent code, after-hours flag, and who acknowledged
//! a message and when, so statistics and the worklist's order never need a key. Sealed: the
//! intake (caller number, dialled number, collected details, questions) and the transcript,
//! each with its own data key so retention can shred transcripts before intake.

pub mod audit;
pub mod crypto;
pub mod recording;
pub mod retention;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use zeroize::Zeroizing;

use crate::record::{CallRecord, Utterance};
use crypto::SecretKey;

/// Where the store lives and which key opens it.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub data_dir: PathBuf,
    pub key_file: PathBuf,
}

/// Who opens the store. Only the daemon creates a key or a database, and only the daemon may
/// declare calls interrupted: a staff command run while calls are in progress must not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Daemon,
    Staff,
}

/// One sealed part of a call as read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Sealed<T> {
    Open(T),
    /// Destroyed by retention (its data key is gone), or never written.
    Purged,
    /// Its tag or its data key's tag failed: altered, moved, or sealed with another key.
    /// Never served.
    Damaged,
}

impl<T> Sealed<T> {
    pub fn as_open(&self) -> Option<&T> {
        match self {
            Sealed::Open(t) => Some(t),
            _ => None,
        }
    }
}

/// A stored call, as read back.
#[derive(Debug, Clone)]
pub struct StoredCall {
    pub id: i64,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub outcome: String,
    pub intent: Option<String>,
    pub after_hours: bool,
    pub acked_at: Option<String>,
    pub acked_by: Option<String>,
    /// The record without its transcript.
    pub intake: Sealed<CallRecord>,
    pub transcript: Sealed<Vec<Utterance>>,
    pub has_recording: bool,
}

impl StoredCall {
    /// The whole record, when the intake opened (an empty transcript if that was purged).
    pub fn record(&self) -> Option<CallRecord> {
        let mut r = self.intake.as_open()?.clone();
        if let Sealed::Open(t) = &self.transcript {
            r.transcript = t.clone();
        }
        Some(r)
    }

    pub fn damaged(&self) -> bool {
        matches!(self.intake, Sealed::Damaged) || matches!(self.transcript, Sealed::Damaged)
    }
}

/// Which calls `list` returns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// RFC 3339 instants; `since` inclusive, `until` exclusive.
    pub since: Option<String>,
    pub until: Option<String>,
    pub outcome: Option<String>,
    pub intent: Option<String>,
    /// Only messages not yet acknowledged (the callback worklist).
    pub worklist: bool,
}

/// Outcomes that leave staff something to do.
pub const WORKLIST_OUTCOMES: &[&str] = &["emergency", "message_taken", "interrupted"];

/// One request that left for a language model.
#[derive(Debug, Clone)]
pub struct EgressEntry {
    pub at: String,
    pub host: String,
    pub purpose: String,
    pub bytes: u64,
    pub sha256: String,
    pub body: Option<String>,
}

fn egress_aad(sha256: &str) -> String {
    format!("egress {sha256}")
}

pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    dir: PathBuf,
    wrap: SecretKey,
    audit_key: SecretKey,
    log_key: SecretKey,
    key_id: String,
    actor: String,
}

const KEY_CHECK_AAD: &[u8] = b"frontdesk key check";

impl Store {
    /// Opens `DATA_DIR/calls.db` with the master key. The daemon creates both on first start;
    /// a staff command needs them to exist. Refuses a key others can read, a missing key for a
    /// database that has records, and a key other than the one the database was written with.
    pub fn open(settings: &StoreSettings, role: Role) -> Result<Store> {
        let dir = &settings.data_dir;
        let path = dir.join("calls.db");
        let flags = match role {
            Role::Daemon => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the data directory {} (store.data_dir)", dir.display()))?;
                restrict(dir, 0o700);
                OpenFlags::default()
            }
            Role::Staff => {
                if !path.is_file() {
                    bail!("no call records at {}: the daemon creates them when it first starts (store.data_dir)", path.display());
                }
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
            }
        };
        let conn = Connection::open_with_flags(&path, flags).with_context(|| format!("cannot open {}", path.display()))?;
        restrict(&path, 0o600);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;

        let expected = expected_key(&conn)?;
        let key_path = crypto::key_source(&settings.key_file);
        let mut created = false;
        let master = if key_path.exists() {
            crypto::load_master_key(&key_path)?
        } else {
            match (&expected, role) {
                (Some((id, _)), _) => bail!(
                    "the master key {} is missing, and {} holds records sealed with key {id}: restore the key file from your backup. Without it these records cannot be read",
                    key_path.display(),
                    path.display()
                ),
                (None, Role::Staff) => bail!("no master key at {} yet: the daemon creates it when it first starts", key_path.display()),
                (None, Role::Daemon) => {
                    let owner = owner_of(dir);
                    let key = crypto::create_master_key(&key_path, owner).with_context(|| {
                        format!(
                            "run `frontdesk key init` as root once, or make {} writable for this user",
                            key_path.parent().unwrap_or(Path::new("/")).display()
                        )
                    })?;
                    tracing::warn!(
                        key = %key_path.display(),
                        key_id = %key.key_id(),
                        "created a new master key: copy it somewhere safe off this box now; without it the call records cannot be read"
                    );
                    created = true;
                    key
                }
            }
        };
        let mut master = master;
        let mut wrap = master.derive("wrap data keys");
        if let Some((_, check)) = &expected
            && wrap.open(KEY_CHECK_AAD, check).is_none()
            && let Some(rotated) = finish_rotation(&key_path, check)?
        {
            master = rotated;
            wrap = master.derive("wrap data keys");
        }
        if let Some((id, check)) = &expected
            && wrap.open(KEY_CHECK_AAD, check).is_none()
        {
            bail!(
                "{} was written with another master key (key id {id}), and {} is key {}: put back the key this database was made with",
                path.display(),
                key_path.display(),
                master.key_id()
            );
        }
        schema::migrate(&conn, &wrap, &path.display().to_string())?;
        if expected.is_none() {
            conn.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('key_check', ?1)",
                params![wrap.seal(KEY_CHECK_AAD, b"frontdesk")],
            )?;
            conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('key_id', ?1)", params![master.key_id().into_bytes()])?;
        }
        // Random keys of their own, wrapped like data keys, so a new master key only rewraps
        // them: the audit chain keeps verifying and the log's caller tags stay the same.
        let audit_key = sub_key(&conn, &wrap, "audit_key")?;
        let log_key = sub_key(&conn, &wrap, "log_key")?;
        let store = Store {
            conn: Mutex::new(conn),
            path,
            dir: dir.clone(),
            audit_key,
            log_key,
            key_id: master.key_id(),
            wrap,
            actor: match role {
                Role::Daemon => format!("daemon ({})", audit::os_user()),
                Role::Staff => audit::os_actor(),
            },
        };
        if created {
            store.audit("key_created", &format!("key id {}", store.key_id))?;
        }
        if role == Role::Daemon {
            let interrupted = store.conn().execute("UPDATE calls SET outcome = 'interrupted' WHERE outcome = 'in_progress'", [])?;
            if interrupted > 0 {
                tracing::warn!(calls = interrupted, "calls left in progress by the last run are stored as interrupted");
            }
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The key the log uses to tag identifiers (see [`crate::logging::tag`]).
    pub fn log_key(&self) -> SecretKey {
        self.log_key.clone()
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends to the audit trail as whoever opened the store.
    pub fn audit(&self, action: &str, detail: &str) -> Result<()> {
        audit::append(&self.conn(), &self.audit_key, &self.actor, action, detail)
    }

    /// Appends to the audit trail as `actor` (a staff account of the web inbox, "web: NAME").
    pub fn audit_as(&self, actor: &str, action: &str, detail: &str) -> Result<()> {
        audit::append(&self.conn(), &self.audit_key, actor, action, detail)
    }

    /// Checks the audit trail's chain from its anchor to its head.
    pub fn verify_audit(&self) -> Result<audit::Verdict> {
        audit::verify(&self.conn(), &self.audit_key)
    }

    /// The newest entry's number and the start of its MAC. The daemon logs it at start and
    /// after each purge: the journal then holds checkpoints of the chain outside the database,
    /// which even someone holding the master key cannot rewrite along with it.
    pub fn audit_head(&self) -> Result<Option<(i64, String)>> {
        let conn = self.conn();
        let head: Option<(i64, Vec<u8>)> =
            conn.query_row("SELECT n, mac FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        Ok(head.map(|(n, mac)| (n, hex::encode(&mac[..mac.len().min(8)]))))
    }

    pub fn audit_entries(&self) -> Result<Vec<audit::Entry>> {
        audit::entries(&self.conn())
    }

    /// Keeps a request body that is about to leave for a language model: sealed, with its
    /// size and hash in the clear and an audit entry. Called before the request is sent; if
    /// this fails, the request does not go.
    pub fn record_egress(&self, host: &str, purpose: &str, body: &[u8], sha256: &str) -> Result<()> {
        let at = jiff::Timestamp::now().to_string();
        {
            let conn = self.conn();
            conn.execute(
                "INSERT INTO egress (at, host, purpose, bytes, sha256, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![at, host, purpose, body.len() as i64, sha256, self.wrap.seal(egress_aad(sha256).as_bytes(), body)],
            )?;
        }
        self.audit("assist_request", &format!("to {host} ({purpose}): {} bytes, sha256 {sha256}", body.len()))
    }

    /// What was sent to language models, oldest first; bodies opened when `bodies`.
    pub fn egress_entries(&self, bodies: bool) -> Result<Vec<EgressEntry>> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT at, host, purpose, bytes, sha256, body FROM egress ORDER BY id")?;
        let rows = st.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?, r.get::<_, String>(4)?, r.get::<_, Vec<u8>>(5)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, host, purpose, bytes, sha256, sealed) = row?;
            let body = if bodies {
                let plain = self.wrap.open(egress_aad(&sha256).as_bytes(), &sealed).context("an egress body failed its integrity check")?;
                Some(String::from_utf8_lossy(&plain).into_owned())
            } else {
                None
            };
            out.push(EgressEntry { at, host, purpose, bytes: bytes as u64, sha256, body });
        }
        Ok(out)
    }

    /// A row for a call that has just been answered.
    pub fn begin_call(&self, record: &CallRecord) -> Result<i64> {
        let conn = self.conn();
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO calls (started_at, outcome, after_hours) VALUES (?1, 'in_progress', ?2)",
            params![record.started_at, record.after_hours],
        )?;
        let id = tx.last_insert_rowid();
        write_sealed(&tx, &self.wrap, id, record)?;
        tx.commit()?;
        Ok(id)
    }

    /// What has been captured so far, so a crash mid-call keeps it.
    pub fn update_call(&self, id: i64, record: &CallRecord) -> Result<()> {
        let conn = self.conn();
        let tx = conn.unchecked_transaction()?;
        tx.execute("UPDATE calls SET intent = ?2 WHERE id = ?1", params![id, record.intent])?;
        write_sealed(&tx, &self.wrap, id, record)?;
        tx.commit()?;
        Ok(())
    }

    /// The finished call; durable when this returns.
    pub fn finish_call(&self, id: i64, record: &CallRecord) -> Result<()> {
        let conn = self.conn();
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE calls SET ended_at = ?2, duration_ms = ?3, outcome = ?4, intent = ?5 WHERE id = ?1",
            params![id, record.ended_at, record.duration_ms as i64, record.outcome.as_str(), record.intent],
        )?;
        write_sealed(&tx, &self.wrap, id, record)?;
        tx.commit()?;
        Ok(())
    }

    /// Adds the language model's summary to a finished call's sealed details. False when the
    /// call is not there or a part of it is no longer open (purged by retention meanwhile):
    /// a summary never brings back what retention destroyed.
    pub fn set_summary(&self, id: i64, summary: &str) -> Result<bool> {
        let conn = self.conn();
        let tx = conn.unchecked_transaction()?;
        let row = tx.query_row(&format!("SELECT {COLUMNS} FROM calls WHERE id = ?1"), params![id], RawRow::from_row).optional()?;
        let Some(call) = row.map(|r| r.open(&tx, &self.wrap)).transpose()? else { return Ok(false) };
        let (Sealed::Open(intake), Sealed::Open(transcript)) = (call.intake, call.transcript) else { return Ok(false) };
        let record = CallRecord { summary: Some(summary.to_string()), transcript, ..intake };
        write_sealed(&tx, &self.wrap, id, &record)?;
        tx.commit()?;
        Ok(true)
    }

    /// A finished call in one go (simulate, tests).
    pub fn save(&self, record: &CallRecord) -> Result<i64> {
        let id = self.begin_call(record)?;
        self.finish_call(id, record)?;
        Ok(id)
    }

    pub fn get(&self, id: i64) -> Result<Option<StoredCall>> {
        let conn = self.conn();
        let row = conn.query_row(&format!("SELECT {COLUMNS} FROM calls WHERE id = ?1"), params![id], RawRow::from_row).optional()?;
        row.map(|r| r.open(&conn, &self.wrap)).transpose()
    }

    /// Every call, oldest first.
    pub fn all(&self) -> Result<Vec<StoredCall>> {
        self.list(&Filter::default())
    }

    /// Calls matching `filter`, oldest first; the worklist puts emergencies first.
    pub fn list(&self, filter: &Filter) -> Result<Vec<StoredCall>> {
        let conn = self.conn();
        let mut sql = format!("SELECT {COLUMNS} FROM calls WHERE 1");
        let mut args: Vec<String> = Vec::new();
        let conditions = [
            (&filter.since, "julianday(started_at) >= julianday(?)"),
            (&filter.until, "julianday(started_at) < julianday(?)"),
            (&filter.outcome, "outcome = ?"),
            (&filter.intent, "intent = ?"),
        ];
        for (value, condition) in conditions {
            if let Some(v) = value {
                args.push(v.clone());
                sql += &format!(" AND {}", condition.replace('?', &format!("?{}", args.len())));
            }
        }
        if filter.worklist {
            let outcomes: Vec<String> = WORKLIST_OUTCOMES.iter().map(|o| format!("'{o}'")).collect();
            sql += &format!(" AND acked_at IS NULL AND outcome IN ({})", outcomes.join(","));
            sql += " ORDER BY outcome != 'emergency', id";
        } else {
            sql += " ORDER BY id";
        }
        let rows: Vec<RawRow> = {
            let mut st = conn.prepare(&sql)?;
            st.query_map(rusqlite::params_from_iter(args.iter()), RawRow::from_row)?.collect::<Result<_, _>>()?
        };
        rows.into_iter().map(|r| r.open(&conn, &self.wrap)).collect()
    }

    /// Marks a message as handled by the user who ran the command. Returns false when there is
    /// no such call.
    pub fn ack(&self, id: i64, at: &str) -> Result<bool> {
        self.ack_by(id, at, &audit::os_user())
    }

    /// Marks a message handled by `by` (a web inbox account).
    pub fn ack_by(&self, id: i64, at: &str, by: &str) -> Result<bool> {
        let n = self.conn().execute("UPDATE calls SET acked_at = ?2, acked_by = ?3 WHERE id = ?1", params![id, at, by])?;
        Ok(n > 0)
    }

    /// Counts from the clear columns only: what a dashboard or metrics scrape may see.
    pub fn stats(&self) -> Result<Vec<(String, Option<String>, i64)>> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT outcome, intent, count(*) FROM calls GROUP BY outcome, intent ORDER BY outcome, intent")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Seals a recording's data key for `id`, creating it. The recording itself is a file of
    /// its own (see [`recording`]).
    pub fn recording_key(&self, id: i64) -> Result<SecretKey> {
        let conn = self.conn();
        let key = data_key(&conn, &self.wrap, id, "recording", true)?.context("no recording key")?;
        conn.execute("UPDATE calls SET recording = ?2 WHERE id = ?1", params![id, recording::file_name(id)])?;
        Ok(key)
    }

    /// The recording's data key, if the recording still exists.
    pub fn existing_recording_key(&self, id: i64) -> Result<Option<SecretKey>> {
        data_key(&self.conn(), &self.wrap, id, "recording", false)
    }

    /// Runs `f` on the connection (retention, checkpoints).
    pub(crate) fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.conn())
    }

    pub(crate) fn audit_key(&self) -> &SecretKey {
        &self.audit_key
    }

    /// Moves everything in the WAL into the main file and empties the WAL, so pages that held
    /// destroyed keys do not linger there.
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.conn();
        let (busy, _, _): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        if busy != 0 {
            tracing::debug!("checkpoint could not finish: a reader is active");
        }
        Ok(())
    }
}

impl Store {
    /// Replaces the master key: every data key and sub-key is rewrapped under a new one in one
    /// transaction, then the new key file takes the old one's place. The new key is written
    /// beside the old one first (`KEY.new`), so a crash at any point leaves a key that opens the
    /// database (a start after a crash between the two steps finishes the swap). The daemon
    /// must be stopped: it holds the old key in memory.
    pub fn rotate_key(&mut self, key_path: &Path) -> Result<(String, String)> {
        let _daemon = DaemonLock::try_take(&self.dir)?
            .context("the daemon is running: stop it first (systemctl stop frontdesk), then rotate the key")?;
        let pending = pending_key_path(key_path);
        let _ = std::fs::remove_file(&pending);
        let owner = owner_of(key_path);
        let new_master = crypto::create_master_key(&pending, owner)?;
        let new_wrap = new_master.derive("wrap data keys");
        let old_id = self.key_id.clone();
        {
            let conn = self.conn();
            let tx = conn.unchecked_transaction()?;
            let rows: Vec<(i64, String, Vec<u8>)> = {
                let mut st = tx.prepare("SELECT call_id, class, wrapped FROM data_keys")?;
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?
            };
            for (id, class, wrapped) in rows {
                let aad = key_aad(id, &class);
                let dek = self.wrap.open(&aad, &wrapped).with_context(|| {
                    format!("the data key of call {id}'s {class} failed its integrity check: rotation stopped, nothing changed")
                })?;
                tx.execute(
                    "UPDATE data_keys SET wrapped = ?3 WHERE call_id = ?1 AND class = ?2",
                    params![id, class, new_wrap.seal(&aad, &dek)],
                )?;
            }
            for name in ["audit_key", "log_key"] {
                let key = sub_key(&tx, &self.wrap, name)?;
                tx.execute("UPDATE meta SET value = ?2 WHERE name = ?1", params![name, new_wrap.seal(name.as_bytes(), key.bytes())])?;
            }
            tx.execute("UPDATE meta SET value = ?1 WHERE name = 'key_check'", params![new_wrap.seal(KEY_CHECK_AAD, b"frontdesk")])?;
            tx.execute("UPDATE meta SET value = ?1 WHERE name = 'key_id'", params![new_master.key_id().into_bytes()])?;
            tx.commit()?;
        }
        std::fs::rename(&pending, key_path)
            .with_context(|| format!("the database now uses the key in {}: move it to {}", pending.display(), key_path.display()))?;
        self.wrap = new_wrap;
        self.key_id = new_master.key_id();
        self.audit("key_rotated", &format!("key id {old_id} replaced by {}", self.key_id))?;
        self.checkpoint()?;
        Ok((old_id, self.key_id.clone()))
    }
}

/// Held by the running daemon for as long as it runs, so commands that must not run beside it
/// (key rotation) can tell, and a second daemon on the same data cannot start.
pub struct DaemonLock {
    _held: std::fs::File,
}

impl DaemonLock {
    /// `None` when another process holds it.
    pub fn try_take(dir: &Path) -> Result<Option<DaemonLock>> {
        use std::os::fd::AsRawFd;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the data directory {} (store.data_dir)", dir.display()))?;
        let path = dir.join("daemon.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: the descriptor belongs to `file`, open for the whole call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        Ok((rc == 0).then_some(DaemonLock { _held: file }))
    }
}

fn pending_key_path(key_path: &Path) -> PathBuf {
    let mut name = key_path.file_name().unwrap_or_default().to_os_string();
    name.push(".new");
    key_path.with_file_name(name)
}

/// A rotation that committed but crashed before the key file was swapped: the new key sits in
/// `KEY.new` and opens the database. Finish the swap and go on with it.
fn finish_rotation(key_path: &Path, check: &[u8]) -> Result<Option<SecretKey>> {
    let pending = pending_key_path(key_path);
    if !pending.is_file() {
        return Ok(None);
    }
    let key = crypto::load_master_key(&pending)?;
    if key.derive("wrap data keys").open(KEY_CHECK_AAD, check).is_none() {
        return Ok(None);
    }
    std::fs::rename(&pending, key_path)
        .with_context(|| format!("finishing an interrupted key rotation: move {} to {}", pending.display(), key_path.display()))?;
    tracing::warn!(key = %key_path.display(), "finished a key rotation a crash had interrupted");
    Ok(Some(key))
}

/// A random key stored wrapped in `meta` under `name`, made the first time it is asked for.
fn sub_key(conn: &Connection, wrap: &SecretKey, name: &str) -> Result<SecretKey> {
    let wrapped: Option<Vec<u8>> = conn.query_row("SELECT value FROM meta WHERE name = ?1", params![name], |r| r.get(0)).optional()?;
    match wrapped {
        Some(w) => wrap
            .open(name.as_bytes(), &w)
            .and_then(|b| SecretKey::from_bytes(&b))
            .with_context(|| format!("the database's {name} failed its integrity check")),
        None => {
            let k = SecretKey::random();
            conn.execute("INSERT INTO meta (name, value) VALUES (?1, ?2)", params![name, wrap.seal(name.as_bytes(), k.bytes())])?;
            Ok(k)
        }
    }
}

const COLUMNS: &str =
    "id, started_at, ended_at, duration_ms, outcome, intent, after_hours, acked_at, acked_by, intake, transcript, recording";

struct RawRow {
    id: i64,
    started_at: String,
    ended_at: Option<String>,
    duration_ms: Option<i64>,
    outcome: String,
    intent: Option<String>,
    after_hours: bool,
    acked_at: Option<String>,
    acked_by: Option<String>,
    intake: Option<Vec<u8>>,
    transcript: Option<Vec<u8>>,
    recording: Option<String>,
}

impl RawRow {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            id: r.get(0)?,
            started_at: r.get(1)?,
            ended_at: r.get(2)?,
            duration_ms: r.get(3)?,
            outcome: r.get(4)?,
            intent: r.get(5)?,
            after_hours: r.get(6)?,
            acked_at: r.get(7)?,
            acked_by: r.get(8)?,
            intake: r.get(9)?,
            transcript: r.get(10)?,
            recording: r.get(11)?,
        })
    }

    fn open(self, conn: &Connection, wrap: &SecretKey) -> Result<StoredCall> {
        let id = self.id;
        let intake = open_part(conn, wrap, id, "intake", self.intake.as_deref())?;
        let transcript = open_part(conn, wrap, id, "transcript", self.transcript.as_deref())?;
        Ok(StoredCall {
            id,
            started_at: self.started_at,
            ended_at: self.ended_at,
            duration_ms: self.duration_ms,
            outcome: self.outcome,
            intent: self.intent,
            after_hours: self.after_hours,
            acked_at: self.acked_at,
            acked_by: self.acked_by,
            intake,
            transcript,
            has_recording: self.recording.is_some(),
        })
    }
}

fn part_aad(id: i64, class: &str) -> Vec<u8> {
    format!("frontdesk {class} of call {id}").into_bytes()
}

fn key_aad(id: i64, class: &str) -> Vec<u8> {
    format!("frontdesk data key for the {class} of call {id}").into_bytes()
}

/// The data key of one part of one call; made when `create` and missing. An existing key that
/// fails to unwrap is an error: something altered it, and nothing sealed with it can be trusted.
fn data_key(conn: &Connection, wrap: &SecretKey, id: i64, class: &str, create: bool) -> Result<Option<SecretKey>> {
    let wrapped: Option<Vec<u8>> =
        conn.query_row("SELECT wrapped FROM data_keys WHERE call_id = ?1 AND class = ?2", params![id, class], |r| r.get(0)).optional()?;
    match wrapped {
        Some(w) => {
            let k = wrap.open(&key_aad(id, class), &w).and_then(|b| SecretKey::from_bytes(&b));
            k.map(Some).with_context(|| format!("the data key of call {id}'s {class} failed its integrity check"))
        }
        None if create => {
            let k = SecretKey::random();
            conn.execute(
                "INSERT INTO data_keys (call_id, class, wrapped) VALUES (?1, ?2, ?3)",
                params![id, class, wrap.seal(&key_aad(id, class), k.bytes())],
            )?;
            Ok(Some(k))
        }
        None => Ok(None),
    }
}

/// Seals the intake and the transcript of `record` into row `id`.
fn write_sealed(conn: &Connection, wrap: &SecretKey, id: i64, record: &CallRecord) -> Result<()> {
    let mut intake = record.clone();
    let transcript = std::mem::take(&mut intake.transcript);
    let intake_json = Zeroizing::new(serde_json::to_vec(&intake)?);
    let transcript_json = Zeroizing::new(serde_json::to_vec(&transcript)?);
    let intake_key = data_key(conn, wrap, id, "intake", true)?.context("intake key")?;
    let transcript_key = data_key(conn, wrap, id, "transcript", true)?.context("transcript key")?;
    conn.execute(
        "UPDATE calls SET intake = ?2, transcript = ?3 WHERE id = ?1",
        params![
            id,
            intake_key.seal(&part_aad(id, "intake"), &intake_json),
            transcript_key.seal(&part_aad(id, "transcript"), &transcript_json)
        ],
    )?;
    Ok(())
}

fn open_part<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    wrap: &SecretKey,
    id: i64,
    class: &str,
    blob: Option<&[u8]>,
) -> Result<Sealed<T>> {
    let Some(blob) = blob else { return Ok(Sealed::Purged) };
    let key = match data_key(conn, wrap, id, class, false) {
        Ok(Some(k)) => k,
        Ok(None) => return Ok(Sealed::Purged),
        Err(_) => return Ok(Sealed::Damaged),
    };
    let Some(plain) = key.open(&part_aad(id, class), blob) else { return Ok(Sealed::Damaged) };
    Ok(serde_json::from_slice(&plain).map(Sealed::Open).unwrap_or(Sealed::Damaged))
}

/// The key id and key check a database was written with, if it has any.
fn expected_key(conn: &Connection) -> Result<Option<(String, Vec<u8>)>> {
    if schema::version(conn)? < 2 {
        return Ok(None);
    }
    let get = |name: &str| -> Result<Option<Vec<u8>>> {
        Ok(conn.query_row("SELECT value FROM meta WHERE name = ?1", params![name], |r| r.get(0)).optional()?)
    };
    match (get("key_id")?, get("key_check")?) {
        (Some(id), Some(check)) => Ok(Some((String::from_utf8_lossy(&id).into_owned(), check))),
        _ => Ok(None),
    }
}

fn owner_of(path: &Path) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.uid(), m.gid()))
}

fn restrict(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

#[cfg(test)]
mod tests;

/// Where call records are kept.
#[derive(Debug, serde::Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// Directory of the database (calls.db).
    #[serde(default = "default_data_dir")]
    pub data_dir: std::path::PathBuf,
    /// The master key (64 hex digits, mode 0600), outside the data directory. Made on first
    /// start; back it up, since the records cannot be read without it. A systemd credential
    /// named master.key takes its place when the service has one.
    #[serde(default = "default_key_file")]
    pub key_file: std::path::PathBuf,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection { data_dir: default_data_dir(), key_file: default_key_file() }
    }
}

fn default_key_file() -> std::path::PathBuf {
    "/etc/frontdesk/master.key".into()
}

fn default_data_dir() -> std::path::PathBuf {
    "/var/lib/frontdesk".into()
}
