//! The one configuration file (`/etc/frontdesk/frontdesk.toml` on a box).
//!
//! It is edited by hand by a clinic manager, so every mistake is reported as
//! `file:line: key: what is wrong`, unknown keys are errors (a misspelt key silently ignored is
//! a setting that does not take effect), and relative paths are taken from the config file's own
//! directory so the file means the same thing whoever starts the daemon from wherever.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::speech::stt::{AudioContext, SttSettings};
use crate::speech::tts::TtsSettings;

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
    /// The SIP line; without it the daemon runs no telephone line.
    pub sip: Option<SipSection>,
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
    pub store: crate::call::script::StoreSection,
    #[serde(default)]
    pub retention: crate::store::retention::RetentionSection,
    #[serde(default)]
    pub recording: RecordingSection,
    /// Directory of the config file; relative paths are resolved against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicSection {
    #[serde(default = "default_clinic_name")]
    pub name: String,
    /// What callers are told will happen to their request ({callback_promise} in prompts).
    #[serde(default = "default_callback_promise")]
    pub callback_promise: String,
}

impl Default for ClinicSection {
    fn default() -> Self {
        ClinicSection { name: default_clinic_name(), callback_promise: default_callback_promise() }
    }
}

fn default_callback_promise() -> String {
    "someone from our office will call you back within one business day".into()
}

fn default_clinic_name() -> String {
    "the clinic".into()
}

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
fn default_min_confidence() -> f32 {
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
}

impl Default for TtsSection {
    fn default() -> Self {
        TtsSection {
            voice: default_voice(),
            threads: default_tts_threads(),
            speaking_rate: default_rate(),
            sentence_silence_ms: default_sentence_silence(),
        }
    }
}

fn default_voice() -> PathBuf {
    "/var/lib/frontdesk/models/en_US-joe-medium.onnx".into()
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

/// What the box says, besides FAQ answers and the questions of `[slots.*]`. Each may use
/// {clinic}, {hours} and {callback_promise}. Fixed ones are synthesised at start.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct PromptsSection {
    pub greeting: String,
    pub after_hours_greeting: String,
    pub goodbye: String,
    pub anything_else: String,
    pub not_understood: String,
    pub still_there: String,
    pub no_input_goodbye: String,
    /// Said, uninterruptible, when a caller describes an emergency.
    pub emergency: String,
    pub transferring: String,
    pub transfer_failed: String,
    /// A caller asks for a person while the clinic is closed.
    pub after_hours_person: String,
    /// The call went wrong on our side (nothing heard or played for too long).
    pub watchdog: String,
    pub max_duration: String,
    pub offer_message: String,
    pub spell_last_name: String,
    pub date_year: String,
    pub keypad_date: String,
    pub keypad_phone: String,
    pub confirm_summary: String,
    pub correction_which: String,
    pub closing: String,
    pub no_medical_advice: String,
}

impl Default for PromptsSection {
    fn default() -> Self {
        let s = |t: &str| t.to_string();
        PromptsSection {
            greeting: s("Thank you for calling {clinic}. I'm the automated assistant. How can I help you today?"),
            after_hours_greeting: s("Thank you for calling {clinic}. We're closed right now; our hours are {hours}. If this is an emergency, please hang up and call 9 1 1. I can take a message or answer questions. How can I help?"),
            goodbye: s("Thank you for calling {clinic}. Goodbye."),
            anything_else: s("Is there anything else I can help you with?"),
            not_understood: s("Sorry, I didn't catch that."),
            still_there: s("Are you still there?"),
            no_input_goodbye: s("I haven't heard anything, so I'll end the call now. Please call back anytime. Goodbye."),
            emergency: s("This sounds like it could be an emergency. Please hang up and call 9 1 1 now, or go to the nearest emergency room."),
            transferring: s("Please hold while I transfer you."),
            transfer_failed: s("I'm sorry, I couldn't reach anyone right now."),
            after_hours_person: s("Our office is closed right now, so nobody can take the call."),
            watchdog: s("I'm sorry, something went wrong on my end."),
            max_duration: s("I'm sorry, we need to wrap up this call."),
            offer_message: s("I can take a message, and {callback_promise}."),
            spell_last_name: s("Could you spell your last name for me, letter by letter?"),
            date_year: s("And what year were you born?"),
            keypad_date: s("Please enter your date of birth on the keypad: two digits for the month, two for the day, and four for the year."),
            keypad_phone: s("Please enter the ten digit phone number on the keypad."),
            confirm_summary: s("Let me read that back."),
            correction_which: s("What should I change: the name, the date of birth, the phone number, or something else?"),
            closing: s("Thank you. I've passed this on, and {callback_promise}."),
            no_medical_advice: s("I'm not able to give medical advice, but I can take a message for the care team."),
        }
    }
}

