//! Jitter buffer (fixed or growing depth) for one stream of 20 ms G.711 frames, and a
//! simple packet-loss concealment helper.
//!
//! # Model
//!
//! The buffer keeps a *playout clock*: the sequence number and RTP
//! timestamp of the frame the next [`JitterBuffer::pop`] will play. The
//! media clock calls `pop` exactly once every 20 ms, and every call advances
//! the playout clock by one frame (one sequence number, 160 timestamp
//! units), whether or not that frame arrived. Real time therefore never
//! stretches or shrinks: a frame that is not there when its turn comes is
//! reported [`Playout::Missing`] once and never played afterwards.
//!
//! A stream is a *timeline*: packets whose sequence numbers and timestamps
//! advance together (`timestamp = t0 + 160 * (seq - s0)`, modulo wrap).
//! A packet on the current timeline is slotted by sequence number. A packet
//! off it means the sender broke continuity: a new talk spurt after silence
//! suppression (sequence +1 but timestamp jumped), or a restarted stream
//! (both jumped). That starts a new timeline — a *resync* — instead of
//! being judged late or early against the old one, which is what would
//! stall a naive buffer. If frames of the old timeline are still buffered,
//! the first such packet is held ([`PushResult::Held`]) and the switch
//! happens only when a second packet agrees with it; the switch then drops
//! the old frames not yet played (fewer than `2 * depth + 2`, usually
//! under `depth`). That is the price of never letting one stray packet
//! flush good audio.
//!
//! Two consequences of keying on that relation, both deliberate: the peer
//! must packetise at 20 ms (`a=ptime:20`; 30 ms packets would be off the
//! timeline every time), and packets of another payload type that share the
//! sequence space while audio flows (telephone-event sent alongside audio,
//! which most senders do not do) cost one resync when they stop, with the
//! audio in between mostly dropped.
//!
//! # Depth
//!
//! A new timeline's first frame is played `depth` pops after it arrives,
//! so `depth = 3` gives 60 ms of protection against jitter and reordering.
//! [`JitterBuffer::new`] keeps the depth fixed. [`JitterBuffer::adaptive`]
//! starts small and grows: a packet that arrives after its turn (it was
//! reported `Missing`) shows the network is later than the buffer allows,
//! so the depth grows by how late it was, up to the maximum, by holding
//! the playout clock for that many pops (they return `Empty`: the
//! listener gets no frame, not a made-up one). It never shrinks during a
//! stream: a network that was late once is likely to be late again, and
//! dropping audio to shrink could cut a word. On a quiet LAN it stays at
//! one frame, which is most of the delay a caller's turn would otherwise
//! wait for.
//!
//! The ring holds `2 * max_depth + 2` slots so that frames arriving early
//! (after a network stall releases a burst) fit; a frame arriving beyond
//! that makes the buffer drop the oldest frames so that the newest sits
//! `depth` frames ahead again, keeping latency bounded instead of growing
//! with each burst.
//!
//! # Underruns and pauses
//!
//! When nothing at all is buffered the stream may have paused (silence
//! suppression, hold, network stall). The first [`MISSING_WHEN_DRY`] such
//! pops return `Missing` so the caller fades out with [`conceal`]; later
//! ones return [`Playout::Empty`]. After [`FORGET_AFTER_DRY`] dry pops the
//! timeline is dropped and the next packet starts a new one. If the clock
//! has run ahead of the sender (delay grew for good), every packet arrives
//! late; after [`LATE_RESYNC`] frame periods of nothing but late packets,
//! with nothing buffered, the buffer resyncs on the newest one. A backlog
//! released by a stall is different: its late packets are dropped and the
//! current ones play on schedule, so latency stays at `depth`.
//!
//! Storage is allocated once in [`JitterBuffer::new`]; `push` and `pop` copy
//! into and out of fixed slots and never allocate.

/// RTP timestamp units per 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: u32 = 160;

/// Largest payload a slot holds: a 20 ms G.711 frame is 160 bytes; the
/// room to spare admits 20 ms of 16-bit PCM without a second slot type.
pub const MAX_FRAME_BYTES: usize = 320;

/// Largest accepted depth, in frames (one second).
pub const MAX_DEPTH: usize = 50;

/// Dry pops reported as [`Playout::Missing`] before switching to
/// [`Playout::Empty`]; matches [`conceal`]'s fade, after which there is
/// nothing left to conceal.
pub const MISSING_WHEN_DRY: u32 = 3;

/// Dry pops (one second) after which the timeline is forgotten.
pub const FORGET_AFTER_DRY: u32 = 50;

/// Consecutive frame periods in which only late packets arrived, with
/// nothing buffered, that trigger a resync. Counted per period rather than
/// per packet so that the backlog a network stall releases all at once
/// (late packets first, then current ones) does not trigger it.
pub const LATE_RESYNC: u32 = 3;

/// How deep a call's jitter buffer starts and how deep it may grow, in 20 ms frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterDepth {
    pub min_frames: usize,
    pub max_frames: usize,
}

