//! RTP data packets (RFC 3550 §5.1): a zero-copy view, a builder, and
//! sequence-number extension (RFC 3550 Appendix A.1).
//!
//! The shape follows smoltcp's `wire` module. [`RtpPacket`] borrows the
//! received datagram and checks every length once, in
//! [`RtpPacket::new_checked`], so the accessors afterwards index without
//! further checks and cannot panic. [`RtpHeader`] is the owned side: it
//! serialises into a buffer the caller owns. Nothing here allocates,
//! because this code runs for every packet (50 per second per call leg).

use core::fmt;

/// The only RTP version in use. Checking it is also the cheapest way to
/// reject STUN, DTLS or stray traffic arriving on the media port (RFC 7983).
pub const VERSION: u8 = 2;

/// Length of the fixed RTP header, without CSRCs or extension.
pub const HEADER_LEN: usize = 12;

/// Highest payload type number: the field is 7 bits wide.
pub const MAX_PAYLOAD_TYPE: u8 = 127;

/// Why a buffer is not a usable RTP packet, or why one could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtpError {
    /// The buffer ends before something the header says is there: the
    /// fixed header, the CSRC list or the header extension.
    Truncated,
    /// The version field is not 2.
    BadVersion(u8),
    /// The padding bit is set, but the count in the last byte is zero or
    /// longer than everything after the headers.
    BadPadding,
    /// A payload type above 127 cannot be encoded in 7 bits.
    BadPayloadType(u8),
    /// The output buffer cannot hold what is being written.
    BufferTooSmall {
        /// Bytes the write needs.
        needed: usize,
        /// Bytes the caller supplied.
        available: usize,
    },
}

impl fmt::Display for RtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("RTP packet truncated"),
            Self::BadVersion(v) => write!(f, "RTP version {v}, expected 2"),
            Self::BadPadding => f.write_str("RTP padding count invalid"),
            Self::BadPayloadType(pt) => write!(f, "RTP payload type {pt} exceeds 127"),
            Self::BufferTooSmall { needed, available } => {
                write!(f, "buffer too small for RTP packet: need {needed}, have {available}")
            }
        }
    }
}

impl core::error::Error for RtpError {}

/// Reads a big-endian u16. Callers have checked `at + 2 <= b.len()`.
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads a big-endian u32. Callers have checked `at + 4 <= b.len()`.
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A validated, borrowed view of one RTP packet.
///
/// The offsets of the payload are computed during validation and kept, so
/// [`payload`](Self::payload) is a plain slice operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    payload_start: usize,
    payload_end: usize,
}

