//! The analog line as a [`Line`]: one thread per line keeps the device's clock (20 ms of
//! capture in, 20 ms of playback out, per turn of its loop) and runs the line's signalling on
//! the sample clock; each answered call gets an [`FxoLeg`] and the answering hook, like a SIP
//! call.
//!
//! On hook the thread counts rings ([`super::ring`]) and listens for caller ID between them
//! ([`super::cid`]), or after a polarity reversal. When the configured ring ends it goes off
//! hook and hands the call over. Off hook, the line's echo of our own voice is cancelled
//! ([`crate::audio::aec`]) before anything listens: keys ([`crate::audio::dtmf`]), the tones
//! that say the far end is gone ([`super::progress`]), and the call itself. The far end is gone
//! when the loop current drops, the polarity reverses, busy, reorder or dial tone is heard, or,
//! as the last resort, nothing is heard or said for `silence_hangup`; the call then ends as the
//! caller hanging up. A transfer is the analog one: flash, dial the extension, listen until
//! someone answers (hang up: the PBX joins them) or not (flash back: the call goes on).
//!
//! The device vanishing (a USB interface pulled out) ends the thread with a fault; the line
//! reports it and reopens the device every few seconds.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, SyncSender, TrySendError};
use std::time::Duration;

use anyhow::anyhow;

use super::audio::AlsaPort;
use super::cid::{CallerId, CidListener};
use super::control::{self, ControlSpec, LineControl, Ring};
use super::leg::{FxoLeg, LegShared, Request, SILENCE, dial_digits};
use super::progress::{Heard, Progress, ProgressDetector, ToneZone};
use super::ring::{RingCounter, RingEvent, Zone};
use crate::audio::aec::EchoCanceller;
use crate::audio::dtmf::{DtmfDetector, push_keys};
use crate::audio::fsk::FskModem;
use crate::audio::ring_voltage::RingVoltage;
use crate::audio::tones::power_dbm0;
use crate::line::{Answer, CallInfo, CallSlots, Clock, FRAME_SAMPLES, Frame, Line, LineEvent, LineFuture};

/// One analog line's settings (from `[fxo.NAME]`).
#[derive(Clone, Debug)]
pub struct FxoConfig {
    pub name: String,
    pub device: String,
    /// For `[answer.dialled]`: the call's dialled number.
    pub number: Option<String>,
    pub rate: Option<u32>,
    pub control: ControlSpec,
    pub zone: Zone,
    pub tones: &'static ToneZone,
    pub rings: u32,
    /// The FSK modem caller ID is sent with (DTMF caller ID is heard either way).
    pub fsk: Option<FskModem>,
    pub caller_id: bool,
    /// Rings are heard in the on-hook audio ([`crate::audio::ring_voltage`]) rather than
    /// sensed by the line control (modem codecs sense none).
    pub ring_from_audio: bool,
    pub flash_ms: u32,
    pub transfer_timeout_ms: u64,
    pub silence_hangup_ms: u64,
    pub echo_tail_ms: u32,
    pub optional: bool,
}

/// How long after a fault the device is opened again.
const RETRY: Duration = Duration::from_secs(5);
/// Loop current gone this long means the far end hung up (DAHDI's battery debounce is 64 ms;
/// a little more rides over a relay's bounce).
const LOOP_DROP_MS: u64 = 100;
/// After going off hook, loop current and polarity settle for this long before they count
/// (chan_dahdi's `polarityonanswerdelay`).
const ANSWER_GUARD_MS: u64 = 600;
/// After the flash, the PBX's dial tone comes within this (most give it at once).
const DIAL_WAIT_MS: u64 = 1000;
/// Keys are dialled at this level per tone, 100 ms on, 100 ms off.
const DIAL_DBM0: f32 = -8.0;
/// A transfer target that talks this long (not ringback, not a busy tone) has answered.
const ANSWERED_SOUND_MS: u64 = 600;
/// Below this the line is silent, for the silence hang-up.
const SILENT_DBM0: f32 = -45.0;

/// An analog line (`[fxo.NAME]`).
pub struct FxoLine {
    pub config: FxoConfig,
    /// Calls in progress on every line of the box, against `max_calls`.
    pub slots: CallSlots,
}

