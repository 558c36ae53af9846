//! Analog line signalling against independent sources: caller ID bursts transmitted by
//! Debian's `minimodem` (Bell 202 and V.23) and DTMF keys made by `sox`, decoded by our
//! receivers at telephone levels and with noise; and ten minutes of our own voice saying
//! clinic sentences, in which the DTMF receiver must hear no key and the call-progress
//! detector no tone at all.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use frontdesk::audio::dtmf::DtmfDetector;
use frontdesk::audio::fsk::{BELL202, FskModem, V23};
use frontdesk::fxo::cid::{CidError, CidListener, SEIZURE, build_mdmf, build_sdmf};

/// 8 kHz 16-bit samples of a WAV file.
fn read_8k(path: &Path) -> Vec<i16> {
    let a = frontdesk::wav::read_mono(path, 600).unwrap();
    assert_eq!(a.sample_rate, 8000, "{}", path.display());
    a.samples.iter().map(|&x| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16).collect()
}

/// `bytes` sent by minimodem as 1200 baud FSK at 8 kHz, full scale (+3.17 dBm0).
fn minimodem(modem: FskModem, bytes: &[u8], dir: &Path, name: &str) -> Vec<i16> {
    let wav = dir.join(format!("{name}.wav"));
    let mut cmd = Command::new("minimodem");
    cmd.args(["--tx", "-q", "-R", "8000", "-f"]).arg(&wav);
    if modem == V23 {
        cmd.args(["-M", "1300", "-S", "2100"]);
    }
    let mut child = cmd
        .arg("1200")
        .stdin(Stdio::piped())
        .spawn()
        .expect("minimodem is missing: run scripts/install-deps.sh test (Debian package minimodem)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    assert!(child.wait().unwrap().success());
    read_8k(&wav)
}

/// A tone made by sox: `freqs` summed, `ms` long, each at `dbm0`.
fn sox_tone(freqs: &[f32], ms: u32, dbm0: f32, dir: &Path, name: &str) -> Vec<i16> {
    let wav = dir.join(format!("{name}.wav"));
    let mut args: Vec<String> =
        vec!["-r".into(), "8000".into(), "-n".into(), "-r".into(), "8000".into(), "-b".into(), "16".into(), "-c".into(), "1".into()];
    args.push(wav.display().to_string());
    args.push("synth".into());
    args.push(format!("{}", ms as f32 / 1000.0));
    for f in freqs {
        args.extend(["sine".into(), format!("{f}")]);
    }
    // Full-scale sines, mixed down to one channel with each at the level asked for.
    args.extend(["remix".into(), "-".into(), "vol".into(), format!("{}dB", dbm0 - 3.17 + 20.0 * (freqs.len() as f32).log10())]);
    let st = Command::new("sox").args(&args).status().expect("sox is missing: run scripts/install-deps.sh test");
    assert!(st.success(), "sox {args:?}");
    read_8k(&wav)
}

/// Scales to `dbm0` from full scale and adds white noise `snr_db` below it (fixed seed).
fn at_level(audio: &[i16], dbm0: f32, snr_db: f32, seed: u64) -> Vec<i16> {
    let gain = 10f32.powf((dbm0 - 3.17) / 20.0);
    let mut out: Vec<i16> = audio.iter().map(|&s| (s as f32 * gain).round() as i16).collect();
    frontdesk::audio::tones::add_white_noise(&mut out, dbm0 - snr_db, seed);
    out
}

/// A caller ID burst as an exchange sends it: seizure, 150 ms of mark, the message; between
/// quiet (the silence after a ring).
fn burst(modem: FskModem, message: &[u8], dir: &Path, name: &str) -> Vec<i16> {
    let mut audio = vec![0i16; 4000];
    audio.extend(minimodem(modem, &SEIZURE, dir, &format!("{name}-seizure")));
    audio.extend(sox_tone(&[modem.mark], 150, 2.0, dir, &format!("{name}-mark")));
    audio.extend(minimodem(modem, message, dir, name));
    audio.extend(vec![0i16; 4000]);
    audio
}

fn listen(modem: FskModem, audio: &[i16]) -> Vec<Result<frontdesk::fxo::cid::CallerId, CidError>> {
    let mut l = CidListener::new(modem);
    audio.chunks(160).filter_map(|f| l.push(f)).collect()
}

#[test]
fn caller_id_from_minimodem_at_line_levels_and_with_noise() {
    let dir = common::scratch("fxo-cid");
    let message = build_mdmf(Some("12061432"), Some("6175550199"), Some("GONZALEZ MARIA"));
    for (modem, label) in [(BELL202, "bell202"), (V23, "v23")] {
        let clean = burst(modem, &message, &dir, label);
        for level in [-10.0f32, -20.0, -30.0, -40.0] {
            for snr in [40.0f32, 20.0] {
                let got = listen(modem, &at_level(&clean, level, snr, level as u64 * 7 + snr as u64));
                let [Ok(id)] = got.as_slice() else { panic!("{label} at {level} dBm0, {snr} dB SNR: {got:?}") };
                assert_eq!(id.number.as_deref(), Some("6175550199"), "{label} {level} {snr}");
                assert_eq!(id.name.as_deref(), Some("GONZALEZ MARIA"), "{label} {level} {snr}");
                assert_eq!(id.when, Some([12, 6, 14, 32]));
            }
        }
    }
    // SDMF (the single-message format of older North American lines).
    let got = listen(BELL202, &at_level(&burst(BELL202, &build_sdmf("01310905", "2125550147"), &dir, "sdmf"), -20.0, 30.0, 5));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].as_ref().unwrap().number.as_deref(), Some("2125550147"));
}

