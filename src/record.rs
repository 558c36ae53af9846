//! The record of one call: what staff need to act on it, and what lets anyone see how the call
//! went (both sides of the transcript, with times and per-turn latencies).
//!
//! It is patient data through and through (caller number, name, date of birth, transcript):
//! it goes to the store and to `simulate`'s output, never to the log.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The caller's request was collected for staff to act on.
    MessageTaken,
    /// Handed to a person (the transfer target answered).
    Transferred,
    /// Questions answered; nothing for staff to do.
    Answered,
    /// The caller hung up, or went silent, before anything was collected.
    Abandoned,
    /// Red-flag words: emergency instructions were given.
    Emergency,
    /// The call was cut by the box stopping (or crashing) mid-call.
    Interrupted,
}

impl Outcome {
    pub const ALL: [Outcome; 6] =
        [Outcome::MessageTaken, Outcome::Emergency, Outcome::Transferred, Outcome::Answered, Outcome::Abandoned, Outcome::Interrupted];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::MessageTaken => "message_taken",
            Outcome::Transferred => "transferred",
            Outcome::Answered => "answered",
            Outcome::Abandoned => "abandoned",
            Outcome::Emergency => "emergency",
            Outcome::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Agent,
    Caller,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    /// Milliseconds since the call was answered.
    pub at_ms: u64,
    pub speaker: Speaker,
    pub text: String,
    /// Recognition confidence of a caller's words (absent for the agent and for key presses).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub confidence: Option<f32>,
    /// Set when the caller pressed keys instead of speaking.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub keypad: bool,
    /// Set when the caller interrupted this prompt.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub interrupted: bool,
}

/// Where the time of one turn went, measured by the engine (not by `simulate`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnLatency {
    /// Caller's last voiced audio to the end-of-turn decision: the silence waited, which for a
    /// turn taken early includes recognising it during the pause.
    pub endpoint_ms: u32,
    /// End-of-turn decision to transcript: 0 when the turn was transcribed during the pause
    /// and taken once that read as finished.
    pub stt_ms: u32,
    /// Time spent recognising the turn, wherever it fell (during the pause, in parts while
    /// the caller spoke, after the end).
    #[serde(default)]
    pub stt_work_ms: u32,
    /// Transcript to the reply's text.
    pub decide_ms: u32,
    /// Reply text to its first audio.
    pub tts_ms: u32,
    /// Caller's last voiced audio to the reply's first audio frame handed to the line.
    pub total_ms: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// RFC 3339, UTC.
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_ms: u64,
    /// The caller's number as the line gave it.
    pub caller: Option<String>,
    /// The caller's name as the line gave it (an analog line's caller ID); absent in records
    /// from before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_name: Option<String>,
    pub dialled: Option<String>,
    pub after_hours: bool,
    /// The request the call was about (`new_appointment`, `refill`, ...).
    pub intent: Option<String>,
    /// FAQ topics answered.
    pub questions: Vec<String>,
    /// Collected details: name, date_of_birth (YYYY-MM-DD), callback (10 digits), reason, ...
    pub slots: BTreeMap<String, String>,
    /// Details the request needs that the caller did not give, and why: "declined" (would
    /// rather not say), "unknown" (does not know or does not have one), "unclear" (asked
    /// `conversation.detail_tries` times without an answer that could be used). Staff see
    /// these beside the details, so a vague caller's message is still passed on, as such.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing: BTreeMap<String, String>,
    /// The caller said yes to the read-back of the details.
    pub confirmed: bool,
    pub outcome: Outcome,
    /// Which red flag, when the outcome is an emergency (a code such as "chest_pain").
    pub red_flag: Option<String>,
    pub transfer: Option<String>,
    /// The request was recognised by the optional language model, not by the rules.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub assisted: bool,
    /// A one-line summary of the message for staff, written after the call by the optional
    /// language model from the de-identified words (`[assist] summarize`). The model's words,
    /// not the caller's or staff's: shown as such, beside the transcript it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub transcript: Vec<Utterance>,
    pub latencies: Vec<TurnLatency>,
}

impl CallRecord {
    pub fn new(started_at: String, caller: Option<String>, dialled: Option<String>, after_hours: bool) -> CallRecord {
        CallRecord {
            started_at,
            ended_at: None,
            duration_ms: 0,
            caller,
            caller_name: None,
            dialled,
            after_hours,
            intent: None,
            questions: Vec::new(),
            slots: BTreeMap::new(),
            missing: BTreeMap::new(),
            confirmed: false,
            outcome: Outcome::Abandoned,
            red_flag: None,
            transfer: None,
            assisted: false,
            summary: None,
            transcript: Vec::new(),
            latencies: Vec::new(),
        }
    }
}

/// How a missing detail reads to staff.
pub fn missing_reason(reason: &str) -> &'static str {
    match reason {
        "declined" => "not given (the caller would rather not say)",
        "unknown" => "not given (the caller does not know or has none)",
        _ => "not given (could not be made out)",
    }
}

/// Now, as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Millisecond).map(|t| t.to_string()).unwrap_or_default()
}