impl PromptsSection {
    /// (key, text) of every prompt, for checks and for synthesising them at start.
    pub fn all(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("greeting", &self.greeting),
            ("after_hours_greeting", &self.after_hours_greeting),
            ("goodbye", &self.goodbye),
            ("anything_else", &self.anything_else),
            ("not_understood", &self.not_understood),
            ("still_there", &self.still_there),
            ("no_input_goodbye", &self.no_input_goodbye),
            ("emergency", &self.emergency),
            ("transferring", &self.transferring),
            ("transfer_failed", &self.transfer_failed),
            ("after_hours_person", &self.after_hours_person),
            ("watchdog", &self.watchdog),
            ("max_duration", &self.max_duration),
            ("offer_message", &self.offer_message),
            ("spell_last_name", &self.spell_last_name),
            ("date_year", &self.date_year),
            ("keypad_date", &self.keypad_date),
            ("keypad_phone", &self.keypad_phone),
            ("confirm_summary", &self.confirm_summary),
            ("correction_which", &self.correction_which),
            ("closing", &self.closing),
            ("no_medical_advice", &self.no_medical_advice),
        ]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSection {
    /// tracing filter, e.g. "info" or "frontdesk=debug".
    #[serde(default = "default_log_level")]
    pub level: String,
    /// Puts caller numbers, transcripts and collected details into debug lines, for a
    /// technician chasing a recognition problem. Off unless set here; the daemon warns at start
    /// while it is on.
    #[serde(default)]
    pub patient_data: bool,
}

impl Default for LoggingSection {
    fn default() -> Self {
        LoggingSection { level: default_log_level(), patient_data: false }
    }
}

/// `[recording]`: whole-call recordings, off by default.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RecordingSection {
    #[serde(default)]
    pub enabled: bool,
    /// Played before the greeting on every recorded call; callers must be told.
    #[serde(default = "default_recording_announcement")]
    pub announcement: String,
}

impl Default for RecordingSection {
    fn default() -> Self {
        RecordingSection { enabled: false, announcement: default_recording_announcement() }
    }
}

fn default_recording_announcement() -> String {
    "This call is recorded for quality and safety.".into()
}

