//! The analog line's call leg: what the call's logic holds while the line thread
//! ([`super::line`]) keeps the device's clock.
//!
//! The two meet in [`LegShared`]: the call's audio out (a short queue the line plays one frame
//! per frame it captures) and the call's requests (hang up, transfer, keys). The caller's audio
//! comes over a channel, cleaned of the line's echo; events over another.
//!
//! A device that keeps time (a sound card) paces the line: the line plays the queue's head
//! each frame, and frames the call does not take in time are dropped, never waited for. A
//! device that does not (alsa-lib's `file` plugin, which plays a recording as fast as it is
//! read) is paced by the call instead: each read of the leg tells the line what the call had
//! written by then (the frame to play), and the line hands over the next frame it captures.
//! The call's clock moves on 20 ms per frame, as the in-memory leg's does, so a recording
//! plays out the same, frame for frame, on any machine.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::line::{CallInfo, CallLeg, Clock, FRAME_SAMPLES, Frame, LegClosed, LineEvent};

/// Audio the call may queue ahead of the line: a second. Writers block beyond it.
const MAX_QUEUED: usize = 50;

/// What the call asks of the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    HangUp,
    Transfer(String),
    Keys(String),
}

/// The state the leg and the line thread share.
#[derive(Default)]
pub struct LegShared {
    state: Mutex<Queued>,
    space: Condvar,
}

#[derive(Default)]
struct Queued {
    frames: VecDeque<Frame>,
    requests: VecDeque<Request>,
    /// The line has ended the call: writes fail.
    ended: bool,
}

impl LegShared {
    fn lock(&self) -> MutexGuard<'_, Queued> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The line thread: the next frame to play, or silence when the call queued none.
    pub fn next_frame(&self) -> Option<Frame> {
        let frame = self.lock().frames.pop_front();
        if frame.is_some() {
            self.space.notify_one();
        }
        frame
    }

    /// The line thread: drops what the call queued (while a transfer dials, the call's audio
    /// must not reach the line).
    pub fn discard_output(&self) {
        self.lock().frames.clear();
        self.space.notify_all();
    }

    /// The line thread: the call's next request.
    pub fn next_request(&self) -> Option<Request> {
        self.lock().requests.pop_front()
    }

    /// The line thread: the call is over on the line's side.
    pub fn end(&self) {
        self.lock().ended = true;
        self.space.notify_all();
    }
}

pub struct FxoLeg {
    pub(super) info: CallInfo,
    pub(super) clock: Clock,
    pub(super) audio: Receiver<Frame>,
    pub(super) events: Receiver<LineEvent>,
    pub(super) shared: Arc<LegShared>,
    /// The line keeps time (a sound card); false: the call paces the line (see module docs).
    pub(super) paced: bool,
    /// When the call paces the line: where each read sends the frame the line is to play.
    pub(super) played: Option<std::sync::mpsc::SyncSender<Frame>>,
    pub(super) closed: bool,
}

impl FxoLeg {
    fn request(&mut self, r: Request) {
        self.shared.lock().requests.push_back(r);
    }
}

impl CallLeg for FxoLeg {
    fn info(&self) -> &CallInfo {
        &self.info
    }

    fn clock(&self) -> Clock {
        self.clock.clone()
    }

    fn read_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, LegClosed> {
        if self.closed {
            return Err(LegClosed);
        }
        let got = if self.paced {
            match self.audio.recv_timeout(timeout) {
                Ok(f) => Ok(f),
                Err(RecvTimeoutError::Timeout) => return Ok(None),
                Err(RecvTimeoutError::Disconnected) => Err(()),
            }
        } else {
            let out = self.shared.next_frame().unwrap_or(SILENCE);
            match &self.played {
                Some(played) if played.send(out).is_err() => Err(()),
                _ => self.audio.recv().map_err(|_| ()),
            }
        };
        match got {
            Ok(frame) => {
                if !self.paced {
                    self.clock.advance(Duration::from_millis(20));
                }
                Ok(Some(frame))
            }
            Err(()) => {
                self.closed = true;
                Err(LegClosed)
            }
        }
    }

