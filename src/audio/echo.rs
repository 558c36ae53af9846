//! Echo guard: tells whether a received frame is just the line returning our
//! own prompt (hybrid or speakerphone echo) rather than the caller speaking.
//!
//! Why: while the agent plays a prompt, the caller's line sends back an
//! attenuated, delayed and slightly filtered copy of it. Without this guard the
//! VAD would take that copy for the caller talking and the agent would
//! "barge-in" on itself.
//!
//! # Method
//!
//! Both streams go through the same conditioning: a one-pole DC/hum blocker
//! (~60 Hz) and a 15-tap windowed-sinc low-pass (800 Hz). Both are kept at the
//! full 8 kHz rate and decimated by 4 (2 kHz). A proper low-pass rather than
//! a 4-sample average matters: with a plain average, aliasing made the coarse
//! peak drift for delays that are not a multiple of 4 samples.
//!
//! 1. **Coarse search (2 kHz).** The last [`WINDOW_FRAMES`] heard frames
//!    (120 decimated samples, 60 ms: more stable than one frame) are
//!    correlated against the played history at every lag `0..=max_delay`
//!    (normalised cross-correlation, absolute value because a hybrid may invert
//!    polarity). Window energies of the history come from a prefix sum, so the
//!    cost is one 120-sample dot product per lag.
//! 2. **Tracking.** Each lag's |correlation| is smoothed over frames
//!    (exponential, [`LAG_SMOOTH`]); the tracked lag is the argmax of the
//!    smoothed scores and must reach [`TRACK_MIN`]. A real echo path gives the
//!    same peak frame after frame, so it is found by the second echo frame
//!    (40 ms); a spurious peak between unrelated speech rarely repeats at the
//!    same lag. This was the main cure for false positives.
//! 3. **Fine search (8 kHz).** Decimation only resolves lags to 0.5 ms; a
//!    delay that is not a multiple of 4 samples would lose correlation. Around
//!    the tracked lag, and around the lag of the last frame judged echo (a
//!    stable path stays checked even when the coarse peak wanders to a
//!    pitch-period neighbour), the lag is refined to one sample (±3) on the
//!    full-rate, low-passed 60 ms window; that window correlation must reach
//!    [`WINDOW_CORR`] (0.6).
//! 4. **Decision on the current frame.** At the refined lag, the heard frame
//!    (the newest 20 ms only, so a caller who starts talking is seen within
//!    one frame rather than diluted by the 60 ms window) must
//!    * correlate with the played signal: `|rho| >= CORR_THRESHOLD` (0.7; a
//!      pure echo gave rho >= 0.83 in 99 % of frames in the tests, an echo
//!      mixed with a caller at equal level gives ~0.7, a caller 6 dB above
//!      the echo ~0.45);
//!    * not be louder than an echo could be: heard energy <= played energy at
//!      that lag + 3 dB (an echo path does not amplify);
//!    * once the echo return loss (ERL) of this line has been learnt from
//!      confident frames (`rho >= 0.85`), lie within +4 dB / -6 dB of the
//!      learnt echo level. A caller talking over the echo raises the level
//!      (a caller 3 dB above the echo raises it ~5 dB), and a frame far
//!      quieter than the known echo level is a chance match with a loud part
//!      of the prompt. The ERL keeps learning from confident frames, so a
//!      changed echo path (volume turned up) is relearnt within a few frames.
//!
//! Silent heard frames (filtered RMS below [`SILENCE_RMS`]) are never echo:
//! there is nothing to explain, and the VAD handles silence.
//!
//! # Clock
//!
//! `played` and `is_echo` are driven by the same 20 ms clock. Call `played`
//! for the frame sent in a tick *before* `is_echo` for the frame received in
//! that tick; then a delay of 0 ms is lag 0. (Real lines never return a frame
//! in the tick it was sent, so the other order only costs 20 ms of range.)
//!
//! # Cost
//!
//! `(2 * max_delay_ms + 1) * 120` multiply-adds for the coarse search, about
//! 100 k for 400 ms, plus ~10 k for filtering and the fine search. All buffers
//! are allocated in [`EchoGuard::new`]; per-frame work only shifts and fills
//! them.

