//! Local speech: Whisper speech to text, Piper text to speech, and what they need around them
//! (text made speakable, model import and checks).

pub mod ct2;
pub mod ggml_quantize;
pub mod mel;
pub mod models;
pub mod normalize;
pub mod phonemize;
pub mod settings;
pub mod stt;
pub mod tts;
pub mod wer;
pub mod whisper_import;
