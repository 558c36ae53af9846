//! The caller's side of the call: each 20 ms frame in, whether it is speech, where the caller's
//! turn ends, and talking over a prompt.
//!
//! A turn ends after the endpointer's silence, or earlier (`EARLY_END_SILENCE_MS`) when a
//! transcript made at a short pause reads as finished. Talking over an interruptible prompt
//! stops it (barge-in); if what interrupted turns out to be a click, a cough or "mm-hmm", the
//! prompt resumes a little before where it stopped. Called once per frame: nothing here may
//! allocate on a frame that changes nothing.

use std::collections::VecDeque;
use std::time::Duration;

use super::recognition::{JobKind, SttDone, SttJob};
use super::speaking::{ANSWER_OVERLAP_MS, Prompt};
use super::{Call, Phase};
use crate::call::endpoint::{EndReason, EndpointEvent, Hangover};
use crate::call::flow::{Action, Expect, Input};
use crate::call::understand::yesno;
use crate::line::{FRAME_SAMPLES, Frame};

/// Turns shorter than this are transcribed whole at each short pause (most answers); longer
/// ones in parts, so the end of a long turn leaves only its tail to transcribe.
const SPECULATE_BELOW_SAMPLES: usize = crate::line::RATE as usize * 4;
/// Silence after which a short turn is transcribed speculatively, so that its transcript is
/// ready, or nearly, when the turn may end (`EARLY_END_SILENCE_MS`). 60 ms was tried: the
/// transcript then often missed the last consonant, still being said ("throat" heard as
/// "throw", the spelled "H" as "a") in the SIP conversation tests.
const SPECULATE_AFTER_SILENCE_MS: u32 = 120;
/// The least silence after which a turn that reads as finished is taken. Premature ends are
/// what callers complain of most, so this is a floor: the turn is taken at the later of this
/// and its transcript being ready. 200 ms was tried: "Yes, that's right." was cut after "Yes,"
/// and spelled letters after the fourth (our voice pauses about 200 ms between them), in the
/// SIP conversation tests.
pub(super) const EARLY_END_SILENCE_MS: u32 = 250;
/// A pause in a long turn after which what came before it is transcribed while the caller
/// goes on. Longer than the speculation pause: a fricative the detector calls unvoiced can
/// last 100 ms, and a part cut inside a word is misheard.
pub(super) const PART_AFTER_SILENCE_MS: u32 = 200;
/// Voiced audio that starts a caller's turn.
pub(super) const MIN_TURN_SPEECH_MS: u32 = 120;

/// A turn transcribed at a short pause that reads as finished: it is the whole turn if the
/// caller says nothing more before the pause is long enough.
pub(super) struct EarlyEnd {
    pub(super) done: SttDone,
    /// The turn's voiced audio when it was transcribed; more means the caller went on.
    pub(super) voiced_ms: u32,
}

/// A prompt the caller talked over; kept so it can resume if that was only noise.
pub(super) struct BargeIn {
    pub(super) prompts: Vec<Prompt>,
    pub(super) pending: Vec<Action>,
    pub(super) expect: Expect,
}

