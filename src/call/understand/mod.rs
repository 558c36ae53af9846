//! What callers' words mean, without any language model: numbers, phone numbers, dates,
//! names and spelling, yes and no, requests, red flags and preferred times.
//!
//! Every function takes a transcript as Whisper writes it (punctuation, numerals, "Mm-hmm.")
//! and never panics, whatever the text.

pub mod dates;
pub mod intent;
pub mod medication;
pub mod names;
pub mod numbers;
pub mod offscript;
pub mod phone;
pub mod preference;
pub mod redflag;
pub mod turn;
pub mod words;
pub mod yesno;
