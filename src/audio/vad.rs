//! Voice activity over whole utterances, with webrtc-vad (libfvad).
//!
//! webrtc-vad's `Vad` holds a raw pointer and is not `Send`: it is made where it is used and never
//! crosses threads. It is cheap to make (a few hundred bytes), so one per utterance is fine; the
//! per-call engine will keep one on its own thread for frame-by-frame decisions.

use webrtc_vad::{SampleRate, Vad, VadMode};

/// How eager the detector is to call a frame speech. Telephone lines are noisy, so the default for
/// gating transcription is `Aggressive`: a false "speech" costs a Whisper run and risks invented
/// text, a missed quiet syllable costs little.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoiceActivity {
    Quality,
    LowBitrate,
    Aggressive,
    VeryAggressive,
}

impl VoiceActivity {
    fn mode(self) -> VadMode {
        match self {
            VoiceActivity::Quality => VadMode::Quality,
            VoiceActivity::LowBitrate => VadMode::LowBitrate,
            VoiceActivity::Aggressive => VadMode::Aggressive,
            VoiceActivity::VeryAggressive => VadMode::VeryAggressive,
        }
    }
}

/// Frame length the detector is fed: 30 ms is its most reliable size.
const FRAME_MS: u32 = 30;
const MAX_FRAME: usize = 48_000 * FRAME_MS as usize / 1000;

/// Voiced speech (vowels, nasals) crosses zero a few times per pitch period: well under a third of
/// samples even at 8 kHz. White noise, hiss and a saturated line cross on about half the samples,
/// and webrtc-vad alone calls much of that speech; this check keeps it out.
const MAX_VOICED_ZCR: f32 = 0.3;

/// Fraction of neighbouring samples that change sign.
pub fn zero_crossing_rate(samples: &[f32]) -> f32 {
    if samples.len() < 2 {
        return 0.0;
    }
    let crossings = samples.windows(2).filter(|w| (w[0] >= 0.0) != (w[1] >= 0.0)).count();
    crossings as f32 / (samples.len() - 1) as f32
}

/// Total milliseconds of frames judged voiced in `samples` (mono, in [-1, 1]). Rates other than
/// 8, 16, 32 and 48 kHz count as no speech; callers resample first.
pub fn voiced_duration_ms(samples: &[f32], sample_rate: u32, activity: VoiceActivity) -> u32 {
    let rate = match sample_rate {
        8000 => SampleRate::Rate8kHz,
        16000 => SampleRate::Rate16kHz,
        32000 => SampleRate::Rate32kHz,
        48000 => SampleRate::Rate48kHz,
        _ => return 0,
    };
    let mut vad = Vad::new_with_rate_and_mode(rate, activity.mode());
    let frame_len = (sample_rate * FRAME_MS / 1000) as usize;
    let mut frame = [0i16; MAX_FRAME];
    let mut voiced = 0u32;
    for chunk in samples.chunks_exact(frame_len) {
        for (dst, &src) in frame.iter_mut().zip(chunk) {
            *dst = (src.clamp(-1.0, 1.0) * 32767.0) as i16;
        }
        if zero_crossing_rate(chunk) < MAX_VOICED_ZCR && vad.is_voice_segment(&frame[..frame_len]).unwrap_or(false) {
            voiced += FRAME_MS;
        }
    }
    voiced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_noise_is_not_voice() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<f32> = (0..16_000 * 2)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x & 1 == 0 { 0.9 } else { -0.9 }
            })
            .collect();
        assert!(zero_crossing_rate(&noise) > 0.4);
        assert_eq!(voiced_duration_ms(&noise, 16_000, VoiceActivity::Quality), 0);
    }

    #[test]
    fn silence_has_no_voice() {
        assert_eq!(voiced_duration_ms(&vec![0.0; 16_000], 16_000, VoiceActivity::Aggressive), 0);
    }

    #[test]
    fn unsupported_rate_counts_nothing() {
        assert_eq!(voiced_duration_ms(&vec![0.5; 22_050], 22_050, VoiceActivity::Quality), 0);
    }

    #[test]
    fn a_voiced_like_harmonic_signal_is_detected() {
        // A 150 Hz pulse train through formant-ish harmonics: crude, but voiced to the detector.
        let sr = 16_000.0;
        let s: Vec<f32> = (0..16_000)
            .map(|i| {
                let t = i as f32 / sr;
                (1..=20).map(|h| (2.0 * std::f32::consts::PI * 150.0 * h as f32 * t).sin() / h as f32).sum::<f32>() * 0.2
            })
            .collect();
        assert!(voiced_duration_ms(&s, 16_000, VoiceActivity::Quality) > 500);
    }
}

/// Frame-by-frame speech decisions for a live call: webrtc-vad on 20 ms of 8 kHz audio, with
/// the zero-crossing check against hiss and an energy floor against a quiet line's rumble.
/// Not `Send` (see the module note): each call makes its own on its engine thread.
pub struct FrameVad {
    vad: Vad,
}

/// Below this RMS (about -48 dBFS) a frame is line noise, whatever the detector says.
const MIN_SPEECH_RMS: f32 = 130.0;

impl FrameVad {
    pub fn new(activity: VoiceActivity) -> FrameVad {
        FrameVad { vad: Vad::new_with_rate_and_mode(SampleRate::Rate8kHz, activity.mode()) }
    }

    /// Whether 20 ms of 8 kHz audio (160 samples) holds speech.
    pub fn is_voiced(&mut self, frame: &[i16; 160]) -> bool {
        let energy: f32 = frame.iter().map(|&s| (s as f32) * (s as f32)).sum::<f32>() / frame.len() as f32;
        if energy.sqrt() < MIN_SPEECH_RMS {
            return false;
        }
        let crossings = frame.windows(2).filter(|w| (w[0] >= 0) != (w[1] >= 0)).count();
        if crossings as f32 / (frame.len() - 1) as f32 >= MAX_VOICED_ZCR {
            return false;
        }
        self.vad.is_voice_segment(frame).unwrap_or(false)
    }
}

#[cfg(test)]
mod frame_tests {
    use super::*;

    #[test]
    fn frames_of_silence_and_hiss_are_not_voiced_and_a_vowel_is() {
        let mut vad = FrameVad::new(VoiceActivity::Aggressive);
        assert!(!vad.is_voiced(&[0; 160]));
        let mut x = 0x9e37_79b9u32;
        let hiss: [i16; 160] = std::array::from_fn(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x % 8000) as i16 - 4000
        });
        assert!(!vad.is_voiced(&hiss));
        let mut voiced = 0;
        for n in 0..25 {
            let frame: [i16; 160] = std::array::from_fn(|i| {
                let t = (n * 160 + i) as f32 / 8000.0;
                ((1..=12).map(|h| (2.0 * std::f32::consts::PI * 140.0 * h as f32 * t).sin() / h as f32).sum::<f32>() * 6000.0) as i16
            });
            voiced += vad.is_voiced(&frame) as u32;
        }
        assert!(voiced > 15, "{voiced} of 25 frames of a vowel-like signal");
    }
}
