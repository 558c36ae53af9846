//! Shared set-up for tests that use the real models (fetched by `make models`).
#![allow(dead_code)]

pub mod alsa;
pub mod baresip;
pub mod daemon;
pub mod kamailio;
pub mod listening;
pub mod llm_fake;
pub mod persona;
pub mod pki;
pub mod pty;
pub mod web;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use frontdesk::config::Config;
use frontdesk::speech::stt::Stt;
use frontdesk::speech::tts::Voice;

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The example config, or `FRONTDESK_TEST_CONFIG` (the same config with other library paths:
/// the aarch64 tests under qemu load ONNX Runtime for aarch64; scripts/arm64.sh).
pub fn example_config_path() -> PathBuf {
    if let Some(p) = std::env::var_os("FRONTDESK_TEST_CONFIG") {
        return PathBuf::from(p);
    }
    repo().join("examples/frontdesk.toml")
}

/// The example config; the models it names must exist (run `make models`), or the test fails
/// with that instruction rather than skipping.
pub fn config() -> &'static Config {
    static C: OnceLock<Config> = OnceLock::new();
    C.get_or_init(|| Config::load(&example_config_path()).unwrap_or_else(|e| panic!("{e}")))
}

pub fn voice() -> Arc<Voice> {
    static V: OnceLock<Arc<Voice>> = OnceLock::new();
    V.get_or_init(|| Arc::new(Voice::load(&config().tts_settings()).unwrap_or_else(|e| panic!("{e} (run `make models`)")))).clone()
}

pub fn stt() -> &'static Stt {
    static S: OnceLock<Stt> = OnceLock::new();
    S.get_or_init(|| Stt::load(&config().stt_settings()).unwrap_or_else(|e| panic!("{e} (run `make models`)")))
}

pub fn frontdesk_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_frontdesk"))
}

