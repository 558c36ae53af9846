//! DTMF over RTP as telephone-events (RFC 4733 §2.3 and §2.5).
//!
//! A key press is one *event*: every packet describing it carries the same
//! RTP timestamp (the event's start), a duration that grows with each
//! update, and finally the end bit, repeated three times because any one
//! packet may be lost. The receiver here therefore identifies an event by
//! its timestamp and code, not by the marker bit (which is only on the
//! first packet and as easily lost as any other).

use core::fmt;

/// Size of one telephone-event payload.
pub const EVENT_LEN: usize = 4;

/// Highest volume value: the field is 6 bits, in -dBm0.
pub const MAX_VOLUME: u8 = 63;

/// Why a telephone-event payload could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfError {
    /// Fewer than 4 bytes.
    Truncated,
}

impl fmt::Display for DtmfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("telephone-event payload shorter than 4 bytes"),
        }
    }
}

impl core::error::Error for DtmfError {}

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code; 0..=15 are the DTMF keys.
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0, 0..=63.
    pub volume: u8,
    /// Duration so far, in RTP timestamp units from the event's timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first 4 bytes of `buf`. Trailing bytes are ignored: they
    /// can only be further events stacked by a sender, which RFC 4733 §2.5.1.5
    /// allows but nothing in telephony relies on. The reserved bit is ignored.
    pub fn parse(buf: &[u8]) -> Result<Self, DtmfError> {
        let [event, flags, d0, d1, ..] = *buf else {
            return Err(DtmfError::Truncated);
        };
        Ok(Self { event, end: flags & 0x80 != 0, volume: flags & 0x3f, duration: u16::from_be_bytes([d0, d1]) })
    }

    /// Serialises into `out`. A volume above 63 is clamped to 63 (the
    /// quietest) rather than masked, which could turn it into 0, the loudest.
    pub fn write(&self, out: &mut [u8; EVENT_LEN]) {
        out[0] = self.event;
        out[1] = (u8::from(self.end) << 7) | self.volume.min(MAX_VOLUME);
        out[2..4].copy_from_slice(&self.duration.to_be_bytes());
    }

    /// The key this event stands for, if it is a DTMF event.
    pub fn digit(&self) -> Option<char> {
        event_to_digit(self.event)
    }
}

/// Maps event codes 0..=15 to `0`-`9`, `*`, `#`, `A`-`D` (RFC 4733 §3.2).
pub fn event_to_digit(event: u8) -> Option<char> {
    Some(match event {
        0..=9 => char::from(b'0' + event),
        10 => '*',
        11 => '#',
        12..=15 => char::from(b'A' + event - 12),
        _ => return None,
    })
}

/// Maps a key to its event code; `a`-`d` are accepted as `A`-`D`.
pub fn digit_to_event(digit: char) -> Option<u8> {
    Some(match digit {
        '0'..='9' => digit as u8 - b'0',
        '*' => 10,
        '#' => 11,
        'A'..='D' => digit as u8 - b'A' + 12,
        'a'..='d' => digit as u8 - b'a' + 12,
        _ => return None,
    })
}

/// A detected key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digit {
    /// `0`-`9`, `*`, `#` or `A`-`D`.
    pub digit: char,
    /// How long the key was held, as reported by the sender.
    pub duration_ms: u32,
}

#[derive(Debug, Clone, Copy)]
struct EventState {
    timestamp: u32,
    event: u8,
    duration: u16,
    ended: bool,
    reported: bool,
}

/// Turns a stream of telephone-event packets into key presses, reporting
/// each press exactly once.
///
/// Rules, and the failure each one survives:
/// - A press is reported when its first end packet arrives, with the
///   longest duration seen: the two repeats of the end packet match the
///   same event and are ignored, and an end packet alone (start and updates
///   lost) still reports the press.
/// - Updates only ever raise the duration, so reordered updates are harmless.
/// - A packet with a different timestamp (or code) starts a new press. If
///   the previous one never saw an end packet (all three lost), it is
///   reported then, with its last known duration; [`poll`](Self::poll) and
///   [`flush`](Self::flush) report it sooner.
/// - Packets of the press before the current one, and packets timestamped
///   up to 10 s before the current press without the marker bit, are strays
///   from the past and are ignored. Anything else is new — so a sender that
///   restarted its timestamps cannot make the receiver deaf.
///
/// Not handled: an event longer than 65535 units (8.2 s at 8 kHz), which a
/// sender splits into segments with new timestamps (§2.5.1.3), is reported
/// once per segment.
#[derive(Debug, Clone)]
pub struct DtmfReceiver {
    clock_rate: u32,
    current: Option<EventState>,
    previous: Option<(u32, u8)>,
}

