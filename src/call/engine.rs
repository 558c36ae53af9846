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

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use super::endpoint::{EndReason, EndpointConfig, EndpointEvent, Endpointer, Hangover};
use super::flow::{Action, CallContext, Expect, Flow, Input, Script};
use super::script::ConversationSection;
use super::understand::yesno;
use crate::audio::echo::EchoGuard;
use crate::audio::vad::{FrameVad, VoiceActivity};
use crate::line::{CallLeg, FRAME_SAMPLES, Frame, LineEvent, RATE};
use crate::record::{TurnLatency, now_rfc3339};
use crate::speech::stt::{Priming, Stt};
use crate::speech::tts::Voice;
use crate::store::Store;

/// Turns shorter than this are transcribed whole at each short pause (most answers); longer
/// ones in parts, so the end of a long turn leaves only its tail to transcribe.
const SPECULATE_BELOW_SAMPLES: usize = RATE as usize * 4;
/// Silence after which a short turn is transcribed speculatively, so that its transcript is
/// ready, or nearly, when the turn may end (`EARLY_END_SILENCE_MS`).
const SPECULATE_AFTER_SILENCE_MS: u32 = 120;
/// The least silence after which a turn that reads as finished is taken. Premature ends are
/// what callers complain of most, so this is a floor: the turn is taken at the later of this
/// and its transcript being ready.
const EARLY_END_SILENCE_MS: u32 = 250;
/// A pause in a long turn after which what came before it is transcribed while the caller
/// goes on. Longer than the speculation pause: a fricative the detector calls unvoiced can
/// last 100 ms, and a part cut inside a word is misheard.
const PART_AFTER_SILENCE_MS: u32 = 200;
/// Voiced audio that starts a caller's turn.
const MIN_TURN_SPEECH_MS: u32 = 120;
/// Audio kept queued in the line ahead of the clock: enough to ride out a late loop, little
/// enough that a barge-in has little to throw away.
const AHEAD_FRAMES: usize = 6;
/// Callers answer a question they can see coming before it is over; an answer this close to
/// the question's end takes the turn however short it is.
const ANSWER_OVERLAP_MS: usize = 1200;
/// A key press ends the keypad entry after this pause.
const KEY_PAUSE: Duration = Duration::from_millis(3000);
/// Nothing played, heard or computed for this long on a live call is a fault.
const WATCHDOG: Duration = Duration::from_secs(15);
/// When an interruption turns out to be noise, the prompt resumes this far before where it
/// stopped, so the caller hears the interrupted words again.
const RESUME_BACK_SAMPLES: usize = RATE as usize * 400 / 1000;

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
}

impl Shared {
    /// Synthesises the fixed prompts at 8 kHz, so greetings and the common replies cost nothing
    /// on a call.
    pub fn warm(&self) -> anyhow::Result<usize> {
        self.warm_with(|| {})
    }

    /// As [`warm`](Self::warm), calling `after_each` once each prompt is made (the daemon gives
    /// the synthesis scratch back to the system there).
    pub fn warm_with(&self, mut after_each: impl FnMut()) -> anyhow::Result<usize> {
        let mut n = 0;
        for text in self.fixed_texts() {
            if self.prompt_audio.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&text) {
                continue;
            }
            let audio = synthesize_8k(&self.voice, &text)?;
            self.prompt_audio.lock().unwrap_or_else(|p| p.into_inner()).insert(text, Arc::new(audio));
            after_each();
            n += 1;
        }
        Ok(n)
    }

    /// Everything the script says word for word: prompts, FAQ answers, request intros and
    /// questions. (Read-backs hold what the caller said and are synthesised on the call.)
    fn fixed_texts(&self) -> Vec<String> {
        let s = self.script();
        let mut v: Vec<String> = s.prompts.all().into_iter().map(|(_, t)| t.to_string()).collect();
        v.extend(s.faq.values().map(|f| f.answer.clone()));
        v.extend(s.flows.values().map(|f| f.intro.clone()));
        v.extend(s.slots.values().flat_map(|p| [p.ask.clone(), p.retry.clone()]));
        v.retain(|t| !t.contains('{') && !t.trim().is_empty());
        v.sort();
        v.dedup();
        v
    }

    /// The script new calls start with.
    pub fn script(&self) -> Arc<Script> {
        self.script.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts a reloaded script in place for the calls that start from now on.
    pub fn replace_script(&self, script: Arc<Script>) {
        *self.script.write().unwrap_or_else(|p| p.into_inner()) = script;
    }
}

