//! The analog line's audio: one ALSA PCM, capture and playback, at whatever rate the device
//! offers, turned into the 8 kHz 20 ms frames every line carries.
//!
//! Blocking on purpose: the port is driven by the line's clock thread, which reads 20 ms of
//! capture (the device paces it) and writes 20 ms of playback per turn of its loop. Time is the
//! sample clock ([`AlsaPort::clock`]), never the wall clock, so a test that feeds the port from
//! a file (alsa-lib's `file` plugin, which is not paced) runs as fast as the machine goes.
//!
//! An overrun or underrun (the thread was late) is recovered at once (`snd_pcm_recover`),
//! counted and logged; it costs 20 ms of audio, never the call. A device that vanished (a USB
//! interface pulled out) is [`PortError::Gone`], which the line reports as a fault.

use std::time::Duration;

use alsa::pcm::{Access, Format, HwParams, PCM};
use alsa::{Direction, ValueOr};

use crate::audio::resample::FrameResampler;
use crate::line::{FRAME_SAMPLES, Frame, RATE};

/// Rates tried, in order, when the config does not pin one: the line's own first (no
/// resampling), then what USB and I2S codecs commonly offer.
pub const RATES: [u32; 4] = [8000, 16_000, 48_000, 44_100];

#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("ALSA device {device:?}: {reason}. {fix}")]
    Open { device: String, reason: String, fix: &'static str },
    #[error(
        "ALSA device {device:?} takes none of the rates {tried:?} Hz in 16-bit mono or stereo ({reason}); set fxo.rate to one it offers (`frontdesk line list` shows them)"
    )]
    Rates { device: String, tried: Vec<u32>, reason: String },
    #[error("ALSA device {device:?} is gone ({reason}): the interface was unplugged or its driver stopped")]
    Gone { device: String, reason: String },
    #[error("ALSA device {device:?}: {reason}")]
    Io { device: String, reason: String },
}

/// One analog line's audio device, open for capture and playback.
pub struct AlsaPort {
    device: String,
    capture: PCM,
    playback: PCM,
    rate: u32,
    channels: usize,
    /// Device frames in 20 ms.
    period: usize,
    down: FrameResampler,
    up: FrameResampler,
    /// Interleaved device samples, and mono f32 on either side of the resamplers.
    raw: Vec<i16>,
    wide: Vec<f32>,
    line: Vec<f32>,
    /// Capture frames read so far: the sample clock.
    captured: u64,
    xruns: u64,
}

impl std::fmt::Debug for AlsaPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlsaPort").field("device", &self.device).field("rate", &self.rate).field("channels", &self.channels).finish()
    }
}

/// Why an ALSA call failed, and what an installer does about it.
fn open_error(device: &str, e: alsa::Error) -> PortError {
    let fix = match e.errno() {
        2 => "No such device: list the devices with `frontdesk line list` (or `arecord -L`) and set fxo.device",
        16 => "It is in use by another program: stop it (`fuser -v /dev/snd/*` names it)",
        13 | 1 => "Permission denied: add the service user to the `audio` group",
        19 => "The device is not there: check that the interface is plugged in and its driver loaded (`aplay -l`)",
        _ => "Check fxo.device against `frontdesk line list`",
    };
    PortError::Open { device: device.to_string(), reason: e.to_string(), fix }
}

impl AlsaPort {
    /// Opens `device` (an ALSA PCM name: "plughw:CARD=Device,DEV=0", "default", a name from
    /// asoundrc) for capture and playback at `rate`, or at the first of [`RATES`] it takes.
    pub fn open(device: &str, rate: Option<u32>) -> Result<AlsaPort, PortError> {
        let capture = PCM::new(device, Direction::Capture, false).map_err(|e| open_error(device, e))?;
        let playback = PCM::new(device, Direction::Playback, false).map_err(|e| open_error(device, e))?;
        let tried: Vec<u32> = rate.map_or(RATES.to_vec(), |r| vec![r]);
        let mut last = String::new();
        for &r in &tried {
            for channels in [1u32, 2] {
                match (configure(&capture, r, channels), configure(&playback, r, channels)) {
                    (Ok(()), Ok(())) => return Self::with(device, capture, playback, r, channels as usize),
                    (Err(e), _) | (_, Err(e)) => last = e.to_string(),
                }
            }
        }
        Err(PortError::Rates { device: device.to_string(), tried, reason: last })
    }

    fn with(device: &str, capture: PCM, playback: PCM, rate: u32, channels: usize) -> Result<AlsaPort, PortError> {
        let io = |e: crate::audio::resample::ResampleError| PortError::Io { device: device.to_string(), reason: e.to_string() };
        let period = rate as usize / 50;
        let down = FrameResampler::new(rate, RATE, period).map_err(io)?;
        let up = FrameResampler::new(RATE, rate, FRAME_SAMPLES).map_err(io)?;
        tracing::info!(device, rate, channels, "analog line audio open");
        Ok(AlsaPort {
            device: device.to_string(),
            capture,
            playback,
            rate,
            channels,
            period,
            down,
            up,
            raw: vec![0; period * channels],
            wide: vec![0.0; period],
            line: vec![0.0; FRAME_SAMPLES],
            captured: 0,
            xruns: 0,
        })
    }

