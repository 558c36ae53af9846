//! What every telephone line has in common, and nothing more: SIP today, an analog FXO port next.
//!
//! - [`CallLeg`]: one call in progress. The conversation engine and the built-in apps see only
//!   this: 20 ms frames of 8 kHz PCM in and out, and [`LineEvent`]s. The API is blocking on
//!   purpose: each call's logic runs on its own thread next to CPU-bound inference, while the
//!   line keeps the media clock on threads of its own.
//! - [`Answer`]: the answering hook, what a line does with a call it has answered.
//! - [`Line`]: a source of calls (a SIP user agent, an FXO port), started by the daemon.
//!
//! This module imports only `audio`: a line type depends on it, never the other way round, so
//! `call/` and the apps run on any line, and adding a line touches neither.

pub mod clock;
pub mod memory;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use crate::audio::telephone::{FRAME_SAMPLES, Frame, RATE};
pub use clock::Clock;

/// What the line knows about the call. `caller` and `dialled` are patient data: never log them
/// at info level or above; `log_id` is safe to log.
#[derive(Clone, Debug)]
pub struct CallInfo {
    pub caller: Option<String>,
    /// The caller's name, where the line gives one (an analog line's caller ID).
    pub caller_name: Option<String>,
    pub dialled: Option<String>,
    /// A short keyed hash of the line's call identifier, for correlating log lines.
    pub log_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineEvent {
    Answered,
    Dtmf(char),
    /// The far end put us on hold (true) or took us off hold (false).
    Hold(bool),
    /// The far end hung up, or the line failed.
    Hangup,
    /// Outcome of `transfer`: Ok once the target answered (NOTIFY 200), Err with the reason.
    TransferResult(Result<(), String>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the call has ended")]
pub struct LegClosed;

pub trait CallLeg: Send {
    fn info(&self) -> &CallInfo;
    /// The time the call runs on: the machine's clock on a real line, a simulated one (moved on
    /// by each frame delivered) on the in-memory leg of tests.
    fn clock(&self) -> Clock {
        Clock::real()
    }
    /// The next 20 ms of the caller's audio, waiting up to `timeout`; Ok(None) on timeout.
    fn read_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, LegClosed>;
    /// Queues 20 ms of audio for the caller. Blocks while about a second is already queued, so a
    /// writer is paced by the line's clock.
    fn write_frame(&mut self, frame: &Frame) -> Result<(), LegClosed>;
    /// Drops queued output at once (barge-in: the caller started talking).
    fn clear_output(&mut self);
    fn poll_event(&mut self) -> Option<LineEvent>;
    fn hang_up(&mut self);
    /// Blind transfer to `target` (a SIP URI or a number the PBX understands).
    fn transfer(&mut self, target: &str);
    /// Presses keys on the line (0-9, * and #), e.g. a PBX feature code; false when the line
    /// cannot send them.
    fn send_dtmf(&mut self, digits: &str) -> bool;
}

/// A leg's next event from its line's channel, for legs whose line sends events over one (SIP,
/// FXO): a hang-up, or the line gone, closes the leg (`closed`); a line gone is reported as one
/// hang-up.
pub fn next_event(events: &std::sync::mpsc::Receiver<LineEvent>, closed: &mut bool) -> Option<LineEvent> {
    use std::sync::mpsc::TryRecvError;
    match events.try_recv() {
        Ok(LineEvent::Hangup) => {
            *closed = true;
            Some(LineEvent::Hangup)
        }
        Ok(e) => Some(e),
        Err(TryRecvError::Empty) => None,
        Err(TryRecvError::Disconnected) if !*closed => {
            *closed = true;
            Some(LineEvent::Hangup)
        }
        Err(TryRecvError::Disconnected) => None,
    }
}

/// The answering hook: called once per answered call, on a thread of the call's own, and
/// returns when the call's logic is done with it. The daemon builds it from `[answer]` (which
/// app, per line and per dialled number); a line only calls it.
pub type Answer = Arc<dyn Fn(Box<dyn CallLeg>) + Send + Sync>;

/// The box's calls in progress on every line together, against `max_calls`: the cores that
/// transcribe and speak are shared by all lines, so a SIP call and an analog call count the
/// same. Clones share the count.
#[derive(Clone, Debug)]
pub struct CallSlots(Arc<(AtomicUsize, usize)>);

/// One call's place in [`CallSlots`], given back when dropped.
#[derive(Debug)]
pub struct CallSlot(CallSlots);

impl CallSlots {
    pub fn new(max: usize) -> CallSlots {
        CallSlots(Arc::new((AtomicUsize::new(0), max)))
    }

    /// A place for one more call, or None when `max` calls are in progress.
    pub fn take(&self) -> Option<CallSlot> {
        let (count, max) = &*self.0;
        count.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < *max).then_some(n + 1)).ok().map(|_| CallSlot(self.clone()))
    }

    pub fn in_use(&self) -> usize {
        self.0.0.load(Ordering::SeqCst)
    }

    pub fn max(&self) -> usize {
        self.0.1
    }
}

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.0.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A future a line runs on the daemon's async runtime.
pub type LineFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A source of calls: a SIP user agent, an analog port. The daemon starts each configured line
/// with the answering hook and a stop signal, and knows nothing else about it.
pub trait Line: Send {
    /// The line's kind as `[answer] lines` and logs name it: "sip", "fxo".
    fn kind(&self) -> &'static str;

    /// Opens the line (binds sockets, opens the device). Resolves to an error that names what
    /// is missing and the fix, or, once the line is ready to take calls, to the future that
    /// serves it: it takes calls, handing each to `answer`, until `stop` resolves, then ends
    /// the calls in progress.
    fn start(self: Box<Self>, answer: Answer, stop: LineFuture<()>) -> LineFuture<anyhow::Result<LineFuture<()>>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_slots_are_shared_and_given_back() {
        let slots = CallSlots::new(2);
        let other_line = slots.clone();
        let a = slots.take().unwrap();
        let _b = other_line.take().unwrap();
        assert!(slots.take().is_none() && other_line.take().is_none());
        drop(a);
        assert_eq!(slots.in_use(), 1);
        assert!(other_line.take().is_some());
    }
}
