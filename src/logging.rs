//! Logging to standard error, which systemd sends to the journal.
//!
//! Rule for every log line in this crate: no caller data (numbers, names, dates of birth,
//! transcripts) at info level or above. whisper.cpp and ggml print through the same subscriber
//! under their own targets, so their chatter can be filtered like ours.

use std::sync::Once;

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. `RUST_LOG`, when set, overrides the configured level (for debugging
/// on a bench, not for production boxes).
pub fn init(level: &str) {
    let base = std::env::var("RUST_LOG").unwrap_or_else(|_| level.to_string());
    // whisper.cpp logs every tensor at info level while loading; keep that at warn by default.
    let filter = EnvFilter::try_new(format!("{base},whisper_rs=warn,ort=warn"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // journald shows escape codes literally: colour only on a terminal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}

/// Sends whisper.cpp's and ggml's own messages to tracing instead of raw stderr.
pub fn route_whisper_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(whisper_rs::install_logging_hooks);
}

static PATIENT_DATA: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static TAG_KEY: std::sync::OnceLock<crate::store::crypto::SecretKey> = std::sync::OnceLock::new();

/// `logging.patient_data`: lets debug lines carry caller numbers and words. Said loudly at
/// start, because a journal is copied, shipped and kept in ways the encrypted store is not.
pub fn allow_patient_data(on: bool) {
    PATIENT_DATA.store(on, std::sync::atomic::Ordering::Relaxed);
    if on {
        tracing::warn!(
            "logging.patient_data is on: caller numbers, transcripts and collected details go to the log at debug level. Turn it off as soon as the fault is found"
        );
    }
}

pub fn patient_data() -> bool {
    PATIENT_DATA.load(std::sync::atomic::Ordering::Relaxed)
}

/// The key behind [`tag`]; the store's log key, so tags are the same across restarts.
pub fn set_tag_key(key: crate::store::crypto::SecretKey) {
    let _ = TAG_KEY.set(key);
}

/// How a log line names a caller's number: a keyed hash ("#3f9a0c11d2"), the same for the
/// same number, useless to anyone without the box's key. The number itself only with
/// `logging.patient_data`.
pub fn tag(value: &str) -> String {
    if patient_data() {
        return value.to_string();
    }
    let key = TAG_KEY.get_or_init(crate::store::crypto::SecretKey::random);
    format!("#{}", key.tag(value))
}
