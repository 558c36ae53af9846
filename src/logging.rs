//! Logging to standard error, which systemd sends to the journal.
//!
//! Rule for every log line in this crate: no caller data (numbers, names, dates of birth,
//! transcripts) at info level or above. whisper.cpp and ggml print through the same subscriber
//! under their own targets, so their chatter can be filtered like ours.

use std::sync::Once;

use serde::Deserialize;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber. `RUST_LOG`, when set, overrides the configured level (for debugging
/// on a bench, not for production boxes).
pub fn init(level: &str) {
    let base = std::env::var("RUST_LOG").unwrap_or_else(|_| level.to_string());
    // whisper.cpp logs every tensor at info level while loading; keep that at warn by default.
    let filter = EnvFilter::try_new(format!("{base},whisper_rs=warn,ort=warn")).unwrap_or_else(|_| EnvFilter::new("info"));
    if stderr_is_journal() {
        // The journal stamps each line itself and takes its priority from the prefix.
        let format = tracing_subscriber::fmt::format().without_time().with_target(false).with_ansi(false);
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).event_format(Prioritised(format)).try_init();
        return;
    }
    // journald shows escape codes literally: colour only on a terminal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).with_ansi(ansi).try_init();
}

/// Whether standard error is the journal's stream: systemd names it in `JOURNAL_STREAM`
/// ("device:inode", systemd.exec(5)), and a stream handed on to a child or redirected is not it.
fn stderr_is_journal() -> bool {
    std::env::var("JOURNAL_STREAM").is_ok_and(|v| fd_is_stream(2, &v))
}

fn fd_is_stream(fd: i32, journal_stream: &str) -> bool {
    let Some((dev, ino)) = journal_stream.split_once(':') else { return false };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else { return false };
    // SAFETY: fstat writes only the stat buffer we pass, which is zeroed plain data.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above; an invalid fd makes fstat fail, which is checked.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return false;
    }
    st.st_dev as u64 == dev && st.st_ino as u64 == ino
}

/// Each line prefixed with its syslog priority, `<3>` error to `<7>` debug (sd-daemon(3)), so
/// `journalctl -p warning -u frontdesk` shows what needs a person.
struct Prioritised<F>(F);

impl<S, N, F> tracing_subscriber::fmt::FormatEvent<S, N> for Prioritised<F>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
    F: tracing_subscriber::fmt::FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        write!(writer, "<{}>", priority(event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

fn priority(level: &tracing::Level) -> u8 {
    match *level {
        tracing::Level::ERROR => 3,
        tracing::Level::WARN => 4,
        tracing::Level::INFO => 6,
        _ => 7,
    }
}

/// Sends whisper.cpp's and ggml's own messages to tracing instead of raw stderr, under the
/// `whisper_rs` target. whisper.cpp reports a transcription stopped on purpose (see
/// [`while_abortable`]) as "failed to encode": that one goes to debug, not error.
pub fn route_whisper_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        whisper_rs::install_logging_hooks();
        // SAFETY: the callback is a plain function valid for the life of the process; it
        // sets both whisper.cpp's and ggml's sink (whisper_log_set calls ggml_log_set).
        unsafe { whisper_rs::whisper_rs_sys::whisper_log_set(Some(whisper_log), std::ptr::null_mut()) };
    });
}

thread_local! {
    /// The abort flag of the transcription running on this thread, if it has one.
    static ABORT_FLAG: std::cell::Cell<*const std::sync::atomic::AtomicBool> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// Runs `f` (a whisper.cpp call on this thread) with its failures logged at debug level once
/// `abort` is set: they are then the stop that was asked for, not a fault.
pub fn while_abortable<R>(abort: &std::sync::atomic::AtomicBool, f: impl FnOnce() -> R) -> R {
    ABORT_FLAG.with(|c| c.set(abort));
    let r = f();
    ABORT_FLAG.with(|c| c.set(std::ptr::null()));
    r
}

fn aborting() -> bool {
    // SAFETY: the pointer is set only for the duration of `while_abortable`, which borrows it.
    ABORT_FLAG.with(|c| unsafe { c.get().as_ref() }.is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed)))
}

