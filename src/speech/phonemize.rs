//! Text to IPA phonemes with libespeak-ng, split the way Piper splits them.
//!
//! Piper voices were trained on espeak-ng's IPA output with Piper's own clause handling: each
//! clause's phonemes, then the clause's punctuation as a phoneme (`.?!` end a sentence, `,:;` are
//! followed by a space). Stock libespeak-ng does not report the punctuation that ended a clause,
//! so it is recovered from the input text: `espeak_TextToPhonemes` advances the text pointer one
//! character past the clause, which is dropped before looking for the terminator.
//!
//! libespeak-ng keeps global state and is not thread-safe, hence one process-wide lock.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

// SAFETY: these match espeak-ng's speak_lib.h (1.51+); every call site holds the engine lock.
#[link(name = "espeak-ng")]
unsafe extern "C" {
    fn espeak_Initialize(output: c_int, buflength: c_int, path: *const c_char, options: c_int) -> c_int;
    fn espeak_SetVoiceByName(name: *const c_char) -> c_int;
    fn espeak_TextToPhonemes(textptr: *mut *const c_void, textmode: c_int, phonememode: c_int) -> *const c_char;
}

const AUDIO_OUTPUT_RETRIEVAL: c_int = 1;
/// Without this flag espeak-ng calls exit() when its data cannot be loaded.
const ESPEAK_INITIALIZE_DONT_EXIT: c_int = 0x8000;
const ESPEAK_CHARS_UTF8: c_int = 1;
const ESPEAK_PHONEMES_IPA: c_int = 0x02;

/// Where Debian and Yocto put the data; the config may name another.
pub const DEFAULT_DATA_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/espeak-ng-data",
    "/usr/lib/aarch64-linux-gnu/espeak-ng-data",
    "/usr/lib/arm-linux-gnueabihf/espeak-ng-data",
    "/usr/share/espeak-ng-data",
    "/usr/lib/espeak-ng-data",
];

#[derive(Debug, thiserror::Error, Clone)]
pub enum PhonemizeError {
    #[error("espeak-ng data not found at {0}: install it (Debian: apt-get install espeak-ng-data) or set speech.espeak_data in the config")]
    DataMissing(String),
    #[error("espeak-ng failed to initialise with data {0}")]
    Init(String),
    #[error("espeak-ng has no voice {0:?}; check the Piper voice's espeak.voice setting")]
    Voice(String),
    #[error("text contains a NUL byte")]
    Nul,
}

/// How a clause ended, as Piper encodes it in the phoneme stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terminator {
    Period,
    Question,
    Exclamation,
    Comma,
    Colon,
    Semicolon,
    None,
}

impl Terminator {
    fn from_clause(clause: &str) -> Self {
        match clause.trim_end().chars().last() {
            Some('.') | Some('…') => Terminator::Period,
            Some('?') => Terminator::Question,
            Some('!') => Terminator::Exclamation,
            Some(',') => Terminator::Comma,
            Some(':') => Terminator::Colon,
            Some(';') => Terminator::Semicolon,
            _ => Terminator::None,
        }
    }

    pub fn ends_sentence(self) -> bool {
        matches!(self, Terminator::Period | Terminator::Question | Terminator::Exclamation)
    }

    /// Phonemes Piper appends for this terminator.
    pub fn phonemes(self) -> &'static str {
        match self {
            Terminator::Period => ".",
            Terminator::Question => "?",
            Terminator::Exclamation => "!",
            Terminator::Comma => ", ",
            Terminator::Colon => ": ",
            Terminator::Semicolon => "; ",
            Terminator::None => "",
        }
    }
}

struct Engine {
    voice: Option<String>,
}

static ENGINE: OnceLock<Result<Mutex<Engine>, PhonemizeError>> = OnceLock::new();
static ENGINE_DATA: OnceLock<PathBuf> = OnceLock::new();

/// Finds the espeak-ng data directory: the configured one, else the first of the usual places.
pub fn find_data_dir(configured: Option<&Path>) -> Result<PathBuf, PhonemizeError> {
    let candidates: Vec<PathBuf> = match configured {
        Some(p) => vec![p.to_path_buf()],
        None => DEFAULT_DATA_DIRS.iter().map(PathBuf::from).collect(),
    };
    // espeak-ng silently uses its compiled-in default when a path lacks its data, so check the
    // files it needs ourselves rather than trust its return value.
    candidates
        .iter()
        .find(|d| d.join("phontab").is_file() && d.join("en_dict").is_file())
        .cloned()
        .ok_or_else(|| PhonemizeError::DataMissing(candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" or ")))
}

/// A handle to the process-wide espeak-ng instance.
#[derive(Clone, Debug)]
pub struct Phonemizer {
    voice: String,
}

impl Phonemizer {
    /// Initialises espeak-ng once per process; later calls must name the same data directory.
    pub fn new(data_dir: &Path, voice: &str) -> Result<Self, PhonemizeError> {
        let data = data_dir.to_path_buf();
        let engine = ENGINE.get_or_init(|| {
            let c_path = CString::new(data.to_string_lossy().as_bytes()).map_err(|_| PhonemizeError::Nul)?;
            // SAFETY: called once, under OnceLock, with a valid C string.
            let rate = unsafe { espeak_Initialize(AUDIO_OUTPUT_RETRIEVAL, 0, c_path.as_ptr(), ESPEAK_INITIALIZE_DONT_EXIT) };
            if rate <= 0 {
                return Err(PhonemizeError::Init(data.display().to_string()));
            }
            let _ = ENGINE_DATA.set(data.clone());
            Ok(Mutex::new(Engine { voice: None }))
        });
        let engine = engine.as_ref().map_err(|e| e.clone())?;
        let ph = Phonemizer { voice: voice.to_string() };
        // Select the voice once now so a bad voice name fails at load, not mid-call.
        let mut guard = engine.lock().unwrap_or_else(|p| p.into_inner());
        ph.select_voice(&mut guard)?;
        Ok(ph)
    }

