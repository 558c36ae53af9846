//! What staff run on the box: reading calls, the callback worklist, exports, the audit trail,
//! retention and the master key. Every read or export of patient data is written to the audit
//! trail, with the operating-system user who ran it, before anything is printed.
//!
//! Run as root on a box whose data belongs to the service user, these commands first become
//! that user: SQLite would otherwise create its WAL and shared-memory files owned by root,
//! and the daemon could no longer write its own database.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::config::Config;
use crate::record::{CallRecord, Speaker};
use crate::store::{Filter, Role, Sealed, Store, StoredCall, audit, recording, retention};

/// Opens the store for a staff command, as the data's owner.
pub fn open(config: &Config) -> Result<Store> {
    let settings = config.store_settings();
    become_data_owner(&settings.data_dir)?;
    Store::open(&settings, Role::Staff)
}

fn become_data_owner(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(dir) else { return Ok(()) };
    // SAFETY: geteuid takes no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 || meta.uid() == 0 {
        return Ok(());
    }
    // Keep the invoking login for the audit trail before it changes.
    if std::env::var_os("SUDO_USER").is_none() {
        // SAFETY: single-threaded here, before any store or runtime exists.
        unsafe { std::env::set_var("SUDO_USER", audit::os_user()) };
    }
    let (uid, gid) = (meta.uid(), meta.gid());
    // SAFETY: setgroups with a count of 0 reads no list; setgid and setuid take plain ids.
    // Still single-threaded, so no other thread runs with half-changed credentials.
    if unsafe { libc::setgroups(0, std::ptr::null()) } != 0 || unsafe { libc::setgid(gid) } != 0 || unsafe { libc::setuid(uid) } != 0 {
        bail!("cannot switch to user id {uid}, the owner of {}: {}", dir.display(), std::io::Error::last_os_error());
    }
    Ok(())
}

/// The clinic's time zone, for showing times as staff think of them.
fn clinic_tz(config: &Config) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&config.hours.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

pub(crate) fn local(config: &Config, rfc3339: &str) -> String {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| t.to_zoned(clinic_tz(config)).strftime("%a %Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// A date (YYYY-MM-DD, the clinic's midnight) or an RFC 3339 instant, as an RFC 3339 instant.
pub fn parse_when(config: &Config, s: &str, what: &str) -> Result<String> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t.to_string());
    }
    let date: jiff::civil::Date = s.parse().with_context(|| format!("{what} {s:?}: write a date such as 2026-11-23"))?;
    Ok(date.to_zoned(clinic_tz(config))?.timestamp().to_string())
}

pub(crate) fn phone(digits: &str) -> String {
    let d: String = digits.chars().filter(char::is_ascii_digit).collect();
    if d.len() == 10 { format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]) } else { digits.to_string() }
}

pub(crate) fn seconds(ms: Option<i64>) -> String {
    match ms {
        Some(ms) => format!("{}:{:02}", ms / 60_000, ms / 1000 % 60),
        None => "-".into(),
    }
}

pub(crate) fn damaged_note(c: &StoredCall) -> Option<String> {
    let mut parts = Vec::new();
    if c.intake == Sealed::Damaged {
        parts.push("intake");
    }
    if c.transcript == Sealed::Damaged {
        parts.push("transcript");
    }
    (!parts.is_empty()).then(|| {
        format!(
            "call {}: the {} failed its integrity check (altered, moved, or sealed with another key): not shown",
            c.id,
            parts.join(" and ")
        )
    })
}

fn describe_filter(f: &Filter) -> String {
    let mut parts = Vec::new();
    for (k, v) in [("since", &f.since), ("until", &f.until), ("outcome", &f.outcome), ("intent", &f.intent)] {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    }
    if parts.is_empty() { "all".into() } else { parts.join(" ") }
}

