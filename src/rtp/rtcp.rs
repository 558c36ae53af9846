//! Basic RTCP (RFC 3550 §6): building sender/receiver reports, SDES CNAME
//! and BYE into a caller's buffer, lenient parsing of compound packets, and
//! the interarrival jitter estimator of RFC 3550 A.8.
//!
//! Frontdesk only needs RTCP to keep peers and middleboxes content and to
//! log call quality, so parsing is deliberately lenient: a compound packet
//! is read packet by packet up to the first one that does not hold
//! together, and a report whose count field promises more blocks than its
//! length holds yields only the blocks that are really there. Nothing
//! panics on garbage and nothing allocates.

use core::fmt;
use core::time::Duration;

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of source description.
pub const PT_SDES: u8 = 202;
/// Packet type of goodbye.
pub const PT_BYE: u8 = 203;
/// Packet type of application-defined.
pub const PT_APP: u8 = 204;

/// The common 4-byte RTCP header.
pub const HEADER_LEN: usize = 4;
/// NTP timestamp, RTP timestamp, packet and octet counts.
pub const SENDER_INFO_LEN: usize = 20;
/// One reception report block.
pub const REPORT_BLOCK_LEN: usize = 24;
/// The count field is 5 bits.
pub const MAX_COUNT: usize = 31;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// Why a buffer is not RTCP, or why a packet could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpError {
    /// Shorter than a header, or than the length the header declares.
    Truncated,
    /// The version field is not 2.
    BadVersion(u8),
    /// Padding bit set with a count of 0 or past the header.
    BadPadding,
    /// The output buffer cannot hold the packet.
    BufferTooSmall {
        /// Bytes the write needs.
        needed: usize,
        /// Bytes the caller supplied.
        available: usize,
    },
    /// More than 31 report blocks or SSRCs.
    TooManyItems,
    /// A text item longer than 255 bytes.
    TextTooLong,
}

impl fmt::Display for RtcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("RTCP packet truncated"),
            Self::BadVersion(v) => write!(f, "RTCP version {v}, expected 2"),
            Self::BadPadding => f.write_str("RTCP padding count invalid"),
            Self::BufferTooSmall { needed, available } => {
                write!(f, "buffer too small for RTCP packet: need {needed}, have {available}")
            }
            Self::TooManyItems => f.write_str("more than 31 RTCP report blocks or sources"),
            Self::TextTooLong => f.write_str("RTCP text item longer than 255 bytes"),
        }
    }
}

impl core::error::Error for RtcpError {}

/// Whether a datagram on a shared RTP/RTCP port is RTCP (RFC 5761 §4):
/// RTCP packet types 192..=223 occupy the byte where RTP has marker and
/// payload type, and RTP payload types 64..=95 are avoided for that reason.
pub fn is_rtcp(buf: &[u8]) -> bool {
    matches!(buf, [b0, b1, ..] if b0 >> 6 == 2 && (192..=223).contains(b1))
}

