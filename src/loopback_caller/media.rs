//! The caller's RTP thread: one packet every 20 ms by the clock (what we say, a key press, or
//! silence), and between two packets everything the daemon sent, decoded and timed.
//!
//! Deadlines are absolute (start + n * 20 ms) and the wait for the next one is a receive with
//! a timeout, not a sleep, so packets neither drift nor wait on the daemon. A thread starved for
//! a moment sends what it owes at once; starved for longer than [`MAX_BURST`] frames it drops
//! the time it lost, as a phone whose clock keeps running would.

use std::collections::VecDeque;
use std::net::UdpSocket;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::dialog::Stream;
use super::{Ending, Shared};
use crate::audio::g711::Law;
use crate::entropy::u32 as rand_u32;
use crate::line::FRAME_SAMPLES;
use crate::rtp::dtmf::{DtmfSender, EVENT_LEN};
use crate::rtp::packet::{RtpHeader, RtpPacket, build};

const TICK: Duration = Duration::from_millis(20);
/// Frames owed after a stall that are still sent (200 ms); beyond that the time is skipped.
const MAX_BURST: u64 = 10;
/// A frame of ours with a sample above this is speech (what `bench turns` has always used).
const OUR_VOICE: u16 = 1000;
/// A frame from the agent with a sample above this carries sound; its silence is digital zero.
const AGENT_VOICE: u16 = 500;
/// Audio kept before the agent's first sound in a reply, so a recogniser hears its onset.
const PREROLL: usize = 8000 / 5;
/// How long a key is held, and the silence after it (a receiver needs the gap to tell
/// "1 1" from one long "1").
const KEY_MS: u32 = 100;
const KEY_GAP_TICKS: u32 = 3;

/// Something to send, in order.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Speech(Vec<i16>),
    Key(char),
}

/// What the owner and the two threads share (behind [`Shared`]'s lock).
#[derive(Default)]
pub(crate) struct State {
    pub queue: VecDeque<Outgoing>,
    /// The media thread has taken something off the queue that is not fully sent.
    sending: bool,
    /// Everything heard, on our clock (see `LoopbackCaller::heard_track`).
    pub track: Vec<i16>,
    /// The agent's reply being heard: from its first sound, with preroll.
    reply: Option<Vec<i16>>,
    /// When the agent's audio last carried sound, and first did.
    pub last_voiced: Option<Instant>,
    pub first_sound: Option<Instant>,
    /// Offsets in `track` at which what we said started sounding.
    pub onsets: Vec<usize>,
    pub latencies: Vec<u32>,
    /// When our last voiced packet went out, until the agent's next sound is timed against it.
    last_voiced_sent: Option<Instant>,
    pub ending: Option<Ending>,
    pub bye_answered: bool,
}

impl State {
    /// Nothing queued or being sent.
    pub fn idle(&self) -> bool {
        self.queue.is_empty() && !self.sending
    }

    pub fn reply_started(&self) -> bool {
        self.reply.is_some()
    }

    pub fn take_reply(&mut self) -> Vec<i16> {
        self.reply.take().unwrap_or_default()
    }

    /// One frame from the agent, arrived at `now` in the 20 ms slot starting at sample `slot`.
    fn hear(&mut self, frame: &[i16], slot: usize, now: Instant) {
        let at = self.track.len().max(slot);
        self.track.resize(at, 0);
        if frame.iter().any(|s| s.unsigned_abs() > AGENT_VOICE) {
            self.first_sound.get_or_insert(now);
            if self.idle()
                && let Some(sent) = self.last_voiced_sent.take()
            {
                self.latencies.push(now.duration_since(sent).as_millis() as u32);
            }
            if self.reply.is_none() {
                self.reply = Some(self.track[at.saturating_sub(PREROLL)..].to_vec());
            }
            self.last_voiced = Some(now);
        }
        self.track.extend_from_slice(frame);
        if let Some(r) = &mut self.reply {
            r.extend_from_slice(frame);
        }
    }
}

/// What the thread is in the middle of sending.
enum Current {
    Speech {
        samples: Vec<i16>,
        at: usize,
        sounded: bool,
    },
    Key(DtmfSender),
    /// Silence after a key press.
    Gap(u32),
}

/// One packet's payload: a frame of audio in PCMU, or a telephone-event.
enum Packet {
    Audio([u8; FRAME_SAMPLES]),
    Event { marker: bool, timestamp: u32, payload: [u8; EVENT_LEN] },
}

fn pcmu(frame: &[i16; FRAME_SAMPLES]) -> [u8; FRAME_SAMPLES] {
    let mut payload = [0u8; FRAME_SAMPLES];
    Law::Ulaw.encode(frame, &mut payload);
    payload
}

/// The sending half's own state: what is being said and the RTP numbering.
struct Mouth {
    current: Option<Current>,
    ssrc: u32,
    sequence: u16,
    timestamp0: u32,
}

impl Mouth {
    /// The RTP timestamp of slot `tick`: the clock's, not a count of packets sent.
    fn timestamp(&self, tick: u64) -> u32 {
        self.timestamp0.wrapping_add((tick as u32).wrapping_mul(FRAME_SAMPLES as u32))
    }