impl Default for DtmfReceiver {
    fn default() -> Self {
        Self::new()
    }
}

impl DtmfReceiver {
    /// A receiver for telephone-event/8000, the rate used alongside G.711.
    pub fn new() -> Self {
        Self::with_clock_rate(8000)
    }

    /// A receiver for telephone-event at another `clock_rate` in Hz (the
    /// rate only converts durations to milliseconds; 0 is taken as 8000).
    pub fn with_clock_rate(clock_rate: u32) -> Self {
        Self { clock_rate: if clock_rate == 0 { 8000 } else { clock_rate }, current: None, previous: None }
    }

    fn to_digit(&self, st: &EventState) -> Option<Digit> {
        Some(Digit { digit: event_to_digit(st.event)?, duration_ms: (u64::from(st.duration) * 1000 / u64::from(self.clock_rate)) as u32 })
    }

    /// Takes one telephone-event packet: its RTP timestamp, marker bit and
    /// payload. Returns a key press when one completes.
    ///
    /// Non-DTMF events (codes above 15, e.g. flash) are ignored.
    pub fn on_packet(&mut self, timestamp: u32, marker: bool, ev: TelephoneEvent) -> Option<Digit> {
        event_to_digit(ev.event)?;
        let fresh = EventState { timestamp, event: ev.event, duration: ev.duration, ended: ev.end, reported: false };
        let Some(cur) = self.current.as_mut() else {
            self.current = Some(fresh);
            return self.report_if_ended();
        };
        if cur.timestamp == timestamp && cur.event == ev.event {
            cur.duration = cur.duration.max(ev.duration);
            cur.ended |= ev.end;
            return self.report_if_ended();
        }
        if self.previous == Some((timestamp, ev.event)) {
            return None;
        }
        let age = cur.timestamp.wrapping_sub(timestamp) as i32;
        if !marker && age > 0 && i64::from(age) <= 10 * i64::from(self.clock_rate) {
            return None;
        }
        // A new press. If the one it replaces was never reported, report
        // that now; this one, if already ended, goes out with its next
        // (repeated end) packet or via poll/flush.
        let old = *cur;
        self.previous = Some((old.timestamp, old.event));
        self.current = Some(fresh);
        if !old.reported {
            return self.to_digit(&old);
        }
        self.report_if_ended()
    }

    fn report_if_ended(&mut self) -> Option<Digit> {
        let cur = self.current?;
        if cur.ended && !cur.reported {
            self.current = Some(EventState { reported: true, ..cur });
            return self.to_digit(&cur);
        }
        None
    }

    /// Reports a press whose end packets are overdue. `now` is the latest
    /// RTP timestamp received on the stream (audio shares the event clock);
    /// a press that has ended, or whose last known end is more than one
    /// second before `now`, is reported.
    pub fn poll(&mut self, now: u32) -> Option<Digit> {
        let cur = self.current?;
        let last = cur.timestamp.wrapping_add(u32::from(cur.duration));
        let silent_for = now.wrapping_sub(last) as i32;
        if cur.ended || i64::from(silent_for) > i64::from(self.clock_rate) {
            return self.flush();
        }
        None
    }

    /// Reports the current press if it has not been reported, ended or not
    /// (e.g. when the call ends).
    pub fn flush(&mut self) -> Option<Digit> {
        let cur = self.current?;
        if cur.reported {
            return None;
        }
        self.current = Some(EventState { reported: true, ..cur });
        self.to_digit(&cur)
    }
}

/// One telephone-event packet to send: the RTP marker bit and timestamp to
/// put in the header, and the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    /// Set on the first packet of the event only.
    pub marker: bool,
    /// The event's start timestamp, the same in every packet.
    pub timestamp: u32,
    /// The payload.
    pub event: TelephoneEvent,
}