/// Converts a time since the Unix epoch to a 64-bit NTP timestamp
/// (seconds since 1900 in the high half, binary fraction in the low half).
pub fn ntp_timestamp(since_unix_epoch: Duration) -> u64 {
    let secs = since_unix_epoch.as_secs().wrapping_add(NTP_UNIX_OFFSET);
    let frac = (u64::from(since_unix_epoch.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// The middle 32 bits of an NTP timestamp: the "last SR" (LSR) value a
/// receiver echoes, and the unit of round-trip arithmetic (1/65536 s).
pub fn ntp_middle32(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// A duration in the 1/65536 s units of the DLSR field, saturating.
pub fn to_dlsr(delay: Duration) -> u32 {
    let units = (delay.as_nanos() << 16) / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn put32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// The sender information section of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// Wall-clock time of the report, see [`ntp_timestamp`].
    pub ntp_timestamp: u64,
    /// The same instant on the RTP media clock.
    pub rtp_timestamp: u32,
    /// RTP packets sent since the start.
    pub packet_count: u32,
    /// Payload octets sent since the start.
    pub octet_count: u32,
}

impl SenderInfo {
    fn parse(b: &[u8]) -> Self {
        Self {
            ntp_timestamp: (u64::from(be32(b, 0)) << 32) | u64::from(be32(b, 4)),
            rtp_timestamp: be32(b, 8),
            packet_count: be32(b, 12),
            octet_count: be32(b, 16),
        }
    }

    fn write(&self, out: &mut [u8]) {
        out[..8].copy_from_slice(&self.ntp_timestamp.to_be_bytes());
        put32(out, 8, self.rtp_timestamp);
        put32(out, 12, self.packet_count);
        put32(out, 16, self.octet_count);
    }
}

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the previous report, out of 256.
    pub fraction_lost: u8,
    /// Cumulative packets lost: 24-bit signed on the wire (duplicates can
    /// make it negative); clamped when written.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units, see [`JitterEstimator`].
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP timestamp, or 0.
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s, or 0.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    const LOST_MAX: i32 = (1 << 23) - 1;
    const LOST_MIN: i32 = -(1 << 23);

    /// Parses a block from the first 24 bytes of `b`.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let b = b.get(..REPORT_BLOCK_LEN)?;
        let lost_word = be32(b, 4);
        Some(Self {
            ssrc: be32(b, 0),
            fraction_lost: (lost_word >> 24) as u8,
            // Sign-extend the low 24 bits.
            cumulative_lost: ((lost_word << 8) as i32) >> 8,
            highest_seq: be32(b, 8),
            jitter: be32(b, 12),
            last_sr: be32(b, 16),
            delay_since_last_sr: be32(b, 20),
        })
    }

    /// Writes the block into the first 24 bytes of `out`.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        let available = out.len();
        let out = out.get_mut(..REPORT_BLOCK_LEN).ok_or(RtcpError::BufferTooSmall { needed: REPORT_BLOCK_LEN, available })?;
        let lost = self.cumulative_lost.clamp(Self::LOST_MIN, Self::LOST_MAX) as u32 & 0x00ff_ffff;
        put32(out, 0, self.ssrc);
        put32(out, 4, (u32::from(self.fraction_lost) << 24) | lost);
        put32(out, 8, self.highest_seq);
        put32(out, 12, self.jitter);
        put32(out, 16, self.last_sr);
        put32(out, 20, self.delay_since_last_sr);
        Ok(REPORT_BLOCK_LEN)
    }

    /// Round-trip time to the reporting peer (RFC 3550 §6.4.1): `now` is
    /// the middle 32 bits of the NTP time this block arrived. `None` when
    /// the peer has not seen an SR yet or the clocks make it negative.
    pub fn round_trip(&self, now_ntp_middle32: u32) -> Option<Duration> {
        if self.last_sr == 0 {
            return None;
        }
        let rtt = now_ntp_middle32.wrapping_sub(self.last_sr).wrapping_sub(self.delay_since_last_sr);
        if rtt as i32 <= 0 {
            return None;
        }
        Some(Duration::from_nanos((u64::from(rtt) * 1_000_000_000) >> 16))
    }
}

/// Writes the 4-byte header for a packet of `len` bytes (a multiple of 4).
fn write_header(out: &mut [u8], count: usize, packet_type: u8, len: usize) {
    out[0] = 0x80 | count as u8;
    out[1] = packet_type;
    out[2..4].copy_from_slice(&((len / 4 - 1) as u16).to_be_bytes());
}

fn room(out: &mut [u8], needed: usize) -> Result<&mut [u8], RtcpError> {
    let available = out.len();
    out.get_mut(..needed).ok_or(RtcpError::BufferTooSmall { needed, available })
}

fn write_reports(
    out: &mut [u8],
    packet_type: u8,
    ssrc: u32,
    info: Option<&SenderInfo>,
    blocks: &[ReportBlock],
) -> Result<usize, RtcpError> {
    if blocks.len() > MAX_COUNT {
        return Err(RtcpError::TooManyItems);
    }
    let info_len = if info.is_some() { SENDER_INFO_LEN } else { 0 };
    let len = HEADER_LEN + 4 + info_len + REPORT_BLOCK_LEN * blocks.len();
    let out = room(out, len)?;
    write_header(out, blocks.len(), packet_type, len);
    put32(out, 4, ssrc);
    if let Some(info) = info {
        info.write(&mut out[8..8 + SENDER_INFO_LEN]);
    }
    let mut at = 8 + info_len;
    for b in blocks {
        at += b.write(&mut out[at..])?;
    }
    Ok(len)
}

/// Writes a sender report from `ssrc` with `blocks` (usually zero or one:
/// Frontdesk receives one stream per call) to the start of `out`.
/// Returns its length. Nothing is written if it does not fit.
pub fn build_sender_report(ssrc: u32, info: &SenderInfo, blocks: &[ReportBlock], out: &mut [u8]) -> Result<usize, RtcpError> {
    write_reports(out, PT_SR, ssrc, Some(info), blocks)
}

/// Writes a receiver report, for when nothing has been sent since the
/// last report (e.g. while only listening).
pub fn build_receiver_report(ssrc: u32, blocks: &[ReportBlock], out: &mut [u8]) -> Result<usize, RtcpError> {
    write_reports(out, PT_RR, ssrc, None, blocks)
}

/// Writes an SDES packet with one chunk holding the CNAME. RFC 3550 §6.1
/// requires a CNAME in every compound packet, and some peers drop compound
/// packets without one, so append this after every SR/RR.
pub fn build_sdes_cname(ssrc: u32, cname: &[u8], out: &mut [u8]) -> Result<usize, RtcpError> {
    if cname.len() > 255 {
        return Err(RtcpError::TextTooLong);
    }
    // SSRC, CNAME item (type, length, text), then at least one zero byte
    // ending the item list, padded to a 32-bit boundary.
    let chunk = (4 + 2 + cname.len() + 1).next_multiple_of(4);
    let len = HEADER_LEN + chunk;
    let out = room(out, len)?;
    write_header(out, 1, PT_SDES, len);
    put32(out, 4, ssrc);
    out[8] = 1;
    out[9] = cname.len() as u8;
    out[10..10 + cname.len()].copy_from_slice(cname);
    out[10 + cname.len()..].fill(0);
    Ok(len)
}

/// Writes a BYE for `ssrcs` with an optional reason text.
pub fn build_bye(ssrcs: &[u32], reason: Option<&[u8]>, out: &mut [u8]) -> Result<usize, RtcpError> {
    if ssrcs.len() > MAX_COUNT {
        return Err(RtcpError::TooManyItems);
    }
    let reason_len = match reason {
        Some(r) if r.len() > 255 => return Err(RtcpError::TextTooLong),
        Some(r) => (1 + r.len()).next_multiple_of(4),
        None => 0,
    };
    let len = HEADER_LEN + 4 * ssrcs.len() + reason_len;
    let out = room(out, len)?;
    write_header(out, ssrcs.len(), PT_BYE, len);
    for (i, s) in ssrcs.iter().enumerate() {
        put32(out, 4 + 4 * i, *s);
    }
    if let Some(r) = reason {
        let at = HEADER_LEN + 4 * ssrcs.len();
        out[at] = r.len() as u8;
        out[at + 1..at + 1 + r.len()].copy_from_slice(r);
        out[at + 1 + r.len()..].fill(0);
    }
    Ok(len)
}

/// A validated view of one RTCP packet (the first in the buffer given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpPacket<'a> {
    /// Exactly this packet, padding included.
    buf: &'a [u8],
    /// End of the body, before padding.
    body_end: usize,
}

