//! One call's conversation on a line: listening, turn taking, barge-in, speaking, the record.
//!
//! Three threads per call. This one (the call's thread) runs a 20 ms loop over the leg: it
//! decides speech frame by frame (VAD, with our own prompt's echo removed), finds where the
//! caller's turn ends, paces the reply's audio into the line and stops it when the caller
//! talks over it. Whisper and the voice run on two worker threads of their own, so inference
//! never delays this loop, and the line's media thread keeps the RTP clock regardless.
//!
//! What the engine never does is decide what to say: that is the flow's (`flow.rs`), which is
//! why the same conversation runs in `simulate`.
//!
//! The files, one job each:
//! - `mod.rs` (here): what calls share, the call's state and its loop, carrying out the flow's
//!   actions, the record;
//! - `listening.rs`: frames in, speech detection, where a turn ends (early on a finished-reading
//!   transcript), barge-in and resuming after noise;
//! - `keypad.rs`: key presses;
//! - `speaking.rs`: the synthesis worker, the prompt cache and pacing the reply into the line;
//! - `recognition.rs`: the recognition queue every call shares;
//! - `timers.rs`: the keypad pause, no input, the call's length limit and the watchdog.

mod classify;
mod keypad;
mod listening;
mod recognition;
mod speaking;
#[cfg(test)]
mod tests;
mod timers;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use super::endpoint::{EndpointConfig, Endpointer, Hangover};
use super::flow::{Action, CallContext, Expect, Flow, Input, Script};
use super::script::ConversationSection;
use crate::audio::echo::EchoGuard;
use crate::audio::vad::{FrameVad, VoiceActivity};
use crate::line::{CallLeg, Clock, Frame, LineEvent};
use crate::record::now_rfc3339;
use crate::speech::tts::Voice;
use crate::store::Store;
pub use classify::Classifier;
use listening::{BargeIn, EarlyEnd, MIN_TURN_SPEECH_MS, PART_AFTER_SILENCE_MS};
use recognition::SttClient;
pub use recognition::SttPool;
pub use speaking::HOLD_AFTER;
use speaking::{Prompt, TtsChunk, TtsJob, tts_worker};

/// How long a call on simulated time waits for a worker's result (in real time) before going
/// on without it; generous, for a loaded test machine.
const SETTLE_LIMIT: Duration = Duration::from_secs(120);

/// What every call shares: models loaded once, the script, the store.
pub struct Shared {
    /// The clinic's script; replaced whole when the config is reloaded. A call keeps the
    /// script it started with.
    pub script: std::sync::RwLock<Arc<Script>>,
    pub stt_pool: Arc<SttPool>,
    pub voice: Arc<Voice>,
    pub conversation: ConversationSection,
    pub store: Option<Arc<Store>>,
    /// The consent announcement, when calls are recorded (`[recording] enabled`).
    pub recording: Option<String>,
    /// Fixed prompts already at 8 kHz: played with no synthesis at all.
    pub prompt_audio: std::sync::Mutex<std::collections::HashMap<String, Arc<Vec<i16>>>>,
    /// The service is stopping: every call says `prompts.shutting_down` and hangs up.
    pub closing: std::sync::atomic::AtomicBool,
    /// Where fixed prompts are kept between starts (the daemon's state directory).
    pub prompt_cache: Option<crate::call::prompt_cache::PromptCache>,
    /// Asked about requests the rules do not understand (`[assist] classify`); None: never.
    /// Replaced on reload; each call keeps the one it started with.
    pub classifier: std::sync::RwLock<Option<Arc<dyn Classifier>>>,
}