fn synthesize_8k(voice: &Voice, text: &str) -> anyhow::Result<Vec<i16>> {
    let audio = voice.synthesize(text)?;
    to_line_rate(&audio.samples, audio.sample_rate)
}

fn to_line_rate(samples: &[f32], rate: u32) -> anyhow::Result<Vec<i16>> {
    Ok(crate::audio::telephone::to_line_pcm(samples, rate)?)
}

/// Answers one call and holds its conversation until it ends; then stores the record.
pub fn answer(shared: Arc<Shared>, leg: Box<dyn CallLeg>) {
    let log_id = leg.info().log_id.clone();
    let mut call = Call::new(shared, leg);
    call.run();
    tracing::debug!(call = %log_id, "conversation thread finished");
}

// --- workers ---------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum JobKind {
    /// The start of a long turn, transcribed while the caller goes on.
    Part,
    /// The rest of the turn, after its end.
    Last,
    /// The whole turn so far, at a short pause: if it reads as finished and the caller stays
    /// quiet, the turn ends here instead of after the full silence.
    Speculative { voiced_ms: u32 },
}

struct SttJob {
    turn: u64,
    audio: Vec<i16>,
    kind: JobKind,
    priming: Priming,
}

struct SttDone {
    turn: u64,
    text: String,
    confidence: f32,
    elapsed: Duration,
    kind: JobKind,
}

/// Speech recognition shared by every call: a few workers, each with its own whisper state,
/// taking jobs from one queue. On a 2-core box one transcription at a time with both cores
/// finishes each sooner than four at once fighting over them, and a turn's end is served before
/// speculative work (which is dropped once stale).
pub struct SttPool {
    queue: std::sync::Mutex<VecDeque<(SttJob, Sender<SttDone>, Instant)>>,
    ready: std::sync::Condvar,
}

/// A speculative transcription that waited longer than this is of no use any more.
const SPECULATION_STALE: Duration = Duration::from_millis(400);

impl SttPool {
    /// Starts `workers` recognition threads (cores divided by `stt.threads`, at least one).
    pub fn start(stt: Arc<Stt>) -> Arc<SttPool> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let workers = (cores / stt.settings().threads.max(1)).max(1);
        let pool = Arc::new(SttPool { queue: std::sync::Mutex::new(VecDeque::new()), ready: std::sync::Condvar::new() });
        for i in 0..workers {
            let (pool, stt) = (pool.clone(), stt.clone());
            let _ = std::thread::Builder::new().name(format!("stt-{i}")).spawn(move || pool.work(&stt));
        }
        pool
    }

    fn submit(&self, job: SttJob, reply: Sender<SttDone>) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).push_back((job, reply, Instant::now()));
        self.ready.notify_one();
    }

    /// The next job: the oldest turn-end or part first, else the newest fresh speculation.
    fn next(&self) -> (SttJob, Sender<SttDone>) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            // Stale speculations get an empty answer, so their call may speculate again.
            q.retain(|(j, reply, at)| {
                let stale = matches!(j.kind, JobKind::Speculative { .. }) && at.elapsed() >= SPECULATION_STALE;
                if stale {
                    let _ =
                        reply.send(SttDone { turn: j.turn, text: String::new(), confidence: 0.0, elapsed: Duration::ZERO, kind: j.kind });
                }
                !stale
            });
            if let Some(i) = q.iter().position(|(j, _, _)| !matches!(j.kind, JobKind::Speculative { .. })) {
                let (j, r, _) = q.remove(i).expect("index from position");
                return (j, r);
            }
            if let Some((j, r, _)) = q.pop_back() {
                return (j, r);
            }
            q = self.ready.wait(q).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn work(&self, stt: &Stt) {
        let mut transcriber = match stt.transcriber() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("speech recognition unavailable: {e}");
                return;
            }
        };
        loop {
            let (job, reply) = self.next();
            let started = Instant::now();
            let samples: Vec<f32> = job.audio.iter().map(|&s| crate::audio::resample::i16_to_f32(s)).collect();
            let result = crate::audio::resample::resample(&samples, 8000, crate::speech::stt::SAMPLE_RATE)
                .map_err(anyhow::Error::from)
                .and_then(|wide| {
                    if wide.is_empty() { Err(anyhow::anyhow!("empty")) } else { Ok(transcriber.transcribe_turn(&wide, job.priming)?) }
                });
            let (text, confidence) = match result {
                Ok(t) => (t.text, t.confidence),
                Err(e) => {
                    tracing::debug!("no transcript: {e}");
                    (String::new(), 0.0)
                }
            };
            let _ = reply.send(SttDone { turn: job.turn, text, confidence, elapsed: started.elapsed(), kind: job.kind });
        }
    }
}

