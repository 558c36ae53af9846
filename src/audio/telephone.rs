//! The telephone line's audio, in one place: 8 kHz, 20 ms frames of 160 samples, G.711.
//!
//! Every line type (SIP/RTP, an analog FXO port) carries this to and from a call; speech is
//! converted to it once, here. `through_g711` is what a caller's phone does to audio, used by
//! `say --rate 8000`, the round-trip test and benchmarks, so that what we measure is what a
//! caller would hear.

use crate::audio::g711::Law;
use crate::audio::resample::{ResampleError, f32_to_i16, i16_to_f32, resample};

/// The telephone band's sample rate: every line delivers and takes audio at this rate.
pub const RATE: u32 = 8000;

/// Samples in one 20 ms frame at [`RATE`].
pub const FRAME_SAMPLES: usize = RATE as usize / 50;

/// One 20 ms frame of line audio, 16-bit linear PCM.
pub type Frame = [i16; FRAME_SAMPLES];

/// Converts audio at `rate` (a voice's output, a WAV file) to line-rate 16-bit PCM.
pub fn to_line_pcm(samples: &[f32], rate: u32) -> Result<Vec<i16>, ResampleError> {
    Ok(resample(samples, rate, RATE)?.iter().map(|&x| f32_to_i16(x)).collect())
}

/// Takes audio at `rate` down to 8 kHz and through a G.711 encode and decode.
pub fn through_g711(samples: &[f32], rate: u32, law: Law) -> Result<Vec<f32>, ResampleError> {
    let pcm = to_line_pcm(samples, rate)?;
    let mut coded = vec![0u8; pcm.len()];
    law.encode(&pcm, &mut coded);
    let mut decoded = vec![0i16; coded.len()];
    law.decode(&coded, &mut decoded);
    Ok(decoded.into_iter().map(i16_to_f32).collect())
}
