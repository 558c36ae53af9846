//! `frontdesk bench speech`: how fast this box hears and speaks.
//!
//! Timings live here and in BENCHMARKS.md, not in tests: a shared CI machine makes timed
//! assertions flaky, while a benchmark run on the target box tells the truth about it.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::audio::g711::Law;
use crate::config::Config;
use crate::speech::stt::{self, AudioContext, Stt};
use crate::speech::tts::Voice;

/// Utterances of roughly 2, 3 and 5 seconds as the joe voice speaks them.
const UTTERANCES: &[(&str, &str)] = &[
    ("2 s", "I need to book an appointment."),
    ("3 s", "I would like to reschedule my appointment for Tuesday."),
    ("5 s", "Hi, this is Maria Gonzalez, I need a refill of my lisinopril prescription please."),
];

const SHORT_SENTENCE: &str = "Thank you for calling.";
const PARAGRAPH: &str = "Our office is open Monday to Friday from eight a m to five p m. \
    We are located at four hundred Main Street, suite two hundred. \
    Parking is free in the lot behind the building.";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Peak resident memory of this process so far, from the kernel.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub fn speech(config: &Config, iterations: usize) -> Result<()> {
    let t = Instant::now();
    let stt_engine = Stt::load(&config.stt_settings())?;
    let stt_load = t.elapsed();
    let t = Instant::now();
    let voice = Voice::load(&config.tts_settings())?;
    let tts_load = t.elapsed();
    let rss_loaded = peak_rss_mib();

    println!("# frontdesk bench speech");
    println!();
    println!("machine: {}", machine_description());
    println!(
        "stt: {} ({} threads); tts: {} ({} threads); {iterations} iterations, medians",
        stt_engine.model_path().display(),
        config.stt.threads,
        config.tts_settings().voice.display(),
        config.tts.threads
    );
    println!("load: stt {:.0} ms, tts {:.0} ms; peak RSS after loading both: {:.0} MiB", ms(stt_load), ms(tts_load), rss_loaded.unwrap_or(0.0));
    println!();
    println!("## Speech to text (Piper audio through 8 kHz mu-law, resampled to 16 kHz)");
    println!();
    println!("| utterance | audio s | full context ms | sized context ms (frames) | speed-up | text (sized) |");
    println!("|---|---|---|---|---|---|");
    let mut transcriber = stt_engine.transcriber()?;
    let mut rss_first_turn = None;
    for (label, text) in UTTERANCES {
        let audio = voice.synthesize(text)?;
        let phone = crate::telephone::through_g711(&audio.samples, audio.sample_rate, Law::Ulaw)?;
        let input = crate::audio::resample::resample(&phone, crate::telephone::RATE, stt::SAMPLE_RATE)?;
        let seconds = input.len() as f64 / stt::SAMPLE_RATE as f64;
        // One untimed run so both modes start warm; the first sized one is what a call's first
        // turn costs in memory.
        transcriber.transcribe_with(&input, AudioContext::Sized)?;
        rss_first_turn.get_or_insert(peak_rss_mib());
        transcriber.transcribe_with(&input, AudioContext::Full)?;
        let mut full = Vec::new();
        let mut sized = Vec::new();
        let mut sized_text = String::new();
        let mut frames = 0;
        for _ in 0..iterations {
            full.push(transcriber.transcribe_with(&input, AudioContext::Full)?.elapsed);
            let r = transcriber.transcribe_with(&input, AudioContext::Sized)?;
            sized.push(r.elapsed);
            sized_text = r.text;
            frames = r.audio_ctx;
        }
        let (f, s) = (median(full), median(sized));
        println!(
            "| {label} | {seconds:.2} | {:.0} | {:.0} ({frames}) | {:.1}x | {sized_text} |",
            ms(f),
            ms(s),
            f.as_secs_f64() / s.as_secs_f64()
        );
    }
    println!();
    println!(
        "peak RSS after the first sized transcription (both models, one transcriber): {:.0} MiB",
        rss_first_turn.flatten().unwrap_or(0.0)
    );
    println!();
    println!("## Text to speech");
    println!();
    let mut first = Vec::new();
    for _ in 0..iterations {
        let t = Instant::now();
        let mut at = None;
        voice.synthesize_streaming(SHORT_SENTENCE, |_| {
            at.get_or_insert(t.elapsed());
            false
        })?;
        first.push(at.unwrap_or_default());
    }
    let mut first_of_paragraph = Vec::new();
    let mut rtf = Vec::new();
    for _ in 0..iterations {
        let t = Instant::now();
        let mut at = None;
        let mut samples = 0usize;
        voice.synthesize_streaming(PARAGRAPH, |s| {
            at.get_or_insert(t.elapsed());
            samples += s.samples.len();
            true
        })?;
        let total = t.elapsed();
        first_of_paragraph.push(at.unwrap_or_default());
        let audio_s = samples as f64 / voice.sample_rate() as f64;
        rtf.push(Duration::from_secs_f64(total.as_secs_f64() / audio_s));
    }
    println!("| measure | value |");
    println!("|---|---|");
    println!("| first audio, short sentence ({SHORT_SENTENCE:?}) | {:.0} ms |", ms(median(first)));
    println!("| first audio, 3-sentence paragraph | {:.0} ms |", ms(median(first_of_paragraph)));
    println!("| real-time factor, paragraph | {:.3} |", median(rtf).as_secs_f64());
    println!();
    println!("peak RSS at end (after full-context runs too): {:.0} MiB", peak_rss_mib().unwrap_or(0.0));
    Ok(())
}

fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cpu}, {cores} cores, {}", std::env::consts::ARCH)
}