impl Call {
    pub(super) fn on_frame(&mut self, frame: &Frame) {
        let echo = self.echo.is_echo(frame);
        let voiced = !echo && self.vad.is_voiced(frame);
        if voiced {
            self.last_caller_voice = Some(self.clock.now());
        }
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
            self.times.last_voice = Some(self.clock.now());
            self.last_progress = self.clock.now();
        }
        let event = self.endpointer.push(frame, voiced);
        if voiced
            && matches!(self.phase, Phase::Listening { .. })
            && let Some(cancel) = &self.speculation_cancel
            && self.speculated.is_some_and(|(turn, v)| turn != self.turn || v != self.endpointer.voiced_ms())
        {
            // The caller went on past the pause that was being transcribed.
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        if self.phase == Phase::Speaking && !matches!(event, EndpointEvent::Started { .. } | EndpointEvent::Nothing) {
            // A sound over a prompt too short to interrupt it: forgotten.
            self.endpointer.reset();
            self.barge_onset = None;
            return;
        }
        match event {
            EndpointEvent::Started { onset_ms_ago } => {
                if self.phase == Phase::Speaking {
                    self.barge_onset = Some(self.clock.now() - Duration::from_millis(onset_ms_ago as u64));
                } else if self.phase == Phase::Transcribing {
                    tracing::debug!(call = %self.log_id, "the caller goes on: same turn");
                    if let Some(audio) = self.awaiting_speculation.take() {
                        // What came before is now the start of a longer turn.
                        self.stt_outstanding += 1;
                        self.stt_jobs.send(self.stt_job(audio, JobKind::Part));
                    }
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
                    self.stt_jobs.send(self.stt_job(audio, JobKind::Part));
                }
            }
            EndpointEvent::Ended { reason } => {
                if reason == EndReason::MaxLength {
                    tracing::debug!(call = %self.log_id, "turn cut at conversation.max_utterance_s");
                }
                let audio = self.endpointer.take_new_audio().to_vec();
                let voiced_ms = self.endpointer.voiced_ms();
                tracing::debug!(call = %self.log_id, ms = audio.len() / 8, voiced_ms, "end of turn");
                self.endpointer.reset_transcribed();
                self.turn_ended();
                self.phase = Phase::Transcribing;
                if self.take_speculation_as_turn(voiced_ms, audio.as_slice()) {
                    // Transcribed already, or about to be.
                } else if !audio.is_empty() {
                    self.stt_outstanding += 1;
                    self.stt_jobs.send(self.stt_job(audio, JobKind::Last));
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
                let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                self.speculation_cancel = Some(cancel.clone());
                let job = SttJob { cancel: Some(cancel), ..self.stt_job(audio, JobKind::Speculative { voiced_ms }) };
                self.stt_jobs.send(job);
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
            tracing::debug!(call = %self.log_id, since_onset_ms = self.clock.since(onset).as_millis() as u64, "barge-in");
            self.barge_onset = None;
            self.stop_playback(true);
        }
        if !self.endpointer.is_in_speech() {
            self.barge_onset = None;
        }
    }

    /// A turn short enough to be transcribed whole at each pause, with nothing of it
    /// transcribed in parts yet.
    pub(super) fn is_short_turn(&self) -> bool {
        self.endpointer.utterance().len() < SPECULATE_BELOW_SAMPLES && self.stt_outstanding == 0 && self.partial_text.is_empty()
    }

    pub(super) fn stt_job(&self, audio: Vec<i16>, kind: JobKind) -> SttJob {
        SttJob { turn: self.turn, sent: self.clock.now(), audio, kind, priming: self.flow.priming(), cancel: None }
    }

    pub(super) fn on_transcript(&mut self, done: SttDone) {
        if matches!(done.kind, JobKind::Speculative { .. }) {
            // One is out at a time, of this turn or of one already over: either way this
            // call may speculate again.
            self.speculating = false;
            self.speculation_cancel = None;
        }
        if done.turn != self.turn {
            return;
        }
        self.last_progress = self.clock.now();
        if let JobKind::Speculative { voiced_ms } = done.kind {
            if let Some(audio) = self.awaiting_speculation.take() {
                // The turn ended while this was out, with nothing voiced after it.
                if done.text.is_empty() {
                    // Dropped as stale, or heard as nothing: transcribe the turn itself.
                    self.stt_outstanding += 1;
                    self.stt_jobs.send(self.stt_job(audio, JobKind::Last));
                } else {
                    self.finish_turn_with(done);
                }
                return;
            }
            self.last_speculation = Some((voiced_ms, done.clone()));
            self.on_speculative(done, voiced_ms);
            return;
        }
        self.stt_outstanding = self.stt_outstanding.saturating_sub(1);
        self.times.stt_ms += done.elapsed.as_millis() as u32;
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
    pub(super) fn on_speculative(&mut self, done: SttDone, voiced_ms: u32) {
        let Phase::Listening { expect, .. } = self.phase else { return };
        if !self.endpointer.is_in_speech() || self.endpointer.voiced_ms() != voiced_ms || expect != self.last_expect {
            return;
        }
        let text = done.text.trim();
        let today = self.flow_today();
        let finished = match expect {
            Expect::Speech => crate::call::understand::turn::reads_finished(text),
            Expect::Digits => {
                matches!(crate::call::understand::phone::parse_phone(text), crate::call::understand::phone::PhoneParse::Valid(_))
                    || matches!(
                        crate::call::understand::dates::parse_date_of_birth(text, today),
                        crate::call::understand::dates::DobParse::Valid(_)
                    )
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
    pub(super) fn take_early_end_if_due(&mut self) {
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
        self.turn_ended();
        self.phase = Phase::Transcribing;
        self.finish_turn_with(done);
    }

    /// At the end of a short turn (nothing of it transcribed in parts), the speculative
    /// transcription made at its last pause already covers it when the caller voiced nothing
    /// since: that transcript is the turn's, and recognition is not run a second time. On a
    /// busy box this halves the work of a turn that did not read as finished, and its caller
    /// waits for no second pass. True when the turn is taken care of: finished now, or waiting
    /// for that transcription still out (the audio is kept in case it comes back empty).
    fn take_speculation_as_turn(&mut self, voiced_ms: u32, audio: &[i16]) -> bool {
        if !self.partial_text.is_empty() || self.stt_outstanding > 0 || self.speculated != Some((self.turn, voiced_ms)) {
            return false;
        }
        if self.speculating {
            tracing::debug!(call = %self.log_id, "end of turn: waiting for its speculative transcript");
            self.awaiting_speculation = Some(audio.to_vec());
            return true;
        }
        match self.last_speculation.take() {
            Some((v, done)) if v == voiced_ms && done.turn == self.turn && !done.text.is_empty() => {
                tracing::debug!(call = %self.log_id, "end of turn: its speculative transcript is the turn's");
                self.finish_turn_with(done);
                true
            }
            _ => false,
        }
    }

    /// Ends the turn on one transcript that covers all of it.
    fn finish_turn_with(&mut self, done: SttDone) {
        self.times.stt_ms = done.elapsed.as_millis() as u32;
        self.partial_text = done.text;
        self.turn_confidence = done.confidence;
        self.stt_outstanding = 0;
        self.finish_turn();
    }

    /// The caller's turn ends now: the clock for the reply (and for the hold prompt) starts.
    fn turn_ended(&mut self) {
        self.times.endpoint = Some(self.clock.now());
        self.times.held = false;
    }

    pub(super) fn flow_today(&self) -> crate::call::understand::dates::Date {
        self.flow.script().open_at(self.clock.wall()).1
    }

    /// Everything the caller said in this turn is transcribed: hand it to the flow.
    pub(super) fn finish_turn(&mut self) {
        let text = std::mem::take(&mut self.partial_text);
        let confidence = std::mem::replace(&mut self.turn_confidence, 1.0);
        self.turn += 1;
        self.last_speculation = None;
        self.awaiting_speculation = None;
        self.times.transcribed = Some(self.clock.now());
        if crate::logging::patient_data() {
            tracing::debug!(call = %self.log_id, confidence, text = %text, "caller turn");
        } else {
            tracing::debug!(call = %self.log_id, words = text.split_whitespace().count(), confidence, "caller turn");
        }
        // Nothing, or "mm-hmm" over a prompt that asked nothing: not a turn. The prompt resumes.
        // Nor is anything said over the goodbye of a conversation that is over ("Sorry, what
        // was that?"): the flow takes no more turns, so the goodbye goes on and the call ends
        // after it, as it would have.
        let barged_statement = self.barged.as_ref().is_some_and(|b| !b.prompts.iter().any(|p| p.text.trim_end().ends_with('?')));
        let over_the_goodbye = self.barged.is_some() && self.flow.is_done();
        if text.trim().is_empty() || (barged_statement && yesno::is_backchannel(&text)) || over_the_goodbye {
            // No reply is owed.
            self.times.endpoint = None;
            if self.barged.is_some() {
                self.resume_after_noise();
            } else {
                let expect = self.last_expect;
                self.listen(expect);
            }
            return;
        }
        // A real turn: what it interrupted will not be resumed, so its synthesis stops.
        if self.barged.take().is_some() {
            self.cancel_synthesis();
        }
        // A turn while the classifier thinks continues the request it was asked about (the
        // flow joins them); its answer about the first part is dropped unread.
        self.drop_classification();
        self.on_input(Input::Heard { text, confidence });
    }

    /// The last prompt before the caller's turn is a question with less than
    /// `ANSWER_OVERLAP_MS` left to play.
    pub(super) fn question_nearly_asked(&self) -> bool {
        // Called per frame while the caller talks over a prompt: no allocation here.
        let (1, Some(p)) = (self.prompts.len(), self.prompts.front()) else { return false };
        let listen_next = matches!(self.pending.front(), Some(Action::Listen(_)));
        let left = p.audio.len().saturating_sub(p.written) + self.mirror.len() * FRAME_SAMPLES;
        p.complete && listen_next && p.interruptible && p.text.trim_end().ends_with('?') && left <= ANSWER_OVERLAP_MS * 8
    }

    pub(super) fn barge_in_allowed(&self) -> bool {
        if !self.shared.conversation.barge_in {
            return false;
        }
        let Some(p) = self.prompts.front() else { return false };
        let protect = Duration::from_millis(self.shared.conversation.barge_in_protect_ms as u64);
        p.interruptible && p.started.is_some_and(|s| self.clock.since(s) >= protect)
    }

    /// The interruption was noise, a backchannel or our own echo: the prompt goes on.
    pub(super) fn resume_after_noise(&mut self) {
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
        self.last_speculation = None;
        self.awaiting_speculation = None;
        self.partial_text.clear();
        self.stt_outstanding = 0;
        self.turn_confidence = 1.0;
    }
}