fn default_log_level() -> String {
    "info".into()
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct SipSection {
    /// Address and port to receive SIP on (UDP).
    #[serde(default = "default_sip_listen")]
    pub listen: std::net::SocketAddr,
    /// Address put in Contact and SDP; needed when `listen` is 0.0.0.0.
    pub public_address: Option<std::net::IpAddr>,
    /// Networks (CIDR) that may send us calls: the PBX or trunk. Others get 403.
    #[serde(default = "default_allowed_sources")]
    pub allowed_sources: Vec<String>,
    /// Simultaneous calls; one more gets `busy_status`.
    #[serde(default = "default_max_calls")]
    pub max_calls: usize,
    /// 486 (Busy Here) or 503 (Service Unavailable, with Retry-After).
    #[serde(default = "default_busy_status")]
    pub busy_status: u16,
    /// Ring this long before answering (0: answer at once).
    #[serde(default)]
    pub ringing_ms: u64,
    /// What answers calls: "conversation" (the clinic's assistant), or for tests and
    /// integrators "echo", "announce" or "transfer".
    #[serde(default = "default_app")]
    pub app: String,
    /// Codecs in order of preference: "PCMU", "PCMA".
    #[serde(default = "default_codecs")]
    pub codecs: Vec<String>,
    /// Where calls the box places go (IP:port of the PBX or trunk proxy); default: the
    /// registrar.
    pub outbound_proxy: Option<std::net::SocketAddr>,
}

fn default_sip_listen() -> std::net::SocketAddr {
    "127.0.0.1:5060".parse().expect("literal address")
}
fn default_allowed_sources() -> Vec<String> {
    vec!["127.0.0.0/8".into(), "::1/128".into()]
}
fn default_max_calls() -> usize {
    4
}
fn default_busy_status() -> u16 {
    486
}
fn default_app() -> String {
    "conversation".into()
}
fn default_codecs() -> Vec<String> {
    vec!["PCMU".into(), "PCMA".into()]
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSection {
    /// The registrar (usually the PBX): "192.168.1.10:5060" or "sip:192.168.1.10:5060".
    pub registrar: String,
    /// Domain of our address of record; default: the registrar's host.
    pub domain: Option<String>,
    pub username: String,
    /// Never logged.
    pub password: String,
    /// Seconds the registration is asked to last; refreshed at 80 % of what is granted.
    #[serde(default = "default_expires")]
    pub expires: u32,
}

/// Debug that cannot leak the password into a log line.
impl std::fmt::Debug for RegistrationSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationSection")
            .field("registrar", &self.registrar)
            .field("domain", &self.domain)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("expires", &self.expires)
            .finish()
    }
}

fn default_expires() -> u32 {
    300
}