/// `frontdesk --config CONFIG ARGS` with `stdin` written to it and closed (extra environment in
/// `envs`); its output, whatever its exit status.
pub fn run_frontdesk(config: &Path, args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(frontdesk_bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// `text` said by the configured voice into an 8 kHz WAV at `out` (`frontdesk say`).
pub fn say(text: &str, out: &Path) {
    let o = run_frontdesk(&example_config_path(), &["say", "--rate", "8000", "--out", out.to_str().unwrap(), text], "", &[]);
    assert!(o.status.success(), "frontdesk say failed: {}", String::from_utf8_lossy(&o.stderr));
}

/// Spawns `command` with its stdout piped and returns once a line of it contains `ready`
/// (the rest of its output is drained so it never blocks); panics if it ends first.
pub fn spawn_until(command: &mut std::process::Command, ready: &str) -> std::process::Child {
    use std::io::BufRead;
    let what = format!("{:?}", command.get_program());
    let mut child = command.stdout(std::process::Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.is_ok_and(|l| l.contains(ready))), "{what} ended before saying {ready:?}");
    std::thread::spawn(move || lines.for_each(drop));
    child
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("frontdesk-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The voice without its random variation: the same text always gives the same audio, so
/// accuracy tests repeat exactly (with variation the round-trip WER wandered 5-10 %).
pub fn steady_voice() -> Arc<Voice> {
    static V: OnceLock<Arc<Voice>> = OnceLock::new();
    V.get_or_init(|| {
        Arc::new(Voice::load(&config().tts_settings()).unwrap_or_else(|e| panic!("{e} (run `make models`)")).without_variation())
    })
    .clone()
}

/// Speech as a caller's phone delivers it to Whisper: voice -> 8 kHz mu-law -> 16 kHz, framed
/// as the call engine hands a short turn over: the endpointer's second of preroll before the
/// first sound, and the 120 ms pause at which the turn is transcribed. (Our voice starts and
/// ends within 20-80 ms of its sound; a turn cut that tight is not what Whisper gets on a call.)
pub fn phone_speech(text: &str) -> Vec<f32> {
    let v = steady_voice();
    let audio = v.synthesize(text).unwrap();
    let mut phone =
        frontdesk::audio::telephone::through_g711(&audio.samples, audio.sample_rate, frontdesk::audio::g711::Law::Ulaw).unwrap();
    phone.splice(0..0, std::iter::repeat_n(0.0, 8000));
    phone.extend(std::iter::repeat_n(0.0, 8000 * 120 / 1000));
    frontdesk::audio::resample::resample(&phone, 8000, 16_000).unwrap()
}

/// A caller asking for an appointment, one line per turn, in the order the built-in flow asks
/// (name, spelling, date of birth and its read-back, number and its read-back, reason, times,
/// the summary, "anything else"). The simulate and SIP tests play the same caller.
pub const APPOINTMENT: &[&str] = &[
    "I'd like to make an appointment.",
    "My name is John Smith.",
    "S. M. I. T. H.",
    "Yes.",
    "March fifth, nineteen eighty.",
    "Yes.",
    "Six one seven, five five five, zero one nine nine.",
    "Yes.",
    "I have a sore throat.",
    "Monday morning.",
    "Yes, that's right.",
    "No, thank you.",
];

/// Clinic sentences as callers say them: names, dates of birth, numbers, medications, times.
pub const CALLER_SENTENCES: &[&str] = &[
    "Hi, my name is Maria Gonzalez and I need to make an appointment.",
    "My date of birth is March 5, 1980.",
    "You can call me back at 212-555-0147.",
    "I'd like to see Dr. Patel next Tuesday afternoon.",
    "I need a refill of my lisinopril prescription.",
    "Can I come in at 10:30 in the morning?",
    "I'm calling about my test results from last week.",
    "My number is 617-555-0199.",
    "I was born on July 22, 1965.",
    "I take metformin twice a day.",
    "Is the office open on Saturday?",
    "I need to cancel my appointment for Thursday.",
    "My last name is Smith.",
    "Could someone call me back after 3 p.m.?",
    "I have a question about my bill.",
    "My daughter has a fever and a sore throat.",
    "I ran out of my atorvastatin yesterday.",
    "My birthday is December 12, 1948.",
    "The best time to reach me is around 4:15 in the afternoon.",
    "I would like to speak with a nurse, please.",
    "I need to reschedule my physical for next month.",
    "My insurance changed at the beginning of the year.",
    "Please have Dr. Nguyen call me at 303-555-0182.",
    "I'm out of amoxicillin and I still have an ear infection.",
    "Can I get an appointment on Monday at 9 a.m.?",
    "My husband, Robert Johnson, needs his blood pressure checked.",
    "I was born on October 4, 1972.",
    "I take 20 milligrams of omeprazole every morning.",
    "Where should I park when I come to the clinic?",
    "My cell phone number is 415-555-0123.",
    "I need a referral to a cardiologist.",
    "Do you have anything available on Friday at 2:45?",
    "Hello, this is Patricia Williams calling for my mother.",
    "She takes levothyroxine and sertraline every day.",
];

/// Config edits for a clinic open around the clock (the example config keeps office hours).
pub const ALWAYS_OPEN: &[(&str, &str)] = &[
    ("monday = \"08:00-17:00\"", "monday = \"00:00-24:00\""),
    ("tuesday = \"08:00-17:00\"", "tuesday = \"00:00-24:00\""),
    ("wednesday = \"08:00-17:00\"", "wednesday = \"00:00-24:00\""),
    ("thursday = \"08:00-19:00\"", "thursday = \"00:00-24:00\""),
    ("friday = \"08:00-17:00\"", "friday = \"00:00-24:00\""),
    ("saturday = \"09:00-12:00\"", "saturday = \"00:00-24:00\"\nsunday = \"00:00-24:00\""),
    ("closed_dates = [\"2026-12-25\", \"2027-01-01\"]", "closed_dates = []"),
];

/// Whisper on one thread in the daemon. The daemon gives a transcription two threads only when
/// the box is idle, but these tests run daemons and the callers' recognisers side by side, and
/// load that starts in the middle of a two-thread transcription still stalls it: whisper.cpp's
/// threads wait for each other by spinning (BENCHMARKS.md, "Under load"). One thread only gets
/// slower in proportion.
pub const ONE_STT_THREAD: (&str, &str) = ("one per core.\nthreads = 2", "one per core.\nthreads = 1");