// SAFETY: called by whisper.cpp and ggml with a NUL-terminated message (or null, refused).
unsafe extern "C" fn whisper_log(
    level: whisper_rs::whisper_rs_sys::ggml_log_level,
    text: *const std::ffi::c_char,
    _: *mut std::ffi::c_void,
) {
    if text.is_null() {
        return;
    }
    // SAFETY: whisper.cpp and ggml pass a NUL-terminated string valid for this call.
    let text = unsafe { std::ffi::CStr::from_ptr(text) }.to_string_lossy();
    let text = text.trim();
    match level {
        4 if !aborting() => tracing::error!(target: "whisper_rs", "{text}"),
        3 => tracing::warn!(target: "whisper_rs", "{text}"),
        2 => tracing::info!(target: "whisper_rs", "{text}"),
        1 | 4 => tracing::debug!(target: "whisper_rs", "{text}"),
        _ => tracing::trace!(target: "whisper_rs", "{text}"),
    }
}

/// `[logging]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSection {
    /// tracing filter, e.g. "info" or "frontdesk=debug".
    #[serde(default = "default_log_level")]
    pub level: String,
    /// Puts caller numbers, transcripts and collected details into debug lines, for a
    /// technician chasing a recognition problem. Off unless set here; the daemon warns at start
    /// while it is on.
    #[serde(default)]
    pub patient_data: bool,
}

impl Default for LoggingSection {
    fn default() -> Self {
        LoggingSection { level: default_log_level(), patient_data: false }
    }
}

fn default_log_level() -> String {
    "info".into()
}

impl LoggingSection {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        match EnvFilter::try_new(&self.level) {
            Ok(_) => Vec::new(),
            Err(_) => vec![("level", format!("{:?} is not a log filter: use error, warn, info, debug or trace", self.level))],
        }
    }
}

static PATIENT_DATA: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static TAG_KEY: std::sync::OnceLock<zeroize::Zeroizing<[u8; 32]>> = std::sync::OnceLock::new();

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

/// The key behind [`tag`] and [`call_tag`]: the store's log key (derived from the master key),
/// so tags stay the same across restarts. Until it is set (tools that open no store) a random
/// key is used, so tags are still unreadable, only not stable.
pub fn set_tag_key(key: &[u8; 32]) {
    let _ = TAG_KEY.set(zeroize::Zeroizing::new(*key));
}

/// How a log line names a caller's number: a keyed hash ("#3f9a0c11d2"), the same for the
/// same number, useless to anyone without the box's key. The number itself only with
/// `logging.patient_data`.
pub fn tag(value: &str) -> String {
    if patient_data() {
        return value.to_string();
    }
    format!("#{}", keyed_hash(value))
}

/// How a log line names a call: the same keyed hash of the line's own identifier (a SIP
/// Call-ID, an FXO port and ring time), so every line of one call can be followed without
/// the log carrying an identifier the PBX's logs would link to a caller. Always hashed.
pub fn call_tag(line_id: &str) -> String {
    keyed_hash(line_id)[..8].to_string()
}

fn keyed_hash(value: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let key = TAG_KEY.get_or_init(|| zeroize::Zeroizing::new(crate::entropy::bytes::<32>()));
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key[..]).expect("HMAC takes any key length");
    mac.update(value.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..5])
}

#[cfg(test)]
mod tests {
    #[test]
    fn journal_lines_carry_their_priority() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let out = sink.clone();
        let format = tracing_subscriber::fmt::format().without_time().with_target(false).with_ansi(false);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || out.clone())
            .event_format(super::Prioritised(format))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!("store unreadable");
            tracing::warn!("registration failed");
            tracing::info!("call answered");
            tracing::debug!("frame late");
        });
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        for (line, p) in lines.iter().zip(["<3>", "<4>", "<6>", "<7>"]) {
            assert!(line.starts_with(p), "{line:?} should start with {p}");
        }
    }

    #[test]
    fn the_journal_stream_is_recognised_by_device_and_inode() {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::MetadataExt;
        let path = std::env::temp_dir().join(format!("frontdesk-journal-stream-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let meta = file.metadata().unwrap();
        let fd = file.as_raw_fd();
        assert!(super::fd_is_stream(fd, &format!("{}:{}", meta.dev(), meta.ino())));
        assert!(!super::fd_is_stream(fd, &format!("{}:{}", meta.dev(), meta.ino() + 1)));
        assert!(!super::fd_is_stream(fd, "garbage"));
    }

    #[test]
    fn tags_are_stable_and_tell_numbers_apart() {
        assert_eq!(super::tag("+16175550199"), super::tag("+16175550199"));
        assert_ne!(super::tag("+16175550199"), super::tag("+16175550198"));
        assert!(!super::tag("+16175550199").contains("617"));
        assert_eq!(super::call_tag("a84b4c76e66710@pc33.atlanta.com").len(), 8);
    }
}
