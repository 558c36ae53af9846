//! The engine frame by frame: an in-memory line, simulated time, the real models.
//!
//! Each test drives one call on its own thread, a tick (one 20 ms frame) at a time, and waits
//! for what it checks (a caller turn in the record, a prompt, a phase), never for wall-clock
//! time. The call's clock moves only with the frames the line delivers, and recognition and
//! synthesis take no call time (`Call::settle`), so turn ends, barge-ins and timeouts come out
//! the same on any machine. One test at a time: they share one recogniser.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::speaking::synthesize_8k;
use super::{Call, Phase, Shared, SttPool};
use crate::call::flow::{Action, Expect, Input, Script};
use crate::config::Config;
use crate::line::memory::{self, MemoryLine};
use crate::line::{CallInfo, Clock, LineEvent};
use crate::record::{Speaker, TurnLatency};
use crate::speech::stt::Stt;
use crate::speech::tts::Voice;

struct Models {
    config: Config,
    pool: Arc<SttPool>,
    /// Without its random variation, so the caller and the agent sound the same every run.
    voice: Arc<Voice>,
    /// The greeting at 8 kHz, synthesised once: every test hears it, and on a real box it is
    /// in the prompt cache (`Shared::warm`) too.
    greeting: Arc<Vec<i16>>,
}

/// The example config's models, loaded once; None (and the test skips, saying so) when they
/// are not there (`make models`).
fn models() -> Option<&'static Models> {
    static M: OnceLock<Option<Models>> = OnceLock::new();
    M.get_or_init(|| {
        // FRONTDESK_TEST_CONFIG: the same config with other library paths (the aarch64 tests
        // under qemu load ONNX Runtime for aarch64; scripts/arm64.sh).
        let path = std::env::var_os("FRONTDESK_TEST_CONFIG")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/frontdesk.toml"));
        let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let (stt, tts) = (config.stt_settings(), config.tts_settings());
        if !stt.model.exists() || !tts.voice.exists() {
            return None;
        }
        let stt = Arc::new(Stt::load(&stt).expect("speech recognition loads"));
        let voice = Arc::new(Voice::load(&tts).expect("the voice loads").without_variation());
        let greeting = Arc::new(synthesize_8k(&voice, &Script::new(&config.script()).prompts.greeting).expect("the greeting synthesises"));
        Some(Models { pool: SttPool::start(stt), voice, greeting, config })
    })
    .as_ref()
}

/// One call on the in-memory line, driven by the test.
struct Harness {
    call: Call,
    line: MemoryLine,
    _one_at_a_time: MutexGuard<'static, ()>,
}

/// A Monday at 10:00 in the clinic's time zone (America/New_York): open.
const MONDAY_MORNING: &str = "2026-11-23T15:00:00Z";

impl Harness {
    /// A call answered and its greeting started; None when the models are missing.
    fn start(test: &str) -> Option<Harness> {
        Harness::start_with(test, None)
    }

    /// The same, with a classifier for requests the rules do not understand.
    fn start_with(test: &str, classifier: Option<Arc<dyn super::Classifier>>) -> Option<Harness> {
        static SERIAL: Mutex<()> = Mutex::new(());
        let Some(m) = models() else {
            eprintln!("{test}: skipped, the models named in examples/frontdesk.toml are missing (run `make models`)");
            return None;
        };
        let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let script = Script::new(&m.config.script());
        let prompt_audio = std::collections::HashMap::from([(script.prompts.greeting.clone(), m.greeting.clone())]);
        let shared = Arc::new(Shared {
            script: std::sync::RwLock::new(script),
            stt_pool: m.pool.clone(),
            voice: m.voice.clone(),
            conversation: m.config.conversation.clone(),
            store: None,
            recording: None,
            prompt_audio: std::sync::Mutex::new(prompt_audio),
            closing: Default::default(),
            prompt_cache: None,
            classifier: std::sync::RwLock::new(classifier),
        });
        let info = CallInfo { caller: Some("+15551234567".into()), dialled: None, log_id: test.into(), caller_name: None };
        let (line, leg) = memory::pair(info, Clock::simulated(MONDAY_MORNING.parse().unwrap()));
        line.event(LineEvent::Answered);
        let mut call = Call::new(shared, Box::new(leg));
        call.begin();
        Some(Harness { call, line, _one_at_a_time: guard })
    }

