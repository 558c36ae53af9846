//! Ringing voltage heard in the on-hook audio: how a line whose interface reports no rings (an
//! ALSA modem codec, which has only `Off-hook` and `Caller ID` switches) still knows it rings.
//!
//! With the codec's on-hook ("caller ID") path open, the exchange's ringing signal (tens of
//! volts at 16⅔ to 50 Hz, by country) reaches the ADC far above speech
//! level, often clipped. Nothing a caller, a tone or caller ID puts on a line looks like it: the
//! telephone band starts at 300 Hz. slmodemd's software ring detector (`--ringdetector`, its
//! ALSA mode) listens to the same samples for the same reason.
//!
//! A frame is "ringing" when, over the last [`WINDOW_FRAMES`] frames (200 ms):
//! - the signal below about 100 Hz is at least [`MIN_DBM0`] (a loud hum is still far below it),
//! - it holds at least half the power (speech, tones and noise hold almost none, and a wave
//!   above about 80 Hz keeps less than half of itself in the low band), and
//! - it crosses zero (with hysteresis) at least as often as a 12 Hz wave does (not a click,
//!   not the swing of a hook switch or of the window's own tail after a burst).
//!
//! The burst's cadence is the ring counter's job (`fxo::ring`), as with any ringing bit.
//! Pure, sample-clocked, no allocation: the line thread calls [`RingVoltage::push`] once per
//! 20 ms frame while the line is on hook.

use super::telephone::{FRAME_SAMPLES, RATE};
use super::tones::power_dbm0;

/// Frames the decision looks back over.
pub const WINDOW_FRAMES: usize = 10;
/// The least low-band level that can be ringing voltage.
pub const MIN_DBM0: f32 = -20.0;
/// The lowest ringing frequency accepted, Hz (16⅔ to 50 Hz are in use).
const MIN_HZ: f32 = 12.0;
/// The low band's edge, Hz: two second-order Butterworth sections in cascade (6 dB down here,
/// 24 dB per octave above).
const LOW_BAND_HZ: f32 = 100.0;
/// Zero crossings count only beyond this magnitude, so noise around zero adds none.
const HYSTERESIS: f32 = 1500.0;

/// One second-order section (direct form I).
#[derive(Clone, Copy, Debug, Default)]
struct Biquad {
    b: [f32; 3],
    a: [f32; 2],
    x: [f32; 2],
    y: [f32; 2],
}

impl Biquad {
    /// A Butterworth low-pass at `hz` (the RBJ cookbook's form, Q = 1/√2).
    fn lowpass(hz: f32, rate: f32) -> Biquad {
        let w = 2.0 * std::f32::consts::PI * hz / rate;
        let alpha = w.sin() / (2.0 * std::f32::consts::FRAC_1_SQRT_2);
        let cos = w.cos();
        let a0 = 1.0 + alpha;
        let b1 = (1.0 - cos) / a0;
        Biquad { b: [b1 / 2.0, b1, b1 / 2.0], a: [-2.0 * cos / a0, (1.0 - alpha) / a0], ..Default::default() }
    }

    fn push(&mut self, x: f32) -> f32 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1] - self.a[0] * self.y[0] - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

/// What one frame contributed.
#[derive(Clone, Copy, Debug, Default)]
struct FrameSums {
    low: f32,
    total: f32,
    crossings: u32,
}

/// The detector of one line (see the module documentation).
#[derive(Clone, Debug)]
pub struct RingVoltage {
    dc_x: f32,
    dc_y: f32,
    low: [Biquad; 2],
    /// The low band's side of zero: +1, -1, or 0 before it first left the hysteresis band.
    side: i8,
    frames: [FrameSums; WINDOW_FRAMES],
    next: usize,
}

impl Default for RingVoltage {
    fn default() -> Self {
        RingVoltage::new()
    }
}

impl RingVoltage {
    pub fn new() -> RingVoltage {
        let section = Biquad::lowpass(LOW_BAND_HZ, RATE as f32);
        RingVoltage { dc_x: 0.0, dc_y: 0.0, low: [section; 2], side: 0, frames: [FrameSums::default(); WINDOW_FRAMES], next: 0 }
    }

    /// Takes one frame of on-hook audio; true while ringing voltage is on the line.
    pub fn push(&mut self, frame: &[i16; FRAME_SAMPLES]) -> bool {
        // A codec's DC offset is removed first (one pole at about 5 Hz).
        const DC_POLE: f32 = 1.0 - 2.0 * std::f32::consts::PI * 5.0 / RATE as f32;
        let mut sums = FrameSums::default();
        for &s in frame {
            let x = s as f32;
            let y = x - self.dc_x + DC_POLE * self.dc_y;
            self.dc_x = x;
            self.dc_y = y;
            let first = self.low[0].push(y);
            let l = self.low[1].push(first);
            sums.total += y * y;
            sums.low += l * l;
            let side = if l > HYSTERESIS {
                1
            } else if l < -HYSTERESIS {
                -1
            } else {
                self.side
            };
            if side != self.side && self.side != 0 {
                sums.crossings += 1;
            }
            self.side = side;
        }
        self.frames[self.next] = sums;
        self.next = (self.next + 1) % WINDOW_FRAMES;
        self.ringing()
    }

