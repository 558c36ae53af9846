//! The daemon's `echo` app called by baresip (Debian `baresip`), every address on 127.0.0.1.
//!
//! baresip's microphone is a WAV of our own voice (module aufile); what it hears is recorded by
//! module sndfile. The test drives baresip over its ctrl_tcp module (JSON commands and events in
//! netstrings): dial, wait for the answer, let the speech play and come back, send three RFC 4733
//! digits, hang up. Then the recording must hold the same speech (correlation with the WAV sent,
//! and the project's own Whisper transcribing it), and the daemon's log must hold the digits in
//! order. baresip's config is tests/baresip/ with the ports and paths filled in.

mod common;

use common::daemon::Daemon;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::baresip::{Baresip, Ctrl, Ports, baresip_config, require_baresip};

/// The daemon's SIP port (its RTP range follows from it, see tests/common/daemon.rs).
const SIP_PORT: u16 = 16060;
/// baresip's SIP port (UDP and TCP; its TLS listener takes the next one), RTP range and
/// control port.
const BARESIP_SIP_PORT: u16 = 16070;
const BARESIP_RTP_PORTS: &str = "36200-36299";
const BARESIP_CTRL_PORT: u16 = 16075;

const SENTENCE: &str = "Hello, I would like to book an appointment with Doctor Patel on Tuesday morning.";
const KEY_WORDS: &[&str] = &["appointment", "patel", "tuesday", "morning"];
const DIGITS: &[char] = &['1', '5', '#'];
/// Silence before the speech in the WAV baresip plays, and after it (the call ends long before
/// the file does).
const LEAD_SECONDS: f32 = 0.5;
const TAIL_SECONDS: f32 = 8.0;

/// The caller's speech in our own voice at 8 kHz, as said, and padded with silence as the WAV
/// baresip plays (16-bit mono at the codec's rate, which aufile requires).
fn caller_audio(dir: &Path) -> (Vec<f32>, PathBuf) {
    let said = dir.join("speech.wav");
    common::say(SENTENCE, &said);
    let speech = frontdesk::wav::read_mono(&said, 30).unwrap();
    assert_eq!(speech.sample_rate, 8000);
    let mut padded = vec![0.0f32; (LEAD_SECONDS * 8000.0) as usize];
    padded.extend_from_slice(&speech.samples);
    padded.extend(std::iter::repeat_n(0.0f32, (TAIL_SECONDS * 8000.0) as usize));
    let wav = dir.join("caller.wav");
    frontdesk::wav::write_mono_i16(&wav, &padded, 8000).unwrap();
    (speech.samples, wav)
}

/// The call as the caller makes it: dial, let the speech play and come back, send the digits,
/// hang up, quit.
fn make_call(baresip: &mut Baresip, speech_seconds: f32) -> Result<(), String> {
    let mut ctrl = Ctrl::connect(baresip, BARESIP_CTRL_PORT, Duration::from_secs(10))?;
    ctrl.command("dial", &format!("sip:echo@127.0.0.1:{SIP_PORT}"))?;
    ctrl.wait_event("CALL_ESTABLISHED", Duration::from_secs(10))?;
    // The speech, its echo (60 to 100 ms later) and a margin.
    std::thread::sleep(Duration::from_secs_f32(LEAD_SECONDS + speech_seconds + 1.2));
    if ctrl.wait_event("CALL_CLOSED", Duration::ZERO).is_ok() {
        return Err(format!("the call closed before the digits were sent; baresip reported:\n{}", ctrl.transcript()));
    }
    for d in DIGITS {
        // One digit per command: baresip sends its RFC 4733 start packets, then the end packets.
        ctrl.command("sndcode", &d.to_string())?;
        std::thread::sleep(Duration::from_millis(350));
    }
    std::thread::sleep(Duration::from_millis(700));
    ctrl.command("hangup", "")?;
    ctrl.wait_event("CALL_CLOSED", Duration::from_secs(5))?;
    ctrl.command("quit", "")?;
    Ok(())
}

/// Best normalised cross-correlation of `needle` inside `hay`, and its lag in samples.
fn best_correlation(needle: &[f32], hay: &[f32]) -> (f32, usize) {
    if hay.len() < needle.len() {
        return (0.0, 0);
    }
    let dot = |lag: usize| -> f32 {
        let seg = &hay[lag..lag + needle.len()];
        let (mut xy, mut yy) = (0.0f64, 0.0f64);
        for (x, y) in needle.iter().zip(seg) {
            xy += (*x as f64) * (*y as f64);
            yy += (*y as f64) * (*y as f64);
        }
        let xx: f64 = needle.iter().map(|x| (*x as f64) * (*x as f64)).sum();
        if xx == 0.0 || yy == 0.0 { 0.0 } else { (xy / (xx * yy).sqrt()) as f32 }
    };
    let last = hay.len() - needle.len();
    let mut best = (f32::MIN, 0);
    for lag in (0..=last).step_by(4) {
        let c = dot(lag);
        if c > best.0 {
            best = (c, lag);
        }
    }
    for lag in best.1.saturating_sub(4)..=(best.1 + 4).min(last) {
        let c = dot(lag);
        if c > best.0 {
            best = (c, lag);
        }
    }
    best
}