use super::telephone::{FRAME_SAMPLES, Frame};

/// Decimation factor: 8 kHz to 2 kHz, where most speech energy (and the
/// formants that identify it) lives, making the all-lag search 16x cheaper.
const DECIM: usize = 4;
/// Decimated samples per frame.
const DEC_FRAME: usize = FRAME_SAMPLES / DECIM;
/// Heard frames used for the lag search: 60 ms gives a stable peak.
const WINDOW_FRAMES: usize = 3;
/// Full-rate length of the lag-search window.
const WIN: usize = FRAME_SAMPLES * WINDOW_FRAMES;
/// Decimated length of the lag-search window.
const WIN_DEC: usize = DEC_FRAME * WINDOW_FRAMES;
/// Largest accepted `max_delay_ms`: bounds memory and per-frame cost whatever
/// the caller passes (no real echo path is longer).
const MAX_DELAY_CAP_MS: u32 = 2000;
/// Pole of the DC/hum blocker (cut-off ~64 Hz at 8 kHz): a DC offset or mains
/// hum on one side only would otherwise lower the correlation of a real echo.
const HPF_POLE: f32 = 0.95;
/// Heard frames whose conditioned RMS is below this (i16 units, about
/// -60 dBFS) are silence, not echo.
const SILENCE_RMS: f32 = 30.0;
/// Minimum |normalised correlation| of the current frame for echo.
const CORR_THRESHOLD: f32 = 0.7;
/// Correlation above which a frame is certainly echo: it then overrides the
/// learnt-ERL level check and is used to learn the ERL.
const CONFIDENT_CORR: f32 = 0.85;
/// +3 dB: heard energy may exceed played energy at the lag by this factor.
const LEVEL_MARGIN: f32 = 2.0;
/// +4 dB: heard energy may exceed the learnt echo level by this factor (a
/// pure echo stays within +3 dB in 99 % of frames in the tests).
const ERL_MARGIN_UP: f32 = 2.5;
/// -6 dB: heard energy may fall this far below the learnt echo level.
const ERL_MARGIN_DOWN: f32 = 4.0;
/// Per-frame memory of the smoothed per-lag correlation (0.6: a path is
/// forgotten in ~10 frames without echo, and established in 1-2 frames).
const LAG_SMOOTH: f32 = 0.6;
/// Smoothed score the tracked lag needs before anything is called echo: a
/// real echo path gives the same peak frame after frame (reached on the 2nd
/// echo frame), a spurious peak between unrelated signals rarely does.
const TRACK_MIN: f32 = 0.5;
/// Minimum |correlation| of the whole 60 ms window at the refined lag: a
/// second, longer look that spurious single-frame matches rarely pass.
const WINDOW_CORR: f32 = 0.6;
/// Per-frame memory of the learnt echo return loss.
const ERL_SMOOTH: f32 = 0.7;
/// Fine-search half range in full-rate samples (one decimated sample - 1).
const FINE_RADIUS: usize = DECIM - 1;

/// Taps of the anti-alias low-pass (odd, so it has a whole-sample delay).
const LP_TAPS: usize = 15;
/// Cut-off of the anti-alias low-pass, Hz: below the 1 kHz Nyquist of the
/// decimated stream so that aliasing (which depends on the sub-sample phase
/// of the echo delay) does not move the coarse correlation peak.
const LP_CUTOFF_HZ: f32 = 800.0;

/// Hann-windowed sinc low-pass, unity gain at DC.
fn lowpass_taps() -> [f32; LP_TAPS] {
    let mut h = [0.0f32; LP_TAPS];
    let mid = (LP_TAPS / 2) as f32;
    let fc = LP_CUTOFF_HZ / super::telephone::RATE as f32;
    for (i, t) in h.iter_mut().enumerate() {
        let x = i as f32 - mid;
        let sinc = if x == 0.0 { 2.0 * fc } else { (2.0 * std::f32::consts::PI * fc * x).sin() / (std::f32::consts::PI * x) };
        let w = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * (i as f32 + 1.0) / (LP_TAPS as f32 + 1.0)).cos();
        *t = sinc * w;
    }
    let sum: f32 = h.iter().sum();
    h.iter_mut().for_each(|t| *t /= sum);
    h
}

