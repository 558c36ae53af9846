//! The one configuration file (`/etc/frontdesk/frontdesk.toml` on a box).
//!
//! It is edited by hand by a clinic manager, so every mistake is reported as
//! `file:line: key: what is wrong`, unknown keys are errors (a misspelt key silently ignored is
//! a setting that does not take effect), and relative paths are taken from the config file's own
//! directory so the file means the same thing whoever starts the daemon from wherever.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::call::apps::{AnnounceSection, App, TransferSection};
use crate::call::script::{ClinicSection, PromptsSection, ScriptConfig};
use crate::daemon::answer::AnswerSection;
use crate::logging::LoggingSection;
use crate::rtp::settings::RtpSection;
use crate::sip::settings::{RegistrationSection, SipSection};
use crate::speech::settings::{ModelsSection, SpeechSection, SttSection, TtsSection};
use crate::speech::stt::SttSettings;
use crate::speech::tts::TtsSettings;
use crate::store::recording::RecordingSection;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub clinic: ClinicSection,
    #[serde(default)]
    pub speech: SpeechSection,
    #[serde(default)]
    pub stt: SttSection,
    #[serde(default)]
    pub tts: TtsSection,
    #[serde(default)]
    pub prompts: PromptsSection,
    #[serde(default)]
    pub models: ModelsSection,
    #[serde(default)]
    pub logging: LoggingSection,
    /// Which app answers, per line and per dialled number.
    #[serde(default)]
    pub answer: AnswerSection,
    /// The SIP line; without it the daemon runs no telephone line.
    pub sip: Option<SipSection>,
    /// Analog lines through FXO interfaces, by name: `[fxo.front]`, `[fxo.back]`.
    #[serde(default)]
    pub fxo: std::collections::BTreeMap<String, crate::fxo::settings::FxoSection>,
    /// Register with a PBX or trunk so it sends calls here.
    pub registration: Option<RegistrationSection>,
    #[serde(default)]
    pub rtp: RtpSection,
    /// Settings of the built-in `announce` app.
    #[serde(default)]
    pub announce: AnnounceSection,
    /// Where callers who ask for a person are transferred (and the built-in `transfer` app).
    #[serde(default)]
    pub transfer: TransferSection,
    #[serde(default)]
    pub hours: crate::call::script::HoursSection,
    /// Answers to frequent questions, by topic; merged over the built-in ones.
    #[serde(default)]
    pub faq: std::collections::BTreeMap<String, crate::call::script::FaqEntry>,
    /// What each kind of request collects; replaces the built-in flow of the same name.
    #[serde(default)]
    pub intents: std::collections::BTreeMap<String, crate::call::script::IntentFlow>,
    /// How each detail is asked for; replaces the built-in questions of the same name.
    #[serde(default)]
    pub slots: std::collections::BTreeMap<String, crate::call::script::SlotPrompts>,
    #[serde(default)]
    pub conversation: crate::call::script::ConversationSection,
    #[serde(default)]
    pub emergency: crate::call::script::EmergencySection,
    #[serde(default)]
    pub store: crate::store::StoreSection,
    #[serde(default)]
    pub retention: crate::store::retention::RetentionSection,
    #[serde(default)]
    pub recording: RecordingSection,
    /// The optional language model.
    #[serde(default)]
    pub assist: crate::assist::settings::AssistSection,
    /// The Prometheus endpoint for monitoring (off unless `listen` is set).
    #[serde(default)]
    pub metrics: crate::daemon::metrics::MetricsSection,
    /// The staff web inbox (off unless configured).
    pub web: Option<crate::web::WebSection>,
    /// Directory of the config file; relative paths are resolved against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    #[serde(skip)]
    pub path: PathBuf,
}

