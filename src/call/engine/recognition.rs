//! Speech recognition as a queue every call shares. A call sends the audio of its turn (or
//! part of it) and goes on with its 20 ms loop; the transcript comes back on the call's own
//! channel. Turn ends and parts are served before speculative work, which is dropped once
//! stale: on a small box the queue, not Whisper, decides how long a caller waits.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use crate::line::Clock;
use crate::speech::stt::{Priming, Stt, SttError};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum JobKind {
    /// The start of a long turn, transcribed while the caller goes on.
    Part,
    /// The rest of the turn, after its end.
    Last,
    /// The whole turn so far, at a short pause: if it reads as finished and the caller stays
    /// quiet, the turn ends here instead of after the full silence.
    Speculative { voiced_ms: u32 },
}

pub(super) struct SttJob {
    pub(super) turn: u64,
    /// When the call sent it, on the call's clock.
    pub(super) sent: Instant,
    pub(super) audio: Vec<i16>,
    pub(super) kind: JobKind,
    pub(super) priming: Priming,
    /// Set by the call when the job is no longer wanted (a speculation the caller talked
    /// past): a queued job is dropped, a running one stopped.
    pub(super) cancel: Option<Arc<AtomicBool>>,
}

#[derive(Clone)]
pub(super) struct SttDone {
    pub(super) turn: u64,
    pub(super) sent: Instant,
    pub(super) text: String,
    pub(super) confidence: f32,
    pub(super) elapsed: Duration,
    pub(super) kind: JobKind,
    /// Dropped or stopped unfinished: stale, or cancelled by its call. Nothing was computed,
    /// so a test's slowed recogniser hands it back at once.
    pub(super) unfinished: bool,
    /// The job's cancel flag: a test's slowed recogniser stands for a box on which the job
    /// would still be running when its call cancels it.
    pub(super) cancel: Option<Arc<AtomicBool>>,
}

/// Speech recognition shared by every call: one worker per core, each with its own whisper
/// state, taking jobs from one queue; a turn's end is served before speculative work (which is
/// dropped once stale).
///
/// How many threads a transcription gets is decided job by job. whisper.cpp's threads meet at
/// a spinning barrier after every step of the model, so a two-thread transcription that loses
/// one of its cores to anything else (another transcription, synthesis, any other process)
/// stalls: with one busy-looping process beside four calls, turns waited up to 13 s for their
/// reply (BENCHMARKS.md). One thread per transcription cannot stall that way, and two workers
/// of one thread get more done on two cores than one of two. But one thread takes about twice
/// as long, and a single caller on an idle box would wait for it. So a transcription gets
/// `stt.threads` (up to the cores) only when it is the only work in the pool and the box's
/// cores have been idle lately (`/proc/stat`, sampled twice a second); it then has the cores
/// to itself, and jobs that arrive meanwhile wait for it (a short wait: it is the fast case).
/// Otherwise each transcription runs on one thread, beside the others. (The kernel's CPU
/// pressure figure was tried first: it misses one busy process on two cores, which waits for
/// nothing until a transcription wants that core too.)
///
/// The queue runs on the machine's clock whatever the calls' clocks: staleness is about how
/// long a job really waited for a worker.
pub struct SttPool {
    state: std::sync::Mutex<PoolState>,
    ready: std::sync::Condvar,
    /// `stt.threads`, at most the cores: what one transcription may use on an idle box.
    max_threads: usize,
    /// Cores kept busy lately by everything but this pool's transcriptions, in thousandths
    /// (see `sample_load`).
    busy_milli: AtomicU32,
    /// Core time the pool's transcriptions have taken (wall time × threads: whisper.cpp's
    /// threads spin while they wait for each other), in µs. Taken out of the box's use, so that
    /// a call's own frequent speculations do not make the box look busy to its next one.
    stt_core_us: AtomicU64,
}

struct PoolState {
    queue: VecDeque<(SttJob, Sender<SttDone>, Instant)>,
    /// Transcriptions in progress.
    running: usize,
    /// One transcription has every core: the other workers wait for it.
    exclusive: bool,
}

