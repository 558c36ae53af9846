//! Piper synthesis with the project's voice: sentence streaming, early stop, the prompt cache.

mod common;

use std::sync::Arc;

use frontdesk::speech::tts::PromptCache;

#[test]
fn sentences_arrive_one_by_one_and_can_be_stopped() {
    let v = common::voice();
    let mut chunks = Vec::new();
    v.synthesize_streaming("Good morning. Our office opens at nine. Please hold.", |s| {
        chunks.push(s.samples.len());
        true
    })
    .unwrap();
    assert_eq!(chunks.len(), 3, "{chunks:?}");
    assert!(chunks.iter().all(|&n| n > 4_000), "{chunks:?}");

    let mut calls = 0;
    v.synthesize_streaming("One. Two. Three.", |_| {
        calls += 1;
        false
    })
    .unwrap();
    assert_eq!(calls, 1, "a barge-in stops synthesis after the current sentence");
}

#[test]
fn audio_is_speech_shaped_and_in_range() {
    let v = common::voice();
    let a = v.synthesize("Thank you for calling.").unwrap();
    assert_eq!(a.sample_rate, 22_050);
    let secs = a.samples.len() as f32 / 22_050.0;
    assert!((0.6..4.0).contains(&secs), "{secs} s");
    let peak = a.samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak > 0.5 && peak <= 1.0, "peak {peak}");
}

#[test]
fn phoneme_ids_follow_pipers_layout() {
    let v = common::voice();
    let ids = v.phoneme_ids("hɛlˈoʊ.");
    assert_eq!(&ids[..2], &[1, 0], "BOS then pad");
    assert_eq!(*ids.last().unwrap(), 2, "EOS");
    // Every phoneme is followed by a pad.
    assert!(ids[1..ids.len() - 1].iter().step_by(2).all(|&id| id == 0), "{ids:?}");
}

#[test]
fn prompt_cache_synthesises_once() {
    let cache = PromptCache::new(common::voice());
    let a = cache.get("Please hold while I transfer you.").unwrap();
    let b = cache.get("Please hold while I transfer you.").unwrap();
    assert!(Arc::ptr_eq(&a, &b), "the second request is served from the cache");
    assert_eq!(cache.warm(["Please hold while I transfer you.", "Goodbye."]).unwrap(), 2);
    assert_eq!(cache.len(), 2);
}

#[test]
fn text_is_made_speakable_before_synthesis() {
    // "Dr." read as a word and the phone number digit by digit make this longer than the raw
    // text would be if espeak read "5550147" as a single number.
    let v = common::voice();
    let heard = {
        let audio = v.synthesize("Call Dr. Patel at 555-0147.").unwrap();
        let phone =
            frontdesk::audio::telephone::through_g711(&audio.samples, audio.sample_rate, frontdesk::audio::g711::Law::Ulaw).unwrap();
        let wide = frontdesk::audio::resample::resample(&phone, 8000, 16_000).unwrap();
        common::stt().transcriber().unwrap().transcribe(&wide).unwrap().text
    };
    let digits: String = heard.chars().filter(|c| c.is_ascii_digit()).collect();
    assert!(digits.contains("5550147") || heard.to_lowercase().contains("five five five"), "{heard}");
    assert!(heard.to_lowercase().contains("patel"), "{heard}");
}
