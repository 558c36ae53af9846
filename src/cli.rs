//! The `frontdesk` command: the daemon and the tools staff and integrators use on the box.
//!
//! Every failure ends as one message on standard error naming the file and the fix, and a
//! non-zero exit: never a panic, never a bare "error: 2".

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::audio::g711::Law;
use crate::config::Config;
use crate::speech::models::{self, Status};
use crate::speech::stt::{self, AudioContext, Stt};
use crate::speech::tts::Voice;

pub const DEFAULT_CONFIG: &str = "/etc/frontdesk/frontdesk.toml";

#[derive(Parser, Debug)]
#[command(name = "frontdesk", version, about = "Answers a medical clinic's phone, entirely on this box")]
pub struct Cli {
    /// Configuration file (default: $FRONTDESK_CONFIG or /etc/frontdesk/frontdesk.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon.
    Run,
    /// Check a configuration file; exit 0 only if the daemon would start with it.
    CheckConfig {
        /// The file to check (default: --config).
        file: Option<PathBuf>,
    },
    /// Model files: import and verification.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Speak text into a WAV file with the configured voice.
    Say {
        /// Sample rate of the file; 8000 gives telephone audio (through G.711 and back).
        #[arg(long, default_value_t = 22050)]
        rate: u32,
        /// G.711 law used at 8000 Hz.
        #[arg(long, value_enum, default_value_t = LawArg::Ulaw)]
        law: LawArg,
        #[arg(long, value_name = "FILE.wav")]
        out: PathBuf,
        /// The text; several words are joined with spaces.
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Print the transcript of a WAV file (any common rate) on one line.
    Transcribe {
        file: PathBuf,
        /// Encoder window: "sized" (default from config), "full" or a number of frames.
        #[arg(long)]
        audio_context: Option<String>,
        /// Print text, confidence and timings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Place one call through the configured PBX or proxy (to test outbound calling and its
    /// credentials): play a WAV when answered, listen a while, hang up.
    Dial {
        /// A SIP URI, or a number or extension the PBX understands.
        target: String,
        /// 8 kHz-convertible WAV to play once answered.
        #[arg(long, value_name = "FILE.wav")]
        play: Option<PathBuf>,
        /// Seconds to stay on the line after playing.
        #[arg(long, default_value_t = 2)]
        seconds: u32,
        /// Seconds to let it ring before giving up.
        #[arg(long, default_value_t = 60)]
        ring_timeout: u64,
    },
    /// Hold a conversation on the terminal, without a phone: caller turns from standard input,
    /// one per line (`<silence 5s>`, `<dtmf 03051990#>`, `<hangup>` allowed); prints
    /// `AGENT: ...` lines and the final `RECORD: {json}`.
    Simulate {
        /// Speak each caller line with the voice, through 8 kHz G.711, and recognise it.
        #[arg(long)]
        audio: bool,
        /// The clinic's clock, e.g. 2026-11-23T10:00:00-05:00 (default: now).
        #[arg(long)]
        now: Option<String>,
        /// Caller ID to pretend, e.g. +16175550199.
        #[arg(long)]
        caller: Option<String>,
        /// Make transfers fail, as when nobody picks up.
        #[arg(long)]
        transfer_fails: bool,
        /// Print a line `LISTENING` whenever the agent waits for the caller, for a program
        /// that plays the caller and answers what was asked.
        #[arg(long)]
        show_listening: bool,
        /// Store the finished call in the configured store, as the daemon would.
        #[arg(long)]
        save: bool,
    },
    /// Measure speed on this machine.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Call records: list, show, export, counts. Every read is written to the audit trail.
    #[command(subcommand)]
    Calls(CallsCommand),
    /// The callback worklist (emergencies first); `messages ack ID` marks one handled.
    Messages {
        #[command(subcommand)]
        action: Option<MessagesCommand>,
    },
    /// The audit trail of reads, exports, starts, config loads, purges and key changes.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Destroy what retention says is too old (the daemon does this at start and daily).
    Purge {
        /// Purge as if it were this time, e.g. 2027-06-01 or 2027-06-01T09:00:00Z (to see
        /// what a policy will remove).
        #[arg(long)]
        now: Option<String>,
    },
    /// The master key that seals the records.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Subcommand, Debug)]
pub enum CallsCommand {
    /// Calls, oldest first, with the caller's name and number.
    List {
        /// From this date (YYYY-MM-DD, clinic time) or instant.
        #[arg(long)]
        since: Option<String>,
        /// Before this date or instant.
        #[arg(long)]
        until: Option<String>,
        /// message_taken, transferred, answered, abandoned, emergency, interrupted, in_progress.
        #[arg(long)]
        outcome: Option<String>,
        /// new_appointment, refill, ... (see [intents] in the config).
        #[arg(long)]
        intent: Option<String>,
    },
    /// One call: details, transcript, whether it was recorded.
    Show { id: i64 },
    /// One call as JSON, or its recording as a WAV file (caller left, agent right).
    Export {
        id: i64,
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// Write the call's recording here instead.
        #[arg(long, value_name = "FILE.wav")]
        recording: Option<PathBuf>,
    },
    /// Counts by outcome and request, from the unencrypted columns only (for monitoring).
    Stats,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    Json,
}

#[derive(Subcommand, Debug)]
pub enum MessagesCommand {
    /// Mark a message handled (recorded with your user name).
    Ack { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the chain; names the first entry changed, removed or out of order.
    Verify,
    /// The newest entries.
    Show {
        #[arg(long, default_value_t = 50)]
        last: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Make the master key if there is none (systemd runs this as root before the service).
    Init {
        /// Give the new key file to this user (the service user).
        #[arg(long)]
        owner: Option<String>,
    },
    /// Replace the master key: every record's key is rewrapped. Stop the daemon first.
    Rotate,
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// Convert a CTranslate2 Whisper model directory into whisper.cpp's ggml file.
    ImportCt2 { dir: PathBuf, out: PathBuf },
    /// Rewrite a ggml Whisper model with its matrices in 8-bit blocks (q8_0): faster on a small
    /// CPU, a quarter of the file gone.
    QuantizeQ8 { input: PathBuf, output: PathBuf },
    /// Verify that every configured model file exists and matches its recorded checksum.
    Check,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Speech recognition and synthesis speed, and memory with both models loaded.
    Speech {
        /// Repetitions per measurement (the median is reported).
        #[arg(long, default_value_t = 5)]
        iterations: usize,
    },
    /// Turn latency on the wire: callers on loopback ask FAQ questions over RTP; from the
    /// caller's last voiced packet to the reply's first, with where the time went.
    Turns {
        #[arg(long, default_value_t = 1)]
        calls: usize,
        /// Turns to measure per call.
        #[arg(long, default_value_t = 20)]
        turns: usize,
    },
    /// Call record writes with and without encryption: time per write, bytes per call.
    Records {
        #[arg(long, default_value_t = 200)]
        calls: usize,
        /// Where to write (use the disk the data directory is on; the default temp directory
        /// may be in memory, where a sync costs nothing).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// RTP pacing with simultaneous calls under CPU load, SIP parse rate, time to answer.
    Rtp {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 8)]
        calls: usize,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LawArg {
    Ulaw,
    Alaw,
}

impl From<LawArg> for Law {
    fn from(l: LawArg) -> Law {
        match l {
            LawArg::Ulaw => Law::Ulaw,
            LawArg::Alaw => Law::Alaw,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("frontdesk: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn config_path(cli: &Option<PathBuf>) -> PathBuf {
    cli.clone()
        .or_else(|| std::env::var_os("FRONTDESK_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
}

fn load_config(path: &Path) -> Result<Config> {
    Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The config for a tool whose output is the answer: the log only speaks up for problems.
fn quiet_config(path: &Path) -> Result<Config> {
    let config = load_config(path)?;
    crate::logging::init("warn");
    Ok(config)
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let path = config_path(&cli.config);
    match cli.command {
        Command::Models(ModelsCommand::ImportCt2 { dir, out }) => import_ct2(&dir, &out),
        Command::Models(ModelsCommand::QuantizeQ8 { input, output }) => {
            let s = crate::speech::ggml_quantize::quantize_q8_0(&input, &output)?;
            println!(
                "{}: {} matrices in q8_0, {} tensors copied, {:.1} MB -> {:.1} MB",
                output.display(),
                s.quantized,
                s.copied,
                s.bytes_in as f64 / 1e6,
                s.bytes_out as f64 / 1e6
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { file } => {
            let file = file.unwrap_or(path);
            match Config::load(&file) {
                Ok(_) => {
                    println!("{}: ok", file.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    eprintln!("{errors}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Models(ModelsCommand::Check) => {
            let config = load_config(&path)?;
            models_check(&config)
        }
        Command::Say { rate, law, out, text } => {
            let config = load_config(&path)?;
            crate::logging::init(&config.logging.level);
            say(&config, rate, law.into(), &out, &text.join(" "))
        }
        Command::Transcribe { file, audio_context, json } => {
            let config = load_config(&path)?;
            crate::logging::init(&config.logging.level);
            transcribe(&config, &file, audio_context.as_deref(), json)
        }
        Command::Bench(BenchCommand::Speech { iterations }) => {
            let config = quiet_config(&path)?;
            crate::bench::speech(&config, iterations.max(1))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Turns { calls, turns }) => {
            let config = quiet_config(&path)?;
            crate::bench_turns::run(&config, calls.clamp(1, 16), turns.clamp(1, 500))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Records { calls, dir }) => {
            crate::logging::init("error");
            crate::bench_records::run(calls.clamp(1, 100_000), &dir.unwrap_or_else(std::env::temp_dir))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Rtp { seconds, calls }) => {
            crate::logging::init("warn");
            crate::bench::rtp(seconds.clamp(1, 120), calls.clamp(1, 64))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Dial { target, play, seconds, ring_timeout } => {
            let config = load_config(&path)?;
            crate::logging::init(&config.logging.level);
            dial(&config, &target, play.as_deref(), seconds, ring_timeout)
        }
        Command::Simulate { audio, now, caller, transfer_fails, save, show_listening } => {
            let config = load_config(&path)?;
            crate::logging::init(if save { &config.logging.level } else { "warn" });
            crate::logging::allow_patient_data(config.logging.patient_data);
            let now = now
                .map(|n| parse_clock(&n))
                .transpose()?;
            let opts = crate::call::simulate::Options { audio, now, caller, transfer_fails, show_listening };
            let stdin = std::io::stdin();
            let record = crate::call::simulate::run(&config, &opts, &mut stdin.lock(), &mut std::io::stdout())?;
            if save {
                crate::staff::save_simulated(&config, &record)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Calls(c) => {
            let config = quiet_config(&path)?;
            let out = &mut std::io::stdout();
            match c {
                CallsCommand::List { since, until, outcome, intent } => {
                    let filter = crate::store::Filter {
                        since: since.map(|s| crate::staff::parse_when(&config, &s, "--since")).transpose()?,
                        until: until.map(|s| crate::staff::parse_when(&config, &s, "--until")).transpose()?,
                        outcome,
                        intent,
                        worklist: false,
                    };
                    crate::staff::list(&config, &filter, out)
                }
                CallsCommand::Show { id } => crate::staff::show(&config, id, out),
                CallsCommand::Export { id, format: ExportFormat::Json, recording } => crate::staff::export(&config, id, recording.as_deref(), out),
                CallsCommand::Stats => crate::staff::stats(&config, out),
            }
        }
        Command::Messages { action } => {
            let config = quiet_config(&path)?;
            match action {
                None => crate::staff::messages(&config, &mut std::io::stdout()),
                Some(MessagesCommand::Ack { id }) => crate::staff::ack(&config, id),
            }
        }
        Command::Audit(a) => {
            let config = quiet_config(&path)?;
            match a {
                AuditCommand::Verify => crate::staff::audit_verify(&config),
                AuditCommand::Show { last } => crate::staff::audit_show(&config, last, &mut std::io::stdout()),
            }
        }
        Command::Purge { now } => {
            let config = quiet_config(&path)?;
            let now = now.map(|n| parse_clock(&n)).transpose()?;
            crate::staff::purge(&config, now)
        }
        Command::Key(k) => {
            let config = quiet_config(&path)?;
            match k {
                KeyCommand::Init { owner } => crate::staff::key_init(&config, owner.as_deref()),
                KeyCommand::Rotate => crate::staff::key_rotate(&config),
            }
        }
        Command::Run => {
            let config = load_config(&path)?;
            crate::logging::init(&config.logging.level);
            run(config)
        }
    }
}

fn import_ct2(dir: &Path, out: &Path) -> Result<ExitCode> {
    if !dir.join("model.bin").is_file() {
        bail!(
            "{} has no model.bin: give the directory of a CTranslate2 Whisper export (model.bin, tokenizer.json)",
            dir.display()
        );
    }
    let s = crate::speech::whisper_import::import_ct2(dir, out)?;
    println!(
        "{}: {} tensors, {} encoder and {} decoder layers, {} of {} vocabulary entries{}",
        out.display(),
        s.tensors,
        s.encoder_layers,
        s.decoder_layers,
        s.vocab_written,
        s.n_vocab,
        if s.multilingual { ", multilingual" } else { ", English-only" }
    );
    Ok(ExitCode::SUCCESS)
}

fn models_check(config: &Config) -> Result<ExitCode> {
    let checks = models::check(config).map_err(anyhow::Error::msg)?;
    let mut bad = 0;
    for c in &checks {
        println!("{c}");
        if c.status != Status::Ok {
            bad += 1;
        }
    }
    if bad == 0 {
        println!("all {} model files present and verified", checks.len());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{bad} of {} model files need attention (see fix: lines above)", checks.len());
        Ok(ExitCode::FAILURE)
    }
}

/// Refuses to start on missing or altered models: a box that cannot hear or speak must say so
/// at start, where staff see it in `systemctl status`, not on the first call.
fn require_models(config: &Config) -> Result<()> {
    let checks = models::check(config).map_err(anyhow::Error::msg)?;
    let problems: Vec<String> = checks.iter().filter(|c| c.status != Status::Ok).map(|c| c.to_string()).collect();
    if !problems.is_empty() {
        bail!("model files failed verification:\n{}", problems.join("\n"));
    }
    Ok(())
}

fn say(config: &Config, rate: u32, law: Law, out: &Path, text: &str) -> Result<ExitCode> {
    if text.trim().is_empty() {
        bail!("nothing to say: give the text to speak after the options");
    }
    if !crate::audio::resample::SUPPORTED_RATES.contains(&rate) {
        bail!("--rate {rate} is not supported: use one of {:?} (8000 is telephone audio)", crate::audio::resample::SUPPORTED_RATES);
    }
    let voice = Voice::load(&config.tts_settings())?;
    let audio = voice.synthesize(text)?;
    let samples = if rate == crate::telephone::RATE {
        crate::telephone::through_g711(&audio.samples, audio.sample_rate, law)?
    } else {
        crate::audio::resample::resample(&audio.samples, audio.sample_rate, rate)?
    };
    crate::wav::write_mono_i16(out, &samples, rate)?;
    eprintln!("{}: {:.2} s at {rate} Hz", out.display(), samples.len() as f64 / rate as f64);
    Ok(ExitCode::SUCCESS)
}

fn parse_audio_context(s: &str) -> Result<AudioContext> {
    match s {
        "full" => Ok(AudioContext::Full),
        "sized" => Ok(AudioContext::Sized),
        n => n
            .parse::<i32>()
            .ok()
            .filter(|n| (64..=1500).contains(n))
            .map(AudioContext::Fixed)
            .with_context(|| format!("--audio-context {n:?}: use full, sized or 64 to 1500")),
    }
}

fn transcribe(config: &Config, file: &Path, audio_context: Option<&str>, json: bool) -> Result<ExitCode> {
    let ctx = audio_context.map(parse_audio_context).transpose()?;
    let audio = crate::wav::read_mono(file, stt::MAX_UTTERANCE_SECONDS)?;
    let samples = crate::audio::resample::resample(&audio.samples, audio.sample_rate, stt::SAMPLE_RATE)
        .with_context(|| format!("{}: convert it with `sox {} -r 16000 out.wav`", file.display(), file.display()))?;
    let engine = Stt::load(&config.stt_settings())?;
    let mut t = engine.transcriber()?;
    let result = t.transcribe_with(&samples, ctx.unwrap_or(engine.settings().audio_context), stt::Priming::Medications)?;
    if json {
        let v = serde_json::json!({
            "text": result.text,
            "confidence": result.confidence,
            "no_speech_probability": result.no_speech_probability,
            "voiced_ms": result.voiced_ms,
            "audio_ctx": result.audio_ctx,
            "elapsed_ms": result.elapsed.as_secs_f64() * 1000.0,
            "rejected": result.rejected,
        });
        println!("{v}");
    } else {
        println!("{}", result.text);
    }
    Ok(ExitCode::SUCCESS)
}

/// A point in time from the command line: RFC 3339 with offset, or a civil time taken in UTC.
fn parse_clock(s: &str) -> Result<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>()
        .or_else(|_| s.parse::<jiff::civil::DateTime>().map_err(anyhow::Error::from).and_then(|dt| Ok(dt.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp())))
        .with_context(|| format!("--now {s:?}: write a time such as 2026-11-23T10:00:00-05:00"))
}

/// One outgoing call with its own UA on a free port, so it works beside a running daemon.
fn dial(config: &Config, target: &str, play: Option<&Path>, seconds: u32, ring_timeout: u64) -> Result<ExitCode> {
    use crate::line::apps;
    let sip = config.sip.as_ref().context("dial needs a [sip] section in the config")?;
    let mut ua_config = ua_config(sip, config)?;
    ua_config.listen.set_port(0);
    // Only the credentials of [registration] are wanted here, not a second registration.
    ua_config.registration = None;
    let settings = apps::AnnounceSettings {
        prompt: match play {
            Some(p) => apps::load_announcement(p)?,
            None => Vec::new(),
        },
        record_dir: None,
        record_seconds: seconds,
    };
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let done_tx = std::sync::Mutex::new(done_tx);
    let app: crate::sip::ua::AppFactory = Arc::new(move |leg| {
        apps::announce(leg, &settings);
        let _ = done_tx.lock().map(|tx| tx.send(()));
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let ua = crate::sip::ua::UserAgent::bind(ua_config, app).await.context("cannot open a SIP socket")?;
        let dialer = ua.dialer();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(ua.run(async move {
            let _ = stop_rx.await;
        }));
        let (result_tx, result_rx) = std::sync::mpsc::channel();
        let _ = dialer.send(crate::sip::ua::Dial {
            target: target.to_string(),
            ring_timeout: std::time::Duration::from_secs(ring_timeout.clamp(1, 600)),
            result: result_tx,
        });
        let result = tokio::task::spawn_blocking(move || result_rx.recv().unwrap_or(Err("the SIP user agent stopped".into()))).await?;
        let code = match result {
            Ok(()) => {
                println!("answered");
                let _ = tokio::task::spawn_blocking(move || done_rx.recv()).await;
                println!("hung up");
                ExitCode::SUCCESS
            }
            Err(why) => {
                println!("failed: {why}");
                ExitCode::FAILURE
            }
        };
        let _ = stop_tx.send(());
        let _ = serving.await;
        anyhow::Ok(code)
    })
}

fn run(config: Config) -> Result<ExitCode> {
    tracing::info!(config = %config.path.display(), "starting");
    crate::logging::allow_patient_data(config.logging.patient_data);
    // The store opens first: a missing or wrong key must stop the daemon before anything else.
    let (store, _daemon_lock) = crate::staff::daemon_store(&config)?;
    let store = Arc::new(store);
    tracing::info!(database = %store.path().display(), key_id = store.key_id(), "call records (encrypted)");
    let retention = Arc::new(std::sync::RwLock::new(config.retention.clone()));
    start_retention(store.clone(), retention.clone());
    require_models(&config)?;
    let stt = Arc::new(Stt::load(&config.stt_settings())?);
    let voice = Arc::new(Voice::load(&config.tts_settings())?);
    let recording = config.recording.enabled.then(|| config.recording.announcement.clone());
    if recording.is_some() {
        tracing::info!("calls are recorded (recording.enabled), after the consent announcement");
    }
    let shared = Arc::new(crate::call::engine::Shared {
        script: std::sync::RwLock::new(crate::call::flow::Script::from_config(&config)),
        stt_pool: crate::call::engine::SttPool::start(stt.clone()),
        voice: voice.clone(),
        conversation: config.conversation.clone(),
        store: Some(store.clone()),
        recording,
        prompt_audio: Default::default(),
    });
    // The conversation's fixed prompts are synthesised now, so no caller waits for them.
    let conversation = config.sip.as_ref().is_some_and(|sip| sip.app == "conversation");
    let warmed = if conversation { shared.warm()? } else { 0 };
    // Run one transcription now: the first real one would otherwise pay whisper's lazy set-up.
    let greeting = voice.synthesize(&shared.script().prompts.greeting)?;
    let mut transcriber = stt.transcriber()?;
    let heard = crate::audio::resample::resample(&greeting.samples, greeting.sample_rate, stt::SAMPLE_RATE)?;
    let self_test = transcriber.transcribe(&heard)?;
    drop(transcriber);
    tracing::info!(
        prompts = warmed,
        self_test_words = self_test.text.split_whitespace().count(),
        "speech ready: models loaded and verified"
    );
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.spawn(reload_on_hangup(Reload { path: config.path.clone(), shared: shared.clone(), store: store.clone(), retention }));
    match &config.sip {
        Some(sip) => {
            let ua_config = ua_config(sip, &config)?;
            let app = line_app(sip, &config, &shared)?;
            rt.block_on(async move {
                let ua = crate::sip::ua::UserAgent::bind(ua_config, app)
                    .await
                    .with_context(|| format!("cannot listen for SIP on {}", sip.listen))?;
                notify_systemd("READY=1");
                ua.run(termination()).await;
                anyhow::Ok(())
            })?;
        }
        None => {
            tracing::info!("no [sip] section: no telephone line configured; waiting for SIGTERM");
            notify_systemd("READY=1");
            rt.block_on(termination());
        }
    }
    notify_systemd("STOPPING=1");
    tracing::info!("stopping");
    if let Err(e) = store.audit("stop", &format!("pid {}", std::process::id())) {
        tracing::error!("cannot write the audit trail: {e:#}");
    }
    Ok(ExitCode::SUCCESS)
}

/// What a reload may change while calls go on.
struct Reload {
    path: PathBuf,
    shared: Arc<crate::call::engine::Shared>,
    store: Arc<crate::store::Store>,
    retention: Arc<std::sync::RwLock<crate::store::retention::RetentionSection>>,
}

/// `systemctl reload frontdesk` (SIGHUP): the config is read again. If it has mistakes they are
/// logged as file:line: key and the running configuration stays; otherwise the script (prompts,
/// hours, FAQ, requests), retention and logging.patient_data take effect for the calls that
/// start from then on. Both outcomes are audited.
async fn reload_on_hangup(reload: Reload) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else { return };
    let reload = Arc::new(reload);
    while hangup.recv().await.is_some() {
        let r = reload.clone();
        let _ = tokio::task::spawn_blocking(move || reload_config(&r)).await;
    }
}

fn reload_config(r: &Reload) {
    let digest = crate::staff::config_digest(&r.path);
    let audit = |action: &str, detail: String| {
        if let Err(e) = r.store.audit(action, &detail) {
            tracing::error!("cannot write the audit trail: {e:#}");
        }
    };
    match Config::load(&r.path) {
        Err(errors) => {
            tracing::error!("configuration NOT reloaded; the running one stays in effect. Fix:\n{errors}");
            audit("config_reload_refused", format!("{} sha256 {digest}: {} mistakes", r.path.display(), errors.0.len()));
        }
        Ok(config) => {
            r.shared.replace_script(crate::call::flow::Script::from_config(&config));
            *r.retention.write().unwrap_or_else(|p| p.into_inner()) = config.retention.clone();
            crate::logging::allow_patient_data(config.logging.patient_data);
            audit("config_reload", format!("{} sha256 {digest}", r.path.display()));
            let warmed = r.shared.warm().unwrap_or_else(|e| {
                tracing::error!("new prompts will be synthesised on the calls that need them: {e:#}");
                0
            });
            tracing::info!(
                new_prompts = warmed,
                "configuration reloaded: prompts, hours, FAQ, requests, retention and logging.patient_data apply to new calls; [sip], [registration], [rtp], [stt], [tts], [models], [store], [recording] and [conversation] take effect at the next restart"
            );
        }
    }
}

/// Retention runs at start and then once a day. A failed purge is logged and retried the next
/// day; it never stops the phone being answered.
fn start_retention(store: Arc<crate::store::Store>, policy: Arc<std::sync::RwLock<crate::store::retention::RetentionSection>>) {
    let _ = std::thread::Builder::new().name("retention".into()).spawn(move || {
        loop {
            let current = policy.read().unwrap_or_else(|p| p.into_inner()).clone();
            match crate::store::retention::purge(&store, &current, jiff::Timestamp::now()) {
                Ok(report) => {
                    tracing::info!(%report, "retention purge");
                    if let Ok(Some((entries, head))) = store.audit_head() {
                        tracing::info!(entries, head = %head, "audit trail checkpoint (compare with `frontdesk audit show`)");
                    }
                }
                Err(e) => tracing::error!("retention purge failed: {e:#}"),
            }
            std::thread::sleep(std::time::Duration::from_secs(24 * 3600));
        }
    });
}

fn ua_config(sip: &crate::config::SipSection, _config: &Config) -> Result<crate::sip::ua::UaConfig> {
    use crate::sip::sdp::Codec;
    let codecs = sip
        .codecs
        .iter()
        .map(|c| if c.eq_ignore_ascii_case("PCMA") { Codec::Pcma } else { Codec::Pcmu })
        .collect();
    let mut secret = [0u8; 16];
    for chunk in secret.chunks_mut(4) {
        chunk.copy_from_slice(&crate::rtp::session::rand_u32().to_le_bytes());
    }
    Ok(crate::sip::ua::UaConfig {
        listen: sip.listen,
        public_ip: sip.public_address.unwrap_or(sip.listen.ip()),
        allowed_sources: sip.allowed_sources.clone(),
        max_calls: sip.max_calls,
        busy_status: sip.busy_status,
        ringing: std::time::Duration::from_millis(sip.ringing_ms),
        codecs,
        rtp_ports: (_config.rtp.port_min, _config.rtp.port_max),
        jitter: _config.rtp.jitter(),
        user_agent: format!("frontdesk/{}", env!("CARGO_PKG_VERSION")),
        log_secret: secret.to_vec(),
        outbound: crate::sip::ua::OutboundConfig {
            proxy: sip.outbound_proxy.or_else(|| _config.registration.as_ref().and_then(|r| r.registrar_addr())),
            from_uri: _config.registration.as_ref().and_then(|r| {
                let registrar = r.registrar_addr()?;
                Some(format!("sip:{}@{}", r.username, r.domain.clone().unwrap_or_else(|| host_of(registrar))))
            }),
            credentials: _config.registration.as_ref().map(|r| crate::sip::digest::Credentials::new(r.username.clone(), r.password.clone())),
        },
        registration: _config.registration.as_ref().and_then(|r| {
            let registrar = r.registrar_addr()?;
            let host = r.domain.clone().unwrap_or_else(|| host_of(registrar));
            Some(crate::sip::register::RegistrationConfig {
                registrar,
                registrar_uri: format!("sip:{registrar}"),
                aor: format!("sip:{}@{host}", r.username),
                credentials: crate::sip::digest::Credentials::new(r.username.clone(), r.password.clone()),
                expires: r.expires,
            })
        }),
    })
}

/// The host part of a SIP URI for an address (IPv6 in brackets).
fn host_of(addr: std::net::SocketAddr) -> String {
    match addr.ip() {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

fn line_app(sip: &crate::config::SipSection, config: &Config, shared: &Arc<crate::call::engine::Shared>) -> Result<crate::sip::ua::AppFactory> {
    use crate::line::apps;
    Ok(match sip.app.as_str() {
        "conversation" => {
            let shared = shared.clone();
            Arc::new(move |leg| crate::call::engine::answer(shared.clone(), leg))
        }
        "announce" => {
            let a = &config.announce;
            let prompt = match &a.play {
                Some(p) => apps::load_announcement(&config.resolve(p))?,
                None => Vec::new(),
            };
            let settings = apps::AnnounceSettings {
                prompt,
                record_dir: a.record_dir.as_ref().map(|d| config.resolve(d)),
                record_seconds: a.record_seconds,
            };
            if let Some(dir) = &settings.record_dir {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create announce.record_dir {}", dir.display()))?;
            }
            std::sync::Arc::new(move |leg| apps::announce(leg, &settings))
        }
        "transfer" => {
            let target = config.transfer.target.clone().unwrap_or_default();
            std::sync::Arc::new(move |leg| apps::transfer(leg, &target))
        }
        _ => std::sync::Arc::new(apps::echo),
    })
}

/// Tells systemd (Type=notify) that start-up finished; a no-op outside systemd.
fn notify_systemd(state: &str) {
    if let Some(path) = std::env::var_os("NOTIFY_SOCKET")
        && let Ok(sock) = std::os::unix::net::UnixDatagram::unbound()
    {
        let _ = sock.send_to(state.as_bytes(), path);
    }
}

async fn termination() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
