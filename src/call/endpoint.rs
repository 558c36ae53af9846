//! Endpointer: the turn-taking state machine over per-frame voice decisions.
//!
//! Why: the agent must know when the caller started talking (to stop a
//! prompt: barge-in), when a short noise was not speech after all (to resume
//! the prompt), when a mid-turn pause allows an early partial transcription,
//! and when the turn is over (to answer). It also collects the caller's audio
//! for the recogniser, including a little audio from before the onset (VADs
//! fire late on soft consonants).
//!
//! The VAD decision is an input: this file does no signal analysis.
//!
//! # States
//!
//! * **Idle**: every frame feeds the preroll ring. A voiced frame starts a
//!   *candidate*.
//! * **Candidate**: frames are collected after the preroll. Voiced frames are
//!   counted (short unvoiced gaps inside are tolerated). When they reach
//!   `min_speech_ms`, [`EndpointEvent::Started`] is emitted and the state
//!   becomes InSpeech. When an unvoiced run reaches [`CANDIDATE_GAP_MS`]
//!   first, [`EndpointEvent::Discarded`] is emitted and the state is Idle.
//! * **InSpeech**: every frame is appended. [`EndpointEvent::Pause`] once per
//!   pause of exactly `partial_pause_ms` when the utterance is at least
//!   `partial_after_ms` long; [`EndpointEvent::Ended`] when the unvoiced run
//!   reaches the hangover, or the utterance reaches `max_utterance_ms`.
//! * **Finished**: after `Ended`, until [`Endpointer::reset`]. Pushes return
//!   `Nothing` and add nothing to the utterance (they still feed the preroll
//!   ring, so the next utterance after `reset` has its preroll).
//!
//! All durations are converted to whole 20 ms frames (rounded up). All audio
//! lives in buffers allocated by [`Endpointer::new`] and never grown.

use crate::line::{FRAME_SAMPLES, Frame};

/// Duration of one frame, ms: the unit every configured duration is
/// converted to.
const FRAME_MS: u32 = 20;
/// An unvoiced run this long (ms) inside a candidate kills it: a burst that
/// stops for 100 ms before reaching `min_speech_ms` was noise, while 1-4
/// unvoiced frames inside a word are VAD flicker and are tolerated.
pub const CANDIDATE_GAP_MS: u32 = 100;
/// Longest utterance accepted whatever the configuration says (10 min in
/// frames): bounds the allocation made by `new`.
const MAX_FRAMES_CAP: u32 = 30_000;
/// Trailing silence kept at the end of an ended utterance, ms: enough for
/// the recogniser to see the word end, without feeding it the whole hangover.
pub const KEEP_TRAILING_MS: u32 = 200;

/// Tuning of the endpointer, in milliseconds; `Default` gives the values
/// used for telephone speech.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointConfig {
    /// Voiced time a candidate needs to be speech (200): shorter voiced
    /// bursts are clicks, coughs, line noise.
    pub min_speech_ms: u32,
    /// Normal end-of-turn hangover (600): silence after which the caller is
    /// done.
    pub silence_ms: u32,
    /// Long hangover (1200) while the caller gives digits, a date, or spells:
    /// people pause between groups.
    pub long_silence_ms: u32,
    /// Hard cap on an utterance (20000): bounds memory and keeps a stuck VAD
    /// (music on hold, TV) from holding the turn forever.
    pub max_utterance_ms: u32,
    /// Audio kept from before the speech onset (200): VADs decide late, and
    /// the recogniser needs the first consonant.
    pub preroll_ms: u32,
    /// Utterance length after which pauses trigger partial transcriptions
    /// (3000): short answers are transcribed whole anyway.
    pub partial_after_ms: u32,
    /// Pause length that triggers [`EndpointEvent::Pause`] (300).
    pub partial_pause_ms: u32,
}

impl Default for EndpointConfig {
    /// The telephone defaults documented on each field.
    fn default() -> Self {
        EndpointConfig {
            min_speech_ms: 200,
            silence_ms: 600,
            long_silence_ms: 1200,
            max_utterance_ms: 20_000,
            preroll_ms: 200,
            partial_after_ms: 3000,
            partial_pause_ms: 300,
        }
    }
}

