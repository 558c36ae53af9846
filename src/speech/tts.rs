//! Piper text to speech: espeak-ng phonemes -> VITS ONNX model through ONNX Runtime.
//!
//! Synthesis runs sentence by sentence because a VITS model's cost grows with the input: the first
//! sentence of a reply can be playing while the rest is computed (a short first sentence is ready
//! in tens of milliseconds, a whole paragraph would take hundreds).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;

use super::phonemize::{PhonemizeError, Phonemizer};

#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error(
        "ONNX Runtime library not found at {0}: run `make models` (it unpacks libonnxruntime from the onnxruntime wheel) or set speech.onnxruntime in the config"
    )]
    RuntimeMissing(String),
    #[error("cannot load ONNX Runtime from {path}: {reason}; it must be version 1.31 or a compatible build")]
    RuntimeLoad { path: String, reason: String },
    #[error("voice model {0} not found: run `make models` or set tts.voice in the config")]
    VoiceMissing(String),
    #[error("voice config {path} is unreadable: {reason} (it must be the .onnx.json file shipped with the voice)")]
    VoiceConfig { path: String, reason: String },
    #[error(
        "voice model {path} could not be loaded: {reason} (the file is corrupt or not a Piper voice; run `make models` to fetch it again)"
    )]
    VoiceLoad { path: String, reason: String },
    #[error("{0}")]
    Phonemize(#[from] PhonemizeError),
    #[error("synthesis failed: {0}")]
    Inference(String),
}

/// The parts of a Piper voice's `.onnx.json` that synthesis needs.
#[derive(Debug, Clone, Deserialize)]
pub struct VoiceConfig {
    pub audio: AudioSection,
    pub espeak: EspeakSection,
    pub inference: InferenceSection,
    pub phoneme_id_map: HashMap<String, Vec<i64>>,
    #[serde(default)]
    pub num_speakers: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AudioSection {
    pub sample_rate: u32,
}
#[derive(Debug, Clone, Deserialize)]
pub struct EspeakSection {
    pub voice: String,
}
#[derive(Debug, Clone, Deserialize)]
pub struct InferenceSection {
    pub noise_scale: f32,
    pub length_scale: f32,
    pub noise_w: f32,
}

/// Settings for loading a voice.
#[derive(Debug, Clone)]
pub struct TtsSettings {
    pub voice: PathBuf,
    pub onnxruntime: PathBuf,
    pub espeak_data: Option<PathBuf>,
    pub threads: usize,
    /// Multiplies the voice's length_scale: above 1 speaks slower, which helps on a phone line.
    pub speaking_rate: f32,
    /// Silence between sentences, as Piper inserts.
    pub sentence_silence_ms: u32,
    /// Piper's random variation (its noise inputs); false: the same text always gives the
    /// same audio.
    pub variation: bool,
}

static ORT_ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Loads ONNX Runtime once per process. ort's plain `init()` panics when the library is missing,
/// so the file is checked first and then loaded with `init_from`, which returns errors.
fn runtime(path: &Path) -> Result<&'static ort::environment::Environment, TtsError> {
    if !path.is_file() {
        return Err(TtsError::RuntimeMissing(path.display().to_string()));
    }
    let env = ORT_ENV.get_or_init(|| {
        let builder = ort::init_from(path).map_err(|e| e.to_string())?;
        builder.with_name("frontdesk").build().map_err(|e| e.to_string())
    });
    env.as_ref().map_err(|reason| TtsError::RuntimeLoad { path: path.display().to_string(), reason: reason.clone() })
}

/// A loaded voice. Sessions need `&mut` to run, so calls from several threads take turns; the
/// call engine keeps synthesis off the RTP clock thread anyway.
pub struct Voice {
    session: Mutex<Session>,
    config: VoiceConfig,
    phonemizer: Phonemizer,
    settings: TtsSettings,
}

/// One sentence of synthesised audio at the voice's sample rate, samples in [-1, 1].
#[derive(Debug, Clone)]
pub struct SentenceAudio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl Voice {
    pub fn load(settings: &TtsSettings) -> Result<Self, TtsError> {
        let voice_path = &settings.voice;
        if !voice_path.is_file() {
            return Err(TtsError::VoiceMissing(voice_path.display().to_string()));
        }
        let json_path = PathBuf::from(format!("{}.json", voice_path.display()));
        let config_err = |reason: String| TtsError::VoiceConfig { path: json_path.display().to_string(), reason };
        let text = std::fs::read_to_string(&json_path).map_err(|e| config_err(e.to_string()))?;
        let config: VoiceConfig = serde_json::from_str(&text).map_err(|e| config_err(e.to_string()))?;
        if config.num_speakers > 1 {
            return Err(config_err("multi-speaker voices are not supported yet".into()));
        }
        let data = super::phonemize::find_data_dir(settings.espeak_data.as_deref())?;
        let phonemizer = Phonemizer::new(&data, &config.espeak.voice)?;
        let env = runtime(&settings.onnxruntime)?;
        let load_err = |reason: String| TtsError::VoiceLoad { path: voice_path.display().to_string(), reason };
        // No CPU memory arena: the arena keeps, for the life of the process, as much as the
        // longest sentence ever synthesised needed (its scratch grows with the sentence: about
        // 300 MiB resident after the prompts were synthesised at start, in regions that double).
        // Without it, a run's tensors go back to malloc, which the daemon trims when idle
        // (`daemon::release_free_memory`). A short sentence is as fast; a long one 17-40 %
        // slower, its tensors being mapped afresh each run (BENCHMARKS.md, Memory).
        let session = Session::builder(env)
            .map_err(|e| load_err(e.to_string()))?
            .with_execution_providers([ort::ep::CPU::default().with_arena_allocator(false).build()])
            .map_err(|e| load_err(e.to_string()))?
            .with_intra_threads(settings.threads.max(1))
            .map_err(|e| load_err(e.to_string()))?
            .commit_from_file(voice_path)
            .map_err(|e| load_err(e.to_string()))?;
        let voice = Voice { session: Mutex::new(session), config, phonemizer, settings: settings.clone() };
        Ok(if settings.variation { voice } else { voice.without_variation() })
    }

