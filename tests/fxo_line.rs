//! The analog line's thread without the daemon: real alsa-lib (the `file` plugin,
//! `common::alsa`), the scripted line control, and a stand-in for the call that reads every
//! frame and notes what the line tells it. Each case is a recording and a script of line
//! events, on the line's sample clock: far-end hang-up by each signal, a caller who gives up
//! before the answer, calls one after another, and transfers by hook flash. And a device that
//! fails like hardware (`tests/alsa/faulty.c`, an alsa-lib external plugin): an xrun in the
//! middle of a call, recovered without ending it; the device gone, ending the call and the
//! line's thread with the fault.
//!
//! One test function: alsa-lib reads `ALSA_CONFIG_PATH` once per process, so every device is
//! defined before the first is opened.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::alsa::{config_path, faulty_device, faulty_plugin, file_device, read_raw, write_raw};
use frontdesk::audio::dtmf::DtmfDetector;
use frontdesk::audio::tones::push_tone;
use frontdesk::fxo::control::ControlSpec;
use frontdesk::fxo::line::{FxoConfig, FxoLine, Hardware, run};
use frontdesk::fxo::progress::{push_progress_tone, tone_zone};
use frontdesk::line::{Answer, CallSlots, Line, LineEvent};

const fn ms(n: usize) -> usize {
    n * 8
}

/// Two US rings, answered when the second is counted (9 s).
const TWO_RINGS: &str = "0 ring on\n2000 ring off\n6000 ring on\n8000 ring off\n";
const ANSWER_MS: usize = 9000;

fn config(name: &str, dir: &Path) -> FxoConfig {
    FxoConfig {
        name: name.into(),
        device: name.into(),
        number: None,
        rate: None,
        control: ControlSpec::Scripted { script: dir.join(format!("{name}.script")) },
        zone: frontdesk::fxo::ring::zone("us").unwrap(),
        tones: tone_zone("us").unwrap(),
        rings: 2,
        fsk: Some(frontdesk::audio::fsk::BELL202),
        caller_id: true,
        ring_from_audio: false,
        flash_ms: 750,
        transfer_timeout_ms: 20_000,
        silence_hangup_ms: 10_000,
        echo_tail_ms: 128,
        optional: false,
    }
}

/// What one call saw: the line's events, and how many frames it read.
#[derive(Debug, Clone, Default)]
struct Seen {
    events: Vec<LineEvent>,
    frames: usize,
    /// The caller ID the line gave the call: number and name.
    caller: (Option<String>, Option<String>),
}

/// The call stand-in: reads every frame until the line ends the call; at frame `transfer_at`
/// asks for a transfer to extension 204; hangs up itself after a failed transfer.
fn stand_in(transfer_at: Option<usize>) -> (Answer, Receiver<Seen>) {
    let (tx, rx) = channel();
    let tx = Arc::new(Mutex::new(tx));
    let answer: Answer = Arc::new(move |mut leg| {
        let mut seen = Seen { caller: (leg.info().caller.clone(), leg.info().caller_name.clone()), ..Seen::default() };
        loop {
            while let Some(e) = leg.poll_event() {
                let failed = matches!(e, LineEvent::TransferResult(Err(_)));
                seen.events.push(e);
                if failed {
                    leg.hang_up();
                }
            }
            match leg.read_frame(Duration::from_secs(5)) {
                Ok(Some(_)) => seen.frames += 1,
                Ok(None) => {}
                Err(_) => break,
            }
            // A call that transfers talks all along: none of it may reach the line while the
            // transfer dials. (The others keep quiet, for the silence limit.)
            if transfer_at.is_some() {
                let _ = leg.write_frame(&[3000; 160]);
            }
            if Some(seen.frames) == transfer_at {
                leg.transfer("sip:204@pbx.clinic");
            }
        }
        while let Some(e) = leg.poll_event() {
            seen.events.push(e);
        }
        let _ = tx.lock().unwrap().send(seen);
    });
    (answer, rx)
}

/// Runs the line `name` on its recording until `calls` calls have ended; what each saw.
fn run_line(name: &str, cfg: FxoConfig, transfer_at: Option<usize>, calls: usize) -> Vec<Seen> {
    let hw = Hardware::open(&cfg).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let (answer, ended) = stand_in(transfer_at);
    let stopping = Arc::new(AtomicBool::new(false));
    let stop = stopping.clone();
    let line = std::thread::spawn(move || run(hw, &cfg, &CallSlots::new(4), &answer, &stop));
    let mut seen = Vec::new();
    for _ in 0..calls {
        seen.push(ended.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("{name}: a call did not end; so far {seen:?}")));
    }
    stopping.store(true, std::sync::atomic::Ordering::SeqCst);
    line.join().unwrap().unwrap();
    eprintln!("{name}: {seen:?}");
    seen
}