/// The header extension of a packet (RFC 3550 §5.3.1): a profile-defined
/// 16-bit identifier and the extension words that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpExtension<'a> {
    /// "defined by profile" field, e.g. 0xBEDE for RFC 8285 one-byte headers.
    pub profile: u16,
    /// The extension body, a multiple of 4 bytes.
    pub data: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Validates `buf` as one RTP packet.
    ///
    /// Checks, in order: at least the 12-byte fixed header; version 2; room
    /// for the CSRC list; room for the extension header and the extension
    /// length it announces; and, when the padding bit is set, a padding
    /// count between 1 and the number of bytes after the headers (the count
    /// includes the count byte itself, so 0 is malformed).
    ///
    /// Payload types used by RTCP are not rejected here; demultiplexing RTP
    /// from RTCP on a shared port is `super::rtcp::is_rtcp`'s job.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, RtpError> {
        if buf.len() < HEADER_LEN {
            return Err(RtpError::Truncated);
        }
        let version = buf[0] >> 6;
        if version != VERSION {
            return Err(RtpError::BadVersion(version));
        }
        let csrc_count = usize::from(buf[0] & 0x0f);
        let mut start = HEADER_LEN + 4 * csrc_count;
        if buf.len() < start {
            return Err(RtpError::Truncated);
        }
        if buf[0] & 0x10 != 0 {
            if buf.len() < start + 4 {
                return Err(RtpError::Truncated);
            }
            let words = usize::from(be16(buf, start + 2));
            start += 4 + 4 * words;
            if buf.len() < start {
                return Err(RtpError::Truncated);
            }
        }
        let mut end = buf.len();
        if buf[0] & 0x20 != 0 {
            // buf.len() >= 12, so there is a last byte.
            let pad = usize::from(buf[end - 1]);
            if pad == 0 || pad > end - start {
                return Err(RtpError::BadPadding);
            }
            end -= pad;
        }
        Ok(Self { buf, payload_start: start, payload_end: end })
    }

    /// The whole packet, headers and padding included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Always 2 for a checked packet.
    pub fn version(&self) -> u8 {
        self.buf[0] >> 6
    }

    /// Whether the padding bit is set (the padding is excluded from
    /// [`payload`](Self::payload)).
    pub fn has_padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }

    /// Whether a header extension is present.
    pub fn has_extension(&self) -> bool {
        self.buf[0] & 0x10 != 0
    }

    /// Number of CSRC identifiers (0..=15).
    pub fn csrc_count(&self) -> u8 {
        self.buf[0] & 0x0f
    }

    /// The marker bit: for audio, the first packet of a talk spurt
    /// (RFC 3551 §4.1); for telephone-event, the start of an event.
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// Payload type, 0..=127.
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7f
    }

    /// 16-bit sequence number; see [`SequenceTracker`] to extend it.
    pub fn sequence(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// Media timestamp in clock-rate units (8000 Hz for G.711).
    pub fn timestamp(&self) -> u32 {
        be32(self.buf, 4)
    }

    /// Synchronisation source identifier.
    pub fn ssrc(&self) -> u32 {
        be32(self.buf, 8)
    }

    /// The `index`th CSRC, if present.
    pub fn csrc(&self, index: usize) -> Option<u32> {
        (index < usize::from(self.csrc_count())).then(|| be32(self.buf, HEADER_LEN + 4 * index))
    }

    /// All CSRCs, in order.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let buf = self.buf;
        (0..usize::from(buf[0] & 0x0f)).map(move |i| be32(buf, HEADER_LEN + 4 * i))
    }

    /// The header extension, if the X bit is set.
    pub fn extension(&self) -> Option<RtpExtension<'a>> {
        if !self.has_extension() {
            return None;
        }
        let at = HEADER_LEN + 4 * usize::from(self.csrc_count());
        Some(RtpExtension { profile: be16(self.buf, at), data: &self.buf[at + 4..self.payload_start] })
    }

    /// The payload: after CSRCs and extension, before padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.payload_start..self.payload_end]
    }

    /// Number of padding bytes at the end (0 without the padding bit).
    pub fn padding_len(&self) -> usize {
        self.buf.len() - self.payload_end
    }

    /// The fields [`RtpHeader`] carries, e.g. to echo or re-stamp them.
    pub fn header(&self) -> RtpHeader {
        RtpHeader {
            marker: self.marker(),
            payload_type: self.payload_type(),
            sequence: self.sequence(),
            timestamp: self.timestamp(),
            ssrc: self.ssrc(),
        }
    }
}

/// The header fields Frontdesk sends. Outgoing packets never carry
/// padding, CSRCs or extensions, so those are not represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader {
    /// Marker bit.
    pub marker: bool,
    /// Payload type, 0..=127 (0 = PCMU, 8 = PCMA).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

impl RtpHeader {
    /// Writes the 12-byte fixed header to the start of `out` and returns 12.
    ///
    /// The payload type is validated rather than masked, because silently
    /// sending a different payload type than configured is worse than an
    /// error.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, RtpError> {
        if self.payload_type > MAX_PAYLOAD_TYPE {
            return Err(RtpError::BadPayloadType(self.payload_type));
        }
        let Some(out) = out.get_mut(..HEADER_LEN) else {
            return Err(RtpError::BufferTooSmall { needed: HEADER_LEN, available: out.len() });
        };
        out[0] = VERSION << 6;
        out[1] = (u8::from(self.marker) << 7) | self.payload_type;
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        Ok(HEADER_LEN)
    }
}

/// Writes header and payload into `out`; returns the packet length.
///
/// Nothing is written unless the whole packet fits, so a short buffer never
/// leaves half a packet behind.
pub fn build(header: &RtpHeader, payload: &[u8], out: &mut [u8]) -> Result<usize, RtpError> {
    let needed = HEADER_LEN + payload.len();
    if out.len() < needed {
        return Err(RtpError::BufferTooSmall { needed, available: out.len() });
    }
    header.write(out)?;
    out[HEADER_LEN..needed].copy_from_slice(payload);
    Ok(needed)
}

/// Largest forward jump still taken as loss rather than a restart
/// (RFC 3550 A.1: 3000 packets is a minute of 20 ms audio).
pub const MAX_DROPOUT: u16 = 3000;

