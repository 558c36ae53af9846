//! The daemon: the composition root, and the only module that names line types.
//!
//! `run` decides the start-up order, and each step is here because of what could go wrong:
//!
//! 1. The store opens first: a missing or wrong key must stop the daemon before anything
//!    else, and the retention thread starts with it.
//! 2. The models are verified against their checksums and loaded, then exercised once (a
//!    synthesis and a transcription), so no caller pays whisper's lazy set-up and a box that
//!    cannot hear or speak says so in `systemctl status`, not on the first call.
//! 3. The apps `[answer]` routes to are prepared (the conversation's fixed prompts
//!    synthesised, the announcement loaded).
//! 4. Each configured line is started with its answering hook. Only when every line is ready
//!    does systemd hear READY=1.
//! 5. SIGHUP reloads the script ([`reload`]). SIGTERM tells each conversation to say why it
//!    ends and hang up, waits a few seconds for that, then stops the lines (which end what is
//!    left); the stop is audited. systemd hears about all of it ([`systemd`]), and its watchdog
//!    is fed only while every loop of the box makes progress (`health`).
//!
//! Everything else is elsewhere: `line` says what a line is, `sip` and `fxo` are lines, `call` holds a
//! conversation on any of them, `cli` parses the command line.

pub mod answer;
pub mod assist;
pub mod dial;
pub mod metrics;
pub mod reload;
pub mod retention;
pub mod summaries;
pub mod systemd;

use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result, bail};

use crate::call::apps::App;
use crate::call::engine::{Shared, SttPool};
use crate::call::flow::Script;
use crate::config::Config;
use crate::line::{CallSlots, Line, LineFuture};
use crate::speech::models::Status;
use crate::speech::stt::{self, Stt};
use crate::speech::tts::Voice;

/// Runs the daemon on `config` until SIGTERM.
pub fn run(config: Config) -> Result<ExitCode> {
    tracing::info!(config = %config.path.display(), "starting");
    tune_allocator();
    crate::logging::allow_patient_data(config.logging.patient_data);
    let (store, _daemon_lock) = crate::staff::daemon_store(&config)?;
    let store = Arc::new(store);
    tracing::info!(database = %store.path().display(), key_id = store.key_id(), "call records (encrypted)");
    let retention = Arc::new(RwLock::new(config.retention.clone()));
    retention::start(store.clone(), retention.clone());

    systemd::status("verifying and loading the speech models");
    require_models(&config)?;
    let stt = Arc::new(Stt::load(&config.stt_settings())?);
    let voice = Arc::new(Voice::load(&config.tts_settings())?);
    let recording = config.recording.enabled.then(|| config.recording.announcement.clone());
    if recording.is_some() {
        tracing::info!("calls are recorded (recording.enabled), after the consent announcement");
    }
    let assist = assist::build(&config, &store)?;
    let summaries = Arc::new(summaries::Summaries::start(store.clone(), assist.summarizer)?);
    let shared = Arc::new(Shared {
        script: RwLock::new(Script::new(&config.script())),
        stt_pool: SttPool::start(stt.clone()),
        voice: voice.clone(),
        conversation: config.conversation.clone(),
        store: Some(store.clone()),
        recording,
        prompt_audio: Default::default(),
        closing: Default::default(),
        // Fixed prompts kept from the last start: a restart is ready in seconds.
        prompt_cache: Some(crate::call::prompt_cache::PromptCache::new(&config.store.data_dir.join("prompts"), voice.identity())),
        classifier: RwLock::new(assist.classifier),
    });
    systemd::status("synthesising the script's prompts");
    let apps = Arc::new(answer::Apps::prepare(&config, shared.clone(), summaries.clone())?);
    // The conversation's fixed prompts are synthesised now, so no caller waits for them.
    let warmed = if apps.uses(App::Conversation) { shared.warm_with(release_free_memory)? } else { 0 };
    // Run one transcription now: the first real one would otherwise pay whisper's lazy set-up.
    let greeting = voice.synthesize(&shared.script().prompts.greeting)?;
    let mut transcriber = stt.transcriber()?;
    let heard = crate::audio::resample::resample(&greeting.samples, greeting.sample_rate, stt::SAMPLE_RATE)?;
    let self_test = transcriber.transcribe(&heard)?;
    drop(transcriber);
    // What start-up synthesised and transcribed left free pages in malloc's heaps: give them
    // back before the daemon waits for calls.
    release_free_memory();
    settle_allocator();
    tracing::info!(
        prompts = warmed,
        self_test_words = self_test.text.split_whitespace().count(),
        "speech ready: models loaded and verified"
    );

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let slots = config.call_slots();
    rt.spawn(reload::on_hangup(reload::Reload {
        path: config.path.clone(),
        shared: shared.clone(),
        store: store.clone(),
        retention,
        slots: slots.clone(),
        summaries,
    }));
    let lines = configured_lines(&config, &slots);
    check_realtime();
    let closing = shared.clone();
    let metrics_at = config.metrics.listen.map(|a| (a, store.clone()));
    // The inbox reads the clinic's time zone from a config of its own (the file as it was at
    // start, like the line settings).
    let web = match &config.web {
        Some(w) => Some((w.clone(), Arc::new(Config::load(&config.path).map_err(|e| anyhow::anyhow!("{e}"))?), store.clone())),
        None => None,
    };
    rt.block_on(async move {
        rt_heartbeat();
        if let Some((listen, store)) = metrics_at {
            tokio::spawn(metrics::serve(listen, store).await?);
        }
        if let Some((section, config, store)) = web {
            tokio::spawn(async move {
                if let Err(e) = crate::web::serve(section, config, store).await {
                    tracing::error!("the web inbox stopped: {e:#}");
                }
            });
        }
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut serving = Vec::new();
        for line in lines {
            let kind = line.kind();
            let mut stopped = stop_rx.clone();
            let stop: LineFuture<()> = Box::pin(async move {
                let _ = stopped.wait_for(|s| *s).await;
            });
            let serve = line.start(apps.hook(kind), stop).await.with_context(|| format!("the {kind} line did not start"))?;
            serving.push(tokio::spawn(serve));
        }
        if serving.is_empty() {
            tracing::info!("no line configured (no [sip] or [fxo.NAME] section): no calls will come; waiting for SIGTERM");
        }
        systemd::notify(&format!("READY=1\nSTATUS={}", systemd::box_status(&slots)));
        systemd::start_watchdog(slots.clone());
        systemd::termination().await;
        let calls = slots.in_use();
        systemd::notify(&format!("STOPPING=1\nSTATUS=stopping: ending {calls} calls"));
        tracing::info!(calls, "stopping: calls in progress are told and ended");
        end_calls(&closing, &slots).await;
        let _ = stop_tx.send(true);
        for s in serving {
            let _ = s.await;
        }
        anyhow::Ok(())
    })?;
    if let Err(e) = store.audit("stop", &format!("pid {}", std::process::id())) {
        tracing::error!("cannot write the audit trail: {e:#}");
    }
    Ok(ExitCode::SUCCESS)
}