impl Default for JitterDepth {
    /// One frame on a quiet LAN, up to 160 ms on a jittery trunk.
    fn default() -> Self {
        JitterDepth { min_frames: 1, max_frames: 8 }
    }
}

/// What [`JitterBuffer::push`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushResult {
    /// The very first packet: a timeline starts, playout begins after
    /// `depth` pops.
    Started,
    /// Buffered for playout (possibly out of order).
    Stored,
    /// Already buffered, or already played; dropped.
    Duplicate,
    /// Its turn has passed (it was reported `Missing`); dropped.
    Late,
    /// Arrived more than the ring holds ahead; older buffered frames were
    /// dropped so it fits with `depth` frames of latency.
    SkippedAhead,
    /// Off the current timeline while frames of it are still buffered:
    /// held until a second packet confirms the new timeline, so one stray
    /// packet cannot flush good audio.
    Held,
    /// Started a new timeline (discontinuity confirmed, drained buffer,
    /// persistent lateness, or after a long pause); stored.
    Resynced,
    /// Payload longer than [`MAX_FRAME_BYTES`]; dropped, not counted.
    TooLarge,
}

/// What to play for the current 20 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playout<'a> {
    /// The payload of the frame due now.
    Frame(&'a [u8]),
    /// The frame due now is lost or late: conceal it.
    Missing,
    /// Nothing to play: not started yet, still filling, or paused.
    Empty,
}

/// Running counters, for logs and RTCP-style call quality reporting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets pushed (excluding `TooLarge`).
    pub received: u64,
    /// Frames returned by `pop`.
    pub played: u64,
    /// Packets stored behind a newer one.
    pub reordered: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Late packets dropped.
    pub late: u64,
    /// `Missing` results returned.
    pub missing: u64,
    /// New timelines started after the first.
    pub resyncs: u64,
    /// Buffered frames dropped to make room (`SkippedAhead`).
    pub discarded: u64,
    /// Packets held pending confirmation of a discontinuity.
    pub held: u64,
    /// Frames the adaptive depth grew by (pops that held the clock).
    pub grown: u64,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    full: bool,
    seq: u16,
    len: u16,
    data: [u8; MAX_FRAME_BYTES],
}

impl Slot {
    const EMPTY: Slot = Slot { full: false, seq: 0, len: 0, data: [0; MAX_FRAME_BYTES] };

    /// `payload.len() <= MAX_FRAME_BYTES` is checked by `push`.
    fn fill(&mut self, seq: u16, payload: &[u8]) {
        self.full = true;
        self.seq = seq;
        self.len = payload.len() as u16;
        self.data[..payload.len()].copy_from_slice(payload);
    }

    fn payload(&self) -> &[u8] {
        &self.data[..usize::from(self.len)]
    }
}

/// The playout clock of the current timeline.
#[derive(Debug, Clone, Copy)]
struct Clock {
    next_seq: u16,
    next_ts: u32,
    /// Ring index of `next_seq`. Indexing relative to a head, not by
    /// `seq % capacity`, keeps slots distinct across the 65535 -> 0 wrap for
    /// any capacity.
    head: usize,
    /// Earliest frame of this timeline; pops before it return `Empty`.
    first_seq: u16,
    prefilling: bool,
    highest_seq: u16,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    seq: u16,
    ts: u32,
    age: usize,
}

/// Signed distance `a - b` between sequence numbers, valid within ±32767.
fn seq_diff(a: u16, b: u16) -> i32 {
    i32::from(a.wrapping_sub(b) as i16)
}

impl core::fmt::Debug for JitterBuffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JitterBuffer")
            .field("depth", &self.depth)
            .field("buffered", &self.pending)
            .field("next_seq", &self.clock.map(|c| c.next_seq))
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Reorders, de-duplicates and paces 20 ms frames; see the module docs.
pub struct JitterBuffer {
    depth: usize,
    max_depth: usize,
    /// Pops still to hold the playout clock for, after the depth grew.
    holding: usize,
    slots: Box<[Slot]>,
    /// Payload of the held discontinuity candidate.
    spare: Slot,
    candidate: Option<Candidate>,
    clock: Option<Clock>,
    pending: usize,
    /// Bit `k`: the frame `k + 1` positions before `next_seq` was played.
    /// Tells duplicates of played frames from late first arrivals.
    played_bits: u64,
    dry: u32,
    /// Frame periods in a row whose packets were all late.
    late_periods: u32,
    /// A pop happened since the last late packet.
    popped_since_late: bool,
    started_once: bool,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer delaying playout by `depth_frames` × 20 ms, clamped to
    /// `1..=MAX_DEPTH`. Allocates all frame storage now.
    pub fn new(depth_frames: usize) -> Self {
        Self::adaptive(depth_frames, depth_frames)
    }

    /// A buffer starting at `min_frames` of delay that grows towards
    /// `max_frames` when packets arrive too late for it (module docs).
    /// Both are clamped to `1..=MAX_DEPTH`.
    pub fn adaptive(min_frames: usize, max_frames: usize) -> Self {
        let depth = min_frames.clamp(1, MAX_DEPTH);
        let max_depth = max_frames.clamp(depth, MAX_DEPTH);
        Self {
            depth,
            max_depth,
            holding: 0,
            slots: vec![Slot::EMPTY; 2 * max_depth + 2].into_boxed_slice(),
            spare: Slot::EMPTY,
            candidate: None,
            clock: None,
            pending: 0,
            played_bits: 0,
            dry: 0,
            late_periods: 0,
            popped_since_late: true,
            started_once: false,
            stats: JitterStats::default(),
        }
    }

