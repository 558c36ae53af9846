//! Sample-rate conversion between the rates Frontdesk deals in: 8000 Hz
//! (G.711 telephone audio), 16000 Hz (Whisper input) and 22050 Hz (Piper
//! output), in either direction.
//!
//! # Resampler choice
//!
//! All conversions here have fixed rational ratios (2:1, 441:160, 441:320)
//! and no clock drift to track, so rubato's synchronous FFT resampler
//! ([`rubato::Fft`]) is used rather than the asynchronous sinc one. It applies a
//! windowed-sinc anti-aliasing filter (Blackman-Harris squared) by FFT
//! convolution, which gives the same quality as rubato's best sinc setting
//! for a fraction of the CPU, has linear phase (a pure delay, no phase
//! distortion of speech), and works with exact integer block sizes, so a 20 ms
//! frame at one rate maps to exactly one 20 ms frame at the other. The
//! filter length equals the FFT block length, so a longer block buys a
//! sharper filter at the cost of latency: the offline path uses 100-120 ms
//! blocks (filter -6 dB point within ~2 % of the lower Nyquist frequency),
//! the streaming path uses one frame, which is still flat across the
//! 300-3400 Hz telephone band (tests: -0.14 dB at 3.5 kHz, aliases below
//! -140 dB, for 22050 -> 8000 Hz).
//!
//! # Headroom when downsampling
//!
//! Removing the upper harmonics of a waveform changes its shape, and the
//! band-limited result can peak higher than the original (Gibbs ringing around
//! sharp edges). Piper output is often normalised close to full scale, so
//! after the anti-alias filter it would clip once converted back to `i16`.
//! Downsampling therefore scales the signal by -1 dB (10^(-1/20)) before
//! filtering; upsampling only interpolates the existing band, so it keeps
//! unity gain. 1 dB covers speech-like signals; it does not cover the
//! 1.5-2 dB overshoot of a hard-clipped square wave (peaks of about 1.05-1.09
//! after headroom), which is why [`f32_to_i16`] saturates rather than wraps.

use std::error::Error;
use std::fmt;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

/// The rates this module is tested for. Other rates would probably work with
/// the same code, but would need their filter behaviour checked first.
pub const SUPPORTED_RATES: [u32; 8] = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000];

/// Linear gain applied before downsampling: -1 dB. See the module docs.
pub const DOWNSAMPLE_HEADROOM: f32 = 0.891_250_9;

/// Target length of the offline FFT block, in milliseconds of input audio.
/// Long enough for a sharp filter; the delay it adds is trimmed off anyway.
const OFFLINE_BLOCK_MS: usize = 100;

/// The window rubato uses by default for `Fft`; repeated here because the
/// block size has to be chosen explicitly via `Fft::new_custom`.
const WINDOW: WindowFunction = WindowFunction::BlackmanHarris2;

/// Why a conversion could not be set up or run.
#[derive(Debug, Clone, PartialEq)]
pub enum ResampleError {
    /// A sample rate outside [`SUPPORTED_RATES`].
    UnsupportedRate(u32),
    /// A streaming frame length that does not correspond to a whole number
    /// of output samples (or is zero), so frames could not map one-to-one.
    InvalidFrameLength {
        /// Requested input frame length in samples.
        frame_len: usize,
        /// Input rate.
        from_hz: u32,
        /// Output rate.
        to_hz: u32,
        /// The frame length must be a multiple of this.
        multiple_of: usize,
    },
    /// rubato refused to build the resampler.
    Construction(rubato::ResamplerConstructionError),
    /// rubato failed while processing.
    Processing(rubato::ResampleError),
    /// A should-not-happen condition inside this module (a bug, not bad input).
    Internal(&'static str),
}

impl fmt::Display for ResampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResampleError::UnsupportedRate(hz) => {
                write!(f, "unsupported sample rate {hz} Hz (supported: 8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000 Hz)")
            }
            ResampleError::InvalidFrameLength { frame_len, from_hz, to_hz, multiple_of } => write!(
                f,
                "frame length {frame_len} at {from_hz} Hz does not map to a whole number of \
                 samples at {to_hz} Hz; use a non-zero multiple of {multiple_of} \
                 (20 ms = {} samples)",
                from_hz / 50
            ),
            ResampleError::Construction(e) => write!(f, "could not create resampler: {e}"),
            ResampleError::Processing(e) => write!(f, "resampling failed: {e}"),
            ResampleError::Internal(what) => write!(f, "internal resampler error: {what}"),
        }
    }
}

