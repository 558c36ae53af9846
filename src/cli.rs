//! The `frontdesk` command: the daemon and the tools staff and integrators use on the box.
//!
//! Every failure ends as one message on standard error naming the file and the fix, and a
//! non-zero exit: never a panic, never a bare "error: 2".

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::audio::g711::Law;
use crate::config::Config;
use crate::speech::models::Status;
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
    /// The systemd unit: drop-ins made from the config.
    #[command(subcommand)]
    Unit(UnitCommand),
    /// The optional language model: what would be sent to it.
    #[command(subcommand)]
    Assist(AssistCommand),
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
    /// Accounts of the web inbox (`[web]`): each person signs in with their own.
    #[command(subcommand)]
    Staff(StaffCommand),
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
    /// Installer tools for analog (FXO) lines.
    #[command(subcommand)]
    Line(LineCommand),
    /// How the running daemon is doing: calls, reply latency, RTP, registration, store size.
    /// Reads the daemon's `[metrics]` endpoint; no caller data is in it.
    Status {
        /// Print the Prometheus exposition as served.
        #[arg(long)]
        raw: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum LineCommand {
    /// What an analog line can be wired to here: ALSA cards and PCMs (with their rates and
    /// line switches), GPIO chips, hidraw devices.
    List,
    /// Check a wired analog line `[fxo.NAME]`: go off hook, listen a second (noise floor, dial
    /// tone), play a test tone for two seconds (how loud it comes back), go on hook.
    Test {
        /// The line's name in the config (`[fxo.NAME]`).
        name: String,
    },
    /// Print the caller ID found in a recording of an analog line (the on-hook audio between
    /// the first and second ring, or after a polarity reversal): FSK (Bell 202 or V.23) or DTMF.
    /// Exits 1 when there is none.
    DecodeCid {
        /// A WAV file at any common rate.
        file: PathBuf,
        /// The FSK modem to listen for; "auto" tries Bell 202, then V.23.
        #[arg(long, value_enum, default_value_t = CidModemArg::Auto)]
        modem: CidModemArg,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
pub enum CidModemArg {
    Auto,
    Bell202,
    V23,
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
pub enum UnitCommand {
    /// Print a drop-in (for /etc/systemd/system/frontdesk.service.d/network.conf) that lets the
    /// service reach the peers of the config outside the private networks the unit allows.
    Network {
        /// More networks to allow (CIDR), e.g. a SIP trunk's media servers.
        #[arg(long, value_name = "CIDR")]
        also: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum StaffCommand {
    /// Add an account, or set a new password for one; the password is read from standard
    /// input (typed twice, unseen, at a terminal).
    Add { name: String },
    /// Remove an account (its sessions end when they next expire or at a restart).
    Remove { name: String },
    /// The accounts.
    List,
}

#[derive(Subcommand, Debug)]
pub enum AssistCommand {
    /// Read utterances on standard input, one per line, and print for each, on one line,
    /// exactly the text that would be sent to the model: an empty line when nothing would be.
    Redact {
        /// A value the call captured (a name, a date of birth, a number), masked in any form;
        /// may be repeated.
        #[arg(long, value_name = "VALUE")]
        captured: Vec<String>,
        /// After each line, print why it was withheld, or how many spans were masked, on
        /// standard error.
        #[arg(long)]
        explain: bool,
    },
    /// Switch language model requests off now, without a restart (audited).
    Off,
    /// Switch them back on (audited); `[assist] enabled` must also be true.
    On,
    /// Every request that left for a language model: when, where, size, hash.
    Log {
        /// Also print the exact bodies that were sent (reading them is audited).
        #[arg(long)]
        bodies: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// Convert a CTranslate2 Whisper model directory into whisper.cpp's ggml file.
    ImportCt2 { dir: PathBuf, out: PathBuf },
    /// Rewrite a ggml Whisper model with its matrices in 8-bit blocks (q8_0): faster on a small
    /// CPU, a quarter of the file gone.
    QuantizeQ8 { input: PathBuf, output: PathBuf },
    /// Rewrite a ggml Whisper model with its matrices in another block format (q5_0 and q4_0
    /// are smaller still; BENCHMARKS.md says what they cost in accuracy and gain in speed).
    Quantize {
        input: PathBuf,
        output: PathBuf,
        #[arg(long, value_enum)]
        format: crate::speech::ggml_quantize::Format,
    },
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
        /// Text to speech only (no Whisper: seconds instead of minutes).
        #[arg(long)]
        tts_only: bool,
    },
    /// Turn latency on the wire: callers on loopback ask FAQ questions over RTP; from the
    /// caller's last voiced packet to the reply's first, with where the time went.
    Turns {
        #[arg(long, default_value_t = 1)]
        calls: usize,
        /// Turns to measure per call.
        #[arg(long, default_value_t = 20)]
        turns: usize,
        /// Every caller asks at the same moment, so all turns end within the same 20 ms (the
        /// worst case: a busy hour's overlapping calls); latency is reported by rank within
        /// each turn as well.
        #[arg(long)]
        aligned: bool,
    },
    /// Resident memory of the real daemon (started from this binary on a scratch copy of the
    /// config, loopback only): idle after start-up, with calls up, and by mapping.
    Memory {
        /// Simultaneous calls placed once the daemon is idle (0: idle only).
        #[arg(long, default_value_t = 4)]
        calls: usize,
        /// Questions each call asks.
        #[arg(long, default_value_t = 6)]
        turns: usize,
    },
    /// Time from start to READY=1 of the real daemon: a first start, then restarts.
    Start {
        #[arg(long, default_value_t = 4)]
        runs: usize,
    },
    /// Resident memory over many short calls (a day's worth, compressed): VmRSS after each
    /// batch, and its growth per 100 calls.
    Soak {
        #[arg(long, default_value_t = 300)]
        calls: usize,
        /// Calls at once.
        #[arg(long, default_value_t = 4)]
        batch: usize,
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
    /// Analog line receivers: DTMF and caller ID detection rates by level and noise, and their
    /// CPU per line.
    Signalling {
        /// Trials per cell (DTMF: rounds of 16 keys).
        #[arg(long, default_value_t = 20)]
        trials: u64,
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
    cli.clone().or_else(|| std::env::var_os("FRONTDESK_CONFIG").map(PathBuf::from)).unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
}

/// A password from standard input: at a terminal typed twice with echo off, else one line.
fn read_password() -> Result<String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    let read_line = || -> Result<String> {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    if !stdin.is_terminal() {
        return read_line();
    }
    // SAFETY: termios is plain data, filled by tcgetattr on fd 0 before it is read.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: fd 0 is a terminal (checked above) and `saved` is a valid termios to fill.
    let have = unsafe { libc::tcgetattr(0, &mut saved) } == 0;
    if have {
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: sets fd 0's attributes from a termios copied from its own.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) };
    }
    eprint!("password: ");
    let first = read_line();
    eprint!("\nagain: ");
    let second = read_line();
    eprintln!();
    if have {
        // SAFETY: restores the attributes read above.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
    }
    let (first, second) = (first?, second?);
    anyhow::ensure!(first == second, "the two passwords differ; nothing changed");
    Ok(first)
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

fn quantize(input: &Path, output: &Path, format: crate::speech::ggml_quantize::Format) -> Result<ExitCode> {
    let s = crate::speech::ggml_quantize::quantize(input, output, format)?;
    println!(
        "{}: {} matrices in {format:?}, {} tensors copied, {:.1} MB -> {:.1} MB",
        output.display(),
        s.quantized,
        s.copied,
        s.bytes_in as f64 / 1e6,
        s.bytes_out as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let path = config_path(&cli.config);
    match cli.command {
        Command::Models(ModelsCommand::ImportCt2 { dir, out }) => import_ct2(&dir, &out),
        Command::Models(ModelsCommand::QuantizeQ8 { input, output }) => {
            quantize(&input, &output, crate::speech::ggml_quantize::Format::Q8_0)
        }
        Command::Models(ModelsCommand::Quantize { input, output, format }) => quantize(&input, &output, format),
        Command::Line(LineCommand::DecodeCid { file, modem }) => decode_cid(&file, modem),
        Command::Line(LineCommand::Test { name }) => {
            let config = load_config(&path)?;
            crate::logging::init(&config.logging.level);
            let Some(line) = config.fxo_line(&name) else {
                let names: Vec<&str> = config.fxo.keys().map(String::as_str).collect();
                anyhow::bail!(
                    "{}: no [fxo.{name}] section (analog lines configured: {})",
                    path.display(),
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                );
            };
            let test = crate::fxo::line_test::run(&line).map_err(|e| anyhow::anyhow!("analog line {name:?}: {e:#}"))?;
            println!("{test}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Line(LineCommand::List) => {
            print!("{}", crate::fxo::inventory::report());
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
        Command::Assist(AssistCommand::Redact { captured, explain }) => {
            let config = quiet_config(&path)?;
            assist_redact(&config, &captured, explain)
        }
        Command::Assist(AssistCommand::Off) => crate::staff::assist_switch(&quiet_config(&path)?, true),
        Command::Assist(AssistCommand::On) => crate::staff::assist_switch(&quiet_config(&path)?, false),
        Command::Assist(AssistCommand::Log { bodies }) => {
            crate::staff::assist_log(&quiet_config(&path)?, bodies, &mut std::io::stdout().lock())
        }
        Command::Unit(UnitCommand::Network { also }) => {
            let config = load_config(&path)?;
            print!("{}", crate::daemon::systemd::network_dropin(&config, &also)?);
            Ok(ExitCode::SUCCESS)
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
        Command::Bench(BenchCommand::Speech { iterations, tts_only }) => {
            let config = quiet_config(&path)?;
            crate::bench::speech(&config, iterations.max(1), tts_only)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Turns { calls, turns, aligned }) => {
            let config = quiet_config(&path)?;
            crate::bench_turns::run(&config, calls.clamp(1, 16), turns.clamp(1, 500), aligned)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Memory { calls, turns }) => {
            let config = quiet_config(&path)?;
            crate::bench_memory::run(&config, calls.min(16), turns.clamp(1, 100))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Start { runs }) => {
            let config = quiet_config(&path)?;
            crate::bench_soak::start(&config, runs.clamp(2, 20))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Soak { calls, batch }) => {
            let config = quiet_config(&path)?;
            crate::bench_soak::soak(&config, calls.clamp(1, 5000), batch.clamp(1, 16))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Records { calls, dir }) => {
            crate::logging::init("error");
            crate::bench_records::run(calls.clamp(1, 100_000), &dir.unwrap_or_else(std::env::temp_dir))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Signalling { trials }) => {
            crate::logging::init("warn");
            crate::bench_signalling::run(trials.clamp(1, 1000))?;
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
            crate::daemon::dial::call(&config, &target, play.as_deref(), seconds, ring_timeout)
        }
        Command::Simulate { audio, now, caller, transfer_fails, save, show_listening } => {
            let config = load_config(&path)?;
            crate::logging::init(if save { &config.logging.level } else { "warn" });
            crate::logging::allow_patient_data(config.logging.patient_data);
            let now = now.map(|n| parse_clock(&n)).transpose()?;
            let opts = crate::call::simulate::Options { audio, now, caller, transfer_fails, show_listening };
            let stdin = std::io::stdin();
            let record = crate::call::simulate::run(
                &config.script(),
                &config.stt_settings(),
                &config.tts_settings(),
                &opts,
                &mut stdin.lock(),
                &mut std::io::stdout(),
            )?;
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
                CallsCommand::Export { id, format: ExportFormat::Json, recording } => {
                    crate::staff::export(&config, id, recording.as_deref(), out)
                }
                CallsCommand::Stats => crate::staff::stats(&config, out),
            }
        }
        Command::Staff(cmd) => {
            let config = quiet_config(&path)?;
            let store = crate::staff::open(&config)?;
            let dir = config.store_settings().data_dir;
            match cmd {
                StaffCommand::Add { name } => {
                    let password = read_password()?;
                    let new = crate::web::accounts::set(&dir, &name, &password)?;
                    store.audit(if new { "staff_add" } else { "staff_password" }, &format!("web inbox account {name}"))?;
                    println!("{} {name}", if new { "added" } else { "new password for" });
                }
                StaffCommand::Remove { name } => {
                    if !crate::web::accounts::remove(&dir, &name)? {
                        anyhow::bail!("there is no account {name:?}: see `frontdesk staff list`");
                    }
                    store.audit("staff_remove", &format!("web inbox account {name}"))?;
                    println!("removed {name}");
                }
                StaffCommand::List => {
                    for n in crate::web::accounts::names(&dir)? {
                        println!("{n}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
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
        Command::Status { raw } => {
            let config = quiet_config(&path)?;
            let Some(listen) = config.metrics.listen else {
                bail!(
                    "{}: [metrics] has no listen address, so the daemon serves no counters; set e.g. listen = \"127.0.0.1:9464\" and restart it",
                    config.path.display()
                );
            };
            let url = format!("http://{listen}/metrics");
            let text = ureq::get(&url)
                .call()
                .and_then(|mut r| r.body_mut().read_to_string())
                .with_context(|| format!("cannot read {url}: is the daemon running? (systemctl status frontdesk)"))?;
            if raw {
                print!("{text}");
            } else {
                println!("Frontdesk, from {url}\n");
                print!("{}", crate::metrics::summary(&text));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run => {
            let config = load_config(&path)?;
            crate::logging::init(&config.logging.level);
            crate::daemon::run(config)
        }
    }
}

fn import_ct2(dir: &Path, out: &Path) -> Result<ExitCode> {
    if !dir.join("model.bin").is_file() {
        bail!("{} has no model.bin: give the directory of a CTranslate2 Whisper export (model.bin, tokenizer.json)", dir.display());
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
    let checks = config.model_check().map_err(anyhow::Error::msg)?;
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

/// Longest recording `line decode-cid` reads: a ring cycle or two.
const MAX_CID_RECORDING_S: u32 = 120;

fn decode_cid(file: &Path, modem: CidModemArg) -> Result<ExitCode> {
    use crate::audio::fsk::{BELL202, V23};
    use crate::fxo::cid::{Absence, CidListener};
    let audio = crate::wav::read_mono(file, MAX_CID_RECORDING_S)?;
    let line = crate::audio::telephone::to_line_pcm(&audio.samples, audio.sample_rate)?;
    let modems: &[(_, &str)] = match modem {
        CidModemArg::Auto => &[(BELL202, "Bell 202"), (V23, "V.23")],
        CidModemArg::Bell202 => &[(BELL202, "Bell 202")],
        CidModemArg::V23 => &[(V23, "V.23")],
    };
    let mut found = 0;
    for &(m, name) in modems {
        let mut listener = CidListener::new(m);
        let mut heard: Vec<_> =
            line.chunks(crate::line::FRAME_SAMPLES).enumerate().filter_map(|(i, f)| Some((i, listener.push(f)?))).collect();
        let n = line.len() / crate::line::FRAME_SAMPLES;
        heard.extend(listener.finish().map(|id| (n, Ok(id))));
        for (frame, result) in heard {
            let at = frame as f64 * 0.02;
            match result {
                Ok(id) => {
                    found += 1;
                    let absent = |a: Option<Absence>| match a {
                        Some(Absence::Private) => "withheld",
                        Some(Absence::Unavailable) => "unavailable",
                        None => "not sent",
                    };
                    let number = id.number.clone().unwrap_or_else(|| absent(id.number_absent).into());
                    let name_text = id.name.clone().unwrap_or_else(|| absent(id.name_absent).into());
                    let when = id.when.map(|[mo, d, h, mi]| format!(", sent {mo:02}-{d:02} {h:02}:{mi:02}")).unwrap_or_default();
                    println!("{at:.2} s: caller ID ({name} or DTMF): number {number}, name {name_text}{when}");
                }
                Err(e) => println!("{at:.2} s: {e} ({name})"),
            }
        }
        if found > 0 {
            break;
        }
    }
    if found == 0 {
        eprintln!(
            "{}: no caller ID found ({} s listened to, for {} FSK and DTMF). Record the line on hook between the first and second ring, with the interface's caller ID path open.",
            file.display(),
            line.len() / 8000,
            modems.iter().map(|m| m.1).collect::<Vec<_>>().join(" and ")
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
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
    let samples = if rate == crate::audio::telephone::RATE {
        crate::audio::telephone::through_g711(&audio.samples, audio.sample_rate, law)?
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
        .or_else(|_| {
            s.parse::<jiff::civil::DateTime>()
                .map_err(anyhow::Error::from)
                .and_then(|dt| Ok(dt.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp()))
        })
        .with_context(|| format!("--now {s:?}: write a time such as 2026-11-23T10:00:00-05:00"))
}

/// `frontdesk assist redact`: the redactor on standard input, line by line, as a call would use
/// it. Output is flushed per line so it can be driven interactively.
fn assist_redact(config: &Config, captured: &[String], explain: bool) -> Result<ExitCode> {
    use crate::assist::redact::{Captured, Redacted};
    use std::io::{BufRead, Write};
    let redactor = config.redactor();
    let mut values = Captured::default();
    for v in captured {
        values.add(v);
    }
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let r = redactor.redact(&line, &values);
        writeln!(out, "{}", r.text().unwrap_or(""))?;
        out.flush()?;
        if explain {
            match r {
                Redacted::Send { masked, .. } => eprintln!("sent, {masked} spans masked"),
                Redacted::Withheld(why) => eprintln!("withheld: {why}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