impl<'a> RtcpPacket<'a> {
    /// Validates the packet at the start of `buf`: a header, version 2, a
    /// declared length that fits, and a sane padding count. Bytes after the
    /// declared length (further packets of a compound) are not examined.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, RtcpError> {
        if buf.len() < HEADER_LEN {
            return Err(RtcpError::Truncated);
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtcpError::BadVersion(version));
        }
        let len = (usize::from(u16::from_be_bytes([buf[2], buf[3]])) + 1) * 4;
        let buf = buf.get(..len).ok_or(RtcpError::Truncated)?;
        let mut body_end = len;
        if buf[0] & 0x20 != 0 {
            let pad = usize::from(buf[len - 1]);
            if pad == 0 || pad > len - HEADER_LEN {
                return Err(RtcpError::BadPadding);
            }
            body_end -= pad;
        }
        Ok(Self { buf, body_end })
    }

    /// This packet's bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Total length, which is where the next packet of a compound starts.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Never true: a packet is at least its header.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Packet type, e.g. [`PT_SR`].
    pub fn packet_type(&self) -> u8 {
        self.buf[1]
    }

    /// The 5-bit count field: report blocks (SR/RR), chunks (SDES),
    /// sources (BYE), subtype (APP).
    pub fn count(&self) -> u8 {
        self.buf[0] & 0x1f
    }

    /// The body after the header, without padding.
    pub fn body(&self) -> &'a [u8] {
        &self.buf[HEADER_LEN..self.body_end]
    }

    /// The first SSRC of the body: the sender of an SR or RR, the first
    /// source of a BYE or SDES.
    pub fn ssrc(&self) -> Option<u32> {
        let b = self.body();
        (b.len() >= 4).then(|| be32(b, 0))
    }

    /// Sender information, if this is an SR long enough to hold it.
    pub fn sender_info(&self) -> Option<SenderInfo> {
        if self.packet_type() != PT_SR {
            return None;
        }
        self.body().get(4..4 + SENDER_INFO_LEN).map(SenderInfo::parse)
    }

    /// The report blocks of an SR or RR (none for other types). At most
    /// the count field's number, and only as many as the length holds.
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        let skip = match self.packet_type() {
            PT_SR => 4 + SENDER_INFO_LEN,
            PT_RR => 4,
            _ => usize::MAX,
        };
        ReportBlocks { rest: self.body().get(skip..).unwrap_or(&[]), left: usize::from(self.count()) }
    }

    /// The sources leaving, if this is a BYE.
    pub fn bye_ssrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let body = if self.packet_type() == PT_BYE { self.body() } else { &[] };
        let n = usize::from(self.count()).min(body.len() / 4);
        (0..n).map(move |i| be32(body, 4 * i))
    }

    /// The reason text of a BYE, if present and within the packet.
    pub fn bye_reason(&self) -> Option<&'a [u8]> {
        if self.packet_type() != PT_BYE {
            return None;
        }
        let body = self.body();
        let at = 4 * usize::from(self.count());
        let len = usize::from(*body.get(at)?);
        body.get(at + 1..at + 1 + len)
    }
}