/// DC/hum blocker followed by the anti-alias low-pass, kept per stream so
/// both streams are shaped identically (the correlation compares like with
/// like).
#[derive(Clone, Copy)]
struct Conditioner {
    x1: f32,
    y1: f32,
    /// Last `LP_TAPS - 1` blocker outputs, newest last.
    tail: [f32; LP_TAPS - 1],
}

impl Default for Conditioner {
    fn default() -> Self {
        Conditioner { x1: 0.0, y1: 0.0, tail: [0.0; LP_TAPS - 1] }
    }
}

impl Conditioner {
    /// Conditions one frame into `full` (160 samples) and `dec` (40 samples,
    /// every 4th low-passed sample).
    fn run(&mut self, taps: &[f32; LP_TAPS], frame: &Frame, full: &mut [f32], dec: &mut [f32]) {
        // Blocker output for the tail plus this frame, contiguous.
        let mut y = [0.0f32; LP_TAPS - 1 + FRAME_SAMPLES];
        y[..LP_TAPS - 1].copy_from_slice(&self.tail);
        for (out, &s) in y[LP_TAPS - 1..].iter_mut().zip(frame.iter()) {
            let x = f32::from(s);
            let mut v = x - self.x1 + HPF_POLE * self.y1;
            if v.abs() < 1e-12 {
                v = 0.0; // keep the recursion out of denormals after silence
            }
            self.x1 = x;
            self.y1 = v;
            *out = v;
        }
        self.tail.copy_from_slice(&y[FRAME_SAMPLES..]);
        for (out, win) in full.iter_mut().zip(y.windows(LP_TAPS)) {
            *out = dot(win, taps);
        }
        for (d, block) in dec.iter_mut().zip(full.chunks_exact(DECIM)) {
            *d = block[DECIM - 1];
        }
    }
}

/// Decides, frame by frame, whether what the caller's line sends is only the
/// echo of the prompt we are playing, so that the echo does not trigger
/// barge-in. See the module documentation for the method.
pub struct EchoGuard {
    /// Largest lag searched, full-rate samples (a multiple of [`DECIM`]).
    max_lag: usize,
    /// Largest lag searched, decimated samples.
    max_lag_dec: usize,
    /// Conditioned played history, full rate, oldest first, newest last.
    played_full: Vec<f32>,
    /// Conditioned played history, decimated, oldest first.
    played_dec: Vec<f32>,
    /// Prefix sums of `played_dec` squared (f64: differences of large sums).
    played_prefix: Vec<f64>,
    /// Conditioned heard window, full rate, newest frame last.
    heard_full: [f32; WIN],
    /// Conditioned heard window, decimated.
    heard_dec: [f32; WIN_DEC],
    /// Smoothed |correlation| per decimated lag (the tracked echo path).
    score: Vec<f32>,
    played_cond: Conditioner,
    heard_cond: Conditioner,
    /// Anti-alias low-pass taps.
    taps: [f32; LP_TAPS],
    /// Full-rate lag of the last frame judged echo: a stable echo path is
    /// re-checked there even when the coarse peak wanders to a pitch-period
    /// neighbour.
    last_lag: Option<usize>,
    /// Learnt echo return loss as an energy ratio heard/played, once known.
    erl: Option<f32>,
}

impl EchoGuard {
    /// Creates a guard that recognises echoes delayed by `0..=max_delay_ms`
    /// (typically 400). Values above 2000 ms are clamped so that memory and
    /// per-frame cost stay bounded. All buffers are allocated here.
    pub fn new(max_delay_ms: u32) -> EchoGuard {
        let ms = max_delay_ms.min(MAX_DELAY_CAP_MS) as usize;
        let max_lag_dec = ms * 8 / DECIM; // 8 samples per ms at 8 kHz
        let max_lag = max_lag_dec * DECIM;
        let dec_len = max_lag_dec + WIN_DEC;
        EchoGuard {
            max_lag,
            max_lag_dec,
            played_full: vec![0.0; max_lag + WIN],
            played_dec: vec![0.0; dec_len],
            played_prefix: vec![0.0; dec_len + 1],
            heard_full: [0.0; WIN],
            heard_dec: [0.0; WIN_DEC],
            score: vec![0.0; max_lag_dec + 1],
            played_cond: Conditioner::default(),
            heard_cond: Conditioner::default(),
            taps: lowpass_taps(),
            last_lag: None,
            erl: None,
        }
    }