    /// Playout delay in frames.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Number of slots: frames can arrive up to this many ahead of playout.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Frames currently buffered.
    pub fn buffered(&self) -> usize {
        self.pending
    }

    /// Counters since creation.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Forgets everything buffered and the timeline (e.g. on re-INVITE to a
    /// new media source); counters are kept.
    pub fn reset(&mut self) {
        for s in self.slots.iter_mut() {
            s.full = false;
        }
        self.pending = 0;
        self.clock = None;
        self.candidate = None;
        self.dry = 0;
        self.late_periods = 0;
        self.played_bits = 0;
        self.holding = 0;
    }

    /// Offers one received packet's sequence number, timestamp and payload.
    pub fn push(&mut self, seq: u16, timestamp: u32, payload: &[u8]) -> PushResult {
        if payload.len() > MAX_FRAME_BYTES {
            return PushResult::TooLarge;
        }
        self.stats.received += 1;
        self.push_inner(seq, timestamp, payload)
    }

    fn push_inner(&mut self, seq: u16, ts: u32, payload: &[u8]) -> PushResult {
        let Some(clock) = self.clock else {
            let first = !self.started_once;
            self.restart(seq, ts, payload);
            return if first { PushResult::Started } else { PushResult::Resynced };
        };
        let d = seq_diff(seq, clock.next_seq);
        let on_timeline = clock.next_ts.wrapping_add((d as u32).wrapping_mul(FRAME_SAMPLES)) == ts;
        if !on_timeline {
            return self.discontinuity(seq, ts, payload);
        }
        if d < 0 {
            let back = d.unsigned_abs();
            if back <= 64 && (self.played_bits >> (back - 1)) & 1 == 1 {
                self.stats.duplicates += 1;
                return PushResult::Duplicate;
            }
            self.stats.late += 1;
            // Later than the largest depth could have saved: a stray, not a measure.
            let grow = if (back as usize) <= self.max_depth { (back as usize).min(self.max_depth - self.depth) } else { 0 };
            if grow > 0 {
                self.depth += grow;
                self.holding += grow;
                self.stats.grown += grow as u64;
            }
            if self.popped_since_late {
                self.popped_since_late = false;
                self.late_periods += 1;
            }
            if self.late_periods >= LATE_RESYNC && self.pending == 0 {
                self.restart(seq, ts, payload);
                return PushResult::Resynced;
            }
            return PushResult::Late;
        }
        self.late_periods = 0;
        let mut d = d as usize;
        let mut result = PushResult::Stored;
        if d >= self.slots.len() {
            self.skip(d - self.depth);
            d = self.depth;
            result = PushResult::SkippedAhead;
        }
        self.store(d, seq, payload).unwrap_or(result)
    }

    /// Puts a frame `d` positions after the playout point; returns
    /// `Some(Duplicate)` if it is already there.
    fn store(&mut self, d: usize, seq: u16, payload: &[u8]) -> Option<PushResult> {
        let cap = self.slots.len();
        let clock = self.clock.as_mut()?;
        let slot = &mut self.slots[(clock.head + d) % cap];
        if slot.full {
            if slot.seq == seq {
                self.stats.duplicates += 1;
                return Some(PushResult::Duplicate);
            }
            // Unreachable while slots are cleared on pop and skip; replace
            // rather than trust it.
            self.pending -= 1;
        }
        slot.fill(seq, payload);
        self.pending += 1;
        if seq_diff(seq, clock.highest_seq) < 0 {
            self.stats.reordered += 1;
        } else {
            clock.highest_seq = seq;
        }
        if clock.prefilling && seq_diff(seq, clock.first_seq) < 0 {
            clock.first_seq = seq;
        }
        None
    }

    /// Advances the playout clock by `n` frames without playing them.
    fn skip(&mut self, n: usize) {
        let cap = self.slots.len();
        let Some(clock) = self.clock.as_mut() else { return };
        for i in 0..n.min(cap) {
            let slot = &mut self.slots[(clock.head + i) % cap];
            if slot.full {
                slot.full = false;
                self.pending -= 1;
                self.stats.discarded += 1;
            }
        }
        clock.head = (clock.head + n) % cap;
        clock.next_seq = clock.next_seq.wrapping_add(n as u16);
        clock.next_ts = clock.next_ts.wrapping_add((n as u32).wrapping_mul(FRAME_SAMPLES));
        self.played_bits = self.played_bits.checked_shl(n as u32).unwrap_or(0);
    }