/// A speculative transcription that waited longer than this is of no use any more.
const SPECULATION_STALE: Duration = Duration::from_millis(400);
/// Busy cores (in thousandths, averaged over about a second) at or above which the box counts
/// as busy: each transcription then gets one thread. The calls' own threads use a few percent.
const BUSY_MILLI: u32 = 400;
/// How often the box's CPU use is sampled.
const LOAD_SAMPLE: Duration = Duration::from_millis(500);

impl SttPool {
    /// Starts one recognition worker per core.
    pub fn start(stt: Arc<Stt>) -> Arc<SttPool> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let max_threads = stt.settings().threads.clamp(1, cores);
        let pool = Arc::new(SttPool {
            state: std::sync::Mutex::new(PoolState { queue: VecDeque::new(), running: 0, exclusive: false }),
            ready: std::sync::Condvar::new(),
            max_threads,
            busy_milli: AtomicU32::new(0),
            stt_core_us: AtomicU64::new(0),
        });
        if max_threads > 1 {
            let pool = Arc::downgrade(&pool);
            let _ = std::thread::Builder::new().name("stt-load".into()).spawn(move || sample_load(pool, cores));
        }
        for i in 0..cores {
            let (pool, stt) = (pool.clone(), stt.clone());
            let beat = crate::health::Beat::new(format!("recognition worker {i}"), crate::health::Kind::Worker);
            let _ = std::thread::Builder::new().name(format!("stt-{i}")).spawn(move || pool.work(&stt, &beat));
        }
        pool
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn submit(&self, job: SttJob, reply: Sender<SttDone>) {
        self.lock().queue.push_back((job, reply, Instant::now()));
        self.ready.notify_one();
    }

    /// The next job and the threads to run it with: the oldest turn-end or part first, else
    /// the newest fresh speculation.
    fn next(&self) -> (SttJob, Sender<SttDone>, usize) {
        let mut st = self.lock();
        loop {
            // Stale or cancelled speculations get an empty answer, so their call may
            // speculate again.
            st.queue.retain(|(j, reply, at)| {
                let stale = matches!(j.kind, JobKind::Speculative { .. })
                    && (at.elapsed() >= SPECULATION_STALE || j.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)));
                if stale {
                    let _ = reply.send(SttDone {
                        turn: j.turn,
                        sent: j.sent,
                        text: String::new(),
                        confidence: 0.0,
                        elapsed: Duration::ZERO,
                        kind: j.kind,
                        unfinished: true,
                        cancel: None,
                    });
                }
                !stale
            });
            if !st.exclusive {
                let pick = match st.queue.iter().position(|(j, _, _)| !matches!(j.kind, JobKind::Speculative { .. })) {
                    Some(i) => st.queue.remove(i),
                    None => st.queue.pop_back(),
                };
                if let Some((job, reply, _)) = pick {
                    let alone = st.running == 0 && st.queue.is_empty();
                    let idle_box = self.busy_milli.load(Ordering::Relaxed) < BUSY_MILLI;
                    let threads = if self.max_threads > 1 && alone && idle_box { self.max_threads } else { 1 };
                    st.running += 1;
                    st.exclusive = threads > 1;
                    return (job, reply, threads);
                }
            }
            st = self.ready.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn done(&self) {
        let mut st = self.lock();
        st.running -= 1;
        st.exclusive = false;
        drop(st);
        self.ready.notify_all();
    }

