//! A call leg in memory: the line for tests of what runs on a call (the conversation engine,
//! the built-in apps) without SIP, sockets or real time.
//!
//! [`pair`] gives the leg, for the code under test, and a [`MemoryLine`], the far end, for the
//! test. The test queues what the caller sends (audio frames, key presses, a hang-up) and reads
//! what the caller heard and what the agent asked of the line (clears, transfers, hang-up).
//!
//! Time is the leg's [`Clock`] (simulated, unless the test passes a real one): each frame read
//! moves it on by 20 ms, as a line delivers a frame every 20 ms. A read never waits: once the
//! queued caller audio is used up the caller is silent. The line plays what the agent wrote one
//! frame per frame read, so `clear_output` drops what the caller would not have heard yet.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::{CallInfo, CallLeg, Clock, FRAME_SAMPLES, Frame, LegClosed, LineEvent};

/// A leg and the far end of it.
pub fn pair(info: CallInfo, clock: Clock) -> (MemoryLine, MemoryLeg) {
    let state = Arc::new(Mutex::new(State::default()));
    (MemoryLine { state: state.clone(), clock: clock.clone() }, MemoryLeg { state, info, clock })
}

#[derive(Default)]
struct State {
    /// The caller's audio still to be sent.
    caller: VecDeque<Frame>,
    events: VecDeque<LineEvent>,
    /// Written by the agent, not yet played.
    output: VecDeque<Frame>,
    /// What the caller heard, one frame per frame read (silence when nothing was queued).
    heard: Vec<i16>,
    frames_read: u64,
    frames_written: u64,
    clears: u32,
    transfers: Vec<String>,
    dtmf_sent: String,
    /// The caller hung up: reads and writes fail once the hang-up event was taken.
    caller_gone: bool,
    hangup_polled: bool,
    /// The agent hung up.
    agent_hung_up: bool,
}

/// The leg the code under test gets.
pub struct MemoryLeg {
    state: Arc<Mutex<State>>,
    info: CallInfo,
    clock: Clock,
}

/// The caller's end, held by the test.
pub struct MemoryLine {
    state: Arc<Mutex<State>>,
    clock: Clock,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemoryLeg {
    fn closed(s: &State) -> bool {
        s.agent_hung_up || (s.caller_gone && s.hangup_polled)
    }
}

impl CallLeg for MemoryLeg {
    fn info(&self) -> &CallInfo {
        &self.info
    }

    fn clock(&self) -> Clock {
        self.clock.clone()
    }

    fn read_frame(&mut self, _timeout: Duration) -> Result<Option<Frame>, LegClosed> {
        let mut s = lock(&self.state);
        if Self::closed(&s) {
            return Err(LegClosed);
        }
        let frame = s.caller.pop_front().unwrap_or([0; FRAME_SAMPLES]);
        let played = s.output.pop_front().unwrap_or([0; FRAME_SAMPLES]);
        s.heard.extend_from_slice(&played);
        s.frames_read += 1;
        drop(s);
        self.clock.advance(Duration::from_millis(20));
        Ok(Some(frame))
    }

    fn write_frame(&mut self, frame: &Frame) -> Result<(), LegClosed> {
        let mut s = lock(&self.state);
        if Self::closed(&s) {
            return Err(LegClosed);
        }
        s.output.push_back(*frame);
        s.frames_written += 1;
        Ok(())
    }

    fn clear_output(&mut self) {
        let mut s = lock(&self.state);
        s.output.clear();
        s.clears += 1;
    }

    fn poll_event(&mut self) -> Option<LineEvent> {
        let mut s = lock(&self.state);
        let ev = s.events.pop_front();
        if ev == Some(LineEvent::Hangup) {
            s.hangup_polled = true;
        }
        ev
    }

    fn hang_up(&mut self) {
        lock(&self.state).agent_hung_up = true;
    }

    fn transfer(&mut self, target: &str) {
        lock(&self.state).transfers.push(target.to_string());
    }

    fn send_dtmf(&mut self, digits: &str) -> bool {
        lock(&self.state).dtmf_sent.push_str(digits);
        true
    }
}

impl MemoryLine {
    /// Queues the caller's audio (8 kHz), the last frame padded with silence.
    pub fn say(&self, samples: &[i16]) {
        let mut s = lock(&self.state);
        for chunk in samples.chunks(FRAME_SAMPLES) {
            let mut frame = [0; FRAME_SAMPLES];
            frame[..chunk.len()].copy_from_slice(chunk);
            s.caller.push_back(frame);
        }
    }