    /// Starts a new timeline whose first frame is this packet, played after
    /// `depth` pops.
    fn restart(&mut self, seq: u16, ts: u32, payload: &[u8]) {
        self.reset();
        if self.started_once {
            self.stats.resyncs += 1;
        }
        self.started_once = true;
        let depth = self.depth;
        self.clock = Some(Clock {
            next_seq: seq.wrapping_sub(depth as u16),
            next_ts: ts.wrapping_sub((depth as u32) * FRAME_SAMPLES),
            head: 0,
            first_seq: seq,
            prefilling: true,
            highest_seq: seq,
        });
        self.slots[depth].fill(seq, payload);
        self.pending = 1;
    }

    /// A packet off the current timeline.
    fn discontinuity(&mut self, seq: u16, ts: u32, payload: &[u8]) -> PushResult {
        if let Some(c) = self.candidate {
            let dc = seq_diff(seq, c.seq);
            if dc == 0 && ts == c.ts {
                self.stats.duplicates += 1;
                return PushResult::Duplicate;
            }
            let agrees = c.ts.wrapping_add((dc as u32).wrapping_mul(FRAME_SAMPLES)) == ts;
            if agrees && dc != 0 && (dc.unsigned_abs() as usize) < self.slots.len() {
                // Two packets agree on a new timeline: switch to it,
                // anchored on the earlier of the two.
                let held = self.spare;
                if dc > 0 {
                    self.restart(c.seq, c.ts, held.payload());
                    self.push_inner(seq, ts, payload);
                } else {
                    self.restart(seq, ts, payload);
                    self.push_inner(c.seq, c.ts, held.payload());
                }
                return PushResult::Resynced;
            }
        }
        if self.pending == 0 {
            // Nothing of the old timeline left to lose.
            self.restart(seq, ts, payload);
            return PushResult::Resynced;
        }
        self.spare.fill(seq, payload);
        self.candidate = Some(Candidate { seq, ts, age: 0 });
        self.stats.held += 1;
        PushResult::Held
    }

    /// Returns what to play for the next 20 ms; call exactly once per frame
    /// period. The returned slice is valid until the next call on `self`.
    pub fn pop(&mut self) -> Playout<'_> {
        let cap = self.slots.len();
        self.popped_since_late = true;
        if let Some(c) = self.candidate.as_mut() {
            c.age += 1;
            if c.age > cap {
                self.candidate = None;
            }
        }
        let Some(clock) = self.clock.as_mut() else {
            return Playout::Empty;
        };
        if self.holding > 0 {
            self.holding -= 1;
            return Playout::Empty;
        }
        let pos = clock.next_seq;
        let idx = clock.head;
        clock.next_seq = pos.wrapping_add(1);
        clock.next_ts = clock.next_ts.wrapping_add(FRAME_SAMPLES);
        clock.head = (idx + 1) % cap;
        self.played_bits <<= 1;
        if clock.prefilling {
            if seq_diff(pos, clock.first_seq) < 0 {
                return Playout::Empty;
            }
            clock.prefilling = false;
        }
        let slot = &mut self.slots[idx];
        if slot.full {
            slot.full = false;
            self.pending -= 1;
            if slot.seq == pos {
                self.played_bits |= 1;
                self.dry = 0;
                self.stats.played += 1;
                return Playout::Frame(self.slots[idx].payload());
            }
        }
        if self.pending > 0 {
            self.dry = 0;
            self.stats.missing += 1;
            return Playout::Missing;
        }
        self.dry += 1;
        if self.dry > FORGET_AFTER_DRY {
            self.reset();
            return Playout::Empty;
        }
        if self.dry <= MISSING_WHEN_DRY {
            self.stats.missing += 1;
            return Playout::Missing;
        }
        Playout::Empty
    }
}

