//! Bad input to the command line: each case ends in one clear message that names the file and
//! the fix, a non-zero exit, and never a panic or an abort.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A config like the example, with absolute model paths and `changes` applied as
/// (line prefix, replacement line) pairs.
fn config_with(dir: &Path, changes: &[(&str, String)]) -> PathBuf {
    let models = common::repo().join("models");
    let mut text =
        std::fs::read_to_string(common::example_config_path()).unwrap().replace("\"../models", &format!("\"{}", models.display()));
    for (prefix, line) in changes {
        let old = text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line {prefix}")).to_string();
        text = text.replace(&old, line);
    }
    let path = dir.join("frontdesk.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn frontdesk(config: &Path, args: &[&str]) -> Output {
    Command::new(common::frontdesk_bin()).arg("--config").arg(config).args(args).output().unwrap()
}

/// The command failed cleanly, and its message contains every one of `needles`.
fn assert_clear_failure(o: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "exit status {:?}, stderr: {err}", o.status);
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in: {err}");
    }
}

fn speech_wav(dir: &Path) -> PathBuf {
    let p = dir.join("speech.wav");
    let o = Command::new(common::frontdesk_bin())
        .arg("--config")
        .arg(config_with(dir, &[]))
        .args(["say", "--rate", "8000", "--out"])
        .arg(&p)
        .arg("Hello, I need an appointment.")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    p
}

#[test]
fn missing_whisper_model() {
    let dir = common::scratch("missing-stt");
    let wav = speech_wav(&dir);
    let cfg = config_with(&dir, &[("model = ", "model = \"/nonexistent/ggml-tiny.en.bin\"".into())]);
    let o = frontdesk(&cfg, &["transcribe", wav.to_str().unwrap()]);
    assert_clear_failure(&o, &["/nonexistent/ggml-tiny.en.bin", "make models"]);
}

#[test]
fn corrupt_whisper_models() {
    let dir = common::scratch("corrupt-stt");
    let wav = speech_wav(&dir);
    let garbage = dir.join("garbage.bin");
    std::fs::write(&garbage, vec![0x5au8; 4096]).unwrap();
    let cfg = config_with(&dir, &[("model = ", format!("model = \"{}\"", garbage.display()))]);
    assert_clear_failure(
        &frontdesk(&cfg, &["transcribe", wav.to_str().unwrap()]),
        &["garbage.bin", "not a ggml Whisper model", "make models"],
    );

    // A real model cut short, as a full disk leaves it.
    let real = std::fs::read(common::repo().join("models/ggml-tiny.en.bin")).unwrap();
    let truncated = dir.join("truncated.bin");
    std::fs::write(&truncated, &real[..real.len() / 3]).unwrap();
    let cfg = config_with(&dir, &[("model = ", format!("model = \"{}\"", truncated.display()))]);
    assert_clear_failure(&frontdesk(&cfg, &["transcribe", wav.to_str().unwrap()]), &["truncated.bin", "make models"]);
}

#[test]
fn missing_or_broken_onnx_runtime() {
    let dir = common::scratch("ort");
    let out = dir.join("out.wav");
    let cfg = config_with(&dir, &[("onnxruntime = ", "onnxruntime = \"/nonexistent/libonnxruntime.so\"".into())]);
    let o = frontdesk(&cfg, &["say", "--out", out.to_str().unwrap(), "Hello"]);
    assert_clear_failure(&o, &["/nonexistent/libonnxruntime.so", "make models"]);

    let fake = dir.join("libonnxruntime.so");
    std::fs::write(&fake, b"not a library").unwrap();
    let cfg = config_with(&dir, &[("onnxruntime = ", format!("onnxruntime = \"{}\"", fake.display()))]);
    let o = frontdesk(&cfg, &["say", "--out", out.to_str().unwrap(), "Hello"]);
    assert_clear_failure(&o, &["cannot load ONNX Runtime", "libonnxruntime.so"]);
}