    /// One worker: transcribes jobs as they come. `beat` shows the watchdog each job running,
    /// so a transcription that never ends gets the service restarted.
    fn work(&self, stt: &Stt, beat: &crate::health::Beat) {
        let wedge = crate::health::fault("wedge-recognition");
        let mut transcriber = match stt.transcriber() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("speech recognition unavailable: {e}");
                return;
            }
        };
        loop {
            let (job, reply, threads) = self.next();
            let busy = beat.busy();
            if wedge {
                crate::health::wedge("a recognition worker");
            }
            let started = Instant::now();
            transcriber.set_threads(threads);
            transcriber.set_abort(job.cancel.clone());
            let samples: Vec<f32> = job.audio.iter().map(|&s| crate::audio::resample::i16_to_f32(s)).collect();
            let result = crate::audio::resample::resample(&samples, crate::line::RATE, crate::speech::stt::SAMPLE_RATE)
                .map_err(anyhow::Error::from)
                .and_then(|wide| {
                    if wide.is_empty() { Err(anyhow::anyhow!("empty")) } else { Ok(transcriber.transcribe_turn(&wide, job.priming)?) }
                });
            self.done();
            drop(busy);
            self.stt_core_us.fetch_add(started.elapsed().as_micros() as u64 * threads as u64, Ordering::Relaxed);
            let unfinished = matches!(result.as_ref().map_err(|e| e.downcast_ref::<SttError>()), Err(Some(SttError::Aborted)));
            let (text, confidence) = match result {
                Ok(t) => {
                    tracing::debug!(
                        audio_ms = job.audio.len() / 8,
                        voiced_ms = t.voiced_ms,
                        audio_ctx = t.audio_ctx,
                        threads,
                        whisper_ms = t.elapsed.as_millis() as u64,
                        kind = ?job.kind,
                        "transcribed"
                    );
                    (t.text, t.confidence)
                }
                Err(e) => {
                    let elapsed_ms = started.elapsed().as_millis() as u64;
                    match e.downcast_ref::<SttError>() {
                        Some(SttError::Inference(_)) => tracing::warn!(kind = ?job.kind, elapsed_ms, "no transcript: {e}"),
                        _ => tracing::debug!(kind = ?job.kind, elapsed_ms, "no transcript: {e}"),
                    }
                    (String::new(), 0.0)
                }
            };
            let elapsed = started.elapsed();
            let _ = reply.send(SttDone {
                turn: job.turn,
                sent: job.sent,
                text,
                confidence,
                elapsed,
                kind: job.kind,
                unfinished,
                cancel: job.cancel,
            });
        }
    }
}

/// Samples the box's CPU use into `pool.busy_milli` until the pool is gone: busy cores over
/// each interval less those the pool's own transcriptions took, averaged with the intervals
/// before (so about the last second counts). Where `/proc/stat` cannot be read, the box counts
/// as idle.
fn sample_load(pool: std::sync::Weak<SttPool>, cores: usize) {
    let mut last: Option<((u64, u64), u64, Instant)> = None;
    let mut others = 0i64;
    loop {
        let Some(pool) = pool.upgrade() else { return };
        let now = std::fs::read_to_string("/proc/stat").ok().and_then(|s| cpu_times(&s));
        let (stt_us, at) = (pool.stt_core_us.load(Ordering::Relaxed), Instant::now());
        if let (Some((before, stt_before, then)), Some(now)) = (last, now) {
            let box_milli = busy_milli(before, now, cores);
            let sample = others_milli(box_milli, stt_us - stt_before, at.duration_since(then));
            // Signed: a transcription counted in the pool after the interval whose cores it used
            // evens out over the next one.
            others = (others + sample) / 2;
            pool.busy_milli.store(others.max(0) as u32, Ordering::Relaxed);
        }
        last = now.map(|n| (n, stt_us, at));
        drop(pool);
        std::thread::sleep(LOAD_SAMPLE);
    }
}

/// Busy cores (thousandths) not taken by transcriptions: the box's less the pool's core time
/// over the same interval. Negative when transcriptions finished in this interval ran mostly in
/// the one before.
fn others_milli(box_milli: u32, stt_core_us: u64, interval: Duration) -> i64 {
    let interval_us = interval.as_micros().max(1) as i64;
    box_milli as i64 - (stt_core_us as i64).saturating_mul(1000) / interval_us
}

/// (total, idle) jiffies of all CPUs, from the first line of `/proc/stat`.
fn cpu_times(stat: &str) -> Option<(u64, u64)> {
    let mut fields = stat.lines().next()?.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = fields.map(|f| f.parse().ok()).collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    Some((total, idle))
}

/// Busy cores between two samples, in thousandths.
fn busy_milli((total0, idle0): (u64, u64), (total1, idle1): (u64, u64), cores: usize) -> u32 {
    let total = total1.saturating_sub(total0);
    if total == 0 {
        return 0;
    }
    let busy = total.saturating_sub(idle1.saturating_sub(idle0));
    (busy * 1000 * cores as u64 / total) as u32
}

