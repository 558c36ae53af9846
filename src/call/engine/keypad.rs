//! Keys the caller presses: collected until '#', the expected count or a pause
//! (`KEY_PAUSE`, in `timers.rs`), then handed to the flow as one input.

use super::Call;
use crate::call::flow::Input;

impl Call {
    pub(super) fn on_key(&mut self, d: char) {
        self.last_progress = self.clock.now();
        // A '#' with nothing before it ends an entry already taken at its expected count
        // ("03051980#" for an eight-digit date): callers press it out of habit. It is not an
        // entry of its own, and must not cut off the reply to the one it ends (the read-back of
        // that date), which would otherwise be taken for a wrong entry and asked for again.
        if d == '#' && self.keys.is_empty() {
            tracing::debug!(call = %self.log_id, "a '#' after the entry it ends: ignored");
            return;
        }
        // A key press during a prompt stops it, as a caller who knows the menu expects.
        if self.playing_interruptible() {
            self.stop_playback(false);
        }
        self.keys.push(d);
        self.last_key = Some(self.clock.now());
        let enough = self.keypad.is_some_and(|n| self.keys.trim_end_matches('#').len() >= n);
        if d == '#' || enough {
            self.submit_keys();
        }
    }

    pub(super) fn submit_keys(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let keys = std::mem::take(&mut self.keys);
        self.last_key = None;
        self.pending.clear();
        self.prompts_clear();
        self.on_input(Input::Keys(keys));
    }
}
