//! `frontdesk dial`: one outgoing call, for an integrator checking the trunk or the PBX's
//! outbound route. The call gets the announce app: it plays a WAV and listens.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::call::apps;
use crate::config::Config;
use crate::line::Answer;
use crate::sip::ua::{Dial, UserAgent};

/// Places one call with a user agent of its own on a free port, so it works beside a running
/// daemon, and returns once the call ended (or failed).
pub fn call(config: &Config, target: &str, play: Option<&Path>, seconds: u32, ring_timeout: u64) -> Result<ExitCode> {
    let sip = config.sip.as_ref().context("dial needs a [sip] section in the config")?;
    let mut ua_config = sip.ua_config(&config.rtp, config.registration.as_ref());
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
    let app: Answer = Arc::new(move |leg| {
        apps::announce(leg, &settings);
        let _ = done_tx.lock().map(|tx| tx.send(()));
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let ua = UserAgent::bind(ua_config, app).await.context("cannot open a SIP socket")?;
        let dialer = ua.dialer();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(ua.run(async move {
            let _ = stop_rx.await;
        }));
        let (result_tx, result_rx) = std::sync::mpsc::channel();
        let _ = dialer.send(Dial {
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
