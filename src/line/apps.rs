//! Built-in line apps, for integrators and tests until the conversation engine answers calls.
//!
//! - `echo`: what the caller says comes back, 60 ms or so later: proves audio both ways.
//! - `announce`: answer, play a WAV, record the caller to a WAV, hang up.
//! - `transfer`: answer, then blind-transfer the caller (REFER) to a fixed target, e.g.
//!   reception, and hang up once the transfer is reported done.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{CallLeg, FRAME_SAMPLES, Frame, LineEvent};

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
    let narrow = crate::audio::resample::resample(&audio.samples, audio.sample_rate, 8000)?;
    Ok(narrow.iter().map(|&x| crate::audio::resample::f32_to_i16(x)).collect())
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
            Ok(()) => tracing::info!(call = %id, seconds = recorded.len() / 8000, "caller recorded"),
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
