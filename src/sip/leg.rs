//! The SIP implementation of a call leg: channels to the call's media thread and to the UA.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::line::{CallInfo, CallLeg, Frame, LegClosed, LineEvent};
use crate::rtp::session::MediaControl;

/// What a call's logic asks of the UA.
#[derive(Debug, Clone, PartialEq)]
pub enum LegCommand {
    Hangup,
    Transfer(String),
}

pub struct SipLeg {
    pub(crate) info: CallInfo,
    pub(crate) call_key: String,
    pub(crate) from_media: Receiver<Frame>,
    pub(crate) to_media: SyncSender<(u64, Frame)>,
    pub(crate) events: Receiver<LineEvent>,
    pub(crate) commands: UnboundedSender<(String, LegCommand)>,
    pub(crate) media: Arc<MediaControl>,
    pub(crate) closed: bool,
}

impl SipLeg {
    fn check_open(&mut self) -> Result<(), LegClosed> {
        if self.closed { Err(LegClosed) } else { Ok(()) }
    }
}

impl CallLeg for SipLeg {
    fn info(&self) -> &CallInfo {
        &self.info
    }

    fn read_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, LegClosed> {
        self.check_open()?;
        match self.from_media.recv_timeout(timeout) {
            Ok(f) => Ok(Some(f)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => {
                self.closed = true;
                Err(LegClosed)
            }
        }
    }

    fn write_frame(&mut self, frame: &Frame) -> Result<(), LegClosed> {
        self.check_open()?;
        let generation = self.media.output_generation.load(Ordering::Relaxed);
        self.to_media.send((generation, *frame)).map_err(|_| {
            self.closed = true;
            LegClosed
        })
    }

    fn clear_output(&mut self) {
        self.media.output_generation.fetch_add(1, Ordering::SeqCst);
    }

    fn poll_event(&mut self) -> Option<LineEvent> {
        crate::line::next_event(&self.events, &mut self.closed)
    }

    fn hang_up(&mut self) {
        if !self.closed {
            let _ = self.commands.send((self.call_key.clone(), LegCommand::Hangup));
            self.closed = true;
        }
    }

    fn send_dtmf(&mut self, digits: &str) -> bool {
        if self.closed || !self.media.can_send_dtmf() {
            tracing::debug!(call = %self.info.log_id, "the peer takes no telephone-events: key presses not sent");
            return false;
        }
        self.media.queue_dtmf(digits);
        true
    }

    fn transfer(&mut self, target: &str) {
        let _ = self.commands.send((self.call_key.clone(), LegCommand::Transfer(target.to_string())));
    }
}

impl Drop for SipLeg {
    fn drop(&mut self) {
        self.hang_up();
    }
}