impl RegistrationSection {
    /// host:port of the registrar; only IP literals (the box does no DNS on the call path).
    pub fn registrar_addr(&self) -> Option<std::net::SocketAddr> {
        let hostport = self.registrar.trim().trim_start_matches("sips:").trim_start_matches("sip:");
        let hostport = hostport.split([';', '?']).next().unwrap_or("");
        hostport
            .parse()
            .ok()
            .or_else(|| hostport.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().ok().map(|ip| std::net::SocketAddr::new(ip, 5060)))
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RtpSection {
    /// UDP ports for media: two per call are reserved (RTP, RTCP).
    #[serde(default = "default_rtp_min")]
    pub port_min: u16,
    #[serde(default = "default_rtp_max")]
    pub port_max: u16,
    /// Delay the jitter buffer starts with; it grows when packets come later than that.
    #[serde(default = "default_jitter_min")]
    pub jitter_min_ms: u32,
    /// The most it grows to.
    #[serde(default = "default_jitter_max")]
    pub jitter_max_ms: u32,
}

impl RtpSection {
    /// The jitter buffer's limits in 20 ms frames.
    pub fn jitter(&self) -> crate::rtp::jitter::JitterDepth {
        crate::rtp::jitter::JitterDepth { min_frames: (self.jitter_min_ms / 20) as usize, max_frames: (self.jitter_max_ms / 20) as usize }
    }
}

impl Default for RtpSection {
    fn default() -> Self {
        RtpSection { port_min: default_rtp_min(), port_max: default_rtp_max(), jitter_min_ms: default_jitter_min(), jitter_max_ms: default_jitter_max() }
    }
}

fn default_rtp_min() -> u16 {
    20000
}
fn default_rtp_max() -> u16 {
    20999
}
fn default_jitter_min() -> u32 {
    20
}
fn default_jitter_max() -> u32 {
    160
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct AnnounceSection {
    /// WAV file played when the call is answered (any common rate; mono or stereo).
    pub play: Option<PathBuf>,
    /// Where the caller's audio is written (one WAV per call); none: not recorded.
    pub record_dir: Option<PathBuf>,
    /// Recording stops after this many seconds, then the call is hung up.
    #[serde(default)]
    pub record_seconds: u32,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct TransferSection {
    /// Where the `transfer` app sends callers: a SIP URI or a number the PBX understands.
    pub target: Option<String>,
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
        check((1..=16).contains(&self.stt.threads), "stt", "threads", format!("{} threads: use 1 to 16", self.stt.threads));
        check((1..=16).contains(&self.tts.threads), "tts", "threads", format!("{} threads: use 1 to 16", self.tts.threads));
        let lang = &self.stt.language;
        check(
            lang == "auto" || (lang.len() == 2 && lang.chars().all(|c| c.is_ascii_lowercase())),
            "stt",
            "language",
            format!("{lang:?} is not a language code: use a two-letter code such as \"en\", or \"auto\""),
        );
        check(
            (0.0..=1.0).contains(&self.stt.min_confidence),
            "stt",
            "min_confidence",
            format!("{} is outside 0 to 1", self.stt.min_confidence),
        );
        if let AudioContextSetting::Frames(n) = self.stt.audio_context {
            check((64..=1500).contains(&n), "stt", "audio_context", format!("{n} frames: use 64 to 1500, \"sized\" or \"full\""));
        }
        let vocabulary_words: usize = self.stt.vocabulary.iter().map(|w| w.split_whitespace().count()).sum();
        check(
            vocabulary_words <= 60,
            "stt",
            "vocabulary",
            format!("{vocabulary_words} words: Whisper's prompt holds about 60 besides the built-in medications; keep the words callers most often say"),
        );
        check(
            (0.5..=2.0).contains(&self.tts.speaking_rate),
            "tts",
            "speaking_rate",
            format!("{} is outside 0.5 (fast) to 2.0 (slow)", self.tts.speaking_rate),
        );
        check(self.tts.sentence_silence_ms <= 2000, "tts", "sentence_silence_ms", "at most 2000 ms".into());
        if let Some(sip) = &self.sip {
            check(sip.max_calls >= 1 && sip.max_calls <= 64, "sip", "max_calls", format!("{}: use 1 to 64", sip.max_calls));
            check(matches!(sip.busy_status, 486 | 503), "sip", "busy_status", format!("{}: use 486 or 503", sip.busy_status));
            check(
                matches!(sip.app.as_str(), "conversation" | "echo" | "announce" | "transfer"),
                "sip",
                "app",
                format!("{:?}: use \"conversation\", \"echo\", \"announce\" or \"transfer\"", sip.app),
            );
            check(
                sip.app != "transfer" || self.transfer.target.is_some(),
                "sip",
                "app",
                "the transfer app needs [transfer] target".into(),
            );
            check(
                !sip.codecs.is_empty() && sip.codecs.iter().all(|c| matches!(c.to_ascii_uppercase().as_str(), "PCMU" | "PCMA")),
                "sip",
                "codecs",
                format!("{:?}: list \"PCMU\" and/or \"PCMA\"", sip.codecs),
            );
            for src in &sip.allowed_sources {
                check(crate::sip::acl::Cidr::parse(src).is_some(), "sip", "allowed_sources", format!("{src:?} is not an address or CIDR network such as 192.168.1.0/24"));
            }
            check(
                !sip.listen.ip().is_unspecified() || sip.public_address.is_some(),
                "sip",
                "public_address",
                "needed when sip.listen is 0.0.0.0 or [::]: the address peers should send to".into(),
            );
        }
        if let Some(reg) = &self.registration {
            check(reg.registrar_addr().is_some(), "registration", "registrar", format!("{:?}: give the registrar as an IP address and port, e.g. \"192.168.1.10:5060\"", reg.registrar));
            check(!reg.username.is_empty(), "registration", "username", "must not be empty".into());
            check((60..=86_400).contains(&reg.expires), "registration", "expires", format!("{}: use 60 to 86400 seconds", reg.expires));
            check(self.sip.is_some(), "registration", "registrar", "registration needs a [sip] section".into());
        }
        check(
            self.rtp.port_min >= 1024 && self.rtp.port_min < self.rtp.port_max,
            "rtp",
            "port_min",
            format!("{}..{}: use a range above 1023 with port_min < port_max", self.rtp.port_min, self.rtp.port_max),
        );
        for (key, ms) in [("jitter_min_ms", self.rtp.jitter_min_ms), ("jitter_max_ms", self.rtp.jitter_max_ms)] {
            check(ms % 20 == 0 && (20..=1000).contains(&ms), "rtp", key, format!("{ms}: use a multiple of 20 from 20 to 1000 (one RTP frame is 20 ms)"));
        }
        check(
            self.rtp.jitter_min_ms <= self.rtp.jitter_max_ms,
            "rtp",
            "jitter_max_ms",
            format!("{} is below jitter_min_ms ({})", self.rtp.jitter_max_ms, self.rtp.jitter_min_ms),
        );
        check(!self.prompts.greeting.trim().is_empty(), "prompts", "greeting", "must not be empty".into());

        check(
            tracing_subscriber::EnvFilter::try_new(&self.logging.level).is_ok(),
            "logging",
            "level",
            format!("{:?} is not a log filter: use error, warn, info, debug or trace", self.logging.level),
        );
        check(
            !self.recording.enabled || !self.recording.announcement.trim().is_empty(),
            "recording",
            "announcement",
            "callers must be told the call is recorded: write the announcement, or set enabled = false".into(),
        );
        for (key, days) in self.retention.classes() {
            check((1..=36_500).contains(&days), "retention", key, format!("{days} days: use 1 to 36500"));
        }
        check(
            !self.resolve(&self.store.key_file).starts_with(self.resolve(&self.store.data_dir)),
            "store",
            "key_file",
            "keep the master key outside the data directory, or a copy of the data is a copy of the key".into(),
        );
        self.validate_script(text, file, &mut errors);
        errors
    }

    /// The conversation's settings: prompts, hours, flows and their references to each other.
    fn validate_script(&self, text: &str, file: &str, errors: &mut Vec<ConfigError>) {
        use crate::call::script::{self, INTENTS, SLOTS};
        let mut check = |ok: bool, section: &str, key: &str, message: String| {
            if !ok {
                errors.push(ConfigError { file: file.to_string(), line: find_key_line(text, section, key), key: Some(format!("{section}.{key}")), message });
            }
        };
        let placeholders = |t: &str| {
            let bad = script::unknown_placeholders(t);
            (bad.is_empty(), format!("unknown placeholder {{{}}}: use {{clinic}}, {{hours}} or {{callback_promise}}", bad.join("}, {")))
        };
        for (key, prompt) in self.prompts.all() {
            check(!prompt.trim().is_empty(), "prompts", key, "must not be empty".into());
            let (ok, msg) = placeholders(prompt);
            check(ok, "prompts", key, msg);
        }
        for (topic, faq) in &self.faq {
            let section = format!("faq.{topic}");
            check(!faq.phrases.iter().all(|p| p.trim().is_empty()), &section, "phrases", "list at least one word or phrase callers say".into());
            check(!faq.answer.trim().is_empty(), &section, "answer", "must not be empty".into());
            let (ok, msg) = placeholders(&faq.answer);
            check(ok, &section, "answer", msg);
        }
        for (name, flow) in &self.intents {
            let section = format!("intents.{name}");
            if !INTENTS.contains(&name.as_str()) {
                check(false, "intents", name, format!("unknown request type {name:?}: use one of {}", INTENTS.join(", ")));
                continue;
            }
            check(!flow.slots.is_empty(), &section, "slots", "list at least one detail to collect".into());
            for slot in &flow.slots {
                check(SLOTS.contains(&slot.as_str()), &section, "slots", format!("{slot:?} is not a detail the box can collect: use {}", SLOTS.join(", ")));
            }
            let mut seen = std::collections::BTreeSet::new();
            for slot in &flow.slots {
                check(seen.insert(slot), &section, "slots", format!("{slot:?} is listed twice"));
            }
            let (ok, msg) = placeholders(&flow.intro);
            check(ok, &section, "intro", msg);
        }
        for (name, prompts) in &self.slots {
            let section = format!("slots.{name}");
            if !SLOTS.contains(&name.as_str()) {
                check(false, "slots", name, format!("unknown detail {name:?}: use one of {}", SLOTS.join(", ")));
                continue;
            }
            for (key, t) in [("ask", &prompts.ask), ("retry", &prompts.retry)] {
                check(!t.trim().is_empty(), &section, key, "must not be empty".into());
                let (ok, msg) = placeholders(t);
                check(ok, &section, key, msg);
            }
        }
        if let Err((day, msg)) = script::Week::parse(&self.hours.week) {
            check(false, "hours.week", &day, msg);
        }
        check(
            jiff::tz::TimeZone::get(&self.hours.time_zone).is_ok(),
            "hours",
            "time_zone",
            format!("{:?} is not a time zone: use a name such as \"America/Chicago\"", self.hours.time_zone),
        );
        for d in &self.hours.closed_dates {
            check(d.parse::<jiff::civil::Date>().is_ok(), "hours", "closed_dates", format!("{d:?} is not a date: write YYYY-MM-DD"));
        }
        let c = &self.conversation;
        check((200..=3000).contains(&c.silence_ms), "conversation", "silence_ms", format!("{}: use 200 to 3000", c.silence_ms));
        check(c.long_silence_ms >= c.silence_ms && c.long_silence_ms <= 5000, "conversation", "long_silence_ms", format!("{}: use silence_ms to 5000", c.long_silence_ms));
        check((5..=60).contains(&c.max_utterance_s), "conversation", "max_utterance_s", format!("{}: use 5 to 60", c.max_utterance_s));
        check((3..=60).contains(&c.no_input_s), "conversation", "no_input_s", format!("{}: use 3 to 60", c.no_input_s));
        check((60..=7200).contains(&c.max_call_s), "conversation", "max_call_s", format!("{}: use 60 to 7200", c.max_call_s));
        check((60..=2000).contains(&c.barge_in_min_speech_ms), "conversation", "barge_in_min_speech_ms", format!("{}: use 60 to 2000", c.barge_in_min_speech_ms));
        check(c.barge_in_protect_ms <= 3000, "conversation", "barge_in_protect_ms", format!("{}: use 0 to 3000", c.barge_in_protect_ms));
        check((1..=5).contains(&c.retries), "conversation", "retries", format!("{}: use 1 to 5", c.retries));
        check((1..=8).contains(&c.detail_tries), "conversation", "detail_tries", format!("{}: use 1 to 8", c.detail_tries));
    }

    /// FAQ topics: the built-in ones with the config's on top.
    pub fn faq_entries(&self) -> std::collections::BTreeMap<String, crate::call::script::FaqEntry> {
        let mut m = crate::call::script::default_faq();
        m.extend(self.faq.clone());
        m
    }

    pub fn intent_flows(&self) -> std::collections::BTreeMap<String, crate::call::script::IntentFlow> {
        let mut m = crate::call::script::default_intents();
        m.extend(self.intents.clone());
        m
    }

    pub fn slot_prompts(&self) -> std::collections::BTreeMap<String, crate::call::script::SlotPrompts> {
        let mut m = crate::call::script::default_slot_prompts();
        m.extend(self.slots.clone());
        m
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