    /// Records a frame we sent to the caller (silence included, in order, one
    /// per 20 ms): the history an echo is compared against. Call it before
    /// `is_echo` for the same tick.
    pub fn played(&mut self, frame: &Frame) {
        shift_in(&mut self.played_full, FRAME_SAMPLES);
        shift_in(&mut self.played_dec, DEC_FRAME);
        let full_start = self.played_full.len() - FRAME_SAMPLES;
        let dec_start = self.played_dec.len() - DEC_FRAME;
        self.played_cond.run(&self.taps, frame, &mut self.played_full[full_start..], &mut self.played_dec[dec_start..]);
    }

    /// Returns true when the received frame is explained by what we played
    /// recently (correlated at some delay, and not louder than an echo could
    /// be), so the caller is *not* speaking over the prompt. Silent frames
    /// return false. Call once per received frame, after `played` for the
    /// same tick.
    pub fn is_echo(&mut self, heard: &Frame) -> bool {
        shift_in(&mut self.heard_full, FRAME_SAMPLES);
        shift_in(&mut self.heard_dec, DEC_FRAME);
        self.heard_cond.run(&self.taps, heard, &mut self.heard_full[WIN - FRAME_SAMPLES..], &mut self.heard_dec[WIN_DEC - DEC_FRAME..]);

        let heard_frame = &self.heard_full[WIN - FRAME_SAMPLES..];
        let e_heard_frame = dot(heard_frame, heard_frame);
        if e_heard_frame < SILENCE_RMS * SILENCE_RMS * FRAME_SAMPLES as f32 {
            return false;
        }

        // Prefix energies of the decimated played history.
        let mut acc = 0.0f64;
        self.played_prefix[0] = 0.0;
        for (p, &x) in self.played_prefix[1..].iter_mut().zip(&self.played_dec) {
            acc += f64::from(x) * f64::from(x);
            *p = acc;
        }
        let e_heard_win = f64::from(dot(&self.heard_dec, &self.heard_dec));
        // Played windows far quieter than the heard one cannot explain it
        // (an echo path attenuates); treating them as zero also avoids
        // dividing by ~0.
        let min_played = e_heard_win * 1e-3;
        if acc <= min_played || e_heard_win <= 0.0 {
            self.decay_scores();
            return false;
        }

        // 1-2. Coarse search over all lags; the tracked lag is the argmax of
        // the smoothed scores.
        let len = self.played_dec.len();
        let (mut best_track, mut best_track_s) = (0usize, -1.0f32);
        for d in 0..=self.max_lag_dec {
            let start = len - WIN_DEC - d;
            let ep = self.played_prefix[start + WIN_DEC] - self.played_prefix[start];
            let c = if ep <= min_played {
                0.0
            } else {
                let num = f64::from(dot(&self.heard_dec, &self.played_dec[start..start + WIN_DEC]));
                (num.abs() / (e_heard_win * ep).sqrt()).min(1.0) as f32
            };
            let s = &mut self.score[d];
            *s = LAG_SMOOTH * *s + (1.0 - LAG_SMOOTH) * c;
            if *s > best_track_s {
                best_track_s = *s;
                best_track = d;
            }
        }
        if best_track_s < TRACK_MIN {
            return false;
        }

        // 3-4. Refine the tracked lag and the last echo lag, keep the better
        // window correlation, and decide on the current frame.
        let mut best = self.refine(best_track * DECIM);
        if let Some(last) = self.last_lag {
            let alt = self.refine(last);
            if alt.1 > best.1 {
                best = alt;
            }
        }
        let echo = best.1 >= WINDOW_CORR && self.judge(best.0, e_heard_frame);
        self.last_lag = if echo { Some(best.0) } else { self.last_lag };
        echo
    }