/// Produces the packets for one key press at 8 kHz, one per 20 ms
/// (RFC 4733 §2.5.1): a first packet with the marker bit, updates with the
/// duration growing by 160, and three end packets carrying the same final
/// duration and timestamp (§2.5.1.4) so that losing two still ends the
/// press. The caller sends them 20 ms apart with consecutive RTP sequence
/// numbers, and resumes audio with the timestamp it would have used anyway.
///
/// Duration is clamped to 20 ms..=8191 ms: longer events would need the
/// segmenting of §2.5.1.3, which a generated key press never does.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    event: u8,
    volume: u8,
    timestamp: u32,
    total: u16,
    updates: u16,
    sent: u16,
}

impl DtmfSender {
    /// Timestamp units between packets (20 ms at 8 kHz).
    pub const STEP: u16 = 160;

    /// Number of end packets sent.
    pub const END_REPEATS: u16 = 3;

    /// Packets for `digit` held `duration_ms`, starting at `start_timestamp`,
    /// at volume 10 (-10 dBm0, a usual default). `None` if `digit` is not a
    /// DTMF key.
    pub fn new(digit: char, duration_ms: u32, start_timestamp: u32) -> Option<Self> {
        let event = digit_to_event(digit)?;
        let total = duration_ms.saturating_mul(8).clamp(u32::from(Self::STEP), u32::from(u16::MAX)) as u16;
        Some(Self { event, volume: 10, timestamp: start_timestamp, total, updates: total.div_ceil(Self::STEP), sent: 0 })
    }

    /// Same, at another volume (clamped to 0..=63).
    pub fn with_volume(mut self, volume: u8) -> Self {
        self.volume = volume.min(MAX_VOLUME);
        self
    }

    /// The event's final duration in timestamp units.
    pub fn duration(&self) -> u16 {
        self.total
    }

    fn packets(&self) -> u16 {
        self.updates + Self::END_REPEATS - 1
    }
}

impl Iterator for DtmfSender {
    type Item = DtmfPacket;