    fn select_voice(&self, engine: &mut Engine) -> Result<(), PhonemizeError> {
        if engine.voice.as_deref() == Some(self.voice.as_str()) {
            return Ok(());
        }
        let name = CString::new(self.voice.as_bytes()).map_err(|_| PhonemizeError::Nul)?;
        // SAFETY: the engine lock is held; name is a valid C string.
        if unsafe { espeak_SetVoiceByName(name.as_ptr()) } != 0 {
            engine.voice = None;
            return Err(PhonemizeError::Voice(self.voice.clone()));
        }
        engine.voice = Some(self.voice.clone());
        Ok(())
    }

    /// Phonemes of `text`, one string per sentence, with Piper's punctuation phonemes.
    pub fn sentences(&self, text: &str) -> Result<Vec<String>, PhonemizeError> {
        let c_text = CString::new(text.as_bytes()).map_err(|_| PhonemizeError::Nul)?;
        let engine = ENGINE.get().and_then(|e| e.as_ref().ok()).ok_or(PhonemizeError::Init("not initialised".into()))?;
        let mut guard = engine.lock().unwrap_or_else(|p| p.into_inner());
        self.select_voice(&mut guard)?;

        let bytes = c_text.as_bytes();
        let base = c_text.as_ptr() as usize;
        let mut ptr: *const c_void = c_text.as_ptr() as *const c_void;
        let mut sentences = Vec::new();
        let mut current = String::new();
        while !ptr.is_null() {
            let start = ptr as usize - base;
            // SAFETY: ptr points into c_text, which outlives the loop; espeak-ng advances it
            // within the string or sets it to NULL at the end, and returns a static buffer that
            // is copied before the next call.
            let phonemes = unsafe {
                let out = espeak_TextToPhonemes(&mut ptr, ESPEAK_CHARS_UTF8, ESPEAK_PHONEMES_IPA);
                if out.is_null() { String::new() } else { CStr::from_ptr(out).to_string_lossy().into_owned() }
            };
            let end = if ptr.is_null() { bytes.len() } else { (ptr as usize - base).min(bytes.len()) };
            let clause = clause_text(bytes, start, end, ptr.is_null());
            let terminator = Terminator::from_clause(&clause);
            current.push_str(phonemes.trim());
            current.push_str(terminator.phonemes());
            if terminator.ends_sentence() {
                push_sentence(&mut sentences, &mut current);
            }
        }
        push_sentence(&mut sentences, &mut current);
        Ok(sentences)
    }
}

/// The clause's own text: espeak-ng has consumed one character beyond it unless it hit the end.
fn clause_text(bytes: &[u8], start: usize, end: usize, at_end: bool) -> String {
    let slice = &bytes[start.min(end)..end];
    let text = String::from_utf8_lossy(slice);
    if at_end {
        return text.into_owned();
    }
    let mut chars = text.chars();
    chars.next_back();
    chars.as_str().to_string()
}

fn push_sentence(sentences: &mut Vec<String>, current: &mut String) {
    let s = current.trim().to_string();
    if !s.is_empty() && s.chars().any(|c| c.is_alphabetic()) {
        sentences.push(s);
    }
    current.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phonemizer() -> Phonemizer {
        let dir = find_data_dir(None).expect("espeak-ng-data is installed by make deps");
        Phonemizer::new(&dir, "en-us").unwrap()
    }

    #[test]
    fn splits_sentences_and_keeps_terminators() {
        let s = phonemizer().sentences("Hello there, how are you? I am fine. Thanks!").unwrap();
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[0].contains(", "), "{}", s[0]);
        assert!(s[0].ends_with('?'));
        assert!(s[1].ends_with('.'));
        assert!(s[2].ends_with('!'));
        assert!(s[0].starts_with("h"), "{}", s[0]);
    }

    #[test]
    fn text_without_final_punctuation_is_one_sentence() {
        let s = phonemizer().sentences("good morning").unwrap();
        assert_eq!(s.len(), 1);
        assert!(!s[0].ends_with('.'));
    }

    #[test]
    fn empty_and_punctuation_only_give_nothing() {
        let p = phonemizer();
        assert!(p.sentences("").unwrap().is_empty());
        assert!(p.sentences("   ").unwrap().is_empty());
        assert!(p.sentences("...").unwrap().is_empty());
    }

    #[test]
    fn bad_voice_and_missing_data_are_clear_errors() {
        let _ = phonemizer();
        let err = Phonemizer::new(&find_data_dir(None).unwrap(), "no-such-voice-xx").unwrap_err();
        assert!(err.to_string().contains("no voice"), "{err}");
        let err = find_data_dir(Some(Path::new("/nonexistent/espeak"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/espeak"), "{err}");
        assert!(err.to_string().contains("apt-get install espeak-ng-data"));
    }
}
