//! A whole analog call through the daemon, on real alsa-lib with no sound card (the `file`
//! plugin, `common::alsa`) and the scripted line control: two rings in the US cadence, Bell 202
//! caller ID between them, the answer, the greeting, a caller's request over a line that
//! echoes our own voice back (a simulated hybrid) with line noise, and the busy tone the
//! exchange plays once the caller has hung up.
//!
//! The file device is not a clock, so the call sets the pace: the daemon hands the call each
//! frame only when it takes it, and plays what the call had written by then. The call is then
//! the same, frame for frame, however fast this machine is, and that is what makes the echo
//! possible to put in a fixture: a first call with a silent caller records what the box plays
//! (where its greeting ends is read from that recording, not assumed); the second call's
//! fixture holds that greeting's echo through the hybrid and the caller's request after it. The
//! test checks that the box played the same greeting both times before relying on it.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::alsa::{config_path, file_device, read_raw, write_raw};
use common::daemon::Daemon;
use frontdesk::audio::aec::simulated_hybrid;
use frontdesk::audio::fsk::{BELL202, push_fsk};
use frontdesk::audio::tones::add_white_noise;
use frontdesk::fxo::cid::{SEIZURE, build_mdmf};
use frontdesk::fxo::progress::{push_progress_tone, tone_zone};

/// Planted caller ID: must reach the sealed record and never the log.
const NUMBER: &str = "6175550142";
const NAME: &str = "QUIMBY OTTOLINE";
const REQUEST: &str = "I'd like to make an appointment.";
const PORT: u16 = 19060;

const fn ms(n: usize) -> usize {
    n * 8
}

/// Rings: 2 s on, 4 s off (US); the second ring ends at 8 s and is counted (and answered) a
/// second later.
const SCRIPT: &str = "# US ringing: answer after the second ring\n0 ring on\n2000 ring off\n6000 ring on\n8000 ring off\n";

/// The line before the answer: silence, and the caller ID 0.5 s after the first ring.
fn before_answer(answer_at: usize) -> Vec<i16> {
    let mut audio = vec![0i16; ms(2500)];
    let mut message = SEIZURE.to_vec();
    message.extend(build_mdmf(Some("12061432"), Some(NUMBER), Some(NAME)));
    push_fsk(&mut audio, BELL202, &message, 150, -15.0);
    assert!(audio.len() < ms(5800), "the caller ID fits between the rings");
    audio.resize(answer_at, 0);
    audio
}

fn busy_tone(audio: &mut Vec<i16>, seconds: u32) {
    push_progress_tone(audio, &tone_zone("us").unwrap().busy, -20.0, seconds * 1000);
}

struct Run {
    daemon: Daemon,
    dir: PathBuf,
}

/// Starts the daemon with one analog line on `fixture`, beside its SIP line.
fn start(name: &str, fixture: &[i16]) -> Run {
    let tail = "[fxo.front]\ndevice = \"line\"\ncontrol = \"scripted\"\nscript = \"line.script\"\nzone = \"us\"\nrings = 2\ncaller_id = \"bell202\"\n";
    let config = common::daemon::write_config(name, PORT, "", tail);
    let dir = config.parent().unwrap().to_path_buf();
    let mut text = std::fs::read_to_string(&config).unwrap();
    // The same greeting, sample for sample, in both calls.
    let steady = ("variation = true", "variation = false");
    for (from, to) in common::ALWAYS_OPEN.iter().chain([&common::ONE_STT_THREAD, &steady]) {
        assert!(text.contains(from), "the example config has no {from:?}");
        text = text.replace(from, to);
    }
    std::fs::write(&config, text).unwrap();
    std::fs::write(dir.join("line.script"), SCRIPT).unwrap();
    let asoundrc = dir.join("asoundrc");
    std::fs::write(&asoundrc, file_device("line", &dir)).unwrap();
    write_raw(&dir.join("line_in.raw"), fixture);
    let daemon = Daemon::run_config_env(&config, PORT, "info", &[("ALSA_CONFIG_PATH", &config_path(&asoundrc))]);
    daemon.wait_for("analog line ready", Duration::from_secs(60));
    Run { daemon, dir }
}

fn stored_calls(dir: &Path) -> Vec<frontdesk::store::StoredCall> {
    let settings = frontdesk::store::StoreSettings { data_dir: dir.join("data"), key_file: dir.join("etc/master.key") };
    frontdesk::store::Store::open(&settings, frontdesk::store::Role::Staff).unwrap().all().unwrap()
}

