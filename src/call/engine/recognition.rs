//! Speech recognition as a queue every call shares. A call sends the audio of its turn (or
//! part of it) and goes on with its 20 ms loop; the transcript comes back on the call's own
//! channel. Turn ends and parts are served before speculative work, which is dropped once
//! stale: on a small box the queue, not Whisper, decides how long a caller waits.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

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
    pub(super) audio: Vec<i16>,
    pub(super) kind: JobKind,
    pub(super) priming: Priming,
}

pub(super) struct SttDone {
    pub(super) turn: u64,
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
                    let _ =
                        reply.send(SttDone { turn: j.turn, text: String::new(), confidence: 0.0, elapsed: Duration::ZERO, kind: j.kind });
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
                Ok(t) => (t.text, t.confidence),
                Err(e) => {
                    tracing::debug!("no transcript: {e}");
                    (String::new(), 0.0)
                }
            };
            let _ = reply.send(SttDone { turn: job.turn, text, confidence, elapsed: started.elapsed(), kind: job.kind });
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
}

impl SttClient {
    pub(super) fn new(pool: Arc<SttPool>) -> SttClient {
        let (reply, done) = channel();
        SttClient { pool, reply, done, in_flight: 0 }
    }

    pub(super) fn send(&mut self, job: SttJob) {
        self.in_flight += 1;
        self.pool.submit(job, self.reply.clone());
    }

    /// A transcript that is back, if any.
    pub(super) fn try_recv(&mut self) -> Option<SttDone> {
        let done = self.done.try_recv().ok()?;
        self.in_flight = self.in_flight.saturating_sub(1);
        Some(done)
    }

    /// Waits up to `limit` for the next transcript; None at once when none is out. (The pool
    /// answers every job, a stale one with an empty transcript.)
    pub(super) fn wait(&mut self, limit: Duration) -> Option<SttDone> {
        if self.in_flight == 0 {
            return None;
        }
        let done = self.done.recv_timeout(limit).ok()?;
        self.in_flight -= 1;
        Some(done)
    }
}
