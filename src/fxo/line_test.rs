//! `frontdesk line test NAME`: an installer's check of a wired analog line. Goes off hook,
//! listens for a second (the noise floor, and whether the exchange gives dial tone), plays a
//! 1004 Hz test tone for two seconds while recording (how loud our own voice comes back: the
//! line's echo return loss), and goes on hook, whatever happened in between. What the line
//! control senses (ringing, loop current, polarity) is read on hook and off hook, so the
//! detectors' wiring can be checked too.

use std::fmt::Write as _;

use super::control::{Ring, Sense};
use super::line::{FxoConfig, Hardware};
use super::progress::{Heard, ProgressDetector};
use crate::audio::tones::{power_dbm0, push_tone};
use crate::line::{FRAME_SAMPLES, Frame};

/// The test tone: 1004 Hz (the telephone test frequency) at -10 dBm0.
const TONE_HZ: f32 = 1004.0;
const TONE_DBM0: f32 = -10.0;
const LISTEN_FRAMES: usize = 50;
const TONE_FRAMES: usize = 100;

/// What the line test measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LineTest {
    pub rate: u32,
    /// Level of the quiet second, dBm0.
    pub floor_dbm0: f32,
    /// Frames of that second that were the zone's dial tone.
    pub dial_tone_pct: u32,
    /// Level heard while the tone played, dBm0.
    pub tone_back_dbm0: f32,
    pub xruns: u64,
    /// What the line control sensed on hook, then off hook.
    pub sensed: [Sense; 2],
}

/// A sense reading in words: "ringing no, loop current yes, polarity normal".
fn describe(sense: &Sense, loop_name: &str) -> String {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let ring = match sense.ring {
        Ring::Unknown => "not sensed".to_string(),
        Ring::Bit(on) => yes_no(on).to_string(),
        Ring::Pulses(n) => yes_no(n > 0).to_string(),
    };
    let loop_current = sense.loop_current.map_or("not sensed", yes_no);
    let polarity = sense.polarity.map_or("not sensed", |normal| if normal { "normal" } else { "reversed" });
    format!("ringing {ring}, {loop_name} {loop_current}, polarity {polarity}")
}

impl std::fmt::Display for LineTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        let _ = writeln!(s, "device rate: {} Hz", self.rate);
        let _ = writeln!(
            s,
            "off hook, quiet: {:.1} dBm0{}",
            self.floor_dbm0,
            if self.dial_tone_pct >= 80 {
                " (dial tone: the line is connected)".to_string()
            } else if self.floor_dbm0 < -70.0 {
                " (nothing: is the line plugged in, and the hook really closed?)".to_string()
            } else {
                format!(" (dial tone in {} % of it)", self.dial_tone_pct)
            }
        );
        let loss = TONE_DBM0 - self.tone_back_dbm0;
        let _ = writeln!(
            s,
            "test tone {TONE_HZ} Hz at {TONE_DBM0} dBm0 came back at {:.1} dBm0: echo return loss {loss:.1} dB{}",
            self.tone_back_dbm0,
            if loss < 6.0 { " (low: check the hybrid balance or the codec's gains)" } else { "" }
        );
        let _ = writeln!(s, "sensed on hook: {}", describe(&self.sensed[0], "battery"));
        let _ = writeln!(s, "sensed off hook: {}", describe(&self.sensed[1], "loop current"));
        let _ = write!(s, "audio xruns: {}", self.xruns);
        f.write_str(&s)
    }
}

/// Runs the test on `cfg`'s line; the error names what could not be opened and the fix.
pub fn run(cfg: &FxoConfig) -> anyhow::Result<LineTest> {
    let mut hw = Hardware::open(cfg)?;
    let on_hook = hw.control.sense(0)?;
    hw.control.set_off_hook(true)?;
    let measured = measure(&mut hw, cfg).and_then(|mut test| {
        test.sensed = [on_hook, hw.control.sense((LISTEN_FRAMES + TONE_FRAMES) as u64 * 20)?];
        Ok(test)
    });
    let hung_up = hw.control.set_off_hook(false);
    let test = measured?;
    hung_up?;
    Ok(test)
}

fn measure(hw: &mut Hardware, cfg: &FxoConfig) -> anyhow::Result<LineTest> {
    let mut progress = ProgressDetector::new(cfg.tones);
    let mut heard: Frame = [0; FRAME_SAMPLES];
    let (mut quiet_power, mut dial) = (0f64, 0u32);
    for _ in 0..LISTEN_FRAMES {
        hw.port.read_frame(&mut heard)?;
        hw.port.write_frame(&[0; FRAME_SAMPLES])?;
        quiet_power += mean_square(&heard);
        progress.push(&heard);
        dial += (progress.heard() == Heard::Tone) as u32;
    }
    let mut tone = Vec::new();
    push_tone(&mut tone, &[TONE_HZ], TONE_DBM0, (TONE_FRAMES * 20) as u32, 8000);
    let mut back_power = 0f64;
    // The first 100 ms let the echo path fill.
    for (i, chunk) in tone.chunks_exact(FRAME_SAMPLES).enumerate() {
        hw.port.read_frame(&mut heard)?;
        let mut out: Frame = [0; FRAME_SAMPLES];
        out.copy_from_slice(chunk);
        hw.port.write_frame(&out)?;
        if i >= 5 {
            back_power += mean_square(&heard);
        }
    }
    Ok(LineTest {
        rate: hw.port.rate(),
        floor_dbm0: power_dbm0((quiet_power / LISTEN_FRAMES as f64) as f32),
        dial_tone_pct: dial * 100 / LISTEN_FRAMES as u32,
        tone_back_dbm0: power_dbm0((back_power / (TONE_FRAMES - 5) as f64) as f32),
        xruns: hw.port.xruns(),
        sensed: Default::default(),
    })
}

fn mean_square(frame: &Frame) -> f64 {
    frame.iter().map(|&s| s as f64 * s as f64).sum::<f64>() / FRAME_SAMPLES as f64
}