    /// Queues the caller saying `text`, as it reaches us over a phone line (8 kHz mu-law).
    fn say(&self, text: &str) {
        let m = models().expect("models loaded");
        let audio = m.voice.synthesize(text).unwrap();
        let phone = crate::audio::telephone::through_g711(&audio.samples, audio.sample_rate, crate::audio::g711::Law::Ulaw).unwrap();
        let samples: Vec<i16> = phone.iter().map(|&x| crate::audio::resample::f32_to_i16(x)).collect();
        self.line.say(&samples);
    }

    fn now(&self) -> Instant {
        self.call.clock.now()
    }

    /// Runs the call a frame at a time until `done` holds; fails after `limit` of call time or
    /// if the call ends first.
    fn until(&mut self, what: &str, limit: Duration, done: impl Fn(&Call) -> bool) {
        let end = self.now() + limit;
        while !done(&self.call) {
            assert!(self.call.phase != Phase::Ended, "the call ended before {what}");
            assert!(self.now() < end, "no {what} within {limit:?} of call time");
            self.call.tick();
        }
    }

    /// Runs the call for `d` of call time.
    fn run_for(&mut self, d: Duration) {
        let end = self.now() + d;
        while self.now() < end && self.call.phase != Phase::Ended {
            self.call.tick();
        }
    }

    fn until_listening(&mut self, what: &str) {
        self.until(what, Duration::from_secs(60), |c| matches!(c.phase, Phase::Listening { .. }));
    }

    fn caller_turns(&self) -> Vec<(String, bool)> {
        self.call.flow.record.transcript.iter().filter(|u| u.speaker == Speaker::Caller).map(|u| (u.text.clone(), u.keypad)).collect()
    }

    /// What the agent finished saying or was cut off in, with whether it was interrupted.
    fn agent_said(&self) -> Vec<(String, bool)> {
        self.call.flow.record.transcript.iter().filter(|u| u.speaker == Speaker::Agent).map(|u| (u.text.clone(), u.interrupted)).collect()
    }

    fn last_latency(&self) -> TurnLatency {
        self.call.flow.record.latencies.last().expect("a turn latency").clone()
    }

    fn greeting(&self) -> String {
        self.call.flow.script().prompts.greeting.clone()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Nothing of this call left in the shared recogniser's queue for the next test.
        self.call.settle();
    }
}

fn has_caller_turn(c: &Call) -> bool {
    c.flow.record.transcript.iter().any(|u| u.speaker == Speaker::Caller)
}

/// The agent has started answering: a prompt after the caller's turn is on the line.
fn replying(c: &Call) -> bool {
    has_caller_turn(c) && c.prompts.front().is_some_and(|p| p.started.is_some())
}

fn silent(samples: &[i16]) -> bool {
    samples.iter().all(|&s| s == 0)
}

#[test]
fn the_greeting_plays_whole_and_a_turn_ends_after_the_silence() {
    let Some(mut h) = Harness::start("turn_end") else { return };
    h.until_listening("listening after the greeting");
    let greeting = h.greeting();
    assert_eq!(h.agent_said(), vec![(greeting, false)]);
    let heard = h.line.heard();
    assert!(heard.len() > 8000 * 3 && !silent(&heard), "the caller heard the greeting");
    assert_eq!(h.line.clears(), 0);

    // A turn that trails off does not read as finished: it ends after the full silence.
    h.say("I'd like to make an appointment for");
    h.line.silence(3000);
    h.until("the caller's turn", Duration::from_secs(10), has_caller_turn);
    let silence_ms = h.call.shared.conversation.silence_ms;
    h.until("the agent's reply", Duration::from_secs(5), replying);
    let turns = h.caller_turns();
    assert!(turns[0].0.to_lowercase().contains("appointment"), "{turns:?}");
    let lat = h.last_latency();
    assert!(lat.endpoint_ms >= silence_ms, "an unfinished turn waits for conversation.silence_ms ({silence_ms} ms): {lat:?}");
    // Nothing was said after the pause where it was transcribed: that transcript is the turn's.
    assert_eq!(h.call.stt_jobs.last_jobs, 0, "the turn was not transcribed a second time");
}