#[test]
fn missing_espeak_data() {
    let dir = common::scratch("espeak");
    let out = dir.join("out.wav");
    let cfg = config_with(&dir, &[("# espeak_data = ", "espeak_data = \"/nonexistent/espeak-ng-data\"".into())]);
    let o = frontdesk(&cfg, &["say", "--out", out.to_str().unwrap(), "Hello"]);
    assert_clear_failure(&o, &["/nonexistent/espeak-ng-data", "apt-get install espeak-ng-data"]);
}

#[test]
fn missing_or_corrupt_voice() {
    let dir = common::scratch("voice");
    let out = dir.join("out.wav");
    let cfg = config_with(&dir, &[("voice = ", "voice = \"/nonexistent/voice.onnx\"".into())]);
    assert_clear_failure(&frontdesk(&cfg, &["say", "--out", out.to_str().unwrap(), "Hello"]), &["/nonexistent/voice.onnx", "make models"]);

    let bad = dir.join("bad.onnx");
    std::fs::write(&bad, vec![7u8; 10_000]).unwrap();
    std::fs::copy(common::repo().join("models/en_US-joe-medium.onnx.json"), dir.join("bad.onnx.json")).unwrap();
    let cfg = config_with(&dir, &[("voice = ", format!("voice = \"{}\"", bad.display()))]);
    assert_clear_failure(&frontdesk(&cfg, &["say", "--out", out.to_str().unwrap(), "Hello"]), &["bad.onnx", "could not be loaded"]);
}

#[test]
fn unusable_wav_files() {
    let dir = common::scratch("wavs");
    let cfg = config_with(&dir, &[]);

    // G.711 inside a WAV (format tag 7) is a real file type, but not one we decode.
    let ulaw = dir.join("ulaw.wav");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36u32 + 8000).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&7u16.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&8000u32.to_le_bytes());
    bytes.extend_from_slice(&8000u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&8u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&8000u32.to_le_bytes());
    bytes.extend(std::iter::repeat_n(0xffu8, 8000));
    std::fs::write(&ulaw, bytes).unwrap();
    assert_clear_failure(&frontdesk(&cfg, &["transcribe", ulaw.to_str().unwrap()]), &["ulaw.wav", "sox"]);

    let empty = dir.join("empty.wav");
    frontdesk::wav::write_mono_i16(&empty, &[], 16_000).unwrap();
    assert_clear_failure(&frontdesk(&cfg, &["transcribe", empty.to_str().unwrap()]), &["empty.wav", "no audio"]);

    // Twenty minutes: refused from the header, without decoding it all.
    let long = dir.join("long.wav");
    frontdesk::wav::write_mono_i16(&long, &vec![0.0; 8000 * 60 * 20], 8000).unwrap();
    assert_clear_failure(&frontdesk(&cfg, &["transcribe", long.to_str().unwrap()]), &["long.wav", "1200 s", "split it"]);

    let missing = dir.join("missing.wav");
    assert_clear_failure(&frontdesk(&cfg, &["transcribe", missing.to_str().unwrap()]), &["missing.wav", "not found"]);
}