impl Error for ResampleError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ResampleError::Construction(e) => Some(e),
            ResampleError::Processing(e) => Some(e),
            _ => None,
        }
    }
}

impl From<rubato::ResamplerConstructionError> for ResampleError {
    fn from(e: rubato::ResamplerConstructionError) -> Self {
        ResampleError::Construction(e)
    }
}

impl From<rubato::ResampleError> for ResampleError {
    fn from(e: rubato::ResampleError) -> Self {
        ResampleError::Processing(e)
    }
}

fn check_rate(hz: u32) -> Result<usize, ResampleError> {
    if SUPPORTED_RATES.contains(&hz) { Ok(hz as usize) } else { Err(ResampleError::UnsupportedRate(hz)) }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Smallest input block that maps to a whole number of output samples.
fn min_block_in(from: usize, to: usize) -> usize {
    from / gcd(from, to)
}

/// Gain applied before filtering; see the module docs.
fn gain_for(from: usize, to: usize) -> f32 {
    if to < from { DOWNSAMPLE_HEADROOM } else { 1.0 }
}

/// Converts a float sample in [-1.0, 1.0) to `i16`, saturating instead of
/// wrapping so that an overshoot becomes a clipped peak rather than a loud
/// click of the opposite sign. NaN becomes 0. Uses the same 32768 scale as
/// [`i16_to_f32`], so `i16 -> f32 -> i16` is lossless.
pub fn f32_to_i16(x: f32) -> i16 {
    // `as` from float saturates at the integer bounds and maps NaN to 0.
    (x * 32768.0).round() as i16
}

/// Converts an `i16` sample to float in [-1.0, 1.0).
pub fn i16_to_f32(x: i16) -> f32 {
    f32::from(x) / 32768.0
}

/// Number of output samples for `len` input samples: round(len * to / from),
/// in integer arithmetic so it is exact for any length.
fn output_len(len: usize, from: usize, to: usize) -> usize {
    let n = (len as u128 * to as u128 + from as u128 / 2) / from as u128;
    n as usize
}

/// Resamples a whole buffer, e.g. a Piper utterance to 8 kHz for the call, or
/// a recorded 8 kHz turn to 16 kHz for Whisper.
///
/// The output has exactly round(len * to / from) samples and is
/// time-aligned with the input (the filter delay is removed), so timestamps
/// computed on one side remain valid on the other. Same rate returns a copy.
/// Downsampling includes the -1 dB headroom described in the module docs.
///
/// Allocates; builds a fresh resampler per call (cheap compared with a
/// whole utterance), which keeps this function stateless.
pub fn resample(input: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, ResampleError> {
    let from = check_rate(from_hz)?;
    let to = check_rate(to_hz)?;
    if from == to {
        return Ok(input.to_vec());
    }
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let want = output_len(input.len(), from, to);

    // Block = ~OFFLINE_BLOCK_MS of input, rounded up to an even number of
    // minimal blocks. Even keeps the filter centre on a whole output sample,
    // so rubato's reported delay is exact and trimming leaves no sub-sample
    // offset.
    let min_in = min_block_in(from, to);
    let target = from * OFFLINE_BLOCK_MS / 1000;
    let blocks = target.div_ceil(min_in).next_multiple_of(2);
    let block_in = blocks * min_in;
    let mut rs = Fft::<f32>::new_custom(from, to, block_in, 1, 1, WINDOW, FixedSync::Both)?;

    let gain = gain_for(from, to);
    let scaled: Vec<f32>;
    let source: &[f32] = if gain != 1.0 {
        scaled = input.iter().map(|&x| x * gain).collect();
        &scaled
    } else {
        input
    };
    let adapter =
        InterleavedSlice::new(source, 1, source.len()).map_err(|_| ResampleError::Internal("input adapter rejected a mono buffer"))?;
    // process_all trims the startup delay and returns ceil(len * ratio)
    // samples; we promise round(), which is never longer.
    let mut out = rs.process_all(&adapter, source.len(), None)?.take_data();
    out.resize(want, 0.0);
    Ok(out)
}

/// Streaming converter for the live call path: one fixed-size frame in, one
/// fixed-size frame out, e.g. 160 samples at 8 kHz -> 320 at 16 kHz for
/// 20 ms packets.
///
/// All buffers are allocated in [`FrameResampler::new`]; [`process`]
/// performs no allocation, so it is safe on a real-time media thread.
///
/// The FFT block is exactly one frame, which makes the output size constant
/// per call and the latency low: the output stream lags the input by
/// [`delay_samples`] output samples (half a frame, 10 ms for 20 ms frames).
/// The trade-off is a shorter filter than [`resample`] uses: with 20 ms
/// frames and an 8 kHz side the roll-off starts above 3.5 kHz instead of
/// ~3.9 kHz, which only trims the margin above the telephone band.
///
/// Downsampling applies the same -1 dB headroom as [`resample`], so both
/// paths produce the same level.
///
/// [`process`]: FrameResampler::process
/// [`delay_samples`]: FrameResampler::delay_samples
pub struct FrameResampler {
    /// `None` when the rates are equal: frames are copied through.
    inner: Option<Fft<f32>>,
    frame_in: usize,
    frame_out: usize,
    gain: f32,
    in_buf: Vec<f32>,
    out_buf: Vec<f32>,
}

impl fmt::Debug for FrameResampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameResampler")
            .field("frame_in", &self.frame_in)
            .field("frame_out", &self.frame_out)
            .field("gain", &self.gain)
            .field("delay_samples", &self.delay_samples())
            .finish()
    }
}