    fn next(&mut self) -> Option<DtmfPacket> {
        if self.sent >= self.packets() {
            return None;
        }
        let i = self.sent;
        self.sent += 1;
        let duration = (u32::from(i + 1) * u32::from(Self::STEP)).min(u32::from(self.total)) as u16;
        Some(DtmfPacket {
            marker: i == 0,
            timestamp: self.timestamp,
            event: TelephoneEvent { event: self.event, end: duration == self.total, volume: self.volume, duration },
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::from(self.packets() - self.sent);
        (left, Some(left))
    }
}

impl ExactSizeIterator for DtmfSender {}

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

    fn ev(event: u8, end: bool, duration: u16) -> TelephoneEvent {
        TelephoneEvent { event, end, volume: 10, duration }
    }

    #[test]
    fn payload_round_trip_and_wire_format() {
        let e = TelephoneEvent { event: 11, end: true, volume: 7, duration: 800 };
        let mut b = [0u8; 4];
        e.write(&mut b);
        assert_eq!(b, [11, 0x87, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&b), Ok(e));
        // Reserved bit ignored; trailing bytes ignored.
        assert_eq!(TelephoneEvent::parse(&[11, 0xC7, 3, 0x20, 99]), Ok(e));
        for n in 0..4 {
            assert_eq!(TelephoneEvent::parse(&b[..n]), Err(DtmfError::Truncated));
        }
        let loud = TelephoneEvent { volume: 200, ..e };
        loud.write(&mut b);
        assert_eq!(b[1] & 0x3f, 63);
    }

    #[test]
    fn digit_mapping_is_a_bijection_on_0_to_15() {
        let keys = "0123456789*#ABCD";
        for (i, c) in keys.chars().enumerate() {
            assert_eq!(event_to_digit(i as u8), Some(c));
            assert_eq!(digit_to_event(c), Some(i as u8));
        }
        assert_eq!(digit_to_event('b'), Some(13));
        assert_eq!(event_to_digit(16), None);
        assert_eq!(event_to_digit(255), None);
        assert_eq!(digit_to_event('E'), None);
        assert_eq!(digit_to_event(' '), None);
    }

    #[test]
    fn sender_sequence_for_100ms() {
        let pkts: Vec<DtmfPacket> = DtmfSender::new('5', 100, 12_345).unwrap().collect();
        let durs: Vec<(bool, bool, u16)> = pkts.iter().map(|p| (p.marker, p.event.end, p.event.duration)).collect();
        assert_eq!(
            durs,
            vec![
                (true, false, 160),
                (false, false, 320),
                (false, false, 480),
                (false, false, 640),
                (false, true, 800),
                (false, true, 800),
                (false, true, 800),
            ]
        );
        assert!(pkts.iter().all(|p| p.timestamp == 12_345 && p.event.event == 5));
        assert_eq!(DtmfSender::new('5', 100, 0).unwrap().len(), 7);
        assert!(DtmfSender::new('x', 100, 0).is_none());
        // Short and odd durations: the last update is the end.
        let p: Vec<_> = DtmfSender::new('#', 0, 0).unwrap().collect();
        assert_eq!(p.len(), 3);
        assert!(p[0].marker && p.iter().all(|p| p.event.end && p.event.duration == 160));
        let p: Vec<_> = DtmfSender::new('1', 50, 0).unwrap().collect();
        assert_eq!(p.iter().map(|p| p.event.duration).collect::<Vec<_>>(), vec![160, 320, 400, 400, 400]);
        let long = DtmfSender::new('1', 1_000_000, 0).unwrap();
        assert_eq!(long.duration(), u16::MAX);
        assert_eq!(long.last().unwrap().event.duration, u16::MAX);
        let p = DtmfSender::new('D', 40, 0).unwrap().with_volume(99).next().unwrap();
        assert_eq!(p.event.volume, 63);
    }

    #[test]
    fn sender_to_receiver_reports_once() {
        let mut rx = DtmfReceiver::default();
        let mut got = Vec::new();
        for (k, d) in "19*#A".chars().enumerate() {
            for p in DtmfSender::new(d, 120, 1000 + 8000 * k as u32).unwrap() {
                got.extend(rx.on_packet(p.timestamp, p.marker, p.event));
            }
        }
        let want: Vec<Digit> = "19*#A".chars().map(|digit| Digit { digit, duration_ms: 120 }).collect();
        assert_eq!(got, want);
        assert_eq!(rx.flush(), None);
        assert_eq!(rx.poll(1_000_000), None);
    }

    #[test]
    fn lost_start_packets_and_repeated_end() {
        let mut rx = DtmfReceiver::new();
        assert_eq!(rx.on_packet(500, false, ev(3, true, 800)), Some(Digit { digit: '3', duration_ms: 100 }));
        assert_eq!(rx.on_packet(500, false, ev(3, true, 800)), None);
        assert_eq!(rx.on_packet(500, false, ev(3, true, 800)), None);
        // A late update of the same event.
        assert_eq!(rx.on_packet(500, false, ev(3, false, 480)), None);
    }

    #[test]
    fn reordered_updates_keep_the_longest_duration() {
        let mut rx = DtmfReceiver::new();
        assert_eq!(rx.on_packet(0, true, ev(12, false, 160)), None);
        assert_eq!(rx.on_packet(0, false, ev(12, false, 640)), None);
        assert_eq!(rx.on_packet(0, false, ev(12, false, 320)), None);
        assert_eq!(rx.on_packet(0, false, ev(12, false, 480)), None);
        assert_eq!(rx.on_packet(0, false, ev(12, true, 800)), Some(Digit { digit: 'A', duration_ms: 100 }));
        // End packet overtaken by an update.
        let mut rx = DtmfReceiver::new();
        assert_eq!(rx.on_packet(0, false, ev(1, true, 960)), Some(Digit { digit: '1', duration_ms: 120 }));
        assert_eq!(rx.on_packet(0, false, ev(1, false, 800)), None);
    }

    #[test]
    fn same_key_twice_is_two_presses() {
        let mut rx = DtmfReceiver::new();
        let mut got = Vec::new();
        for ts in [100u32, 2000] {
            for p in DtmfSender::new('7', 60, ts).unwrap() {
                got.extend(rx.on_packet(p.timestamp, p.marker, p.event));
            }
        }
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn lost_end_packets_are_reported_by_next_event_poll_or_flush() {
        let mut rx = DtmfReceiver::new();
        rx.on_packet(0, true, ev(4, false, 160));
        rx.on_packet(0, false, ev(4, false, 320));
        // Next press starts: the unfinished '4' is reported with 40 ms.
        assert_eq!(rx.on_packet(4000, true, ev(6, false, 160)), Some(Digit { digit: '4', duration_ms: 40 }));
        assert_eq!(rx.on_packet(4000, false, ev(6, true, 400)), Some(Digit { digit: '6', duration_ms: 50 }));
        // Late end packets of '4' are recognised as stale.
        assert_eq!(rx.on_packet(0, false, ev(4, true, 480)), None);
        // '8' starts, all its end packets lost, and so is the next start:
        rx.on_packet(9000, true, ev(8, false, 160));
        assert_eq!(rx.poll(9000 + 160 + 4000), None, "only half a second");
        assert_eq!(rx.poll(9000 + 160 + 8001), Some(Digit { digit: '8', duration_ms: 20 }));
        assert_eq!(rx.poll(9000 + 160 + 9000), None);
        rx.on_packet(20_000, true, ev(9, false, 160));
        assert_eq!(rx.flush(), Some(Digit { digit: '9', duration_ms: 20 }));
        assert_eq!(rx.flush(), None);
        assert_eq!(rx.on_packet(20_000, false, ev(9, true, 800)), None);
    }

    #[test]
    fn end_only_after_an_unfinished_press_reports_both_once() {
        let mut rx = DtmfReceiver::new();
        rx.on_packet(0, true, ev(1, false, 160));
        // '1' never ends; '2' arrives only as end packets.
        assert_eq!(rx.on_packet(3000, false, ev(2, true, 800)), Some(Digit { digit: '1', duration_ms: 20 }));
        assert_eq!(rx.on_packet(3000, false, ev(2, true, 800)), Some(Digit { digit: '2', duration_ms: 100 }));
        assert_eq!(rx.on_packet(3000, false, ev(2, true, 800)), None);
        // Or, if that was the only end packet, poll reports it.
        let mut rx = DtmfReceiver::new();
        rx.on_packet(0, true, ev(1, false, 160));
        rx.on_packet(3000, false, ev(2, true, 800));
        assert_eq!(rx.poll(3000), Some(Digit { digit: '2', duration_ms: 100 }));
    }

    #[test]
    fn restarted_timestamps_and_non_dtmf_events() {
        let mut rx = DtmfReceiver::new();
        assert!(rx.on_packet(50_000, false, ev(0, true, 800)).is_some());
        // Stray packet from slightly earlier without marker: ignored.
        assert_eq!(rx.on_packet(49_000, false, ev(5, true, 800)), None);
        // Sender restarted with a timestamp "behind": the marker makes it new.
        assert_eq!(rx.on_packet(40_000, true, ev(5, false, 160)), None);
        assert_eq!(rx.on_packet(40_000, false, ev(5, true, 320)), Some(Digit { digit: '5', duration_ms: 40 }));
        // Far in the past (beyond 10 s) counts as new even without marker.
        assert!(rx.on_packet(40_000u32.wrapping_sub(1_000_000), false, ev(6, true, 160)).is_some());
        // Flash (16) is not a digit and does not disturb state.
        assert_eq!(rx.on_packet(0, true, ev(16, true, 800)), None);
    }

    #[test]
    fn random_packets_never_panic() {
        let mut rng = Rng(7);
        let mut rx = DtmfReceiver::new();
        for _ in 0..50_000 {
            let mut b = [0u8; 6];
            for x in b.iter_mut() {
                *x = rng.next() as u8;
            }
            let len = rng.below(7) as usize;
            if let Ok(mut e) = TelephoneEvent::parse(&b[..len]) {
                e.event %= 20;
                let ts = (rng.below(8) * 1000) as u32;
                if let Some(d) = rx.on_packet(ts, rng.below(2) == 0, e) {
                    assert!(digit_to_event(d.digit).is_some());
                }
                let mut out = [0u8; 4];
                e.write(&mut out);
                assert_eq!(TelephoneEvent::parse(&out), Ok(e));
            }
            if rng.below(100) == 0 {
                let _ = rx.poll(rng.next() as u32);
            }
        }
        let mut rx = DtmfReceiver::with_clock_rate(0);
        let _ = rx.on_packet(0, false, ev(1, true, u16::MAX));
    }
}