#[test]
fn transcribe_and_say_work_from_any_rate() {
    let dir = common::scratch("rates");
    let cfg = config_with(&dir, &[]);
    for rate in ["8000", "16000", "22050", "44100"] {
        let wav = dir.join(format!("s{rate}.wav"));
        let o = frontdesk(&cfg, &["say", "--rate", rate, "--out", wav.to_str().unwrap(), "Please call me back this afternoon."]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = frontdesk(&cfg, &["transcribe", wav.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&o.stdout).to_lowercase();
        assert!(o.status.success() && text.contains("call me back") && text.contains("afternoon"), "{rate}: {text}");
        assert_eq!(text.trim_end().lines().count(), 1, "one line");
    }
}

#[test]
fn bad_config_names_file_line_and_key() {
    let dir = common::scratch("badconfig");
    let cfg = config_with(&dir, &[("threads = 2", "threads = \"many\"".into())]);
    let o = Command::new(common::frontdesk_bin()).arg("check-config").arg(&cfg).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let line = std::fs::read_to_string(&cfg).unwrap().lines().position(|l| l.starts_with("threads = \"many\"")).unwrap() + 1;
    assert!(!o.status.success());
    assert!(err.contains(&format!("{}:{line}: stt.threads:", cfg.display())), "{err}");

    let o = Command::new(common::frontdesk_bin()).arg("check-config").arg(common::example_config_path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The example config with `[fxo.front]` (and any more sections) appended.
fn config_with_lines(dir: &Path, sections: &str) -> PathBuf {
    let path = config_with(dir, &[]);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(sections);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_analog_line_settings_are_located() {
    let dir = common::scratch("badfxo");
    let cfg =
        config_with_lines(&dir, "\n[fxo.front]\ndevice = \"line\"\ncontrol = \"relay\"\nzone = \"fr\"\nrings = 0\nring_from = \"bell\"\n");
    let o = Command::new(common::frontdesk_bin()).arg("check-config").arg(&cfg).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let line_of = |prefix: &str| text.lines().position(|l| l.starts_with(prefix)).unwrap() + 1;
    assert!(!o.status.success());
    for (key, prefix, hint) in [
        ("control", "control = \"relay\"", "alsa-mixer, gpio, hid, scripted"),
        ("zone", "zone", "us, uk, eu, de"),
        ("rings", "rings", "1 to 10"),
        ("ring_from", "ring_from", "\"control\" or \"audio\""),
    ] {
        let want = format!("{}:{}: fxo.front.{key}:", cfg.display(), line_of(prefix));
        assert!(err.contains(&want) && err.contains(hint), "{want} / {hint} in: {err}");
    }
    // A gpio line needs its chip and hook line.
    let cfg = config_with_lines(&dir, "\n[fxo.back]\ndevice = \"line\"\ncontrol = \"gpio\"\n");
    let o = Command::new(common::frontdesk_bin()).arg("check-config").arg(&cfg).output().unwrap();
    assert_clear_failure(&o, &["fxo.back.chip", "fxo.back.hook_line"]);
}

#[test]
fn line_test_measures_a_line_and_names_what_is_missing() {
    let dir = common::scratch("linetest");
    std::fs::write(dir.join("line.script"), "# no events: a line with no sensors\n").unwrap();
    let section =
        |name: &str, device: &str| format!("\n[fxo.{name}]\ndevice = \"{device}\"\ncontrol = \"scripted\"\nscript = \"line.script\"\n");
    let cfg = config_with_lines(&dir, &(section("front", "line") + &section("back", "nosuchdevice")));
    // The line: a second of dial tone, then the test tone coming back 12 dB down.
    let mut heard = Vec::new();
    frontdesk::fxo::progress::push_progress_tone(&mut heard, &frontdesk::fxo::progress::tone_zone("us").unwrap().dial, -15.0, 1000);
    frontdesk::audio::tones::push_tone(&mut heard, &[1004.0], -22.0, 2000, 8000);
    common::alsa::write_raw(&dir.join("line_in.raw"), &heard);
    let asoundrc = dir.join("asoundrc");
    std::fs::write(&asoundrc, common::alsa::file_device("line", &dir)).unwrap();
    let alsa = common::alsa::config_path(&asoundrc);
    let run = |name: &str| {
        Command::new(common::frontdesk_bin())
            .arg("--config")
            .arg(&cfg)
            .args(["line", "test", name])
            .env("ALSA_CONFIG_PATH", &alsa)
            .output()
            .unwrap()
    };
    let o = run("front");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("dial tone: the line is connected"), "{out}");
    assert!(out.contains("echo return loss 12.0 dB"), "{out}");
    let played = common::alsa::read_raw(&dir.join("line_out.raw"));
    let mut g = frontdesk::audio::tones::Goertzel::new(1004.0, 8000);
    played[8000..16_000].iter().for_each(|&s| g.push(s as f32));
    let level = frontdesk::audio::tones::power_dbm0(g.take_power(8000));
    assert!((level + 10.0).abs() < 1.0, "the test tone went out at {level:.1} dBm0");
    assert_clear_failure(&run("back"), &["\"nosuchdevice\"", "frontdesk line list", "fxo.device"]);
    assert_clear_failure(&run("side"), &["no [fxo.side] section", "front", "back"]);
}

/// `line test` on a line whose hook and sensors are a CM108-style interface's GPIO pins
/// (`control = "hid"`), its hidraw node played by `common::pty`: the hook relay's exact reports,
/// and what the sensors say in the installer's words. And the pins are checked with the config.
#[test]
fn line_test_works_a_cm108_line_and_reports_its_sensors() {
    let dir = common::scratch("linetest-hid");
    let mut chip = common::pty::FakeHid::new();
    let hidraw = chip.path.clone();
    let section = |name: &str, extra: &str| {
        format!(
            "\n[fxo.{name}]\ndevice = \"line\"\ncontrol = \"hid\"\nhidraw = \"{}\"\nhook_line = 3\nring_line = 1\nloop_line = 2\n{extra}",
            hidraw.display()
        )
    };
    let cfg = config_with_lines(&dir, &section("front", ""));
    common::alsa::write_raw(&dir.join("line_in.raw"), &vec![0i16; 8000 * 4]);
    let asoundrc = dir.join("asoundrc");
    std::fs::write(&asoundrc, common::alsa::file_device("line", &dir)).unwrap();
    // The line on hook: battery present, not ringing.
    chip.send(&[0x03, 0b0000_0010, 0, 0]);
    chip.wait_delivered();
    let o = Command::new(common::frontdesk_bin())
        .arg("--config")
        .arg(&cfg)
        .args(["line", "test", "front"])
        .env("ALSA_CONFIG_PATH", common::alsa::config_path(&asoundrc))
        .output()
        .unwrap();
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{err}");
    assert!(out.contains("sensed on hook: ringing no, battery yes, polarity not sensed"), "{out}");
    assert!(out.contains("sensed off hook: ringing no, loop current yes, polarity not sensed"), "{out}");
    assert!(err.contains("not a hidraw device"), "the stand-in is not a HID device, and the log says so: {err}");
    // Opened on hook with GPIO3 the only output (and put on hook once more as every line is
    // when opened); off hook for the test; on hook again.
    let on_hook = [0, 0, 0, 4, 0];
    for (what, want) in [("open", on_hook), ("opened", on_hook), ("off hook", [0, 0, 4, 4, 0]), ("on hook", on_hook)] {
        assert_eq!(chip.next_output(), want, "{what}");
    }
    assert!(chip.no_output());

    let cfg = config_with_lines(&dir, &section("back", "polarity_line = 9\n").replace("ring_line = 1", "ring_line = 3"));
    let o = Command::new(common::frontdesk_bin()).arg("check-config").arg(&cfg).output().unwrap();
    assert_clear_failure(&o, &["fxo.back.polarity_line", "numbered 1 to 8", "fxo.back.ring_line", "already drives the hook relay"]);
}

#[test]
fn a_language_model_off_the_box_must_be_allowed_and_encrypted() {
    let dir = common::scratch("badassist");
    let cfg = config_with_lines(&dir, "\n[assist]\nenabled = true\nendpoint = \"http://api.example.com/v1\"\nbudget_ms = 0\n");
    let o = Command::new(common::frontdesk_bin()).arg("check-config").arg(&cfg).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let line_of = |prefix: &str| text.lines().position(|l| l.starts_with(prefix)).unwrap() + 1;
    assert!(!o.status.success());
    for (key, prefix, hint) in [
        ("endpoint", "endpoint = \"http://api", "allow_remote = true"),
        ("endpoint", "endpoint = \"http://api", "must use https://"),
        ("budget_ms", "budget_ms", "500 to 10000"),
    ] {
        let want = format!("{}:{}: assist.{key}:", cfg.display(), line_of(prefix));
        assert!(err.contains(&want) && err.contains(hint), "{want} / {hint} in: {err}");
    }
    // Allowed and over TLS, it passes.
    let cfg = config_with_lines(&dir, "\n[assist]\nendpoint = \"https://api.example.com/v1\"\nallow_remote = true\n");
    let o = Command::new(common::frontdesk_bin()).arg("check-config").arg(&cfg).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