impl FrameResampler {
    /// Creates a converter for frames of `frame_len_in` samples at `from_hz`.
    ///
    /// The frame must map to a whole number of output samples, otherwise the
    /// output size would vary per call, which the call path is not built
    /// for. 20 ms (or any multiple) works for every pair; between 8000 and
    /// 16000 Hz finer sizes work too.
    pub fn new(from_hz: u32, to_hz: u32, frame_len_in: usize) -> Result<Self, ResampleError> {
        let from = check_rate(from_hz)?;
        let to = check_rate(to_hz)?;
        let min_in = min_block_in(from, to);
        if frame_len_in == 0 || !frame_len_in.is_multiple_of(min_in) {
            return Err(ResampleError::InvalidFrameLength { frame_len: frame_len_in, from_hz, to_hz, multiple_of: min_in });
        }
        let frame_out = frame_len_in / min_in * (to / gcd(from, to));
        let inner = if from == to {
            None
        } else {
            // FixedSync::Both with chunk = frame gives an FFT block of exactly
            // one frame and fixed sizes on both sides.
            let rs = Fft::<f32>::new_custom(from, to, frame_len_in, 1, 1, WINDOW, FixedSync::Both)?;
            debug_assert_eq!(rs.input_frames_next(), frame_len_in);
            debug_assert_eq!(rs.output_frames_next(), frame_out);
            Some(rs)
        };
        Ok(FrameResampler {
            inner,
            frame_in: frame_len_in,
            frame_out,
            gain: gain_for(from, to),
            in_buf: vec![0.0; frame_len_in],
            out_buf: vec![0.0; frame_out],
        })
    }

    /// Input samples expected per call.
    pub fn frame_len_in(&self) -> usize {
        self.frame_in
    }

    /// Output samples produced per call.
    pub fn frame_len_out(&self) -> usize {
        self.frame_out
    }

    /// How many output samples the output stream lags the input stream by:
    /// output sample `n + delay_samples()` corresponds to input time
    /// `n / to_hz`. Callers that need alignment (e.g. echo handling, barge-in
    /// timestamps) subtract this. It is half the frame at the output rate,
    /// rounded down; with a 22050 Hz side and 20 ms frames (441 samples, odd)
    /// the true filter delay differs from it by at most half a sample.
    pub fn delay_samples(&self) -> usize {
        self.inner.as_ref().map_or(0, |rs| rs.output_delay())
    }

    /// Clears the filter history, e.g. between calls, so the next call does
    /// not start with the tail of the previous one.
    pub fn reset(&mut self) {
        if let Some(rs) = self.inner.as_mut() {
            rs.reset();
        }
    }

