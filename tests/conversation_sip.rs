//! Whole conversations over SIP with a caller that listens (tests/common/listening.rs, on
//! `frontdesk::loopback_caller`): it waits until the agent has finished talking, hears what it
//! said, and answers that, in our own voice without its random variation, through 8 kHz G.711.
//! The record the daemon stores must hold what the caller said. Also: a caller who talks over
//! the greeting stops it, a silent caller ends as abandoned after the reprompt, a crash mid-call
//! loses no finished record, and a reloaded config changes what the next caller hears.
//!
//! Nothing here waits a fixed time for the daemon: every step waits for an event (the agent
//! quiet after speech, its BYE, a log line, a row in the database), under generous overall
//! limits, so a loaded machine makes these tests slower, not red. Every address is 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::daemon::Daemon;
use common::listening::{Conversation, converse, phone, until_asked};
use common::persona::{Ask, Caller, Persona, Reply};
use frontdesk::loopback_caller::{Ending, LoopbackCaller};

/// The clinic is open around the clock in these tests, so the conversation does not depend on
/// when CI runs.
/// The clinic of these tests: always open, recognition on one thread, and `more`.
fn clinic(more: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut edits = common::ALWAYS_OPEN.to_vec();
    edits.push(common::ONE_STT_THREAD);
    edits.extend_from_slice(more);
    edits
}

/// For a caller that thinks on the same two cores as the daemon: between the agent's question
/// and its answer it recognises the question and synthesises the answer, which on a loaded
/// machine can take longer than the 8 s after which the agent asks "Are you still there?". The
/// conversation, not the machine's speed, is what these tests are about.
const UNHURRIED: (&str, &str) = ("no_input_s = 8", "no_input_s = 30");

fn stored_calls(d: &Path) -> Vec<frontdesk::store::StoredCall> {
    let settings = frontdesk::store::StoreSettings { data_dir: d.join("data"), key_file: d.join("etc/master.key") };
    frontdesk::store::Store::open(&settings, frontdesk::store::Role::Staff).unwrap().all().unwrap()
}

/// At most two conversations at once. A conversation waits on speech far more than it computes
/// (a quarter of one core over its run, measured), so two share a CI machine's two cores and
/// halve this file's time (636 to 324 s here). More at once, or a build beside them, starved a
/// daemon's synthesis past the engine's own watchdog (three at once beside other tests), so
/// the limit stays at two whatever the machine. How the box does with simultaneous calls is
/// measured by `frontdesk bench turns --calls 4` instead.
///
/// (ci34's failure, blamed on load at first, was two bugs that load only exposed: a '#' after
/// a full keypad entry taken as a wrong entry, and a caller talking over the goodbye leaving
/// the call in silence. Both are fixed, with tests in `call::engine::tests` and `call::flow`.)
struct Turn;

impl Turn {
    const AT_ONCE: usize = 2;

    fn slots() -> &'static (std::sync::Mutex<usize>, std::sync::Condvar) {
        static SLOTS: (std::sync::Mutex<usize>, std::sync::Condvar) = (std::sync::Mutex::new(0), std::sync::Condvar::new());
        &SLOTS
    }

    /// Waits for one of the `AT_ONCE` places; the place is given back when the `Turn` drops.
    fn take() -> Turn {
        let (busy, freed) = Turn::slots();
        let mut n = busy.lock().unwrap_or_else(|p| p.into_inner());
        while *n >= Turn::AT_ONCE {
            n = freed.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n += 1;
        Turn
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let (busy, freed) = Turn::slots();
        *busy.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
        freed.notify_one();
    }
}

fn uri(port: u16) -> String {
    format!("sip:frontdesk@127.0.0.1:{port}")
}

/// A caller who answers the agent's last question by its keywords: the first rule with a
/// keyword in it gives the answer. What is not a question (an announcement, a read-back that
/// the question has not followed yet) is heard out in silence.
struct ByKeywords {
    name: &'static str,
    rules: &'static [(&'static [&'static str], &'static str)],
}

