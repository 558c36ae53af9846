//! Speech to text with whisper.cpp (through whisper-rs).
//!
//! Two things matter on a phone line beyond plain transcription:
//! - Whisper invents text on non-speech ("Thank you.", "you", "[BLANK_AUDIO]"). A caller who
//!   coughs must not be heard as saying something, so audio is gated by voice activity before the
//!   model sees it, and the model's own no-speech probability and token confidence are checked
//!   after.
//! - whisper.cpp encodes a full 30 s window by default. Utterances on a call are a few seconds, so
//!   the encoder's audio context is sized to the utterance (`AudioContext::Sized`), which cuts
//!   encoder time roughly in proportion. The round-trip test measures its effect on accuracy.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

use crate::audio::vad::{VoiceActivity, voiced_duration_ms};

/// Whisper's input rate.
pub const SAMPLE_RATE: u32 = 16_000;
/// The longest utterance transcribed in one piece: whisper's window. The engine cuts turns before
/// this; a longer file is refused rather than silently truncated.
pub const MAX_UTTERANCE_SECONDS: u32 = 30;
/// Encoder frames per second of audio (1500 frames for 30 s).
const CTX_PER_SECOND: f32 = 50.0;
const FULL_AUDIO_CTX: i32 = 1500;
/// Encoder context beyond the utterance. With none, tiny.en fails to end its transcript more
/// often. A turn reaches us with up to a second of quiet before the speech (the endpointer's
/// preroll) and 120 ms or more after it. With 200 ms of quiet either side, two seconds, one and
/// half a second gave round-trip WERs of 4.0 %, 4.8 % and 4.4 % (tests/speech_roundtrip.rs,
/// differences of a word or two); framed as the engine frames a turn, one second gives 5.1 %.
/// One second instead of two saves 20-40 ms a turn (BENCHMARKS.md).
const SIZED_MARGIN_SECONDS: f32 = 1.0;

/// How much of the encoder's 30 s window to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioContext {
    /// The whole window, as whisper.cpp does by default: slowest, the model's trained condition.
    Full,
    /// The utterance plus one second: the speed-up for short turns.
    Sized,
    /// A fixed number of encoder frames.
    Fixed(i32),
}