#[test]
fn a_turn_that_reads_finished_ends_early() {
    let Some(mut h) = Harness::start("early_end") else { return };
    h.until_listening("listening after the greeting");
    h.say("I'd like to make an appointment.");
    h.line.silence(3000);
    h.until("the agent's reply", Duration::from_secs(10), replying);
    let turns = h.caller_turns();
    assert!(turns[0].0.to_lowercase().contains("appointment"), "{turns:?}");
    let lat = h.last_latency();
    let silence_ms = h.call.shared.conversation.silence_ms;
    assert!(
        (super::listening::EARLY_END_SILENCE_MS..silence_ms).contains(&lat.endpoint_ms),
        "taken at the early-end pause, not after {silence_ms} ms: {lat:?}"
    );
}

#[test]
fn talking_over_the_greeting_stops_it_and_takes_the_turn() {
    let Some(mut h) = Harness::start("barge_in") else { return };
    h.until("the greeting on the line", Duration::from_secs(5), |c| c.prompts.front().is_some_and(|p| p.started.is_some()));
    h.line.silence(1000);
    h.say("I'd like to make an appointment.");
    h.line.silence(3000);
    h.until("the barge-in", Duration::from_secs(5), |c| c.phase != Phase::Speaking);
    assert_eq!(h.line.clears(), 1, "the greeting's queued audio was dropped");
    assert_eq!(h.agent_said(), vec![(h.greeting(), true)], "the greeting is noted as interrupted");
    // What the caller hears stops with the clear: no more greeting while they talk.
    let at_barge_in = h.line.heard().len();
    h.until("the agent's reply", Duration::from_secs(10), replying);
    let turns = h.caller_turns();
    assert!(turns[0].0.to_lowercase().contains("appointment"), "{turns:?}");
    let heard = h.line.heard();
    let reply_started = heard.iter().skip(at_barge_in).position(|&s| s != 0).map_or(heard.len(), |i| at_barge_in + i);
    assert!(reply_started - at_barge_in >= 8000, "the caller was not talked over (silence from the barge-in to the reply)");
}

#[test]
fn a_backchannel_over_a_statement_resumes_it() {
    let Some(mut h) = Harness::start("resume") else { return };
    h.until_listening("listening after the greeting");
    let statement = "Our office is on the second floor, next to the pharmacy. Parking is free behind the building.";
    h.call.take_actions(vec![Action::Say { text: statement.into(), interruptible: true }, Action::Listen(Expect::Speech)]);
    h.until("the statement on the line", Duration::from_secs(5), |c| c.prompts.front().is_some_and(|p| p.started.is_some()));
    h.line.silence(1500);
    h.say("Okay.");
    h.until("the barge-in", Duration::from_secs(5), |c| c.barged.is_some());
    assert_eq!(h.line.clears(), 1);
    h.until("the statement again", Duration::from_secs(5), |c| c.barged.is_none() && c.phase == Phase::Speaking);
    h.until_listening("listening after the statement");
    assert!(h.caller_turns().is_empty(), "\"okay\" over a statement is not a turn: {:?}", h.caller_turns());
    let said = h.agent_said();
    assert_eq!(said[1..], [(statement.to_string(), true), (statement.to_string(), false)], "interrupted, then played to its end");
}

