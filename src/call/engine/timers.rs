//! What happens when time passes: a keypad entry ends after a pause, a silent caller is asked
//! again, a call reaches its length limit, and a call stuck with nothing played, heard or
//! computed is recovered (the watchdog) rather than left in silence, and the service stopping
//! ends the call with a word to the caller.

use std::time::Duration;

use super::{Call, Phase};
use crate::call::flow::Input;

/// A key press ends the keypad entry after this pause.
pub(super) const KEY_PAUSE: Duration = Duration::from_millis(3000);
/// Nothing played, heard or computed for this long on a live call is a fault.
pub(super) const WATCHDOG: Duration = Duration::from_secs(15);

impl Call {
    /// Drops what was being said and about to be done, and hands the flow the reason the call
    /// is ending (it says why and hangs up).
    fn wrap_up(&mut self, why: Input) {
        self.prompts_clear();
        self.pending.clear();
        self.on_input(why);
    }

    pub(super) fn timers(&mut self) {
        let now = self.clock.now();
        // An uninterruptible prompt (an emergency's advice, the recording notice) is let finish.
        if !self.closing_sent && self.shared.is_closing() && self.prompts.iter().all(|p| p.interruptible) {
            self.closing_sent = true;
            tracing::info!(call = %self.log_id, "the service is stopping: the caller is told and the call ends");
            self.wrap_up(Input::ShuttingDown);
            return;
        }
        let c = &self.shared.conversation;
        if !self.max_duration_sent && self.clock.since(self.started) >= Duration::from_secs(c.max_call_s as u64) {
            self.max_duration_sent = true;
            tracing::info!(call = %self.log_id, "conversation.max_call_s reached");
            self.wrap_up(Input::MaxDuration);
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
}
