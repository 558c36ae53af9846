//! Single-frequency measurement and generation for line signalling: the Goertzel filter that
//! DTMF, caller ID and call-progress detection are built on, levels in dBm0, and tone
//! generators (for dialling on an analog line, and for tests that need an independent
//! source of the same signals).
//!
//! Levels follow G.711: a full-scale sine is +3.17 dBm0, so a 0 dBm0 sine peaks at
//! [`DBM0_PEAK`] in 16-bit linear PCM.

/// Peak of a 0 dBm0 sine in 16-bit linear PCM (full scale, 32767, is +3.17 dBm0).
pub const DBM0_PEAK: f32 = 22_767.0;

/// Mean power (mean square, 16-bit units) of a sine at `dbm0`.
pub fn dbm0_power(dbm0: f32) -> f32 {
    let peak = DBM0_PEAK * 10f32.powf(dbm0 / 20.0);
    peak * peak / 2.0
}

/// The level in dBm0 of a mean power (mean square, 16-bit units); -100 for silence.
pub fn power_dbm0(power: f32) -> f32 {
    if power <= 0.0 { -100.0 } else { 10.0 * (power / dbm0_power(0.0)).log10() }
}

/// One Goertzel filter: the power of one frequency over a block of samples, at a cost of one
/// multiply-add per sample. The coefficient is computed for the exact frequency (not the
/// nearest DFT bin), so a tone on its frequency is measured at its full level.
#[derive(Clone, Copy, Debug)]
pub struct Goertzel {
    coeff: f32,
    s1: f32,
    s2: f32,
}

impl Goertzel {
    pub fn new(freq: f32, rate: u32) -> Goertzel {
        let w = 2.0 * std::f32::consts::PI * freq / rate as f32;
        Goertzel { coeff: 2.0 * w.cos(), s1: 0.0, s2: 0.0 }
    }

    #[inline]
    pub fn push(&mut self, x: f32) {
        let s = x + self.coeff * self.s1 - self.s2;
        self.s2 = self.s1;
        self.s1 = s;
    }

    /// The tone's mean power over the `n` samples pushed since the last reset, in the same
    /// units as the block's mean square (a pure sine on the frequency gives its own power),
    /// and starts a new block.
    pub fn take_power(&mut self, n: usize) -> f32 {
        let mag2 = self.s1 * self.s1 + self.s2 * self.s2 - self.coeff * self.s1 * self.s2;
        self.s1 = 0.0;
        self.s2 = 0.0;
        let n = n.max(1) as f32;
        2.0 * mag2 / (n * n)
    }
}

/// Appends `ms` of the sum of sines at `freqs`, each at `dbm0`, at `rate`, starting at phase 0.
pub fn push_tone(out: &mut Vec<i16>, freqs: &[f32], dbm0: f32, ms: u32, rate: u32) {
    let n = (rate as u64 * ms as u64 / 1000) as usize;
    let peak = DBM0_PEAK * 10f32.powf(dbm0 / 20.0);
    out.extend((0..n).map(|i| {
        let t = i as f32 / rate as f32;
        let v: f32 = freqs.iter().map(|f| (2.0 * std::f32::consts::PI * f * t).sin()).sum();
        (v * peak).round().clamp(-32768.0, 32767.0) as i16
    }));
}

/// Adds white noise at `dbm0` to `audio`: the same noise for the same `seed` (tests and
/// benchmarks that must repeat). A sum of four uniforms, close enough to Gaussian for a line's
/// noise floor.
pub fn add_white_noise(audio: &mut [i16], dbm0: f32, seed: u64) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    // Four uniforms in [-0.5, 0.5) sum to a variance of 1/3.
    let scale = dbm0_power(dbm0).sqrt() * 3f32.sqrt();
    for s in audio {
        let mut g = 0.0f32;
        for _ in 0..4 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            g += (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
        }
        *s = (*s as f32 + g * scale).round().clamp(-32768.0, 32767.0) as i16;
    }
}

/// Appends `ms` of silence at `rate`.
pub fn push_silence(out: &mut Vec<i16>, ms: u32, rate: u32) {
    out.resize(out.len() + (rate as u64 * ms as u64 / 1000) as usize, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goertzel_measures_a_tone_at_its_level_and_ignores_others() {
        for level in [-3.0f32, -20.0, -40.0] {
            let mut tone = Vec::new();
            push_tone(&mut tone, &[1209.0], level, 20, 8000);
            let mut on = Goertzel::new(1209.0, 8000);
            let mut off = Goertzel::new(1633.0, 8000);
            for &s in &tone {
                on.push(s as f32);
                off.push(s as f32);
            }
            let (p_on, p_off) = (on.take_power(tone.len()), off.take_power(tone.len()));
            assert!((power_dbm0(p_on) - level).abs() < 0.5, "{level}: {}", power_dbm0(p_on));
            assert!(power_dbm0(p_off) < level - 20.0, "{level}: leak {}", power_dbm0(p_off));
        }
    }

    #[test]
    fn white_noise_has_its_level_and_repeats() {
        let mut a = vec![0i16; 80_000];
        add_white_noise(&mut a, -30.0, 5);
        let power = a.iter().map(|&x| (x as f32).powi(2)).sum::<f32>() / a.len() as f32;
        assert!((power_dbm0(power) + 30.0).abs() < 0.3, "{}", power_dbm0(power));
        let mut b = vec![0i16; 80_000];
        add_white_noise(&mut b, -30.0, 5);
        assert_eq!(a, b);
    }

    #[test]
    fn levels_round_trip() {
        assert!((power_dbm0(dbm0_power(-13.0)) + 13.0).abs() < 1e-3);
        let full = 32767.0f32 * 32767.0 / 2.0;
        assert!((power_dbm0(full) - 3.17).abs() < 0.01);
        assert_eq!(power_dbm0(0.0), -100.0);
    }
}