/// On a real line synthesis runs beside the call: audio that arrives while a prompt is set
/// aside by a barge-in must reach it, or a prompt resumed after noise stalls half-made until
/// the watchdog fires.
#[test]
fn audio_made_while_a_prompt_is_set_aside_reaches_it() {
    let Some(mut h) = Harness::start("set-aside") else { return };
    h.until_listening("listening after the greeting");
    h.call.take_actions(vec![
        Action::Say { text: "Parking is free behind the building.".into(), interruptible: true },
        Action::Listen(Expect::Speech),
    ]);
    h.until("the statement on the line", Duration::from_secs(5), |c| c.prompts.front().is_some_and(|p| p.started.is_some()));
    h.line.silence(600);
    h.say("Okay.");
    h.until("the barge-in", Duration::from_secs(5), |c| c.barged.is_some());
    let (id, before) = {
        let p = &h.call.barged.as_ref().expect("set aside").prompts[0];
        (p.id, p.audio.len())
    };
    h.call.on_tts(super::speaking::TtsChunk { id, samples: vec![0; 160], done: true });
    let p = &h.call.barged.as_ref().expect("still set aside").prompts[0];
    assert_eq!(p.audio.len(), before + 160, "the late audio reached the prompt set aside");
    assert!(p.complete, "and its end too");
}

#[test]
fn keys_stop_a_prompt_and_end_on_hash_or_after_a_pause() {
    let Some(mut h) = Harness::start("keypad") else { return };
    h.until("the greeting on the line", Duration::from_secs(5), |c| c.prompts.front().is_some_and(|p| p.started.is_some()));
    h.run_for(Duration::from_millis(500));
    h.line.press('1');
    h.line.press('2');
    h.line.press('#');
    h.until("the keys as a turn", Duration::from_secs(1), has_caller_turn);
    assert!(h.line.clears() >= 1, "a key stops the greeting");
    assert_eq!(h.agent_said(), vec![(h.greeting(), true)]);
    assert_eq!(h.caller_turns(), vec![("12#".to_string(), true)]);

    // Without '#', the entry ends after KEY_PAUSE.
    h.until_listening("listening after the reply to the keys");
    h.line.press('4');
    h.line.press('2');
    let pressed = h.now();
    h.call.tick();
    h.until("the second entry", Duration::from_secs(10), |c| c.flow.record.transcript.iter().filter(|u| u.keypad).count() == 2);
    let waited = h.now() - pressed;
    assert!(waited >= super::timers::KEY_PAUSE && waited <= super::timers::KEY_PAUSE + Duration::from_millis(40), "{waited:?}");
    assert_eq!(h.caller_turns()[1], ("42".to_string(), true));

    // With a count expected, the last key ends it.
    h.until_listening("listening after the reply to the second entry");
    h.call.listen(Expect::Keypad { count: 3 });
    // And the '#' a caller presses out of habit after it is no entry of its own: it neither
    // cuts off the reply nor is taken as a second, wrong entry (which once made the keypad date
    // of birth a loop: the date read back, cut off by its '#', and the keypad asked again).
    for k in ['7', '0', '1', '#'] {
        h.line.press(k);
    }
    h.call.tick();
    assert_eq!(h.caller_turns()[2], ("701".to_string(), true));
    let clears = h.line.clears();
    h.until_listening("listening after the reply to the third entry");
    assert_eq!(h.caller_turns().len(), 3, "the '#' after a full entry is not an entry: {:?}", h.caller_turns());
    assert_eq!(h.line.clears(), clears, "the reply to the entry played to its end");
    assert!(!h.agent_said().last().expect("a reply").1, "the reply to the entry played to its end");
}

