//! A caller that listens: a SIP/RTP phone on loopback that talks to the daemon the way a person
//! does, by waiting for the agent to finish before answering.
//!
//! Why it exists: conversation tests used to play one fixed WAV through baresip, with each line
//! placed where the agent's reply was *expected* to end. On a loaded machine the replies come
//! later, the lines land on top of the agent's questions, and a correct daemon fails. This
//! caller waits for events instead (the agent has spoken and then been quiet for a while, the
//! daemon's BYE), so a slow machine makes a test slower, never wrong. `frontdesk bench turns`
//! uses it too, to measure turn latency on the wire.
//!
//! It is a deliberately separate implementation of the phone side: its own SIP messages over a
//! plain UDP socket and its own 20 ms RTP loop, not the daemon's media session, so a mistake in
//! the daemon's stack cannot cancel out in a test. Only the wire formats (SIP parsing, SDP, RTP
//! packets, RFC 4733 events, G.711) come from the library. Loopback and PCMU only.

mod dialog;
mod media;
#[cfg(test)]
mod tests;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use self::dialog::Dialog;
use self::media::{Outgoing, State};
use crate::audio::resample::f32_to_i16;

/// What waiting for the agent ended with.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// The agent spoke and then was quiet: its audio (8 kHz), from just before its first sound
    /// to now.
    Reply(Vec<i16>),
    /// The call ended (the daemon's BYE, or our own hang-up), with whatever the agent said
    /// since the last reply was taken (its goodbye, usually).
    Ended(Vec<i16>),
    /// Nothing of the above within the time given.
    TimedOut,
}

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The daemon sent BYE.
    Agent,
    /// We did.
    Caller,
}