    /// Forgets the played history, the tracked echo path and the learnt echo
    /// level: for a new call, or after the line changed (transfer, hold).
    pub fn reset(&mut self) {
        self.played_full.fill(0.0);
        self.played_dec.fill(0.0);
        self.played_prefix.fill(0.0);
        self.heard_full = [0.0; WIN];
        self.heard_dec = [0.0; WIN_DEC];
        self.score.fill(0.0);
        self.played_cond = Conditioner::default();
        self.heard_cond = Conditioner::default();
        self.last_lag = None;
        self.erl = None;
    }

    /// Lets the tracked path fade while there is nothing to compare.
    fn decay_scores(&mut self) {
        for s in &mut self.score {
            *s *= LAG_SMOOTH;
        }
    }

    /// Refines a full-rate lag to one sample within ±3 of `center` on the
    /// 60 ms window; returns the lag and its |correlation| (-1 if nothing
    /// was played there).
    fn refine(&self, center: usize) -> (usize, f32) {
        let plen = self.played_full.len();
        let lo = center.saturating_sub(FINE_RADIUS);
        let hi = (center + FINE_RADIUS).min(self.max_lag);
        let (mut best_lag, mut best_c) = (center.min(self.max_lag), -1.0f32);
        let e_win = dot(&self.heard_full, &self.heard_full);
        for lag in lo..=hi {
            let seg = &self.played_full[plen - WIN - lag..plen - lag];
            let ep = dot(seg, seg);
            if ep <= e_win * 1e-3 {
                continue;
            }
            let c = (dot(&self.heard_full, seg).abs() / (e_win * ep).sqrt()).min(1.0);
            if c > best_c {
                best_c = c;
                best_lag = lag;
            }
        }
        (best_lag, best_c)
    }

    /// Applies the per-frame decision at full-rate lag `lag` (correlation,
    /// level, learnt ERL); learns the ERL on confident frames.
    fn judge(&mut self, lag: usize, e_heard_frame: f32) -> bool {
        let plen = self.played_full.len();
        let best_lag = lag.min(self.max_lag);
        let heard_frame = &self.heard_full[WIN - FRAME_SAMPLES..];
        let played_frame = &self.played_full[plen - FRAME_SAMPLES - best_lag..plen - best_lag];
        let e_played = dot(played_frame, played_frame);
        if e_played <= 0.0 || e_heard_frame > LEVEL_MARGIN * e_played {
            return false;
        }
        let rho = dot(heard_frame, played_frame).abs() / (e_heard_frame * e_played).sqrt();
        if rho < CORR_THRESHOLD {
            return false;
        }
        let ratio = e_heard_frame / e_played;
        let consistent = match self.erl {
            Some(erl) => ratio <= ERL_MARGIN_UP * erl && ratio * ERL_MARGIN_DOWN >= erl,
            None => true,
        };
        if rho >= CONFIDENT_CORR {
            self.erl = Some(match self.erl {
                Some(erl) => ERL_SMOOTH * erl + (1.0 - ERL_SMOOTH) * ratio,
                None => ratio,
            });
        }
        consistent
    }
}

/// Shifts `buf` left by `n`, making room for `n` new samples at the end
/// (buffers are short, so a memmove beats ring-index arithmetic in every dot
/// product).
fn shift_in(buf: &mut [f32], n: usize) {
    if n < buf.len() {
        buf.copy_within(n.., 0);
    }
}