/// A call's handle on the pool.
struct SttClient {
    pool: Arc<SttPool>,
    reply: Sender<SttDone>,
}

impl SttClient {
    fn send(&self, job: SttJob) -> Result<(), ()> {
        self.pool.submit(job, self.reply.clone());
        Ok(())
    }
}

struct TtsJob {
    id: u64,
    text: String,
}

struct TtsChunk {
    id: u64,
    samples: Vec<i16>,
    done: bool,
}

/// Synthesises replies sentence by sentence; a job whose id is at or below `cancelled` is
/// dropped, mid-text if need be (the caller interrupted).
fn tts_worker(shared: Arc<Shared>, jobs: Receiver<TtsJob>, out: Sender<TtsChunk>, cancelled: Arc<AtomicU64>, log_id: String) {
    for job in jobs {
        if job.id <= cancelled.load(Ordering::SeqCst) {
            continue;
        }
        let cached = shared.prompt_audio.lock().unwrap_or_else(|p| p.into_inner()).get(&job.text).cloned();
        if let Some(audio) = cached {
            if out.send(TtsChunk { id: job.id, samples: audio.to_vec(), done: true }).is_err() {
                return;
            }
            continue;
        }
        let result = shared.voice.synthesize_streaming(&job.text, |sentence| {
            if job.id <= cancelled.load(Ordering::SeqCst) {
                return false;
            }
            match to_line_rate(&sentence.samples, sentence.sample_rate) {
                Ok(samples) => out.send(TtsChunk { id: job.id, samples, done: false }).is_ok(),
                Err(_) => false,
            }
        });
        if let Err(e) = result {
            tracing::error!(call = %log_id, "speech synthesis failed: {e}");
        }
        if out.send(TtsChunk { id: job.id, samples: Vec::new(), done: true }).is_err() {
            return;
        }
    }
}

// --- the call --------------------------------------------------------------------------------

/// One prompt on its way to the caller.
struct Prompt {
    id: u64,
    text: String,
    interruptible: bool,
    audio: Vec<i16>,
    complete: bool,
    /// Samples already handed to the line.
    written: usize,
    started: Option<Instant>,
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
struct TurnClock {
    last_voice: Option<Instant>,
    endpoint: Option<Instant>,
    transcribed: Option<Instant>,
    decided: Option<Instant>,
    stt_ms: u32,
}

struct Call {
    shared: Arc<Shared>,
    leg: Box<dyn CallLeg>,
    flow: Flow,
    record_id: Option<i64>,
    started: Instant,
    vad: FrameVad,
    echo: EchoGuard,
    endpointer: Endpointer,
    stt_jobs: SttClient,
    stt_done: Receiver<SttDone>,
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
    clock: TurnClock,
    last_progress: Instant,
    barged: Option<BargeIn>,
    max_duration_sent: bool,
    last_expect: Expect,
    /// When the caller started talking over a prompt, until it counts as a barge-in.
    barge_onset: Option<Instant>,
    /// A speculative transcription is out (one at a time per call).
    speculating: bool,
    /// The turn and voiced length last transcribed speculatively: one try per pause, made
    /// as soon as the one before it is back.
    speculated: Option<(u64, u32)>,
    /// A speculative transcript that reads as finished, waiting for `EARLY_END_SILENCE_MS`.
    early_end: Option<EarlyEnd>,
    recorder: Option<crate::store::recording::Recorder>,
    log_id: String,
}

/// A turn transcribed at a short pause that reads as finished: it is the whole turn if the
/// caller says nothing more before the pause is long enough.
struct EarlyEnd {
    done: SttDone,
    /// The turn's voiced audio when it was transcribed; more means the caller went on.
    voiced_ms: u32,
}

/// A prompt the caller talked over; kept so it can resume if that was only noise.
struct BargeIn {
    prompts: Vec<Prompt>,
    pending: Vec<Action>,
    expect: Expect,
}

impl Call {
    fn new(shared: Arc<Shared>, leg: Box<dyn CallLeg>) -> Call {
        let info = leg.info().clone();
        let log_id = info.log_id.clone();
        let script = shared.script();
        let (open, today) = script.open_at(jiff::Timestamp::now());
        let ctx = CallContext { open, today, caller: info.caller.clone(), dialled: info.dialled.clone(), started_at: now_rfc3339() };
        let flow = Flow::new(script, ctx);
        let (stt_tx, stt_done) = channel();
        let stt_jobs = SttClient { pool: shared.stt_pool.clone(), reply: stt_tx };
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
        let now = Instant::now();
        Call {
            flow,
            record_id: None,
            started: now,
            vad: FrameVad::new(VoiceActivity::Aggressive),
            echo: EchoGuard::new(400),
            endpointer,
            stt_jobs,
            stt_done,
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
            clock: TurnClock::default(),
            last_progress: now,
            barged: None,
            max_duration_sent: false,
            last_expect: Expect::Speech,
            barge_onset: None,
            speculating: false,
            speculated: None,
            early_end: None,
            recorder: None,
            log_id,
            shared,
            leg,
        }
    }