/// One problem in the file, located for a person with an editor.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// All the problems found, so one edit-check cycle fixes them all.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl Config {
    /// The requests the script takes (the built-in ones and `[intents.NAME]`), by flow name:
    /// what staff choose from when they search (the web inbox).
    pub fn request_names(&self) -> Vec<String> {
        crate::call::flow::Script::new(&self.script()).flows.keys().cloned().collect()
    }

    /// The de-identifier for what may go to a language model: common English plus the words
    /// this clinic's script uses (FAQ topics and phrases, request phrases, the clinic's name)
    /// and `[assist] vocabulary`.
    pub fn redactor(&self) -> crate::assist::redact::Redactor {
        let mut words: Vec<&str> = vec![self.clinic.name.as_str()];
        for (topic, faq) in &self.faq {
            words.push(topic);
            words.extend(faq.phrases.iter().map(String::as_str));
        }
        for (name, flow) in &self.intents {
            words.push(name);
            words.extend(flow.phrases.iter().map(String::as_str));
        }
        words.extend(self.assist.vocabulary.iter().map(String::as_str));
        words.extend(crate::speech::stt::COMMON_MEDICATIONS);
        crate::assist::redact::Redactor::new(words)
    }

    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError { file: file.clone(), line: None, key: None, message: format!("cannot read: {e}") }])
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, &file, &base)
    }

    pub fn parse(text: &str, file: &str, base_dir: &Path) -> Result<Self, ConfigErrors> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigErrors(vec![syntax_error(text, file, &e)]))?;
        config.base_dir = base_dir.to_path_buf();
        config.path = PathBuf::from(file);
        // Relative files are the config directory's, checked and used as such.
        if let Some(t) = config.sip.as_mut().and_then(|s| s.tls.as_mut()) {
            for p in [&mut t.certificate, &mut t.key] {
                if p.is_relative() {
                    *p = base_dir.join(&*p);
                }
            }
        }
        if let Some(w) = config.web.as_mut() {
            for p in [&mut w.certificate, &mut w.key] {
                if p.is_relative() {
                    *p = base_dir.join(&*p);
                }
            }
        }
        if let Some(ca) = config.registration.as_mut().and_then(|r| r.tls_ca.as_mut())
            && ca.is_relative()
        {
            *ca = base_dir.join(&*ca);
        }
        let errors = config.validate(text, file);
        if errors.is_empty() { Ok(config) } else { Err(ConfigErrors(errors)) }
    }

    fn validate(&self, text: &str, file: &str) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let mut check = |ok: bool, section: &str, key: &str, message: String| {
            if !ok {
                errors.push(ConfigError {
                    file: file.to_string(),
                    line: find_key_line(text, section, key),
                    key: Some(format!("{section}.{key}")),
                    message,
                });
            }
        };
        // Each section checks its own values; here they are put together and located.
        let sections: [(&str, Vec<(&'static str, String)>); 7] = [
            ("assist", self.assist.problems()),
            ("stt", self.stt.problems()),
            ("tts", self.tts.problems()),
            ("rtp", self.rtp.problems()),
            ("logging", self.logging.problems()),
            ("recording", self.recording.problems()),
            ("answer", self.answer.problems()),
        ];
        for (section, problems) in sections {
            for (key, message) in problems {
                check(false, section, key, message);
            }
        }
        for (key, message) in self.sip.as_ref().map(|s| s.problems()).unwrap_or_default() {
            check(false, "sip", key, message);
        }
        for (name, line) in &self.fxo {
            for (key, message) in line.problems() {
                check(false, &format!("fxo.{name}"), key, message);
            }
        }
        for (key, message) in self.registration.as_ref().map(|r| r.problems()).unwrap_or_default() {
            check(false, "registration", key, message);
        }
        for (key, message) in self.web.as_ref().map(|w| w.problems()).unwrap_or_default() {
            check(false, "web", key, message);
        }
        for (section, key, message) in self.script().problems() {
            check(false, &section, &key, message);
        }
        // What only the whole file can tell: sections that need each other.
        check(self.registration.is_none() || self.sip.is_some(), "registration", "registrar", "registration needs a [sip] section".into());
        for (section, key, app) in self.answer.routes() {
            check(
                app != App::Transfer || self.transfer.target.is_some(),
                &section,
                &key,
                "the transfer app needs [transfer] target".into(),
            );
        }
        check(
            !self.resolve(&self.store.key_file).starts_with(self.resolve(&self.store.data_dir)),
            "store",
            "key_file",
            "keep the master key outside the data directory, or a copy of the data is a copy of the key".into(),
        );
        errors
    }

    /// The box's calls in progress, shared by every line: `sip.max_calls` (4 without [sip]).
    pub fn call_slots(&self) -> crate::line::CallSlots {
        crate::line::CallSlots::new(self.sip.as_ref().map_or(4, |s| s.max_calls))
    }

    /// The analog line `[fxo.NAME]`'s settings.
    pub fn fxo_line(&self, name: &str) -> Option<crate::fxo::line::FxoConfig> {
        self.fxo.get(name).map(|s| s.line_config(name, |p| self.resolve(p)))
    }

    /// The conversation's sections, for `call::flow::Script::new`.
    pub fn script(&self) -> ScriptConfig {
        ScriptConfig {
            clinic: self.clinic.clone(),
            prompts: self.prompts.clone(),
            hours: self.hours.clone(),
            faq: self.faq.clone(),
            intents: self.intents.clone(),
            slots: self.slots.clone(),
            conversation: self.conversation.clone(),
            emergency: self.emergency.clone(),
            transfer_target: self.transfer.target.clone(),
            min_confidence: self.stt.min_confidence,
        }
    }

    /// A path from the file, made absolute against the file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.base_dir.join(p) }
    }

    pub fn store_settings(&self) -> crate::store::StoreSettings {
        crate::store::StoreSettings { data_dir: self.resolve(&self.store.data_dir), key_file: self.resolve(&self.store.key_file) }
    }

    pub fn stt_settings(&self) -> SttSettings {
        SttSettings {
            model: self.resolve(&self.stt.model),
            threads: self.stt.threads,
            language: self.stt.language.clone(),
            audio_context: self.stt.audio_context.resolve(),
            min_confidence: self.stt.min_confidence,
            vocabulary: self.stt.vocabulary.clone(),
        }
    }

    pub fn tts_settings(&self) -> TtsSettings {
        TtsSettings {
            voice: self.resolve(&self.tts.voice),
            onnxruntime: self.onnxruntime_path(),
            espeak_data: self.speech.espeak_data.as_ref().map(|p| self.resolve(p)),
            threads: self.tts.threads,
            speaking_rate: self.tts.speaking_rate,
            sentence_silence_ms: self.tts.sentence_silence_ms,
            variation: self.tts.variation,
        }
    }

    /// The configured ONNX Runtime, else the one `make models` unpacks beside the voice.
    pub fn onnxruntime_path(&self) -> PathBuf {
        match &self.speech.onnxruntime {
            Some(p) => self.resolve(p),
            None => self
                .resolve(&self.tts.voice)
                .parent()
                .map(|d| d.join("onnxruntime").join("libonnxruntime.so"))
                .unwrap_or_else(|| PathBuf::from("libonnxruntime.so")),
        }
    }

    /// Every model file the speech sections name, checked against `[models] checksums`.
    pub fn model_check(&self) -> Result<Vec<crate::speech::models::ModelCheck>, String> {
        crate::speech::models::check(&self.stt_settings(), &self.tts_settings(), &self.checksums_path())
    }

    pub fn checksums_path(&self) -> PathBuf {
        self.resolve(&self.models.checksums)
    }
}

