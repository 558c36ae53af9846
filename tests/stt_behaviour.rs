//! Recognition on what is not speech must yield nothing: Whisper is known to invent "Thank you."
//! on silence and noise, and a caller who coughs must not be heard as saying something.

mod common;

use frontdesk::speech::stt::SttError;

const RATE: usize = 16_000;

/// Deterministic noise so the test is the same on every run.
fn noise(seconds: f32, amplitude: f32, seed: u64) -> Vec<f32> {
    let mut x = seed;
    (0..(seconds * RATE as f32) as usize)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amplitude
        })
        .collect()
}

fn transcribe(samples: &[f32]) -> frontdesk::speech::stt::Transcript {
    common::stt().transcriber().unwrap().transcribe(samples).unwrap()
}

#[test]
fn speech_is_heard_with_confidence() {
    let t = transcribe(&common::phone_speech("I would like to book an appointment for next week."));
    assert!(t.text.to_lowercase().contains("appointment"), "{t:?}");
    assert!(t.confidence > 0.6, "{t:?}");
}

#[test]
fn silence_yields_nothing() {
    let t = transcribe(&vec![0.0; RATE * 3]);
    assert!(t.is_empty(), "{t:?}");
}

#[test]
fn line_hiss_yields_nothing() {
    for (amp, seed) in [(0.01, 1), (0.1, 2), (0.3, 3)] {
        let t = transcribe(&noise(3.0, amp, seed));
        assert!(t.is_empty(), "noise at {amp}: {t:?}");
    }
}

#[test]
fn rumble_and_tones_yield_nothing() {
    // Brown-ish noise (wind, handling) and a US dial tone (350 + 440 Hz).
    let mut acc = 0.0f32;
    let rumble: Vec<f32> = noise(3.0, 0.2, 7)
        .iter()
        .map(|x| {
            acc = (acc + x * 0.2).clamp(-0.8, 0.8) * 0.995;
            acc
        })
        .collect();
    let t = transcribe(&rumble);
    assert!(t.is_empty(), "rumble: {t:?}");
    let tone: Vec<f32> = (0..RATE * 3)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            0.25 * ((2.0 * std::f32::consts::PI * 350.0 * t).sin() + (2.0 * std::f32::consts::PI * 440.0 * t).sin())
        })
        .collect();
    let t = transcribe(&tone);
    assert!(t.is_empty(), "dial tone: {t:?}");
}

#[test]
fn clipped_audio_yields_nothing() {
    // Hard-clipped noise bursts (a line fault) and a clipped-off 80 ms fragment of speech.
    let saturated: Vec<f32> = noise(2.0, 1.0, 11).iter().map(|x| if *x >= 0.0 { 1.0 } else { -1.0 }).collect();
    let t = transcribe(&saturated);
    assert!(t.is_empty(), "saturated: {t:?}");
    let speech = common::phone_speech("Hello there.");
    let start = speech.iter().position(|x| x.abs() > 0.05).unwrap();
    let fragment: Vec<f32> = speech[start..start + RATE * 8 / 100].to_vec();
    let t = transcribe(&fragment);
    assert!(t.is_empty(), "fragment: {t:?}");
}

#[test]
fn empty_and_overlong_input_are_errors() {
    let mut t = common::stt().transcriber().unwrap();
    assert!(matches!(t.transcribe(&[]), Err(SttError::Empty)));
    let long = vec![0.0f32; RATE * 60];
    let err = t.transcribe(&long).unwrap_err();
    assert!(matches!(err, SttError::TooLong { .. }), "{err}");
}

/// A lone "Yes." or "No." is transcribed once: the tiny model writes "Yes. Yes." for one short
/// word, and staff read these transcripts. A caller who does say "yes, yes" keeps both.
#[test]
fn a_short_answer_said_once_is_written_once() {
    for (said, written) in [("Yes.", "yes"), ("No.", "no")] {
        let t = common::stt()
            .transcriber()
            .unwrap()
            .transcribe_turn(&common::phone_speech(said), frontdesk::speech::stt::Priming::Everyday)
            .unwrap();
        let words: Vec<String> = t.text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).collect();
        assert_eq!(words, [written], "{said:?} was heard as {:?} ({} ms voiced)", t.text, t.voiced_ms);
    }
    let t = common::stt()
        .transcriber()
        .unwrap()
        .transcribe_turn(&common::phone_speech("Yes, yes."), frontdesk::speech::stt::Priming::Everyday)
        .unwrap();
    assert_eq!(t.text.to_lowercase().matches("yes").count(), 2, "{:?} ({} ms voiced)", t.text, t.voiced_ms);
}