    /// Converts one frame and returns the number of samples written to
    /// `output` (normally [`frame_len_out`](Self::frame_len_out)).
    ///
    /// Never allocates and never panics. Mismatched lengths are tolerated
    /// rather than rejected, because dropping a call over one odd packet is
    /// worse than a glitch: a short `input` is padded with silence (as for a
    /// lost packet), extra input is ignored, and a short `output` receives
    /// only the first `output.len()` samples of the frame.
    pub fn process(&mut self, input: &[f32], output: &mut [f32]) -> usize {
        let n = input.len().min(self.frame_in);
        for (d, &s) in self.in_buf.iter_mut().zip(&input[..n]) {
            *d = s * self.gain;
        }
        self.in_buf[n..].fill(0.0);

        match self.inner.as_mut() {
            None => self.out_buf.copy_from_slice(&self.in_buf),
            Some(rs) => {
                let ok = match (
                    InterleavedSlice::new(&self.in_buf[..], 1, self.frame_in),
                    InterleavedSlice::new_mut(&mut self.out_buf[..], 1, self.frame_out),
                ) {
                    (Ok(a), Ok(mut b)) => rs.process_into_buffer(&a, &mut b, None).is_ok(),
                    _ => false,
                };
                if !ok {
                    // Cannot happen with the buffers sized in `new`; emit
                    // silence rather than stale audio if it ever does.
                    self.out_buf.fill(0.0);
                }
            }
        }

        let m = output.len().min(self.frame_out);
        output[..m].copy_from_slice(&self.out_buf[..m]);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const PAIRS: [(u32, u32); 6] = [(8000, 16000), (16000, 8000), (8000, 22050), (22050, 8000), (16000, 22050), (22050, 16000)];

    fn tone(freq: f64, rate: u32, amp: f64, len: usize) -> Vec<f32> {
        (0..len).map(|n| (amp * (2.0 * PI * freq * n as f64 / rate as f64).sin()) as f32).collect()
    }

    /// Amplitude and frequency of the dominant tone in `x`, measured on its
    /// middle part so filter edge effects at the ends do not count.
    ///
    /// Frequency from interpolated zero crossings; amplitude from the RMS
    /// (sqrt(2) * rms for a sine).
    fn measure(x: &[f32], rate: u32) -> (f64, f64) {
        let a = x.len() / 5;
        let b = x.len() - a;
        let s = &x[a..b];
        let rms = (s.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / s.len() as f64).sqrt();
        let mut crossings = Vec::new();
        for i in 1..s.len() {
            let (p, q) = (s[i - 1] as f64, s[i] as f64);
            if p < 0.0 && q >= 0.0 {
                crossings.push((i - 1) as f64 + p / (p - q));
            }
        }
        let freq = if crossings.len() >= 2 {
            let periods = (crossings.len() - 1) as f64;
            periods * rate as f64 / (crossings[crossings.len() - 1] - crossings[0])
        } else {
            0.0
        };
        (freq, rms * 2f64.sqrt())
    }

    fn db(x: f64) -> f64 {
        20.0 * x.log10()
    }

    fn expected_gain(from: u32, to: u32) -> f64 {
        if to < from { DOWNSAMPLE_HEADROOM as f64 } else { 1.0 }
    }

    #[test]
    fn headroom_constant_is_minus_one_db() {
        assert!((db(DOWNSAMPLE_HEADROOM as f64) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn sine_1khz_keeps_frequency_and_amplitude() {
        for (from, to) in PAIRS {
            let x = tone(1000.0, from, 0.5, from as usize / 2);
            let y = resample(&x, from, to).unwrap();
            let (f, a) = measure(&y, to);
            let err_db = db(a / (0.5 * expected_gain(from, to)));
            println!("1 kHz {from}->{to}: {f:.3} Hz, amplitude error {err_db:+.5} dB");
            assert!((f - 1000.0).abs() < 1.0, "{from}->{to}: {f} Hz");
            assert!(err_db.abs() < 1.5, "{from}->{to}: {err_db} dB");
            assert!(err_db.abs() < 0.05, "{from}->{to}: {err_db} dB (passband ripple)");
        }
    }

    #[test]
    fn passband_edge_kept_and_alias_rejected_22050_to_8000() {
        let len = 22050;
        // 3.5 kHz: inside the 4 kHz band, must survive.
        let y = resample(&tone(3500.0, 22050, 0.5, len), 22050, 8000).unwrap();
        let (f, a) = measure(&y, 8000);
        let keep_db = db(a / 0.5);
        println!("3.5 kHz 22050->8000: {f:.2} Hz, gain {keep_db:+.3} dB (incl. -1 dB headroom)");
        assert!((f - 3500.0).abs() < 2.0);
        assert!((keep_db + 1.0).abs() < 1.5, "{keep_db} dB");

        // 6 kHz: above the new Nyquist; would alias to 2 kHz.
        let y = resample(&tone(6000.0, 22050, 0.5, len), 22050, 8000).unwrap();
        let (_, a) = measure(&y, 8000);
        let rej_db = db(a / 0.5);
        println!("6 kHz 22050->8000: {rej_db:+.1} dB");
        assert!(rej_db < -30.0, "{rej_db} dB");
    }

    #[test]
    fn full_scale_speech_like_signal_does_not_clip() {
        // Buzz-like voiced signals: fundamental plus harmonics up to 11 kHz
        // with 1/k amplitudes (glottal-pulse-like spectral tilt) and
        // pseudo-random phases, normalised to peak 0.99 the way a TTS engine
        // would. Most of the harmonics lie above 4 kHz and are removed.
        let rate = 22050;
        let n = rate as usize / 2;
        let mut worst = 0f32;
        for f0 in [95.0, 140.0, 210.0] {
            for seed in 1..=4usize {
                let mut x = vec![0f64; n];
                for k in 1..(11000.0 / f0) as usize {
                    let phase = ((k * k * 7 + seed * 13) % 17) as f64 * 0.37;
                    let w = 2.0 * PI * f0 * k as f64 / rate as f64;
                    for (i, v) in x.iter_mut().enumerate() {
                        *v += (w * i as f64 + phase).sin() / k as f64;
                    }
                }
                let peak = x.iter().fold(0f64, |m, v| m.max(v.abs()));
                let x: Vec<f32> = x.iter().map(|v| (v / peak * 0.99) as f32).collect();
                for to in [8000, 16000] {
                    let y = resample(&x, rate, to).unwrap();
                    let p = y.iter().fold(0f32, |m, v| m.max(v.abs()));
                    assert!(p <= 1.0, "f0 {f0} seed {seed} -> {to}: peak {p}");
                    worst = worst.max(p);
                    // Streaming path has the same headroom.
                    let (ys, _) = stream(&x, rate, to);
                    let ps = ys.iter().fold(0f32, |m, v| m.max(v.abs()));
                    assert!(ps <= 1.0, "stream f0 {f0} seed {seed} -> {to}: peak {ps}");
                    worst = worst.max(ps);
                }
            }
        }
        println!("speech-like 0.99-peak input, 22050 -> 8000/16000: worst output peak {worst:.4}");
    }

    #[test]
    fn output_length_is_rounded_ratio() {
        for (from, to) in PAIRS {
            for len in [0usize, 1, 2, 3, 7, 159, 160, 161, 320, 441, 1000, 4096, 22051] {
                let y = resample(&vec![0.25; len], from, to).unwrap();
                let want = ((len as f64) * to as f64 / from as f64).round() as usize;
                assert_eq!(y.len(), want, "{from}->{to} len {len}");
                assert!(y.iter().all(|v| v.is_finite()));
            }
        }
        // Same rate is a plain copy.
        let x = tone(440.0, 16000, 0.3, 123);
        assert_eq!(resample(&x, 16000, 16000).unwrap(), x);
        assert!(resample(&[], 8000, 8000).unwrap().is_empty());
    }

    /// Energy-weighted centre of a signal, in samples.
    fn centroid(x: &[f32]) -> f64 {
        let (mut s, mut w) = (0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let e = (v as f64).powi(2);
            s += e * i as f64;
            w += e;
        }
        s / w
    }

    /// Hann-windowed 1 kHz burst, 40 ms long, starting 100 ms in, sampled
    /// at `rate`; evaluated from the same continuous-time formula at any
    /// rate, so it is also the ideal resampled result (before headroom).
    fn burst(rate: u32, len: usize) -> Vec<f32> {
        let (t0, dur) = (0.100, 0.040);
        (0..len)
            .map(|n| {
                let t = n as f64 / rate as f64 - t0;
                if (0.0..dur).contains(&t) {
                    let env = 0.5 - 0.5 * (2.0 * PI * t / dur).cos();
                    (0.8 * env * (2.0 * PI * 1000.0 * t).sin()) as f32
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// Lag (in samples, within +-max) at which `y` best matches `r`.
    fn best_lag(y: &[f32], r: &[f32], max: isize) -> isize {
        let score = |lag: isize| -> f64 {
            r.iter()
                .enumerate()
                .filter_map(|(i, &rv)| {
                    let j = i as isize + lag;
                    (j >= 0 && (j as usize) < y.len()).then(|| rv as f64 * y[j as usize] as f64)
                })
                .sum()
        };
        (-max..=max).max_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap()
    }

    #[test]
    fn tone_burst_keeps_its_position() {
        for (from, to) in PAIRS {
            let x = burst(from, from as usize / 2);
            let y = resample(&x, from, to).unwrap();
            let ideal = burst(to, y.len());
            let ratio = to as f64 / from as f64;
            let shift = centroid(&y) - centroid(&x) * ratio;
            let lag = best_lag(&y, &ideal, 20);
            let g = expected_gain(from, to) as f32;
            let max_err = y.iter().zip(&ideal).map(|(a, b)| (a - b * g).abs()).fold(0f32, f32::max);
            println!(
                "burst {from}->{to}: centroid offset {shift:+.4} samples, xcorr lag {lag}, \
                 max deviation from ideal {max_err:.1e}"
            );
            assert!(shift.abs() < 0.5, "{from}->{to}: centroid moved {shift}");
            assert_eq!(lag, 0, "{from}->{to}");
            assert!(max_err < 1e-3, "{from}->{to}: {max_err}");
        }
    }

    #[test]
    fn sample_conversions_saturate() {
        assert_eq!(f32_to_i16(0.0), 0);
        assert_eq!(f32_to_i16(1.0), i16::MAX);
        assert_eq!(f32_to_i16(1.5), i16::MAX);
        assert_eq!(f32_to_i16(-1.0), i16::MIN);
        assert_eq!(f32_to_i16(-7.0), i16::MIN);
        assert_eq!(f32_to_i16(f32::NAN), 0);
        assert_eq!(f32_to_i16(f32::INFINITY), i16::MAX);
        assert_eq!(f32_to_i16(0.5), 16384);
        for v in i16::MIN..=i16::MAX {
            assert_eq!(f32_to_i16(i16_to_f32(v)), v);
        }
        assert_eq!(i16_to_f32(i16::MIN), -1.0);
    }

    #[test]
    fn errors_are_reported() {
        let e = resample(&[0.0; 10], 12345, 8000).unwrap_err();
        assert_eq!(e, ResampleError::UnsupportedRate(12345));
        assert!(e.to_string().contains("12345"), "{e}");
        assert!(resample(&[0.0; 10], 8000, 0).is_err());
        assert!(FrameResampler::new(8000, 12345, 160).is_err());

        let e = FrameResampler::new(8000, 22050, 100).unwrap_err();
        assert!(matches!(e, ResampleError::InvalidFrameLength { multiple_of: 160, .. }));
        println!("{e}");
        assert!(e.to_string().contains("multiple of 160"), "{e}");
        assert!(FrameResampler::new(16000, 8000, 0).is_err());
        assert!(FrameResampler::new(16000, 8000, 161).is_err());
        assert!(e.source().is_none());
    }

    #[test]
    fn frame_sizes_for_20ms() {
        for (from, to) in PAIRS.into_iter().chain([(8000, 8000)]) {
            let fr = FrameResampler::new(from, to, from as usize / 50).unwrap();
            assert_eq!(fr.frame_len_in(), from as usize / 50);
            assert_eq!(fr.frame_len_out(), to as usize / 50);
            println!("{from}->{to}: {:?}", fr);
        }
    }

    #[test]
    fn frame_resampler_tolerates_bad_lengths() {
        let mut fr = FrameResampler::new(8000, 16000, 160).unwrap();
        let mut out = [0f32; 320];
        assert_eq!(fr.process(&[0.1; 100], &mut out), 320);
        assert_eq!(fr.process(&[0.1; 500], &mut out), 320);
        assert_eq!(fr.process(&[], &mut out), 320);
        assert_eq!(fr.process(&[0.1; 160], &mut out[..10]), 10);
        assert_eq!(fr.process(&[0.1; 160], &mut []), 0);
        let mut big = [0f32; 1000];
        assert_eq!(fr.process(&[0.1; 160], &mut big), 320);
    }

    /// Runs `x` through a FrameResampler in 20 ms frames, pads the input with
    /// enough silence to flush the delay, and returns the output with the
    /// delay removed (so it lines up with `resample`'s output).
    fn stream(x: &[f32], from: u32, to: u32) -> (Vec<f32>, usize) {
        let fin = from as usize / 50;
        let mut fr = FrameResampler::new(from, to, fin).unwrap();
        let delay = fr.delay_samples();
        let mut padded = x.to_vec();
        padded.resize(x.len() + 2 * fin, 0.0);
        let mut out = Vec::new();
        let mut buf = vec![0f32; fr.frame_len_out()];
        for frame in padded.chunks(fin) {
            let n = fr.process(frame, &mut buf);
            out.extend_from_slice(&buf[..n]);
        }
        (out[delay..].to_vec(), delay)
    }

    #[test]
    fn frame_resampler_matches_offline() {
        for (from, to) in PAIRS.into_iter().chain([(16000, 16000)]) {
            let x = tone(1000.0, from, 0.5, from as usize / 2);
            let offline = resample(&x, from, to).unwrap();
            let (streamed, delay) = stream(&x, from, to);
            let (fo, ao) = measure(&offline, to);
            let (fs, as_) = measure(&streamed[..offline.len()], to);
            let diff_db = db(as_ / ao);
            // Time alignment: after removing delay_samples() the two outputs
            // coincide sample by sample in the steady state.
            let a = offline.len() / 5;
            let b = offline.len() - a;
            let max_diff = offline[a..b].iter().zip(&streamed[a..b]).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
            println!(
                "stream {from}->{to}: delay {delay}, {fs:.3} Hz vs {fo:.3} Hz, \
                 level {diff_db:+.4} dB vs offline, max sample diff {max_diff:.2e}"
            );
            assert!((fs - fo).abs() < 0.5);
            assert!(diff_db.abs() < 0.1, "{diff_db} dB");
            // rubato's filter is centred on input sample floor(frame_in / 2),
            // i.e. frame_in/2 * to/from output samples, which is fractional
            // when a frame has 441 samples. delay_samples() is a whole number,
            // so the outputs differ by that residual as a time shift: up to
            // A * 2*pi*f * residual / to for a tone.
            let (fin, fout) = (from as usize / 50, to as usize / 50);
            let true_delay = if from == to { 0.0 } else { (fin / 2) as f64 * fout as f64 / fin as f64 };
            let residual = (delay as f64 - true_delay).abs();
            assert!(residual <= 0.5, "{residual}");
            let bound = 0.5 * 2.0 * PI * 1000.0 * residual / to as f64 + 1e-4;
            println!("  residual delay {residual:.3} samples, allowed diff {bound:.2e}");
            assert!((max_diff as f64) < bound, "{max_diff} vs {bound}");
        }
    }

    #[test]
    fn frame_resampler_band_edges() {
        // The streaming filter is shorter; check it still passes the
        // telephone band and rejects aliases.
        // Bounds include the -1 dB headroom when downsampling.
        for (from, to, f, lo, hi) in [
            (22050, 8000, 3400.0, -1.5, -0.5),
            (22050, 8000, 3500.0, -2.5, -0.5),
            (22050, 8000, 6000.0, -200.0, -30.0),
            (22050, 8000, 4500.0, -200.0, -30.0),
            (8000, 16000, 3400.0, -0.5, 0.5),
            (8000, 22050, 3400.0, -0.5, 0.5),
            (16000, 8000, 3400.0, -1.5, -0.5),
            (16000, 8000, 5000.0, -200.0, -30.0),
            (22050, 16000, 7000.0, -2.5, -0.5),
            (22050, 16000, 9000.0, -200.0, -30.0),
        ] {
            let x = tone(f, from, 0.5, from as usize);
            let (y, _) = stream(&x, from, to);
            let (_, a) = measure(&y[..x.len() * to as usize / from as usize], to);
            let g = db(a / 0.5);
            println!("stream {from}->{to} {f} Hz: {g:+.2} dB");
            assert!(g > lo && g < hi, "{from}->{to} {f} Hz: {g} dB");
        }
    }

    #[test]
    fn reset_clears_history() {
        let mut fr = FrameResampler::new(8000, 16000, 160).unwrap();
        let mut out = [0f32; 320];
        fr.process(&[0.9; 160], &mut out);
        fr.reset();
        fr.process(&[0.0; 160], &mut out);
        assert!(out.iter().all(|&v| v == 0.0));
    }
}
