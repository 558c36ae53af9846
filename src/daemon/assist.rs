//! The optional language model, put together: `[assist]`, the redactor, the client, the
//! store's egress log and the kill switch, behind the conversation's `Classifier`.
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
    client: Client,
    redactor: Redactor,
    budget: Duration,
}

/// The classifier `[assist]` asks for, or None: off, or classification not wanted.
pub fn classifier(config: &Config, store: &Arc<Store>) -> Result<Option<Arc<dyn Classifier>>> {
    let a = &config.assist;
    if !a.enabled || !a.classify {
        return Ok(None);
    }
    let endpoint = Endpoint {
        base: a.endpoint.clone(),
        model: a.model.clone(),
        api_key: a.api_key(&config.base_dir)?,
        connect_timeout: Duration::from_millis(a.connect_timeout_ms),
    };
    let local = endpoint.is_local();
    let host = endpoint.host().to_string();
    let client =
        Client::new(endpoint, Box::new(StoreEgress(store.clone())), Box::new(crate::assist::switch::FileSwitch::new(store.data_dir())));
    tracing::info!(
        endpoint = %host,
        local,
        budget_ms = a.budget_ms,
        "language model: asked about requests the rules do not understand, redacted first (`frontdesk assist log`)"
    );
    Ok(Some(Arc::new(ModelClassifier { client, redactor: config.redactor(), budget: Duration::from_millis(a.budget_ms) })))
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