fn case(dir: &Path, name: &str, script: &str, audio: &[i16]) {
    std::fs::write(dir.join(format!("{name}.script")), script).unwrap();
    let mut audio = audio.to_vec();
    audio.resize(audio.len() + ms(2000), 0);
    write_raw(&dir.join(format!("{name}_in.raw")), &audio);
}

/// Silence until `at_ms`, then `tone` for `ms` long.
fn tone_at(at_ms: usize, tone: &frontdesk::fxo::progress::Tone, len_ms: u32) -> Vec<i16> {
    let mut audio = vec![0i16; ms(at_ms)];
    push_progress_tone(&mut audio, tone, -20.0, len_ms);
    audio
}

/// A voice-like sound (harmonics of 120 Hz, not a progress tone) for `len_ms`.
fn voice_like(audio: &mut Vec<i16>, len_ms: u32) {
    let start = audio.len();
    push_tone(audio, &[240.0, 360.0, 600.0, 840.0, 1080.0], -25.0, len_ms, 8000);
    assert!(audio.len() > start);
}

/// The keys in what the line played.
fn keys_played(played: &[i16]) -> String {
    let mut d = DtmfDetector::new();
    played.chunks(160).filter_map(|f| d.push(f)).collect()
}

#[test]
fn the_line_answers_hears_every_hang_up_and_transfers_by_flash() {
    let dir = common::scratch("fxo-line");
    let names = [
        "loop",
        "polarity",
        "reorder",
        "dialtone",
        "silence",
        "calls",
        "pulses",
        "polaritycid",
        "ringaudio",
        "ringbit",
        "transfer",
        "transferbusy",
    ];
    let asoundrc = dir.join("asoundrc");
    // The faulty devices: an xrun 10 s in (during the call), or gone 10 s in.
    let faulty = faulty_plugin(&dir)
        + &faulty_device("xrun", &dir, 80_000, 0)
        + &faulty_device("gone", &dir, 0, 80_000)
        + &faulty_device("regone", &dir, 0, 80_000);
    std::fs::write(&asoundrc, names.map(|n| file_device(n, &dir)).concat() + &faulty).unwrap();
    // SAFETY: this binary's only test sets it before any thread (alsa-lib's included) reads
    // the environment.
    unsafe { std::env::set_var("ALSA_CONFIG_PATH", config_path(&asoundrc)) };
    let us = tone_zone("us").unwrap();
    let answered_then_gone = [LineEvent::Answered, LineEvent::Hangup];

    // Keys pressed on the line reach the call; loop current dropping (100 ms) ends it.
    let mut audio = vec![0; ms(10_000)];
    frontdesk::audio::dtmf::push_keys(&mut audio, "12#", -15.0, 80, 80);
    audio.resize(ms(14_000), 0);
    case(&dir, "loop", &format!("{TWO_RINGS}12000 loop off\n"), &audio);
    let seen = run_line("loop", config("loop", &dir), None, 1);
    let keys = ['1', '2', '#'].map(LineEvent::Dtmf);
    assert_eq!(seen[0].events, [&answered_then_gone[..1], &keys[..], &answered_then_gone[1..]].concat());
    assert!((150..=160).contains(&seen[0].frames), "gone 100 ms after the loop opened at 12 s: {:?}", seen[0]);
    // So does a polarity reversal.
    case(&dir, "polarity", &format!("{TWO_RINGS}12000 polarity reversed\n"), &vec![0; ms(14_000)]);
    let seen = run_line("polarity", config("polarity", &dir), None, 1);
    assert_eq!(seen[0].events, answered_then_gone);
    assert!((148..=153).contains(&seen[0].frames), "{:?}", seen[0]);

    // Reorder tone, and dial tone coming back.
    case(&dir, "reorder", TWO_RINGS, &tone_at(12_000, &us.reorder, 5000));
    let seen = run_line("reorder", config("reorder", &dir), None, 1);
    assert_eq!(seen[0].events, answered_then_gone);
    assert!(seen[0].frames < 250, "three cadences: {:?}", seen[0]);
    case(&dir, "dialtone", TWO_RINGS, &tone_at(12_000, &us.dial, 3000));
    let seen = run_line("dialtone", config("dialtone", &dir), None, 1);
    assert_eq!(seen[0].events, answered_then_gone);
    assert!((220..=235).contains(&seen[0].frames), "1.5 s of dial tone after 12 s: {:?}", seen[0]);

    // No signal at all: the silence limit (10 s here) ends it.
    case(&dir, "silence", TWO_RINGS, &vec![0; ms(ANSWER_MS + 12_000)]);
    let seen = run_line("silence", config("silence", &dir), None, 1);
    assert_eq!(seen[0].events, answered_then_gone);
    assert!((495..=505).contains(&seen[0].frames), "{:?}", seen[0]);

    // One ring and the caller gives up (not answered); then two calls, one right after the
    // other, each ended by busy tone.
    let script = "0 ring on\n2000 ring off\n\
                  20000 ring on\n22000 ring off\n26000 ring on\n28000 ring off\n\
                  36000 ring on\n38000 ring off\n42000 ring on\n44000 ring off\n";
    let mut audio = tone_at(32_000, &us.busy, 4000);
    audio.resize(ms(48_000), 0);
    push_progress_tone(&mut audio, &us.busy, -20.0, 4000);
    case(&dir, "calls", script, &audio);
    let seen = run_line("calls", config("calls", &dir), None, 2);
    assert!(seen.iter().all(|s| s.events == answered_then_gone), "{seen:?}");

    // A ring detector that gives raw pulses (an opto-coupler on a GPIO line, 25 a second while
    // ringing) rather than a ringing bit: the same two rings, answered at the same time.
    let mut pulses = String::new();
    for burst in [0, 6000] {
        for t in (burst..burst + 2000).step_by(40) {
            pulses.push_str(&format!("{t} pulse\n"));
        }
    }
    case(&dir, "pulses", &pulses, &tone_at(12_000, &us.busy, 4000));
    let seen = run_line("pulses", config("pulses", &dir), None, 1);
    assert_eq!(seen[0].events, answered_then_gone);
    assert!((140..=320).contains(&seen[0].frames), "answered at 9 s, gone by busy tone: {:?}", seen[0]);

    // European style: the exchange reverses the polarity, sends V.23 caller ID, then rings.
    let mut audio = vec![0i16; ms(1000)];
    let mut message = frontdesk::fxo::cid::SEIZURE.to_vec();
    message.extend(frontdesk::fxo::cid::build_mdmf(Some("12061432"), Some("0301234567"), Some("MUELLER ANNA")));
    frontdesk::audio::fsk::push_fsk(&mut audio, frontdesk::audio::fsk::V23, &message, 150, -20.0);
    audio.resize(ms(15_000), 0);
    push_progress_tone(&mut audio, &us.busy, -20.0, 4000);
    let script = "500 polarity reversed\n3000 ring on\n5000 ring off\n9000 ring on\n11000 ring off\n";
    case(&dir, "polaritycid", script, &audio);
    let cfg = FxoConfig { fsk: Some(frontdesk::audio::fsk::V23), ..config("polaritycid", &dir) };
    let seen = run_line("polaritycid", cfg, None, 1);
    assert_eq!(seen[0].caller, (Some("0301234567".into()), Some("MUELLER ANNA".into())));
    assert_eq!(seen[0].events, answered_then_gone);

    // A modem codec senses no rings: they are heard in the on-hook audio instead. Two US rings
    // of ringing voltage (20 Hz, clipped at full scale, a DC offset) with Bell 202 caller ID
    // between them, and voice-band sound before the first (which must not ring); the line
    // reads the caller ID, answers at the same time as with a ringing bit, and busy tone ends
    // the call.
    let mut audio = vec![0i16; ms(1000)];
    voice_like(&mut audio, 1500);
    push_progress_tone(&mut audio, &us.dial, -10.0, 1500);
    let first_ring = audio.len();
    let ring_voltage = |audio: &mut Vec<i16>, len_ms: usize| {
        audio.extend((0..ms(len_ms)).map(|i| {
            let v = 65_000.0 * (2.0 * std::f32::consts::PI * 20.0 * i as f32 / 8000.0).sin() + 300.0;
            v.clamp(-32768.0, 32767.0) as i16
        }))
    };
    ring_voltage(&mut audio, 2000);
    audio.resize(first_ring + ms(2500), 0);
    let mut message = frontdesk::fxo::cid::SEIZURE.to_vec();
    message.extend(frontdesk::fxo::cid::build_mdmf(Some("12061432"), Some("2065550147"), Some("SMITH JOHN")));
    frontdesk::audio::fsk::push_fsk(&mut audio, frontdesk::audio::fsk::BELL202, &message, 150, -15.0);
    audio.resize(first_ring + ms(6000), 0);
    ring_voltage(&mut audio, 2000);
    let answer_at = first_ring + ms(ANSWER_MS);
    audio.resize(answer_at + ms(3000), 0);
    push_progress_tone(&mut audio, &us.busy, -20.0, 4000);
    case(&dir, "ringaudio", "# no ring detector\n", &audio);
    let seen = run_line("ringaudio", FxoConfig { ring_from_audio: true, ..config("ringaudio", &dir) }, None, 1);
    assert_eq!(seen[0].caller, (Some("2065550147".into()), Some("SMITH JOHN".into())));
    assert_eq!(seen[0].events, answered_then_gone);
    // Answered when a ringing bit at the same times would have answered, give or take the
    // detector's 200 ms window: the same line with the rings scripted instead.
    let t = |ms: usize| first_ring / 8 + ms;
    let script = format!("{} ring on\n{} ring off\n{} ring on\n{} ring off\n", t(0), t(2000), t(6000), t(8000));
    case(&dir, "ringbit", &script, &audio);
    let by_bit = run_line("ringbit", config("ringbit", &dir), None, 1);
    assert_eq!(by_bit[0].events, answered_then_gone);
    assert!(seen[0].frames.abs_diff(by_bit[0].frames) <= 12, "heard {:?}, scripted {:?}", seen[0], by_bit[0]);

    // An xrun in the middle of a call (10 s in; answered at 9 s): recovered (the PCM prepared
    // again, the audio going on), and the call goes on until the far end hangs up at 12 s.
    std::fs::write(dir.join("xrun.script"), format!("{TWO_RINGS}12000 loop off\n")).unwrap();
    let seen = run_line("xrun", config("xrun", &dir), None, 1);
    assert_eq!(seen[0].events, answered_then_gone, "the call ended by the far end, not by the xrun");
    let log = std::fs::read_to_string(dir.join("xrun.log")).unwrap();
    for direction in ["capture", "playback"] {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(direction)).collect();
        let xrun = lines.iter().position(|l| *l == format!("xrun {direction}")).unwrap_or_else(|| panic!("no {direction} xrun: {log}"));
        assert_eq!(lines.get(xrun + 1), Some(&format!("prepare {direction}").as_str()), "recovered by preparing again: {log}");
        let moved: u64 = lines.last().and_then(|l| l.strip_prefix(&format!("close {direction} "))).unwrap().parse().unwrap();
        assert!(moved >= 96_000, "the {direction} audio went on past the far end's hang-up at 12 s: {log}");
    }

    // The device vanishing in the middle of a call (unplugged, 10 s in): the call ends as the
    // far end hanging up, and the line's thread with the fault, named (the daemon reopens it).
    std::fs::write(dir.join("gone.script"), TWO_RINGS).unwrap();
    let hw = Hardware::open(&config("gone", &dir)).unwrap();
    let (answer, ended) = stand_in(None);
    let cfg = config("gone", &dir);
    let line = std::thread::spawn(move || run(hw, &cfg, &CallSlots::new(4), &answer, &AtomicBool::new(false)));
    let seen = ended.recv_timeout(Duration::from_secs(60)).expect("the call did not end when its device went");
    assert_eq!(seen.events, answered_then_gone);
    let fault = line.join().unwrap().expect_err("the line's thread went on without its device");
    assert!(fault.contains("\"gone\" is gone") && fault.contains("unplugged"), "{fault}");
    // As the daemon runs it: after the fault, the line opens its device again (every 5 s)
    // and serves on it.
    std::fs::write(dir.join("regone.script"), "# an idle line\n").unwrap();
    let (answer, _ended) = stand_in(None);
    let opened = || std::fs::read_to_string(dir.join("regone.log")).unwrap_or_default().matches("open capture").count();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let line: Box<dyn Line> = Box::new(FxoLine { config: config("regone", &dir), slots: CallSlots::new(4) });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(
            line.start(
                answer,
                Box::pin(async move {
                    let _ = stopped.await;
                }),
            )
            .await
            .unwrap(),
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while opened() < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "the line was not reopened after its device went: {}",
                std::fs::read_to_string(dir.join("regone.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = stop.send(());
        serving.await.unwrap();
    });

    // A transfer that is answered: flash, the extension dialled, ringback, a voice: the line
    // hangs up to join them. The call's own audio never went out meanwhile.
    let mut audio = tone_at(12_600, &us.ringback, 2000);
    audio.resize(ms(15_000), 0);
    voice_like(&mut audio, 1500);
    case(&dir, "transfer", TWO_RINGS, &audio);
    let seen = run_line("transfer", config("transfer", &dir), Some(50), 1);
    assert_eq!(seen[0].events, [LineEvent::Answered, LineEvent::TransferResult(Ok(())), LineEvent::Hangup]);
    let played = read_raw(&dir.join("transfer_out.raw"));
    let after_request = &played[ms(ANSWER_MS) + 53 * 160..];
    assert_eq!(keys_played(after_request), "204", "the extension dialled");
    let flash = &after_request[..ms(750)];
    assert!(flash.iter().all(|&s| s == 0), "nothing of the call's played during the flash");

    // A transfer to a busy extension: flash back to the caller, and the call hears why.
    let audio = tone_at(12_600, &us.busy, 4000);
    case(&dir, "transferbusy", TWO_RINGS, &audio);
    let seen = run_line("transferbusy", config("transferbusy", &dir), Some(50), 1);
    assert_eq!(seen[0].events, [LineEvent::Answered, LineEvent::TransferResult(Err("the extension is busy".into()))], "{seen:?}");
}