/// The device and the line control, open.
pub struct Hardware {
    pub port: AlsaPort,
    pub control: Box<dyn LineControl>,
}

impl Hardware {
    /// Opens both, on hook; the error names the device and the fix.
    pub fn open(cfg: &FxoConfig) -> anyhow::Result<Hardware> {
        let port = AlsaPort::open(&cfg.device, cfg.rate)?;
        let mut control = control::open(&cfg.control)?;
        control.set_off_hook(false)?;
        control.set_cid_path(cfg.caller_id || cfg.ring_from_audio)?;
        Ok(Hardware { port, control })
    }
}

impl Line for FxoLine {
    fn kind(&self) -> &'static str {
        "fxo"
    }

    fn start(self: Box<Self>, answer: Answer, stop: LineFuture<()>) -> LineFuture<anyhow::Result<LineFuture<()>>> {
        Box::pin(async move {
            let cfg = Arc::new(self.config);
            let c = cfg.clone();
            let first = tokio::task::spawn_blocking(move || Hardware::open(&c)).await?;
            let first = match first {
                Ok(hw) => Some(hw),
                Err(e) if cfg.optional => {
                    tracing::warn!(line = %cfg.name, "analog line not available, retrying every {} s (fxo optional): {e:#}", RETRY.as_secs());
                    None
                }
                Err(e) => return Err(anyhow!("analog line {:?}: {e:#}", cfg.name)),
            };
            let serve: LineFuture<()> = Box::pin(serve(cfg, self.slots, answer, stop, first));
            Ok(serve)
        })
    }
}

/// Runs the line thread until `stop`; after a fault, reopens the device every [`RETRY`].
async fn serve(cfg: Arc<FxoConfig>, slots: CallSlots, answer: Answer, mut stop: LineFuture<()>, mut hw: Option<Hardware>) {
    let stopping = Arc::new(AtomicBool::new(false));
    tracing::info!(line = %cfg.name, zone = cfg.zone.name, rings = cfg.rings, "analog line ready");
    if cfg.ring_from_audio {
        tracing::info!(line = %cfg.name, "rings are heard in the on-hook audio (fxo.ring_from = \"audio\")");
    } else if matches!(cfg.control, ControlSpec::AlsaMixer { .. }) {
        tracing::warn!(
            line = %cfg.name,
            "fxo.control = \"alsa-mixer\" with ring_from = \"control\": a modem codec reports no rings through ALSA, so this line will not answer (ring_from = \"audio\" hears them)"
        );
    }
    loop {
        if let Some(h) = hw.take() {
            let (c, s, a, flag) = (cfg.clone(), slots.clone(), answer.clone(), stopping.clone());
            let mut done = tokio::task::spawn_blocking(move || run(h, &c, &s, &a, &flag));
            tokio::select! {
                _ = &mut stop => {
                    stopping.store(true, Ordering::SeqCst);
                    let _ = done.await;
                    return;
                }
                ended = &mut done => match ended {
                    Ok(Err(fault)) => {
                        tracing::error!(line = %cfg.name, "analog line fault: {fault}; reopening every {} s", RETRY.as_secs());
                        crate::health::set_status(&format!("fxo {}", cfg.name), format!("FAULT: {fault}; reopening every {} s", RETRY.as_secs()));
                    }
                    Ok(Ok(())) => return,
                    Err(e) => tracing::error!(line = %cfg.name, "analog line thread failed: {e}"),
                },
            }
        }
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(RETRY) => {}
        }
        let c = cfg.clone();
        match tokio::task::spawn_blocking(move || Hardware::open(&c)).await {
            Ok(Ok(h)) => {
                tracing::info!(line = %cfg.name, "analog line back");
                hw = Some(h);
            }
            Ok(Err(e)) => tracing::debug!(line = %cfg.name, "analog line still not available: {e:#}"),
            Err(_) => {}
        }
    }
}