/// Largest backward step still taken as reordering (RFC 3550 A.1).
pub const MAX_MISORDER: u16 = 100;

/// What [`SequenceTracker::update`] made of one sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqStatus {
    /// The first packet; extended numbering starts at the 16-bit value.
    First(u64),
    /// Newer than anything before; `skipped` numbers in between are missing
    /// (for now: they may still arrive reordered).
    InOrder {
        /// Extended sequence number.
        extended: u64,
        /// Sequence numbers jumped over.
        skipped: u64,
    },
    /// Older than the newest, not seen before: fills an earlier gap.
    Reordered(u64),
    /// Seen before; not counted again.
    Duplicate(u64),
    /// After a jump of more than [`MAX_DROPOUT`], the next packet followed
    /// on sequentially, so the source restarted: counting starts again here
    /// (A.1 `init_seq`), with extended numbering from the 16-bit value.
    Restarted(u64),
    /// A jump too large to be loss or reordering, not yet confirmed; A.1
    /// discards such a packet, and it is not counted.
    Probation,
    /// Older than the first packet of the current run; not counted.
    Stale,
}

impl SeqStatus {
    /// The extended sequence number, where one was assigned.
    pub fn extended(self) -> Option<u64> {
        match self {
            Self::First(e) | Self::Reordered(e) | Self::Duplicate(e) | Self::Restarted(e) => Some(e),
            Self::InOrder { extended, .. } => Some(extended),
            Self::Probation | Self::Stale => None,
        }
    }

    /// Whether the packet is new media the caller should use.
    pub fn is_new(self) -> bool {
        matches!(self, Self::First(_) | Self::InOrder { .. } | Self::Reordered(_) | Self::Restarted(_))
    }
}

/// Extends 16-bit sequence numbers to 64 bits and keeps the reception
/// statistics RTCP receiver reports need (RFC 3550 A.1 and A.3).
///
/// Differences from A.1, and why:
/// - The first packet is accepted at once rather than after
///   `MIN_SEQUENTIAL` packets of probation: the peer is known from SDP, and
///   dropping the first audio frames of every call buys nothing.
/// - Duplicates are detected with a 128-packet bitmap (wider than
///   [`MAX_MISORDER`]) and are not counted as received, so `lost()` is the
///   true number of never-seen packets instead of A.3's net figure.
/// - A packet reordered across the 65535 -> 0 wrap gets the extended number
///   of the cycle it belongs to (A.1 only counts it and never numbers it).
#[derive(Debug, Clone, Default)]
pub struct SequenceTracker {
    started: bool,
    max_seq: u16,
    cycles: u64,
    base_ext: u64,
    bad_seq: Option<u16>,
    /// Bit `i` set: extended number `ext_max - i` has been received.
    window: u128,
    seg_received: u64,
    prior_expected: u64,
    prior_received: u64,
    duplicates: u64,
    restarts: u64,
    interval_expected: u64,
    interval_received: u64,
}

