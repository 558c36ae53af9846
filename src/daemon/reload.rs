//! `systemctl reload frontdesk` (SIGHUP): the config file read again while calls go on.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::call::engine::Shared;
use crate::call::flow::Script;
use crate::config::Config;
use crate::store::Store;
use crate::store::retention::RetentionSection;

/// What a reload may change while calls go on.
pub struct Reload {
    pub path: PathBuf,
    pub shared: Arc<Shared>,
    pub store: Arc<Store>,
    pub retention: Arc<RwLock<RetentionSection>>,
    /// For the status line systemd is given after the reload.
    pub slots: crate::line::CallSlots,
    pub summaries: Arc<super::summaries::Summaries>,
}

/// `systemctl reload frontdesk` (SIGHUP): the config is read again. If it has mistakes they are
/// logged as file:line: key and the running configuration stays; otherwise the script (prompts,
/// hours, FAQ, requests), the language model (`[assist]`), retention and logging.patient_data
/// take effect for the calls that start from then on. Both outcomes are audited.
pub async fn on_hangup(reload: Reload) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else { return };
    let reload = Arc::new(reload);
    while hangup.recv().await.is_some() {
        let r = reload.clone();
        super::systemd::reloading();
        let _ = tokio::task::spawn_blocking(move || reload_config(&r)).await;
        super::systemd::notify(&format!("READY=1\nSTATUS={}", super::systemd::box_status(&reload.slots)));
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
            r.shared.replace_script(Script::new(&config.script()));
            match super::assist::build(&config, &r.store) {
                Ok(a) => {
                    r.shared.replace_classifier(a.classifier);
                    r.summaries.replace(a.summarizer);
                }
                Err(e) => tracing::error!("[assist] not reloaded, the running language model settings stay: {e:#}"),
            }
            *r.retention.write().unwrap_or_else(|p| p.into_inner()) = config.retention.clone();
            crate::logging::allow_patient_data(config.logging.patient_data);
            audit("config_reload", format!("{} sha256 {digest}", r.path.display()));
            let warmed = r.shared.warm_with(super::release_free_memory).unwrap_or_else(|e| {
                tracing::error!("new prompts will be synthesised on the calls that need them: {e:#}");
                0
            });
            tracing::info!(
                new_prompts = warmed,
                "configuration reloaded: prompts, hours, FAQ, requests, [assist], retention and logging.patient_data apply to new calls; [answer], [sip], [registration], [rtp], [stt], [tts], [models], [store], [recording] and [conversation] take effect at the next restart"
            );
        }
    }
}
