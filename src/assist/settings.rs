//! `[assist]`: the optional language model, off unless the clinic turns it on.

use serde::Deserialize;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct AssistSection {
    /// The master switch. Off: no request is ever made, whatever else this section says.
    pub enabled: bool,
    /// An OpenAI-compatible API: by default a llama-server on this box.
    pub endpoint: String,
    /// The model name sent with each request.
    pub model: String,
    /// An endpoint off this box must be allowed explicitly: what goes there is redacted, kept
    /// sealed and audited, but a clinic decides that it may go at all.
    pub allow_remote: bool,
    /// File holding the API key of a remote endpoint (or a systemd credential name, read from
    /// `$CREDENTIALS_DIRECTORY`). Never the key itself: the config file is not a secret.
    pub api_key_file: String,
    /// Classify what the rules could not, during the call.
    pub classify: bool,
    /// Write staff a one-line summary of each message, after the call.
    pub summarize: bool,
    /// How long a caller may wait for a classification (the filler covers it).
    pub budget_ms: u64,
    pub connect_timeout_ms: u64,
    /// Whole-request limit for summaries, which no caller waits for.
    pub timeout_ms: u64,
    /// Words the redactor keeps besides common English and the built-in clinical words:
    /// the clinic's own terms. Never names of people.
    pub vocabulary: Vec<String>,
}

impl Default for AssistSection {
    fn default() -> Self {
        AssistSection {
            enabled: false,
            endpoint: "http://127.0.0.1:8081/v1".into(),
            model: "local".into(),
            allow_remote: false,
            api_key_file: String::new(),
            classify: true,
            summarize: true,
            budget_ms: 2500,
            connect_timeout_ms: 500,
            timeout_ms: 20_000,
            vocabulary: Vec::new(),
        }
    }
}
