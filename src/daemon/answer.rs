//! `[answer]`: which app a call gets, per line and per dialled number, and the answering hook
//! each line is started with.
//!
//! Lines know nothing of apps: a line hands every call it answers to its [`Answer`] hook, and
//! the hook made here looks at the call's line and dialled number and runs the app chosen for
//! them. A clinic with one number needs only `app`; a box on two lines, or a PBX that sends
//! an "after hours" extension and a "recorded message" extension to the same box, uses
//! `lines` and `[answer.dialled]`.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::call::apps::{self, AnnounceSettings, App};
use crate::call::engine::Shared;
use crate::config::Config;
use crate::line::{Answer, CallLeg};

/// The kinds of line this build can run, as `[answer] lines` names them.
pub const LINE_KINDS: &[&str] = &["sip", "fxo"];

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AnswerSection {
    /// What answers every call not routed otherwise below.
    #[serde(default = "default_app")]
    pub app: App,
    /// Per line kind, e.g. `lines = { sip = "conversation" }`.
    #[serde(default)]
    pub lines: BTreeMap<String, App>,
    /// Per dialled number (the SIP request's user part, an analog line's `number`):
    /// `"2001" = "announce"`. Takes precedence over `lines` and `app`.
    #[serde(default)]
    pub dialled: BTreeMap<String, App>,
}

fn default_app() -> App {
    App::Conversation
}

impl Default for AnswerSection {
    fn default() -> Self {
        AnswerSection { app: default_app(), lines: BTreeMap::new(), dialled: BTreeMap::new() }
    }
}

impl AnswerSection {
    /// The app for a call on `line` to `dialled`: the dialled number's, else the line's, else
    /// `app`.
    pub fn app_for(&self, line: &str, dialled: Option<&str>) -> App {
        dialled.and_then(|d| self.dialled.get(d)).or_else(|| self.lines.get(line)).copied().unwrap_or(self.app)
    }

    /// Every route as (section, key, app), for checks that depend on other sections.
    pub fn routes(&self) -> Vec<(String, String, App)> {
        let mut r = vec![("answer".to_string(), "app".to_string(), self.app)];
        r.extend(self.lines.values().map(|&a| ("answer".to_string(), "lines".to_string(), a)));
        r.extend(self.dialled.iter().map(|(n, &a)| ("answer.dialled".to_string(), n.clone(), a)));
        r
    }

    /// Whether any call can get `app`.
    pub fn uses(&self, app: App) -> bool {
        self.routes().iter().any(|(_, _, a)| *a == app)
    }

    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        for line in self.lines.keys() {
            if !LINE_KINDS.contains(&line.as_str()) {
                p.push(("lines", format!("{line:?} is not a kind of line: use {}", LINE_KINDS.join(", "))));
            }
        }
        if self.dialled.keys().any(|n| n.trim().is_empty()) {
            p.push(("dialled", "a dialled number must not be empty".into()));
        }
        p
    }
}

/// Everything the apps need, prepared once at start so that no call waits for it.
pub struct Apps {
    routes: AnswerSection,
    conversation: Arc<Shared>,
    announce: Option<Arc<AnnounceSettings>>,
    transfer: String,
    /// Calls being answered now.
    active: std::sync::atomic::AtomicUsize,
    /// Where a conversation's finished record goes for its summary.
    summaries: Arc<super::summaries::Summaries>,
}

impl Apps {
    /// Loads what the routed apps need (the announcement WAV, its recording directory).
    pub fn prepare(config: &Config, conversation: Arc<Shared>, summaries: Arc<super::summaries::Summaries>) -> Result<Apps> {
        let announce = if config.answer.uses(App::Announce) {
            let a = &config.announce;
            let prompt = match &a.play {
                Some(p) => apps::load_announcement(&config.resolve(p))?,
                None => Vec::new(),
            };
            let settings =
                AnnounceSettings { prompt, record_dir: a.record_dir.as_ref().map(|d| config.resolve(d)), record_seconds: a.record_seconds };
            if let Some(dir) = &settings.record_dir {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create announce.record_dir {}", dir.display()))?;
            }
            Some(Arc::new(settings))
        } else {
            None
        };
        Ok(Apps {
            routes: config.answer.clone(),
            conversation,
            announce,
            transfer: config.transfer.target.clone().unwrap_or_default(),
            active: Default::default(),
            summaries,
        })
    }

    /// Whether any call can get `app`.
    pub fn uses(&self, app: App) -> bool {
        self.routes.uses(app)
    }

    /// The answering hook for the line of kind `line`.
    pub fn hook(self: &Arc<Self>, line: &'static str) -> Answer {
        let apps = self.clone();
        Arc::new(move |leg| apps.answer(line, leg))
    }

    fn answer(&self, line: &'static str, leg: Box<dyn CallLeg>) {
        self.active.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.run_app(line, leg);
        // The last call's recognition and synthesis scratch goes back to the system.
        if self.active.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            super::release_free_memory();
        }
    }

    fn run_app(&self, line: &'static str, leg: Box<dyn CallLeg>) {
        let app = self.routes.app_for(line, leg.info().dialled.as_deref());
        // The dialled number is the caller's choice of extension: not logged.
        tracing::debug!(call = %leg.info().log_id, line, %app, "answering");
        match app {
            App::Conversation => {
                if let Some(id) = crate::call::engine::answer(self.conversation.clone(), leg) {
                    self.summaries.after_call(id);
                }
            }
            App::Echo => apps::echo(leg),
            App::Transfer => apps::transfer(leg, &self.transfer),
            App::Announce => match &self.announce {
                Some(settings) => apps::announce(leg, settings),
                // `prepare` loads it whenever a route names the app.
                None => apps::echo(leg),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> AnswerSection {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_dialled_number_wins_over_the_line_and_the_line_over_the_default() {
        let a = section("app = \"conversation\"\nlines = { sip = \"echo\" }\n[dialled]\n\"2001\" = \"announce\"\n");
        assert_eq!(a.app_for("sip", Some("2001")), App::Announce);
        assert_eq!(a.app_for("sip", Some("2002")), App::Echo);
        assert_eq!(a.app_for("sip", None), App::Echo);
        assert_eq!(a.app_for("fxo", None), App::Conversation);
        assert!(a.uses(App::Announce) && !a.uses(App::Transfer));
    }

    #[test]
    fn an_unknown_app_or_line_is_named() {
        let e = toml::from_str::<AnswerSection>("app = \"voicemail\"").unwrap_err().to_string();
        assert!(e.contains("voicemail") && e.contains("conversation"), "{e}");
        let p = section("lines = { pots = \"echo\" }").problems();
        assert_eq!(p.len(), 1);
        assert!(p[0].1.contains("pots") && p[0].1.contains("sip"), "{p:?}");
    }
}