/// The line thread: the device's clock, until `stopping` or a fault (the device or control
/// failing), which it returns. Public for tests that drive a line without the daemon.
pub fn run(mut hw: Hardware, cfg: &FxoConfig, slots: &CallSlots, answer: &Answer, stopping: &AtomicBool) -> Result<(), String> {
    if !crate::line::clock::realtime_thread() {
        tracing::debug!(line = %cfg.name, "analog line thread runs without real-time priority (no CAP_SYS_NICE)");
    }
    let paced = !hw.port.unpaced();
    if !paced {
        tracing::info!(line = %cfg.name, device = %cfg.device, "the device is a file, not a clock: calls set the pace");
    }
    let mut idle = Idle::new(cfg);
    let mut call: Option<InCall> = None;
    // One canceller for the line, kept from call to call: the echo path is the line's own
    // hybrid, so only the first call after start waits for it to be learnt.
    let mut aec = EchoCanceller::new(cfg.echo_tail_ms);
    let mut heard: Frame = SILENCE;
    // The watchdog's proof that the line's clock turns, and the line's phrase in
    // `systemctl status` (set when it changes, not per frame).
    let beat = crate::health::Beat::new(format!("the thread of fxo.{}", cfg.name), crate::health::Kind::Periodic);
    let part = format!("fxo {}", cfg.name);
    let mut shown: Option<bool> = None;
    let fault = loop {
        beat.tick();
        if shown != Some(call.is_some()) {
            shown = Some(call.is_some());
            crate::health::set_status(&part, if call.is_some() { "in a call" } else { "on hook, waiting for rings" });
        }
        if stopping.load(Ordering::SeqCst) {
            if let Some(c) = call.take() {
                c.end(&mut hw, None, "the daemon is stopping");
            }
            return Ok(());
        }
        if let Err(e) = hw.port.read_frame(&mut heard) {
            break e.to_string();
        }
        let now = hw.port.clock().as_millis() as u64;
        let sense = match hw.control.sense(now) {
            Ok(s) => s,
            Err(e) => break e.to_string(),
        };
        let out = match &mut call {
            None => {
                if let Some(caller) = idle.frame(cfg, &heard, &sense, now) {
                    match slots.take() {
                        None => {
                            tracing::info!(line = %cfg.name, active = slots.in_use(), "call not answered: max_calls calls in progress (calls on every line count)")
                        }
                        Some(slot) => match InCall::answer(&mut hw, cfg, caller, slot, answer, paced, now) {
                            Ok(c) => call = Some(c),
                            Err(e) => break e,
                        },
                    }
                }
                SILENCE
            }
            Some(c) => match c.frame(&mut hw, cfg, &mut aec, &heard, &sense, now) {
                Step::Play(frame) => frame,
                Step::End(event, why) => {
                    if let Some(c) = call.take() {
                        c.end(&mut hw, event, why);
                    }
                    idle = Idle::new(cfg);
                    SILENCE
                }
            },
        };
        if let Err(e) = hw.port.write_frame(&out) {
            break e.to_string();
        }
    };
    // A call in progress ends as if the caller hung up (its record is kept); the line is put
    // on hook if the control still answers.
    match call.take() {
        Some(c) => c.end(&mut hw, Some(LineEvent::Hangup), "the line failed"),
        None => {
            let _ = hw.control.set_off_hook(false);
        }
    }
    Err(fault)
}

/// On hook: rings and caller ID.
struct Idle {
    rings: RingCounter,
    cid: Option<CidListener>,
    caller: Option<CallerId>,
    ring_bit: bool,
    /// Hears the rings in the audio, when the control cannot sense them.
    ring_voltage: Option<RingVoltage>,
    /// The line's polarity as last sensed; a reversal on hook opens the caller ID window.
    polarity: Option<bool>,
    reversed: bool,
    answered: bool,
}

impl Idle {
    fn new(cfg: &FxoConfig) -> Idle {
        Idle {
            rings: RingCounter::new(cfg.zone, cfg.rings),
            cid: cfg.caller_id.then(|| CidListener::new(cfg.fsk.unwrap_or(crate::audio::fsk::V23))),
            caller: None,
            ring_bit: false,
            ring_voltage: cfg.ring_from_audio.then(RingVoltage::new),
            polarity: None,
            reversed: false,
            answered: false,
        }
    }