impl AudioContext {
    /// Encoder frames for `samples` of 16 kHz audio. The margin keeps some trailing context,
    /// without which the tiny models tend to repeat or drop the last word.
    pub fn frames_for(self, samples: usize) -> i32 {
        match self {
            AudioContext::Full => FULL_AUDIO_CTX,
            AudioContext::Fixed(n) => n.clamp(64, FULL_AUDIO_CTX),
            AudioContext::Sized => {
                let seconds = samples as f32 / SAMPLE_RATE as f32;
                let frames = ((seconds + SIZED_MARGIN_SECONDS) * CTX_PER_SECOND).ceil() as i32;
                // Round up to a multiple of 64 so ggml's matrix kernels see friendly sizes.
                ((frames + 63) / 64 * 64).clamp(128, FULL_AUDIO_CTX)
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct SttSettings {
    pub model: PathBuf,
    pub threads: usize,
    /// "en", "es", ... or "auto" (multilingual models only).
    pub language: String,
    pub audio_context: AudioContext,
    /// Below this (0..1) the dialog should ask again.
    pub min_confidence: f32,
    /// Clinic-specific words for the decoder prompt (see `decoder_prompt`).
    pub vocabulary: Vec<String>,
}

/// Among the most prescribed medications in the US: callers name them when asking for refills,
/// and the tiny models hear them as ordinary words ("lisinopril" -> "listen up or"). The list is
/// short on purpose: whisper.cpp computes vocabulary logits for every prompt token, so each
/// prompt word costs about 1.5 ms per utterance on two cores (see BENCHMARKS.md).
pub const COMMON_MEDICATIONS: &[&str] = &[
    "lisinopril",
    "atorvastatin",
    "levothyroxine",
    "metformin",
    "amlodipine",
    "omeprazole",
    "sertraline",
    "amoxicillin",
    "gabapentin",
    "losartan",
];

/// Which words the decoder prompt primes Whisper for. A prompt is not free: whisper.cpp computes
/// vocabulary logits for every prompt token, and the medication list doubles the time a short
/// turn takes to transcribe (about 200 ms instead of 115 ms with tiny.en q8_0 on two cores). So
/// the medications are named only when the caller is asked for words staff act on (which
/// medication, what the call is about); the clinic's own vocabulary is always there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Priming {
    /// The clinic's vocabulary (`stt.vocabulary`) only.
    #[default]
    Everyday,
    /// The common medications as well.
    Medications,
}

/// Whisper conditions on a text prompt as if it were what was said just before. A prompt that
/// reads like a clinic call and names the words callers use steers spelling and recognition of
/// those words without changing anything else about decoding.
pub fn decoder_prompt(vocabulary: &[String], priming: Priming) -> String {
    let mut parts = Vec::new();
    if priming == Priming::Medications {
        parts.push(format!("Refill of {}.", COMMON_MEDICATIONS.join(", ")));
    }
    if !vocabulary.is_empty() {
        parts.push(format!("{}.", vocabulary.join(", ")));
    }
    parts.join(" ")
}

#[derive(Debug, thiserror::Error)]
pub enum SttError {
    #[error("Whisper model {0} not found: run `make models` or set stt.model in the config")]
    ModelMissing(String),
    #[error("{0}")]
    ModelInvalid(String),
    #[error("Whisper model {path} failed to load: {reason}; run `make models` to rebuild it")]
    ModelLoad { path: String, reason: String },
    #[error("language {0:?} needs a multilingual model; {1} is English-only (use `make models-base`)")]
    Language(String, String),
    #[error("no audio to transcribe")]
    Empty,
    #[error("audio is {seconds:.0} s long; one utterance may be at most {max} s (split the file)")]
    TooLong { seconds: f32, max: u32 },
    #[error("transcription failed: {0}")]
    Inference(String),
    #[error("transcription stopped: no longer wanted")]
    Aborted,
}

/// What the dialog gets back. An empty `text` means "nothing was said" (silence, noise, a click).
#[derive(Clone, Debug, Default)]
pub struct Transcript {
    pub text: String,
    /// Geometric mean of the text tokens' probabilities, 0..1; 0 for an empty transcript.
    pub confidence: f32,
    pub no_speech_probability: f32,
    /// Voiced audio found by the VAD gate.
    pub voiced_ms: u32,
    pub audio_ctx: i32,
    pub elapsed: Duration,
    /// Why a non-empty hypothesis was discarded, for debugging and tests.
    pub rejected: Option<&'static str>,
}

impl Transcript {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// A loaded model, shared by every call; each worker thread makes its own `Transcriber`.
pub struct Stt {
    ctx: WhisperContext,
    settings: SttSettings,
    everyday_prompt: String,
    medications_prompt: String,
}

impl Stt {
    pub fn load(settings: &SttSettings) -> Result<Self, SttError> {
        let path = &settings.model;
        if !path.is_file() {
            return Err(SttError::ModelMissing(path.display().to_string()));
        }
        // whisper.cpp aborts the process on some malformed files, so check the header first.
        let header = super::whisper_import::read_ggml_header(path)
            .map_err(|e| SttError::ModelInvalid(format!("{e}; run `make models` to rebuild it")))?;
        let n_vocab = header[0];
        if settings.language != "en" && n_vocab < 51865 {
            return Err(SttError::Language(settings.language.clone(), path.display().to_string()));
        }
        crate::logging::route_whisper_logs();
        let path_str = path.to_str().ok_or_else(|| SttError::ModelInvalid("model path is not UTF-8".into()))?;
        let ctx = WhisperContext::new_with_params(path_str, WhisperContextParameters::default())
            .map_err(|e| SttError::ModelLoad { path: path.display().to_string(), reason: e.to_string() })?;
        Ok(Stt {
            ctx,
            settings: settings.clone(),
            everyday_prompt: decoder_prompt(&settings.vocabulary, Priming::Everyday),
            medications_prompt: decoder_prompt(&settings.vocabulary, Priming::Medications),
        })
    }

    pub fn settings(&self) -> &SttSettings {
        &self.settings
    }

    pub fn model_path(&self) -> &Path {
        &self.settings.model
    }

    pub fn transcriber(&self) -> Result<Transcriber<'_>, SttError> {
        let state = self.ctx.create_state().map_err(|e| SttError::Inference(e.to_string()))?;
        Ok(Transcriber { stt: self, state, threads: self.settings.threads.max(1), abort: None })
    }
}

/// Per-thread decoding state (whisper's KV caches and buffers, tens of MB): made once per worker,
/// reused for every utterance.
pub struct Transcriber<'a> {
    stt: &'a Stt,
    state: WhisperState,
    /// Threads for the next transcription (`stt.threads` unless set otherwise).
    threads: usize,
    /// Set by someone else to stop the transcription in progress (see `set_abort`).
    abort: Option<Arc<AtomicBool>>,
}

/// whisper.cpp's abort callback: true stops the encoder between graph nodes and the decoder
/// between tokens. `data` is the `AtomicBool` of `Transcriber::abort`, which outlives the call.
// SAFETY: called by whisper.cpp only with the user data `transcribe_with` registers.
unsafe extern "C" fn abort_requested(data: *mut std::ffi::c_void) -> bool {
    // SAFETY: set only in `transcribe_with`, from an Arc held across `full`.
    unsafe { (*(data as *const AtomicBool)).load(Ordering::Relaxed) }
}

/// Phrases Whisper is known to produce from non-speech. Dropped only when the evidence for speech
/// is weak, because a caller may really say "thank you".
const HALLUCINATIONS: &[&str] = &[
    "thank you",
    "thank you very much",
    "thanks for watching",
    "thank you for watching",
    "thanks for listening",
    "please subscribe",
    "you",
    "bye",
    "so",
    "oh",
    "okay",
    "hmm",
    "i'm sorry",
];

/// Less voiced audio than this is a click, a breath or a clipped fragment, not a word.
const MIN_VOICED_MS: u32 = 120;

impl Transcriber<'_> {
    /// The threads the next transcriptions use: the recognition pool gives a turn both cores
    /// only when nothing else wants them (see `call::engine::SttPool`).
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// A flag that, once set, stops the next transcriptions early with `SttError::Aborted`:
    /// the recognition pool hands one to a speculative transcription, which is of no use once
    /// the caller goes on talking (whisper.cpp checks it between the steps of the model).
    pub fn set_abort(&mut self, abort: Option<Arc<AtomicBool>>) {
        self.abort = abort;
    }

    /// Transcribes one utterance of 16 kHz mono audio in [-1, 1], primed for every word it
    /// knows (medications included): for a recording of unknown content.
    pub fn transcribe(&mut self, samples: &[f32]) -> Result<Transcript, SttError> {
        self.transcribe_with(samples, self.stt.settings.audio_context, Priming::Medications)
    }

    /// A caller's turn, primed for what the caller was asked.
    pub fn transcribe_turn(&mut self, samples: &[f32], priming: Priming) -> Result<Transcript, SttError> {
        self.transcribe_with(samples, self.stt.settings.audio_context, priming)
    }

    pub fn transcribe_with(&mut self, samples: &[f32], audio_context: AudioContext, priming: Priming) -> Result<Transcript, SttError> {
        let started = Instant::now();
        if samples.is_empty() {
            return Err(SttError::Empty);
        }
        let seconds = samples.len() as f32 / SAMPLE_RATE as f32;
        if seconds > MAX_UTTERANCE_SECONDS as f32 + 0.5 {
            return Err(SttError::TooLong { seconds, max: MAX_UTTERANCE_SECONDS });
        }
        let voiced_ms = voiced_duration_ms(samples, SAMPLE_RATE, VoiceActivity::Aggressive);
        let mut result = Transcript { voiced_ms, ..Default::default() };
        if voiced_ms < MIN_VOICED_MS {
            result.elapsed = started.elapsed();
            return Ok(result);
        }

        // whisper.cpp needs at least 1 s and behaves best with a little padding on both sides.
        let padded = pad_for_whisper(samples);
        let audio_ctx = audio_context.frames_for(padded.len());
        let settings = &self.stt.settings;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(self.threads as i32);
        let language = if settings.language == "auto" { None } else { Some(settings.language.as_str()) };
        params.set_language(language);
        params.set_translate(false);
        params.set_no_context(true);
        params.set_no_timestamps(true);
        params.set_single_segment(true);
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_temperature(0.0);
        params.set_temperature_inc(0.0);
        params.set_audio_ctx(audio_ctx);
        // A stock Whisper model run on less than its 30 s window sometimes fails to end and
        // repeats the sentence. Speech is at most ~5 tokens a second, so a cap in proportion to
        // the audio bounds the time lost to that; the repeat itself is removed below.
        params.set_max_tokens(max_tokens_for(samples.len()));
        let prompt = match priming {
            Priming::Everyday => &self.stt.everyday_prompt,
            Priming::Medications => &self.stt.medications_prompt,
        };
        if !prompt.is_empty() {
            params.set_initial_prompt(prompt);
        }
        let abort = self.abort.clone();
        if let Some(flag) = &abort {
            if flag.load(Ordering::Relaxed) {
                return Err(SttError::Aborted);
            }
            // SAFETY: the callback only reads the AtomicBool, which `abort` keeps alive until
            // `full` has returned; whisper.cpp does not keep the pointer past that.
            unsafe {
                params.set_abort_callback(Some(abort_requested));
                params.set_abort_callback_user_data(Arc::as_ptr(flag) as *mut std::ffi::c_void);
            }
        }
        let state = &mut self.state;
        let ran = match &abort {
            Some(flag) => crate::logging::while_abortable(flag, || state.full(params, &padded)),
            None => state.full(params, &padded),
        };
        if abort.is_some_and(|f| f.load(Ordering::Relaxed)) {
            return Err(SttError::Aborted);
        }
        ran.map_err(|e| SttError::Inference(e.to_string()))?;

        let ctx = &self.stt.ctx;
        let eot = ctx.token_eot();
        let mut text = String::new();
        let mut log_p = 0.0f64;
        let mut n_tokens = 0usize;
        let mut no_speech = 0.0f32;
        for segment in self.state.as_iter() {
            no_speech = no_speech.max(segment.no_speech_probability());
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else { continue };
                if token.token_id() >= eot {
                    continue;
                }
                log_p += (token.token_probability().max(1e-6) as f64).ln();
                n_tokens += 1;
                text.push_str(&token.to_str_lossy().unwrap_or_default());
            }
        }
        result.audio_ctx = audio_ctx;
        result.no_speech_probability = no_speech;
        let text = one_short_word(&collapse_repetition(&clean_text(&text)), voiced_ms);
        let confidence = if n_tokens == 0 { 0.0 } else { (log_p / n_tokens as f64).exp() as f32 };
        result.rejected = reject_reason(&text, confidence, no_speech, voiced_ms);
        if result.rejected.is_none() {
            result.text = text;
            result.confidence = confidence;
        }
        result.elapsed = started.elapsed();
        Ok(result)
    }
}

