//! Line echo cancellation for the analog line: the hybrid of a two-wire line reflects the box's
//! own voice back at -6 to -20 dB a few milliseconds later, filtered by the line. Barge-in and
//! end-of-turn must hear the caller, not that reflection.
//!
//! speexdsp's multidelay-block-frequency adaptive filter (MDF) does the cancelling. Its residual
//! echo suppressor (in the preprocessor) was measured on the simulated hybrid: no better ERLE
//! (26.6 against 26.9 dB) and a caller talking over the prompt came out 5 dB worse, so it is not
//! used. speexdsp is compiled from its source by the `aec-rs-sys`
//! binding; this file is the only one that calls it. The SIP line has no hybrid in the box and
//! keeps using `echo` (the echo guard) for the far end's echo.
//!
//! Per 20 ms frame at 8 kHz: the frame heard and the frame played at the same time (the one the
//! echo comes from) go in; the heard frame less the echo comes out. Nothing is allocated per
//! frame.

use std::ffi::c_void;

use aec_rs_sys as sys;

use super::telephone::{FRAME_SAMPLES, Frame, RATE};

/// Echo tail the filter covers by default: the hybrid's impulse response plus the delay
/// through the interface's converters and buffers, with room to spare.
pub const DEFAULT_TAIL_MS: u32 = 64;

/// One line's echo canceller.
pub struct EchoCanceller {
    echo: *mut sys::SpeexEchoState,
    out: Frame,
    /// Smoothed power heard and left after cancelling, over frames when something was played.
    heard_power: f32,
    left_power: f32,
    played_frames: u32,
    settled: bool,
}

/// Played frames quieter than this (mean square; about -45 dBm0) leave no echo to measure.
const PLAYED_FLOOR: f32 = 900.0;
/// The canceller has settled once it removes this much of the echo (ERLE, as a power ratio:
/// 10 dB), measured over at least [`SETTLE_FRAMES`] played frames.
const SETTLED_RATIO: f32 = 10.0;
const SETTLE_FRAMES: u32 = 25;

// SAFETY: the speexdsp state is plain heap memory owned by this value alone and used only
// through `&mut self`; nothing in them is tied to a thread.
unsafe impl Send for EchoCanceller {}

impl EchoCanceller {
    /// A canceller for echoes up to `tail_ms` (16 to 512) after the sound that made them.
    pub fn new(tail_ms: u32) -> EchoCanceller {
        let taps = (RATE * tail_ms.clamp(16, 512) / 1000) as i32;
        let mut rate = RATE as i32;
        // SAFETY: init returns an owned state (checked non-null below); the ctl call gets a
        // pointer to a live i32, as speex_echo.h asks.
        unsafe {
            let echo = sys::speex_echo_state_init(FRAME_SAMPLES as i32, taps);
            assert!(!echo.is_null(), "speexdsp could not allocate its state");
            sys::speex_echo_ctl(echo, sys::SPEEX_ECHO_SET_SAMPLING_RATE as i32, &mut rate as *mut i32 as *mut c_void);
            EchoCanceller { echo, out: [0; FRAME_SAMPLES], heard_power: 0.0, left_power: 0.0, played_frames: 0, settled: false }
        }
    }

    /// The heard frame less the echo of `played` (the frame sent to the line at the same time).
    pub fn cancel(&mut self, heard: &Frame, played: &Frame) -> &Frame {
        // SAFETY: all three buffers are FRAME_SAMPLES long, the frame size the states were
        // made for; `out` does not alias the inputs.
        unsafe { sys::speex_echo_cancellation(self.echo, heard.as_ptr(), played.as_ptr(), self.out.as_mut_ptr()) };
        if !self.settled && mean_square(played) > PLAYED_FLOOR {
            self.heard_power = 0.9 * self.heard_power + 0.1 * mean_square(heard);
            self.left_power = 0.9 * self.left_power + 0.1 * mean_square(&self.out);
            self.played_frames += 1;
            self.settled = self.played_frames >= SETTLE_FRAMES && self.heard_power >= SETTLED_RATIO * self.left_power;
        }
        &self.out
    }

    /// True once the filter has learnt the echo path (it removes 10 dB of the echo). Until
    /// then its output still holds much of the echo, less alike to what was played than the
    /// echo itself: a listener that tells echo from a caller by likeness (the echo guard)
    /// does better on what was heard. Once settled, it stays so for the canceller's life
    /// (a caller talking over the prompt would otherwise look like a filter gone astray).
    pub fn settled(&self) -> bool {
        self.settled
    }

    /// Forgets what was learnt (a new call: another line, another echo path).
    pub fn reset(&mut self) {
        // SAFETY: the state is live until drop.
        unsafe { sys::speex_echo_state_reset(self.echo) };
        (self.heard_power, self.left_power, self.played_frames, self.settled) = (0.0, 0.0, 0, false);
    }
}

impl Drop for EchoCanceller {
    fn drop(&mut self) {
        // SAFETY: the state was made in `new` and is destroyed once, here.
        unsafe { sys::speex_echo_state_destroy(self.echo) };
    }
}

/// A simulated hybrid for tests and benchmarks: what the line returns when `played` goes out:
/// an echo `delay_samples` later, `loss_db` down, through a short impulse response (the line's
/// band-limiting and a small second reflection), plus the caller's own `far` speech.
pub fn simulated_hybrid(played: &[i16], far: &[i16], delay_samples: usize, loss_db: f32) -> Vec<i16> {
    let gain = 10f32.powf(-loss_db / 20.0);
    // A smooth main tap, and a weaker inverted reflection 1.5 ms later.
    let ir: [(usize, f32); 6] = [(0, 0.25), (1, 0.5), (2, 0.25), (12, -0.15), (13, -0.1), (14, -0.05)];
    (0..played.len().max(far.len()))
        .map(|n| {
            let echo: f32 =
                ir.iter().filter_map(|&(k, h)| n.checked_sub(delay_samples + k).and_then(|i| played.get(i)).map(|&x| x as f32 * h)).sum();
            let caller = far.get(n).copied().unwrap_or(0) as f32;
            (echo * gain + caller).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

fn mean_square(frame: &Frame) -> f32 {
    frame.iter().map(|&s| s as f32 * s as f32).sum::<f32>() / FRAME_SAMPLES as f32
}