    /// One frame on hook; the caller ID heard (if any) when it is time to answer.
    fn frame(&mut self, cfg: &FxoConfig, heard: &Frame, sense: &control::Sense, now: u64) -> Option<Option<CallerId>> {
        let mut events: heapless::Vec<RingEvent, 4> = heapless::Vec::new();
        let mut out = |e| {
            let _ = events.push(e);
        };
        let ring = match &mut self.ring_voltage {
            Some(detector) => Ring::Bit(detector.push(heard)),
            None => sense.ring,
        };
        match ring {
            Ring::Bit(on) if on != self.ring_bit => {
                self.ring_bit = on;
                self.rings.ring_bit(on, now, &mut out);
            }
            Ring::Pulses(n) if n > 0 => (0..n).for_each(|_| self.rings.pulse(now, &mut out)),
            // No change: time passes (bursts end, rings are counted, a caller gives up).
            _ => self.rings.tick(now, &mut out),
        }
        if let Some(p) = sense.polarity {
            if self.polarity.is_some_and(|was| was != p) {
                self.reversed = true;
            }
            self.polarity = Some(p);
        }
        // Caller ID comes between the first and second ring (half a second after the first
        // ends, before it is counted), or after a polarity reversal.
        if let Some(cid) = &mut self.cid
            && !self.rings.in_burst()
            && (self.rings.has_rung() || self.reversed)
            && self.caller.is_none()
        {
            match cid.push(heard) {
                Some(Ok(id)) => {
                    tracing::info!(caller = %id.number.as_deref().map(crate::logging::tag).unwrap_or_default(), "caller ID heard");
                    self.caller = Some(id);
                }
                Some(Err(e)) => tracing::info!("caller ID not read: {e}"),
                None => {}
            }
        }
        let mut answer = None;
        for e in events {
            match e {
                RingEvent::Started(n) => tracing::debug!(ring = n, "ring"),
                RingEvent::Answer if !self.answered => {
                    self.answered = true;
                    if self.caller.is_none() {
                        self.caller = self.cid.as_mut().and_then(CidListener::finish);
                    }
                    answer = Some(self.caller.take());
                }
                RingEvent::GaveUp => {
                    tracing::info!(rings = self.rings.rings(), "the caller hung up before the answer");
                    *self = Idle::new(cfg);
                    return None;
                }
                _ => {}
            }
        }
        answer
    }
}

