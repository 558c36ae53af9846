//! `frontdesk models import-ct2`: the ggml file it writes is the recorded one, and whisper.cpp
//! loads it and transcribes with it, for English-only tiny.en and multilingual base.

mod common;

use std::process::Command;

use frontdesk::speech::models::{read_checksums, sha256_file};
use frontdesk::speech::stt::{AudioContext, Stt, SttSettings};

fn import_and_check(ct2_dir: &str, recorded_name: &str, language: &str) {
    let dir = common::repo().join("models").join(ct2_dir);
    assert!(dir.join("model.bin").is_file(), "{} missing: run `make models models-base`", dir.display());
    let out = common::scratch(ct2_dir).join("model.bin");
    let status = Command::new(common::frontdesk_bin()).args(["models", "import-ct2"]).arg(&dir).arg(&out).status().unwrap();
    assert!(status.success());

    // Deterministic: byte-identical to the file whose checksum the project recorded.
    let sums = read_checksums(&common::repo().join("models/SHA256SUMS")).unwrap();
    assert_eq!(sums[recorded_name], vec![sha256_file(&out).unwrap()]);

    let stt = Stt::load(&SttSettings {
        model: out.clone(),
        threads: 2,
        language: language.into(),
        audio_context: AudioContext::Sized,
        min_confidence: 0.5,
        vocabulary: Vec::new(),
    })
    .unwrap();
    let heard = stt.transcriber().unwrap().transcribe(&common::phone_speech("Please call me back this afternoon.")).unwrap();
    let words = heard.text.to_lowercase();
    assert!(words.contains("call me back") && words.contains("afternoon"), "{heard:?}");
    std::fs::remove_file(&out).unwrap();
}

#[test]
fn tiny_en_converts_loads_and_transcribes() {
    import_and_check("ct2-tiny.en", "ggml-tiny.en.bin", "en");
}

/// The q8_0 form the box runs: byte-identical to the recorded file, smaller, and it still hears.
#[test]
fn tiny_en_quantizes_to_the_recorded_q8_0_file() {
    let f16 = common::repo().join("models/ggml-tiny.en.bin");
    let out = common::scratch("q8").join("q8.bin");
    let status = Command::new(common::frontdesk_bin()).args(["models", "quantize-q8"]).arg(&f16).arg(&out).status().unwrap();
    assert!(status.success());
    let sums = read_checksums(&common::repo().join("models/SHA256SUMS")).unwrap();
    assert_eq!(sums["ggml-tiny.en-q8_0.bin"], vec![sha256_file(&out).unwrap()]);
    assert!(std::fs::metadata(&out).unwrap().len() * 10 < std::fs::metadata(&f16).unwrap().len() * 6);
    let stt = Stt::load(&SttSettings {
        model: out.clone(),
        threads: 2,
        language: "en".into(),
        audio_context: AudioContext::Sized,
        min_confidence: 0.5,
        vocabulary: Vec::new(),
    })
    .unwrap();
    let heard = stt.transcriber().unwrap().transcribe(&common::phone_speech("Please call me back this afternoon.")).unwrap();
    let words = heard.text.to_lowercase();
    assert!(words.contains("call me back") && words.contains("afternoon"), "{heard:?}");

    // Quantizing twice is refused rather than degrading the model again.
    let again =
        Command::new(common::frontdesk_bin()).args(["models", "quantize-q8"]).arg(&out).arg(out.with_extension("twice")).output().unwrap();
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("not f16"), "{again:?}");
    std::fs::remove_file(&out).unwrap();
}

#[test]
fn multilingual_base_converts_loads_and_transcribes() {
    import_and_check("ct2-base", "ggml-base.bin", "en");
}

#[test]
fn import_refuses_what_is_not_a_model() {
    let dir = common::scratch("not-a-model");
    let out = dir.join("out.bin");
    let run = |d: &std::path::Path| Command::new(common::frontdesk_bin()).args(["models", "import-ct2"]).arg(d).arg(&out).output().unwrap();

    let o = run(&dir);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("has no model.bin"));

    std::fs::write(dir.join("model.bin"), b"\x06\x00\x00\x00garbage").unwrap();
    let o = run(&dir);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("model.bin") && !err.contains("panicked"), "{err}");
    assert!(!out.exists(), "no half-written output");
}
