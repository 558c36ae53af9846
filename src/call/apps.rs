//! What can answer a call ([`App`]), and the built-in apps besides the conversation, for
//! integrators and tests. Each runs on any line: it sees only a [`CallLeg`].
//!
//! - `conversation`: the clinic's assistant (`call::engine`).
//! - `echo`: what the caller says comes back, 60 ms or so later: proves audio both ways.
//! - `announce`: answer, play a WAV, record the caller to a WAV, hang up.
//! - `transfer`: answer, then blind-transfer the caller (REFER) to a fixed target, e.g.
//!   reception, and hang up once the transfer is reported done.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::line::{CallLeg, FRAME_SAMPLES, Frame, LineEvent};

/// What answers a call, as `[answer]` names it. The one list of app names: the config, the
/// daemon and the docs all take it from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum App {
    /// The clinic's assistant: the conversation of `[prompts]`, `[intents]`, `[faq]`.
    Conversation,
    /// Callers hear themselves: proves audio both ways on a new line.
    Echo,
    /// Plays `[announce] play`, records the caller.
    Announce,
    /// Sends every caller to `[transfer] target`.
    Transfer,
}

impl App {
    pub const ALL: [App; 4] = [App::Conversation, App::Echo, App::Announce, App::Transfer];

    pub fn name(self) -> &'static str {
        match self {
            App::Conversation => "conversation",
            App::Echo => "echo",
            App::Announce => "announce",
            App::Transfer => "transfer",
        }
    }
}

impl std::fmt::Display for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Echoes until the caller hangs up.
pub fn echo(mut leg: Box<dyn CallLeg>) {
    loop {
        while let Some(ev) = leg.poll_event() {
            if ev == LineEvent::Hangup {
                return;
            }
            if let LineEvent::Dtmf(d) = ev {
                tracing::info!(call = %leg.info().log_id, "DTMF received");
                tracing::debug!(call = %leg.info().log_id, digit = %d, "DTMF digit");
            }
        }
        match leg.read_frame(Duration::from_millis(100)) {
            Ok(Some(frame)) => {
                if leg.write_frame(&frame).is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(_) => return,
        }
    }
}

#[derive(Clone, Debug)]
pub struct AnnounceSettings {
    /// 8 kHz samples to play.
    pub prompt: Vec<i16>,
    pub record_dir: Option<PathBuf>,
    pub record_seconds: u32,
}

/// Loads and converts the announcement once, at start, so a call never waits on it.
pub fn load_announcement(path: &Path) -> anyhow::Result<Vec<i16>> {
    let audio = crate::wav::read_mono(path, 600)?;
    Ok(crate::audio::telephone::to_line_pcm(&audio.samples, audio.sample_rate)?)
}

pub fn announce(mut leg: Box<dyn CallLeg>, settings: &AnnounceSettings) {
    let id = leg.info().log_id.clone();
    // Audio sent before the caller's ACK could be lost; wait for the answer to be confirmed.
    let waited = Instant::now();
    loop {
        match leg.poll_event() {
            Some(LineEvent::Answered) => break,
            Some(LineEvent::Hangup) => return,
            _ if waited.elapsed() > Duration::from_secs(5) => break,
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    for chunk in settings.prompt.chunks(FRAME_SAMPLES) {
        let mut frame: Frame = [0; FRAME_SAMPLES];
        frame[..chunk.len()].copy_from_slice(chunk);
        if leg.write_frame(&frame).is_err() {
            return;
        }
        // Drain what the caller says meanwhile, so it is not recorded late.
        while let Ok(Some(_)) = leg.read_frame(Duration::ZERO) {}
    }
    // Let the queued prompt play out (the line holds about a second).
    let play_out = Instant::now();
    while play_out.elapsed() < Duration::from_millis(1000) {
        if let Ok(Some(_)) = leg.read_frame(Duration::from_millis(20)) {}
    }
    let mut recorded: Vec<f32> = Vec::new();
    // Wall-clock limit: a silent or muted caller sends no packets, and must still be hung up on.
    let until = Instant::now() + Duration::from_secs(settings.record_seconds as u64);
    let mut hung_up = false;
    while Instant::now() < until {
        if let Some(LineEvent::Hangup) = leg.poll_event() {
            hung_up = true;
            break;
        }
        match leg.read_frame(Duration::from_millis(100)) {
            Ok(Some(f)) => recorded.extend(f.iter().map(|&s| crate::audio::resample::i16_to_f32(s))),
            Ok(None) => {}
            Err(_) => {
                hung_up = true;
                break;
            }
        }
    }
    if let Some(dir) = &settings.record_dir
        && !recorded.is_empty()
    {
        let path = dir.join(format!("{id}.wav"));
        match crate::wav::write_mono_i16(&path, &recorded, 8000) {
            Ok(()) => tracing::info!(call = %id, seconds = recorded.len() / crate::audio::telephone::RATE as usize, "caller recorded"),
            Err(e) => tracing::error!(call = %id, "{e}"),
        }
    }
    if !hung_up {
        leg.hang_up();
    }
}

/// Transfers every call to `target` and reports the outcome in the log.
pub fn transfer(mut leg: Box<dyn CallLeg>, target: &str) {
    let id = leg.info().log_id.clone();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        match leg.poll_event() {
            Some(LineEvent::Answered) => break,
            Some(LineEvent::Hangup) => return,
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    leg.transfer(target);
    let asked = Instant::now();
    while asked.elapsed() < Duration::from_secs(30) {
        match leg.poll_event() {
            Some(LineEvent::TransferResult(Ok(()))) => {
                tracing::info!(call = %id, "transfer succeeded");
                leg.hang_up();
                return;
            }
            Some(LineEvent::TransferResult(Err(reason))) => {
                tracing::warn!(call = %id, %reason, "transfer failed");
                leg.hang_up();
                return;
            }
            Some(LineEvent::Hangup) => return,
            _ => {
                // Keep reading so the media queue does not fill while we wait.
                let _ = leg.read_frame(Duration::from_millis(20));
            }
        }
    }
    tracing::warn!(call = %id, "transfer not confirmed within 30 s");
    leg.hang_up();
}

/// `[announce]`: settings of the built-in `announce` app.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct AnnounceSection {
    /// WAV file played when the call is answered (any common rate; mono or stereo).
    pub play: Option<PathBuf>,
    /// Where the caller's audio is written (one WAV per call); none: not recorded.
    pub record_dir: Option<PathBuf>,
    /// Recording stops after this many seconds, then the call is hung up.
    #[serde(default)]
    pub record_seconds: u32,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct TransferSection {
    /// Where the `transfer` app sends callers: a SIP URI or a number the PBX understands.
    pub target: Option<String>,
}