    /// Queues `ms` of the caller saying nothing (after what is already queued).
    pub fn silence(&self, ms: u32) {
        let mut s = lock(&self.state);
        for _ in 0..ms / 20 {
            s.caller.push_back([0; FRAME_SAMPLES]);
        }
    }

    /// A line event now: `Answered`, a key, a transfer's outcome, or `Hangup` (the caller hangs
    /// up; the leg is closed once the agent has seen it).
    pub fn event(&self, ev: LineEvent) {
        let mut s = lock(&self.state);
        if ev == LineEvent::Hangup {
            s.caller_gone = true;
        }
        s.events.push_back(ev);
    }

    pub fn press(&self, key: char) {
        self.event(LineEvent::Dtmf(key));
    }

    /// Caller frames queued and not yet read.
    pub fn caller_frames_left(&self) -> usize {
        lock(&self.state).caller.len()
    }

    /// What the caller heard so far (silence included), at 8 kHz.
    pub fn heard(&self) -> Vec<i16> {
        lock(&self.state).heard.clone()
    }

    /// Frames the agent wrote (including those later cleared).
    pub fn frames_written(&self) -> u64 {
        lock(&self.state).frames_written
    }

    pub fn frames_read(&self) -> u64 {
        lock(&self.state).frames_read
    }

    /// How many times the agent dropped its queued output.
    pub fn clears(&self) -> u32 {
        lock(&self.state).clears
    }

    pub fn transfers(&self) -> Vec<String> {
        lock(&self.state).transfers.clone()
    }

    pub fn dtmf_sent(&self) -> String {
        lock(&self.state).dtmf_sent.clone()
    }

    pub fn agent_hung_up(&self) -> bool {
        lock(&self.state).agent_hung_up
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> CallInfo {
        CallInfo { caller: None, caller_name: None, dialled: None, log_id: "test".into() }
    }

    #[test]
    fn frames_move_the_clock_and_play_what_was_written() {
        let wall: jiff::Timestamp = "2026-11-23T15:00:00Z".parse().unwrap();
        let (line, mut leg) = pair(info(), Clock::simulated(wall));
        let start = line.clock().now();
        line.say(&[1000; FRAME_SAMPLES + 10]);
        leg.write_frame(&[7; FRAME_SAMPLES]).unwrap();
        leg.write_frame(&[8; FRAME_SAMPLES]).unwrap();
        assert_eq!(leg.read_frame(Duration::ZERO).unwrap().unwrap()[0], 1000);
        let second = leg.read_frame(Duration::ZERO).unwrap().unwrap();
        assert_eq!((second[9], second[10]), (1000, 0));
        leg.write_frame(&[9; FRAME_SAMPLES]).unwrap();
        leg.clear_output();
        assert_eq!(leg.read_frame(Duration::ZERO).unwrap(), Some([0; FRAME_SAMPLES]), "silence once the caller's audio is used up");
        assert_eq!(line.clock().since(start), Duration::from_millis(60));
        let heard = line.heard();
        assert_eq!((heard[0], heard[FRAME_SAMPLES], heard[2 * FRAME_SAMPLES]), (7, 8, 0), "the cleared frame was never heard");
        assert_eq!((line.frames_written(), line.clears()), (3, 1));
    }

    #[test]
    fn the_leg_closes_once_the_hang_up_is_seen() {
        let (line, mut leg) = pair(info(), Clock::real());
        line.press('5');
        line.event(LineEvent::Hangup);
        assert!(leg.read_frame(Duration::ZERO).is_ok());
        assert_eq!(leg.poll_event(), Some(LineEvent::Dtmf('5')));
        assert_eq!(leg.poll_event(), Some(LineEvent::Hangup));
        assert_eq!(leg.read_frame(Duration::ZERO), Err(LegClosed));
        leg.transfer("sip:nurse@clinic");
        leg.hang_up();
        assert!(line.agent_hung_up());
        assert_eq!(line.transfers(), vec!["sip:nurse@clinic".to_string()]);
    }
}