/// A caller who talks over the goodbye ("Sorry, what was that?") hears the rest of it and is
/// hung up on. That turn set the goodbye aside with the hang-up after it, and the finished
/// conversation takes no more turns: the call once waited in silence, the watchdog firing every
/// 15 s, until the caller gave up.
#[test]
fn talking_over_the_goodbye_still_ends_the_call() {
    let Some(mut h) = Harness::start("goodbye") else { return };
    h.until_listening("listening after the greeting");
    h.call.on_input(Input::NoInput);
    h.until_listening("listening after the question asked again");
    h.call.on_input(Input::NoInput);
    let goodbye = h.call.flow.script().prompts.no_input_goodbye.clone();
    h.until("the goodbye on the line", Duration::from_secs(5), |c| {
        c.prompts.front().is_some_and(|p| p.text == goodbye && p.started.is_some())
    });
    h.line.silence(1000);
    h.say("Sorry, what was that?");
    h.line.silence(3000);
    h.until("the caller talking over the goodbye", Duration::from_secs(5), |c| c.barged.is_some());
    h.until("the end of the call", Duration::from_secs(20), |c| c.phase == Phase::Ended);
    let said = h.agent_said();
    // Cut off, then resumed to its end (cut off twice when the caller's words end a turn at a
    // pause and go on: each part resumes it).
    let goodbyes: Vec<bool> = said.iter().filter(|(t, _)| *t == goodbye).map(|(_, cut)| *cut).collect();
    assert!(goodbyes.len() >= 2 && goodbyes[0] && !goodbyes[goodbyes.len() - 1], "cut off, then resumed to its end: {said:?}");
    assert!(h.caller_turns().is_empty(), "words over the goodbye are no turn: {:?}", h.caller_turns());
}

#[test]
fn the_watchdog_recovers_a_stuck_call() {
    let Some(mut h) = Harness::start("watchdog") else { return };
    h.until_listening("listening after the greeting");
    // A recognition that never comes back.
    h.call.phase = Phase::Transcribing;
    let stuck = h.now();
    h.call.last_progress = stuck;
    let watchdog = h.call.flow.script().prompts.watchdog.clone();
    h.until("the watchdog", Duration::from_secs(20), |c| c.prompts.iter().any(|p| p.text.contains(&watchdog)));
    let after = h.now() - stuck;
    assert!(after >= super::timers::WATCHDOG && after <= super::timers::WATCHDOG + Duration::from_millis(40), "{after:?}");
    h.until_listening("listening after the watchdog's offer");
}

/// A box too busy to transcribe in time (recognition slowed to 4 s of call time): the caller
/// hears "One moment." within 1.5 s of the end of their turn, then the reply, whose latency
/// is recorded as it was (the hold prompt is not the reply).
#[test]
fn a_late_reply_is_preceded_by_the_hold_prompt() {
    let Some(mut h) = Harness::start("hold") else { return };
    h.until_listening("listening after the greeting");
    let slow = Duration::from_secs(4);
    h.call.stt_jobs.slow_down(slow);
    h.say("I'd like to make an appointment.");
    h.line.silence(8000);
    h.until("the end of the turn", Duration::from_secs(10), |c| c.phase == Phase::Transcribing);
    let ended_at = h.line.heard().len();
    h.until("the reply", Duration::from_secs(10), replying);
    // What the caller heard after the end of the turn: the hold prompt, and when it began.
    let heard = h.line.heard();
    let first_sound = heard[ended_at..].iter().position(|&s| s != 0).expect("the caller heard something");
    let waited_ms = first_sound / 8;
    assert!(
        (super::speaking::HOLD_AFTER.as_millis() as usize..=1500).contains(&waited_ms),
        "the caller heard the first sound {waited_ms} ms after the end of the turn"
    );
    let hold = h.call.flow.script().prompts.hold.clone();
    let said = h.agent_said();
    assert_eq!(said[1], (hold, false), "the hold prompt, played whole: {said:?}");
    assert!(h.caller_turns()[0].0.to_lowercase().contains("appointment"), "{:?}", h.caller_turns());
    let lat = h.last_latency();
    assert!(lat.total_ms as u128 >= slow.as_millis(), "the reply's own latency, not the hold prompt's: {lat:?}");
    assert_eq!(h.call.flow.record.latencies.len(), 1, "one reply, one latency");
    assert_eq!(h.call.stt_jobs.last_jobs, 0, "the transcription already out was waited for, not repeated");
}

#[test]
fn the_caller_hanging_up_ends_the_call() {
    let Some(mut h) = Harness::start("hangup") else { return };
    h.run_for(Duration::from_millis(500));
    h.line.event(LineEvent::Hangup);
    h.until("the end", Duration::from_secs(1), |c| c.phase == Phase::Ended);
    h.call.finish();
    assert!(!h.line.agent_hung_up());
}