/// Which end-of-turn silence applies; the engine chooses it from the
/// dialogue context (numbers, dates and spelling need longer pauses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Hangover {
    /// `silence_ms`.
    #[default]
    Normal,
    /// `long_silence_ms`.
    Long,
}

/// Why an utterance ended, so the engine can tell a finished turn from a cut
/// one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The trailing silence reached the hangover.
    Silence,
    /// The utterance reached `max_utterance_ms`.
    MaxLength,
}

/// What one pushed frame changed, for the engine to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointEvent {
    /// No change.
    Nothing,
    /// The caller is speaking. `onset_ms_ago` is the time from the start of
    /// the first voiced frame of the utterance to the end of the frame just
    /// pushed, so the engine can measure barge-in latency from the onset.
    Started {
        /// Milliseconds since the speech onset.
        onset_ms_ago: u32,
    },
    /// A pause of `partial_pause_ms` in a long utterance: a good moment to
    /// transcribe [`Endpointer::take_new_audio`] early.
    Pause,
    /// The turn is over; the utterance is complete.
    Ended {
        /// Why it ended.
        reason: EndReason,
    },
    /// A voiced burst died before `min_speech_ms`: it was noise, and a
    /// prompt paused for it may resume.
    Discarded,
}

/// Internal state, see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Candidate,
    InSpeech,
    Finished,
}

/// The turn-taking state machine; see the module documentation. Owns the
/// audio of the current utterance.
pub struct Endpointer {
    min_speech: u32,
    silence: u32,
    long_silence: u32,
    max_frames: u32,
    preroll_frames: usize,
    partial_after: u32,
    partial_pause: u32,
    gap: u32,
    keep_trailing: u32,
    hangover: Hangover,
    state: State,
    /// Preroll + utterance samples; capacity fixed at `cap` samples.
    buf: Vec<i16>,
    /// Samples `buf` may hold; appends beyond it are refused.
    cap: usize,
    /// End of the utterance exposed by `utterance()` (trimmed at Ended).
    end: usize,
    /// Samples already returned by `take_new_audio`.
    mark: usize,
    /// Frames since the first voiced frame (candidate or utterance).
    frames: u32,
    /// Voiced frames since the first voiced frame.
    voiced: u32,
    /// Current unvoiced run.
    trailing: u32,
    /// Preroll ring of whole frames; `ring_head` is the next slot to write.
    ring: Vec<i16>,
    ring_head: usize,
    ring_filled: usize,
    /// Frames pushed since the utterance ended (while Finished): the only ring frames that
    /// [`Endpointer::reset_transcribed`] keeps.
    since_end: usize,
}

/// Whole frames covering `ms` (rounded up).
fn frames_of(ms: u32) -> u32 {
    ms.div_ceil(FRAME_MS)
}

impl Endpointer {
    /// Builds an endpointer, allocating room for `preroll_ms +
    /// max_utterance_ms` of audio once. Degenerate values are clamped so no
    /// configuration can panic or allocate without bound: `max_utterance_ms`
    /// to 1 frame..10 min, `min_speech_ms` to 1 frame..`max_utterance_ms`,
    /// `preroll_ms` to at most `max_utterance_ms`, the hangovers and
    /// `partial_pause_ms` to at least one frame.
    pub fn new(cfg: EndpointConfig) -> Endpointer {
        // Cap at 10 minutes (9.6 MB) so the allocation stays sane whatever
        // is passed.
        let max_frames = frames_of(cfg.max_utterance_ms).clamp(1, MAX_FRAMES_CAP);
        let preroll_frames = frames_of(cfg.preroll_ms).min(max_frames) as usize;
        let cap = (preroll_frames + max_frames as usize) * FRAME_SAMPLES;
        Endpointer {
            min_speech: frames_of(cfg.min_speech_ms).clamp(1, max_frames),
            silence: frames_of(cfg.silence_ms).max(1),
            long_silence: frames_of(cfg.long_silence_ms).max(1),
            max_frames,
            preroll_frames,
            partial_after: frames_of(cfg.partial_after_ms),
            partial_pause: frames_of(cfg.partial_pause_ms).max(1),
            gap: frames_of(CANDIDATE_GAP_MS),
            keep_trailing: frames_of(KEEP_TRAILING_MS),
            hangover: Hangover::Normal,
            state: State::Idle,
            buf: Vec::with_capacity(cap),
            cap,
            end: 0,
            mark: 0,
            frames: 0,
            voiced: 0,
            trailing: 0,
            ring: vec![0; preroll_frames * FRAME_SAMPLES],
            ring_head: 0,
            ring_filled: 0,
            since_end: 0,
        }
    }