    pub fn sample_rate(&self) -> u32 {
        self.config.audio.sample_rate
    }

    /// What the same text sounds like depends on: the voice file (by path, size and change
    /// time: hashing 60 MB at every start would cost more than it saves), the pace settings and
    /// the voice's inference scales. Keys the prompts kept on disk between starts.
    pub fn identity(&self) -> String {
        let meta = std::fs::metadata(&self.settings.voice).ok();
        let changed = meta.as_ref().and_then(|m| m.modified().ok()).and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let i = &self.config.inference;
        format!(
            "{}|{}|{:?}|{}|{}|{}|{}|{}",
            self.settings.voice.display(),
            meta.map(|m| m.len()).unwrap_or(0),
            changed.map(|d| d.as_nanos()).unwrap_or(0),
            self.settings.speaking_rate,
            self.settings.sentence_silence_ms,
            i.noise_scale,
            i.length_scale,
            i.noise_w
        )
    }

    /// Turns off the voice's random variation (Piper's noise inputs), so the same text always
    /// gives the same audio: a reproducible caller for `simulate --audio` and end-to-end tests.
    pub fn without_variation(mut self) -> Self {
        self.config.inference.noise_scale = 0.0;
        self.config.inference.noise_w = 0.0;
        self
    }

    /// Piper's id sequence: BOS, pad, then each phoneme followed by pad, then EOS. Phonemes the
    /// voice does not know are skipped, as Piper does.
    pub fn phoneme_ids(&self, phonemes: &str) -> Vec<i64> {
        use unicode_normalization::UnicodeNormalization;
        let map = &self.config.phoneme_id_map;
        let id = |s: &str| map.get(s).and_then(|v| v.first().copied());
        let (bos, eos, pad) = (id("^").unwrap_or(1), id("$").unwrap_or(2), id("_").unwrap_or(0));
        let mut ids = vec![bos, pad];
        let mut buf = [0u8; 4];
        for ch in phonemes.nfd() {
            if let Some(v) = map.get(ch.encode_utf8(&mut buf) as &str) {
                ids.extend_from_slice(v);
                ids.push(pad);
            }
        }
        ids.push(eos);
        ids
    }

    /// Synthesises `text` sentence by sentence, handing each sentence to `on_sentence` as soon as
    /// it is ready. Return `false` from the callback to stop early (the caller barged in).
    pub fn synthesize_streaming(&self, text: &str, mut on_sentence: impl FnMut(SentenceAudio) -> bool) -> Result<(), TtsError> {
        // Every path to the voice goes through the normaliser, so "Dr.", dates and phone numbers
        // are read the way a caller expects whoever wrote the text.
        let spoken = super::normalize::speakable(text);
        let sentences = self.phonemizer.sentences(&spoken)?;
        let silence = (self.sample_rate() as u64 * self.settings.sentence_silence_ms as u64 / 1000) as usize;
        let last = sentences.len().saturating_sub(1);
        let rate = self.sample_rate() as usize;
        for (i, phonemes) in sentences.iter().enumerate() {
            let mut samples = self.infer(&self.phoneme_ids(phonemes))?;
            // The voice pads each sentence with 30-70 ms of near-silence before the first sound
            // and up to 280 ms after the last: at the ends of a reply that is only time the
            // caller waits for us, or we make them wait before we listen.
            let lead = (i == 0).then_some(rate * LEAD_KEPT_MS / 1000);
            let tail = (i == last).then_some(rate * TAIL_KEPT_MS / 1000);
            trim_quiet(&mut samples, lead, tail);
            if i < last {
                samples.extend(std::iter::repeat_n(0.0, silence));
            }
            if !on_sentence(SentenceAudio { samples, sample_rate: self.sample_rate() }) {
                break;
            }
        }
        Ok(())
    }

