//! Liveness and status: what the systemd watchdog and `systemctl status` are told.
//!
//! A watchdog fed by a timer proves only that the timer runs. Here every loop whose stall
//! would leave callers in silence holds a [`Beat`] and shows progress on it: the SIP socket
//! loop and the async reactor tick it every turn, each media thread (RTP, an analog line)
//! every 20 ms frame, each recognition worker says when a job starts and ends. The daemon's
//! watchdog (`daemon::systemd`) pings systemd only while [`stalled`] finds none of them stuck,
//! so a wedged worker or a stuck media thread gets the service restarted.
//!
//! Beats are registered here by name and forgotten when their owner drops them (a media
//! thread's beat goes with its call). Nothing in this module allocates on a tick: a tick is
//! one atomic store.
//!
//! The same registry keeps one short status phrase per part ("sip: registered to
//! pbx.example"), which the daemon joins into systemd's `STATUS=`. Phrases carry no caller data.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// What progress means for a beat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A loop that turns on its own (a media clock, a socket loop with a timer): stuck when
    /// it has not ticked for the limit.
    Periodic,
    /// A worker that waits for jobs: idle is fine, stuck when one job has run for the limit.
    Worker,
}

/// One loop's proof of progress. Cheap to tick from a real-time thread.
pub struct Beat {
    name: String,
    kind: Kind,
    /// Milliseconds since [`epoch`] of the last tick (Periodic) or of the job's start (Worker;
    /// 0 while idle).
    at_ms: AtomicU64,
}

/// A job in progress on a [`Kind::Worker`] beat; the worker is idle again when it is dropped.
pub struct Busy<'a>(&'a Beat);

impl Beat {
    /// Registers a new beat. Keep the `Arc` for as long as the loop runs.
    pub fn new(name: impl Into<String>, kind: Kind) -> Arc<Beat> {
        let beat = Arc::new(Beat { name: name.into(), kind, at_ms: AtomicU64::new(0) });
        beat.tick();
        if kind == Kind::Worker {
            beat.at_ms.store(0, Ordering::Relaxed);
        }
        let mut beats = registry().beats.lock().unwrap_or_else(|p| p.into_inner());
        beats.retain(|b| b.strong_count() > 0);
        beats.push(Arc::downgrade(&beat));
        beat
    }

    /// The loop made a turn.
    pub fn tick(&self) {
        self.at_ms.store(now_ms().max(1), Ordering::Relaxed);
    }

    /// A job starts; it ends when the guard is dropped.
    pub fn busy(&self) -> Busy<'_> {
        self.tick();
        Busy(self)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long this beat has shown no progress, if that counts as a stall.
    fn stalled_for(&self, now_ms: u64) -> Option<Duration> {
        let at = self.at_ms.load(Ordering::Relaxed);
        match self.kind {
            Kind::Worker if at == 0 => None,
            _ => Some(Duration::from_millis(now_ms.saturating_sub(at))),
        }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.at_ms.store(0, Ordering::Relaxed);
    }
}

/// A loop that has made no progress for at least the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stall {
    pub name: String,
    pub kind: Kind,
    pub for_: Duration,
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            Kind::Periodic => "has not turned",
            Kind::Worker => "has been on one job",
        };
        write!(f, "{} {what} for {:.1} s", self.name, self.for_.as_secs_f32())
    }
}

/// The beats stuck for `limit` or longer, longest first.
pub fn stalled(limit: Duration) -> Vec<Stall> {
    let now = now_ms();
    let beats = registry().beats.lock().unwrap_or_else(|p| p.into_inner());
    let mut out: Vec<Stall> = beats
        .iter()
        .filter_map(Weak::upgrade)
        .filter_map(|b| b.stalled_for(now).filter(|d| *d >= limit).map(|for_| Stall { name: b.name.clone(), kind: b.kind, for_ }))
        .collect();
    out.sort_by(|a, b| b.for_.cmp(&a.for_));
    out
}

/// How many beats are alive (registered and not dropped).
pub fn beats() -> usize {
    registry().beats.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|b| b.strong_count() > 0).count()
}

/// Sets the status phrase of one part of the box ("sip", "fxo front"); an empty phrase
/// removes it.
pub fn set_status(part: &str, phrase: impl Into<String>) {
    let phrase = phrase.into();
    let mut status = registry().status.lock().unwrap_or_else(|p| p.into_inner());
    if phrase.is_empty() {
        status.remove(part);
    } else {
        status.insert(part.to_string(), phrase);
    }
}

/// Every part's phrase, "part: phrase", in the parts' order.
pub fn status() -> Vec<String> {
    registry().status.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(k, v)| format!("{k}: {v}")).collect()
}

/// A fault a test asks for by name in `FRONTDESK_FAULT` (comma-separated), to prove that the
/// watchdog catches it: `wedge-recognition` (a recognition worker never finishes its next job),
/// `wedge-media` (a call's media thread stops turning). Never set on a real box.
pub fn fault(name: &str) -> bool {
    static FAULTS: OnceLock<Vec<String>> = OnceLock::new();
    FAULTS
        .get_or_init(|| {
            let faults: Vec<String> = std::env::var("FRONTDESK_FAULT")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            if !faults.is_empty() {
                tracing::warn!(?faults, "FRONTDESK_FAULT is set: faults will be injected (tests only)");
            }
            faults
        })
        .iter()
        .any(|f| f == name)
}

/// Blocks the calling thread for good (an injected fault: see [`fault`]).
pub fn wedge(what: &str) -> ! {
    tracing::warn!("injected fault: {what} wedged on purpose");
    loop {
        std::thread::park();
    }
}

struct Registry {
    beats: Mutex<Vec<Weak<Beat>>>,
    status: Mutex<BTreeMap<String, String>>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry { beats: Mutex::new(Vec::new()), status: Mutex::new(BTreeMap::new()) })
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_periodic_beat_stalls_when_it_stops_ticking_and_a_worker_only_when_busy() {
        let media = Beat::new("test media", Kind::Periodic);
        let worker = Beat::new("test worker", Kind::Worker);
        let mine = |s: Vec<Stall>| s.into_iter().filter(|s| s.name.starts_with("test ")).map(|s| s.name).collect::<Vec<_>>();
        assert!(mine(stalled(Duration::ZERO)).contains(&"test media".to_string()), "zero limit: everything periodic counts");
        assert!(!mine(stalled(Duration::ZERO)).contains(&"test worker".to_string()), "an idle worker is never stuck");
        let job = worker.busy();
        std::thread::sleep(Duration::from_millis(30));
        media.tick();
        let s = mine(stalled(Duration::from_millis(25)));
        assert_eq!(s, vec!["test worker".to_string()], "the job has run 30 ms; the media thread just ticked");
        drop(job);
        assert!(mine(stalled(Duration::from_millis(25))).is_empty());
        drop(media);
        std::thread::sleep(Duration::from_millis(30));
        assert!(mine(stalled(Duration::ZERO)).is_empty(), "a dropped beat is forgotten");
    }

    #[test]
    fn status_phrases_are_kept_per_part_and_removed_when_empty() {
        set_status("zz test", "registered to pbx.example");
        assert!(status().contains(&"zz test: registered to pbx.example".to_string()));
        set_status("zz test", "");
        assert!(!status().iter().any(|s| s.starts_with("zz test")));
    }
}