    /// Chooses the end-of-turn silence. May be called at any time and applies
    /// to the current silence run too (switching to `Long` mid-pause extends
    /// it; switching back to `Normal` after more than `silence_ms` ends the
    /// turn on the next push). The setting is sticky: `reset` keeps it.
    pub fn set_hangover(&mut self, h: Hangover) {
        self.hangover = h;
    }

    /// Feeds one 20 ms frame and its VAD decision; returns what changed.
    pub fn push(&mut self, frame: &Frame, voiced: bool) -> EndpointEvent {
        let event = match self.state {
            State::Idle => {
                if voiced {
                    self.begin_candidate();
                    self.append(frame);
                    self.frames = 1;
                    self.voiced = 1;
                    self.trailing = 0;
                    self.check_started()
                } else {
                    EndpointEvent::Nothing
                }
            }
            State::Candidate => {
                self.append(frame);
                self.count(voiced);
                if self.voiced < self.min_speech && (self.trailing >= self.gap || self.frames >= self.max_frames) {
                    self.clear_utterance();
                    self.state = State::Idle;
                    EndpointEvent::Discarded
                } else {
                    self.check_started()
                }
            }
            State::InSpeech => {
                self.append(frame);
                self.count(voiced);
                self.end = self.buf.len();
                self.in_speech_event()
            }
            State::Finished => {
                self.since_end = self.since_end.saturating_add(1);
                EndpointEvent::Nothing
            }
        };
        self.ring_push(frame);
        event
    }

    /// Returns the utterance samples not returned before (from the previous
    /// call to now) and advances the mark: for partial transcriptions on
    /// `Pause`, then the rest on `Ended`. The pieces concatenate to exactly
    /// [`Endpointer::utterance`]. Empty outside an utterance.
    pub fn take_new_audio(&mut self) -> &[i16] {
        let (from, to) = (self.mark, self.visible_end());
        self.mark = to.max(from);
        self.buf.get(from..to).unwrap_or(&[])
    }

    /// The whole utterance: preroll, then everything from the onset. Once
    /// ended, trailing silence beyond [`KEEP_TRAILING_MS`] is trimmed (but
    /// never audio already handed out by `take_new_audio`). Empty while idle
    /// or during a candidate.
    pub fn utterance(&self) -> &[i16] {
        self.buf.get(..self.visible_end()).unwrap_or(&[])
    }

    /// Voiced time since the onset, ms (of the candidate before `Started`):
    /// lets the engine ignore utterances that are mostly noise.
    pub fn voiced_ms(&self) -> u32 {
        self.voiced.saturating_mul(FRAME_MS)
    }

    /// Current unvoiced run, ms (at `Ended`, the run that ended the turn,
    /// before trimming): lets the engine react to long pauses itself.
    pub fn trailing_silence_ms(&self) -> u32 {
        match self.state {
            State::Idle => 0,
            _ => self.trailing.saturating_mul(FRAME_MS),
        }
    }

    /// True between `Started` and `Ended`: the caller holds the turn.
    pub fn is_in_speech(&self) -> bool {
        self.state == State::InSpeech
    }

    /// Keeps the preroll ring fed with a frame that must not start or extend a turn (while a
    /// prompt is in its protection window), so that if the caller was already talking and goes
    /// on, the turn that starts when listening resumes still has those first words.
    pub fn overhear(&mut self, frame: &Frame) {
        self.ring_push(frame);
    }

