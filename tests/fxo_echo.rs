//! The analog line's echo canceller on a simulated hybrid: our own prompt goes out, the line
//! returns it 3 ms later, 10 dB down, through a short impulse response, with line noise. After
//! convergence the echo must be at least 25 dB weaker (ERLE), and the voice-activity detector
//! that drives barge-in must stop hearing it; a caller talking over the prompt must still come
//! through.

mod common;

use frontdesk::audio::aec::{DEFAULT_TAIL_MS, EchoCanceller, simulated_hybrid};
use frontdesk::audio::vad::{FrameVad, VoiceActivity};

/// Our voice at 8 kHz, as the line carries it.
fn say(text: &str) -> Vec<i16> {
    let a = common::steady_voice().synthesize(text).unwrap();
    frontdesk::audio::telephone::to_line_pcm(&a.samples, a.sample_rate).unwrap()
}

fn energy(x: impl Iterator<Item = f32>) -> f64 {
    x.map(|v| (v as f64) * (v as f64)).sum()
}

/// A fixed-seed noise floor at about -65 dBm0.
fn line_noise(n: usize) -> Vec<i16> {
    let mut x = 12345u32;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((x >> 16) as i16) >> 11
        })
        .collect()
}

/// Runs the line through the canceller frame by frame; what the engine would hear.
fn cancel(heard: &[i16], played: &[i16]) -> Vec<i16> {
    let mut aec = EchoCanceller::new(DEFAULT_TAIL_MS);
    let mut out = Vec::with_capacity(heard.len());
    for (h, p) in heard.chunks_exact(160).zip(played.chunks_exact(160)) {
        out.extend_from_slice(aec.cancel(h.try_into().unwrap(), p.try_into().unwrap()));
    }
    out
}

fn voiced_frames(audio: &[i16]) -> usize {
    let mut vad = FrameVad::new(VoiceActivity::Aggressive);
    audio.chunks_exact(160).filter(|f| vad.is_voiced((*f).try_into().unwrap())).count()
}

#[test]
fn the_prompts_echo_is_cancelled_and_the_caller_still_heard() {
    let mut prompt = say("Thank you for calling Riverside Family Clinic. I'm the automated assistant. How can I help you today?");
    prompt.extend(say(
        "Our hours are Monday to Friday, eight in the morning to five in the afternoon. Is there anything else I can help you with?",
    ));
    prompt.truncate(prompt.len() / 160 * 160);
    let n = prompt.len();
    let noise = line_noise(n);
    let echo_only = simulated_hybrid(&prompt, &noise, 24, 10.0);
    let echo: Vec<f32> = echo_only.iter().zip(&noise).map(|(&e, &z)| (e - z) as f32).collect();

    // The canceller says when it has learnt the echo path (the line passes on what it heard
    // until then); on a line with no echo it never claims to.
    let mut aec = EchoCanceller::new(DEFAULT_TAIL_MS);
    let settled_at = echo_only.chunks_exact(160).zip(prompt.chunks_exact(160)).position(|(h, p)| {
        aec.cancel(h.try_into().unwrap(), p.try_into().unwrap());
        aec.settled()
    });
    eprintln!("the canceller settled after {:?} ms of the prompt", settled_at.map(|f| f * 20));
    assert!(settled_at.is_some_and(|f| f <= 150), "settled at frame {settled_at:?}");
    let mut quiet_line = EchoCanceller::new(DEFAULT_TAIL_MS);
    for (h, p) in noise.chunks_exact(160).zip(prompt.chunks_exact(160)) {
        quiet_line.cancel(h.try_into().unwrap(), p.try_into().unwrap());
    }
    assert!(!quiet_line.settled(), "no echo, nothing learnt");

    // Echo alone: ERLE after the first two seconds.
    let out = cancel(&echo_only, &prompt);
    let settled = 8000 * 2;
    let residual: Vec<f32> = out.iter().zip(&noise).map(|(&o, &z)| (o - z) as f32).collect();
    let erle = 10.0 * (energy(echo[settled..].iter().copied()) / energy(residual[settled..].iter().copied()).max(1.0)).log10();
    eprintln!("ERLE after convergence: {erle:.1} dB over {} s", (n - settled) / 8000);
    assert!(erle >= 25.0, "ERLE {erle:.1} dB");
    // What barge-in listens to: the echo is speech to the VAD without the canceller, not with it.
    let (before, after) = (voiced_frames(&echo_only[settled..]), voiced_frames(&out[settled..]));
    eprintln!("frames voiced by the echo alone: {before} without the canceller, {after} with it");
    assert!(before > 50, "the echo is loud enough to matter: {before}");
    assert!(after * 10 <= before, "{after} of {before} still voiced");

    // A caller talking over the prompt from its fourth second: barge-in hears them as soon as
    // it would hear them on a line with no echo at all.
    let mut caller = vec![0i16; 8000 * 4];
    caller.extend(say("I need to cancel my appointment for Thursday."));
    caller.resize(n, 0);
    let line: Vec<i16> = simulated_hybrid(&prompt, &caller, 24, 10.0).iter().zip(&noise).map(|(&a, &b)| a.saturating_add(b)).collect();
    let out = cancel(&line, &prompt);
    let clean: Vec<i16> = caller.iter().zip(&noise).map(|(&a, &b)| a.saturating_add(b)).collect();
    let onset = |audio: &[i16]| {
        let mut vad = FrameVad::new(VoiceActivity::Aggressive);
        let voiced: Vec<bool> = audio.chunks_exact(160).map(|f| vad.is_voiced(f.try_into().unwrap())).collect();
        // The first frame of 200 ms voiced in 240 (barge_in_min_speech_ms), once the canceller
        // has settled (2 s): an echo taken for the caller would show as an onset before 4 s.
        (100..voiced.len() - 12).find(|&i| voiced[i..i + 12].iter().filter(|&&v| v).count() >= 10)
    };
    let (alone, cancelled) = (onset(&clean).expect("caller voiced"), onset(&out).expect("caller voiced through the canceller"));
    eprintln!("barge-in onset: frame {cancelled} through the canceller, frame {alone} with no echo");
    assert!(alone >= 198, "the caller starts at 4 s (frame 200): {alone}");
    assert!((alone..=alone + 2).contains(&cancelled), "barge-in at frame {cancelled}, with no echo at {alone}");
    let talk = 8000 * 4..n;
    let caller_e = energy(caller[talk.clone()].iter().map(|&c| c as f32));
    let error_e = energy(talk.clone().map(|i| (out[i] as f32) - (caller[i] as f32)));
    let raw_e = energy(talk.clone().map(|i| (line[i] as f32) - (caller[i] as f32)));
    eprintln!(
        "double talk: caller {:.1} dB above the rest through the canceller, {:.1} dB without it",
        10.0 * (caller_e / error_e).log10(),
        10.0 * (caller_e / raw_e).log10()
    );
}