impl Shared {
    /// The script new calls start with.
    pub fn script(&self) -> Arc<Script> {
        self.script.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The service is stopping: calls in progress are told why they end and hang up; a call
    /// answered from now on hears only that.
    pub fn close(&self) {
        self.closing.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn is_closing(&self) -> bool {
        self.closing.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Puts a reloaded script in place for the calls that start from now on.
    pub fn replace_script(&self, script: Arc<Script>) {
        *self.script.write().unwrap_or_else(|p| p.into_inner()) = script;
    }

    /// The classifier new calls start with.
    pub fn classifier(&self) -> Option<Arc<dyn Classifier>> {
        self.classifier.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Calls that start from now on use `classifier` (a reloaded `[assist]`).
    pub fn replace_classifier(&self, classifier: Option<Arc<dyn Classifier>>) {
        *self.classifier.write().unwrap_or_else(|p| p.into_inner()) = classifier;
    }
}

/// Answers one call and holds its conversation until it ends; then stores the record.
/// Returns the id of the finished record in the store, for what comes after a call (the
/// daemon's summaries); None when there is no store or the record could not be finished.
pub fn answer(shared: Arc<Shared>, leg: Box<dyn CallLeg>) -> Option<i64> {
    let log_id = leg.info().log_id.clone();
    let mut call = Call::new(shared, leg);
    call.run();
    tracing::debug!(call = %log_id, "conversation thread finished");
    call.record_id.filter(|_| call.stored)
}

/// What the engine is waiting for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Playing prompts (and maybe listening for barge-in).
    Speaking,
    /// The caller's turn.
    Listening {
        expect: Expect,
        since: Instant,
    },
    /// Transcribing the caller's turn.
    Transcribing,
    /// A transfer was asked for.
    Transferring,
    Ended,
}

/// Timing of the turn in progress, for the record's latencies.
#[derive(Default, Clone, Copy)]
struct TurnTimes {
    last_voice: Option<Instant>,
    endpoint: Option<Instant>,
    transcribed: Option<Instant>,
    decided: Option<Instant>,
    stt_ms: u32,
    /// The hold prompt was said for this turn (the reply was late).
    held: bool,
}

struct Call {
    shared: Arc<Shared>,
    leg: Box<dyn CallLeg>,
    flow: Flow,
    record_id: Option<i64>,
    /// The finished record is in the store.
    stored: bool,
    /// The call's time: the machine's on a real line, simulated in tests (see `settle`).
    clock: Clock,
    started: Instant,
    vad: FrameVad,
    echo: EchoGuard,
    endpointer: Endpointer,
    stt_jobs: SttClient,
    tts_jobs: Sender<TtsJob>,
    tts_out: Receiver<TtsChunk>,
    tts_cancelled: Arc<AtomicU64>,
    next_tts_id: u64,
    /// Actions from the flow not yet carried out (everything after a prompt waits for it).
    pending: VecDeque<Action>,
    prompts: VecDeque<Prompt>,
    phase: Phase,
    /// A mirror of what the line has queued, drained at the line's pace: tells how far ahead we
    /// are and what is being played now (for the echo guard).
    mirror: VecDeque<Frame>,
    mirror_next: Instant,
    turn: u64,
    partial_text: String,
    /// Transcriptions of the current turn not back yet, and the lowest confidence so far.
    stt_outstanding: u32,
    turn_confidence: f32,
    keys: String,
    last_key: Option<Instant>,
    keypad: Option<usize>,
    /// When each stage of the turn in progress happened, for its latency.
    times: TurnTimes,
    last_progress: Instant,
    /// The last frame of the caller's voice, heard or overheard (over a prompt that may not be
    /// interrupted yet), not reset with the turn's times when a reply starts: the classifier's
    /// answer waits for the caller to have been quiet since it.
    last_caller_voice: Option<Instant>,
    barged: Option<BargeIn>,
    max_duration_sent: bool,
    /// The service is stopping and this call has been told.
    closing_sent: bool,
    last_expect: Expect,
    /// When the caller started talking over a prompt, until it counts as a barge-in.
    barge_onset: Option<Instant>,
    /// A speculative transcription is out (one at a time per call).
    speculating: bool,
    /// Stops the speculative transcription that is out once the caller talks past it: on a
    /// busy box it would hold a core, and this call's next speculation would wait for it.
    speculation_cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The turn and voiced length last transcribed speculatively: one try per pause, made
    /// as soon as the one before it is back.
    speculated: Option<(u64, u32)>,
    /// A speculative transcript that reads as finished, waiting for `EARLY_END_SILENCE_MS`.
    early_end: Option<EarlyEnd>,
    /// The last speculative transcript of this turn and the voiced length it covered: the
    /// turn's own if it ends with nothing voiced since (see `take_speculation_as_turn`).
    last_speculation: Option<(u32, recognition::SttDone)>,
    /// The turn ended while its speculative transcription was out: the turn's audio, sent only
    /// if that comes back empty.
    awaiting_speculation: Option<Vec<i16>>,
    recorder: Option<crate::store::recording::Recorder>,
    log_id: String,
    /// The classifier this call started with (`Shared::classifier` at its start).
    classifier: Option<Arc<dyn Classifier>>,
    /// The classifier's answer being waited for (see `classify`).
    classifying: Option<classify::Pending>,
}

impl Call {
    fn new(shared: Arc<Shared>, leg: Box<dyn CallLeg>) -> Call {
        let info = leg.info().clone();
        let log_id = info.log_id.clone();
        let script = shared.script();
        let clock = leg.clock();
        let (open, today) = script.open_at(clock.wall());
        let ctx = CallContext { open, today, caller: info.caller.clone(), dialled: info.dialled.clone(), started_at: now_rfc3339() };
        let mut flow = Flow::new(script, ctx);
        flow.record.caller_name = info.caller_name.clone();
        let classifier = shared.classifier();
        if classifier.is_some() {
            flow.enable_classification();
        }
        let stt_jobs = SttClient::new(shared.stt_pool.clone(), clock.clone());
        let (tts_jobs, tts_rx) = channel();
        let (tts_tx, tts_out) = channel();
        let tts_cancelled = Arc::new(AtomicU64::new(0));
        {
            let (sh, cancel, id) = (shared.clone(), tts_cancelled.clone(), log_id.clone());
            let _ = std::thread::Builder::new().name(format!("tts-{log_id}")).spawn(move || tts_worker(sh, tts_rx, tts_tx, cancel, id));
        }
        let c = &shared.conversation;
        let endpointer = Endpointer::new(EndpointConfig {
            // A turn starts on a short word ("March", "yes" are 150-200 ms voiced); a barge-in
            // waits for `barge_in_min_speech_ms` of it (see on_frame).
            min_speech_ms: MIN_TURN_SPEECH_MS,
            silence_ms: c.silence_ms,
            long_silence_ms: c.long_silence_ms,
            max_utterance_ms: c.max_utterance_s * 1000,
            // Keep a second from before the onset: a fricative the detector calls unvoiced, or
            // a first letter too short to start a turn ("S. M. I..."), is not clipped.
            preroll_ms: 1000,
            // A short pause in any turn is a moment to try transcribing it (see JobKind).
            partial_after_ms: 0,
            partial_pause_ms: PART_AFTER_SILENCE_MS,
        });
        let now = clock.now();
        Call {
            flow,
            record_id: None,
            stored: false,
            started: now,
            vad: FrameVad::new(VoiceActivity::Aggressive),
            echo: EchoGuard::new(400),
            endpointer,
            stt_jobs,
            tts_jobs,
            tts_out,
            tts_cancelled,
            next_tts_id: 0,
            pending: VecDeque::new(),
            prompts: VecDeque::new(),
            phase: Phase::Speaking,
            mirror: VecDeque::with_capacity(64),
            mirror_next: now,
            turn: 0,
            partial_text: String::new(),
            stt_outstanding: 0,
            turn_confidence: 1.0,
            keys: String::new(),
            last_key: None,
            keypad: None,
            times: TurnTimes::default(),
            clock,
            last_progress: now,
            last_caller_voice: None,
            barged: None,
            max_duration_sent: false,
            closing_sent: false,
            last_expect: Expect::Speech,
            barge_onset: None,
            speculating: false,
            speculation_cancel: None,
            speculated: None,
            early_end: None,
            last_speculation: None,
            awaiting_speculation: None,
            recorder: None,
            log_id,
            classifier,
            classifying: None,
            shared,
            leg,
        }
    }

    fn at_ms(&self) -> u64 {
        self.clock.since(self.started).as_millis() as u64
    }

    fn run(&mut self) {
        self.begin();
        while self.phase != Phase::Ended {
            self.tick();
        }
        self.finish();
    }

    /// Opens the call's record, waits for the line to be answered, and starts the script.
    fn begin(&mut self) {
        tracing::info!(call = %self.log_id, "conversation started");
        crate::metrics::call_started();
        if let Some(store) = &self.shared.store {
            match store.begin_call(&self.flow.record) {
                Ok(id) => self.record_id = Some(id),
                Err(e) => tracing::error!(call = %self.log_id, "cannot store the call: {e:#}"),
            }
        }
        // Audio sent before the caller's ACK could be lost; wait briefly for the answer.
        let waited = self.clock.now();
        while self.clock.since(waited) < Duration::from_secs(2) {
            match self.leg.poll_event() {
                Some(LineEvent::Answered) | None if self.clock.since(waited) > Duration::from_millis(100) => break,
                Some(LineEvent::Hangup) => {
                    self.flow.on_input(0, Input::CallerHungUp);
                    self.phase = Phase::Ended;
                    break;
                }
                Some(LineEvent::Answered) => break,
                _ => self.clock.sleep(Duration::from_millis(10)),
            }
        }
        if self.phase != Phase::Ended {
            let mut actions = self.flow.start();
            if let Some(announcement) = self.start_recording() {
                // Callers are told before anything else is said, and cannot talk it away.
                actions.insert(0, Action::Say { text: announcement, interruptible: false });
            }
            self.take_actions(actions);
        }
    }

    /// One pass of the loop: line events, one frame in, results from the workers, audio out.
    fn tick(&mut self) {
        while let Some(ev) = self.leg.poll_event() {
            self.on_line_event(ev);
            if self.phase == Phase::Ended {
                return;
            }
        }
        match self.leg.read_frame(Duration::from_millis(20)) {
            Ok(Some(frame)) => {
                self.record_audio(Some(&frame), None);
                self.on_frame(&frame)
            }
            Ok(None) => {}
            Err(_) => {
                self.on_input(Input::CallerHungUp);
                self.phase = Phase::Ended;
                return;
            }
        }
        self.drain_mirror();
        if self.clock.is_simulated() {
            self.settle();
        }
        while let Ok(chunk) = self.tts_out.try_recv() {
            self.on_tts(chunk);
        }
        while let Some(done) = self.stt_jobs.try_recv() {
            self.on_transcript(done);
        }
        self.poll_classification();
        self.hold_if_late();
        self.play();
        self.timers();
    }

    /// On simulated time recognition and synthesis take no time: every job out is waited for
    /// before the clock moves on, so a test sees the same call on any machine. (On a real line
    /// the loop never waits for the workers: that is the point of having them.)
    fn settle(&mut self) {
        loop {
            if let Some(done) = self.stt_jobs.wait(SETTLE_LIMIT) {
                self.on_transcript(done);
                continue;
            }
            if self.prompts.iter().any(|p| !p.complete)
                && let Ok(chunk) = self.tts_out.recv_timeout(SETTLE_LIMIT)
            {
                self.on_tts(chunk);
                continue;
            }
            if self.wait_classification() {
                continue;
            }
            return;
        }
    }

    fn on_line_event(&mut self, ev: LineEvent) {
        match ev {
            LineEvent::Hangup => {
                tracing::info!(call = %self.log_id, "caller hung up");
                self.on_input(Input::CallerHungUp);
                self.phase = Phase::Ended;
            }
            LineEvent::Dtmf(d) => self.on_key(d),
            LineEvent::TransferResult(r) => {
                match &r {
                    Ok(()) => tracing::info!(call = %self.log_id, "transfer succeeded"),
                    Err(why) => tracing::warn!(call = %self.log_id, %why, "transfer failed"),
                }
                if self.phase == Phase::Transferring {
                    self.on_input(Input::TransferResult(r));
                }
            }
            LineEvent::Hold(on) => tracing::debug!(call = %self.log_id, on, "hold"),
            LineEvent::Answered => {}
        }
    }

    /// Hands the caller's input to the flow and starts carrying out what it says.
    fn on_input(&mut self, input: Input) {
        let at = self.at_ms();
        let heard = matches!(input, Input::Heard { .. });
        let hung_up = matches!(input, Input::CallerHungUp);
        let actions = self.flow.on_input(at, input);
        if heard {
            self.times.decided = Some(self.clock.now());
        }
        self.take_actions(actions);
        // The flow is over but the call is not, with nothing left to say or do: a caller who
        // talked over the goodbye set its hang-up aside with it, and the flow takes no more
        // turns. Without this the call waited in silence (the watchdog's offer goes to the
        // finished flow too) until the caller gave up.
        if !hung_up && self.flow.is_done() && self.prompts.is_empty() && self.pending.is_empty() && self.phase != Phase::Ended {
            tracing::info!(call = %self.log_id, "the conversation is over: hanging up");
            self.take_actions(vec![Action::HangUp]);
        }
        self.save_progress();
    }

    fn take_actions(&mut self, actions: Vec<Action>) {
        self.pending.extend(actions);
        self.advance();
    }

    /// Starts the next pending actions: prompts are all queued for synthesis at once (so the
    /// second sentence is ready when the first ends); whatever follows a prompt waits for it to
    /// finish playing.
    fn advance(&mut self) {
        while let Some(action) = self.pending.front().cloned() {
            match action {
                // Asked at once, while the hold prompt before it plays.
                Action::Classify { text, labels, captured } => {
                    self.pending.pop_front();
                    self.start_classification(text, labels, captured);
                }
                Action::Say { text, interruptible } => {
                    self.pending.pop_front();
                    self.next_tts_id += 1;
                    let id = self.next_tts_id;
                    let _ = self.tts_jobs.send(TtsJob { id, text: text.clone() });
                    self.prompts.push_back(Prompt {
                        id,
                        text,
                        interruptible,
                        hold: false,
                        audio: Vec::new(),
                        complete: false,
                        written: 0,
                        started: None,
                    });
                    self.phase = Phase::Speaking;
                }
                _ if !self.prompts.is_empty() => return,
                Action::Listen(expect) => {
                    self.pending.pop_front();
                    self.listen(expect);
                    return;
                }
                Action::Transfer(target) => {
                    self.pending.pop_front();
                    tracing::info!(call = %self.log_id, "transferring the caller");
                    self.phase = Phase::Transferring;
                    self.last_progress = self.clock.now();
                    self.leg.transfer(&target);
                    return;
                }
                Action::HangUp => {
                    self.pending.pop_front();
                    // Let the last words reach the caller before the line goes.
                    let until = self.clock.now() + Duration::from_millis(20 * self.mirror.len() as u64 + 300);
                    while self.clock.now() < until {
                        let _ = self.leg.read_frame(Duration::from_millis(20));
                    }
                    self.leg.hang_up();
                    self.phase = Phase::Ended;
                    return;
                }
            }
        }
        if self.prompts.is_empty() && matches!(self.phase, Phase::Speaking) && self.flow.is_done() {
            self.phase = Phase::Ended;
        }
        // The hold prompt is over and the classifier still thinks: hear the caller meanwhile.
        if self.prompts.is_empty() && self.pending.is_empty() && matches!(self.phase, Phase::Speaking) && self.is_classifying() {
            self.phase = Phase::Transcribing;
        }
    }

    fn listen(&mut self, expect: Expect) {
        self.last_expect = expect;
        self.early_end = None;
        self.phase = Phase::Listening { expect, since: self.clock.now() };
        self.last_progress = self.clock.now();
        self.keypad = match expect {
            Expect::Keypad { count } => Some(count),
            _ => None,
        };
        self.endpointer.set_hangover(if matches!(expect, Expect::Digits | Expect::Keypad { .. }) {
            Hangover::Long
        } else {
            Hangover::Normal
        });
    }

    /// Opens the call's recording when recording is on; returns the announcement to play.
    fn start_recording(&mut self) -> Option<String> {
        let announcement = self.shared.recording.clone()?;
        let (Some(store), Some(id)) = (&self.shared.store, self.record_id) else { return None };
        match crate::store::recording::Recorder::create(store, id) {
            Ok(r) => {
                self.recorder = Some(r);
                Some(announcement)
            }
            Err(e) => {
                // Not recording, so no announcement: the call itself goes on.
                tracing::error!(call = %self.log_id, "cannot record the call: {e:#}");
                None
            }
        }
    }

    fn record_audio(&mut self, caller: Option<&Frame>, agent: Option<&Frame>) {
        let Some(rec) = &mut self.recorder else { return };
        let result = match (caller, agent) {
            (Some(c), _) => rec.caller(c),
            (_, Some(a)) => rec.agent(a),
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::error!(call = %self.log_id, "recording stopped: {e:#}");
            self.recorder = None;
        }
    }

    fn save_progress(&self) {
        if let (Some(store), Some(id)) = (&self.shared.store, self.record_id)
            && let Err(e) = store.update_call(id, &self.flow.record)
        {
            tracing::error!(call = %self.log_id, "cannot store the call's progress: {e:#}");
        }
    }

    fn finish(&mut self) {
        let record = self.flow.finish_record(now_rfc3339(), self.at_ms());
        tracing::info!(
            call = %self.log_id,
            outcome = record.outcome.as_str(),
            intent = record.intent.as_deref().unwrap_or("-"),
            turns = record.latencies.len(),
            seconds = record.duration_ms / 1000,
            "conversation ended"
        );
        crate::metrics::call_ended(
            record.outcome.as_str(),
            record.intent.as_deref(),
            record.latencies.iter().map(|l| crate::metrics::TurnTiming {
                total_ms: l.total_ms,
                stt_work_ms: l.stt_work_ms,
                tts_ms: l.tts_ms,
            }),
        );
        if let Some(rec) = self.recorder.take()
            && let Err(e) = rec.finish()
        {
            tracing::error!(call = %self.log_id, "cannot finish the recording: {e:#}");
        }
        if let (Some(store), Some(id)) = (&self.shared.store, self.record_id) {
            match store.finish_call(id, &record) {
                Ok(()) => self.stored = true,
                Err(e) => tracing::error!(call = %self.log_id, "cannot store the call: {e:#}"),
            }
        }
        self.cancel_synthesis();
    }
}