    /// Drops the utterance and returns to Idle, ready for the next turn. The
    /// preroll ring keeps running (its content stays valid) and the hangover
    /// setting is kept.
    pub fn reset(&mut self) {
        self.clear_utterance();
        self.state = State::Idle;
        self.since_end = 0;
    }

    /// Like [`Endpointer::reset`], for an utterance that went to the recogniser: the preroll
    /// of the next one keeps only frames from after this one ended. Without this, a caller who
    /// goes on within a second (the preroll) has the words just transcribed transcribed again
    /// at the head of the next piece, and staff read "Yes. Yes.".
    pub fn reset_transcribed(&mut self) {
        let fresh = if self.state == State::Finished { self.since_end } else { 0 };
        self.ring_filled = self.ring_filled.min(fresh);
        self.reset();
    }

    /// Emits `Started` once the candidate has enough voiced frames.
    fn check_started(&mut self) -> EndpointEvent {
        if self.voiced >= self.min_speech {
            self.state = State::InSpeech;
            self.end = self.buf.len();
            EndpointEvent::Started { onset_ms_ago: self.frames.saturating_mul(FRAME_MS) }
        } else {
            self.state = State::Candidate;
            EndpointEvent::Nothing
        }
    }

    /// The InSpeech decisions after a frame was appended.
    fn in_speech_event(&mut self) -> EndpointEvent {
        let hangover = match self.hangover {
            Hangover::Normal => self.silence,
            Hangover::Long => self.long_silence,
        };
        let reason = if self.frames >= self.max_frames {
            Some(EndReason::MaxLength)
        } else if self.trailing >= hangover {
            Some(EndReason::Silence)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.finish();
            return EndpointEvent::Ended { reason };
        }
        if self.trailing == self.partial_pause && self.frames >= self.partial_after {
            return EndpointEvent::Pause;
        }
        EndpointEvent::Nothing
    }

    /// Enters Finished, trimming the trailing silence to `KEEP_TRAILING_MS`
    /// without taking back audio already handed out.
    fn finish(&mut self) {
        let excess = self.trailing.saturating_sub(self.keep_trailing) as usize;
        let trimmed = self.buf.len().saturating_sub(excess * FRAME_SAMPLES);
        self.end = trimmed.max(self.mark).min(self.buf.len());
        self.state = State::Finished;
    }

    /// Updates the voiced count and the unvoiced run for one frame.
    fn count(&mut self, voiced: bool) {
        self.frames = self.frames.saturating_add(1);
        if voiced {
            self.voiced = self.voiced.saturating_add(1);
            self.trailing = 0;
        } else {
            self.trailing = self.trailing.saturating_add(1);
        }
    }

    /// The end of the part of `buf` that belongs to a started utterance.
    fn visible_end(&self) -> usize {
        match self.state {
            State::InSpeech | State::Finished => self.end.min(self.buf.len()),
            State::Idle | State::Candidate => 0,
        }
    }

    /// Starts a candidate: the utterance buffer begins with the preroll
    /// ring, oldest frame first.
    fn begin_candidate(&mut self) {
        self.clear_utterance();
        let slots = self.preroll_frames;
        if slots == 0 {
            return;
        }
        let oldest = (self.ring_head + slots - self.ring_filled) % slots;
        for i in 0..self.ring_filled {
            let slot = (oldest + i) % slots;
            let start = slot * FRAME_SAMPLES;
            if let Some(f) = self.ring.get(start..start + FRAME_SAMPLES)
                && self.buf.len() + FRAME_SAMPLES <= self.cap
            {
                self.buf.extend_from_slice(f);
            }
        }
    }

    /// Appends a frame unless that would exceed the preallocated capacity
    /// (cannot happen with the frame counts kept, but must never grow).
    fn append(&mut self, frame: &Frame) {
        if self.buf.len() + FRAME_SAMPLES <= self.cap {
            self.buf.extend_from_slice(frame);
        }
    }

    /// Empties the utterance (keeps the allocation).
    fn clear_utterance(&mut self) {
        self.buf.clear();
        self.end = 0;
        self.mark = 0;
        self.frames = 0;
        self.voiced = 0;
        self.trailing = 0;
    }

