//! The optional language model: what may be asked of it, and what may leave the box.
//!
//! A rule-based conversation understands most calls; a model helps with the rest (an
//! utterance no rule classified) and writes staff a one-line summary of a message. It is
//! optional and fail-closed: with it off, unreachable, slow or wrong, every call goes exactly
//! as without it. Nothing reaches a model that is not first de-identified ([`redact`]), and
//! every request that leaves is kept on the box, sealed, with its hash in the audit trail.
//!
//! Layering: `assist` knows neither lines nor `config`; the daemon builds it from `[assist]`
//! and hands the conversation a classifier.

pub mod client;
pub mod redact;
pub mod settings;
pub mod switch;

/// The built-in kinds of request, as the model is told them: the flow names of
/// `[intents.NAME]` with a few words each. "none" is always offered besides.
pub const REQUEST_LABELS: &[(&str, &str)] = &[
    ("new_appointment", "wants to be seen or to book a visit"),
    ("reschedule", "wants to move an appointment they already have"),
    ("cancel", "wants to cancel an appointment they already have"),
    ("refill", "needs more of a prescription medication, or the pharmacy has a problem with one"),
    ("test_results", "asks about results of labs, scans or other tests"),
    ("billing", "bills, payments, insurance, costs"),
    ("message", "anything else staff must handle: forms, letters, records, referrals, questions for the nurse or doctor"),
];