fn max_tokens_for(samples: usize) -> i32 {
    let seconds = samples as f32 / SAMPLE_RATE as f32;
    (12.0 + 6.0 * seconds).min(128.0) as i32
}

/// Voiced time under which a word written twice ("Yes. Yes.", "No. No.") was said once: the
/// tiny models double a lone short word, and staff read the transcript. Saying "yes, yes" takes
/// well over half a second of voice; one "yes" about a third.
const ONE_WORD_VOICED_MS: u32 = 470;

/// "Yes. Yes." from under [`ONE_WORD_VOICED_MS`] of voice is "Yes.".
pub fn one_short_word(text: &str, voiced_ms: u32) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let key = |w: &str| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    match words.as_slice() {
        [a, b] if voiced_ms < ONE_WORD_VOICED_MS && !key(a).is_empty() && key(a) == key(b) => {
            let word: String = a.trim_end_matches(|c: char| !c.is_alphanumeric()).to_string();
            format!("{word}.")
        }
        _ => text.to_string(),
    }
}

/// Cuts a transcript that ends in a loop: from some point on, the rest only repeats a run of
/// three or more words ("Is the office open on Saturday. Is the office open on Saturday. Is
/// the"), or a pair of words twice over. That is how Whisper's decoding loops look; a caller's own
/// repeats ("no, no", "thank you, thank you, thank you so much") do not fill the rest of the
/// utterance with copies, and are kept.
pub fn collapse_repetition(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let key: Vec<String> = words.iter().map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase()).collect();
    let n = key.len();
    for i in 0..n {
        for len in 2..(n - i) {
            let start = i + len;
            // Everything after the first run continues it periodically; the last copy may be
            // cut short by the token cap.
            // The very last word may itself be cut mid-word ("levothy").
            let periodic = (start..n).all(|k| {
                let expected = &key[i + (k - start) % len];
                key[k] == *expected || (k == n - 1 && !key[k].is_empty() && expected.starts_with(key[k].as_str()))
            });
            let repeated = n - start;
            if periodic && ((len >= 3 && repeated >= len.min(4)) || repeated >= 2 * len) {
                return words[..start].join(" ");
            }
        }
    }
    text.to_string()
}