/// A call's handle on the pool: sends the call's jobs, takes their transcripts back, and
/// counts those still out (a call on simulated time waits for them before its clock moves on).
pub(super) struct SttClient {
    pool: Arc<SttPool>,
    reply: Sender<SttDone>,
    done: Receiver<SttDone>,
    in_flight: u32,
    clock: Clock,
    /// Each transcript is handed over no sooner than this long (call time) after its job was
    /// sent: zero on a real call; tests set it to play a box too busy to keep up.
    delay: Duration,
    /// Transcripts back from the pool, waiting for `delay`.
    held: VecDeque<SttDone>,
    /// Turn ends sent to be transcribed (not taken from a speculation), for tests.
    #[cfg(test)]
    pub(super) last_jobs: u32,
}

impl SttClient {
    pub(super) fn new(pool: Arc<SttPool>, clock: Clock) -> SttClient {
        let (reply, done) = channel();
        SttClient {
            pool,
            reply,
            done,
            in_flight: 0,
            clock,
            delay: Duration::ZERO,
            held: VecDeque::new(),
            #[cfg(test)]
            last_jobs: 0,
        }
    }

    /// Plays a slow recogniser: every transcript arrives `delay` of call time after its job.
    #[cfg(test)]
    pub(super) fn slow_down(&mut self, delay: Duration) {
        self.delay = delay;
    }

    pub(super) fn send(&mut self, job: SttJob) {
        #[cfg(test)]
        if job.kind == JobKind::Last {
            self.last_jobs += 1;
        }
        self.in_flight += 1;
        self.pool.submit(job, self.reply.clone());
    }

    /// A transcript that is back, if any.
    pub(super) fn try_recv(&mut self) -> Option<SttDone> {
        while let Ok(done) = self.done.try_recv() {
            self.in_flight = self.in_flight.saturating_sub(1);
            self.held.push_back(done);
        }
        self.next_due()
    }

    /// Waits up to `limit` for the transcripts still out; then the first one due, if any.
    /// (The pool answers every job, a stale one with an empty transcript.)
    pub(super) fn wait(&mut self, limit: Duration) -> Option<SttDone> {
        while self.in_flight > 0 {
            let Ok(done) = self.done.recv_timeout(limit) else { break };
            self.in_flight -= 1;
            self.held.push_back(done);
        }
        self.next_due()
    }

    fn next_due(&mut self) -> Option<SttDone> {
        let now = self.clock.now();
        let cancelled = |d: &SttDone| d.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed));
        let i = self.held.iter().position(|d| d.unfinished || cancelled(d) || now.saturating_duration_since(d.sent) >= self.delay)?;
        let mut done = self.held.remove(i)?;
        if now.saturating_duration_since(done.sent) < self.delay && cancelled(&done) {
            // Still "running" on the slowed recogniser when its call cancelled it: stopped.
            done.text.clear();
            done.unfinished = true;
        }
        Some(done)
    }
}

#[cfg(test)]
mod tests {
    use super::{busy_milli, cpu_times, others_milli};
    use std::time::Duration;

    #[test]
    fn the_pools_own_transcriptions_do_not_count_as_load() {
        // The box was one core busy over half a second, all of it one 2-thread transcription
        // of 250 ms: nothing else is running.
        assert_eq!(others_milli(1000, 500_000, Duration::from_millis(500)), 0);
        // Another process took the other core meanwhile.
        assert_eq!(others_milli(2000, 500_000, Duration::from_millis(500)), 1000);
        // A transcription counted after the interval it ran in.
        assert_eq!(others_milli(0, 250_000, Duration::from_millis(500)), -500);
        assert_eq!(others_milli(300, 0, Duration::ZERO), 300, "no division by zero");
    }

    #[test]
    fn busy_cores_come_from_proc_stat() {
        let before = cpu_times("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n").expect("parsed");
        assert_eq!(before, (1000, 850));
        // One of two cores busy over the interval: 200 of 400 jiffies idle.
        let after = cpu_times("cpu  250 0 100 1000 50 0 0 0 0 0").expect("parsed");
        assert_eq!(busy_milli(before, after, 2), 1000);
        assert_eq!(busy_milli(before, before, 2), 0, "no time passed");
        assert_eq!(cpu_times("intr 1 2 3"), None);
        assert_eq!(cpu_times("cpu  1 x 3 4"), None);
        assert_eq!(cpu_times(""), None);
    }
}