/// Waits for the call's record to be finished in the database.
fn finished_record(run: &Run) -> frontdesk::record::CallRecord {
    let start = Instant::now();
    loop {
        if let Some(r) = stored_calls(&run.dir).first().and_then(|c| c.record()).filter(|r| r.ended_at.is_some()) {
            return r;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no finished record; log:\n{}", run.daemon.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The sample the call was answered at, from the daemon's log ("at_ms=...").
fn answered_at(log: &str) -> usize {
    let line = log.lines().find(|l| l.contains("analog call answered")).expect("answered");
    let at = line.split("at_ms=").nth(1).unwrap().split(|c: char| !c.is_ascii_digit()).next().unwrap();
    ms(at.parse().unwrap())
}

/// Where the box stops talking after `from`: the start of the first second of silence after
/// its first sound.
fn stops_talking(played: &[i16], from: usize) -> (usize, usize) {
    let loud = |f: &[i16]| f.iter().any(|s| s.unsigned_abs() > 200);
    let frames: Vec<&[i16]> = played[from..].chunks(160).collect();
    let first = frames.iter().position(|f| loud(f)).expect("the box said something");
    let mut quiet = 0;
    for (i, f) in frames.iter().enumerate().skip(first) {
        quiet = if loud(f) { 0 } else { quiet + 1 };
        if quiet == 50 {
            return (from + first * 160, from + (i + 1 - 50) * 160);
        }
    }
    panic!("the box never stopped talking");
}

fn transcribe(audio8k: &[i16]) -> String {
    let f: Vec<f32> = audio8k.iter().map(|&s| s as f32 / 32768.0).collect();
    let wide = frontdesk::audio::resample::resample(&f, 8000, 16_000).unwrap();
    common::stt().transcriber().unwrap().transcribe(&wide).unwrap().text
}

#[test]
fn an_analog_call_is_answered_understood_and_stored_with_its_caller_id() {
    // First call: the caller says nothing; it hangs up (busy tone) after half a minute.
    let answer_guess = ms(9000);
    let mut silent = before_answer(answer_guess);
    silent.resize(answer_guess + ms(30_000), 0);
    busy_tone(&mut silent, 6);
    silent.resize(silent.len() + ms(3000), 0);
    let first = start("fxo-call-1", &silent);
    first.daemon.wait_for("analog call ended", Duration::from_secs(600));
    let r1 = finished_record(&first);
    let log1 = first.daemon.stop();
    let answer = answered_at(&log1);
    assert!(log1.contains("analog call ended: the caller hung up (busy tone)"), "{log1}");
    assert_eq!(r1.caller.as_deref(), Some(NUMBER), "caller ID between the rings: {log1}");
    assert_eq!(r1.caller_name.as_deref(), Some(NAME));
    let played1 = read_raw(&first.dir.join("line_out.raw"));
    let (greeting_start, greeting_end) = stops_talking(&played1, answer);
    let greeting = transcribe(&played1[greeting_start..greeting_end]).to_lowercase();
    assert!(greeting.contains("thank you for calling") && greeting.contains("help"), "the greeting heard on the line: {greeting:?}");

    // Second call: our greeting's echo through the hybrid, the request half a second after it,
    // line noise, and the busy tone a while after the request.
    let voice = common::steady_voice().synthesize(REQUEST).unwrap();
    let request: Vec<i16> = frontdesk::audio::resample::resample(&voice.samples, voice.sample_rate, 8000)
        .unwrap()
        .iter()
        .map(|&x| (x * 32767.0 * 0.5).round() as i16)
        .collect();
    let request_at = greeting_end + ms(500);
    let mut far = before_answer(answer);
    far.resize(request_at, 0);
    far.extend_from_slice(&request);
    far.resize(far.len() + ms(15_000), 0);
    busy_tone(&mut far, 6);
    far.resize(far.len() + ms(3000), 0);
    // The echo is of what the box played until the request (after it, the box says other
    // things, which are not in the recording); 12 dB down, 3 ms on the line after 40 ms in the
    // interface: a frame written is played a period later, and a frame read was recorded over
    // the period before (the file device has neither delay).
    let mut fixture = simulated_hybrid(&played1[..request_at.min(played1.len())], &far, 2 * 160 + 24, 12.0);
    fixture.resize(far.len(), 0);
    add_white_noise(&mut fixture, -60.0, 7);
    let second = start("fxo-call-2", &fixture);
    second.daemon.wait_for("analog call ended", Duration::from_secs(600));
    let r2 = finished_record(&second);
    let log2 = second.daemon.stop();
    let played2 = read_raw(&second.dir.join("line_out.raw"));
    assert_eq!(answered_at(&log2), answer, "the same rings answered at the same time");
    assert!(
        played2.len() >= greeting_end && played2[..greeting_end] == played1[..greeting_end],
        "the box did not play the same greeting with its echo on the line: interrupted by its own echo? log:\n{log2}"
    );
    let context = || format!("record: {}\nlog:\n{log2}", serde_json::to_string_pretty(&r2).unwrap());
    assert!(log2.contains("analog call ended: the caller hung up (busy tone)"), "{}", context());
    assert_eq!(r2.caller.as_deref(), Some(NUMBER), "{}", context());
    assert_eq!(r2.intent.as_deref(), Some("new_appointment"), "the request was understood: {}", context());
    assert!(r2.transcript.iter().any(|u| u.text.to_lowercase().contains("appointment") && u.confidence.is_some()), "{}", context());
    // The caller's number and name stay out of the log (it shows a keyed hash).
    for secret in [NUMBER, "QUIMBY", "Quimby", "OTTOLINE"] {
        assert!(!log1.contains(secret) && !log2.contains(secret), "{secret:?} in the log");
    }
    assert!(log2.contains("caller ID heard"), "{}", context());

    // Third and fourth calls: the caller talks over the greeting 1.5 s into it, once over the
    // echoing hybrid and once on a line with no echo at all (the engine's own barge-in, as on
    // SIP). The greeting must stop as soon over the echo as without it.
    let onset = greeting_start + ms(1500);
    let barge_in = |name: &str, echo: bool| -> usize {
        let mut far = before_answer(answer);
        far.resize(onset, 0);
        far.extend_from_slice(&request);
        far.resize(far.len() + ms(8000), 0);
        busy_tone(&mut far, 6);
        far.resize(far.len() + ms(3000), 0);
        // The echo of what was played until the box can have stopped (200 ms into the caller).
        let source: &[i16] = if echo { &played1[..onset + ms(200)] } else { &[] };
        let mut fixture = simulated_hybrid(source, &far, 2 * 160 + 24, 12.0);
        fixture.resize(far.len(), 0);
        add_white_noise(&mut fixture, -60.0, 11);
        let run = start(name, &fixture);
        run.daemon.wait_for("analog call ended", Duration::from_secs(600));
        let log = run.daemon.stop();
        let played = read_raw(&run.dir.join("line_out.raw"));
        assert!(played.len() > onset && played[..onset] == played1[..onset], "{name}: the greeting was cut before the caller spoke: {log}");
        // The box stopped where half a second of silence starts after the onset (the greeting's
        // own pauses are shorter).
        let quiet = |f: &[i16]| f.iter().all(|s| s.unsigned_abs() <= 200);
        let frames: Vec<&[i16]> = played[onset..].chunks_exact(160).collect();
        let stop =
            frames.windows(25).position(|w| w.iter().all(|f| quiet(f))).unwrap_or_else(|| panic!("{name}: the greeting never stopped"));
        stop * 20
    };
    let (over_echo, no_echo) = (barge_in("fxo-call-3", true), barge_in("fxo-call-4", false));
    eprintln!("the greeting stopped {over_echo} ms after the caller began over the echoing line, {no_echo} ms with no echo");
    let request_ms = request.len() / 8;
    assert!(over_echo < request_ms, "the greeting went on over the caller ({over_echo} ms, the request lasts {request_ms} ms)");
    assert!(over_echo <= no_echo + 40, "barge-in over the echo took {over_echo} ms, {no_echo} ms without it");

    // The analog path's turn latency on the sample clock (BENCHMARKS.md).
    eprintln!("turn latencies on the sample clock: {:?}", r2.latencies.iter().map(|l| l.total_ms).collect::<Vec<_>>());
}

/// A line whose device is missing stops the daemon at start, with the device and the fix; a
/// line marked optional is retried instead while the SIP line takes calls.
#[test]
fn a_missing_device_stops_the_daemon_unless_the_line_is_optional() {
    let section = |optional: bool| {
        format!("[fxo.back]\ndevice = \"nosuchdevice\"\ncontrol = \"scripted\"\nscript = \"line.script\"\noptional = {optional}\n")
    };
    let config = common::daemon::write_config("fxo-missing", PORT + 10, "", &section(false));
    std::fs::write(config.parent().unwrap().join("line.script"), "").unwrap();
    let out = std::process::Command::new(common::frontdesk_bin()).arg("--config").arg(&config).arg("run").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in ["the fxo line did not start", "analog line \"back\"", "ALSA device \"nosuchdevice\"", "frontdesk line list"] {
        assert!(err.contains(needle), "{needle:?} in: {err}");
    }

    let config = common::daemon::write_config("fxo-optional", PORT + 20, "", &section(true));
    std::fs::write(config.parent().unwrap().join("line.script"), "").unwrap();
    let d = Daemon::run_config(&config, PORT + 20, "info");
    d.wait_for("analog line not available, retrying every 5 s (fxo optional)", Duration::from_secs(30));
    let log = d.stop();
    assert!(log.contains("nosuchdevice"), "{log}");
}
