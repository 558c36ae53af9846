//! Our side of the call: synthesising replies on a worker thread, the cache of fixed prompts,
//! and pacing the audio into the line a few frames ahead of its clock, so that a barge-in has
//! little queued audio to throw away.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

use super::listening::BargeIn;
use super::{Call, Phase, Shared, TurnTimes};
use crate::call::flow::{Action, Expect};
use crate::line::{FRAME_SAMPLES, Frame};
use crate::record::TurnLatency;
use crate::speech::tts::Voice;

/// Audio kept queued in the line ahead of the clock: enough to ride out a late loop, little
/// enough that a barge-in has little to throw away.
const AHEAD_FRAMES: usize = 6;
/// Callers answer a question they can see coming before it is over; an answer this close to
/// the question's end takes the turn however short it is.
pub(super) const ANSWER_OVERLAP_MS: usize = 1200;
/// When an interruption turns out to be noise, the prompt resumes this far before where it
/// stopped, so the caller hears the interrupted words again.
const RESUME_BACK_SAMPLES: usize = crate::line::RATE as usize * 400 / 1000;
/// A caller hears something within 1.5 s of the end of their turn: the reply, or on a box too
/// busy to have it ready, the `hold` prompt ("One moment."), started this long after the turn
/// ended. The half second to spare covers the line's queue and a late loop.
pub const HOLD_AFTER: Duration = Duration::from_millis(1000);

impl Shared {
    /// Synthesises the fixed prompts at 8 kHz, so greetings and the common replies cost nothing
    /// on a call.
    pub fn warm(&self) -> anyhow::Result<usize> {
        self.warm_with(|| {})
    }