fn pad_for_whisper(samples: &[f32]) -> Vec<f32> {
    let lead = SAMPLE_RATE as usize / 10;
    let min_total = SAMPLE_RATE as usize + SAMPLE_RATE as usize / 10;
    let tail = (SAMPLE_RATE as usize / 5).max(min_total.saturating_sub(samples.len() + lead));
    let mut v = Vec::with_capacity(lead + samples.len() + tail);
    v.extend(std::iter::repeat_n(0.0, lead));
    v.extend_from_slice(samples);
    v.extend(std::iter::repeat_n(0.0, tail));
    v
}

/// Removes the annotations Whisper writes for non-speech ("[BLANK_AUDIO]", "(coughs)", "*music*")
/// and collapses white space.
pub fn clean_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut depth = 0i32;
    let mut in_stars = false;
    for ch in raw.chars() {
        match ch {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = (depth - 1).max(0),
            '*' => in_stars = !in_stars,
            _ if depth == 0 && !in_stars => out.push(ch),
            _ => {}
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed.trim_matches(|c: char| c == '-' || c.is_whitespace());
    if trimmed.chars().any(|c| c.is_alphanumeric()) { trimmed.to_string() } else { String::new() }
}

fn reject_reason(text: &str, confidence: f32, no_speech: f32, voiced_ms: u32) -> Option<&'static str> {
    if text.is_empty() {
        return Some("no text");
    }
    // OpenAI's rule: the model thinks it is silence and is not confident in what it wrote.
    if no_speech > 0.6 && confidence < 0.5 {
        return Some("no-speech probability");
    }
    let bare: String = text.to_lowercase().chars().filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '\'').collect();
    if HALLUCINATIONS.contains(&bare.trim()) && (confidence < 0.6 || no_speech > 0.3 || voiced_ms < 400) {
        return Some("known non-speech hallucination");
    }
    if confidence < 0.15 {
        return Some("very low confidence");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_context_tracks_length() {
        assert_eq!(AudioContext::Full.frames_for(16_000), 1500);
        assert_eq!(AudioContext::Sized.frames_for(16_000 * 2), 192);
        assert_eq!(AudioContext::Sized.frames_for(16_000 * 5), 320);
        assert_eq!(AudioContext::Sized.frames_for(16_000 * 40), 1500);
        assert_eq!(AudioContext::Sized.frames_for(100), 128);
    }

    #[test]
    fn annotations_are_removed() {
        assert_eq!(clean_text(" [BLANK_AUDIO]"), "");
        assert_eq!(clean_text("(coughs) I need an appointment."), "I need an appointment.");
        assert_eq!(clean_text("*music*"), "");
        assert_eq!(clean_text(" - "), "");
        assert_eq!(clean_text("  My  name is Ann. "), "My name is Ann.");
    }

    #[test]
    fn hallucinations_need_strong_evidence() {
        assert!(reject_reason("Thank you.", 0.4, 0.1, 900).is_some());
        assert!(reject_reason("Thank you.", 0.9, 0.05, 300).is_some());
        assert!(reject_reason("Thank you.", 0.9, 0.05, 900).is_none());
        assert!(reject_reason("I need a refill.", 0.8, 0.7, 1500).is_none());
        assert!(reject_reason("I need a refill.", 0.3, 0.7, 1500).is_some());
    }

    #[test]
    fn a_short_word_doubled_was_said_once() {
        assert_eq!(one_short_word("Yes. Yes.", 320), "Yes.");
        assert_eq!(one_short_word("Yes, yes.", 300), "Yes.");
        assert_eq!(one_short_word("No. No.", 260), "No.");
        assert_eq!(one_short_word("No, no.", 800), "No, no.", "long enough to have been said twice");
        assert_eq!(one_short_word("Yes, please.", 300), "Yes, please.");
    }

    #[test]
    fn decoding_loops_are_cut_and_real_repeats_kept() {
        assert_eq!(
            collapse_repetition("Is the office open on Saturday. Is the office open on Saturday. Is the office"),
            "Is the office open on Saturday."
        );
        assert_eq!(collapse_repetition("Please. Please. Please. Please."), "Please. Please. Please. Please.");
        assert_eq!(collapse_repetition("Thank you, thank you, thank you so much"), "Thank you, thank you, thank you so much");
        assert_eq!(collapse_repetition("No, no, it ends in four four seven one."), "No, no, it ends in four four seven one.");
        assert_eq!(collapse_repetition("I'm sorry, I'm sorry."), "I'm sorry, I'm sorry.");
        assert_eq!(collapse_repetition(""), "");
        assert_eq!(
            collapse_repetition("Hi, my name is Ann and I need an appointment. Hi, my name is Ann and I"),
            "Hi, my name is Ann and I need an appointment."
        );
        assert_eq!(
            collapse_repetition("She takes levothyroxine daily. She takes levothyroxine daily. She takes levothy"),
            "She takes levothyroxine daily."
        );
        // A sentence that merely ends like it began is not a loop.
        assert_eq!(collapse_repetition("I need to see a doctor. I need"), "I need to see a doctor. I need");
    }

    #[test]
    fn token_cap_follows_duration() {
        assert_eq!(max_tokens_for(16_000 * 3), 30);
        assert_eq!(max_tokens_for(16_000 * 30), 128);
    }

    #[test]
    fn padding_reaches_one_second() {
        assert!(pad_for_whisper(&[0.1; 100]).len() >= 17_600);
        assert_eq!(pad_for_whisper(&[0.1; 48_000]).len(), 1_600 + 48_000 + 3_200);
    }
}