/// State shared by the caller's two threads and its owner: one lock, and a condition variable
/// the media thread signals every 20 ms tick and the signalling thread on every event.
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `done` gives a value, or `timeout` passes.
    fn wait_for<T>(&self, timeout: Duration, mut done: impl FnMut(&mut State) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if let Some(v) = done(&mut state) {
                return Some(v);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            state = self.changed.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    fn notify(&self) {
        self.changed.notify_all();
    }
}

/// One call to a SIP URI on loopback, answered and running.
pub struct LoopbackCaller {
    shared: Arc<Shared>,
    dialog: Arc<Dialog>,
    telephone_event: bool,
    threads: Vec<JoinHandle<()>>,
}

impl LoopbackCaller {
    /// Calls `uri` (`sip:frontdesk@127.0.0.1:5060`) from `sip:{from_user}@127.0.0.1` and
    /// returns once the call is answered (200 OK, ACK sent); RTP is flowing from then on,
    /// silence until something is said.
    pub fn dial(uri: &str, from_user: &str) -> Result<LoopbackCaller> {
        let target = crate::sip::message::uri_socket_addr(uri).with_context(|| format!("{uri} is not a SIP URI with an IP address"))?;
        if !target.ip().is_loopback() {
            bail!("the loopback caller only calls loopback addresses, not {target}");
        }
        let sip = UdpSocket::bind(SocketAddr::new(target.ip(), 0))?;
        let rtp = UdpSocket::bind(SocketAddr::new(target.ip(), 0))?;
        let answered = dialog::invite(&sip, uri, target, from_user, rtp.local_addr()?)?;
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), changed: Condvar::new(), stop: AtomicBool::new(false) });
        let dialog = Arc::new(answered.dialog);
        let media = {
            let shared = shared.clone();
            let stream = answered.stream;
            std::thread::Builder::new().name("caller-rtp".into()).spawn(move || media::run(rtp, stream, &shared))?
        };
        let signalling = {
            let (shared, dialog) = (shared.clone(), dialog.clone());
            std::thread::Builder::new().name("caller-sip".into()).spawn(move || dialog::serve(sip, &dialog, &shared))?
        };
        Ok(LoopbackCaller {
            shared,
            dialog,
            telephone_event: answered.stream.telephone_event_pt.is_some(),
            threads: vec![media, signalling],
        })
    }

    /// Says `samples` (8 kHz) after whatever is still being said; returns at once.
    pub fn speak(&self, samples: &[i16]) {
        self.shared.lock().queue.push_back(Outgoing::Speech(samples.to_vec()));
    }

    /// As [`speak`](Self::speak), for samples in -1..1.
    pub fn speak_f32(&self, samples: &[f32]) {
        self.speak(&samples.iter().map(|&x| f32_to_i16(x)).collect::<Vec<_>>());
    }

    /// Presses `keys` (0-9, *, #, A-D) as RFC 4733 telephone-events, after whatever is still
    /// being said. Fails if the answer did not take telephone-events or a key is not one.
    pub fn press(&self, keys: &str) -> Result<()> {
        if !self.telephone_event {
            bail!("the answer did not accept telephone-event");
        }
        if let Some(bad) = keys.chars().find(|&c| crate::rtp::dtmf::digit_to_event(c).is_none()) {
            bail!("{bad:?} is not a telephone key");
        }
        self.shared.lock().queue.extend(keys.chars().map(Outgoing::Key));
        Ok(())
    }

    /// Waits until everything queued has been sent; false on timeout.
    pub fn wait_said(&self, timeout: Duration) -> bool {
        self.shared.wait_for(timeout, |s| s.idle().then_some(())).is_some()
    }

    /// Waits until the agent has spoken and then been quiet for `quiet` while we say nothing,
    /// and returns what it said: its audio since the last reply was taken. Sound that started
    /// while we were talking counts, so a reply that overlaps our end is not missed.
    pub fn wait_reply(&self, quiet: Duration, timeout: Duration) -> Heard {
        self.shared
            .wait_for(timeout, |s| {
                if s.ending.is_some() {
                    return Some(Heard::Ended(s.take_reply()));
                }
                let over = s.reply_started() && s.idle() && s.last_voiced.is_some_and(|t| t.elapsed() >= quiet);
                over.then(|| Heard::Reply(s.take_reply()))
            })
            .unwrap_or(Heard::TimedOut)
    }

    /// When the agent's audio first carried sound on this call, waiting up to `timeout`.
    pub fn wait_first_sound(&self, timeout: Duration) -> Option<Instant> {
        self.shared.wait_for(timeout, |s| s.first_sound)
    }

    /// Waits for the call to end; who ended it, or None on timeout.
    pub fn wait_ended(&self, timeout: Duration) -> Option<Ending> {
        self.shared.wait_for(timeout, |s| s.ending)
    }

    /// Who ended the call, if it has ended.
    pub fn ending(&self) -> Option<Ending> {
        self.shared.lock().ending
    }

    /// Everything the agent sent, as an 8 kHz track on our clock: each packet at the 20 ms tick
    /// it arrived in (or right after the previous one, when several arrive together), silence
    /// where nothing came. What a phone without a jitter buffer would have played.
    pub fn heard_track(&self) -> Vec<i16> {
        self.shared.lock().track.clone()
    }

    /// Where each thing we said started sounding, as sample offsets in [`heard_track`](Self::heard_track).
    pub fn speech_onsets(&self) -> Vec<usize> {
        self.shared.lock().onsets.clone()
    }

    /// Turn latencies on the wire, in ms: from our last voiced packet of what we said to the
    /// agent's first voiced packet after it (the greeting is not a turn and is not counted).
    pub fn latencies(&self) -> Vec<u32> {
        self.shared.lock().latencies.clone()
    }

    /// Hangs up with BYE (unless the call has ended already) and waits up to `timeout` for its
    /// answer; stops both threads either way.
    pub fn hang_up(mut self, timeout: Duration) -> Result<()> {
        let result = self.bye(timeout);
        self.stop();
        result
    }

    fn bye(&self, timeout: Duration) -> Result<()> {
        {
            let mut s = self.shared.lock();
            if s.ending.is_some() {
                return Ok(());
            }
            s.ending = Some(Ending::Caller);
        }
        self.shared.notify();
        self.dialog.send_bye()?;
        // Retransmitted on the RFC 3261 timer by the signalling thread until answered.
        match self.shared.wait_for(timeout, |s| s.bye_answered.then_some(())) {
            Some(()) => Ok(()),
            None => bail!("no answer to our BYE within {timeout:?}"),
        }
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for LoopbackCaller {
    /// A caller dropped mid-call (a failed test) still hangs up, without waiting for the answer.
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            let _ = self.bye(Duration::ZERO);
            self.stop();
        }
    }
}
