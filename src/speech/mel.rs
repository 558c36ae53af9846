//! The mel filter bank Whisper was trained with, computed instead of shipped.
//!
//! whisper.cpp reads its filters from the model file, so the converter must write exactly what
//! OpenAI's `mel_filters.npz` holds: librosa's Slaney-scale, Slaney-normalised bank
//! (`librosa.filters.mel(sr=16000, n_fft=400, n_mels=80 or 128)`). Computed in f64 like librosa,
//! stored as f32.

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ { MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step() } else { hz / F_SP }
}

pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL { MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp() } else { F_SP * mel }
}

/// `n_mels` rows of `n_fft / 2 + 1` weights.
pub fn slaney_mel_filters(sample_rate: u32, n_fft: usize, n_mels: usize) -> Vec<Vec<f32>> {
    let n_bins = n_fft / 2 + 1;
    let sr = sample_rate as f64;
    let fft_freqs: Vec<f64> = (0..n_bins).map(|i| i as f64 * (sr / 2.0) / (n_bins - 1) as f64).collect();
    let (mel_min, mel_max) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let mel_points: Vec<f64> = (0..n_mels + 2).map(|i| mel_to_hz(mel_min + (mel_max - mel_min) * i as f64 / (n_mels + 1) as f64)).collect();
    (0..n_mels)
        .map(|m| {
            let (lo, mid, hi) = (mel_points[m], mel_points[m + 1], mel_points[m + 2]);
            let norm = 2.0 / (hi - lo);
            fft_freqs
                .iter()
                .map(|&f| {
                    let lower = (f - lo) / (mid - lo);
                    let upper = (hi - f) / (hi - mid);
                    (lower.min(upper).max(0.0) * norm) as f32
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_is_linear_below_1khz_and_inverts() {
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        for hz in [0.0, 123.0, 999.0, 1000.0, 4321.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
    }

    /// Reference values of librosa.filters.mel(sr=16000, n_fft=400, n_mels=80), the bank in
    /// OpenAI's mel_filters.npz: filter 0 has its only weight at bin 1 (0.02486259), filter 79
    /// starts at bin 186 (7440 Hz).
    #[test]
    fn matches_librosa_reference_points() {
        let f = slaney_mel_filters(16_000, 400, 80);
        assert_eq!(f.len(), 80);
        assert_eq!(f[0].len(), 201);
        assert!((f[0][1] - 0.024_862_59).abs() < 1e-7, "{}", f[0][1]);
        assert_eq!(f[0][0], 0.0);
        assert_eq!(f[0][3], 0.0);
        assert!(f[79][200] >= 0.0);
        assert_eq!(f[79].iter().position(|&x| x > 0.0), Some(186));
        // Slaney normalisation gives each filter unit area in Hz: sum of weights * bin width ~ 1.
        for row in &f[10..70] {
            let area: f32 = row.iter().sum::<f32>() * 40.0;
            assert!((area - 1.0).abs() < 0.08, "area {area}");
        }
    }
}