impl Persona for ByKeywords {
    fn name(&self) -> &str {
        self.name
    }

    fn reply(&mut self, agent: &str) -> Reply {
        let Some(question) = last_question(agent) else { return Reply::Silence };
        self.rules
            .iter()
            .find(|(keys, _)| keys.iter().any(|k| question.contains(k)))
            .map_or(Reply::Silence, |(_, say)| Reply::Say(say.to_string()))
    }
}

/// The last sentence of `text`, lower-cased, if it asks something: it ends with a question mark,
/// or starts like a question (in case the recogniser left the mark out).
fn last_question(text: &str) -> Option<String> {
    let last = text.split_inclusive(['.', '?', '!']).map(str::trim).rfind(|s| s.chars().any(char::is_alphabetic))?.to_lowercase();
    let asks = last.ends_with('?')
        || ["what", "may", "could", "can", "is", "did", "how", "are", "would", "do"]
            .iter()
            .any(|w| last.split_whitespace().next() == Some(w));
    asks.then_some(last)
}

/// A caller asking for an appointment (the lines of `common::APPOINTMENT`), whatever order
/// the agent asks in and however often it asks again. Rules go from the most specific: "Is
/// there anything else I can help you with?" is not the greeting's "How can I help you
/// today?", and a read-back asks "Is that right?" whatever it reads back.
const APPOINTMENT_CALLER: ByKeywords = ByKeywords {
    name: "a caller asking for an appointment",
    rules: &[
        (&["anything else", "what else"], "No, thank you."),
        (&["right", "correct"], "Yes."),
        // Only when the caller ID is a phone number (ours is not): take the number given next.
        (&["calling from"], "No."),
        (&["spell"], "S. M. I. T. H."),
        (&["date of birth", "born", "birth"], "March fifth, nineteen eighty."),
        (&["number", "reach you", "phone"], "Six one seven, five five five, zero one nine nine."),
        (&["name"], "My name is John Smith."),
        (&["about"], "I have a sore throat."),
        (&["help"], "I'd like to make an appointment."),
        (&["day", "time"], "Monday morning."),
    ],
};

/// A question about the hours, then nothing else.
const HOURS_CALLER: ByKeywords = ByKeywords {
    name: "a caller asking for the hours",
    rules: &[(&["anything else", "what else"], "No, thank you."), (&["help"], "What are your hours?")],
};

/// Never says a word.
struct Silent;

impl Persona for Silent {
    fn name(&self) -> &str {
        "a silent caller"
    }

    fn reply(&mut self, _agent: &str) -> Reply {
        Reply::Silence
    }
}

/// A persona of the suite (tests/common/persona.rs) on a phone line: it answers only when the
/// agent has asked something, and trusts the read-backs it hears (see `Caller::trusting`).
struct OnTheLine(Caller);

impl Persona for OnTheLine {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn reply(&mut self, agent: &str) -> Reply {
        match last_question(agent) {
            Some(_) => self.0.reply(agent),
            None => Reply::Silence,
        }
    }
}

/// John Smith of the persona suite, trusting what he hears read back.
fn john(label: &'static str, request: &'static str) -> Caller {
    let mut c = common::persona::john_smith(label, request);
    c.trusting = true;
    c
}

