//! WAV files in and out, with errors a person can act on.
//!
//! Callers' recordings and test clips arrive in every common form (8-bit, 16-bit, 24-bit, float,
//! stereo, 8 to 48 kHz); everything is read as mono f32 and resampled by the caller as needed.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("{path}: file not found")]
    NotFound { path: String },
    #[error("{path}: not a readable WAV file ({reason}); convert it with `sox {path} -c 1 -b 16 out.wav`")]
    Unreadable { path: String, reason: String },
    #[error("{path}: unsupported WAV format ({reason}); convert it with `sox {path} -c 1 -b 16 -r 16000 out.wav`")]
    Unsupported { path: String, reason: String },
    #[error("{path}: the file holds no audio")]
    Empty { path: String },
    #[error(
        "{path}: {seconds:.0} s of audio is longer than the {max} s allowed here; split it (`sox {path} part.wav trim 0 {max} : newfile : restart`)"
    )]
    TooLong { path: String, seconds: f64, max: u32 },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
}

/// Mono audio in [-1, 1].
#[derive(Debug, Clone)]
pub struct Audio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl Audio {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }
}

/// Reads a WAV file as mono, refusing files longer than `max_seconds` before decoding them.
pub fn read_mono(path: &Path, max_seconds: u32) -> Result<Audio, WavError> {
    let p = path.display().to_string();
    if !path.exists() {
        return Err(WavError::NotFound { path: p });
    }
    let mut reader = hound::WavReader::open(path).map_err(|e| WavError::Unreadable { path: p.clone(), reason: e.to_string() })?;
    let spec = reader.spec();
    if spec.channels == 0 || !(4_000..=192_000).contains(&spec.sample_rate) {
        return Err(WavError::Unsupported { path: p, reason: format!("{} channels at {} Hz", spec.channels, spec.sample_rate) });
    }
    let frames = reader.duration() as f64;
    let seconds = frames / spec.sample_rate as f64;
    if seconds > max_seconds as f64 {
        return Err(WavError::TooLong { path: p, seconds, max: max_seconds });
    }
    let channels = spec.channels as usize;
    let interleaved: Result<Vec<f32>, hound::Error> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader.samples::<f32>().collect(),
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader.samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect()
        }
        (format, bits) => {
            return Err(WavError::Unsupported { path: p, reason: format!("{bits}-bit {format:?} samples") });
        }
    };
    let interleaved = interleaved.map_err(|e| WavError::Unreadable { path: p.clone(), reason: e.to_string() })?;
    let samples: Vec<f32> = interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() / channels as f32).collect();
    if samples.is_empty() {
        return Err(WavError::Empty { path: p });
    }
    Ok(Audio { samples, sample_rate: spec.sample_rate })
}

/// Writes mono 16-bit PCM, the format every telephony tool reads.
pub fn write_mono_i16(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), WavError> {
    let err = |e: hound::Error| WavError::Write { path: path.display().to_string(), reason: e.to_string() };
    let spec = hound::WavSpec { channels: 1, sample_rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    for &s in samples {
        w.write_sample(crate::audio::resample::f32_to_i16(s)).map_err(err)?;
    }
    w.finalize().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("frontdesk-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn stereo_24_bit_is_mixed_to_mono() {
        let path = tmp("stereo.wav");
        let spec = hound::WavSpec { channels: 2, sample_rate: 44_100, bits_per_sample: 24, sample_format: hound::SampleFormat::Int };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for _ in 0..100 {
            w.write_sample(4_194_304i32).unwrap(); // 0.5
            w.write_sample(0i32).unwrap();
        }
        w.finalize().unwrap();
        let a = read_mono(&path, 60).unwrap();
        assert_eq!(a.sample_rate, 44_100);
        assert_eq!(a.samples.len(), 100);
        assert!((a.samples[0] - 0.25).abs() < 1e-6);
    }

    #[test]
    fn round_trip_16_bit() {
        let path = tmp("rt.wav");
        write_mono_i16(&path, &[0.0, 0.5, -0.5, 1.0], 8000).unwrap();
        let a = read_mono(&path, 60).unwrap();
        assert_eq!(a.samples.len(), 4);
        assert!((a.samples[1] - 0.5).abs() < 1e-3);
    }

    #[test]
    fn bad_inputs_are_clear_errors() {
        let missing = read_mono(Path::new("/nonexistent/x.wav"), 60).unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/x.wav"));
        let text = tmp("text.wav");
        std::fs::write(&text, b"this is not audio").unwrap();
        let e = read_mono(&text, 60).unwrap_err();
        assert!(matches!(e, WavError::Unreadable { .. }), "{e}");
        assert!(e.to_string().contains("sox"));
        let empty = tmp("empty.wav");
        write_mono_i16(&empty, &[], 16_000).unwrap();
        assert!(matches!(read_mono(&empty, 60).unwrap_err(), WavError::Empty { .. }));
        let long = tmp("long.wav");
        write_mono_i16(&long, &vec![0.0; 8000 * 3], 8000).unwrap();
        assert!(matches!(read_mono(&long, 2).unwrap_err(), WavError::TooLong { .. }));
    }
}