/// `frontdesk calls list`.
pub fn list(config: &Config, filter: &Filter, out: &mut dyn Write) -> Result<ExitCode> {
    let store = open(config)?;
    let calls = store.list(filter)?;
    store.audit("read", &format!("calls list ({}): {} calls", describe_filter(filter), calls.len()))?;
    writeln!(out, "{:>5}  {:<20} {:>6}  {:<14} {:<17} {:<24} CALLBACK", "ID", "STARTED", "LENGTH", "OUTCOME", "REQUEST", "NAME")?;
    let mut damaged = 0;
    for c in &calls {
        let (name, callback) = match &c.intake {
            Sealed::Open(r) => {
                (r.slots.get("name").cloned().unwrap_or_default(), r.slots.get("callback").map(|p| phone(p)).unwrap_or_default())
            }
            Sealed::Purged => ("(purged)".into(), String::new()),
            Sealed::Damaged => {
                damaged += 1;
                ("(DAMAGED: see calls show)".into(), String::new())
            }
        };
        writeln!(
            out,
            "{:>5}  {:<20} {:>6}  {:<14} {:<17} {:<24} {}",
            c.id,
            local(config, &c.started_at),
            seconds(c.duration_ms),
            c.outcome,
            c.intent.as_deref().unwrap_or("-"),
            name,
            callback
        )?;
    }
    writeln!(out, "{} calls", calls.len())?;
    if damaged > 0 {
        eprintln!("{damaged} records failed their integrity check; their contents are not shown");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `frontdesk calls show ID`.
pub fn show(config: &Config, id: i64, out: &mut dyn Write) -> Result<ExitCode> {
    let store = open(config)?;
    let Some(c) = store.get(id)? else {
        store.audit("read", &format!("calls show {id}: no such call"))?;
        bail!("there is no call {id} (it may have been purged by retention): see `frontdesk calls list`");
    };
    if let Some(why) = damaged_note(&c) {
        store.audit("read_refused", &format!("calls show {id}: integrity check failed"))?;
        bail!("{why}");
    }
    store.audit("read", &format!("calls show {id}"))?;
    let label = |out: &mut dyn Write, k: &str, v: &str| writeln!(out, "  {k:<14}{v}");
    writeln!(out, "Call {id}")?;
    label(out, "started", &format!("{} ({})", local(config, &c.started_at), config.hours.time_zone))?;
    label(out, "length", &seconds(c.duration_ms))?;
    label(out, "outcome", &c.outcome)?;
    label(out, "after hours", if c.after_hours { "yes" } else { "no" })?;
    if let Some(by) = &c.acked_by {
        label(out, "handled", &format!("by {by}, {}", local(config, c.acked_at.as_deref().unwrap_or(""))))?;
    }
    match &c.intake {
        Sealed::Open(r) => show_intake(out, r)?,
        _ => label(out, "details", "(purged by retention)")?,
    }
    match &c.transcript {
        Sealed::Open(t) => {
            writeln!(out, "  transcript")?;
            for u in t {
                let who = match u.speaker {
                    Speaker::Agent => "AGENT ",
                    Speaker::Caller => "CALLER",
                };
                let mut notes = Vec::new();
                if u.keypad {
                    notes.push("keypad".to_string());
                }
                if u.interrupted {
                    notes.push("interrupted".into());
                }
                if let Some(conf) = u.confidence {
                    notes.push(format!("{:.0}%", conf * 100.0));
                }
                let notes = if notes.is_empty() { String::new() } else { format!("  [{}]", notes.join(", ")) };
                writeln!(out, "    {:>3}:{:04.1} {who} {}{notes}", u.at_ms / 60_000, (u.at_ms % 60_000) as f64 / 1000.0, u.text)?;
            }
        }
        _ => label(out, "transcript", "(purged by retention)")?,
    }
    if c.has_recording {
        label(out, "recording", &format!("yes: frontdesk calls export {id} --recording FILE.wav"))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// How a summary is marked wherever staff see it: the language model wrote it, from the
/// de-identified details, and it can be wrong.
pub const MODEL_WORDS: &str = "(the language model's words, not the caller's: check the details)";

fn show_intake(out: &mut dyn Write, r: &CallRecord) -> Result<()> {
    let label = |out: &mut dyn Write, k: &str, v: &str| writeln!(out, "  {k:<14}{v}");
    label(out, "request", r.intent.as_deref().unwrap_or("-"))?;
    label(out, "caller ID", r.caller.as_deref().unwrap_or("(withheld)"))?;
    label(out, "dialled", r.dialled.as_deref().unwrap_or("-"))?;
    label(out, "confirmed", if r.confirmed { "yes, the caller confirmed the read-back" } else { "no" })?;
    if let Some(s) = &r.summary {
        label(out, "summary", &format!("{s}  {MODEL_WORDS}"))?;
    }
    if !r.slots.is_empty() {
        writeln!(out, "  details")?;
        for (k, v) in &r.slots {
            let v = if k == "callback" { phone(v) } else { v.clone() };
            writeln!(out, "    {:<16}{v}", k.replace('_', " "))?;
        }
    }
    if !r.missing.is_empty() {
        writeln!(out, "  missing")?;
        for (k, why) in &r.missing {
            writeln!(out, "    {:<16}{}", k.replace('_', " "), crate::record::missing_reason(why))?;
        }
    }
    if !r.questions.is_empty() {
        label(out, "questions", &r.questions.join(", "))?;
    }
    if let Some(f) = &r.red_flag {
        label(out, "red flag", f)?;
    }
    if let Some(t) = &r.transfer {
        label(out, "transfer", t)?;
    }
    Ok(())
}

/// `frontdesk calls export ID`: the whole record as JSON, and the recording as a WAV.
pub fn export(config: &Config, id: i64, recording_out: Option<&Path>, out: &mut dyn Write) -> Result<ExitCode> {
    let store = open(config)?;
    let Some(c) = store.get(id)? else { bail!("there is no call {id}: see `frontdesk calls list`") };
    if let Some(why) = damaged_note(&c) {
        store.audit("export_refused", &format!("call {id}: integrity check failed"))?;
        bail!("{why}");
    }
    if let Some(path) = recording_out {
        let key = store
            .existing_recording_key(id)?
            .with_context(|| format!("call {id} has no recording (not recorded, or purged by retention)"))?;
        let file = recording::dir(store.data_dir()).join(recording::file_name(id));
        let playback = recording::read(&file, &key, id)?;
        store.audit("export", &format!("call {id} recording to {}", path.display()))?;
        write_stereo(path, &playback)?;
        eprintln!(
            "{}: {:.1} s, caller left, agent right{}",
            path.display(),
            playback.caller.len() as f64 / recording::RATE as f64,
            if playback.complete { "" } else { " (cut short: the call was interrupted)" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    store.audit("export", &format!("call {id} as json"))?;
    let v = serde_json::json!({
        "id": c.id,
        "started_at": c.started_at,
        "ended_at": c.ended_at,
        "duration_ms": c.duration_ms,
        "outcome": c.outcome,
        "intent": c.intent,
        "after_hours": c.after_hours,
        "acked_at": c.acked_at,
        "acked_by": c.acked_by,
        "transcript_purged": c.transcript == Sealed::Purged,
        "has_recording": c.has_recording,
        "record": c.record(),
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    Ok(ExitCode::SUCCESS)
}

const STEREO: hound::WavSpec =
    hound::WavSpec { channels: 2, sample_rate: recording::RATE, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };

/// A recording as a WAV in memory, caller left and agent right (the web inbox's player).
pub fn stereo_wav(p: &recording::Playback) -> Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::with_capacity(44 + p.caller.len() * 4));
    let mut w = hound::WavWriter::new(&mut out, STEREO)?;
    for (c, a) in p.caller.iter().zip(&p.agent) {
        w.write_sample(*c)?;
        w.write_sample(*a)?;
    }
    w.finalize()?;
    Ok(out.into_inner())
}

fn write_stereo(path: &Path, p: &recording::Playback) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let spec = STEREO;
    // The exported audio is patient data too: private to whoever exported it.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = hound::WavWriter::new(std::io::BufWriter::new(file), spec)?;
    for (c, a) in p.caller.iter().zip(&p.agent) {
        w.write_sample(*c)?;
        w.write_sample(*a)?;
    }
    w.finalize()?;
    Ok(())
}

/// `frontdesk messages`: the callback worklist, emergencies first, then oldest first.
pub fn messages(config: &Config, out: &mut dyn Write) -> Result<ExitCode> {
    let store = open(config)?;
    let calls = store.list(&Filter { worklist: true, ..Filter::default() })?;
    store.audit("read", &format!("messages: {} waiting", calls.len()))?;
    if calls.is_empty() {
        writeln!(out, "No messages waiting.")?;
        return Ok(ExitCode::SUCCESS);
    }
    for c in &calls {
        let flag = if c.outcome == "emergency" { "  ** EMERGENCY **" } else { "" };
        writeln!(out, "#{}  {}  {}{flag}", c.id, local(config, &c.started_at), c.intent.as_deref().unwrap_or(&c.outcome))?;
        match &c.intake {
            Sealed::Open(r) => {
                let get = |k: &str| r.slots.get(k).cloned();
                let callback = get("callback").or_else(|| r.caller.clone()).map(|p| phone(&p)).unwrap_or_else(|| "(no number)".into());
                writeln!(out, "    {}  call back {callback}", get("name").unwrap_or_else(|| "(no name given)".into()))?;
                if let Some(s) = &r.summary {
                    writeln!(out, "    summary: {s}  {MODEL_WORDS}")?;
                }
                for (k, v) in r.slots.iter().filter(|(k, _)| !matches!(k.as_str(), "name" | "callback")) {
                    writeln!(out, "    {}: {v}", k.replace('_', " "))?;
                }
                for (k, why) in &r.missing {
                    writeln!(out, "    {}: {}", k.replace('_', " "), crate::record::missing_reason(why))?;
                }
                if c.outcome == "interrupted" {
                    writeln!(out, "    (the call was cut off: details may be incomplete)")?;
                }
            }
            Sealed::Purged => writeln!(out, "    (details purged by retention)")?,
            Sealed::Damaged => writeln!(out, "    (DAMAGED: failed its integrity check, not shown)")?,
        }
    }
    writeln!(out, "{} waiting. When one is handled: frontdesk messages ack ID", calls.len())?;
    Ok(ExitCode::SUCCESS)
}

/// `frontdesk messages ack ID`.
pub fn ack(config: &Config, id: i64) -> Result<ExitCode> {
    let store = open(config)?;
    if !store.ack(id, &crate::record::now_rfc3339())? {
        bail!("there is no call {id}: see `frontdesk messages`");
    }
    store.audit("ack", &format!("message {id} handled"))?;
    println!("message {id} marked handled");
    Ok(ExitCode::SUCCESS)
}

/// `frontdesk calls stats`: counts from the clear columns only (safe to hand to monitoring).
pub fn stats(config: &Config, out: &mut dyn Write) -> Result<ExitCode> {
    let store = open(config)?;
    for (outcome, intent, n) in store.stats()? {
        writeln!(out, "frontdesk_calls{{outcome=\"{outcome}\",intent=\"{}\"}} {n}", intent.as_deref().unwrap_or(""))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `frontdesk audit verify`.
pub fn audit_verify(config: &Config) -> Result<ExitCode> {
    let store = open(config)?;
    match store.verify_audit()? {
        audit::Verdict::Intact { entries } => {
            println!("audit trail intact: {entries} entries");
            Ok(ExitCode::SUCCESS)
        }
        audit::Verdict::Broken { position, problem } => {
            println!("audit trail BROKEN at entry {position}: {problem}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `frontdesk audit show`: the newest entries.
pub fn audit_show(config: &Config, last: usize, out: &mut dyn Write) -> Result<ExitCode> {
    let store = open(config)?;
    let entries = store.audit_entries()?;
    for e in entries.iter().skip(entries.len().saturating_sub(last)) {
        // The MAC's start is what the daemon's journal checkpoints name.
        let mac = hex::encode(&e.mac[..e.mac.len().min(8)]);
        writeln!(out, "{:>6}  {}  {:<28} {:<14} {}  [{} {mac}]", e.seq, local(config, &e.at), e.actor, e.action, e.detail, e.n)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `frontdesk purge`: what the daemon does daily, now (and at another time, to check a policy).
pub fn purge(config: &Config, now: Option<jiff::Timestamp>) -> Result<ExitCode> {
    let store = open(config)?;
    let report = retention::purge(&store, &config.retention, now.unwrap_or_else(jiff::Timestamp::now))?;
    println!("purged {report}");
    Ok(ExitCode::SUCCESS)
}

/// `frontdesk key init`: makes the master key ahead of the first start (systemd runs this as
/// root before the service, which cannot write under /etc itself).
pub fn key_init(config: &Config, owner: Option<&str>) -> Result<ExitCode> {
    let path = crate::store::crypto::key_source(&config.resolve(&config.store.key_file));
    if path.exists() {
        let key = crate::store::crypto::load_master_key(&path)?;
        println!("{}: key {} present", path.display(), key.key_id());
        return Ok(ExitCode::SUCCESS);
    }
    let db = config.resolve(&config.store.data_dir).join("calls.db");
    if db.is_file() && std::fs::metadata(&db).map(|m| m.len() > 0).unwrap_or(false) {
        bail!("{} is missing, but {} exists: restore the key from your backup rather than making a new one", path.display(), db.display());
    }
    let ids = owner.map(user_ids).transpose()?;
    let key = crate::store::crypto::create_master_key(&path, ids)?;
    println!(
        "{}: created key {}. Copy it somewhere safe off this box: without it the call records cannot be read",
        path.display(),
        key.key_id()
    );
    Ok(ExitCode::SUCCESS)
}

/// `frontdesk key rotate`. Unlike the other commands this one keeps root's rights: the new key
/// is written beside the old one under /etc, which the service user cannot write. The files it
/// touches are given back to their owners afterwards.
pub fn key_rotate(config: &Config) -> Result<ExitCode> {
    use std::os::unix::fs::MetadataExt;
    let settings = config.store_settings();
    let mut store = Store::open(&settings, Role::Staff)?;
    let path = crate::store::crypto::key_source(&settings.key_file);
    let (old, new) = store.rotate_key(&path)?;
    drop(store);
    // SAFETY: geteuid takes no arguments and cannot fail.
    if unsafe { libc::geteuid() } == 0
        && let Ok(meta) = std::fs::metadata(&settings.data_dir)
    {
        for name in ["calls.db", "calls.db-wal", "calls.db-shm"] {
            let _ = std::os::unix::fs::chown(settings.data_dir.join(name), Some(meta.uid()), Some(meta.gid()));
        }
    }
    println!("{}: key {old} replaced by {new}. Back up the new key; the old one no longer opens anything", path.display());
    Ok(ExitCode::SUCCESS)
}

fn user_ids(name: &str) -> Result<(u32, u32)> {
    let c = std::ffi::CString::new(name).context("user name")?;
    // SAFETY: passwd is a plain C struct of integers and pointers, valid when all zero.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: `c` is a valid C string; the other pointers are to live locals of the sizes given.
    let rc = unsafe { libc::getpwnam_r(c.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        bail!("no user {name:?} on this system");
    }
    Ok((pwd.pw_uid, pwd.pw_gid))
}

/// `simulate --save`: the call goes into the store as the daemon would put it there.
pub fn save_simulated(config: &Config, record: &CallRecord) -> Result<()> {
    let settings = config.store_settings();
    // Beside a running daemon, open as staff do: only the daemon may settle unfinished calls.
    let lock = crate::store::DaemonLock::try_take(&settings.data_dir)?;
    let store = Store::open(&settings, if lock.is_some() { Role::Daemon } else { Role::Staff })?;
    crate::logging::set_tag_key(store.log_key().bytes());
    let id = store.save(record)?;
    store.audit("store", &format!("simulated call {id}"))?;
    tracing::info!(record = id, outcome = record.outcome.as_str(), "simulated call stored");
    tracing::debug!(caller = %record.caller.as_deref().map(crate::logging::tag).unwrap_or_default(), "simulated caller");
    if crate::logging::patient_data() {
        for u in &record.transcript {
            tracing::debug!(record = id, text = %u.text, "transcript");
        }
    }
    Ok(())
}

/// The daemon's side: open the store, record the start and the config it loaded, purge.
pub fn daemon_store(config: &Config) -> Result<(Store, crate::store::DaemonLock)> {
    let settings = config.store_settings();
    let lock = crate::store::DaemonLock::try_take(&settings.data_dir)?
        .with_context(|| format!("another frontdesk daemon is already using {}", settings.data_dir.display()))?;
    let store = Store::open(&settings, Role::Daemon)?;
    crate::logging::set_tag_key(store.log_key().bytes());
    store.audit("start", &format!("frontdesk {} pid {}", env!("CARGO_PKG_VERSION"), std::process::id()))?;
    store.audit("config_load", &format!("{} sha256 {}", config.path.display(), config_digest(&config.path)))?;
    Ok((store, lock))
}

pub fn config_digest(path: &Path) -> String {
    use sha2::Digest;
    std::fs::read(path).map(|b| hex::encode(&sha2::Sha256::digest(&b)[..8])).unwrap_or_else(|_| "unreadable".into())
}

/// `frontdesk assist off|on`: the runtime kill switch, audited under the staff member's name.
/// The daemon reads it before every request; no restart.
pub fn assist_switch(config: &Config, off: bool) -> Result<ExitCode> {
    let store = open(config)?;
    let path = crate::assist::switch::path(store.data_dir());
    if off {
        std::fs::write(&path, b"switched off with `frontdesk assist off`\n").with_context(|| format!("cannot write {}", path.display()))?;
        store.audit("assist_off", "language model requests switched off")?;
        println!("language model requests are off (remove with `frontdesk assist on`)");
    } else {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
        store.audit("assist_on", "language model requests switched back on")?;
        if config.assist.enabled {
            println!("language model requests are on again, to {}", config.assist.endpoint);
        } else {
            println!("the switch is on, but [assist] enabled = false in the config: no request is made");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `frontdesk assist log`: every request that left for a language model; with `bodies`, the
/// exact text that was sent (the reading is itself audited).
pub fn assist_log(config: &Config, bodies: bool, out: &mut dyn Write) -> Result<ExitCode> {
    let store = open(config)?;
    let entries = store.egress_entries(bodies)?;
    if bodies {
        store.audit("assist_log_read", &format!("{} request bodies shown", entries.len()))?;
    }
    if entries.is_empty() {
        writeln!(out, "no request has been sent to a language model")?;
    }
    for e in &entries {
        writeln!(out, "{}  {:<10} {:<28} {:>6} bytes  sha256 {}", local(config, &e.at), e.purpose, e.host, e.bytes, e.sha256)?;
        if let Some(body) = &e.body {
            writeln!(out, "    {body}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