    fn write_frame(&mut self, frame: &Frame) -> Result<(), LegClosed> {
        if self.closed {
            return Err(LegClosed);
        }
        let mut q = self.shared.lock();
        while q.frames.len() >= MAX_QUEUED && !q.ended {
            q = self.shared.space.wait_timeout(q, Duration::from_millis(100)).unwrap_or_else(|p| p.into_inner()).0;
        }
        if q.ended {
            drop(q);
            self.closed = true;
            return Err(LegClosed);
        }
        q.frames.push_back(*frame);
        Ok(())
    }

    fn clear_output(&mut self) {
        self.shared.discard_output();
    }

    fn poll_event(&mut self) -> Option<LineEvent> {
        crate::line::next_event(&self.events, &mut self.closed)
    }

    fn hang_up(&mut self) {
        if !self.closed {
            self.request(Request::HangUp);
            self.closed = true;
        }
    }

    /// Flash, dial the extension's digits, and hand over once someone answers (the line's
    /// `TransferResult` says how it went).
    fn transfer(&mut self, target: &str) {
        self.request(Request::Transfer(target.to_string()));
    }

    fn send_dtmf(&mut self, digits: &str) -> bool {
        if self.closed {
            return false;
        }
        self.request(Request::Keys(digits.to_string()));
        true
    }
}

impl Drop for FxoLeg {
    fn drop(&mut self) {
        self.hang_up();
    }
}

/// Silence, for frames nobody wrote.
pub const SILENCE: Frame = [0; FRAME_SAMPLES];

/// The digits an analog line can dial from a transfer target: "204", "tel:+1-555-0100",
/// "sip:204@pbx.clinic" (its user part). None when there are none.
pub fn dial_digits(target: &str) -> Option<String> {
    let t = target.trim();
    let user = match t.split_once(':') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") => {
            rest.split('@').next().unwrap_or("")
        }
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("tel") => rest,
        _ => t,
    };
    let digits: String = user.chars().filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#')).collect();
    (!digits.is_empty()).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_targets_become_digits() {
        assert_eq!(dial_digits("204").as_deref(), Some("204"));
        assert_eq!(dial_digits("sip:204@pbx.clinic").as_deref(), Some("204"));
        assert_eq!(dial_digits("tel:+1-555-0100").as_deref(), Some("15550100"));
        assert_eq!(dial_digits("*72 204").as_deref(), Some("*72204"));
        assert_eq!(dial_digits("sip:nurse@pbx.clinic"), None);
    }

    #[test]
    fn the_leg_queues_for_the_line_and_closes_when_it_ends() {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let (_ev_tx, ev_rx) = std::sync::mpsc::channel();
        let shared = Arc::new(LegShared::default());
        let info = CallInfo { caller: None, caller_name: None, dialled: None, log_id: "t".into() };
        let mut leg = FxoLeg {
            info,
            clock: Clock::real(),
            audio: rx,
            events: ev_rx,
            shared: shared.clone(),
            paced: true,
            played: None,
            closed: false,
        };
        leg.write_frame(&[5; FRAME_SAMPLES]).unwrap();
        leg.write_frame(&[6; FRAME_SAMPLES]).unwrap();
        assert_eq!(shared.next_frame().unwrap()[0], 5);
        leg.clear_output();
        assert_eq!(shared.next_frame(), None);
        assert!(leg.send_dtmf("12"));
        leg.transfer("sip:204@pbx");
        assert_eq!(shared.next_request(), Some(Request::Keys("12".into())));
        assert_eq!(shared.next_request(), Some(Request::Transfer("sip:204@pbx".into())));
        tx.send([1; FRAME_SAMPLES]).unwrap();
        assert_eq!(leg.read_frame(Duration::from_millis(1)).unwrap().unwrap()[0], 1);
        assert_eq!(leg.read_frame(Duration::from_millis(1)).unwrap(), None);
        shared.end();
        drop(tx);
        assert_eq!(leg.write_frame(&SILENCE), Err(LegClosed));
        assert_eq!(leg.read_frame(Duration::ZERO), Err(LegClosed));
    }
}
