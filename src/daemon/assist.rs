//! The optional language model, put together: `[assist]`, the redactor, the client, the
//! store's egress log and the kill switch, behind the conversation's `Classifier` and the
//! after-call `Summarizer`.
//!
//! Here and nowhere else do `assist` and `call` meet: the conversation asks a question about
//! words, this answers it with a label or None, and everything that could go wrong on the
//! way (unsure redactor, switch off, no answer in time, a broken server) is None, which the
//! call takes as "not understood", exactly as without a model.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::assist::client::{Client, Egress, EgressRecord, Endpoint};
use crate::assist::redact::{Captured, Redacted, Redactor, asks_something};
use crate::call::engine::Classifier;
use crate::config::Config;
use crate::record::{CallRecord, Outcome};
use crate::store::Store;

/// Keeps every request body in the store, sealed and audited, before it is sent.
struct StoreEgress(Arc<Store>);

impl Egress for StoreEgress {
    fn record(&self, e: &EgressRecord<'_>) -> Result<()> {
        self.0.record_egress(e.host, e.purpose, e.body, &e.sha256)?;
        crate::metrics::assist_request();
        Ok(())
    }
}

pub struct ModelClassifier {
    client: Arc<Client>,
    redactor: Arc<Redactor>,
    budget: Duration,
}

/// What `[assist]` gives the daemon: a classifier for calls in progress and a summarizer for
/// messages once their call has ended; each None when off. Both share one client, so one
/// breaker and one egress log.
#[derive(Default)]
pub struct Assist {
    pub classifier: Option<Arc<dyn Classifier>>,
    pub summarizer: Option<Arc<Summarizer>>,
}

/// What `[assist]` asks for.
pub fn build(config: &Config, store: &Arc<Store>) -> Result<Assist> {
    let a = &config.assist;
    if !a.enabled || (!a.classify && !a.summarize) {
        return Ok(Assist::default());
    }
    let endpoint = Endpoint {
        base: a.endpoint.clone(),
        model: a.model.clone(),
        api_key: a.api_key(&config.base_dir)?,
        connect_timeout: Duration::from_millis(a.connect_timeout_ms),
    };
    let local = endpoint.is_local();
    let host = endpoint.host().to_string();
    let client = Arc::new(Client::new(
        endpoint,
        Box::new(StoreEgress(store.clone())),
        Box::new(crate::assist::switch::FileSwitch::new(store.data_dir())),
    ));
    let redactor = Arc::new(config.redactor());
    tracing::info!(
        endpoint = %host,
        local,
        classify = a.classify,
        summarize = a.summarize,
        budget_ms = a.budget_ms,
        "language model: asked about requests the rules do not understand and for summaries of messages, redacted first (`frontdesk assist log`)"
    );
    Ok(Assist {
        classifier: a.classify.then(|| {
            Arc::new(ModelClassifier { client: client.clone(), redactor: redactor.clone(), budget: Duration::from_millis(a.budget_ms) })
                as Arc<dyn Classifier>
        }),
        summarizer: a.summarize.then(|| Arc::new(Summarizer { client, redactor, timeout: Duration::from_millis(a.timeout_ms) })),
    })
}

impl Classifier for ModelClassifier {
    fn classify(&self, text: &str, labels: &[(String, String)], captured: &[String]) -> Option<String> {
        let mut values = Captured::default();
        for v in captured {
            values.add(v);
        }
        let sent = match self.redactor.redact(text, &values) {
            Redacted::Send { text, .. } if !asks_something(&text) => {
                tracing::info!("language model not asked: the words are a greeting or a name, no request");
                return None;
            }
            Redacted::Send { text, .. } => text,
            Redacted::Withheld(why) => {
                tracing::info!(why, "language model not asked: the redactor withheld the words");
                return None;
            }
        };
        let labels: Vec<(&str, &str)> = labels.iter().map(|(n, d)| (n.as_str(), d.as_str())).collect();
        match self.client.classify(&sent, &labels, self.budget) {
            Ok(label) if label != "none" => Some(label),
            Ok(_) => None,
            Err(e) => {
                // The error names no caller's words: a kind and, at most, an HTTP status.
                tracing::warn!(error = %e, "language model: no answer, the call goes on without it");
                None
            }
        }
    }
}

/// The details of a request that carry what it is about, as the model is shown them. The
/// others (name, date of birth, callback number) identify the caller: they are what the
/// redactor scrubs, never what is sent.
const CONTENT_DETAILS: &[(&str, &str)] =
    &[("reason", "What it is about"), ("medication", "Medication"), ("preferred_times", "Times that suit")];

