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