/// Three callers of the persona suite over SIP, beside the appointment above: one who will not
/// give a date of birth and has no phone, one who asks where to park in the middle of the
/// intake, one who changes the request midway. Each record is checked detail by detail, each
/// caller a test of its own so a failure names the caller.
#[test]
fn a_caller_who_declines_details_over_sip_leaves_a_message() {
    let mut refuser = john("refuser", "I'd like to leave a message for the doctor.");
    refuser.declines = vec![(Ask::Dob, "I'd rather not say."), (Ask::Phone, "I don't have a phone number.")];
    refuser.reason_said = "Please tell the doctor the new medicine is working well.";
    off_the_script(refuser, 18280, |r| {
        let mut p = same(r.intent.as_deref(), Some("message"), "intent");
        p.extend(same(r.slots.get("name").map(String::as_str), Some("John Smith"), "name"));
        p.extend(same(r.missing.get("date_of_birth").map(String::as_str), Some("declined"), "date of birth missing"));
        p.extend(same(r.missing.get("callback").map(String::as_str), Some("unknown"), "callback missing"));
        p.extend(same(r.slots.get("reason").map(|s| s.to_lowercase().contains("working")), Some(true), "reason"));
        p
    });
}

#[test]
fn a_caller_asking_about_parking_mid_intake_over_sip_gets_the_answer_and_the_appointment() {
    let mut parking = john("faq mid-intake", "I'd like to make an appointment.");
    parking.instead = vec![(Ask::Dob, "Oh, before I forget, where do I park?")];
    off_the_script(parking, 18290, |r| {
        let mut p = same(r.intent.as_deref(), Some("new_appointment"), "intent");
        p.extend(same(r.slots.get("date_of_birth").map(String::as_str), Some("1980-03-05"), "date of birth"));
        p.extend(same(r.slots.get("callback").map(String::as_str), Some("6175550199"), "callback"));
        p.extend(same(Some(r.questions.iter().any(|q| q == "parking")), Some(true), "parking answered"));
        p
    });
}

#[test]
fn a_caller_changing_the_request_midway_over_sip_keeps_the_details_given() {
    let mut changes = john("changes request", "I'd like to make an appointment.");
    changes.instead = vec![(Ask::Phone, "Actually, I need a prescription refill instead.")];
    off_the_script(changes, 18300, |r| {
        let mut p = same(r.intent.as_deref(), Some("refill"), "intent");
        p.extend(same(r.slots.get("name").map(String::as_str), Some("John Smith"), "name"));
        p.extend(same(r.slots.get("callback").map(String::as_str), Some("6175550199"), "callback"));
        p.extend(same(r.slots.get("medication").map(|m| m.to_lowercase().contains("isinopril")), Some(true), "medication"));
        p
    });
}

/// One persona's call on a daemon of its own: the record must satisfy `want` (no problems) and
/// end with the message taken.
fn off_the_script(caller: Caller, port: u16, want: fn(&frontdesk::record::CallRecord) -> Vec<String>) {
    let label = caller.name().to_string();
    let run =
        Run::talk(&format!("conv-persona-{port}"), port, &clinic(&[UNHURRIED]), Box::new(OnTheLine(caller)), Duration::from_secs(420));
    let calls = stored_calls(&run.dir);
    let r = calls.first().and_then(|c| c.record()).unwrap_or_else(|| panic!("{label}: no record{}", run.context()));
    let problems = want(&r);
    assert!(
        problems.is_empty() && r.outcome == frontdesk::record::Outcome::MessageTaken,
        "{label}: {problems:?}, outcome {:?}\n{}",
        r.outcome,
        run.context()
    );
}

fn same<T: PartialEq + std::fmt::Debug>(got: Option<T>, want: Option<T>, what: &str) -> Vec<String> {
    if got == want { Vec::new() } else { vec![format!("{what}: {got:?}, expected {want:?}")] }
}

/// A conversation with a daemon of its own, and what is left of the daemon afterwards.
struct Run {
    log: String,
    talk: Conversation,
    dir: PathBuf,
}