    /// The device's rate.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// True when capture is a file (alsa-lib's `file` plugin with an `infile`): it returns
    /// a recording as fast as it is read, so no clock paces the line.
    pub fn unpaced(&self) -> bool {
        let Ok(mut out) = alsa::Output::buffer_open() else { return false };
        self.capture.dump(&mut out).is_ok() && out.to_string().contains("File PCM")
    }

    /// Overruns and underruns recovered so far.
    pub fn xruns(&self) -> u64 {
        self.xruns
    }

    /// The line's time: capture read so far, by the device's sample clock.
    pub fn clock(&self) -> Duration {
        Duration::from_micros(self.captured * 1_000_000 / self.rate as u64)
    }

    /// Reads the next 20 ms of the line, blocking until the device has it. After an overrun
    /// the frame is silence (the audio was lost) and the port carries on.
    pub fn read_frame(&mut self, out: &mut Frame) -> Result<(), PortError> {
        let mut got = 0;
        while got < self.period {
            let read = match self.capture.io_i16() {
                Ok(io) => io.readi(&mut self.raw[got * self.channels..]),
                Err(e) => Err(e),
            };
            match read {
                Ok(n) => got += n,
                Err(e) => {
                    self.recover(Direction::Capture, e)?;
                    self.raw.fill(0);
                    got = self.period;
                }
            }
        }
        self.captured += self.period as u64;
        for (w, f) in self.wide.iter_mut().zip(self.raw.chunks_exact(self.channels)) {
            *w = f[0] as f32 / 32768.0;
        }
        self.down.process(&self.wide, &mut self.line);
        for (o, &x) in out.iter_mut().zip(&self.line) {
            *o = (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
        }
        Ok(())
    }

    /// Plays 20 ms to the line (blocking while the device's buffer is full).
    pub fn write_frame(&mut self, frame: &Frame) -> Result<(), PortError> {
        for (l, &s) in self.line.iter_mut().zip(frame.iter()) {
            *l = s as f32 / 32768.0;
        }
        self.up.process(&self.line, &mut self.wide);
        for (f, &x) in self.raw.chunks_exact_mut(self.channels).zip(&self.wide) {
            f.fill((x * 32768.0).round().clamp(-32768.0, 32767.0) as i16);
        }
        let mut put = 0;
        while put < self.period {
            let written = match self.playback.io_i16() {
                Ok(io) => io.writei(&self.raw[put * self.channels..]),
                Err(e) => Err(e),
            };
            match written {
                Ok(n) => put += n,
                Err(e) => {
                    self.recover(Direction::Playback, e)?;
                }
            }
        }
        Ok(())
    }

    /// Waits until everything written has been played (at the end of a call).
    pub fn drain(&mut self) -> Result<(), PortError> {
        self.playback.drain().map_err(|e| self.io_error(e))
    }

    fn recover(&mut self, dir: Direction, e: alsa::Error) -> Result<(), PortError> {
        let pcm = if dir == Direction::Capture { &self.capture } else { &self.playback };
        match e.errno() {
            // EPIPE (xrun), ESTRPIPE (suspended): recoverable.
            32 | 86 => {
                pcm.try_recover(e, true).map_err(|e| self.io_error(e))?;
                self.xruns += 1;
                tracing::warn!(device = %self.device, direction = ?dir, xruns = self.xruns, "analog line audio ran late (xrun): 20 ms lost, recovered");
                Ok(())
            }
            // ENODEV, EBADFD, EIO: the device went away.
            19 | 77 | 5 => Err(PortError::Gone { device: self.device.clone(), reason: e.to_string() }),
            _ => Err(self.io_error(e)),
        }
    }

    fn io_error(&self, e: alsa::Error) -> PortError {
        match e.errno() {
            19 | 77 => PortError::Gone { device: self.device.clone(), reason: e.to_string() },
            _ => PortError::Io { device: self.device.clone(), reason: e.to_string() },
        }
    }
}

/// 16-bit interleaved at `rate` and `channels`, with 20 ms periods and a 4-period buffer.
fn configure(pcm: &PCM, rate: u32, channels: u32) -> Result<(), alsa::Error> {
    let hw = HwParams::any(pcm)?;
    hw.set_access(Access::RWInterleaved)?;
    hw.set_format(Format::s16())?;
    hw.set_channels(channels)?;
    hw.set_rate(rate, ValueOr::Nearest)?;
    if hw.get_rate()? != rate {
        return Err(alsa::Error::unsupported("rate"));
    }
    let period = (rate / 50) as alsa::pcm::Frames;
    hw.set_period_size_near(period, ValueOr::Nearest)?;
    hw.set_buffer_size_near(period * 4)?;
    pcm.hw_params(&hw)?;
    Ok(())
}