/// Iterator over the report blocks of an SR or RR.
#[derive(Debug, Clone)]
pub struct ReportBlocks<'a> {
    rest: &'a [u8],
    left: usize,
}

impl Iterator for ReportBlocks<'_> {
    type Item = ReportBlock;

    fn next(&mut self) -> Option<ReportBlock> {
        if self.left == 0 {
            return None;
        }
        let block = ReportBlock::parse(self.rest)?;
        self.rest = &self.rest[REPORT_BLOCK_LEN..];
        self.left -= 1;
        Some(block)
    }
}

/// Iterates over the packets of a compound RTCP datagram. Yields `Err`
/// once, for the first packet that does not validate, then stops: without
/// a trustworthy length there is no way to find the next packet.
pub fn compound(buf: &[u8]) -> Compound<'_> {
    Compound { rest: buf }
}

/// See [`compound`].
#[derive(Debug, Clone)]
pub struct Compound<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Compound<'a> {
    type Item = Result<RtcpPacket<'a>, RtcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match RtcpPacket::new_checked(self.rest) {
            Ok(p) => {
                self.rest = &self.rest[p.len()..];
                Some(Ok(p))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Interarrival jitter estimator (RFC 3550 §6.4.1 and A.8).
///
/// For each packet, `D` is the change in transit time (arrival minus RTP
/// timestamp, both in timestamp units) from the previous packet, and the
/// estimate moves 1/16 of the way towards `|D|`. Kept scaled by 16 as in
/// A.8 so integer arithmetic loses no precision. Call [`reset`](Self::reset)
/// when the source restarts, or the jump in transit counts as jitter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterEstimator {
    last_transit: Option<u32>,
    jitter_x16: u64,
}