impl Run {
    /// Starts the daemon with `edits`, lets `persona` talk to it, waits for the daemon to log
    /// the end of the conversation (its record is stored by then) and stops it.
    fn talk(name: &str, port: u16, edits: &[(&str, &str)], persona: Box<dyn Persona>, limit: Duration) -> Run {
        let _turn = Turn::take();
        let d = Daemon::launch_edited(name, port, "app = \"conversation\"", "", "info,frontdesk=debug", edits);
        let talk = converse(port, persona, limit);
        eprintln!("{}", talk.transcript());
        let _ = d.try_wait_for("conversation ended", Duration::from_secs(30));
        let dir = d.dir.clone();
        Run { log: d.stop(), talk, dir }
    }

    fn context(&self) -> String {
        format!("\n--- the call ---\n{}\n--- daemon log ---\n{}", self.talk.transcript(), self.log)
    }
}

#[test]
fn a_caller_requests_an_appointment_and_the_record_holds_it() {
    let run = Run::talk("conv-appointment", 18260, &clinic(&[UNHURRIED]), Box::new(APPOINTMENT_CALLER), Duration::from_secs(420));
    assert_eq!(run.talk.end, Ok(Ending::Agent), "the agent did not end the call{}", run.context());
    let calls = stored_calls(&run.dir);
    assert_eq!(calls.len(), 1, "{}", run.context());
    let r = calls[0].record().expect("a record");
    let slot = |k: &str| r.slots.get(k).cloned().unwrap_or_default();
    let context = || format!("record: {}{}", serde_json::to_string_pretty(&r).unwrap(), run.context());
    assert_eq!(slot("name"), "John Smith", "{}", context());
    assert_eq!(slot("date_of_birth"), "1980-03-05", "{}", context());
    assert_eq!(slot("callback"), "6175550199", "{}", context());
    assert!(slot("reason").to_lowercase().contains("sore throat"), "{}", context());
    assert_eq!(r.outcome, frontdesk::record::Outcome::MessageTaken, "{}", context());
    assert!(r.confirmed);
    assert_eq!(calls[0].outcome, "message_taken");
    // Per-turn latencies were measured on the call.
    assert!(r.latencies.len() >= 10, "{:?}", r.latencies);
    // Patient data stays out of the log at info level.
    for secret in ["Smith", "6175550199", "617", "1980", "sore throat"] {
        let leaked: Vec<&str> = run.log.lines().filter(|l| !l.contains("DEBUG") && names(l, secret)).collect();
        assert!(leaked.is_empty(), "{secret:?} in the log: {leaked:#?}{}", run.context());
    }
    // Nor at debug level (this run logs frontdesk=debug), without logging.patient_data; nor in
    // the clear in the database or its WAL.
    let mut disk = std::fs::read(run.dir.join("data/calls.db")).unwrap();
    disk.extend(std::fs::read(run.dir.join("data/calls.db-wal")).unwrap_or_default());
    for secret in ["Smith", "SMITH", "6175550199", "1980-03-05", "March fifth", "sore throat"] {
        assert!(!run.log.contains(secret), "{secret:?} in the debug log{}", run.context());
        assert!(!disk.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret:?} in the clear in calls.db");
    }
    assert!(disk.windows(13).any(|w| w == b"message_taken"), "the search sees the clear columns");
}

