//! One call in progress, whatever the line: SIP today, an analog FXO port later.
//!
//! The conversation engine and the built-in apps see only this: 20 ms frames of 8 kHz PCM in and
//! out, and events. The API is blocking on purpose: each call's logic runs on its own thread next
//! to CPU-bound inference, while the line keeps the media clock on threads of its own.

pub mod apps;
pub mod clock;
pub mod memory;
pub mod sip_leg;

use std::time::Duration;

pub use clock::Clock;

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
pub type Frame = [i16; FRAME_SAMPLES];

/// What the line knows about the call. `caller` and `dialled` are patient data: never log them
/// at info level or above; `log_id` is safe to log.
#[derive(Clone, Debug)]
pub struct CallInfo {
    pub caller: Option<String>,
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

/// Identifiers in logs: a keyed hash, so lines of one call can be followed without the log
/// revealing the caller's number or the PBX's call id.
pub fn log_id(secret: &[u8], value: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(secret);
    h.update(value.as_bytes());
    hex::encode(&h.finalize()[..4])
}