/// What the line does after a frame of a call.
enum Step {
    Play(Frame),
    /// The call is over: the event for the call (Hangup when the far end went), and why.
    End(Option<LineEvent>, &'static str),
}

/// A transfer in progress (see the module documentation).
enum Transfer {
    /// On hook for the flash, until then; `back`: returning to the caller, with why it failed.
    Flash { until: u64, back: Option<String> },
    /// Off hook again, waiting for the PBX's dial tone.
    DialTone { until: u64, digits: String },
    /// Playing the keys.
    Dialling { keys: VecDeque<i16> },
    /// Listening to the extension ring, until someone talks or the time is up.
    Ringing { until: u64, sound_ms: u64 },
}

/// Off hook: a call in progress.
struct InCall {
    shared: Arc<LegShared>,
    audio: SyncSender<Frame>,
    events: Sender<LineEvent>,
    paced: bool,
    /// When the call paces the line: the frame to play, sent by each read of the leg.
    played: Option<std::sync::mpsc::Receiver<Frame>>,
    dtmf: DtmfDetector,
    progress: ProgressDetector,
    answered_at: u64,
    /// When the loop current was last seen gone, while it stays gone.
    loop_gone_since: Option<u64>,
    polarity: Option<bool>,
    quiet_ms: u64,
    /// Keys the call asked to send, being played.
    keys: VecDeque<i16>,
    /// Frames not taken by the call in time (device-paced lines only).
    dropped: u64,
    transfer: Option<Transfer>,
    /// The extension a transfer dials once the flash is done.
    pending_digits: Option<String>,
    log_id: String,
    _slot: crate::line::CallSlot,
}

impl InCall {
    fn answer(
        hw: &mut Hardware,
        cfg: &FxoConfig,
        caller: Option<CallerId>,
        slot: crate::line::CallSlot,
        answer: &Answer,
        paced: bool,
        now: u64,
    ) -> Result<InCall, String> {
        hw.control.set_cid_path(false).map_err(|e| e.to_string())?;
        hw.control.set_off_hook(true).map_err(|e| e.to_string())?;
        let log_id = crate::logging::tag(&format!("{}:{}:{}", cfg.name, now, crate::entropy::u32()));
        tracing::info!(line = %cfg.name, call = %log_id, at_ms = now, caller_id = caller.as_ref().is_some_and(|c| c.number.is_some()), "analog call answered");
        let (audio_tx, audio_rx) = std::sync::mpsc::sync_channel(if paced { MAX_BEHIND } else { 1 });
        let (events_tx, events_rx) = std::sync::mpsc::channel();
        let _ = events_tx.send(LineEvent::Answered);
        let shared = Arc::new(LegShared::default());
        let info = CallInfo {
            caller: caller.as_ref().and_then(|c| c.number.clone()),
            caller_name: caller.as_ref().and_then(|c| c.name.clone()),
            dialled: cfg.number.clone(),
            log_id: log_id.clone(),
        };
        let clock = if paced { Clock::real() } else { Clock::simulated(jiff::Timestamp::now()) };
        let (played_tx, played_rx) = std::sync::mpsc::sync_channel(1);
        let (played_tx, played_rx) = if paced { (None, None) } else { (Some(played_tx), Some(played_rx)) };
        let leg =
            FxoLeg { info, clock, audio: audio_rx, events: events_rx, shared: shared.clone(), paced, played: played_tx, closed: false };
        let hook = answer.clone();
        std::thread::Builder::new()
            .name(format!("call-{log_id}"))
            .spawn(move || hook(Box::new(leg)))
            .map_err(|e| format!("cannot start the call's thread: {e}"))?;
        Ok(InCall {
            shared,
            audio: audio_tx,
            events: events_tx,
            paced,
            played: played_rx,
            dtmf: DtmfDetector::new(),
            progress: ProgressDetector::new(cfg.tones),
            answered_at: now,
            loop_gone_since: None,
            polarity: None,
            quiet_ms: 0,
            keys: VecDeque::new(),
            dropped: 0,
            transfer: None,
            pending_digits: None,
            log_id,
            _slot: slot,
        })
    }