/// Whether `line` holds `secret`, and for a number, as a value of its own. Digits inside longer
/// runs of letters and digits are not a leak: a log timestamp's microseconds or a hex tag may
/// hold "617" by chance, and a check that trips on them fails a correct run for no reason.
fn names(line: &str, secret: &str) -> bool {
    if !secret.chars().all(|c| c.is_ascii_digit()) {
        return line.contains(secret);
    }
    line.match_indices(secret).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + secret.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Start of the first run of at least `min_ms` of quiet (below `floor`) at or after `from_s`.
fn quiet_from(samples: &[f32], from_s: f32, min_ms: u32, floor: f32) -> Option<f32> {
    let win = 80; // 10 ms
    let need = (min_ms / 10) as usize;
    let mut run = 0;
    let start = (from_s * 8000.0) as usize / win;
    for (i, w) in samples.chunks(win).enumerate().skip(start) {
        let rms = (w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32).sqrt();
        if rms < floor {
            run += 1;
            if run == need {
                return Some((i + 1 - need) as f32 * 0.01);
            }
        } else {
            run = 0;
        }
    }
    None
}

#[test]
fn talking_over_the_greeting_stops_it() {
    /// How far into the greeting, as it arrives, the caller starts asking.
    const ONSET: Duration = Duration::from_millis(2500);
    let _turn = Turn::take();
    let port = 18360;
    let d = Daemon::launch_edited("conv-barge", port, "app = \"conversation\"", "", "info,frontdesk=debug", &clinic(&[]));
    let call = LoopbackCaller::dial(&uri(port), "caller").unwrap();
    let greeting = call.wait_first_sound(Duration::from_secs(60)).unwrap_or_else(|| panic!("no greeting\n{}", d.log()));
    std::thread::sleep((greeting + ONSET).saturating_duration_since(Instant::now()));
    let speech = phone("What are your hours?");
    let first = speech.iter().position(|x| x.abs() > 0.02).unwrap_or(0);
    let question_s = (speech.len() - first) as f32 / 8000.0;
    call.speak_f32(&speech);
    // Until the agent has answered and asks what else (an answer not given shows in the record).
    let heard = until_asked(&call, Duration::from_secs(120));
    let track: Vec<f32> = call.heard_track().iter().map(|&s| frontdesk::audio::resample::i16_to_f32(s)).collect();
    let onset_s = *call.speech_onsets().first().expect("the question was sent") as f32 / 8000.0;
    call.hang_up(Duration::from_secs(10)).unwrap();
    let _ = d.try_wait_for("conversation ended", Duration::from_secs(30));
    let dir = d.dir.clone();
    let log = d.stop();
    let context = format!("\nheard: {heard:?}\n--- daemon log ---\n{log}");
    // The greeting plays from the start; it must fall silent soon after the caller starts.
    let loud_before = track[..(onset_s * 8000.0) as usize].iter().filter(|x| x.abs() > 0.05).count();
    assert!(loud_before > 4000, "the greeting was not playing when the caller spoke{context}");
    let stop = quiet_from(&track, onset_s - 0.1, 400, 0.01).unwrap_or_else(|| panic!("the greeting never stopped{context}"));
    let latency_ms = ((stop - onset_s) * 1000.0).round();
    // How fast is a figure for BENCHMARKS.md; what must hold is that the greeting stopped while
    // the caller was still asking (the question lasts over a second), not after it played out.
    eprintln!("greeting stopped {latency_ms} ms after the caller's speech onset (as the caller heard it)");
    assert!(
        stop < onset_s + question_s,
        "the greeting went on over the caller's question (stopped {latency_ms} ms after its onset){context}"
    );
    assert!(log.contains("barge-in"), "{context}");
    // And the caller's question was answered.
    let calls = stored_calls(&dir);
    let r = calls[0].record().unwrap();
    assert!(r.transcript.iter().any(|u| u.interrupted), "the greeting is marked interrupted: {:?}", r.transcript);
    assert_eq!(r.questions, ["hours"], "{context}");
}

#[test]
fn a_silent_caller_is_asked_then_the_call_ends_as_abandoned() {
    let edits = clinic(&[("no_input_s = 8", "no_input_s = 3")]);
    let started = Instant::now();
    let run = Run::talk("conv-silent", 18460, &edits, Box::new(Silent), Duration::from_secs(120));
    assert_eq!(run.talk.end, Ok(Ending::Agent), "the daemon did not hang up on a silent caller{}", run.context());
    let calls = stored_calls(&run.dir);
    let r = calls[0].record().unwrap();
    assert_eq!(r.outcome, frontdesk::record::Outcome::Abandoned, "{}", run.context());
    assert!(r.transcript.iter().any(|u| u.text.contains("Are you still there?")), "{:?}", r.transcript);
    assert!(r.transcript.iter().any(|u| u.text.contains("I haven't heard anything")), "{:?}", r.transcript);
    eprintln!("silent call ended after {:.1} s", started.elapsed().as_secs_f32());
}

/// `kill -9` while a call is in progress. The restarted daemon finds the database intact, the
/// call that had finished complete, and the cut call stored as interrupted with what it had
/// captured; its recording keeps the seconds before the crash and says it was cut short.
#[test]
fn a_crash_mid_call_loses_no_finished_record() {
    let _turn = Turn::take();
    let port = 18490;
    let mut edits = clinic(&[UNHURRIED]);
    edits.push(("[recording]\n# Record whole calls (both sides, encrypted like the rest). Off unless you turn it on; check\n# your state's consent rules first. The announcement is played before the greeting.\nenabled = false", "[recording]\nenabled = true"));
    let d = Daemon::launch_edited("conv-crash", port, "app = \"conversation\"", "", "info", &edits);
    let config = d.dir.join("frontdesk.toml");
    let settings = frontdesk::store::StoreSettings { data_dir: d.dir.join("data"), key_file: d.dir.join("etc/master.key") };

    // A call that ends normally: a question, then "no, thank you".
    let first = converse(port, Box::new(HOURS_CALLER), Duration::from_secs(180));
    assert_eq!(first.end, Ok(Ending::Agent), "{}\n{}", first.transcript(), d.log());
    d.wait_for("conversation ended", Duration::from_secs(30));

    // A call cut by the crash once it has said what it wants.
    let second = LoopbackCaller::dial(&uri(port), "caller").unwrap();
    until_asked(&second, Duration::from_secs(90)).unwrap_or_else(|e| panic!("{e}\n{}", d.log()));
    second.speak_f32(&phone("I'd like to make an appointment, please."));
    let started = Instant::now();
    let captured = loop {
        let calls = frontdesk::store::Store::open(&settings, frontdesk::store::Role::Staff).unwrap().all().unwrap();
        if let Some(c) = calls.iter().find(|c| c.outcome == "in_progress" && c.intent.as_deref() == Some("new_appointment")) {
            break c.record().unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(90), "the second call never stored its request: {calls:?}\n{}", d.log());
        std::thread::sleep(Duration::from_millis(200));
    };
    let log = d.kill_hard();
    // Its BYE goes nowhere: the daemon is gone.
    drop(second);

    let d = Daemon::run_config(&config, port, "info");
    d.wait_for("stored as interrupted", Duration::from_secs(10));
    let log2 = d.stop();
    let context = format!("\n--- before the crash ---\n{log}\n--- after ---\n{log2}");

    let conn = rusqlite::Connection::open(settings.data_dir.join("calls.db")).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok", "{context}");
    drop(conn);
    let calls = frontdesk::store::Store::open(&settings, frontdesk::store::Role::Staff).unwrap().all().unwrap();
    assert_eq!(calls.len(), 2, "{calls:?}{context}");
    let done = calls[0].record().unwrap();
    assert_eq!(calls[0].outcome, "answered", "{done:?}{context}");
    assert!(calls[0].ended_at.is_some() && calls[0].duration_ms.unwrap_or(0) > 0);
    assert_eq!(done.questions, ["hours"], "{done:?}");
    assert_eq!(done.transcript[0].text, "This call is recorded for quality and safety.", "the consent announcement comes first");
    assert!(done.transcript.iter().any(|u| u.text.contains("goodbye") || u.text.contains("Goodbye")), "{:?}", done.transcript);
    let cut = calls[1].record().unwrap();
    assert_eq!(calls[1].outcome, "interrupted", "{context}");
    assert_eq!(cut.intent.as_deref(), Some("new_appointment"));
    assert!(
        cut.transcript.len() >= captured.transcript.len() && cut.transcript.iter().any(|u| u.speaker == frontdesk::record::Speaker::Caller),
        "{:?}",
        cut.transcript
    );

    // Both recordings: the first whole, the second up to the crash and marked so.
    for (id, whole) in [(calls[0].id, true), (calls[1].id, false)] {
        let out = d_dir_file(&settings, &format!("call-{id}.wav"));
        let export = Command::new(common::frontdesk_bin())
            .args(["--config", config.to_str().unwrap(), "calls", "export", &id.to_string(), "--recording", out.to_str().unwrap()])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&export.stderr);
        assert!(export.status.success(), "{said}");
        assert_eq!(!said.contains("cut short"), whole, "{said}");
        let seconds = hound::WavReader::open(&out).unwrap().duration() as f32 / 8000.0;
        assert!(seconds > 5.0, "call {id}: {seconds} s recorded");
    }
}

