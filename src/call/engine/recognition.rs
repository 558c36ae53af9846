//! Speech recognition as a queue every call shares. A call sends the audio of its turn (or
//! part of it) and goes on with its 20 ms loop; the transcript comes back on the call's own
//! channel. Turn ends and parts are served before speculative work, which is dropped once
//! stale: on a small box the queue, not Whisper, decides how long a caller waits.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use crate::line::Clock;
use crate::speech::stt::{Priming, Stt};

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
}

#[derive(Clone)]
pub(super) struct SttDone {
    pub(super) turn: u64,
    pub(super) sent: Instant,
    pub(super) text: String,
    pub(super) confidence: f32,
    pub(super) elapsed: Duration,
    pub(super) kind: JobKind,
}

/// Speech recognition shared by every call: a few workers, each with its own whisper state,
/// taking jobs from one queue. On a 2-core box one transcription at a time with both cores
/// finishes each sooner than four at once fighting over them, and a turn's end is served before
/// speculative work (which is dropped once stale).
///
/// The queue runs on the machine's clock whatever the calls' clocks: staleness is about how
/// long a job really waited for a worker.
pub struct SttPool {
    queue: std::sync::Mutex<VecDeque<(SttJob, Sender<SttDone>, Instant)>>,
    ready: std::sync::Condvar,
}

/// A speculative transcription that waited longer than this is of no use any more.
const SPECULATION_STALE: Duration = Duration::from_millis(400);

impl SttPool {
    /// Starts `workers` recognition threads (cores divided by `stt.threads`, at least one).
    pub fn start(stt: Arc<Stt>) -> Arc<SttPool> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let workers = (cores / stt.settings().threads.max(1)).max(1);
        let pool = Arc::new(SttPool { queue: std::sync::Mutex::new(VecDeque::new()), ready: std::sync::Condvar::new() });
        for i in 0..workers {
            let (pool, stt) = (pool.clone(), stt.clone());
            let _ = std::thread::Builder::new().name(format!("stt-{i}")).spawn(move || pool.work(&stt));
        }
        pool
    }

    fn submit(&self, job: SttJob, reply: Sender<SttDone>) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).push_back((job, reply, Instant::now()));
        self.ready.notify_one();
    }

    /// The next job: the oldest turn-end or part first, else the newest fresh speculation.
    fn next(&self) -> (SttJob, Sender<SttDone>) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            // Stale speculations get an empty answer, so their call may speculate again.
            q.retain(|(j, reply, at)| {
                let stale = matches!(j.kind, JobKind::Speculative { .. }) && at.elapsed() >= SPECULATION_STALE;
                if stale {
                    let _ = reply.send(SttDone {
                        turn: j.turn,
                        sent: j.sent,
                        text: String::new(),
                        confidence: 0.0,
                        elapsed: Duration::ZERO,
                        kind: j.kind,
                    });
                }
                !stale
            });
            if let Some(i) = q.iter().position(|(j, _, _)| !matches!(j.kind, JobKind::Speculative { .. })) {
                let (j, r, _) = q.remove(i).expect("index from position");
                return (j, r);
            }
            if let Some((j, r, _)) = q.pop_back() {
                return (j, r);
            }
            q = self.ready.wait(q).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn work(&self, stt: &Stt) {
        let mut transcriber = match stt.transcriber() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("speech recognition unavailable: {e}");
                return;
            }
        };
        loop {
            let (job, reply) = self.next();
            let started = Instant::now();
            let samples: Vec<f32> = job.audio.iter().map(|&s| crate::audio::resample::i16_to_f32(s)).collect();
            let result = crate::audio::resample::resample(&samples, crate::line::RATE, crate::speech::stt::SAMPLE_RATE)
                .map_err(anyhow::Error::from)
                .and_then(|wide| {
                    if wide.is_empty() { Err(anyhow::anyhow!("empty")) } else { Ok(transcriber.transcribe_turn(&wide, job.priming)?) }
                });
            let (text, confidence) = match result {
                Ok(t) => {
                    tracing::debug!(
                        audio_ms = job.audio.len() / 8,
                        voiced_ms = t.voiced_ms,
                        audio_ctx = t.audio_ctx,
                        whisper_ms = t.elapsed.as_millis() as u64,
                        kind = ?job.kind,
                        "transcribed"
                    );
                    (t.text, t.confidence)
                }
                Err(e) => {
                    tracing::debug!("no transcript: {e}");
                    (String::new(), 0.0)
                }
            };
            let _ = reply.send(SttDone { turn: job.turn, sent: job.sent, text, confidence, elapsed: started.elapsed(), kind: job.kind });
        }
    }
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
        let i = self.held.iter().position(|d| now.saturating_duration_since(d.sent) >= self.delay)?;
        self.held.remove(i)
    }
}