impl JitterEstimator {
    /// An estimator with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one packet: when it arrived, converted to the media clock
    /// (e.g. elapsed ms × 8 for 8 kHz; any fixed offset cancels out), and
    /// its RTP timestamp.
    pub fn update(&mut self, arrival_rtp_units: u32, rtp_timestamp: u32) {
        let transit = arrival_rtp_units.wrapping_sub(rtp_timestamp);
        if let Some(last) = self.last_transit {
            let d = u64::from((transit.wrapping_sub(last) as i32).unsigned_abs());
            // J += (|D| - J) / 16, in x16 fixed point with rounding.
            self.jitter_x16 = self.jitter_x16 + d - ((self.jitter_x16 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    /// The current estimate in timestamp units, as sent in report blocks.
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter_x16 >> 4).unwrap_or(u32::MAX)
    }

    /// Forgets all history.
    pub fn reset(&mut self) {
        *self = Self::default();
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

    fn block() -> ReportBlock {
        ReportBlock {
            ssrc: 0xCAFE_BABE,
            fraction_lost: 25,
            cumulative_lost: 1234,
            highest_seq: 0x0002_0010,
            jitter: 77,
            last_sr: 0x1234_5678,
            delay_since_last_sr: 65536,
        }
    }

    fn info() -> SenderInfo {
        SenderInfo { ntp_timestamp: 0xE000_0000_8000_0000, rtp_timestamp: 160_000, packet_count: 1000, octet_count: 160_000 }
    }

    #[test]
    fn sender_report_round_trip() {
        let mut buf = [0u8; 128];
        let n = build_sender_report(0x1111_2222, &info(), &[block()], &mut buf).unwrap();
        assert_eq!(n, 52);
        assert_eq!(&buf[..4], &[0x81, 200, 0, 12]);
        let p = RtcpPacket::new_checked(&buf[..n]).unwrap();
        assert_eq!((p.packet_type(), p.count(), p.len()), (PT_SR, 1, 52));
        assert_eq!(p.ssrc(), Some(0x1111_2222));
        assert_eq!(p.sender_info(), Some(info()));
        assert_eq!(p.report_blocks().collect::<Vec<_>>(), vec![block()]);
        // Without a block.
        let n = build_sender_report(1, &info(), &[], &mut buf).unwrap();
        assert_eq!(n, 28);
        let p = RtcpPacket::new_checked(&buf[..n]).unwrap();
        assert_eq!(p.report_blocks().count(), 0);
    }

    #[test]
    fn receiver_report_and_lost_encoding() {
        let mut buf = [0u8; 64];
        let neg = ReportBlock { cumulative_lost: -5, ..block() };
        let n = build_receiver_report(9, &[neg], &mut buf).unwrap();
        assert_eq!(n, 32);
        assert_eq!(&buf[12..16], &[25, 0xff, 0xff, 0xfb]);
        let p = RtcpPacket::new_checked(&buf[..n]).unwrap();
        assert_eq!(p.sender_info(), None);
        assert_eq!(p.report_blocks().next(), Some(neg));
        for (v, want) in [(i32::MAX, (1 << 23) - 1), (i32::MIN, -(1 << 23)), (0, 0)] {
            let b = ReportBlock { cumulative_lost: v, ..block() };
            let mut raw = [0u8; 24];
            b.write(&mut raw).unwrap();
            assert_eq!(ReportBlock::parse(&raw).unwrap().cumulative_lost, want);
        }
    }

    #[test]
    fn builders_check_space_and_limits() {
        let mut small = [0u8; 51];
        assert_eq!(build_sender_report(1, &info(), &[block()], &mut small), Err(RtcpError::BufferTooSmall { needed: 52, available: 51 }));
        assert!(small.iter().all(|&b| b == 0));
        let many = [block(); 32];
        assert_eq!(build_receiver_report(1, &many, &mut [0; 2048]), Err(RtcpError::TooManyItems));
        assert_eq!(build_bye(&[0; 32], None, &mut [0; 256]), Err(RtcpError::TooManyItems));
        assert_eq!(build_bye(&[1], Some(&[b'x'; 256]), &mut [0; 512]), Err(RtcpError::TextTooLong));
        assert_eq!(build_sdes_cname(1, &[b'x'; 256], &mut [0; 512]), Err(RtcpError::TextTooLong));
        assert!(block().write(&mut [0; 23]).is_err());
    }

    #[test]
    fn bye_with_and_without_reason() {
        let mut buf = [0u8; 64];
        let n = build_bye(&[7, 8], Some(b"hangup"), &mut buf).unwrap();
        assert_eq!(n, 4 + 8 + 8);
        let p = RtcpPacket::new_checked(&buf[..n]).unwrap();
        assert_eq!(p.bye_ssrcs().collect::<Vec<_>>(), vec![7, 8]);
        assert_eq!(p.bye_reason(), Some(&b"hangup"[..]));
        let n = build_bye(&[7], None, &mut buf).unwrap();
        let p = RtcpPacket::new_checked(&buf[..n]).unwrap();
        assert_eq!((n, p.bye_reason()), (8, None));
        let n = build_bye(&[7], Some(b"abc"), &mut buf).unwrap();
        assert_eq!(n, 12, "length byte + 3 chars fill one word exactly");
    }

    #[test]
    fn compound_sr_sdes_bye() {
        let mut buf = [0u8; 256];
        let mut n = build_sender_report(5, &info(), &[block()], &mut buf).unwrap();
        n += build_sdes_cname(5, b"frontdesk@host", &mut buf[n..]).unwrap();
        n += build_bye(&[5], None, &mut buf[n..]).unwrap();
        assert_eq!(n % 4, 0);
        let pkts: Vec<RtcpPacket<'_>> = compound(&buf[..n]).map(Result::unwrap).collect();
        assert_eq!(pkts.iter().map(|p| p.packet_type()).collect::<Vec<_>>(), vec![PT_SR, PT_SDES, PT_BYE]);
        let sdes = pkts[1].body();
        assert_eq!(&sdes[4..6], &[1, 14]);
        assert_eq!(&sdes[6..20], b"frontdesk@host");
        assert_eq!(sdes[20], 0, "end of item list");
        assert!(is_rtcp(&buf[..n]));
        // Trailing garbage: the good packets come out, then one error.
        buf[n..n + 5].copy_from_slice(&[0x80, 201, 0, 9, 0]);
        let items: Vec<_> = compound(&buf[..n + 5]).collect();
        assert_eq!(items.len(), 4);
        assert_eq!(items[3], Err(RtcpError::Truncated));
    }

    #[test]
    fn lenient_about_count_and_padding() {
        // RR claiming 3 blocks with room for 1.
        let mut buf = [0u8; 64];
        let n = build_receiver_report(9, &[block()], &mut buf).unwrap();
        buf[0] = 0x83;
        let p = RtcpPacket::new_checked(&buf[..n]).unwrap();
        assert_eq!(p.report_blocks().count(), 1);
        // Count 0 with a block present: the count wins.
        buf[0] = 0x80;
        assert_eq!(RtcpPacket::new_checked(&buf[..n]).unwrap().report_blocks().count(), 0);
        // Valid padding: RR + 4 padding bytes.
        let mut v = vec![0xA0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4];
        let p = RtcpPacket::new_checked(&v).unwrap();
        assert_eq!((p.body().len(), p.ssrc()), (4, Some(9)));
        v[11] = 9;
        assert_eq!(RtcpPacket::new_checked(&v), Err(RtcpError::BadPadding));
        v[11] = 0;
        assert_eq!(RtcpPacket::new_checked(&v), Err(RtcpError::BadPadding));
        assert_eq!(RtcpPacket::new_checked(&[0x40, 200, 0, 0]), Err(RtcpError::BadVersion(1)));
        assert_eq!(RtcpPacket::new_checked(&[0x80, 200, 0]), Err(RtcpError::Truncated));
        // Minimal header-only SR: no sender info, no blocks, no panic.
        let p = RtcpPacket::new_checked(&[0x81, 200, 0, 0]).unwrap();
        assert_eq!((p.ssrc(), p.sender_info(), p.report_blocks().count()), (None, None, 0));
        let p = RtcpPacket::new_checked(&[0x85, 203, 0, 0]).unwrap();
        assert_eq!((p.bye_ssrcs().count(), p.bye_reason()), (0, None));
    }

    #[test]
    fn rtp_rtcp_demux() {
        assert!(is_rtcp(&[0x80, 200]));
        assert!(!is_rtcp(&[0x80, 0x00]), "PCMU");
        assert!(!is_rtcp(&[0x80, 0x88]), "PCMA with marker");
        assert!(!is_rtcp(&[0x00, 200]), "STUN-like first byte");
        assert!(!is_rtcp(&[0x80]));
    }

    #[test]
    fn ntp_and_round_trip() {
        let ntp = ntp_timestamp(Duration::new(1, 500_000_000));
        assert_eq!(ntp, ((NTP_UNIX_OFFSET + 1) << 32) | 0x8000_0000);
        assert_eq!(ntp_middle32(ntp), (((NTP_UNIX_OFFSET + 1) as u32) << 16) | 0x8000);
        assert_eq!(to_dlsr(Duration::from_millis(500)), 32768);
        assert_eq!(to_dlsr(Duration::from_secs(1 << 20)), u32::MAX);
        let b = ReportBlock { last_sr: 0x0001_0000, delay_since_last_sr: 0x8000, ..block() };
        // Arrived 1.75 s after the SR, peer held it 0.5 s: RTT 1.25 s.
        let rtt = b.round_trip(0x0001_0000 + 0x0001_C000).unwrap();
        assert_eq!(rtt, Duration::from_millis(1250));
        assert_eq!(b.round_trip(0x0001_0000), None);
        assert_eq!(ReportBlock { last_sr: 0, ..b }.round_trip(5), None);
    }

    #[test]
    fn jitter_estimator_follows_rfc_a8() {
        let mut j = JitterEstimator::new();
        for i in 0..100u32 {
            j.update(1_000_000 + i * 160, (u32::MAX - 500).wrapping_add(i * 160));
        }
        assert_eq!(j.jitter(), 0, "constant transit, across timestamp wrap");
        let mut j = JitterEstimator::new();
        for i in 0..2000u32 {
            let wobble = if i % 2 == 0 { 0 } else { 80 };
            j.update(i * 160 + wobble, i * 160);
        }
        // |D| is always 80, so J converges to 80.
        assert!((78..=80).contains(&j.jitter()), "{}", j.jitter());
        j.reset();
        assert_eq!(j, JitterEstimator::new());
        let mut j = JitterEstimator::new();
        for i in 0..1000u32 {
            j.update(i.wrapping_mul(0x9E37_79B9), i.wrapping_mul(0x7F4A_7C15));
        }
        assert!(j.jitter() <= 1 << 31);
    }

    #[test]
    fn random_bytes_and_truncations_never_panic() {
        let mut rng = Rng(99);
        let mut buf = [0u8; 160];
        let mut packets = 0;
        for round in 0..5000 {
            for b in buf.iter_mut() {
                *b = rng.next() as u8;
            }
            if round % 2 == 0 {
                // Make it look like RTCP so the parsers get further.
                buf[0] = 0x80 | (buf[0] & 0x3f);
                buf[1] = 200 + (buf[1] % 5);
                buf[2] = 0;
                buf[3] %= 40;
            }
            let len = rng.below(161) as usize;
            for cut in 0..=len {
                for item in compound(&buf[..cut]) {
                    let Ok(p) = item else { continue };
                    packets += 1;
                    let _ = (p.ssrc(), p.sender_info(), p.bye_reason(), p.count(), p.is_empty());
                    assert!(p.report_blocks().count() <= 31);
                    let _ = p.bye_ssrcs().count();
                    assert!(p.body().len() + HEADER_LEN <= p.len());
                }
                let _ = is_rtcp(&buf[..cut]);
                let _ = ReportBlock::parse(&buf[..cut]);
            }
        }
        assert!(packets > 1000, "{packets}");
    }
}