/// Dot product with 8 independent accumulators so the compiler vectorises it
/// (a single accumulator forces a serial chain of float adds).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for ((s, &p), &q) in acc.iter_mut().zip(x).zip(y) {
            *s += p * q;
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (&p, &q) in ra.iter().zip(rb) {
        sum += p * q;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RATE: f32 = 8000.0;

    /// Small deterministic generator, so the tests need no extra crates.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn uniform(&mut self) -> f32 {
            (self.next() >> 40) as f32 / (1u64 << 24) as f32
        }
        fn range(&mut self, lo: f32, hi: f32) -> f32 {
            lo + (hi - lo) * self.uniform()
        }
        fn gauss(&mut self) -> f32 {
            // Irwin-Hall approximation: unit variance, zero mean.
            (0..12).map(|_| self.uniform()).sum::<f32>() - 6.0
        }
    }

    /// Speech-like signal: syllables (120-320 ms, Hann envelope, i.e. a
    /// ~4 Hz syllable rate) separated by 40-160 ms gaps; each syllable is a
    /// harmonic series with a gliding pitch in `f0` and two random formants,
    /// plus a little breath noise. The gliding pitch keeps it from being
    /// periodic, as real speech is not. Scaled to `rms` over its length.
    fn speech(seed: u64, samples: usize, f0: (f32, f32), rms: f32) -> Vec<f32> {
        let mut rng = Rng(seed);
        let mut out = vec![0.0f32; samples];
        let mut t = 0usize;
        while t < samples {
            t += (rng.range(0.040, 0.160) * RATE) as usize;
            let len = (rng.range(0.120, 0.320) * RATE) as usize;
            let f_start = rng.range(f0.0, f0.1);
            let f_end = f_start * rng.range(0.8, 1.25);
            let f1 = rng.range(300.0, 900.0);
            let f2 = rng.range(900.0, 2300.0);
            let mut phases = [0.0f32; 40];
            for i in 0..len {
                if t + i >= samples {
                    break;
                }
                let x = i as f32 / len as f32;
                let f = f_start + (f_end - f_start) * x;
                let env = (std::f32::consts::PI * x).sin().powi(2);
                let mut s = 0.0;
                for (k, ph) in phases.iter_mut().enumerate() {
                    let fk = f * (k + 1) as f32;
                    if fk > 3400.0 {
                        break;
                    }
                    *ph += 2.0 * std::f32::consts::PI * fk / RATE;
                    let a = (-((fk - f1) / 150.0).powi(2)).exp() + 0.5 * (-((fk - f2) / 250.0).powi(2)).exp() + 0.05;
                    s += a * ph.sin();
                }
                out[t + i] = env * (s + 0.05 * rng.gauss());
            }
            t += len;
        }
        let cur = (out.iter().map(|x| x * x).sum::<f32>() / samples as f32).sqrt();
        let g = if cur > 0.0 { rms / cur } else { 0.0 };
        out.iter_mut().for_each(|x| *x *= g);
        out
    }

    /// Echo path: delay in samples, loss in dB and a short FIR colouring
    /// (hybrids and speakerphones do not return a flat copy).
    fn echo_of(src: &[f32], delay: usize, loss_db: f32) -> Vec<f32> {
        let g = 10f32.powf(-loss_db / 20.0);
        let h = [0.8f32, 0.35, -0.15];
        (0..src.len())
            .map(|n| h.iter().enumerate().filter(|(k, _)| n >= delay + k).map(|(k, c)| c * src[n - delay - k]).sum::<f32>() * g)
            .collect()
    }

    fn frame_of(sig: &[f32], k: usize) -> Frame {
        let mut f = [0i16; FRAME_SAMPLES];
        for (o, &x) in f.iter_mut().zip(&sig[k * FRAME_SAMPLES..(k + 1) * FRAME_SAMPLES]) {
            *o = x.round().clamp(-32768.0, 32767.0) as i16;
        }
        f
    }

    fn frame_rms(sig: &[f32], k: usize) -> f32 {
        let s = &sig[k * FRAME_SAMPLES..(k + 1) * FRAME_SAMPLES];
        (s.iter().map(|x| x * x).sum::<f32>() / FRAME_SAMPLES as f32).sqrt()
    }

    fn noise(seed: u64, samples: usize, rms: f32) -> Vec<f32> {
        let mut rng = Rng(seed);
        (0..samples).map(|_| rms * rng.gauss()).collect()
    }

    fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
        a.iter().zip(b).map(|(x, y)| x + y).collect()
    }

    /// Runs the guard over whole signals; returns one decision per frame.
    fn run(guard: &mut EchoGuard, played: &[f32], heard: &[f32]) -> Vec<bool> {
        (0..played.len() / FRAME_SAMPLES)
            .map(|k| {
                guard.played(&frame_of(played, k));
                guard.is_echo(&frame_of(heard, k))
            })
            .collect()
    }

    const SECONDS: usize = 6;
    const N: usize = SECONDS * 8000;
    const PROMPT_RMS: f32 = 3000.0;
    const NOISE_RMS: f32 = 15.0;

    fn prompt() -> Vec<f32> {
        speech(0x1234_5678, N, (110.0, 160.0), PROMPT_RMS)
    }

    /// Caller speech: another voice (higher pitch, other syllables).
    fn caller(seed: u64, rms: f32) -> Vec<f32> {
        speech(seed, N, (180.0, 260.0), rms)
    }

    /// Caller voices used by the negative tests (several, so a pass is not
    /// the luck of one signal).
    const CALLER_SEEDS: [u64; 4] = [0x0bad_cafe_f00d, 0x5eed_0001, 0x5eed_0002, 0x5eed_0003];

    /// (a) echo at 0-380 ms (and an off-grid delay), 6-20 dB loss, is flagged
    /// in >= 90 % of the frames where it is audible, after 200 ms.
    #[test]
    fn echo_is_flagged() {
        let p = prompt();
        let n = noise(7, N, NOISE_RMS);
        let delays = [0usize, 60 * 8, 240 * 8, 380 * 8, 1003];
        for &delay in &delays {
            for loss in [6.0f32, 12.0, 20.0] {
                let e = echo_of(&p, delay, loss);
                let heard = add(&e, &n);
                let mut g = EchoGuard::new(400);
                let flags = run(&mut g, &p, &heard);
                let first = (delay + 200 * 8).div_ceil(FRAME_SAMPLES);
                let (mut total, mut hit) = (0, 0);
                for (k, &f) in flags.iter().enumerate().skip(first) {
                    if frame_rms(&e, k) >= NOISE_RMS * 3.16 {
                        total += 1;
                        hit += usize::from(f);
                    }
                }
                let rate = hit as f32 / total as f32;
                println!("delay {delay} samples, loss {loss} dB: {hit}/{total} = {rate:.3}");
                assert!(total > 100, "test signal has too few echo frames");
                assert!(rate >= 0.9, "delay {delay} loss {loss}: only {rate:.3} flagged");
            }
        }
    }

    /// (b) the caller talking while we play silence is never echo.
    #[test]
    fn caller_alone_is_not_echo() {
        for seed in CALLER_SEEDS {
            let c = add(&caller(seed, 1500.0), &noise(9, N, NOISE_RMS));
            let silence = vec![0.0f32; N];
            let mut g = EchoGuard::new(400);
            let flags = run(&mut g, &silence, &c);
            let frames = flags.len();
            let hit = flags.iter().filter(|&&f| f).count();
            assert!((hit as f32) < 0.05 * frames as f32, "{hit}/{frames} flagged");
        }
    }

    /// (b') the caller talking while a prompt plays on an echo-free line:
    /// unrelated speech must not pass for echo (the correlation test alone
    /// has to reject it here, the level test cannot).
    #[test]
    fn caller_over_unrelated_prompt_is_not_echo() {
        let p = prompt();
        for seed in CALLER_SEEDS {
            let c = add(&caller(seed, 300.0), &noise(9, N, NOISE_RMS));
            let mut g = EchoGuard::new(400);
            let flags = run(&mut g, &p, &c);
            let (mut total, mut hit) = (0, 0);
            for (k, &f) in flags.iter().enumerate() {
                if frame_rms(&c, k) >= NOISE_RMS * 3.16 {
                    total += 1;
                    hit += usize::from(f);
                }
            }
            println!("unrelated, caller {seed:x}: {hit}/{total}");
            assert!((hit as f32) < 0.05 * total as f32, "{hit}/{total} flagged");
        }
    }

    /// (c) double talk: the caller 6 dB above the echo must mostly not be
    /// taken for echo, so the caller can interrupt.
    #[test]
    fn double_talk_is_not_echo() {
        let p = prompt();
        let cases = [(60 * 8usize, 12.0f32), (240 * 8, 6.0), (380 * 8, 20.0), (1003, 9.0)];
        for ((delay, loss), seed) in cases.into_iter().zip(CALLER_SEEDS) {
            let e = echo_of(&p, delay, loss);
            let erms = (e.iter().map(|x| x * x).sum::<f32>() / N as f32).sqrt();
            let c = caller(seed, erms * 2.0); // +6 dB
            let heard = add(&add(&e, &c), &noise(3, N, NOISE_RMS));
            let mut g = EchoGuard::new(400);
            let flags = run(&mut g, &p, &heard);
            // Frames where the caller is actually talking over the echo.
            let (mut total, mut hit) = (0, 0);
            for (k, &f) in flags.iter().enumerate() {
                let (cr, er) = (frame_rms(&c, k), frame_rms(&e, k));
                if cr >= er && cr >= NOISE_RMS * 3.16 && er >= NOISE_RMS * 3.16 {
                    total += 1;
                    hit += usize::from(f);
                }
            }
            let rate = hit as f32 / total as f32;
            println!("double talk delay {delay} loss {loss}: {hit}/{total} = {rate:.3}");
            assert!(total > 30);
            assert!(rate < 0.2, "double talk flagged {rate:.3}");
        }
    }

    /// (d) an echo delayed beyond `max_delay` is not explained by our history.
    /// (Just past the limit, e.g. 440 ms for 400, ~7 % of frames still match:
    /// voiced speech is quasi-periodic, so the echo matches the prompt one or
    /// more pitch periods earlier, inside the range.)
    #[test]
    fn echo_beyond_max_delay_is_not_flagged() {
        let p = prompt();
        let n = noise(11, N, NOISE_RMS);
        for delay_ms in [520usize, 800] {
            let e = echo_of(&p, delay_ms * 8, 6.0);
            let heard = add(&e, &n);
            let mut g = EchoGuard::new(400);
            let flags = run(&mut g, &p, &heard);
            let (mut total, mut hit) = (0, 0);
            for (k, &f) in flags.iter().enumerate() {
                if frame_rms(&e, k) >= NOISE_RMS * 3.16 {
                    total += 1;
                    hit += usize::from(f);
                }
            }
            println!("beyond max {delay_ms} ms: {hit}/{total}");
            assert!((hit as f32) < 0.05 * total as f32, "{hit}/{total} flagged");
        }
    }

    /// The echo path is a property of the call: after `reset` the old prompt
    /// history no longer explains anything.
    #[test]
    fn reset_forgets_history() {
        let p = prompt();
        let e = echo_of(&p, 240 * 8, 6.0);
        let mut g = EchoGuard::new(400);
        let frames = N / FRAME_SAMPLES;
        let mut flagged_before = 0;
        for k in 0..frames / 2 {
            g.played(&frame_of(&p, k));
            flagged_before += usize::from(g.is_echo(&frame_of(&e, k)));
        }
        assert!(flagged_before > 20);
        g.reset();
        let silence = [0i16; FRAME_SAMPLES];
        for k in frames / 2..frames / 2 + 10 {
            g.played(&silence);
            assert!(!g.is_echo(&frame_of(&e, k)), "frame {k} flagged after reset");
        }
    }

    /// Digital silence and a DC offset are never echo.
    #[test]
    fn silence_is_not_echo() {
        let p = prompt();
        let mut g = EchoGuard::new(400);
        for k in 0..50 {
            g.played(&frame_of(&p, k));
            assert!(!g.is_echo(&[0; FRAME_SAMPLES]));
            assert!(!g.is_echo(&[500; FRAME_SAMPLES]));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// (e) arbitrary frames, delays and call orders never panic.
        #[test]
        fn random_frames_never_panic(
            max_delay in prop_oneof![0u32..500, Just(u32::MAX)],
            steps in proptest::collection::vec(
                (any::<bool>(), proptest::collection::vec(any::<i16>(), FRAME_SAMPLES)),
                1..60,
            ),
        ) {
            let mut g = EchoGuard::new(max_delay);
            for (i, (is_played, samples)) in steps.iter().enumerate() {
                let mut f = [0i16; FRAME_SAMPLES];
                f.copy_from_slice(samples);
                if i % 17 == 16 {
                    g.reset();
                }
                if *is_played {
                    g.played(&f);
                } else {
                    let _ = g.is_echo(&f);
                }
            }
            // Same frame both ways: extreme levels, full-scale echo.
            let f = [i16::MIN; FRAME_SAMPLES];
            g.played(&f);
            let _ = g.is_echo(&f);
        }
    }
}
