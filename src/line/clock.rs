//! The time a call runs on.
//!
//! On a real line that is the machine's clock. In tests it is a simulated clock that moves only
//! when the line delivers a frame (20 ms each) or the engine waits: a test then gets the same
//! turn ends, barge-ins and timeouts however fast or loaded the machine is.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A handle on a call's time; clones share it.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Simulated>>);

#[derive(Debug)]
struct Simulated {
    /// The `Instant` the simulated time started at; `now()` is this plus `elapsed_us`.
    origin: Instant,
    /// The wall-clock time at `origin`.
    wall_origin: jiff::Timestamp,
    elapsed_us: AtomicU64,
}

impl Clock {
    /// The machine's clock.
    pub fn real() -> Clock {
        Clock(None)
    }

    /// A clock that stands still until advanced, starting at `wall` (for opening hours).
    pub fn simulated(wall: jiff::Timestamp) -> Clock {
        Clock(Some(Arc::new(Simulated { origin: Instant::now(), wall_origin: wall, elapsed_us: AtomicU64::new(0) })))
    }

    pub fn is_simulated(&self) -> bool {
        self.0.is_some()
    }

    pub fn now(&self) -> Instant {
        match &self.0 {
            None => Instant::now(),
            Some(s) => s.origin + Duration::from_micros(s.elapsed_us.load(Ordering::SeqCst)),
        }
    }

    /// Time since `earlier` (zero if `earlier` is later).
    pub fn since(&self, earlier: Instant) -> Duration {
        self.now().saturating_duration_since(earlier)
    }

    /// The date and time of day, for opening hours.
    pub fn wall(&self) -> jiff::Timestamp {
        match &self.0 {
            None => jiff::Timestamp::now(),
            Some(s) => {
                let us = s.elapsed_us.load(Ordering::SeqCst) as i64;
                jiff::Timestamp::from_microsecond(s.wall_origin.as_microsecond().saturating_add(us)).unwrap_or(s.wall_origin)
            }
        }
    }

    /// Waits `d`: sleeps on the real clock, moves a simulated one on.
    pub fn sleep(&self, d: Duration) {
        match &self.0 {
            None => std::thread::sleep(d),
            Some(_) => self.advance(d),
        }
    }

    /// Moves a simulated clock on by `d`; does nothing to the real one.
    pub fn advance(&self, d: Duration) {
        if let Some(s) = &self.0 {
            s.elapsed_us.fetch_add(d.as_micros() as u64, Ordering::SeqCst);
        }
    }
}

/// The SCHED_FIFO priority of media threads: above ordinary threads, below the kernel's own
/// (threaded interrupts run at 50).
pub const RT_PRIORITY: i32 = 10;

/// Asks the kernel to run the calling thread ahead of ordinary ones (SCHED_FIFO), for the
/// threads that keep a line's media clock (RTP, an analog line's device): a frame must not be
/// late because whisper or the voice are using every core. Allowed by an RLIMIT_RTPRIO of at
/// least [`RT_PRIORITY`] (the systemd unit's `LimitRTPRIO=20`, no capability needed) or by
/// CAP_SYS_NICE; false without either, and the thread keeps normal priority.
pub fn realtime_thread() -> bool {
    // SAFETY: plain libc calls on the current thread with a valid, initialised parameter.
    unsafe {
        let param = libc::sched_param { sched_priority: RT_PRIORITY };
        libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_simulated_clock_moves_only_when_told() {
        let wall: jiff::Timestamp = "2026-11-23T15:00:00Z".parse().unwrap();
        let clock = Clock::simulated(wall);
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_millis(20));
        clock.sleep(Duration::from_millis(10));
        assert_eq!(clock.since(start), Duration::from_millis(30));
        assert_eq!(clock.wall(), "2026-11-23T15:00:00.03Z".parse::<jiff::Timestamp>().unwrap());
        assert!(clock.clone().is_simulated() && !Clock::real().is_simulated());
    }
}