    /// As [`warm`](Self::warm), calling `after_each` once each prompt is made (the daemon gives
    /// the synthesis scratch back to the system there).
    /// Prompts kept on disk from an earlier start (`prompt_cache`) are read, not synthesised;
    /// what is synthesised is kept there for the next. Returns how many were synthesised.
    pub fn warm_with(&self, mut after_each: impl FnMut()) -> anyhow::Result<usize> {
        let mut n = 0;
        let texts = self.fixed_texts();
        for text in &texts {
            if self.prompt_audio.lock().unwrap_or_else(|p| p.into_inner()).contains_key(text) {
                continue;
            }
            let audio = match self.prompt_cache.as_ref().and_then(|c| c.load(text)) {
                Some(kept) => kept,
                None => {
                    let audio = synthesize_8k(&self.voice, text)?;
                    if let Some(c) = &self.prompt_cache {
                        c.store(text, &audio);
                    }
                    after_each();
                    n += 1;
                    audio
                }
            };
            self.prompt_audio.lock().unwrap_or_else(|p| p.into_inner()).insert(text.clone(), Arc::new(audio));
        }
        if let Some(c) = &self.prompt_cache {
            c.keep_only(&texts);
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
}

pub(super) fn synthesize_8k(voice: &Voice, text: &str) -> anyhow::Result<Vec<i16>> {
    let audio = voice.synthesize(text)?;
    to_line_rate(&audio.samples, audio.sample_rate)
}

fn to_line_rate(samples: &[f32], rate: u32) -> anyhow::Result<Vec<i16>> {
    Ok(crate::audio::telephone::to_line_pcm(samples, rate)?)
}

pub(super) struct TtsJob {
    pub(super) id: u64,
    pub(super) text: String,
}

pub(super) struct TtsChunk {
    pub(super) id: u64,
    pub(super) samples: Vec<i16>,
    pub(super) done: bool,
}

/// Synthesises replies sentence by sentence; a job whose id is at or below `cancelled` is
/// dropped, mid-text if need be (the caller interrupted).
pub(super) fn tts_worker(shared: Arc<Shared>, jobs: Receiver<TtsJob>, out: Sender<TtsChunk>, cancelled: Arc<AtomicU64>, log_id: String) {
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

/// One prompt on its way to the caller.
pub(super) struct Prompt {
    pub(super) id: u64,
    pub(super) text: String,
    pub(super) interruptible: bool,
    /// The hold prompt, said while the reply is late: not the reply, so not its latency.
    pub(super) hold: bool,
    pub(super) audio: Vec<i16>,
    pub(super) complete: bool,
    /// Samples already handed to the line.
    pub(super) written: usize,
    pub(super) started: Option<Instant>,
}

impl Call {
    pub(super) fn on_tts(&mut self, chunk: TtsChunk) {
        let first_audio = !chunk.samples.is_empty();
        // A prompt set aside by a barge-in keeps receiving its audio: if the interruption was
        // noise it resumes, and must not stall half-synthesised until the watchdog fires.
        let set_aside = self.barged.iter_mut().flat_map(|b| b.prompts.iter_mut());
        if let Some(p) = self.prompts.iter_mut().chain(set_aside).find(|p| p.id == chunk.id) {
            p.audio.extend_from_slice(&chunk.samples);
            p.complete |= chunk.done;
            if first_audio {
                self.last_progress = self.clock.now();
            }
        }
    }

    /// Keeps the line's queue a few frames ahead with the current prompt's audio.
    pub(super) fn play(&mut self) {
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
            let first = p.started.is_none() && !p.hold;
            if p.started.is_none() {
                p.started = Some(self.clock.now());
            }
            p.written = end;
            if self.leg.write_frame(&frame).is_err() {
                self.phase = Phase::Ended;
                return;
            }
            self.mirror.push_back(frame);
            self.last_progress = self.clock.now();
            if first
                && self.times.endpoint.is_some()
                && let Some(last_voice) = self.times.last_voice
            {
                self.note_latency(last_voice);
            }
        }
    }

    /// Says the hold prompt when the caller's turn ended `HOLD_AFTER` ago and nothing of the
    /// reply is playing yet: recognition or synthesis is behind (a busy box, a long read-back).
    /// Once per turn; the reply follows it. It cannot be talked over: it is short, and a caller
    /// who answers it would only talk over the reply.
    pub(super) fn hold_if_late(&mut self) {
        let Some(endpoint) = self.times.endpoint else { return };
        if self.times.held || self.clock.since(endpoint) < HOLD_AFTER {
            return;
        }
        let late = match self.phase {
            Phase::Transcribing => true,
            Phase::Speaking => {
                self.times.decided.is_some() && self.mirror.is_empty() && self.prompts.front().is_some_and(|p| p.started.is_none())
            }
            _ => false,
        };
        if !late {
            return;
        }
        self.times.held = true;
        let text = self.flow.script().prompts.hold.clone();
        if text.trim().is_empty() {
            return;
        }
        tracing::info!(call = %self.log_id, waited_ms = self.clock.since(endpoint).as_millis() as u64, phase = ?self.phase, "reply late: hold prompt");
        self.next_tts_id += 1;
        let id = self.next_tts_id;
        let cached = self.shared.prompt_audio.lock().unwrap_or_else(|p| p.into_inner()).get(&text).cloned();
        let (audio, complete) = match cached {
            Some(a) => (a.to_vec(), true),
            None => {
                let _ = self.tts_jobs.send(TtsJob { id, text: text.clone() });
                (Vec::new(), false)
            }
        };
        self.prompts.push_front(Prompt { id, text, interruptible: false, hold: true, audio, complete, written: 0, started: None });
    }

    /// The reply's first audio went to the line: where the turn's time went.
    pub(super) fn note_latency(&mut self, last_voice: Instant) {
        let now = self.clock.now();
        let c = self.times;
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
        self.times = TurnTimes::default();
    }

    /// The line plays one frame per 20 ms: pop what it has played from the mirror, telling the
    /// echo guard what the caller's side is hearing now.
    pub(super) fn drain_mirror(&mut self) {
        let now = self.clock.now();
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

    pub(super) fn playing_interruptible(&self) -> bool {
        self.phase == Phase::Speaking && self.prompts.front().is_some_and(|p| p.interruptible)
    }

    /// The caller talked over us (or pressed a key): drop queued audio at once and cancel the
    /// synthesis of what was still to come. With `keep`, what was interrupted is kept, to be
    /// resumed if the interruption was only noise.
    pub(super) fn stop_playback(&mut self, keep: bool) {
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

    pub(super) fn cancel_synthesis(&mut self) {
        self.tts_cancelled.store(self.next_tts_id, Ordering::SeqCst);
    }

    pub(super) fn prompts_clear(&mut self) {
        if !self.prompts.is_empty() {
            self.leg.clear_output();
            self.mirror.clear();
            self.prompts.clear();
            self.cancel_synthesis();
        }
        self.barged = None;
    }
}