/// Writes staff a one-line summary of a message after its call (`[assist] summarize`).
pub struct Summarizer {
    client: Arc<Client>,
    redactor: Arc<Redactor>,
    timeout: Duration,
}

/// What is sent for `record`'s summary: the kind of request and its content details, each
/// de-identified against everything the call captured; None when nothing of the content may go
/// (no content details, or the redactor withheld them all).
pub fn summary_request(redactor: &Redactor, record: &CallRecord) -> Option<String> {
    let mut captured = Captured::default();
    let identifying = record.slots.iter().filter(|(k, _)| !CONTENT_DETAILS.iter().any(|(c, _)| c == k)).map(|(_, v)| v);
    for v in identifying.chain(&record.caller).chain(&record.caller_name) {
        captured.add(v);
    }
    let mut lines = Vec::new();
    for (slot, label) in CONTENT_DETAILS {
        let Some(value) = record.slots.get(*slot) else { continue };
        match redactor.redact(value, &captured) {
            Redacted::Send { text, .. } if asks_something(&text) => lines.push(format!("{label}: {text}")),
            Redacted::Send { .. } => {}
            Redacted::Withheld(why) => tracing::info!(why, detail = slot, "a detail of the message is not sent for its summary"),
        }
    }
    if lines.is_empty() {
        return None;
    }
    let kind = record.intent.as_deref().unwrap_or("message").replace('_', " ");
    Some(format!("Request: {kind}\n{}", lines.join("\n")))
}

impl Summarizer {
    /// Summarises the message of stored call `id`, if it is one, and keeps the summary sealed
    /// with it. Every failure is logged (without the caller's words) and leaves the record as
    /// it was.
    pub fn summarize_call(&self, store: &Store, id: i64) {
        let record = match store.get(id) {
            Ok(Some(c)) if c.outcome == Outcome::MessageTaken.as_str() => c.record(),
            Ok(_) => None,
            Err(e) => {
                tracing::error!(record = id, "no summary: the call could not be read back: {e:#}");
                None
            }
        };
        let Some(record) = record else { return };
        let Some(text) = summary_request(&self.redactor, &record) else {
            tracing::info!(record = id, "no summary: nothing of the message may leave the box");
            return;
        };
        match self.client.summarize(&text, self.timeout) {
            Ok(line) => match store.set_summary(id, &line) {
                Ok(true) => tracing::info!(record = id, "summary of the message stored, sealed (the language model's words)"),
                Ok(false) => tracing::info!(record = id, "summary not stored: the call's details are gone"),
                Err(e) => tracing::error!(record = id, "cannot store the summary: {e:#}"),
            },
            // The error names no caller's words: a kind and, at most, an HTTP status.
            Err(e) => tracing::warn!(record = id, error = %e, "language model: no summary of the message"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(slots: &[(&str, &str)]) -> CallRecord {
        let mut r = CallRecord::new("2026-12-07T10:00:00Z".into(), Some("+16175550142".into()), None, false);
        r.caller_name = Some("ROSE BAKER".into());
        r.intent = Some("new_appointment".into());
        r.slots = slots.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        r
    }

    #[test]
    fn a_summary_request_holds_what_the_message_is_about_and_nothing_that_identifies_the_caller() {
        let redactor = Redactor::new(["sore throat"]);
        let r = message(&[
            ("name", "Rosalind Bakersfield"),
            ("date_of_birth", "1952-03-03"),
            ("callback", "6175550199"),
            ("reason", "Rosalind here, my sore throat is worse since March third, call me on five five five zero one nine nine"),
            ("preferred_times", "Monday morning"),
        ]);
        let sent = summary_request(&redactor, &r).unwrap();
        assert!(sent.starts_with("Request: new appointment\nWhat it is about: "), "{sent}");
        assert!(sent.contains("sore throat"), "{sent}");
        // Day and time words are masked like every date phrase, which leaves nothing to send.
        assert!(!sent.contains("Times that suit"), "{sent}");
        for secret in ["Rosalind", "Bakersfield", "Rose", "Baker", "March", "third", "five", "nine", "617", "1952"] {
            assert!(!sent.contains(secret), "{secret:?} would leave: {sent}");
        }
    }

    #[test]
    fn without_a_detail_that_says_what_it_is_about_nothing_is_asked() {
        let redactor = Redactor::new(Vec::new());
        assert_eq!(summary_request(&redactor, &message(&[("name", "Rose Baker"), ("callback", "6175550199")])), None);
        // A reason that is only the caller's name and number says nothing once redacted.
        assert_eq!(summary_request(&redactor, &message(&[("name", "Rose Baker"), ("reason", "this is Rose Baker, 617 555 0199")])), None);
    }
}