/// Stands in for the language model (`tests/assist_*.rs` run the real one): answers `label`
/// and keeps what it was asked.
struct Asked {
    label: Option<String>,
    asked: Mutex<Vec<(String, Vec<String>)>>,
}

impl super::Classifier for Asked {
    fn classify(&self, text: &str, labels: &[(String, String)], _captured: &[String]) -> Option<String> {
        self.asked.lock().unwrap().push((text.to_string(), labels.iter().map(|(n, _)| n.clone()).collect()));
        self.label.clone()
    }
}

/// An unforeseen request goes to the classifier while the caller hears the hold prompt; its
/// label starts that request, and no label is "not understood", as without one.
#[test]
fn an_unforeseen_request_is_classified_while_the_hold_prompt_plays() {
    for label in [Some("message"), None] {
        let classifier = Arc::new(Asked { label: label.map(String::from), asked: Mutex::new(Vec::new()) });
        let Some(mut h) = Harness::start_with("classify", Some(classifier.clone())) else { return };
        h.until_listening("the greeting's end");
        h.say("My kid's school needs a form signed.");
        h.until("a reply", Duration::from_secs(20), |c| {
            c.flow.record.transcript.iter().filter(|u| u.speaker == Speaker::Agent).count() >= 3
        });
        h.until_listening("the next question");
        let asked = classifier.asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert!(asked[0].0.to_lowercase().contains("school"), "{asked:?}");
        assert!(asked[0].1.contains(&"refill".to_string()), "{asked:?}");
        let said: Vec<String> = h.agent_said().into_iter().map(|(t, _)| t).collect();
        let script = h.call.flow.script().clone();
        assert_eq!(said[1], script.prompts.hold, "{said:?}");
        match label {
            Some(l) => {
                assert_eq!(said[2], script.flows[l].intro, "{said:?}");
                assert!(h.call.flow.record.assisted);
            }
            None => {
                assert_eq!(said[2], script.prompts.not_understood, "{said:?}");
                assert!(!h.call.flow.record.assisted);
            }
        }
    }
}

/// A caller who names herself, pauses as between sentences, and goes on just as the hold
/// prompt starts (while it cannot be interrupted yet): the quick answer about her name alone
/// must not start a flow she then talks over. Her two sentences are one request, asked again
/// whole, and that answer starts it. (CI once heard "message" start on "Hi, this is Rose
/// Baker." and her reason taken for her name.)
#[test]
fn a_caller_going_on_over_the_hold_prompt_is_one_request() {
    let classifier = Arc::new(Asked { label: Some("message".into()), asked: Mutex::new(Vec::new()) });
    let Some(mut h) = Harness::start_with("classify-pause", Some(classifier.clone())) else { return };
    h.until_listening("the greeting's end");
    h.say("Hi, this is Rose Baker.");
    let hold = h.call.flow.script().prompts.hold.clone();
    h.until("the hold prompt", Duration::from_secs(20), |c| c.prompts.front().is_some_and(|p| p.text == hold && p.started.is_some()));
    h.say("My kid's school needs a form signed.");
    h.until("the request asked whole", Duration::from_secs(30), |_| classifier.asked.lock().unwrap().len() >= 2);
    h.until_listening("the next question");
    let asked = classifier.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2, "{asked:?}");
    let whole = asked[1].0.to_lowercase();
    assert!(whole.contains("rose") && whole.contains("school"), "{asked:?}");
    let said: Vec<String> = h.agent_said().into_iter().map(|(t, _)| t).collect();
    let script = h.call.flow.script().clone();
    assert!(said.contains(&script.flows["message"].intro), "{said:?}");
    assert!(!said.contains(&script.prompts.not_understood), "{said:?}");
    // The intro (and its first question) ends what was said: nothing she said was taken as
    // an answer to it.
    assert!(said[said.len().saturating_sub(2)..].contains(&script.flows["message"].intro), "{said:?}");
}
