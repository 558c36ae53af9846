//! After a call: the message's summary for staff, written on a thread of its own.
//!
//! No caller waits for a summary, so it is done after the call, one at a time: a slow local
//! model on a two-core box must not run several requests beside the calls' recognition. The
//! queue is short; a message that finds it full goes without a summary (staff still have the
//! details and the transcript), and the log says so. A reload replaces the summarizer for the
//! calls that end from then on.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, RwLock};

use super::assist::Summarizer;
use crate::store::Store;

/// Finished messages waiting for their summary.
const QUEUE: usize = 16;

type Current = Arc<RwLock<Option<Arc<Summarizer>>>>;

pub struct Summaries {
    current: Current,
    queue: SyncSender<i64>,
}

impl Summaries {
    /// Starts the worker; with `summarizer` None it waits for a reload that brings one.
    pub fn start(store: Arc<Store>, summarizer: Option<Arc<Summarizer>>) -> std::io::Result<Summaries> {
        let current: Current = Arc::new(RwLock::new(summarizer));
        let (queue, rx) = sync_channel(QUEUE);
        let worker = current.clone();
        std::thread::Builder::new().name("summaries".into()).spawn(move || work(&store, &worker, rx))?;
        Ok(Summaries { current, queue })
    }

    /// Calls that end from now on are summarised by `summarizer` (a reloaded `[assist]`).
    pub fn replace(&self, summarizer: Option<Arc<Summarizer>>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = summarizer;
    }

    /// The call stored as `id` has ended: its message is summarised, if summaries are on.
    pub fn after_call(&self, id: i64) {
        if self.current.read().unwrap_or_else(|p| p.into_inner()).is_none() {
            return;
        }
        match self.queue.try_send(id) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::warn!(record = id, "no summary: {QUEUE} messages already wait for the language model")
            }
            Err(TrySendError::Disconnected(_)) => tracing::error!(record = id, "no summary: the summary thread has stopped"),
        }
    }
}

fn work(store: &Store, current: &Current, rx: Receiver<i64>) {
    for id in rx {
        let summarizer = current.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(s) = summarizer {
            s.summarize_call(store, id);
        }
    }
}