fn syntax_error(text: &str, file: &str, e: &toml::de::Error) -> ConfigError {
    let (line, key) = match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            (Some(line), key_at_line(text, line))
        }
        None => (None, None),
    };
    ConfigError { file: file.to_string(), line, key, message: e.message().trim().to_string() }
}

/// `section.key` for the key defined on `line` (1-based), from the nearest table header above.
fn key_at_line(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let this = lines.get(line.checked_sub(1)?)?.trim();
    let key = this.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_string());
    let section = lines[..line - 1].iter().rev().find_map(|l| table_header(l));
    match (section, key) {
        (Some(s), Some(k)) => Some(format!("{s}.{k}")),
        (None, Some(k)) => Some(k),
        (Some(s), None) if this.starts_with('[') => Some(s),
        _ => table_header(this),
    }
}

fn table_header(line: &str) -> Option<String> {
    let l = line.trim();
    let inner = l.strip_prefix('[')?.split(']').next()?;
    Some(inner.trim_matches(|c| c == '[' || c == ' ').to_string())
}

/// The line where `key` is set inside `[section]` (or where the table `[section.key]`
/// starts), for errors found after parsing.
fn find_key_line(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    let table = format!("{section}.{key}");
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = table_header(line) {
            if h == table {
                return Some(i + 1);
            }
            current = h;
            continue;
        }
        if current == section
            && let Some((k, _)) = line.split_once('=')
            && k.trim().trim_matches('"') == key
        {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speech::stt::AudioContext;

    fn parse(text: &str) -> Result<Config, ConfigErrors> {
        Config::parse(text, "test.toml", Path::new("/etc/frontdesk"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.stt.threads, 2);
        assert_eq!(c.stt.audio_context.resolve(), AudioContext::Sized);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse("[stt]\nthreads = 2\nmodle = \"x.bin\"\n").unwrap_err();
        let e = &err.0[0];
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("stt.modle"));
        assert!(e.message.contains("unknown field"), "{}", e.message);
        assert!(err.to_string().starts_with("test.toml:3: stt.modle: "), "{err}");
    }

    #[test]
    fn wrong_type_names_file_line_and_key() {
        let err = parse("[clinic]\nname = \"X\"\n\n[tts]\nthreads = \"two\"\n").unwrap_err();
        assert_eq!(err.0[0].line, Some(5));
        assert_eq!(err.0[0].key.as_deref(), Some("tts.threads"));
    }

    #[test]
    fn syntax_error_has_a_line() {
        let err = parse("[stt]\nthreads = \n").unwrap_err();
        assert_eq!(err.0[0].line, Some(2));
    }

    #[test]
    fn bad_values_are_all_reported_with_lines() {
        let err = parse("[stt]\nthreads = 0\nlanguage = \"English\"\naudio_context = 10\n[tts]\nspeaking_rate = 9.0\n").unwrap_err();
        let keys: Vec<_> = err.0.iter().map(|e| (e.key.clone().unwrap(), e.line.unwrap())).collect();
        assert_eq!(
            keys,
            vec![
                ("stt.threads".to_string(), 2),
                ("stt.language".to_string(), 3),
                ("stt.audio_context".to_string(), 4),
                ("tts.speaking_rate".to_string(), 6)
            ]
        );
    }

    #[test]
    fn the_app_is_chosen_in_answer_and_an_old_sip_app_says_where_it_went() {
        let err = parse("[sip]\napp = \"echo\"\n").unwrap_err();
        assert!(err.to_string().starts_with("test.toml:2: sip.app: moved"), "{err}");
        assert!(err.to_string().contains("[answer]"), "{err}");
        let err = parse("[answer]\napp = \"voicemail\"\n").unwrap_err();
        assert_eq!((err.0[0].line, err.0[0].key.as_deref()), (Some(2), Some("answer.app")), "{err}");
        assert!(err.0[0].message.contains("conversation"), "the choices are named: {err}");
        let err = parse("[answer]\napp = \"echo\"\n[answer.dialled]\n\"2001\" = \"transfer\"\n").unwrap_err();
        assert!(err.to_string().starts_with("test.toml:4: answer.dialled.2001: the transfer app needs [transfer] target"), "{err}");
        let ok = parse("[answer]\napp = \"echo\"\nlines = { sip = \"conversation\" }\n").unwrap();
        assert_eq!(ok.answer.app_for("sip", None), App::Conversation);
    }

    #[test]
    fn audio_context_accepts_names_and_numbers() {
        assert_eq!(parse("[stt]\naudio_context = \"full\"").unwrap().stt.audio_context.resolve(), AudioContext::Full);
        assert_eq!(parse("[stt]\naudio_context = 384").unwrap().stt.audio_context.resolve(), AudioContext::Fixed(384));
        assert!(parse("[stt]\naudio_context = \"half\"").is_err());
    }

    #[test]
    fn relative_paths_follow_the_config_file() {
        let c = parse("[stt]\nmodel = \"models/m.bin\"\n[tts]\nvoice = \"/opt/v.onnx\"").unwrap();
        assert_eq!(c.stt_settings().model, PathBuf::from("/etc/frontdesk/models/m.bin"));
        assert_eq!(c.tts_settings().voice, PathBuf::from("/opt/v.onnx"));
        assert_eq!(c.onnxruntime_path(), PathBuf::from("/opt/onnxruntime/libonnxruntime.so"));
    }

    #[test]
    fn script_mistakes_are_found_with_their_lines() {
        let text = "[prompts]\ngreeting = \"Welcome to {clinc}\"\n\n[hours]\ntime_zone = \"Mars/Olympus\"\nclosed_dates = [\"2026-13-01\"]\n\n[hours.week]\nmonday = \"9-5\"\n\n[intents.refill]\nslots = [\"name\", \"pharmacy\"]\nintro = \"Refill.\"\nsummary = \"a refill\"\n\n[intents.lunch]\nslots = [\"name\"]\nintro = \"x\"\nsummary = \"x\"\n\n[slots.shoe_size]\nask = \"?\"\nretry = \"?\"\n\n[faq.parking]\nphrases = [\"park\"]\nanswer = \"\"\n\n[conversation]\nsilence_ms = 50\n";
        let err = parse(text).unwrap_err();
        let found: Vec<(String, Option<usize>)> = err.0.iter().map(|e| (e.key.clone().unwrap_or_default(), e.line)).collect();
        let expect = [
            ("prompts.greeting", 2),
            ("hours.week.monday", 9),
            ("hours.time_zone", 5),
            ("hours.closed_dates", 6),
            ("intents.refill.slots", 12),
            ("intents.lunch", 16),
            ("slots.shoe_size", 21),
            ("faq.parking.answer", 27),
            ("conversation.silence_ms", 30),
        ];
        for (key, line) in expect {
            assert!(found.contains(&(key.to_string(), Some(line))), "{key} at line {line} not reported: {err}");
        }
        assert!(err.to_string().contains("\"pharmacy\" is not a detail the box can collect"), "{err}");
        assert!(err.to_string().contains("unknown placeholder {clinc}"), "{err}");
    }

    #[test]
    fn the_example_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/frontdesk.toml");
        Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}