/// How long calls in progress get at SIGTERM to hear why they end and hang up, before the
/// lines end what is left (well inside the unit's `TimeoutStopSec=`).
pub const CLOSING_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

/// SIGTERM: each conversation says the closing prompt and hangs up (`Shared::close`); waits
/// until every call is over or [`CLOSING_GRACE`] passes. Each record is finished and sealed by
/// its call as it ends.
async fn end_calls(shared: &Shared, slots: &CallSlots) {
    shared.close();
    let deadline = tokio::time::Instant::now() + CLOSING_GRACE;
    while slots.in_use() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    if slots.in_use() > 0 {
        tracing::warn!(calls = slots.in_use(), "calls still going after the grace period: the lines end them");
    }
}

/// Says at start whether media threads will get real-time priority: without it a busy box
/// may send a call's audio late, and the installer should know why.
fn check_realtime() {
    let granted = std::thread::spawn(crate::line::clock::realtime_thread).join().unwrap_or(false);
    if granted {
        tracing::info!("media threads run at real-time priority (SCHED_FIFO)");
    } else {
        tracing::warn!(
            "media threads cannot get real-time priority: audio may stutter while speech models are busy. The systemd unit's LimitRTPRIO=20 allows it; outside systemd, `ulimit -r 20` or CAP_SYS_NICE"
        );
    }
}

/// A beat the async reactor ticks, so the watchdog also stops if the reactor is blocked (the
/// SIP socket loop and signal handling run on it).
fn rt_heartbeat() {
    let beat = crate::health::Beat::new("async reactor", crate::health::Kind::Periodic);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_millis(250));
        loop {
            every.tick().await;
            beat.tick();
        }
    });
}

/// glibc malloc for start-up. Arenas are capped at two: by default every thread that
/// allocates may get an arena of its own (up to eight per core), each keeping the free memory
/// of its largest burst, and a call has a synthesis worker, a call thread and a media thread;
/// two arenas keep allocation off a single lock. Blocks of 256 KiB and more are mapped and
/// unmapped one by one while the prompts are synthesised: each prompt's scratch (hundreds of
/// MiB for a long sentence) then leaves nothing behind for the next to pile on, which bounds
/// the start-up peak, at the cost of page faults a call must not pay ([`settle_allocator`]).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets parameters of glibc's allocator, which takes its own lock; they
    // apply to allocations from now on.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// glibc malloc for calls, once start-up is done: freed synthesis and recognition scratch is
/// kept for reuse (blocks under 32 MiB come from the heaps; up to 64 MiB free at a heap's top
/// is kept), as glibc's own adaptive settings end up after a few syntheses, so a reply does not
/// pay page faults for every tensor. What is kept goes back when the calls end.
fn settle_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: as in tune_allocator.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 * 1024 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    }
}

/// Gives the free pages of malloc's heaps back to the kernel (`malloc_trim`). Called when the
/// daemon has just been busy and is about to wait: after each prompt synthesised at start-up
/// and on reload (so the scratch of one does not pile on the next), and when the last call
/// ends. A few milliseconds; the next synthesis pays the page faults of its scratch again.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes each arena's lock and only releases pages of free chunks; no
    // pointer we hold is touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The lines the config sets up. Adding a line type means a section in the config, a module
/// implementing [`Line`], and an entry here.
fn configured_lines(config: &Config, slots: &CallSlots) -> Vec<Box<dyn Line>> {
    let mut lines: Vec<Box<dyn Line>> = Vec::new();
    if let Some(sip) = &config.sip {
        let mut ua = sip.ua_config(&config.rtp, config.registration.as_ref());
        ua.slots = slots.clone();
        lines.push(Box::new(crate::sip::line::SipLine { config: ua }));
    }
    for name in config.fxo.keys() {
        if let Some(line) = config.fxo_line(name) {
            lines.push(Box::new(crate::fxo::line::FxoLine { config: line, slots: slots.clone() }));
        }
    }
    lines
}

/// Refuses to start on missing or altered models: a box that cannot hear or speak must say so
/// at start, where staff see it in `systemctl status`, not on the first call.
pub fn require_models(config: &Config) -> Result<()> {
    let checks = config.model_check().map_err(anyhow::Error::msg)?;
    let problems: Vec<String> = checks.iter().filter(|c| c.status != Status::Ok).map(|c| c.to_string()).collect();
    if !problems.is_empty() {
        bail!("model files failed verification:\n{}", problems.join("\n"));
    }
    Ok(())
}