fn d_dir_file(settings: &frontdesk::store::StoreSettings, name: &str) -> PathBuf {
    settings.data_dir.parent().unwrap().join(name)
}

fn hangup_signal(d: &Daemon) {
    let status = Command::new("kill").arg("-HUP").arg(d.child.id().to_string()).status().unwrap();
    assert!(status.success());
}

/// `systemctl reload` (SIGHUP): a config with a mistake is refused with its location and the
/// running one stays; a good one changes what the next caller hears. Both are audited.
#[test]
fn a_reloaded_config_changes_what_the_next_caller_hears() {
    let _turn = Turn::take();
    let port = 18520;
    let d = Daemon::launch_edited("conv-reload", port, "app = \"conversation\"", "", "info", &clinic(&[]));
    let config = d.dir.join("frontdesk.toml");
    let text = std::fs::read_to_string(&config).unwrap();

    std::fs::write(&config, text.replace("name = \"Riverside Family Clinic\"", "name = \"Riverside Family Clinic\"\nnmae = \"typo\""))
        .unwrap();
    hangup_signal(&d);
    d.wait_for("configuration NOT reloaded", Duration::from_secs(10));
    assert!(d.log().contains("clinic.nmae"), "the mistake is named: {}", d.log());

    std::fs::write(&config, text.replace("Riverside Family Clinic", "Sunflower Valley Clinic")).unwrap();
    hangup_signal(&d);
    d.wait_for("configuration reloaded:", Duration::from_secs(60));

    let call = LoopbackCaller::dial(&uri(port), "caller").unwrap();
    let greeting = until_asked(&call, Duration::from_secs(90)).unwrap_or_else(|e| panic!("{e}\n{}", d.log()));
    call.hang_up(Duration::from_secs(10)).unwrap();
    let log = d.stop();
    // Whisper capitalises a name it does not know at random and spells it as it hears it
    // ("sunflour", "sunflower belly clinic", both seen in CI): a heard word within two edits of
    // a word only the new name has is the new name; none near "riverside" means the old is gone.
    let heard: Vec<String> = greeting.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    let near = |name_word: &str| heard.iter().any(|w| frontdesk::call::understand::names::edit_distance(w, name_word) <= 2);
    assert!(near("sunflower") || near("valley"), "the greeting after the reload: {greeting:?}\n{log}");
    assert!(!near("riverside"), "{greeting:?}");

    let audit = Command::new(common::frontdesk_bin()).args(["--config", config.to_str().unwrap(), "audit", "show"]).output().unwrap();
    let audit = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.contains("config_reload_refused") && audit.contains("config_reload "), "{audit}");
}

#[test]
fn the_log_check_finds_numbers_on_their_own_but_not_inside_timestamps() {
    assert!(names("2026-12-05T09:10:11.123456Z  INFO callback=617 5550199", "617"));
    assert!(names("callback (617) 555-0199", "617"));
    assert!(!names("2026-12-05T09:10:11.126175Z  INFO call=#a617f conversation ended", "617"));
    assert!(names("name=JohnSmith", "Smith"));
}
