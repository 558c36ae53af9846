//! `[speech]`, `[stt]`, `[tts]` and `[models]`: the config sections the speech models own.
//!
//! Each section checks its own values ([`SttSection::problems`] ...); `config` only puts the
//! sections together and locates each problem in the file for the person editing it.

use std::path::PathBuf;

use serde::Deserialize;

use super::stt::AudioContext;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SpeechSection {
    /// libonnxruntime.so; default: the copy `make models` unpacks.
    pub onnxruntime: Option<PathBuf>,
    /// espeak-ng's data directory; default: the distribution's.
    pub espeak_data: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SttSection {
    #[serde(default = "default_stt_model")]
    pub model: PathBuf,
    #[serde(default = "default_threads")]
    pub threads: usize,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub audio_context: AudioContextSetting,
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f32,
    /// Words callers of this clinic say that Whisper would otherwise misspell or mishear:
    /// medications, the doctors' names, local street names. Added to the built-in list of
    /// common medications.
    #[serde(default)]
    pub vocabulary: Vec<String>,
}

impl Default for SttSection {
    fn default() -> Self {
        SttSection {
            model: default_stt_model(),
            threads: default_threads(),
            language: default_language(),
            audio_context: AudioContextSetting::default(),
            min_confidence: default_min_confidence(),
            vocabulary: Vec::new(),
        }
    }
}

fn default_stt_model() -> PathBuf {
    "/var/lib/frontdesk/models/ggml-tiny.en-q8_0.bin".into()
}
fn default_threads() -> usize {
    2
}
fn default_language() -> String {
    "en".into()
}
pub fn default_min_confidence() -> f32 {
    0.5
}

/// `"full"`, `"sized"` or a number of encoder frames (50 per second of audio).
#[derive(Debug, Deserialize, Clone, Copy, PartialEq)]
#[serde(untagged)]
pub enum AudioContextSetting {
    Named(AudioContextName),
    Frames(i32),
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum AudioContextName {
    Full,
    Sized,
}

impl Default for AudioContextSetting {
    fn default() -> Self {
        AudioContextSetting::Named(AudioContextName::Sized)
    }
}

impl AudioContextSetting {
    pub fn resolve(self) -> AudioContext {
        match self {
            AudioContextSetting::Named(AudioContextName::Full) => AudioContext::Full,
            AudioContextSetting::Named(AudioContextName::Sized) => AudioContext::Sized,
            AudioContextSetting::Frames(n) => AudioContext::Fixed(n),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TtsSection {
    #[serde(default = "default_voice")]
    pub voice: PathBuf,
    #[serde(default = "default_tts_threads")]
    pub threads: usize,
    #[serde(default = "default_rate")]
    pub speaking_rate: f32,
    #[serde(default = "default_sentence_silence")]
    pub sentence_silence_ms: u32,
    /// Piper's random variation of each synthesis; false: the same text always sounds the same.
    #[serde(default = "default_variation")]
    pub variation: bool,
}

impl Default for TtsSection {
    fn default() -> Self {
        TtsSection {
            voice: default_voice(),
            threads: default_tts_threads(),
            speaking_rate: default_rate(),
            sentence_silence_ms: default_sentence_silence(),
            variation: default_variation(),
        }
    }
}

fn default_voice() -> PathBuf {
    "/var/lib/frontdesk/models/en_US-joe-medium.onnx".into()
}
fn default_variation() -> bool {
    true
}
fn default_tts_threads() -> usize {
    2
}
fn default_rate() -> f32 {
    1.0
}
fn default_sentence_silence() -> u32 {
    200
}

impl SttSection {
    /// (key, what is wrong) for each value outside what Whisper can use.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if !(1..=16).contains(&self.threads) {
            p.push(("threads", format!("{} threads: use 1 to 16", self.threads)));
        }
        let lang = &self.language;
        if !(lang == "auto" || (lang.len() == 2 && lang.chars().all(|c| c.is_ascii_lowercase()))) {
            p.push(("language", format!("{lang:?} is not a language code: use a two-letter code such as \"en\", or \"auto\"")));
        }
        if !(0.0..=1.0).contains(&self.min_confidence) {
            p.push(("min_confidence", format!("{} is outside 0 to 1", self.min_confidence)));
        }
        if let AudioContextSetting::Frames(n) = self.audio_context
            && !(64..=1500).contains(&n)
        {
            p.push(("audio_context", format!("{n} frames: use 64 to 1500, \"sized\" or \"full\"")));
        }
        let vocabulary_words: usize = self.vocabulary.iter().map(|w| w.split_whitespace().count()).sum();
        if vocabulary_words > 60 {
            p.push((
                "vocabulary",
                format!("{vocabulary_words} words: Whisper's prompt holds about 60 besides the built-in medications; keep the words callers most often say"),
            ));
        }
        p
    }
}

impl TtsSection {
    /// (key, what is wrong) for each value outside what the voice can use.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if !(1..=16).contains(&self.threads) {
            p.push(("threads", format!("{} threads: use 1 to 16", self.threads)));
        }
        if !(0.5..=2.0).contains(&self.speaking_rate) {
            p.push(("speaking_rate", format!("{} is outside 0.5 (fast) to 2.0 (slow)", self.speaking_rate)));
        }
        if self.sentence_silence_ms > 2000 {
            p.push(("sentence_silence_ms", "at most 2000 ms".into()));
        }
        p
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsSection {
    /// sha256sum-format list of the model files this box may load.
    #[serde(default = "default_checksums")]
    pub checksums: PathBuf,
}

impl Default for ModelsSection {
    fn default() -> Self {
        ModelsSection { checksums: default_checksums() }
    }
}

fn default_checksums() -> PathBuf {
    "/var/lib/frontdesk/models/SHA256SUMS".into()
}