    /// Whole-text synthesis, for prompts and files.
    pub fn synthesize(&self, text: &str) -> Result<SentenceAudio, TtsError> {
        let mut all = Vec::new();
        self.synthesize_streaming(text, |s| {
            all.extend_from_slice(&s.samples);
            true
        })?;
        Ok(SentenceAudio { samples: all, sample_rate: self.sample_rate() })
    }

    fn infer(&self, ids: &[i64]) -> Result<Vec<f32>, TtsError> {
        let err = |e: ort::Error| TtsError::Inference(e.to_string());
        let inf = &self.config.inference;
        let n = ids.len();
        let input = Tensor::from_array(([1usize, n], ids.to_vec())).map_err(err)?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(err)?;
        let scales = Tensor::from_array(([3usize], vec![inf.noise_scale, inf.length_scale * self.settings.speaking_rate, inf.noise_w]))
            .map_err(err)?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session.run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales]).map_err(err)?;
        let (_, audio) = outputs[0].try_extract_tensor::<f32>().map_err(err)?;
        Ok(normalise_peak(audio))
    }
}

/// Quiet kept before a reply's first sound: a soft onset below the threshold survives.
const LEAD_KEPT_MS: usize = 20;
/// Quiet kept after a reply's last sound: its decay, and a beat before we listen.
const TAIL_KEPT_MS: usize = 80;
/// Below this (-40 dB under the normalised peak) a sample is quiet.
const QUIET: f32 = 0.01;

/// Cuts quiet from the start down to `lead` samples and from the end down to `tail` samples
/// (`None` leaves that end alone). Audio with no sound at all is left as it is.
fn trim_quiet(samples: &mut Vec<f32>, lead: Option<usize>, tail: Option<usize>) {
    let loud = |x: &f32| x.abs() > QUIET;
    let (Some(first), Some(last)) = (samples.iter().position(loud), samples.iter().rposition(loud)) else {
        return;
    };
    if let Some(tail) = tail {
        samples.truncate((last + 1 + tail).min(samples.len()));
    }
    if let Some(lead) = lead {
        samples.drain(..first.saturating_sub(lead));
    }
}

/// Piper scales each sentence to full range; we stop just short of it so the telephone-band
/// resampler (which adds its own headroom) never has to clip.
fn normalise_peak(audio: &[f32]) -> Vec<f32> {
    let peak = audio.iter().fold(0.0f32, |m, &x| m.max(x.abs())).max(0.01);
    let gain = 0.95 / peak;
    audio.iter().map(|&x| (x * gain).clamp(-1.0, 1.0)).collect()
}

/// Fixed prompts (greeting, hold message, goodbyes) synthesised once and reused, so a greeting
/// costs nothing when a call arrives. Keyed by the exact text; VITS sampling is random, so a cached
/// prompt also sounds the same on every call, which callers expect of a greeting.
pub struct PromptCache {
    voice: Arc<Voice>,
    entries: Mutex<HashMap<String, Arc<SentenceAudio>>>,
}

impl PromptCache {
    pub fn new(voice: Arc<Voice>) -> Self {
        PromptCache { voice, entries: Mutex::new(HashMap::new()) }
    }

    /// The audio for `text`, synthesised on first use.
    pub fn get(&self, text: &str) -> Result<Arc<SentenceAudio>, TtsError> {
        if let Some(hit) = self.entries.lock().unwrap_or_else(|p| p.into_inner()).get(text) {
            return Ok(hit.clone());
        }
        let audio = Arc::new(self.voice.synthesize(text)?);
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).insert(text.to_string(), audio.clone());
        Ok(audio)
    }

    /// Synthesises every prompt now (at start-up), so the first caller does not wait.
    pub fn warm<'a>(&self, prompts: impl IntoIterator<Item = &'a str>) -> Result<usize, TtsError> {
        let mut n = 0;
        for p in prompts {
            self.get(p)?;
            n += 1;
        }
        Ok(n)
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::trim_quiet;

    fn sound(lead: usize, body: usize, tail: usize) -> Vec<f32> {
        let mut v = vec![0.001; lead];
        v.extend((0..body).map(|i| if i % 2 == 0 { 0.5 } else { -0.5 }));
        v.extend(vec![0.002; tail]);
        v
    }

    #[test]
    fn quiet_ends_are_cut_to_what_is_kept() {
        let mut v = sound(500, 100, 2000);
        trim_quiet(&mut v, Some(20), Some(80));
        assert_eq!(v.len(), 20 + 100 + 80);
        assert_eq!(v[20], 0.5);
    }

    #[test]
    fn a_middle_sentence_keeps_both_ends_and_short_ends_are_not_padded() {
        let mut v = sound(500, 100, 2000);
        trim_quiet(&mut v, None, None);
        assert_eq!(v.len(), 2600);
        let mut v = sound(5, 100, 10);
        trim_quiet(&mut v, Some(20), Some(80));
        assert_eq!(v.len(), 115);
    }

    #[test]
    fn silence_is_left_alone() {
        let mut v = vec![0.0; 300];
        trim_quiet(&mut v, Some(20), Some(80));
        assert_eq!(v.len(), 300);
    }
}