/// Simple packet-loss concealment for decoded 16-bit PCM: repeats the last
/// good frame with a falling gain, then goes silent.
///
/// `previous` is the last frame actually received (not a concealed one,
/// or the fade would compound); `consecutive_losses` counts from 1 for the
/// first lost frame. The gain ramps linearly within each frame — 1 to ½,
/// ½ to ¼, ¼ to 0 — so each loss costs about 6 dB with no step in level
/// at frame boundaries, and from the 4th loss on the output is silence:
/// repeating one 20 ms frame longer than that sounds like a buzz, which is
/// worse than a gap. Samples beyond `previous.len()` are silence.
pub fn conceal(previous: &[i16], out: &mut [i16], consecutive_losses: u32) {
    const ONE: i64 = 1 << 15;
    let (g0, g1) = match consecutive_losses {
        0 | 1 => (ONE, ONE / 2),
        2 => (ONE / 2, ONE / 4),
        3 => (ONE / 4, 0),
        _ => (0, 0),
    };
    let n = out.len().max(1) as i64;
    for (i, o) in out.iter_mut().enumerate() {
        let s = i64::from(previous.get(i).copied().unwrap_or(0));
        let g = g0 + (g1 - g0) * i as i64 / n;
        *o = ((s * g) >> 15) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A 160-byte payload that identifies its frame.
    fn frame(n: u32) -> [u8; 160] {
        let mut f = [0u8; 160];
        f[..4].copy_from_slice(&n.to_be_bytes());
        f[4] = 0xA5;
        f
    }

    /// Test-side view of one pop result, detached from the borrow.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Out {
        F(u32),
        Missing,
        Empty,
    }

    fn pop(jb: &mut JitterBuffer) -> Out {
        match jb.pop() {
            Playout::Frame(p) => {
                assert_eq!(p.len(), 160);
                Out::F(u32::from_be_bytes([p[0], p[1], p[2], p[3]]))
            }
            Playout::Missing => Out::Missing,
            Playout::Empty => Out::Empty,
        }
    }

    /// A sender whose frame `n` has sequence `seq0 + n` and timestamp
    /// `ts0 + 160 n`.
    struct Sender {
        seq0: u16,
        ts0: u32,
    }
    impl Sender {
        fn push(&self, jb: &mut JitterBuffer, n: u32) -> PushResult {
            jb.push(self.seq0.wrapping_add(n as u16), self.ts0.wrapping_add(n.wrapping_mul(160)), &frame(n))
        }
    }

    /// Runs ticks: at tick `t`, pushes the frames in `arrivals[t]`, then pops.
    fn run(jb: &mut JitterBuffer, s: &Sender, arrivals: &[Vec<u32>]) -> Vec<Out> {
        arrivals
            .iter()
            .map(|batch| {
                for &n in batch {
                    s.push(jb, n);
                }
                pop(jb)
            })
            .collect()
    }

    fn steady(range: core::ops::Range<u32>) -> Vec<Vec<u32>> {
        range.map(|n| vec![n]).collect()
    }

    fn frames(outs: &[Out]) -> Vec<u32> {
        outs.iter().filter_map(|o| if let Out::F(n) = o { Some(*n) } else { None }).collect()
    }

    #[test]
    fn in_order_plays_after_depth() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 1000, ts0: 5000 };
        let out = run(&mut jb, &s, &steady(0..20));
        assert_eq!(&out[..4], &[Out::Empty, Out::Empty, Out::Empty, Out::F(0)]);
        assert_eq!(frames(&out), (0..17).collect::<Vec<_>>());
        assert_eq!(jb.buffered(), 3);
        let st = jb.stats();
        assert_eq!((st.received, st.played, st.missing, st.late), (20, 17, 0, 0));
        assert_eq!(pop(&mut jb), Out::F(17));
    }

    #[test]
    fn adaptive_stays_at_one_frame_on_a_steady_stream() {
        let mut jb = JitterBuffer::adaptive(1, 8);
        let s = Sender { seq0: 100, ts0: 0 };
        let out = run(&mut jb, &s, &steady(0..50));
        assert_eq!(&out[..2], &[Out::Empty, Out::F(0)]);
        assert_eq!(frames(&out), (0..49).collect::<Vec<_>>());
        assert_eq!((jb.depth(), jb.stats().grown, jb.stats().missing), (1, 0, 0));
    }

    #[test]
    fn adaptive_grows_by_how_late_a_packet_was_then_rides_out_that_jitter() {
        let mut jb = JitterBuffer::adaptive(1, 8);
        let s = Sender { seq0: 0, ts0: 0 };
        // Every tenth frame arrives three frame periods late.
        let mut arr: Vec<Vec<u32>> = vec![vec![]; 80];
        for n in 0..70u32 {
            let late = if n % 10 == 5 { 3 } else { 0 };
            arr[n as usize + late].push(n);
        }
        let out = run(&mut jb, &s, &arr);
        // The first late frame is lost (it told the buffer how late the network is) ...
        assert_eq!(jb.stats().late, 1, "{out:?}");
        assert!(!frames(&out).contains(&5));
        // ... and from then on the same lateness costs nothing.
        let played = frames(&out);
        assert!((6..66).all(|n| played.contains(&n)), "{played:?}");
        assert_eq!(jb.depth(), 1 + 2, "grew by the frames it was late past its turn");
        assert!(jb.stats().grown >= 2);
    }

    #[test]
    fn adaptive_growth_stops_at_the_maximum_and_ignores_strays() {
        let mut jb = JitterBuffer::adaptive(2, 4);
        let s = Sender { seq0: 0, ts0: 0 };
        let mut arr = steady(0..40);
        arr[30].push(3); // a duplicate-looking stray from long ago: not a measure of the network
        arr[20].retain(|&n| n != 20);
        arr[27].push(20); // seven periods late: more than the maximum could have saved
        let _ = run(&mut jb, &s, &arr);
        assert_eq!(jb.depth(), 2);
        let mut jb = JitterBuffer::adaptive(2, 4);
        let mut arr = steady(0..40);
        arr[20].retain(|&n| n != 20);
        arr[23].push(20);
        let _ = run(&mut jb, &s, &arr);
        assert_eq!(jb.depth(), 3, "late by one past a depth of 2");
        assert!(JitterBuffer::adaptive(3, 99).capacity() == 2 * MAX_DEPTH + 2);
    }

    #[test]
    fn first_push_result_and_empty_before_start() {
        let mut jb = JitterBuffer::new(2);
        assert_eq!(pop(&mut jb), Out::Empty);
        let s = Sender { seq0: 7, ts0: 0 };
        assert_eq!(s.push(&mut jb, 0), PushResult::Started);
        assert_eq!(s.push(&mut jb, 1), PushResult::Stored);
        assert_eq!(jb.push(9, 320, &[0; 321]), PushResult::TooLarge);
        assert_eq!(jb.stats().received, 2);
    }

    #[test]
    fn swapped_neighbours_are_reordered() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 0, ts0: 0 };
        let mut arr = steady(0..30);
        for pair in [(5usize, 6usize), (11, 12), (20, 21)] {
            arr.swap(pair.0, pair.1);
        }
        let out = run(&mut jb, &s, &arr);
        assert_eq!(frames(&out), (0..27).collect::<Vec<_>>());
        assert_eq!(jb.stats().reordered, 3);
        assert_eq!(jb.stats().missing, 0);
    }

    #[test]
    fn reversed_within_depth_is_reordered() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 40, ts0: 9 };
        // Frames arrive in reversed groups of three, each group when its
        // last member is due.
        let mut arr: Vec<Vec<u32>> = vec![vec![]; 31];
        for g in 0..10 {
            arr[3 * g + 2] = vec![3 * g as u32 + 2, 3 * g as u32 + 1, 3 * g as u32];
        }
        let out = run(&mut jb, &s, &arr);
        assert_eq!(frames(&out), (0..28).collect::<Vec<_>>());
        assert_eq!(jb.stats().missing, 0);
        assert_eq!(jb.stats().reordered, 20);
        // Reversed at the very start: the earliest frame plays first.
        let mut jb = JitterBuffer::new(3);
        for n in [3, 2, 1, 0] {
            s.push(&mut jb, n);
        }
        let out: Vec<Out> = (0..4).map(|_| pop(&mut jb)).collect();
        assert_eq!(out, vec![Out::F(0), Out::F(1), Out::F(2), Out::F(3)]);
    }

    #[test]
    fn duplicates_are_dropped_buffered_or_played() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 0, ts0: 0 };
        let mut arr = steady(0..20);
        arr[6].push(6); // while still buffered
        arr[9].push(5); // after it was played
        arr[10].push(9);
        let out = run(&mut jb, &s, &arr);
        assert_eq!(frames(&out), (0..17).collect::<Vec<_>>());
        let st = jb.stats();
        assert_eq!((st.duplicates, st.late, st.missing), (3, 0, 0));
        assert_eq!(s.push(&mut jb, 16), PushResult::Duplicate);
        assert_eq!(s.push(&mut jb, 19), PushResult::Duplicate);
    }

    #[test]
    fn lost_frames_are_missing_once_at_their_turn() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 100, ts0: 0 };
        let mut arr = steady(0..40);
        for lost in [5, 10, 11, 20, 21, 22] {
            arr[lost] = vec![];
        }
        let out = run(&mut jb, &s, &arr);
        // Frame n plays at tick n + 3.
        for (t, o) in out.iter().enumerate().skip(3) {
            let n = t as u32 - 3;
            let want = if [5, 10, 11, 20, 21, 22].contains(&n) { Out::Missing } else { Out::F(n) };
            assert_eq!(*o, want, "tick {t}");
        }
        assert_eq!(jb.stats().missing, 6);
    }

    #[test]
    fn late_packets_are_dropped_and_counted() {
        let mut jb = JitterBuffer::new(2);
        let s = Sender { seq0: 0, ts0: 0 };
        let mut arr = steady(0..20);
        arr[6] = vec![];
        arr[10].push(6); // frame 6 was due at tick 8
        let out = run(&mut jb, &s, &arr);
        assert_eq!(out[8], Out::Missing);
        assert!(!frames(&out).contains(&6));
        assert_eq!((jb.stats().late, jb.stats().missing), (1, 1));
    }

    #[test]
    fn sequence_wraparound() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 65530, ts0: 1234 };
        let mut arr = steady(0..30);
        arr.swap(5, 6); // 65535 and 0 swapped
        arr[8] = vec![]; // seq 2 lost
        let out = run(&mut jb, &s, &arr);
        let mut want: Vec<u32> = (0..27).collect();
        want.retain(|&n| n != 8);
        assert_eq!(frames(&out), want);
        assert_eq!(out[11], Out::Missing);
        assert_eq!(jb.stats().missing, 1);
    }

    #[test]
    fn timestamp_wraparound() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 500, ts0: u32::MAX - 160 * 4 + 1 };
        let mut arr = steady(0..20);
        arr.swap(3, 4);
        let out = run(&mut jb, &s, &arr);
        assert_eq!(frames(&out), (0..17).collect::<Vec<_>>());
        assert_eq!(jb.stats().resyncs, 0);
    }

    #[test]
    fn new_talk_spurt_after_silence_resyncs() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 10, ts0: 0 };
        let out = run(&mut jb, &s, &steady(0..10));
        assert_eq!(frames(&out), (0..7).collect::<Vec<_>>());
        // Silence suppression: the sender stops; 1 s later it resumes with
        // the next sequence number but a timestamp 1 s further on.
        let mut tail = Vec::new();
        for _ in 0..12 {
            tail.push(pop(&mut jb));
        }
        assert_eq!(&tail[..6], &[Out::F(7), Out::F(8), Out::F(9), Out::Missing, Out::Missing, Out::Missing]);
        assert!(tail[6..].iter().all(|o| *o == Out::Empty));
        // Frame 100 of the new spurt: sequence 20 (old frame 9 was 19),
        // timestamp 1600 + 8000 (old frame 9 was 1440).
        let spurt = Sender { seq0: 20u16.wrapping_sub(100), ts0: 9600u32.wrapping_sub(100 * 160) };
        assert_eq!((spurt.seq0.wrapping_add(100), spurt.ts0.wrapping_add(16_000)), (20, 9600));
        assert_eq!(spurt.push(&mut jb, 100), PushResult::Resynced);
        let out = run(&mut jb, &spurt, &steady(101..110));
        assert_eq!(&out[..4], &[Out::Empty, Out::Empty, Out::Empty, Out::F(100)]);
        assert_eq!(frames(&out), (100..106).collect::<Vec<_>>());
        assert_eq!(jb.stats().resyncs, 1);
    }

    #[test]
    fn peer_restart_mid_stream_resyncs_after_confirmation() {
        let mut jb = JitterBuffer::new(3);
        let old = Sender { seq0: 30_000, ts0: 77 };
        run(&mut jb, &old, &steady(0..10));
        // Stream restarts with random numbers "behind" the old ones; a
        // naive buffer would call every packet late forever.
        let new = Sender { seq0: 29_000, ts0: 3 };
        assert_eq!(new.push(&mut jb, 0), PushResult::Held);
        assert_eq!(pop(&mut jb), Out::F(7));
        assert_eq!(new.push(&mut jb, 1), PushResult::Resynced);
        let out = run(&mut jb, &new, &steady(2..12));
        assert_eq!(&out[..4], &[Out::Empty, Out::Empty, Out::Empty, Out::F(0)]);
        assert_eq!(frames(&out), (0..7).collect::<Vec<_>>());
        assert_eq!(jb.stats().resyncs, 1);
        assert_eq!(jb.stats().late, 0);

        // The two confirming packets may arrive swapped: the earlier one
        // still anchors the new timeline.
        let newer = Sender { seq0: 7, ts0: 1 << 31 };
        assert_eq!(newer.push(&mut jb, 1), PushResult::Held);
        assert_eq!(newer.push(&mut jb, 0), PushResult::Resynced);
        let out = run(&mut jb, &newer, &steady(2..10));
        assert_eq!(&out[..4], &[Out::Empty, Out::Empty, Out::Empty, Out::F(0)]);
        assert_eq!(frames(&out), (0..5).collect::<Vec<_>>());
        assert_eq!(jb.stats().resyncs, 2);
    }

    #[test]
    fn held_packet_is_kept_when_the_old_timeline_drains_first() {
        let mut jb = JitterBuffer::new(2);
        let old = Sender { seq0: 0, ts0: 0 };
        run(&mut jb, &old, &steady(0..5));
        let new = Sender { seq0: 900, ts0: 1 << 20 };
        assert_eq!(new.push(&mut jb, 0), PushResult::Held);
        // The old timeline's last frames play out, then the next packet of
        // the new one confirms the held packet, which is not lost.
        assert_eq!((pop(&mut jb), pop(&mut jb)), (Out::F(3), Out::F(4)));
        assert_eq!(jb.buffered(), 0);
        assert_eq!(new.push(&mut jb, 1), PushResult::Resynced);
        let out = run(&mut jb, &new, &steady(2..8));
        assert_eq!(frames(&out), (0..4).collect::<Vec<_>>());
    }

    #[test]
    fn a_single_stray_packet_does_not_flush() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 0, ts0: 0 };
        let mut arr = steady(0..40);
        arr[15].insert(0, 999); // marker for the stray, replaced below
        let mut out = Vec::new();
        for batch in &arr {
            for &n in batch {
                if n == 999 {
                    assert_eq!(jb.push(4321, 42, &frame(999)), PushResult::Held);
                } else {
                    s.push(&mut jb, n);
                }
            }
            out.push(pop(&mut jb));
        }
        assert_eq!(frames(&out), (0..37).collect::<Vec<_>>());
        assert_eq!(jb.stats().resyncs, 0);
    }

    #[test]
    fn long_gap_on_the_same_timeline_forgets_and_restarts() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 0, ts0: 0 };
        run(&mut jb, &s, &steady(0..5));
        for _ in 0..(FORGET_AFTER_DRY + 10) {
            pop(&mut jb);
        }
        // Sender's clock ran on (consistent timeline, e.g. a network outage).
        assert_eq!(s.push(&mut jb, 500), PushResult::Resynced);
        let out = run(&mut jb, &s, &steady(501..510));
        assert_eq!(&out[..4], &[Out::Empty, Out::Empty, Out::Empty, Out::F(500)]);
        assert_eq!(frames(&out), (500..506).collect::<Vec<_>>());
    }

    #[test]
    fn burst_after_stall_keeps_latency_bounded() {
        let mut jb = JitterBuffer::new(3);
        let s = Sender { seq0: 60_000, ts0: 0 };
        let mut arr = steady(0..60);
        // Network stall: frames 20..=34 held back, delivered together with 35.
        for a in arr.iter_mut().take(35).skip(20) {
            a.clear();
        }
        arr[35] = (20..=35).collect();
        let out = run(&mut jb, &s, &arr);
        // Before the stall: normal. During it: 3 Missing, then Empty.
        assert_eq!(frames(&out[..23]), (0..20).collect::<Vec<_>>());
        assert_eq!(&out[23..26], &[Out::Missing; 3]);
        assert!(out[26..35].iter().all(|o| *o == Out::Empty));
        // After it: the backlog is late and dropped, and playing resumes at
        // once with the same 3 frames of latency (frame n at tick n + 3).
        assert_eq!(out[35], Out::F(32));
        let played = frames(&out[35..]);
        assert_eq!(played.last(), Some(&56));
        assert!(played.windows(2).all(|w| w[1] == w[0] + 1));
        assert_eq!(out[59], Out::F(56));
        assert!(jb.buffered() <= jb.capacity());
        let st = jb.stats();
        assert_eq!(st.received, 60);
        assert_eq!((st.late, st.discarded, st.resyncs), (12, 0, 0));
    }

    #[test]
    fn delay_increase_is_absorbed_by_resync() {
        let mut jb = JitterBuffer::new(2);
        let s = Sender { seq0: 0, ts0: 0 };
        // Frames 0..10 on time, then every frame 6 ticks later for good.
        let mut arr: Vec<Vec<u32>> = (0..50).map(|t| if t < 10 { vec![t] } else { vec![] }).collect();
        for n in 10..40 {
            arr[n + 6].push(n as u32);
        }
        let out = run(&mut jb, &s, &arr);
        // Frames 10 and 11 come late and are dropped; the third late period
        // resyncs on frame 12, which then plays `depth` pops after arriving.
        let mut want: Vec<u32> = (0..10).collect();
        want.extend(12..40);
        assert_eq!(frames(&out), want);
        assert_eq!(out[20], Out::F(12));
        let st = jb.stats();
        assert_eq!((st.late, st.resyncs), (LATE_RESYNC as u64, 1));
    }

    #[test]
    fn random_operations_never_panic() {
        let mut rng = Rng(0xC0FF_EE00_1234_5678);
        let mut payload = [0u8; 400];
        for depth in [0, 1, 2, 3, 5, 8, 60] {
            let mut jb = JitterBuffer::new(depth);
            let mut seq: u16 = rng.next() as u16;
            let mut ts: u32 = rng.next() as u32;
            for _ in 0..30_000 {
                match rng.below(10) {
                    0..=3 => {
                        let (s, t) = match rng.below(10) {
                            0..=5 => {
                                seq = seq.wrapping_add(1);
                                ts = ts.wrapping_add(160);
                                (seq, ts)
                            }
                            6 => {
                                let k = rng.below(20) as u16;
                                (seq.wrapping_sub(k), ts.wrapping_sub(u32::from(k) * 160))
                            }
                            7 => {
                                let k = rng.below(200) as u16;
                                seq = seq.wrapping_add(k);
                                ts = ts.wrapping_add(u32::from(k) * 160);
                                (seq, ts)
                            }
                            8 => {
                                seq = seq.wrapping_add(1);
                                ts = ts.wrapping_add(rng.below(100_000) as u32);
                                (seq, ts)
                            }
                            _ => (rng.next() as u16, rng.next() as u32),
                        };
                        let len = rng.below(401) as usize;
                        payload[0] = rng.next() as u8;
                        let r = jb.push(s, t, &payload[..len]);
                        assert_eq!(r == PushResult::TooLarge, len > MAX_FRAME_BYTES);
                    }
                    _ => {
                        if let Playout::Frame(p) = jb.pop() {
                            assert!(p.len() <= MAX_FRAME_BYTES);
                        }
                    }
                }
                assert!(jb.buffered() <= jb.capacity());
            }
            let st = jb.stats();
            assert!(st.played <= st.received);
        }
    }

    #[test]
    fn conceal_fades_then_silences() {
        let prev = [1000i16; 160];
        let mut out = [0i16; 160];
        conceal(&prev, &mut out, 1);
        assert_eq!(out[0], 1000);
        assert!((500..=510).contains(&out[159]));
        assert!(out.windows(2).all(|w| w[1] <= w[0]));
        conceal(&prev, &mut out, 2);
        assert!((495..=500).contains(&out[0]) && (250..=255).contains(&out[159]));
        conceal(&prev, &mut out, 3);
        assert!(out[0] <= 250 && out[159] <= 2);
        conceal(&prev, &mut out, 4);
        assert!(out.iter().all(|&s| s == 0));
        // Extreme samples and mismatched lengths.
        let loud = [i16::MIN, i16::MAX];
        let mut out = [7i16; 5];
        conceal(&loud, &mut out, 1);
        assert_eq!(out[0], i16::MIN);
        assert_eq!(&out[2..], &[0, 0, 0]);
        conceal(&loud, &mut [], 1);
    }
}