    fn ringing(&self) -> bool {
        let (low, total, crossings) = self.frames.iter().fold((0f32, 0f32, 0u32), |(l, t, c), f| (l + f.low, t + f.total, c + f.crossings));
        let samples = (WINDOW_FRAMES * FRAME_SAMPLES) as f32;
        let seconds = samples / RATE as f32;
        let hz = crossings as f32 / (2.0 * seconds);
        power_dbm0(low / samples) >= MIN_DBM0 && low >= 0.5 * total && hz >= MIN_HZ
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::tones::{dbm0_power, push_tone};

    fn frames(samples: &[i16]) -> impl Iterator<Item = [i16; FRAME_SAMPLES]> + '_ {
        samples.chunks_exact(FRAME_SAMPLES).map(|c| c.try_into().unwrap())
    }

    /// Frames of `samples` that the detector calls ringing.
    fn ringing_frames(samples: &[i16]) -> usize {
        let mut d = RingVoltage::new();
        frames(samples).filter(|f| d.push(f)).count()
    }

    /// Ringing voltage at `hz` as the codec would give it: `peak` (of full scale), clipped at
    /// full scale when it is more, plus a DC offset.
    fn ring(hz: f32, peak: f32, ms: u32) -> Vec<i16> {
        let n = (RATE * ms / 1000) as usize;
        (0..n)
            .map(|i| {
                let v = peak * 32767.0 * (2.0 * std::f32::consts::PI * hz * i as f32 / RATE as f32).sin() + 300.0;
                v.clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }

    #[test]
    fn ringing_at_every_zone_frequency_is_heard_clipped_or_not() {
        for hz in [16.67, 20.0, 25.0, 50.0] {
            for peak in [0.3, 1.0, 4.0] {
                let audio = ring(hz, peak, 2000);
                let n = ringing_frames(&audio);
                // All but the frames the window takes to fill.
                assert!(n >= 100 - WINDOW_FRAMES, "{hz} Hz at {peak} of full scale: {n} of 100 frames");
            }
        }
    }

    #[test]
    fn a_burst_is_heard_from_its_start_to_its_end_within_the_window() {
        let mut audio = vec![0i16; 8000];
        audio.extend(ring(20.0, 2.0, 2000));
        audio.extend(vec![0i16; 8000]);
        let mut d = RingVoltage::new();
        let on: Vec<bool> = frames(&audio).map(|f| d.push(&f)).collect();
        let first = on.iter().position(|&r| r).unwrap();
        let last = on.iter().rposition(|&r| r).unwrap();
        assert!((50..50 + WINDOW_FRAMES).contains(&first), "heard from frame {first}");
        assert!((150..150 + WINDOW_FRAMES).contains(&last), "heard until frame {last}");
        assert!(on[first..=last].iter().all(|&r| r), "the burst was heard with gaps");
    }

    #[test]
    fn what_a_line_carries_besides_ringing_is_not_ringing() {
        let mut cases: Vec<(&str, Vec<i16>)> = Vec::new();
        let mut tone = |name, freqs: &[f32], dbm0| {
            let mut v = Vec::new();
            push_tone(&mut v, freqs, dbm0, 3000, RATE);
            cases.push((name, v));
        };
        tone("dial tone", &[350.0, 440.0], -5.0);
        tone("a DTMF key, loud", &[697.0, 1209.0], 0.0);
        tone("caller ID's mark tone", &[1200.0], -5.0);
        tone("a 1004 Hz test tone at full level", &[1004.0], 3.0);
        tone("60 Hz hum, very loud", &[60.0], -30.0);
        tone("50 Hz hum, very loud", &[50.0], -30.0);
        // Low, loud and alone, but too fast for ringing: they keep less than half their power
        // in the low band.
        tone("a 120 Hz buzz at full level", &[120.0], 0.0);
        tone("a 95 Hz hum at full level", &[95.0], 0.0);
        // Noise: a full-band pseudo-random sequence; loud enough that its share below 100 Hz
        // is above the level rule, so that only the share rule tells.
        for dbm0 in [-10.0, 0.0, 3.0] {
            let mut seed = 1u32;
            let amplitude = (dbm0_power(dbm0) * 3.0).sqrt();
            let noise = (0..24_000)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    ((seed >> 16) as f32 / 65535.0 * 2.0 - 1.0) * amplitude
                })
                .map(|v| v.clamp(-32768.0, 32767.0) as i16)
                .collect();
            cases.push(("white noise", noise));
        }
        // Speech-like: bursts of a vowel's harmonics (150 Hz voice) at a talker's level.
        let mut voice = Vec::new();
        for _ in 0..6 {
            push_tone(&mut voice, &[150.0, 300.0, 450.0, 600.0, 750.0, 900.0], -12.0, 300, RATE);
            voice.extend(vec![0i16; 1600]);
        }
        cases.push(("a voiced talker", voice));
        cases.push(("silence", vec![0i16; 16_000]));
        for (name, audio) in &cases {
            assert_eq!(ringing_frames(audio), 0, "{name} was heard as ringing");
        }
    }
}