    /// Writes a frame into the preroll ring (every push, every state, so the
    /// ring always holds the frames just before the next onset).
    fn ring_push(&mut self, frame: &Frame) {
        let slots = self.preroll_frames;
        if slots == 0 {
            return;
        }
        let start = self.ring_head * FRAME_SAMPLES;
        if let Some(dst) = self.ring.get_mut(start..start + FRAME_SAMPLES) {
            dst.copy_from_slice(frame);
        }
        self.ring_head = (self.ring_head + 1) % slots;
        self.ring_filled = (self.ring_filled + 1).min(slots);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A frame whose samples all carry `id`, so audio can be traced.
    fn fr(id: usize) -> Frame {
        [(id % 30_000) as i16; FRAME_SAMPLES]
    }

    /// Frame ids of an audio slice (one per 160 samples).
    fn ids(audio: &[i16]) -> Vec<usize> {
        audio.chunks(FRAME_SAMPLES).map(|c| c[0] as usize).collect()
    }

    /// Feeds `n` frames with the same decision, numbering frames from `*next`;
    /// returns the (index within this run, event) pairs that are not Nothing.
    fn feed(ep: &mut Endpointer, next: &mut usize, n: usize, voiced: bool) -> Vec<(usize, EndpointEvent)> {
        let mut out = Vec::new();
        for i in 0..n {
            let e = ep.push(&fr(*next), voiced);
            *next += 1;
            if e != EndpointEvent::Nothing {
                out.push((i, e));
            }
        }
        out
    }

    fn ep() -> Endpointer {
        Endpointer::new(EndpointConfig::default())
    }

    #[test]
    fn onset_timing_and_preroll() {
        let mut e = ep();
        let mut n = 0;
        assert!(feed(&mut e, &mut n, 20, false).is_empty());
        // Onset at frame 20; two tolerated one-frame gaps inside the candidate.
        let pattern = [true, true, true, false, true, true, true, false, true, true, true, true];
        let mut events = Vec::new();
        for (i, &v) in pattern.iter().enumerate() {
            let ev = e.push(&fr(n), v);
            n += 1;
            if ev != EndpointEvent::Nothing {
                events.push((i, ev));
            }
        }
        // 10th voiced frame is index 11: 12 frames (240 ms) since the onset.
        assert_eq!(events, vec![(11, EndpointEvent::Started { onset_ms_ago: 240 })]);
        assert!(e.is_in_speech());
        assert_eq!(e.voiced_ms(), 200);
        // Utterance = 10 preroll frames (10..20) + the 12 candidate frames.
        assert_eq!(ids(e.utterance()), (10..32).collect::<Vec<_>>());
    }

    #[test]
    fn preroll_is_short_at_stream_start() {
        let mut e = ep();
        let mut n = 0;
        feed(&mut e, &mut n, 3, false);
        let ev = feed(&mut e, &mut n, 10, true);
        assert_eq!(ev, vec![(9, EndpointEvent::Started { onset_ms_ago: 200 })]);
        assert_eq!(ids(e.utterance()), (0..13).collect::<Vec<_>>());
    }

    #[test]
    fn click_is_discarded() {
        let mut e = ep();
        let mut n = 0;
        feed(&mut e, &mut n, 15, false);
        assert!(feed(&mut e, &mut n, 5, true).is_empty()); // 100 ms click
        assert!(!e.is_in_speech());
        assert!(e.utterance().is_empty(), "no utterance before Started");
        let ev = feed(&mut e, &mut n, 10, false);
        assert_eq!(ev, vec![(4, EndpointEvent::Discarded)]); // 100 ms unvoiced run
        assert!(e.utterance().is_empty());
        assert_eq!(e.voiced_ms(), 0);
        // A new burst afterwards starts cleanly, with a fresh preroll that
        // includes the click.
        let ev = feed(&mut e, &mut n, 10, true);
        assert_eq!(ev, vec![(9, EndpointEvent::Started { onset_ms_ago: 200 })]);
        assert_eq!(ids(e.utterance())[0], n - 20);
    }

    #[test]
    fn pause_shorter_than_hangover_does_not_end() {
        let mut e = ep();
        let mut n = 0;
        feed(&mut e, &mut n, 10, false);
        assert_eq!(feed(&mut e, &mut n, 50, true).len(), 1); // Started
        assert!(feed(&mut e, &mut n, 20, false).is_empty()); // 400 ms pause
        assert!(feed(&mut e, &mut n, 30, true).is_empty()); // 2 s in total
        let ev = feed(&mut e, &mut n, 40, false);
        // Ends on the 30th unvoiced frame (600 ms).
        assert_eq!(ev, vec![(29, EndpointEvent::Ended { reason: EndReason::Silence })]);
        assert!(!e.is_in_speech());
        assert_eq!(e.trailing_silence_ms(), 600);
    }

    #[test]
    fn pause_longer_than_hangover_ends() {
        let mut e = ep();
        let mut n = 0;
        feed(&mut e, &mut n, 10, false);
        feed(&mut e, &mut n, 50, true);
        let ev = feed(&mut e, &mut n, 35, false); // 700 ms pause
        assert_eq!(ev, vec![(29, EndpointEvent::Ended { reason: EndReason::Silence })]);
        // Finished: speech afterwards is ignored until reset.
        let len = e.utterance().len();
        assert!(feed(&mut e, &mut n, 30, true).is_empty());
        assert_eq!(e.utterance().len(), len);
    }

    #[test]
    fn ended_trims_trailing_silence_to_200ms() {
        let mut e = ep();
        let mut n = 0;
        feed(&mut e, &mut n, 10, false);
        feed(&mut e, &mut n, 20, true); // frames 10..30
        feed(&mut e, &mut n, 30, false); // ends at frame 59
        // Preroll 0..10, speech 10..30, 10 frames (200 ms) of silence kept.
        assert_eq!(ids(e.utterance()), (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn long_hangover_set_mid_silence_extends() {
        let mut e = ep();
        let mut n = 0;
        feed(&mut e, &mut n, 10, false);
        feed(&mut e, &mut n, 20, true);
        assert!(feed(&mut e, &mut n, 25, false).is_empty()); // 500 ms
        e.set_hangover(Hangover::Long);
        let ev = feed(&mut e, &mut n, 40, false);
        // The run reaches 60 frames (1200 ms) at index 34 of this feed.
        assert_eq!(ev, vec![(34, EndpointEvent::Ended { reason: EndReason::Silence })]);
        // Sticky across reset; back to Normal ends an overlong run at once.
        e.reset();
        feed(&mut e, &mut n, 20, true);
        assert!(feed(&mut e, &mut n, 40, false).is_empty());
        e.set_hangover(Hangover::Normal);
        let ev = feed(&mut e, &mut n, 1, false);
        assert_eq!(ev, vec![(0, EndpointEvent::Ended { reason: EndReason::Silence })]);
    }

    #[test]
    fn pause_in_long_utterance_and_take_new_audio() {
        let mut e = ep();
        let mut n = 0;
        feed(&mut e, &mut n, 10, false);
        let mut got: Vec<i16> = Vec::new();
        // A 300 ms pause before partial_after_ms gives no Pause.
        assert_eq!(feed(&mut e, &mut n, 50, true).len(), 1);
        assert!(feed(&mut e, &mut n, 15, false).is_empty());
        // Reach 3.2 s, then a 500 ms pause: exactly one Pause, at 300 ms.
        feed(&mut e, &mut n, 95, true);
        let ev = feed(&mut e, &mut n, 25, false);
        assert_eq!(ev, vec![(14, EndpointEvent::Pause)]);
        // take_new_audio now gives everything so far (including the pause).
        let part = e.take_new_audio().to_vec();
        assert_eq!(ids(&part), (0..n).collect::<Vec<_>>());
        got.extend_from_slice(&part);
        assert!(e.take_new_audio().is_empty(), "mark advanced");
        // Rest of a 5 s utterance, then the end.
        feed(&mut e, &mut n, 65, true);
        let ev = feed(&mut e, &mut n, 30, false);
        // The final silence is a pause too before it becomes the end.
        assert_eq!(ev, vec![(14, EndpointEvent::Pause), (29, EndpointEvent::Ended { reason: EndReason::Silence })]);
        got.extend_from_slice(e.take_new_audio());
        assert_eq!(got.as_slice(), e.utterance());
        assert_eq!(e.voiced_ms(), (50 + 95 + 65) * 20);
    }

    #[test]
    fn max_length_ends() {
        let mut e = ep();
        let mut n = 0;
        feed(&mut e, &mut n, 10, false);
        let ev = feed(&mut e, &mut n, 1200, true);
        assert_eq!(
            ev,
            vec![(9, EndpointEvent::Started { onset_ms_ago: 200 }), (999, EndpointEvent::Ended { reason: EndReason::MaxLength }),]
        );
        assert_eq!(e.utterance().len(), (10 + 1000) * FRAME_SAMPLES);
    }

    #[test]
    fn no_allocation_growth() {
        let mut e = ep();
        let cap = e.buf.capacity();
        let ring = e.ring.capacity();
        let mut n = 0;
        for round in 0..30 {
            feed(&mut e, &mut n, 7, false);
            feed(&mut e, &mut n, 3, true); // discarded click
            feed(&mut e, &mut n, 6, false);
            feed(&mut e, &mut n, if round % 3 == 0 { 1100 } else { 40 + round * 7 }, true);
            feed(&mut e, &mut n, 35, false);
            let _ = e.take_new_audio();
            e.reset();
            assert_eq!(e.buf.capacity(), cap);
            assert_eq!(e.ring.capacity(), ring);
        }
    }

    #[test]
    fn reset_keeps_preroll_fed_during_finished() {
        let mut e = ep();
        let mut n = 0;
        feed(&mut e, &mut n, 20, true);
        feed(&mut e, &mut n, 30, false); // ended
        feed(&mut e, &mut n, 12, false); // frames 50..62 while Finished
        e.reset();
        assert!(e.utterance().is_empty());
        assert!(e.take_new_audio().is_empty());
        feed(&mut e, &mut n, 10, true);
        assert_eq!(ids(e.utterance()), (52..72).collect::<Vec<_>>());
    }

    #[test]
    fn a_transcribed_utterance_is_not_the_preroll_of_the_next() {
        let cfg = EndpointConfig { preroll_ms: 1000, ..EndpointConfig::default() };
        let mut e = Endpointer::new(cfg);
        let mut n = 0;
        feed(&mut e, &mut n, 20, true); // frames 0..20: "Yes."
        feed(&mut e, &mut n, 30, false); // ended at 600 ms of silence
        feed(&mut e, &mut n, 3, false); // frames 50..53 while Finished
        let _ = e.take_new_audio();
        e.reset_transcribed();
        feed(&mut e, &mut n, 12, true);
        // Only what came after the end leads the next piece; the "Yes." is not in it again.
        assert_eq!(ids(e.utterance()), (50..65).collect::<Vec<_>>());
        // Cut early while still in speech: nothing of it leads the next piece.
        feed(&mut e, &mut n, 5, false);
        e.reset_transcribed();
        feed(&mut e, &mut n, 12, true);
        assert_eq!(ids(e.utterance()), (70..82).collect::<Vec<_>>());
        // A plain reset (noise over a prompt) keeps the whole preroll.
        feed(&mut e, &mut n, 60, false);
        e.reset();
        feed(&mut e, &mut n, 12, true);
        assert_eq!(ids(e.utterance()).len(), 12 + 50, "a full second of preroll");
    }

    #[test]
    fn overheard_frames_start_no_turn_but_lead_the_next_one() {
        let mut e = ep();
        for id in 0..8 {
            e.overhear(&fr(id));
        }
        assert!(!e.is_in_speech() && e.utterance().is_empty(), "overhearing never starts a turn");
        let mut n = 8;
        feed(&mut e, &mut n, 12, true);
        // All 8 overheard frames fit in the default preroll of 10: the turn begins with them.
        let heard = ids(e.utterance());
        assert_eq!(heard.first(), Some(&0), "{heard:?}");
        assert_eq!(heard, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn degenerate_configs_do_not_panic() {
        let zero = EndpointConfig {
            min_speech_ms: 0,
            silence_ms: 0,
            long_silence_ms: 0,
            max_utterance_ms: 0,
            preroll_ms: 0,
            partial_after_ms: 0,
            partial_pause_ms: 0,
        };
        let huge = EndpointConfig {
            min_speech_ms: u32::MAX,
            silence_ms: u32::MAX,
            long_silence_ms: u32::MAX,
            max_utterance_ms: u32::MAX,
            preroll_ms: u32::MAX,
            partial_after_ms: u32::MAX,
            partial_pause_ms: u32::MAX,
        };
        for cfg in [zero, huge] {
            let mut e = Endpointer::new(cfg);
            let cap = e.buf.capacity();
            let mut n = 0;
            for i in 0..200 {
                feed(&mut e, &mut n, 1, i % 3 != 0);
                let _ = e.take_new_audio();
                if i % 50 == 49 {
                    e.reset();
                }
            }
            assert_eq!(e.buf.capacity(), cap);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Random voiced patterns, configs, resets and hangover switches:
        /// never panics, never grows, events follow the grammar
        /// (Started Pause* Ended | Discarded), and the taken pieces always
        /// concatenate to the utterance.
        #[test]
        fn event_grammar_holds(
            min_speech in 0u32..200,
            silence in 0u32..300,
            long_silence in 0u32..600,
            max_utt in 0u32..2000,
            preroll in 0u32..200,
            partial_after in 0u32..1000,
            partial_pause in 0u32..200,
            steps in proptest::collection::vec((any::<bool>(), 0u8..100), 1..600),
        ) {
            let cfg = EndpointConfig {
                min_speech_ms: min_speech,
                silence_ms: silence,
                long_silence_ms: long_silence,
                max_utterance_ms: max_utt,
                preroll_ms: preroll,
                partial_after_ms: partial_after,
                partial_pause_ms: partial_pause,
            };
            let mut e = Endpointer::new(cfg);
            let cap = e.buf.capacity();
            // 0 idle/candidate, 1 in speech, 2 finished.
            let mut phase = 0;
            let mut pending = false; // voiced frame seen since last event in idle
            let mut taken: Vec<i16> = Vec::new();
            for (i, &(voiced, op)) in steps.iter().enumerate() {
                match op {
                    0..=1 => {
                        e.reset();
                        phase = 0;
                        pending = false;
                        taken.clear();
                    }
                    2..=3 => e.set_hangover(if op == 2 { Hangover::Long } else { Hangover::Normal }),
                    4..=8 => taken.extend_from_slice(e.take_new_audio()),
                    _ => {}
                }
                let ev = e.push(&fr(i), voiced);
                match (phase, ev) {
                    (0, EndpointEvent::Nothing) => pending |= voiced,
                    (0, EndpointEvent::Started { onset_ms_ago }) => {
                        prop_assert!(voiced);
                        prop_assert!(onset_ms_ago >= 20);
                        prop_assert!(e.is_in_speech());
                        phase = 1;
                    }
                    (0, EndpointEvent::Discarded) => {
                        prop_assert!(pending);
                        pending = false;
                    }
                    (1, EndpointEvent::Nothing | EndpointEvent::Pause) => {
                        prop_assert!(e.is_in_speech());
                    }
                    (1, EndpointEvent::Ended { .. }) => {
                        prop_assert!(!e.is_in_speech());
                        taken.extend_from_slice(e.take_new_audio());
                        prop_assert_eq!(taken.as_slice(), e.utterance());
                        phase = 2;
                    }
                    (2, EndpointEvent::Nothing) => {}
                    (p, ev) => prop_assert!(false, "event {:?} in phase {}", ev, p),
                }
                prop_assert_eq!(e.buf.capacity(), cap);
                prop_assert!(e.utterance().len() <= e.cap);
            }
        }
    }
}
