//! What a caller's phone does to audio: 8 kHz, G.711. Used by `say --rate 8000`, the round-trip
//! test and benchmarks, so that what we measure is what a caller would hear.

use crate::audio::g711::Law;
use crate::audio::resample::{ResampleError, f32_to_i16, i16_to_f32, resample};

/// The telephone band's sample rate.
pub const RATE: u32 = 8000;

/// Takes audio at `rate` down to 8 kHz and through a G.711 encode and decode.
pub fn through_g711(samples: &[f32], rate: u32, law: Law) -> Result<Vec<f32>, ResampleError> {
    let narrow = resample(samples, rate, RATE)?;
    let pcm: Vec<i16> = narrow.iter().map(|&x| f32_to_i16(x)).collect();
    let mut coded = vec![0u8; pcm.len()];
    law.encode(&pcm, &mut coded);
    let mut decoded = vec![0i16; coded.len()];
    law.decode(&coded, &mut decoded);
    Ok(decoded.into_iter().map(i16_to_f32).collect())
}
