//! Asking the classifier (the optional language model, as the daemon provides it) which
//! request a caller's words are, without holding up the call.
//!
//! The flow asks ([`Action::Classify`]) only for words no rule understood, after the red-flag
//! check. The question runs on a thread of its own (inference never runs on the media clock);
//! the call meanwhile says the hold prompt (interruptible) and goes on listening: a caller who
//! was only pausing goes on, and that turn joins the one being classified, whose answer is
//! then dropped. The answer comes back through a channel polled each frame. The classifier holds its own deadline, so an answer, or
//! None, always comes; a call that ends first simply drops it.
//!
//! [`Action::Classify`]: crate::call::flow::Action::Classify

use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::Duration;

use super::Call;
use crate::call::flow::Input;

/// What classifies a request the rules did not understand. `labels` are (flow name,
/// description); the answer is one of the names, or None. Blocks for at most its own budget;
/// `captured` are values the call captured that must not be sent in any form.
pub trait Classifier: Send + Sync {
    fn classify(&self, text: &str, labels: &[(String, String)], captured: &[String]) -> Option<String>;
}

impl Call {
    pub(super) fn start_classification(&mut self, text: String, labels: Vec<(String, String)>, captured: Vec<String>) {
        let Some(classifier) = self.classifier.clone() else {
            // The flow only asks when there is one; answer as "none" all the same.
            return self.on_input(Input::Classified(None));
        };
        let (tx, rx) = channel();
        let spawned = std::thread::Builder::new().name(format!("assist-{}", self.log_id)).spawn(move || {
            let _ = tx.send(classifier.classify(&text, &labels, &captured));
        });
        if spawned.is_err() {
            return self.on_input(Input::Classified(None));
        }
        tracing::debug!(call = %self.log_id, "request not understood by the rules: asking the classifier");
        // The hold prompt, if any, was the flow's; no second one.
        self.times.held = true;
        self.classifying = Some(Pending { rx, answer: None });
    }

    /// Hands the classifier's answer to the flow once it is there and the caller has stopped.
    pub(super) fn poll_classification(&mut self) {
        let Some(q) = &mut self.classifying else { return };
        if q.answer.is_none() {
            q.answer = match q.rx.try_recv() {
                Ok(label) => Some(label),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => Some(None),
            };
        }
        // Not while the caller talks: if that turn has words it joins the request and this
        // answer is dropped; if it was a cough, the answer is taken after it.
        if self.endpointer.is_in_speech() {
            return;
        }
        // Nor while a turn that has ended is still being transcribed: it may be the rest of
        // the request, which would then be asked about whole.
        if self.stt_outstanding > 0
            || self.awaiting_speculation.is_some()
            || (self.times.endpoint.is_some() && self.times.transcribed.is_none())
        {
            return;
        }
        // Nor before the caller has been quiet for the full end-of-turn silence: a turn taken
        // early at a short pause ("Hi, this is Rose Baker.") is often not the whole request,
        // and a fast answer must not start a flow the caller then talks over. Voice overheard
        // while the hold prompt could not yet be interrupted counts: that is the caller going
        // on (the turn's own times were reset when the hold prompt started playing).
        let full_silence = Duration::from_millis(self.shared.conversation.silence_ms as u64);
        if self.last_caller_voice.is_some_and(|t| self.clock.since(t) < full_silence) {
            return;
        }
        let Some(Pending { answer: Some(answer), .. }) = self.classifying.take() else { return };
        tracing::debug!(call = %self.log_id, label = answer.as_deref().unwrap_or("none"), "classifier answered");
        self.on_input(Input::Classified(answer));
    }

    /// On simulated time the answer is waited for, like recognition (see `settle`); it is
    /// then handed over as on a real line, once the caller is quiet.
    pub(super) fn wait_classification(&mut self) -> bool {
        let Some(q) = &mut self.classifying else { return false };
        if q.answer.is_some() {
            return false;
        }
        q.answer = Some(q.rx.recv_timeout(super::SETTLE_LIMIT).unwrap_or_default());
        true
    }

    pub(super) fn is_classifying(&self) -> bool {
        self.classifying.is_some()
    }

    pub(super) fn drop_classification(&mut self) {
        if self.classifying.take().is_some() {
            tracing::debug!(call = %self.log_id, "the caller went on: the classifier's answer is not waited for");
        }
    }
}

/// A question to the classifier: its answer once it came, kept until the caller is quiet.
pub(super) struct Pending {
    rx: Receiver<Option<String>>,
    answer: Option<Option<String>>,
}
