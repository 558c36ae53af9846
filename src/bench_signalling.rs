//! `frontdesk bench signalling`: how well and how cheaply the analog line's receivers work on
//! this machine. Detection rates of DTMF and FSK caller ID over levels and white-noise signal
//! to noise ratios (each trial with its own noise), and the CPU one line's per-frame listening
//! (DTMF, call-progress tones, caller ID) costs. No model and no device: seconds, not minutes.

use std::time::Instant;

use anyhow::Result;

use crate::audio::dtmf::{DtmfDetector, push_keys};
use crate::audio::fsk::{BELL202, FskModem, V23, push_fsk};
use crate::audio::tones::add_white_noise;
use crate::fxo::cid::{CidListener, SEIZURE, build_mdmf};
use crate::fxo::progress::{ProgressDetector, tone_zone};

const KEYS: &str = "123A456B789C*0#D";

/// Keys heard right of 16 × `rounds` pressed (each 60 ms, then 60 ms of gap, alone with its
/// own noise: a missed key and a wrong or extra one both count as not right).
fn dtmf_rate(dbm0: f32, snr: f32, rounds: u64) -> (usize, usize) {
    let mut right = 0;
    for round in 0..rounds {
        for (i, key) in KEYS.chars().enumerate() {
            let mut audio = vec![0i16; 400];
            push_keys(&mut audio, &key.to_string(), dbm0, 60, 60);
            add_white_noise(&mut audio, dbm0 - snr, round * 16 + i as u64 + 1);
            let mut d = DtmfDetector::new();
            let heard: String = audio.chunks(160).filter_map(|f| d.push(f)).collect();
            right += usize::from(heard.len() == 1 && heard.starts_with(key));
        }
    }
    (right, 16 * rounds as usize)
}

/// Caller IDs read right of `trials` bursts (each with its own number and noise).
fn cid_rate(modem: FskModem, dbm0: f32, snr: f32, trials: u64) -> (usize, usize) {
    let mut right = 0;
    for t in 0..trials {
        let number = format!("617555{:04}", (t * 7919) % 10_000);
        let mut bytes = SEIZURE.to_vec();
        bytes.extend(build_mdmf(Some("12061432"), Some(&number), Some("GONZALEZ MARIA")));
        let mut audio = vec![0i16; 1600];
        push_fsk(&mut audio, modem, &bytes, 150, dbm0);
        audio.extend([0i16; 1600]);
        add_white_noise(&mut audio, dbm0 - snr, t + 11);
        let mut l = CidListener::new(modem);
        let ok = audio.chunks(160).filter_map(|f| l.push(f)).any(|r| r.is_ok_and(|id| id.number.as_deref() == Some(number.as_str())));
        right += usize::from(ok);
    }
    (right, trials as usize)
}

fn pct((a, b): (usize, usize)) -> String {
    format!("{:.1} %", 100.0 * a as f64 / b.max(1) as f64)
}

pub fn run(trials: u64) -> Result<()> {
    println!("# frontdesk bench signalling\n");
    println!("## DTMF: keys heard right ({} per cell, 60 ms keys, 60 ms gaps, white noise)\n", 16 * trials);
    let snrs = [30.0f32, 20.0, 15.0, 10.0];
    println!("| level per tone | {} |", snrs.map(|s| format!("SNR {s} dB")).join(" | "));
    println!("|---|{}", "---|".repeat(snrs.len()));
    for level in [-5.0f32, -15.0, -25.0, -30.0, -35.0] {
        let cells: Vec<String> = snrs.iter().map(|&snr| pct(dtmf_rate(level, snr, trials))).collect();
        println!("| {level} dBm0 | {} |", cells.join(" | "));
    }
    for (modem, name) in [(BELL202, "Bell 202"), (V23, "V.23")] {
        println!("\n## Caller ID, {name}: messages read right ({trials} per cell, MDMF with number and name, white noise)\n");
        println!("| level | {} |", snrs.map(|s| format!("SNR {s} dB")).join(" | "));
        println!("|---|{}", "---|".repeat(snrs.len()));
        for level in [-10.0f32, -25.0, -40.0, -45.0] {
            let cells: Vec<String> = snrs.iter().map(|&snr| pct(cid_rate(modem, level, snr, trials))).collect();
            println!("| {level} dBm0 | {} |", cells.join(" | "));
        }
    }

    // CPU: one line listening for keys and progress tones during a call, and for caller ID
    // while on hook, over a minute of noisy audio with keys in it.
    let mut audio = Vec::new();
    while audio.len() < 8000 * 60 {
        push_keys(&mut audio, KEYS, -20.0, 60, 940);
    }
    add_white_noise(&mut audio, -45.0, 3);
    let zone = tone_zone("us").expect("us zone");
    let (mut d, mut p, mut c) = (DtmfDetector::new(), ProgressDetector::new(zone), CidListener::new(BELL202));
    let started = Instant::now();
    let mut found = 0usize;
    for f in audio.chunks_exact(160) {
        found += usize::from(d.push(f).is_some());
        found += usize::from(p.push(f).is_some());
        found += usize::from(c.push(f).is_some());
    }
    let took = started.elapsed();
    let frames = audio.len() / 160;
    println!(
        "\n## CPU\n\nOne line's receivers (DTMF, call-progress tones, caller ID) on 60 s of audio: {:.1} µs per 20 ms frame, {:.3} % of one core ({found} events).",
        took.as_secs_f64() * 1e6 / frames as f64,
        100.0 * took.as_secs_f64() / 60.0
    );

    // A line in a call does more per frame: the echo canceller (the line's default tail), and
    // resampling when the device runs at 48 kHz (both directions).
    let tail = 128;
    let mut aec = crate::audio::aec::EchoCanceller::new(tail);
    let mut down = crate::audio::resample::FrameResampler::new(48_000, 8000, 960)?;
    let mut up = crate::audio::resample::FrameResampler::new(8000, 48_000, 160)?;
    let (mut wide, mut narrow, mut back) = (vec![0f32; 960], vec![0f32; 160], vec![0f32; 960]);
    let played: Vec<i16> = audio.iter().rev().copied().collect();
    let started = Instant::now();
    let mut sum = 0i64;
    for (f, o) in audio.chunks_exact(160).zip(played.chunks_exact(160)) {
        let (heard, out): (&crate::line::Frame, &crate::line::Frame) = (f.try_into()?, o.try_into()?);
        for (x, w) in wide.iter_mut().enumerate() {
            *w = heard[x % 160] as f32 / 32768.0;
        }
        down.process(&wide, &mut narrow);
        for (n, &x) in narrow.iter_mut().zip(out.iter()) {
            *n = x as f32 / 32768.0;
        }
        up.process(&narrow, &mut back);
        let clean = aec.cancel(heard, out);
        sum += i64::from(clean[0]);
        found += usize::from(d.push(clean).is_some());
        found += usize::from(p.push(clean).is_some());
    }
    let took = started.elapsed();
    println!(
        "\nA line in a call (echo canceller with a {tail} ms tail, DTMF, call-progress tones, 48 kHz device resampled both ways): {:.1} µs per 20 ms frame, {:.2} % of one core ({found} events, checksum {sum}).",
        took.as_secs_f64() * 1e6 / frames as f64,
        100.0 * took.as_secs_f64() / 60.0
    );
    Ok(())
}