    /// The packet for slot `tick`, taking the next thing to send off the queue when free.
    fn next(&mut self, tick: u64, state: &mut State, now: Instant) -> Packet {
        let timestamp = self.timestamp(tick);
        if self.current.is_none() {
            self.current = match state.queue.pop_front() {
                Some(Outgoing::Speech(samples)) => Some(Current::Speech { samples, at: 0, sounded: false }),
                Some(Outgoing::Key(key)) => DtmfSender::new(key, KEY_MS, timestamp).map(Current::Key),
                None => None,
            };
        }
        let mut frame = [0i16; FRAME_SAMPLES];
        let packet = match &mut self.current {
            None => Packet::Audio(pcmu(&frame)),
            Some(Current::Speech { samples, at, sounded }) => {
                let end = (*at + FRAME_SAMPLES).min(samples.len());
                frame[..end - *at].copy_from_slice(&samples[*at..end]);
                *at = end;
                if frame.iter().any(|s| s.unsigned_abs() > OUR_VOICE) {
                    state.last_voiced_sent = Some(now);
                    if !*sounded {
                        *sounded = true;
                        state.onsets.push(tick as usize * FRAME_SAMPLES);
                    }
                }
                if end >= samples.len() {
                    self.current = None;
                }
                Packet::Audio(pcmu(&frame))
            }
            Some(Current::Key(sender)) => match sender.next() {
                Some(p) => {
                    let mut payload = [0u8; EVENT_LEN];
                    p.event.write(&mut payload);
                    Packet::Event { marker: p.marker, timestamp: p.timestamp, payload }
                }
                None => {
                    self.current = Some(Current::Gap(KEY_GAP_TICKS - 1));
                    Packet::Audio(pcmu(&frame))
                }
            },
            Some(Current::Gap(left)) => {
                if *left == 0 {
                    self.current = None;
                } else {
                    *left -= 1;
                }
                Packet::Audio(pcmu(&frame))
            }
        };
        state.sending = self.current.is_some();
        packet
    }

    /// Writes the packet for slot `tick` into `out`; its length. Audio keeps the clock's
    /// timestamp whatever came before it; an event carries its own (the key press's start).
    fn write(&mut self, packet: &Packet, tick: u64, stream: &Stream, out: &mut [u8]) -> Option<usize> {
        let timestamp = self.timestamp(tick);
        let sequence = self.sequence;
        self.sequence = sequence.wrapping_add(1);
        let ssrc = self.ssrc;
        match packet {
            Packet::Audio(payload) => {
                build(&RtpHeader { marker: tick == 0, payload_type: stream.payload_type, sequence, timestamp, ssrc }, payload, out).ok()
            }
            Packet::Event { marker, timestamp, payload } => {
                let payload_type = stream.telephone_event_pt?;
                build(&RtpHeader { marker: *marker, payload_type, sequence, timestamp: *timestamp, ssrc }, payload, out).ok()
            }
        }
    }
}

/// Runs until the caller stops: sends a packet each 20 ms slot, receives in between.
pub(super) fn run(socket: UdpSocket, stream: Stream, shared: &Shared) {
    let mut mouth = Mouth { current: None, ssrc: rand_u32(), sequence: (rand_u32() & 0x7fff) as u16, timestamp0: rand_u32() };
    let mut out = [0u8; 12 + FRAME_SAMPLES];
    let mut buf = [0u8; 1500];
    let start = Instant::now();
    let mut tick: u64 = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        let owed = (now.duration_since(start).as_nanos() / TICK.as_nanos()) as u64 + 1;
        if owed > tick + MAX_BURST {
            tick = owed - MAX_BURST;
        }
        while tick < owed {
            let packet = mouth.next(tick, &mut shared.lock(), now);
            if let Some(n) = mouth.write(&packet, tick, &stream, &mut out) {
                let _ = socket.send_to(&out[..n], stream.remote);
            }
            tick += 1;
        }
        listen_until(&socket, start + TICK * tick as u32, (tick as usize - 1) * FRAME_SAMPLES, shared, &mut buf);
        shared.notify();
    }
}

/// Receives until `due`, each packet of audio heard in the slot starting at sample `slot`.
fn listen_until(socket: &UdpSocket, due: Instant, slot: usize, shared: &Shared, buf: &mut [u8]) {
    loop {
        let left = due.saturating_duration_since(Instant::now());
        if left.is_zero() || socket.set_read_timeout(Some(left)).is_err() {
            return;
        }
        let Ok((n, _)) = socket.recv_from(buf) else { return };
        let Ok(pkt) = RtpPacket::new_checked(&buf[..n]) else { continue };
        // Audio comes with the payload type of our offer (PCMU, 0).
        if pkt.payload_type() != 0 {
            continue;
        }
        let mut frame = [0i16; FRAME_SAMPLES];
        let len = pkt.payload().len().min(FRAME_SAMPLES);
        Law::Ulaw.decode(&pkt.payload()[..len], &mut frame[..len]);
        shared.lock().hear(&frame[..len], slot, Instant::now());
    }
}