    fn at_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn run(&mut self) {
        tracing::info!(call = %self.log_id, "conversation started");
        if let Some(store) = &self.shared.store {
            match store.begin_call(&self.flow.record) {
                Ok(id) => self.record_id = Some(id),
                Err(e) => tracing::error!(call = %self.log_id, "cannot store the call: {e:#}"),
            }
        }
        // Audio sent before the caller's ACK could be lost; wait briefly for the answer.
        let waited = Instant::now();
        while waited.elapsed() < Duration::from_secs(2) {
            match self.leg.poll_event() {
                Some(LineEvent::Answered) | None if waited.elapsed() > Duration::from_millis(100) => break,
                Some(LineEvent::Hangup) => {
                    self.flow.on_input(0, Input::CallerHungUp);
                    self.phase = Phase::Ended;
                    break;
                }
                Some(LineEvent::Answered) => break,
                _ => std::thread::sleep(Duration::from_millis(10)),
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
        while self.phase != Phase::Ended {
            self.tick();
        }
        self.finish();
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
        while let Ok(chunk) = self.tts_out.try_recv() {
            self.on_tts(chunk);
        }
        while let Ok(done) = self.stt_done.try_recv() {
            self.on_transcript(done);
        }
        self.play();
        self.timers();
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

    fn on_key(&mut self, d: char) {
        self.last_progress = Instant::now();
        // A key press during a prompt stops it, as a caller who knows the menu expects.
        if self.playing_interruptible() {
            self.stop_playback(false);
        }
        self.keys.push(d);
        self.last_key = Some(Instant::now());
        let enough = self.keypad.is_some_and(|n| self.keys.trim_end_matches('#').len() >= n);
        if d == '#' || enough {
            self.submit_keys();
        }
    }

    fn submit_keys(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let keys = std::mem::take(&mut self.keys);
        self.last_key = None;
        self.pending.clear();
        self.prompts_clear();
        self.on_input(Input::Keys(keys));
    }

    fn on_frame(&mut self, frame: &Frame) {
        let echo = self.echo.is_echo(frame);
        let voiced = !echo && self.vad.is_voiced(frame);
        // Speech during a prompt that may not be interrupted (emergency instructions) is not
        // a turn.
        let hearing = match self.phase {
            // While the last words are transcribed the caller may go on ("March fifth ...
            // nineteen eighty"): that is the same turn continuing.
            Phase::Listening { .. } | Phase::Transcribing => true,
            Phase::Speaking => self.barge_in_allowed(),
            _ => false,
        };
        if !hearing {
            if self.endpointer.is_in_speech() {
                self.endpointer.reset();
            }
            // A caller who started talking just as a prompt began (a reply that came late on a
            // loaded box) keeps those words: they stay in the preroll of the turn that starts
            // once the protection window is over.
            self.endpointer.overhear(frame);
            return;
        }
        if voiced {
            self.clock.last_voice = Some(Instant::now());
            self.last_progress = Instant::now();
        }
        let event = self.endpointer.push(frame, voiced);
        if self.phase == Phase::Speaking && !matches!(event, EndpointEvent::Started { .. } | EndpointEvent::Nothing) {
            // A sound over a prompt too short to interrupt it: forgotten.
            self.endpointer.reset();
            self.barge_onset = None;
            return;
        }
        match event {
            EndpointEvent::Started { onset_ms_ago } => {
                if self.phase == Phase::Speaking {
                    self.barge_onset = Some(Instant::now() - Duration::from_millis(onset_ms_ago as u64));
                } else if self.phase == Phase::Transcribing {
                    tracing::debug!(call = %self.log_id, "the caller goes on: same turn");
                    let expect = self.last_expect;
                    self.listen(expect);
                }
            }
            // A short turn was transcribed whole at the speculation pause.
            EndpointEvent::Pause if self.is_short_turn() => {}
            EndpointEvent::Pause => {
                // The start of a long turn is transcribed while the caller goes on.
                let audio = self.endpointer.take_new_audio().to_vec();
                tracing::debug!(call = %self.log_id, ms = audio.len() / 8, "early transcription of a long turn");
                if !audio.is_empty() {
                    self.stt_outstanding += 1;
                    let _ = self.stt_jobs.send(self.stt_job(audio, JobKind::Part));
                }
            }
            EndpointEvent::Ended { reason } => {
                if reason == EndReason::MaxLength {
                    tracing::debug!(call = %self.log_id, "turn cut at conversation.max_utterance_s");
                }
                let audio = self.endpointer.take_new_audio().to_vec();
                tracing::debug!(call = %self.log_id, ms = audio.len() / 8, voiced_ms = self.endpointer.voiced_ms(), "end of turn");
                self.endpointer.reset_transcribed();
                self.clock.endpoint = Some(Instant::now());
                self.phase = Phase::Transcribing;
                if !audio.is_empty() {
                    self.stt_outstanding += 1;
                    let _ = self.stt_jobs.send(self.stt_job(audio, JobKind::Last));
                } else if self.stt_outstanding == 0 {
                    self.finish_turn();
                }
            }
            EndpointEvent::Discarded => {
                if !self.partial_text.is_empty() || self.stt_outstanding > 0 {
                    // A click after words already heard: the turn is what was heard.
                    self.phase = Phase::Transcribing;
                    if self.stt_outstanding == 0 {
                        self.finish_turn();
                    }
                } else {
                    // A click or a cough that stopped a prompt: carry on where it was.
                    self.resume_after_noise();
                }
            }
            EndpointEvent::Nothing => {}
        }
        if matches!(self.phase, Phase::Listening { .. }) && self.endpointer.is_in_speech() {
            let voiced_ms = self.endpointer.voiced_ms();
            if self.endpointer.trailing_silence_ms() >= SPECULATE_AFTER_SILENCE_MS
                && self.is_short_turn()
                && !self.speculating
                && self.speculated != Some((self.turn, voiced_ms))
            {
                self.speculating = true;
                self.speculated = Some((self.turn, voiced_ms));
                let audio = self.endpointer.utterance().to_vec();
                let _ = self.stt_jobs.send(self.stt_job(audio, JobKind::Speculative { voiced_ms }));
            }
            self.take_early_end_if_due();
        }
        // Talking over a prompt stops it once there is enough of it to be speech, not a click.
        // A short answer over the last words of a question ("yes" as "Is that right?" ends)
        // is the answer, not a cough: it takes the turn too.
        if self.phase == Phase::Speaking
            && let Some(onset) = self.barge_onset
            && self.endpointer.is_in_speech()
            && (self.endpointer.voiced_ms() >= self.shared.conversation.barge_in_min_speech_ms || self.question_nearly_asked())
        {
            tracing::debug!(call = %self.log_id, since_onset_ms = onset.elapsed().as_millis() as u64, "barge-in");
            self.barge_onset = None;
            self.stop_playback(true);
        }
        if !self.endpointer.is_in_speech() {
            self.barge_onset = None;
        }
    }

    /// A turn short enough to be transcribed whole at each pause, with nothing of it
    /// transcribed in parts yet.
    fn is_short_turn(&self) -> bool {
        self.endpointer.utterance().len() < SPECULATE_BELOW_SAMPLES && self.stt_outstanding == 0 && self.partial_text.is_empty()
    }

    fn stt_job(&self, audio: Vec<i16>, kind: JobKind) -> SttJob {
        SttJob { turn: self.turn, audio, kind, priming: self.flow.priming() }
    }

    fn on_transcript(&mut self, done: SttDone) {
        if done.turn != self.turn {
            return;
        }
        self.last_progress = Instant::now();
        if let JobKind::Speculative { voiced_ms } = done.kind {
            self.speculating = false;
            self.on_speculative(done, voiced_ms);
            return;
        }
        self.stt_outstanding = self.stt_outstanding.saturating_sub(1);
        self.clock.stt_ms += done.elapsed.as_millis() as u32;
        if !done.text.is_empty() {
            if !self.partial_text.is_empty() {
                self.partial_text.push(' ');
            }
            self.partial_text.push_str(&done.text);
            self.turn_confidence = self.turn_confidence.min(done.confidence);
            // A caller in the middle of a number gets the longer pause.
            if done.kind == JobKind::Part && done.text.trim_end_matches(['.', ',', ' ']).ends_with(|c: char| c.is_ascii_digit()) {
                self.endpointer.set_hangover(Hangover::Long);
            }
        }
        if self.stt_outstanding == 0 && self.phase == Phase::Transcribing {
            self.finish_turn();
        }
    }

    /// A transcript of the turn at a short pause. Taken as the whole turn when the caller has
    /// said nothing since and it reads as finished (a sentence Whisper closed that does not end
    /// on "the", "and", "about"..., or a complete date or phone number), once the pause
    /// reaches `EARLY_END_SILENCE_MS`; otherwise the turn's end is waited for as usual.
    fn on_speculative(&mut self, done: SttDone, voiced_ms: u32) {
        let Phase::Listening { expect, .. } = self.phase else { return };
        if !self.endpointer.is_in_speech() || self.endpointer.voiced_ms() != voiced_ms || expect != self.last_expect {
            return;
        }
        let text = done.text.trim();
        let today = self.flow_today();
        let finished = match expect {
            Expect::Speech => super::understand::turn::reads_finished(text),
            Expect::Digits => {
                matches!(super::understand::phone::parse_phone(text), super::understand::phone::PhoneParse::Valid(_))
                    || matches!(super::understand::dates::parse_date_of_birth(text, today), super::understand::dates::DobParse::Valid(_))
            }
            Expect::Keypad { .. } => false,
        };
        if text.is_empty() || !finished {
            return;
        }
        self.early_end = Some(EarlyEnd { done, voiced_ms });
        self.take_early_end_if_due();
    }

    /// Ends the turn on a finished-reading transcript once the pause is long enough; forgets
    /// the transcript if the caller went on.
    fn take_early_end_if_due(&mut self) {
        let Some(early) = &self.early_end else { return };
        if !matches!(self.phase, Phase::Listening { .. })
            || !self.endpointer.is_in_speech()
            || self.endpointer.voiced_ms() != early.voiced_ms
        {
            self.early_end = None;
            return;
        }
        let silence_ms = self.endpointer.trailing_silence_ms();
        if silence_ms < EARLY_END_SILENCE_MS {
            return;
        }
        let Some(EarlyEnd { done, .. }) = self.early_end.take() else { return };
        tracing::debug!(call = %self.log_id, silence_ms, "turn ended early: the words read as finished");
        self.endpointer.reset_transcribed();
        // The decision is now; recognition ran during the pause before it.
        self.clock.endpoint = Some(Instant::now());
        self.clock.stt_ms = done.elapsed.as_millis() as u32;
        self.partial_text = done.text;
        self.turn_confidence = done.confidence;
        self.stt_outstanding = 0;
        self.phase = Phase::Transcribing;
        self.finish_turn();
    }

    fn flow_today(&self) -> super::understand::dates::Date {
        self.flow.script().open_at(jiff::Timestamp::now()).1
    }

    /// Everything the caller said in this turn is transcribed: hand it to the flow.
    fn finish_turn(&mut self) {
        let text = std::mem::take(&mut self.partial_text);
        let confidence = std::mem::replace(&mut self.turn_confidence, 1.0);
        self.turn += 1;
        self.clock.transcribed = Some(Instant::now());
        if crate::logging::patient_data() {
            tracing::debug!(call = %self.log_id, confidence, text = %text, "caller turn");
        } else {
            tracing::debug!(call = %self.log_id, words = text.split_whitespace().count(), confidence, "caller turn");
        }
        // Nothing, or "mm-hmm" over a prompt that asked nothing: not a turn. The prompt resumes.
        let barged_statement = self.barged.as_ref().is_some_and(|b| !b.prompts.iter().any(|p| p.text.trim_end().ends_with('?')));
        if text.trim().is_empty() || (barged_statement && yesno::is_backchannel(&text)) {
            if self.barged.is_some() {
                self.resume_after_noise();
            } else {
                let expect = self.last_expect;
                self.listen(expect);
            }
            return;
        }
        self.barged = None;
        self.on_input(Input::Heard { text, confidence });
    }

    /// Hands the caller's input to the flow and starts carrying out what it says.
    fn on_input(&mut self, input: Input) {
        let at = self.at_ms();
        let heard = matches!(input, Input::Heard { .. });
        let actions = self.flow.on_input(at, input);
        if heard {
            self.clock.decided = Some(Instant::now());
        }
        self.take_actions(actions);
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
                Action::Say { text, interruptible } => {
                    self.pending.pop_front();
                    self.next_tts_id += 1;
                    let id = self.next_tts_id;
                    let _ = self.tts_jobs.send(TtsJob { id, text: text.clone() });
                    self.prompts.push_back(Prompt {
                        id,
                        text,
                        interruptible,
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
                    self.last_progress = Instant::now();
                    self.leg.transfer(&target);
                    return;
                }
                Action::HangUp => {
                    self.pending.pop_front();
                    // Let the last words reach the caller before the line goes.
                    let until = Instant::now() + Duration::from_millis(20 * self.mirror.len() as u64 + 300);
                    while Instant::now() < until {
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
    }

    fn listen(&mut self, expect: Expect) {
        self.last_expect = expect;
        self.early_end = None;
        self.phase = Phase::Listening { expect, since: Instant::now() };
        self.last_progress = Instant::now();
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

    fn on_tts(&mut self, chunk: TtsChunk) {
        let first_audio = !chunk.samples.is_empty();
        if let Some(p) = self.prompts.iter_mut().find(|p| p.id == chunk.id) {
            p.audio.extend_from_slice(&chunk.samples);
            p.complete |= chunk.done;
            if first_audio {
                self.last_progress = Instant::now();
            }
        }
    }

    /// Keeps the line's queue a few frames ahead with the current prompt's audio.
    fn play(&mut self) {
        while self.mirror.len() < AHEAD_FRAMES {
            let Some(p) = self.prompts.front_mut() else { break };
            if p.written >= p.audio.len() {
                if p.complete {
                    let p = self.prompts.pop_front().expect("front exists");
                    let interrupted = false;
                    self.flow.note_said(
                        p.started.map(|s| s.duration_since(self.started).as_millis() as u64).unwrap_or(0),
                        &p.text,
                        interrupted,
                    );
                    if self.prompts.is_empty() {
                        self.advance();
                    }
                    continue;
                }
                break;
            }
            let mut frame: Frame = [0; FRAME_SAMPLES];
            let end = (p.written + FRAME_SAMPLES).min(p.audio.len());
            frame[..end - p.written].copy_from_slice(&p.audio[p.written..end]);
            let first = p.started.is_none();
            if first {
                p.started = Some(Instant::now());
            }
            p.written = end;
            if self.leg.write_frame(&frame).is_err() {
                self.phase = Phase::Ended;
                return;
            }
            self.mirror.push_back(frame);
            self.last_progress = Instant::now();
            if first
                && self.clock.endpoint.is_some()
                && let Some(last_voice) = self.clock.last_voice
            {
                self.note_latency(last_voice);
            }
        }
    }

    /// The reply's first audio went to the line: where the turn's time went.
    fn note_latency(&mut self, last_voice: Instant) {
        let now = Instant::now();
        let c = self.clock;
        let (Some(endpoint), Some(transcribed)) = (c.endpoint, c.transcribed) else { return };
        let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_millis() as u32;
        let decided = c.decided.unwrap_or(transcribed);
        let lat = TurnLatency {
            endpoint_ms: ms(last_voice, endpoint),
            stt_ms: ms(endpoint, transcribed),
            stt_work_ms: c.stt_ms,
            decide_ms: ms(transcribed, decided),
            tts_ms: ms(decided, now),
            total_ms: ms(last_voice, now),
        };
        tracing::debug!(call = %self.log_id, total_ms = lat.total_ms, endpoint_ms = lat.endpoint_ms, stt_ms = lat.stt_ms, tts_ms = lat.tts_ms, "turn latency");
        self.flow.record.latencies.push(lat);
        self.clock = TurnClock::default();
    }

    /// The line plays one frame per 20 ms: pop what it has played from the mirror, telling the
    /// echo guard what the caller's side is hearing now.
    fn drain_mirror(&mut self) {
        let now = Instant::now();
        if self.mirror_next + Duration::from_millis(200) < now {
            self.mirror_next = now;
        }
        while self.mirror_next <= now {
            let frame = self.mirror.pop_front().unwrap_or([0; FRAME_SAMPLES]);
            self.echo.played(&frame);
            self.record_audio(None, Some(&frame));
            self.mirror_next += Duration::from_millis(20);
        }
    }

    /// The last prompt before the caller's turn is a question with less than
    /// `ANSWER_OVERLAP_MS` left to play.
    fn question_nearly_asked(&self) -> bool {
        // Called per frame while the caller talks over a prompt: no allocation here.
        let (1, Some(p)) = (self.prompts.len(), self.prompts.front()) else { return false };
        let listen_next = matches!(self.pending.front(), Some(Action::Listen(_)));
        let left = p.audio.len().saturating_sub(p.written) + self.mirror.len() * FRAME_SAMPLES;
        p.complete && listen_next && p.interruptible && p.text.trim_end().ends_with('?') && left <= ANSWER_OVERLAP_MS * 8
    }

    fn playing_interruptible(&self) -> bool {
        self.phase == Phase::Speaking && self.prompts.front().is_some_and(|p| p.interruptible)
    }

    fn barge_in_allowed(&self) -> bool {
        if !self.shared.conversation.barge_in {
            return false;
        }
        let Some(p) = self.prompts.front() else { return false };
        let protect = Duration::from_millis(self.shared.conversation.barge_in_protect_ms as u64);
        p.interruptible && p.started.is_some_and(|s| s.elapsed() >= protect)
    }

    /// The caller talked over us (or pressed a key): drop queued audio at once and cancel the
    /// synthesis of what was still to come. With `keep`, what was interrupted is kept, to be
    /// resumed if the interruption was only noise.
    fn stop_playback(&mut self, keep: bool) {
        self.leg.clear_output();
        let dropped = self.mirror.len();
        self.mirror.clear();
        let mut prompts: Vec<Prompt> = self.prompts.drain(..).collect();
        if let Some(first) = prompts.first_mut() {
            // What had not reached the caller yet goes back to unplayed.
            first.written = first.written.saturating_sub(dropped * FRAME_SAMPLES + RESUME_BACK_SAMPLES);
            self.flow.note_said(first.started.map(|s| s.duration_since(self.started).as_millis() as u64).unwrap_or(0), &first.text, true);
        }
        let mut pending: Vec<Action> = Vec::new();
        let mut expect = Expect::Speech;
        while let Some(a) = self.pending.pop_front() {
            if let Action::Listen(e) = a {
                expect = e;
                break;
            }
            pending.push(a);
        }
        let rest: Vec<Action> = self.pending.drain(..).collect();
        pending.extend(rest);
        self.barged = keep.then_some(BargeIn { prompts, pending, expect });
        if !keep {
            self.cancel_synthesis();
        }
        self.listen(expect);
    }

    fn cancel_synthesis(&mut self) {
        self.tts_cancelled.store(self.next_tts_id, Ordering::SeqCst);
    }

    fn prompts_clear(&mut self) {
        if !self.prompts.is_empty() {
            self.leg.clear_output();
            self.mirror.clear();
            self.prompts.clear();
            self.cancel_synthesis();
        }
        self.barged = None;
    }

    /// The interruption was noise, a backchannel or our own echo: the prompt goes on.
    fn resume_after_noise(&mut self) {
        let Some(b) = self.barged.take() else { return };
        tracing::debug!(call = %self.log_id, "interruption was not a turn: prompt resumed");
        self.endpointer.reset();
        for mut p in b.prompts {
            p.started = None;
            self.prompts.push_back(p);
        }
        let mut pending: VecDeque<Action> = b.pending.into();
        pending.push_back(Action::Listen(b.expect));
        pending.extend(self.pending.drain(..));
        self.pending = pending;
        self.phase = Phase::Speaking;
        self.turn += 1;
        self.partial_text.clear();
        self.stt_outstanding = 0;
        self.turn_confidence = 1.0;
    }

    fn timers(&mut self) {
        let now = Instant::now();
        let c = &self.shared.conversation;
        if !self.max_duration_sent && self.started.elapsed() >= Duration::from_secs(c.max_call_s as u64) {
            self.max_duration_sent = true;
            tracing::info!(call = %self.log_id, "conversation.max_call_s reached");
            self.prompts_clear();
            self.pending.clear();
            self.on_input(Input::MaxDuration);
            return;
        }
        if let Some(at) = self.last_key
            && now.duration_since(at) >= KEY_PAUSE
        {
            self.submit_keys();
            return;
        }
        if let Phase::Listening { since, .. } = self.phase
            && !self.endpointer.is_in_speech()
            && self.keys.is_empty()
            && now.duration_since(since) >= Duration::from_secs(c.no_input_s as u64)
        {
            self.on_input(Input::NoInput);
            return;
        }
        let stuck = match self.phase {
            Phase::Listening { .. } | Phase::Ended => false,
            Phase::Transferring => now.duration_since(self.last_progress) >= Duration::from_secs(40),
            _ => now.duration_since(self.last_progress) >= WATCHDOG,
        };
        if stuck {
            tracing::warn!(call = %self.log_id, phase = ?self.phase, "call stuck: recovering");
            self.last_progress = now;
            self.prompts_clear();
            self.pending.clear();
            self.on_input(if self.phase == Phase::Transferring {
                Input::TransferResult(Err("no answer from the transfer".into()))
            } else {
                Input::Watchdog
            });
        }
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
        if let Some(rec) = self.recorder.take()
            && let Err(e) = rec.finish()
        {
            tracing::error!(call = %self.log_id, "cannot finish the recording: {e:#}");
        }
        if let (Some(store), Some(id)) = (&self.shared.store, self.record_id)
            && let Err(e) = store.finish_call(id, &record)
        {
            tracing::error!(call = %self.log_id, "cannot store the call: {e:#}");
        }
        self.cancel_synthesis();
    }
}