#[test]
fn a_caller_id_with_a_bad_checksum_is_rejected() {
    let dir = common::scratch("fxo-cid-bad");
    let mut message = build_mdmf(Some("12061432"), Some("6175550199"), None);
    *message.last_mut().unwrap() ^= 0x10;
    let got = listen(BELL202, &at_level(&burst(BELL202, &message, &dir, "bad"), -15.0, 40.0, 3));
    assert_eq!(got, [Err(CidError::BadChecksum)]);
}

const KEYS: &str = "123A456B789C*0#D";

#[test]
fn dtmf_keys_made_by_sox_at_levels_and_twists() {
    let dir = common::scratch("fxo-dtmf");
    for (level, twist) in [(-5.0f32, 0.0f32), (-15.0, 0.0), (-25.0, 0.0), (-30.0, 0.0), (-15.0, 6.0), (-15.0, -3.0)] {
        let mut audio = Vec::new();
        for key in KEYS.chars() {
            let (row, col) = frontdesk::audio::dtmf::frequencies(key).unwrap();
            // Row and column made apart so that the twist (column over row, dB) is exact.
            let r = sox_tone(&[row], 60, level, &dir, "row");
            let c = sox_tone(&[col], 60, level + twist, &dir, "col");
            audio.extend(r.iter().zip(&c).map(|(a, b)| a.saturating_add(*b)));
            audio.extend(vec![0i16; 480]);
        }
        let mut d = DtmfDetector::new();
        let heard: String = audio.chunks(160).filter_map(|f| d.push(f)).collect();
        assert_eq!(heard, KEYS, "{level} dBm0, twist {twist} dB");
    }
}

/// Ten minutes of our voice saying what callers and the box say, through G.711: not one key,
/// and no busy, reorder or dial tone.
/// Then keys pressed between the same sentences are all heard (the receiver is live).
#[test]
fn ten_minutes_of_speech_make_no_key_and_no_progress_tone() {
    let voice = common::voice();
    let mut sentences: Vec<&str> = common::CALLER_SENTENCES.to_vec();
    sentences.extend(common::APPOINTMENT);
    // What the box says back, as an echo on the line would carry it.
    sentences.extend([
        "Thank you for calling Riverside Family Clinic. I'm the automated assistant. How can I help you today?",
        "Is there anything else I can help you with?",
        "Sorry, I didn't catch that.",
        "Please hold while I transfer you.",
        "Could you spell your last name for me, please?",
        "What is your date of birth?",
        "I have March fifth, nineteen eighty. Is that right?",
        "Our hours are Monday to Friday, eight in the morning to five in the afternoon.",
    ]);
    let mut speech: Vec<i16> = Vec::new();
    let mut i = 0;
    while speech.len() < 8000 * 600 {
        let text = sentences[i % sentences.len()];
        let audio = voice.synthesize(text).unwrap();
        let phone =
            frontdesk::audio::telephone::through_g711(&audio.samples, audio.sample_rate, frontdesk::audio::g711::Law::Ulaw).unwrap();
        speech.extend(phone.iter().map(|&x| (x * 32767.0) as i16));
        i += 1;
    }
    let mut d = DtmfDetector::new();
    let heard: String = speech.chunks(160).filter_map(|f| d.push(f)).collect();
    assert_eq!(heard, "", "false keys in {} s of speech ({i} sentences)", speech.len() / 8000);
    // Nor a busy, reorder or dial tone of any zone: a caller talking is not the exchange.
    for zone in frontdesk::fxo::progress::TONE_ZONES {
        let mut p = frontdesk::fxo::progress::ProgressDetector::new(zone);
        let tones: Vec<_> = speech.chunks(160).enumerate().filter_map(|(n, f)| p.push(f).map(|t| (n / 50, t))).collect();
        assert!(tones.is_empty(), "{}: {tones:?} (second, tone)", zone.name);
    }

    let mut mixed = Vec::new();
    for (n, key) in KEYS.chars().enumerate() {
        mixed.extend_from_slice(&speech[n * 8000 * 3..(n + 1) * 8000 * 3]);
        frontdesk::audio::dtmf::push_keys(&mut mixed, &key.to_string(), -12.0, 80, 80);
    }
    let heard: String = mixed.chunks(160).filter_map(|f| d.push(f)).collect();
    assert_eq!(heard, KEYS);
}

/// The installer's tool: `frontdesk line decode-cid` on a recording (44.1 kHz, as a laptop
/// records a line) prints the caller ID, and says so when there is none.
#[test]
fn line_decode_cid_reads_a_recording() {
    let dir = common::scratch("fxo-decode-cid");
    let message = build_mdmf(Some("12061432"), Some("6175550199"), Some("GONZALEZ MARIA"));
    let audio = at_level(&burst(V23, &message, &dir, "rec"), -25.0, 30.0, 9);
    let wide = frontdesk::audio::resample::resample(&audio.iter().map(|&s| s as f32 / 32768.0).collect::<Vec<_>>(), 8000, 44_100).unwrap();
    let wav = dir.join("line.wav");
    frontdesk::wav::write_mono_i16(&wav, &wide, 44_100).unwrap();
    let out = Command::new(common::frontdesk_bin()).args(["line", "decode-cid"]).arg(&wav).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("number 6175550199, name GONZALEZ MARIA, sent 12-06 14:32"), "{stdout}");

    let quiet = dir.join("quiet.wav");
    frontdesk::wav::write_mono_i16(&quiet, &vec![0.0; 16_000], 8000).unwrap();
    let out = Command::new(common::frontdesk_bin()).args(["line", "decode-cid"]).arg(&quiet).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no caller ID found"), "{}", String::from_utf8_lossy(&out.stderr));
}