    /// One frame of the call: what the line heard in, what to play out.
    fn frame(
        &mut self,
        hw: &mut Hardware,
        cfg: &FxoConfig,
        aec: &mut EchoCanceller,
        heard: &Frame,
        sense: &control::Sense,
        now: u64,
    ) -> Step {
        // What the call asked for since the last frame.
        while let Some(r) = self.shared.next_request() {
            match r {
                Request::HangUp => return Step::End(None, "the call hung up"),
                Request::Keys(k) => self.keys.extend(key_tones(&k)),
                Request::Transfer(target) => match dial_digits(&target) {
                    Some(digits) if self.transfer.is_none() => {
                        tracing::info!(call = %self.log_id, "transfer: flash and dial");
                        if let Err(e) = hw.control.set_off_hook(false) {
                            tracing::error!(call = %self.log_id, "transfer: cannot flash: {e}");
                            let _ = self.events.send(LineEvent::TransferResult(Err(format!("cannot flash the hook: {e}"))));
                        } else {
                            self.transfer = Some(Transfer::Flash { until: now + cfg.flash_ms as u64, back: None });
                            self.pending_digits = Some(digits);
                        }
                    }
                    Some(_) => {}
                    None => {
                        let _ = self.events.send(LineEvent::TransferResult(Err(
                            "the transfer target has no digits to dial on an analog line (set [transfer] target to an extension)".into(),
                        )));
                    }
                },
            }
        }
        // What the call wrote; played unless keys are being sent or a transfer dials.
        let from_call = match &self.played {
            Some(played) => match played.recv() {
                Ok(f) => f,
                Err(_) => return Step::End(None, "the call ended"),
            },
            None => self.shared.next_frame().unwrap_or(SILENCE),
        };
        let mut out = if self.transfer.is_some() {
            self.shared.discard_output();
            SILENCE
        } else if !self.keys.is_empty() {
            take_frame(&mut self.keys)
        } else {
            from_call
        };
        // Until the canceller has learnt the line's echo, what was heard goes on as it is: the
        // call's echo guard tells an echo from the caller by its likeness to what was played,
        // which a half-cancelled echo has lost.
        let cancelled = *aec.cancel(heard, &out);
        let clean = if aec.settled() { cancelled } else { *heard };
        let power = power_dbm0(clean.iter().map(|&s| s as f32 * s as f32).sum::<f32>() / FRAME_SAMPLES as f32);
        let progress = self.progress.push(&clean);
        let guarded = now.saturating_sub(self.answered_at) < ANSWER_GUARD_MS;

        if self.transfer.is_some() {
            match self.step_transfer(hw, cfg, now, progress) {
                Ok(Some(frame)) => out = frame,
                Ok(None) => {}
                Err(end) => return end,
            }
        } else {
            // Far-end disconnect, by whatever the line gives.
            if let Some(p) = progress {
                return Step::End(
                    Some(LineEvent::Hangup),
                    match p {
                        Progress::Busy => "the caller hung up (busy tone)",
                        Progress::Reorder => "the caller hung up (reorder tone)",
                        Progress::DialTone => "the caller hung up (dial tone)",
                    },
                );
            }
            if !guarded {
                match sense.loop_current {
                    Some(false) => {
                        let since = *self.loop_gone_since.get_or_insert(now);
                        if now - since >= LOOP_DROP_MS {
                            return Step::End(Some(LineEvent::Hangup), "the caller hung up (loop current dropped)");
                        }
                    }
                    _ => self.loop_gone_since = None,
                }
                if let Some(p) = sense.polarity {
                    if self.polarity.is_some_and(|was| was != p) {
                        return Step::End(Some(LineEvent::Hangup), "the caller hung up (polarity reversed)");
                    }
                    self.polarity = Some(p);
                }
            }
            let said = out.iter().any(|&s| s.unsigned_abs() > 64);
            self.quiet_ms = if power < SILENT_DBM0 && !said { self.quiet_ms + 20 } else { 0 };
            if self.quiet_ms >= cfg.silence_hangup_ms {
                return Step::End(Some(LineEvent::Hangup), "the line was silent too long (no hang-up signal heard)");
            }
            if self.keys.is_empty()
                && let Some(k) = self.dtmf.push(&clean)
            {
                let _ = self.events.send(LineEvent::Dtmf(k));
            }
        }
        // The caller's audio to the call: nothing of the PBX's while a transfer dials.
        let to_call = if self.transfer.is_some() { SILENCE } else { clean };
        if self.paced {
            match self.audio.try_send(to_call) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    self.dropped += 1;
                    if self.dropped.is_power_of_two() {
                        tracing::warn!(call = %self.log_id, dropped = self.dropped, "the call is not keeping up with the line: audio dropped");
                    }
                }
                Err(TrySendError::Disconnected(_)) => return Step::End(None, "the call ended"),
            }
        } else if self.audio.send(to_call).is_err() {
            return Step::End(None, "the call ended");
        }
        Step::Play(out)
    }

    /// Moves a transfer on by a frame; the frame to play instead of silence, if any, or the
    /// call's end.
    fn step_transfer(&mut self, hw: &mut Hardware, cfg: &FxoConfig, now: u64, progress: Option<Progress>) -> Result<Option<Frame>, Step> {
        let hook = |hw: &mut Hardware, off: bool| hw.control.set_off_hook(off).map_err(|e| e.to_string());
        let Some(t) = self.transfer.take() else { return Ok(None) };
        let (next, frame) = match t {
            Transfer::Flash { until, back } if now >= until => {
                if let Err(e) = hook(hw, true) {
                    tracing::error!(call = %self.log_id, "transfer: cannot go off hook again: {e}");
                    return Err(Step::End(Some(LineEvent::Hangup), "the line control failed during a transfer"));
                }
                match back {
                    Some(why) => {
                        tracing::info!(call = %self.log_id, %why, "transfer failed: back with the caller");
                        let _ = self.events.send(LineEvent::TransferResult(Err(why)));
                        self.answered_at = now;
                        self.polarity = None;
                        (None, None)
                    }
                    None => (
                        Some(Transfer::DialTone { until: now + DIAL_WAIT_MS, digits: self.pending_digits.take().unwrap_or_default() }),
                        None,
                    ),
                }
            }
            t @ Transfer::Flash { .. } => (Some(t), None),
            Transfer::DialTone { until, digits } if now >= until => (Some(Transfer::Dialling { keys: key_tones(&digits) }), None),
            t @ Transfer::DialTone { .. } => (Some(t), None),
            Transfer::Dialling { mut keys } => {
                let frame = take_frame(&mut keys);
                if keys.is_empty() {
                    (Some(Transfer::Ringing { until: now + cfg.transfer_timeout_ms, sound_ms: 0 }), Some(frame))
                } else {
                    (Some(Transfer::Dialling { keys }), Some(frame))
                }
            }
            Transfer::Ringing { until, sound_ms } => {
                let failed = match progress {
                    Some(Progress::Busy) => Some("the extension is busy"),
                    Some(Progress::Reorder) => Some("the PBX could not place the transfer (reorder tone)"),
                    _ if now >= until => Some("nobody answered"),
                    _ => None,
                };
                let sound_ms = match self.progress.heard() {
                    Heard::Sound => sound_ms + 20,
                    Heard::Tone => 0,
                    Heard::Quiet => sound_ms,
                };
                if let Some(why) = failed {
                    // Flash again: most PBXs then drop the ringing extension and give back the caller.
                    if hook(hw, false).is_err() {
                        return Err(Step::End(Some(LineEvent::Hangup), "the line control failed during a transfer"));
                    }
                    (Some(Transfer::Flash { until: now + cfg.flash_ms as u64, back: Some(why.to_string()) }), None)
                } else if sound_ms >= ANSWERED_SOUND_MS {
                    tracing::info!(call = %self.log_id, "transfer answered: handing the caller over");
                    let _ = self.events.send(LineEvent::TransferResult(Ok(())));
                    return Err(Step::End(Some(LineEvent::Hangup), "transferred"));
                } else {
                    (Some(Transfer::Ringing { until, sound_ms }), None)
                }
            }
        };
        self.transfer = next;
        Ok(frame)
    }

    /// Ends the call: on hook, the leg told (the far end's hang-up as `event`) and closed.
    fn end(self, hw: &mut Hardware, event: Option<LineEvent>, why: &str) {
        if let Some(e) = event {
            let _ = self.events.send(e);
        }
        self.shared.end();
        if let Err(e) = hw.control.set_off_hook(false) {
            tracing::error!(call = %self.log_id, "cannot go on hook: {e}");
        }
        let _ = hw.control.set_cid_path(true);
        tracing::info!(call = %self.log_id, dropped_frames = self.dropped, xruns = hw.port.xruns(), "analog call ended: {why}");
    }
}

/// However a call ends on the line's side (a fault included), the leg learns it: writes fail
/// and, with the events sender gone, the leg reports the hang-up.
impl Drop for InCall {
    fn drop(&mut self) {
        self.shared.end();
    }
}

/// Frames the call may fall behind a device-paced line before audio is dropped: a second.
const MAX_BEHIND: usize = 50;

/// The line's tones for `keys`, as dialled: [`DIAL_DBM0`] per tone, 100 ms on, 100 ms off.
fn key_tones(keys: &str) -> VecDeque<i16> {
    let mut v = Vec::new();
    push_keys(&mut v, keys, DIAL_DBM0, 100, 100);
    v.into()
}

/// The next 20 ms of `samples` (padded with silence).
fn take_frame(samples: &mut VecDeque<i16>) -> Frame {
    let mut f = SILENCE;
    for (o, s) in f.iter_mut().zip(samples.drain(..FRAME_SAMPLES.min(samples.len()))) {
        *o = s;
    }
    f
}