impl SequenceTracker {
    /// A tracker that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    fn ext_max(&self) -> u64 {
        (self.cycles << 16) | u64::from(self.max_seq)
    }

    fn init(&mut self, seq: u16) {
        self.started = true;
        self.max_seq = seq;
        self.cycles = 0;
        self.base_ext = u64::from(seq);
        self.bad_seq = None;
        self.window = 1;
        self.seg_received = 1;
    }

    /// Classifies one received sequence number and updates the counters.
    pub fn update(&mut self, seq: u16) -> SeqStatus {
        if !self.started {
            self.init(seq);
            return SeqStatus::First(u64::from(seq));
        }
        let udelta = seq.wrapping_sub(self.max_seq);
        if udelta == 0 {
            self.duplicates += 1;
            return SeqStatus::Duplicate(self.ext_max());
        }
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += 1;
            }
            self.max_seq = seq;
            self.window = self.window.checked_shl(u32::from(udelta)).unwrap_or(0) | 1;
            self.seg_received += 1;
            return SeqStatus::InOrder { extended: self.ext_max(), skipped: u64::from(udelta - 1) };
        }
        if u32::from(udelta) <= (1 << 16) - u32::from(MAX_MISORDER) {
            // A jump too big for loss. A.1: two sequential packets after it
            // mean the source restarted; a lone one is discarded.
            if self.bad_seq == Some(seq) {
                self.prior_expected += self.segment_expected();
                self.prior_received += self.seg_received;
                self.restarts += 1;
                self.init(seq);
                return SeqStatus::Restarted(u64::from(seq));
            }
            self.bad_seq = Some(seq.wrapping_add(1));
            return SeqStatus::Probation;
        }
        // Reordered or duplicate: 1..MAX_MISORDER behind the newest.
        let back = self.max_seq.wrapping_sub(seq);
        let Some(ext) = self.ext_max().checked_sub(u64::from(back)).filter(|e| *e >= self.base_ext) else {
            return SeqStatus::Stale;
        };
        let bit = 1u128 << back;
        if self.window & bit != 0 {
            self.duplicates += 1;
            return SeqStatus::Duplicate(ext);
        }
        self.window |= bit;
        self.seg_received += 1;
        SeqStatus::Reordered(ext)
    }

    fn segment_expected(&self) -> u64 {
        if self.started { self.ext_max() - self.base_ext + 1 } else { 0 }
    }

    /// Highest extended sequence number of the current run, if any.
    pub fn extended_max(&self) -> Option<u64> {
        self.started.then(|| self.ext_max())
    }

    /// The "extended highest sequence number received" of an RTCP report
    /// block: cycle count in the high 16 bits, truncated to 32 bits.
    pub fn rtcp_highest_seq(&self) -> u32 {
        self.ext_max() as u32
    }

    /// Packets expected: the span of each run, summed over restarts.
    pub fn expected(&self) -> u64 {
        self.prior_expected + self.segment_expected()
    }

    /// Distinct packets received (duplicates, probation and stale excluded).
    pub fn received(&self) -> u64 {
        self.prior_received + self.seg_received
    }

    /// Packets expected but never received.
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received())
    }

    /// Duplicate packets seen.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Source restarts detected.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// RTCP "fraction lost" since the previous call (RFC 3550 A.3), as a
    /// fixed-point fraction of 256. Call once per report sent; the interval
    /// is the time between calls.
    pub fn take_fraction_lost(&mut self) -> u8 {
        let expected = self.expected();
        let received = self.received();
        let e = expected.saturating_sub(self.interval_expected);
        let r = received.saturating_sub(self.interval_received);
        self.interval_expected = expected;
        self.interval_received = received;
        if e == 0 || r >= e {
            return 0;
        }
        // All lost gives 256, which the 8-bit field cannot hold.
        (((e - r) << 8) / e).min(255) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: deterministic randomness without a dependency.
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

    fn sample_header() -> RtpHeader {
        RtpHeader { marker: true, payload_type: 8, sequence: 0xBEEF, timestamp: 0xDEAD_BEEF, ssrc: 0x1234_5678 }
    }

    #[test]
    fn build_then_parse_round_trips() {
        let payload = [0x55u8; 160];
        let mut out = [0u8; 200];
        let n = build(&sample_header(), &payload, &mut out).unwrap();
        assert_eq!(n, 172);
        let p = RtpPacket::new_checked(&out[..n]).unwrap();
        assert_eq!(p.header(), sample_header());
        assert_eq!(p.version(), 2);
        assert!(!p.has_padding() && !p.has_extension());
        assert_eq!(p.csrc_count(), 0);
        assert_eq!(p.payload(), &payload[..]);
        assert_eq!(p.padding_len(), 0);
        assert_eq!(p.extension(), None);
        assert_eq!(&out[..4], &[0x80, 0x88, 0xBE, 0xEF]);
    }

    #[test]
    fn header_write_checks_buffer_and_payload_type() {
        let mut small = [0u8; 11];
        assert_eq!(sample_header().write(&mut small), Err(RtpError::BufferTooSmall { needed: 12, available: 11 }));
        let bad = RtpHeader { payload_type: 128, ..sample_header() };
        assert_eq!(bad.write(&mut [0u8; 12]), Err(RtpError::BadPayloadType(128)));
        let mut out = [0xAAu8; 20];
        assert_eq!(build(&sample_header(), &[1; 9], &mut out), Err(RtpError::BufferTooSmall { needed: 21, available: 20 }));
        assert!(out.iter().all(|&b| b == 0xAA), "nothing written on error");
    }

    /// Header with 2 CSRCs, a 1-word extension, 3 payload bytes and 4 bytes
    /// of padding.
    fn full_packet() -> Vec<u8> {
        let mut v = vec![0xB2, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        v.extend_from_slice(&[0, 0, 0, 0xA1, 0, 0, 0, 0xA2]);
        v.extend_from_slice(&[0xBE, 0xDE, 0, 1, 9, 9, 9, 9]);
        v.extend_from_slice(&[7, 8, 9]);
        v.extend_from_slice(&[0, 0, 0, 4]);
        v
    }

    #[test]
    fn parses_csrcs_extension_and_padding() {
        let v = full_packet();
        let p = RtpPacket::new_checked(&v).unwrap();
        assert_eq!(p.csrc_count(), 2);
        assert_eq!(p.csrcs().collect::<Vec<_>>(), vec![0xA1, 0xA2]);
        assert_eq!(p.csrc(1), Some(0xA2));
        assert_eq!(p.csrc(2), None);
        let ext = p.extension().unwrap();
        assert_eq!(ext.profile, 0xBEDE);
        assert_eq!(ext.data, &[9, 9, 9, 9]);
        assert_eq!(p.payload(), &[7, 8, 9]);
        assert_eq!(p.padding_len(), 4);
        assert_eq!(p.sequence(), 1);
        assert_eq!(p.timestamp(), 2);
        assert_eq!(p.ssrc(), 3);
    }

    #[test]
    fn rejects_malformed_packets() {
        assert_eq!(RtpPacket::new_checked(&[0x80; 11]), Err(RtpError::Truncated));
        assert_eq!(RtpPacket::new_checked(&[0x40; 12]), Err(RtpError::BadVersion(1)));
        // CSRC count 1 with no CSRC.
        assert_eq!(RtpPacket::new_checked(&[0x81; 12]), Err(RtpError::Truncated));
        // X bit without extension header, then with a too-long length.
        let mut v = vec![0x90; 12];
        assert_eq!(RtpPacket::new_checked(&v), Err(RtpError::Truncated));
        v.extend_from_slice(&[0, 0, 0, 2, 1, 2, 3, 4]);
        assert_eq!(RtpPacket::new_checked(&v), Err(RtpError::Truncated));
        // Padding count 0, and count larger than what follows the header.
        let mut v = vec![0xA0; 12];
        v.extend_from_slice(&[1, 2, 0]);
        assert_eq!(RtpPacket::new_checked(&v), Err(RtpError::BadPadding));
        *v.last_mut().unwrap() = 4;
        assert_eq!(RtpPacket::new_checked(&v), Err(RtpError::BadPadding));
        // Padding that is the entire remainder: empty payload, valid.
        *v.last_mut().unwrap() = 3;
        let p = RtpPacket::new_checked(&v).unwrap();
        assert_eq!(p.payload(), &[] as &[u8]);
        assert_eq!(p.padding_len(), 3);
        // Padding can never eat into the header: 12-byte packet with P bit
        // (last byte is the SSRC's) is rejected, not misread.
        let mut v = vec![0xA0; 12];
        v[11] = 1;
        assert_eq!(RtpPacket::new_checked(&v), Err(RtpError::BadPadding));
    }

    fn exercise(p: &RtpPacket<'_>) -> usize {
        let mut acc = usize::from(p.marker())
            + usize::from(p.payload_type())
            + usize::from(p.sequence())
            + p.timestamp() as usize
            + p.ssrc() as usize
            + p.csrcs().count()
            + p.payload().len()
            + p.padding_len();
        if let Some(e) = p.extension() {
            acc += e.data.len();
        }
        for i in 0..20 {
            acc += p.csrc(i).is_some() as usize;
        }
        let _ = p.header();
        assert!(p.payload().len() + p.padding_len() + HEADER_LEN <= p.as_bytes().len());
        acc
    }

    #[test]
    fn random_bytes_and_truncations_never_panic() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut buf = [0u8; 96];
        let mut ok = 0;
        for round in 0..20_000 {
            let len = rng.below(96) as usize;
            for b in buf.iter_mut() {
                *b = rng.next() as u8;
            }
            if round % 2 == 0 {
                buf[0] = (buf[0] & 0x3f) | 0x80; // mostly version 2
            }
            if round % 4 == 0 {
                buf[0] &= 0xf3; // few CSRCs, so more inputs get far enough
            }
            for cut in 0..=len {
                if let Ok(p) = RtpPacket::new_checked(&buf[..cut]) {
                    ok += 1;
                    exercise(&p);
                }
            }
        }
        assert!(ok > 1000, "the fuzz reached valid packets ({ok})");
        // Every truncation of a known-good packet.
        let v = full_packet();
        for cut in 0..v.len() {
            let _ = RtpPacket::new_checked(&v[..cut]);
        }
    }

    #[test]
    fn sequence_in_order_and_loss() {
        let mut t = SequenceTracker::new();
        assert_eq!(t.update(10), SeqStatus::First(10));
        assert_eq!(t.update(11), SeqStatus::InOrder { extended: 11, skipped: 0 });
        assert_eq!(t.update(14), SeqStatus::InOrder { extended: 14, skipped: 2 });
        assert_eq!((t.expected(), t.received(), t.lost()), (5, 3, 2));
        assert_eq!(t.update(12), SeqStatus::Reordered(12));
        assert_eq!(t.update(12), SeqStatus::Duplicate(12));
        assert_eq!(t.update(14), SeqStatus::Duplicate(14));
        assert_eq!((t.expected(), t.received(), t.lost(), t.duplicates()), (5, 4, 1, 2));
        assert_eq!(t.update(9), SeqStatus::Stale, "before the first packet");
    }

    #[test]
    fn sequence_wraps_and_reorders_across_the_wrap() {
        let mut t = SequenceTracker::new();
        t.update(65533);
        assert_eq!(t.update(65535), SeqStatus::InOrder { extended: 65535, skipped: 1 });
        assert_eq!(t.update(1), SeqStatus::InOrder { extended: 65537, skipped: 1 });
        assert_eq!(t.update(65534), SeqStatus::Reordered(65534));
        assert_eq!(t.update(0), SeqStatus::Reordered(65536));
        assert_eq!(t.update(0), SeqStatus::Duplicate(65536));
        assert_eq!(t.update(2), SeqStatus::InOrder { extended: 65538, skipped: 0 });
        assert_eq!(t.rtcp_highest_seq(), 0x0001_0002);
        assert_eq!((t.expected(), t.lost()), (6, 0));
        // Many wraps.
        let mut t = SequenceTracker::new();
        let mut s = 0u16;
        for _ in 0..(5 * 65536 / 7) {
            t.update(s);
            s = s.wrapping_add(7);
        }
        assert_eq!(t.extended_max(), Some(7 * (5 * 65536 / 7 - 1)));
    }

    #[test]
    fn sequence_restart_needs_two_sequential_packets() {
        let mut t = SequenceTracker::new();
        for s in 100..110 {
            t.update(s);
        }
        assert_eq!(t.update(40_000), SeqStatus::Probation);
        assert_eq!(t.update(110), SeqStatus::InOrder { extended: 110, skipped: 0 });
        assert_eq!(t.update(50_000), SeqStatus::Probation);
        assert_eq!(t.update(50_001), SeqStatus::Restarted(50_001));
        assert_eq!(t.update(50_002), SeqStatus::InOrder { extended: 50_002, skipped: 0 });
        assert_eq!(t.restarts(), 1);
        assert_eq!((t.expected(), t.received(), t.lost()), (13, 13, 0));
    }

    #[test]
    fn fraction_lost_per_interval() {
        let mut t = SequenceTracker::new();
        for s in 0..100u16 {
            if s % 4 != 3 {
                t.update(s);
            }
        }
        // 0..=98 expected (99), 75 received -> 24 lost.
        assert_eq!(t.take_fraction_lost(), (24 * 256 / 99) as u8);
        assert_eq!(t.take_fraction_lost(), 0, "empty interval");
        // 99..=120: 22 expected, 1 received.
        t.update(120);
        assert_eq!(t.take_fraction_lost(), (21 * 256 / 22) as u8);
    }

    #[test]
    fn random_sequences_keep_invariants() {
        let mut rng = Rng(42);
        for _ in 0..200 {
            let mut t = SequenceTracker::new();
            let mut s: u16 = rng.next() as u16;
            for _ in 0..2000 {
                let r = rng.below(100);
                let seq = match r {
                    0..=69 => {
                        s = s.wrapping_add(1);
                        s
                    }
                    70..=84 => s.wrapping_sub(rng.below(150) as u16),
                    85..=94 => {
                        s = s.wrapping_add(rng.below(50) as u16);
                        s
                    }
                    _ => rng.next() as u16,
                };
                let st = t.update(seq);
                if let Some(e) = st.extended() {
                    assert_eq!(e as u16, seq);
                }
                assert!(t.received() <= t.expected());
            }
            let _ = t.take_fraction_lost();
        }
    }
}