/// Dotted quads in `text` (SIP headers, SDP), as written.
fn ipv4_addresses(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| {
            let parts: Vec<&str> = t.split('.').collect();
            parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u16>().is_ok_and(|n| n <= 255))
        })
        .map(str::to_string)
        .collect()
}

/// `key=value` fields of the daemon's "call ended" lines.
fn ended_calls(log: &str) -> Vec<std::collections::HashMap<String, String>> {
    log.lines()
        .filter(|l| l.contains("call ended"))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn baresip_call_to_echo_hears_its_speech_and_sends_dtmf() {
    require_baresip();
    let started = Instant::now();
    let d = Daemon::launch("baresip", SIP_PORT, "app = \"echo\"", "", "info,frontdesk=debug");
    let (speech, wav) = caller_audio(&d.dir);
    let rec_dir = d.dir.join("rec");
    std::fs::create_dir_all(&rec_dir).unwrap();
    let ports = Ports { sip: BARESIP_SIP_PORT, rtp: BARESIP_RTP_PORTS, ctrl: BARESIP_CTRL_PORT };
    let conf = baresip_config(&d.dir, ports, &wav, &rec_dir);

    let mut baresip = Baresip::start(&conf, 45);
    let call = make_call(&mut baresip, speech.len() as f32 / 8000.0);
    let exited = baresip.wait_exit(Duration::from_secs(5));
    let bout = baresip.output();
    // The end-of-call line follows the BYE at once; wait for it before stopping the daemon.
    let ended = d.try_wait_for("call ended", Duration::from_secs(5));
    let log = d.stop();
    let context = || format!("\n--- baresip output ---\n{bout}\n--- daemon log ---\n{log}");
    if let Err(e) = call {
        panic!("the call failed: {e}{}", context());
    }
    assert!(exited, "baresip did not quit after /quit{}", context());
    if let Err(e) = ended {
        panic!("{e}{}", context());
    }

    // Only the loopback address in the SIP messages and SDP both ways (baresip's -s trace).
    assert!(
        bout.contains(&format!("INVITE sip:echo@127.0.0.1:{SIP_PORT} SIP/2.0")) && bout.contains("SIP/2.0 200 OK"),
        "no INVITE/200 in baresip's SIP trace{}",
        context()
    );
    let others: Vec<String> = ipv4_addresses(&bout).into_iter().filter(|a| a != "127.0.0.1").collect();
    assert!(others.is_empty(), "addresses other than 127.0.0.1 in baresip's output: {others:?}{}", context());

    // The daemon's view of the call.
    let calls = ended_calls(&log);
    assert_eq!(calls.len(), 1, "expected one call{}", context());
    let c = &calls[0];
    let n = |k: &str| c.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or_else(|| panic!("no {k} in {c:?}{}", context()));
    assert!(
        log.lines().any(|l| l.contains("call ended") && l.contains("why=\"caller hung up\"")),
        "the call did not end by baresip's BYE{}",
        context()
    );
    assert!(n("rtp_received") >= 200 && n("rtp_sent") >= 200, "too few RTP packets: {c:?}{}", context());
    assert_eq!(n("rtp_invalid"), 0, "{c:?}{}", context());

    // (b) The RFC 4733 digits arrived as events, each once, in order.
    let digits: Vec<char> = log
        .lines()
        .filter(|l| l.contains("DTMF digit"))
        .filter_map(|l| l.split_whitespace().find_map(|kv| kv.strip_prefix("digit=")).and_then(|v| v.trim_matches('"').chars().next()))
        .collect();
    assert_eq!(digits, DIGITS, "digits logged by the daemon (sent {DIGITS:?}){}", context());
    assert_eq!(log.matches("DTMF received").count(), DIGITS.len(), "{}", context());
    assert_eq!(n("dtmf"), DIGITS.len() as u64, "{c:?}{}", context());

    // (a) What baresip heard: its sndfile recording of the decoded audio.
    let heard_path = std::fs::read_dir(&rec_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .unwrap_or_else(|| panic!("baresip's sndfile wrote no *-dec.wav in {}{}", rec_dir.display(), context()));
    let heard = frontdesk::wav::read_mono(&heard_path, 60).unwrap();
    assert_eq!(heard.sample_rate, 8000, "{}", heard_path.display());
    let (corr, lag) = best_correlation(&speech, &heard.samples);
    assert!(
        corr > 0.7,
        "the recording does not hold the speech sent: best correlation {corr:.3} at {:.3} s ({} holds {:.1} s){}",
        lag as f32 / 8000.0,
        heard_path.display(),
        heard.seconds(),
        context()
    );
    let wide = frontdesk::audio::resample::resample(&heard.samples, 8000, 16_000).unwrap();
    let transcript = common::stt().transcriber().unwrap().transcribe(&wide).unwrap();
    let words: String = transcript.text.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    let missing: Vec<&str> = KEY_WORDS.iter().copied().filter(|w| !words.split_whitespace().any(|x| x == *w)).collect();
    assert!(
        missing.is_empty(),
        "the recording's transcript {:?} lacks {missing:?} (said {SENTENCE:?}; correlation {corr:.3}){}",
        transcript.text,
        context()
    );
    eprintln!(
        "baresip heard {:?} (correlation {corr:.3} at {:.3} s into the recording); digits {digits:?}; {:.1} s in all",
        transcript.text,
        lag as f32 / 8000.0,
        started.elapsed().as_secs_f32()
    );
}
