//! SDP (RFC 4566) parsing and RFC 3264 offer/answer, reduced to what an
//! audio-only G.711 user agent needs.
//!
//! The parser is lenient where leniency cannot hurt a call (unknown line
//! types, unknown or malformed attributes, missing `s=`/`t=`), because PBXes,
//! trunks and softphones in the field emit plenty of non-conforming SDP and
//! refusing a patient's call over an irrelevant attribute is worse than
//! ignoring it. It is strict about the lines the call depends on (`v=`, `o=`,
//! `c=`, `m=`), since guessing there would send RTP to the wrong place or with
//! the wrong payload type.
//!
//! Everything here is pure: no sockets, no clocks. Session ids, versions and
//! local addresses come from the caller.

use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr};

use thiserror::Error;

use crate::rtp::srtp::{Keys, MasterKey, Suite};

/// Packet duration we ask for when the caller does not care: 20 ms is what
/// every G.711 peer defaults to.
pub const DEFAULT_PTIME_MS: u32 = 20;

/// Dynamic payload type for telephone-event in our own offers. 101 is the
/// de-facto convention (Asterisk, FreeSWITCH, baresip, sipp scenarios), so
/// peers that mishandle dynamic types still tend to cope with it.
pub const OFFER_TELEPHONE_EVENT_PT: u8 = 101;

/// Longest piece of peer-supplied text copied into an error message, so a
/// hostile SDP body cannot bloat logs.
const MAX_ERROR_SNIPPET: usize = 80;

/// Why an SDP body was rejected or could not be negotiated. The SIP layer
/// maps all of these to `488 Not Acceptable Here` for an offer; the message
/// text is meant for the log.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SdpError {
    #[error("SDP body is empty")]
    Empty,
    #[error("SDP must start with a v= line, found {0:?}")]
    MissingVersion(String),
    #[error("unsupported SDP version {0:?}; only v=0 exists")]
    UnsupportedVersion(String),
    #[error("SDP has no o= (origin) line before the first m= line")]
    MissingOrigin,
    #[error("SDP line {line}: {reason}")]
    InvalidLine { line: usize, reason: String },
    #[error("no RTP/AVP audio stream offered")]
    NoAudio,
    #[error("no codec in common (we support PCMU and PCMA at 8000 Hz)")]
    NoCommonCodec,
    #[error("audio stream has neither a media-level nor a session-level c= line")]
    MissingConnection,
    #[error("connection address {0:?} is not an IP address (host names are not resolved)")]
    UnsupportedAddress(String),
    #[error("the answer rejected our audio stream (port 0)")]
    AudioRejected,
    #[error("media_encryption is \"required\" and the offer has no SRTP (RTP/SAVP with a crypto suite we support) over TLS")]
    EncryptionRequired,
    #[error("the offer asks for SRTP, which the box answers only over TLS and with media_encryption on")]
    EncryptionRefused,
    #[error("the answer to our SRTP offer has no crypto attribute we offered")]
    NoCommonCrypto,
}

/// RFC 3264 stream direction, always from the point of view of the party
/// whose SDP it appears in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same stream seen from the other end (RFC 3264 section 6.1).
    pub fn reversed(self) -> Self {
        Direction::from_flags(self.receives(), self.sends())
    }

    pub fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_attribute(name: &str) -> Option<Self> {
        [Direction::SendRecv, Direction::SendOnly, Direction::RecvOnly, Direction::Inactive]
            .into_iter()
            .find(|d| d.attribute().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.attribute())
    }
}

/// The `o=` line.
///
/// Session id and version are kept as text: RFC 4566 only promises a
/// numeric string, and the one thing the UA does with the version, spotting
/// an unchanged re-offer (RFC 3264 section 8), only needs equality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: String,
    pub session_version: String,
    pub net_type: String,
    pub addr_type: String,
    pub address: String,
}

/// A `c=` line. The address stays textual because SDP allows host names and
/// multicast `/ttl` suffixes; [`Connection::ip`] interprets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub net_type: String,
    pub addr_type: String,
    pub address: String,
}

impl Connection {
    /// The address as an IP literal, without any multicast `/ttl` suffix.
    /// `None` for non-`IN` networks and host names.
    pub fn ip(&self) -> Option<IpAddr> {
        if !self.net_type.eq_ignore_ascii_case("IN") {
            return None;
        }
        self.address.split('/').next()?.parse().ok()
    }

    /// RFC 2543-style hold: the peer puts `0.0.0.0` in `c=` to say "do not
    /// send me media". Still sent by older PBX firmware and some trunks. The
    /// IPv6 unspecified address `::` is treated the same way, since no RTP
    /// can be sent there either.
    pub fn is_hold_address(&self) -> bool {
        self.ip().is_some_and(|ip| ip.is_unspecified())
    }
}

/// One `a=rtpmap:` entry, or the implied mapping of a static payload type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub pt: u8,
    pub encoding: String,
    pub clock_rate: u32,
    pub channels: Option<u16>,
}

/// One `m=` section with the attributes Frontdesk cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    pub media: String,
    /// 0 means the stream is disabled (RFC 3264 section 5.1).
    pub port: u16,
    pub proto: String,
    /// Payload types of RTP-based streams in offered order (preference
    /// order). Empty for non-RTP streams such as `m=image ... udptl t38`,
    /// whose formats are not numbers.
    pub formats: Vec<u8>,
    /// The format list exactly as offered, so a rejected stream can be
    /// echoed back with its formats as RFC 3264 section 6 requires.
    pub format_tokens: Vec<String>,
    pub connection: Option<Connection>,
    pub rtpmaps: Vec<RtpMap>,
    pub fmtps: Vec<(u8, String)>,
    /// The packet duration the peer wants to receive.
    pub ptime: Option<u32>,
    /// Effective direction: the media-level attribute if present, else the
    /// session-level one, else sendrecv.
    pub direction: Direction,
    pub rtcp_port: Option<u16>,
    /// `a=crypto` lines (SDES, RFC 4568), as written.
    pub crypto: Vec<CryptoAttribute>,
}

/// One `a=crypto:<tag> <suite> <key-params> [<session-params>]`.
#[derive(Clone, PartialEq, Eq)]
pub struct CryptoAttribute {
    pub tag: u32,
    pub suite: String,
    pub key_params: String,
}

/// Key material never goes to a log through Debug.
impl fmt::Debug for CryptoAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptoAttribute").field("tag", &self.tag).field("suite", &self.suite).finish_non_exhaustive()
    }
}

impl CryptoAttribute {
    /// The suite and its key and salt, if the suite is one of ours and the key is one
    /// `inline:` key of the right length (a lifetime is accepted; an MKI, several keys, or
    /// session parameters such as UNENCRYPTED_SRTP are not).
    pub fn keying(&self) -> Option<(Suite, Vec<u8>)> {
        use base64::Engine as _;
        let suite = Suite::from_sdes_name(&self.suite)?;
        let mut params = self.key_params.split_whitespace();
        let key = params.next()?.strip_prefix("inline:")?;
        if params.next().is_some() || self.key_params.contains(';') {
            return None;
        }
        let mut parts = key.split('|');
        let material = base64::engine::general_purpose::STANDARD.decode(parts.next()?).ok()?;
        match (parts.next(), parts.next()) {
            (None, _) => {}
            (Some(lifetime), None) if !lifetime.contains(':') => {}
            _ => return None,
        }
        (material.len() == suite.key_len() + suite.salt_len()).then_some((suite, material))
    }
}

impl MediaDescription {
    /// Encoding of a payload type: the stream's own rtpmap first, then the
    /// RFC 3551 static table, because many peers (sipp, old phones) omit
    /// rtpmap for static types.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        if let Some(map) = self.rtpmaps.iter().find(|m| m.pt == pt) {
            return Some(map.clone());
        }
        static_rtpmap(pt).map(|(encoding, clock_rate)| RtpMap { pt, encoding: encoding.to_owned(), clock_rate, channels: None })
    }

    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.fmtps.iter().find(|(p, _)| *p == pt).map(|(_, params)| params.as_str())
    }

    /// Plain RTP/AVP, or RTP/AVPF. AVPF is accepted because an endpoint
    /// that never sends feedback messages and keeps regular RTCP timing is a
    /// valid AVPF endpoint (RFC 4585 section 3.2), and some softphones offer
    /// only AVPF. Secure profiles (SAVP, SAVPF, DTLS) are not: we have no
    /// SRTP, and answering them with plain RTP would be a lie.
    pub fn is_plain_rtp(&self) -> bool {
        self.proto.eq_ignore_ascii_case("RTP/AVP") || self.proto.eq_ignore_ascii_case("RTP/AVPF")
    }

    /// SRTP keyed in the SDP (RTP/SAVP, RTP/SAVPF); DTLS-SRTP (UDP/TLS/RTP/SAVP) is not this.
    pub fn is_sdes_srtp(&self) -> bool {
        self.proto.eq_ignore_ascii_case("RTP/SAVP") || self.proto.eq_ignore_ascii_case("RTP/SAVPF")
    }

    fn is_audio_rtp(&self) -> bool {
        self.media.eq_ignore_ascii_case("audio") && self.is_plain_rtp()
    }

    fn is_audio_srtp(&self) -> bool {
        self.media.eq_ignore_ascii_case("audio") && self.is_sdes_srtp()
    }

    /// The first offered crypto attribute the box supports, in the offerer's order (RFC
    /// 4568 7.1.1: the answerer picks one): its tag, suite, and the offerer's key.
    fn usable_crypto(&self) -> Option<(u32, Suite, Vec<u8>)> {
        self.crypto.iter().find_map(|c| c.keying().map(|(suite, key)| (c.tag, suite, key)))
    }
}

/// A parsed SDP body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    pub origin: Origin,
    /// `s=`; empty when absent (tolerated, see module docs).
    pub session_name: String,
    pub connection: Option<Connection>,
    /// Session-level direction attribute; already folded into each
    /// [`MediaDescription::direction`].
    pub direction: Direction,
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// Parses an SDP body with `\r\n` or bare `\n` line endings (both occur
    /// in the wild; sipp scenario files are a common source of the latter).
    pub fn parse(text: &str) -> Result<SessionDescription, SdpError> {
        let mut lines = text.split('\n').enumerate().map(|(i, line)| (i + 1, line.trim())).filter(|(_, line)| !line.is_empty());

        let (_, first) = lines.next().ok_or(SdpError::Empty)?;
        match split_line(first) {
            Some(('v', "0")) => {}
            Some(('v', version)) => return Err(SdpError::UnsupportedVersion(snippet(version))),
            _ => return Err(SdpError::MissingVersion(snippet(first))),
        }

        let mut origin = None;
        let mut session_name = String::new();
        let mut connection = None;
        let mut session_direction = None;
        // Media-level direction stays separate until the end, because it
        // overrides the session-level value rather than the default.
        let mut media: Vec<(MediaDescription, Option<Direction>)> = Vec::new();

        for (line_no, line) in lines {
            let invalid = |reason: String| SdpError::InvalidLine { line: line_no, reason };
            let Some((kind, value)) = split_line(line) else {
                return Err(invalid(format!("expected <letter>=<value>, found {:?}", snippet(line))));
            };
            match kind {
                'v' => return Err(invalid("second v= line".to_owned())),
                'o' => {
                    if !media.is_empty() {
                        return Err(invalid("o= line inside a media section".to_owned()));
                    }
                    if origin.is_some() {
                        return Err(invalid("duplicate o= line".to_owned()));
                    }
                    origin = Some(parse_origin(value).map_err(invalid)?);
                }
                's' if media.is_empty() => session_name = value.to_owned(),
                'c' => {
                    let conn = parse_connection(value).map_err(invalid)?;
                    match media.last_mut() {
                        Some((m, _)) => m.connection = Some(conn),
                        None => connection = Some(conn),
                    }
                }
                'm' => media.push((parse_media(value).map_err(invalid)?, None)),
                'a' => {
                    let (name, arg) = match value.split_once(':') {
                        Some((name, arg)) => (name.trim(), arg.trim()),
                        None => (value, ""),
                    };
                    if let Some(dir) = Direction::from_attribute(name) {
                        match media.last_mut() {
                            Some((_, d)) => *d = Some(dir),
                            None => session_direction = Some(dir),
                        }
                    } else if let Some((m, _)) = media.last_mut() {
                        apply_media_attribute(m, name, arg);
                    }
                }
                // b=, t=, r=, z=, k=, i=, u=, e=, p= and unknown types carry
                // nothing an audio call needs.
                _ => {}
            }
        }

        let origin = origin.ok_or(SdpError::MissingOrigin)?;
        let direction = session_direction.unwrap_or_default();
        let media = media
            .into_iter()
            .map(|(mut m, dir)| {
                m.direction = dir.unwrap_or(direction);
                m
            })
            .collect();
        Ok(SessionDescription { origin, session_name, connection, direction, media })
    }

    /// Media-level `c=` overrides the session-level one (RFC 4566 5.7).
    pub fn connection_for<'a>(&'a self, media: &'a MediaDescription) -> Option<&'a Connection> {
        media.connection.as_ref().or(self.connection.as_ref())
    }
}

/// Codecs Frontdesk can encode and decode. Only G.711: universally
/// supported by PBXes and trunks, and no transcoding state to get wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Pcmu,
    Pcma,
}

impl Codec {
    pub const ALL: [Codec; 2] = [Codec::Pcmu, Codec::Pcma];

    pub fn static_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    pub fn clock_rate(self) -> u32 {
        crate::audio::telephone::RATE
    }

    /// The codec an encoding name stands for ("PCMU", "pcma"), as `[sip] codecs` and SDP
    /// write it; None for one we do not speak.
    pub fn from_name(name: &str) -> Option<Codec> {
        Codec::ALL.into_iter().find(|c| c.encoding_name().eq_ignore_ascii_case(name))
    }

    fn matches(self, map: &RtpMap) -> bool {
        Codec::from_name(&map.encoding) == Some(self) && map.clock_rate == self.clock_rate() && map.channels.is_none_or(|c| c == 1)
    }
}

/// What we can do on our side of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// Address the peer should send RTP to; also used in `o=`.
    pub address: IpAddr,
    pub port: u16,
    /// Preference order.
    pub codecs: Vec<Codec>,
    /// Whether to negotiate RFC 4733 DTMF events.
    pub telephone_event: bool,
    pub ptime_ms: u32,
    /// SRTP for this call, when its signalling is TLS and the config allows it.
    pub srtp: Option<LocalSrtp>,
}

/// SRTP on our side of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSrtp {
    /// Our key for whichever suite is agreed.
    pub key: MasterKey,
    /// Plain RTP is refused (an offer without SRTP gets 488); our offers are SRTP.
    pub required: bool,
}

impl LocalMedia {
    /// PCMU then PCMA, DTMF events on, 20 ms: what works with every peer
    /// Frontdesk is deployed against.
    pub fn new(address: IpAddr, port: u16) -> Self {
        LocalMedia { address, port, codecs: Codec::ALL.to_vec(), telephone_event: true, ptime_ms: DEFAULT_PTIME_MS, srtp: None }
    }

    fn effective_ptime(&self) -> u32 {
        if self.ptime_ms == 0 { DEFAULT_PTIME_MS } else { self.ptime_ms }
    }
}

/// Our answer to an offer, plus what the media path needs to run the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The SDP body to send, CRLF line endings.
    pub sdp: String,
    pub codec: Codec,
    /// Payload type to put in (and expect on) RTP packets for `codec`.
    pub payload_type: u8,
    /// The offerer's telephone-event payload type, when both sides do DTMF
    /// events.
    pub telephone_event_pt: Option<u8>,
    /// Where to send RTP. `None` when the peer gave no usable destination
    /// (`c=0.0.0.0` hold, or a disabled stream with port 0).
    pub remote: Option<SocketAddr>,
    /// Our direction: whether we should send and/or expect media.
    pub direction: Direction,
    /// Packet duration we send, as advertised in our `a=ptime`.
    pub ptime_ms: u32,
    /// The `a=ptime` the peer asked to receive, if any. G.711 peers accept
    /// any packet size, so this is informational (logging, or a media path
    /// that wants to honour it).
    pub remote_ptime_ms: Option<u32>,
    /// The SRTP keys, when the stream is SRTP.
    pub srtp: Option<Keys>,
}

/// Outcome of our offer once the answer arrives: [`Answer`] without the SDP.
///
/// Payload types are the answer's, i.e. the numbers to send with; the peer
/// sends to us with the numbers of our offer (the same for PCMU/PCMA, and
/// [`OFFER_TELEPHONE_EVENT_PT`] for DTMF events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub codec: Codec,
    pub payload_type: u8,
    pub telephone_event_pt: Option<u8>,
    pub remote: Option<SocketAddr>,
    pub direction: Direction,
    pub ptime_ms: u32,
    pub remote_ptime_ms: Option<u32>,
    pub srtp: Option<Keys>,
}

/// Answers an offer (initial INVITE or re-INVITE) per RFC 3264 section 6.
///
/// The first acceptable audio stream is answered with exactly one codec,
/// the first of ours the offer lists, plus telephone-event. Listing a single
/// codec pins the peer to it, so the media path never has to follow a
/// mid-call codec switch. Every other `m=` line is rejected with port 0, in
/// offered order, with its formats kept. Errors mean "answer 488".
pub fn answer(offer: &SessionDescription, local: &LocalMedia, session_id: u64, version: u64) -> Result<Answer, SdpError> {
    answer_with_direction(offer, local, session_id, version, Direction::SendRecv)
}

/// [`answer`] for when we ourselves restrict the stream: while we hold the
/// peer (`allowed = SendOnly`), a re-INVITE from them must not silently
/// take the call off hold, so our answer never exceeds `allowed`.
pub fn answer_with_direction(
    offer: &SessionDescription,
    local: &LocalMedia,
    session_id: u64,
    version: u64,
    allowed: Direction,
) -> Result<Answer, SdpError> {
    let (index, codec, payload_type) = choose_offered_stream(offer, &local.codecs, local.srtp.as_ref())?;
    let stream = &offer.media[index];
    // An SRTP stream is answered with the crypto attribute we chose, our own key in it.
    let (srtp, crypto_line) = match (&local.srtp, stream.is_sdes_srtp()) {
        (Some(ours), true) => {
            let (tag, suite, remote) = stream.usable_crypto().ok_or(SdpError::EncryptionRefused)?;
            let local_key = ours.key.for_suite(suite).to_vec();
            let line = crypto_attribute(tag, suite, &local_key);
            (Some(Keys { suite, local: local_key, remote }), Some(line))
        }
        _ => (None, None),
    };
    let telephone_event_pt = if local.telephone_event { find_telephone_event(stream) } else { None };

    let (remote, direction) = if stream.port == 0 {
        // RFC 3264 section 8.2: a disabled stream stays disabled in the answer.
        (None, Direction::Inactive)
    } else {
        let remote = remote_address(offer, stream)?;
        (remote, our_direction(stream.direction, remote.is_some(), allowed))
    };
    let ptime_ms = local.effective_ptime();

    let mut sdp = session_header(local.address, session_id, version);
    for (i, m) in offer.media.iter().enumerate() {
        if i == index {
            let port = if stream.port == 0 { 0 } else { local.port };
            let codecs = [(codec, payload_type)];
            write_audio_media(&mut sdp, port, &m.proto, &codecs, telephone_event_pt, ptime_ms, direction);
            if let Some(line) = &crypto_line {
                sdp.push_str(line);
            }
        } else {
            let _ = write!(sdp, "m={} 0 {} {}\r\n", m.media, m.proto, m.format_tokens.join(" "));
        }
    }

    Ok(Answer { sdp, codec, payload_type, telephone_event_pt, remote, direction, ptime_ms, remote_ptime_ms: stream.ptime, srtp })
}

/// Builds our offer for an outbound call, or a re-INVITE: `SendOnly` to put
/// the peer on hold, `SendRecv` to resume. Hold keeps our real address in
/// `c=` (RFC 3264 section 8.4) so RTCP keeps flowing; the old `0.0.0.0` style
/// is only understood, never sent.
///
/// An empty codec list would produce an `m=` line without formats, which is
/// invalid, so it falls back to all supported codecs.
pub fn offer(local: &LocalMedia, session_id: u64, version: u64, direction: Direction) -> String {
    let mut codecs: Vec<(Codec, u8)> = Vec::new();
    for &codec in &local.codecs {
        if !codecs.iter().any(|&(c, _)| c == codec) {
            codecs.push((codec, codec.static_payload_type()));
        }
    }
    if codecs.is_empty() {
        codecs = Codec::ALL.iter().map(|&c| (c, c.static_payload_type())).collect();
    }
    let telephone_event = local.telephone_event.then_some(OFFER_TELEPHONE_EVENT_PT);
    let mut sdp = session_header(local.address, session_id, version);
    // SRTP is offered when it is required; each suite as its own crypto attribute, tags 1..
    let srtp = local.srtp.as_ref().filter(|s| s.required);
    let proto = if srtp.is_some() { "RTP/SAVP" } else { "RTP/AVP" };
    write_audio_media(&mut sdp, local.port, proto, &codecs, telephone_event, local.effective_ptime(), direction);
    if let Some(ours) = srtp {
        for (tag, suite) in (1..).zip(Suite::ALL) {
            sdp.push_str(&crypto_attribute(tag, suite, ours.key.for_suite(suite)));
        }
    }
    sdp
}

/// `a=crypto:<tag> <suite> inline:<key||salt in base64>` (RFC 4568 9.1).
fn crypto_attribute(tag: u32, suite: Suite, material: &[u8]) -> String {
    use base64::Engine as _;
    format!("a=crypto:{tag} {} inline:{}\r\n", suite.sdes_name(), base64::engine::general_purpose::STANDARD.encode(material))
}

/// Interprets the answer to an [`offer`] made with `offer_local`.
///
/// The codec is the first one in the answer's list that we offered: the
/// answerer lists formats in its preference order (RFC 3264 section 6.1)
/// and we can send any of the ones we offered.
pub fn accept_answer(offer_local: &LocalMedia, answer: &SessionDescription) -> Result<Negotiated, SdpError> {
    accept_answer_with_direction(offer_local, answer, Direction::SendRecv)
}

/// [`accept_answer`] for an offer made with a restricted direction (hold),
/// so a non-compliant `sendrecv` answer to our `sendonly` cannot make us
/// start receiving media we asked not to get.
pub fn accept_answer_with_direction(
    offer_local: &LocalMedia,
    answer: &SessionDescription,
    offered: Direction,
) -> Result<Negotiated, SdpError> {
    // Our offers carry a single audio stream, so its answer is the first
    // audio m= line.
    let offered_srtp = offer_local.srtp.as_ref().filter(|s| s.required);
    let stream = answer.media.iter().find(|m| m.is_audio_rtp() || m.is_audio_srtp()).ok_or(SdpError::NoAudio)?;
    if stream.port == 0 {
        return Err(SdpError::AudioRejected);
    }
    // An SRTP offer takes an SRTP answer with one of the crypto attributes it offered.
    let srtp = match (offered_srtp, stream.is_sdes_srtp()) {
        (Some(ours), true) => {
            let (tag, suite, remote) = stream.usable_crypto().ok_or(SdpError::NoCommonCrypto)?;
            if Suite::ALL.get((tag as usize).wrapping_sub(1)) != Some(&suite) {
                return Err(SdpError::NoCommonCrypto);
            }
            Some(Keys { suite, local: ours.key.for_suite(suite).to_vec(), remote })
        }
        (None, false) => None,
        (Some(_), false) => return Err(SdpError::EncryptionRequired),
        (None, true) => return Err(SdpError::EncryptionRefused),
    };
    let codecs = if offer_local.codecs.is_empty() { &Codec::ALL[..] } else { &offer_local.codecs[..] };
    let (codec, payload_type) = stream
        .formats
        .iter()
        .find_map(|&pt| {
            let map = stream.rtpmap(pt)?;
            codecs.iter().find(|c| c.matches(&map)).map(|&c| (c, pt))
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let telephone_event_pt = if offer_local.telephone_event { find_telephone_event(stream) } else { None };
    let remote = remote_address(answer, stream)?;
    Ok(Negotiated {
        codec,
        payload_type,
        telephone_event_pt,
        remote,
        direction: our_direction(stream.direction, remote.is_some(), offered),
        ptime_ms: offer_local.effective_ptime(),
        remote_ptime_ms: stream.ptime,
        srtp,
    })
}

/// Finds the audio stream to accept and its codec.
///
/// Live streams are tried before disabled (port 0) ones, and a stream
/// without a usable codec does not stop the search, so an offer carrying
/// e.g. an Opus-only stream followed by a G.711 one still succeeds.
///
/// With `srtp` (TLS signalling, encryption allowed) an SRTP stream with a crypto suite of ours
/// qualifies as well, and when SRTP is required only those do.
fn choose_offered_stream(offer: &SessionDescription, codecs: &[Codec], srtp: Option<&LocalSrtp>) -> Result<(usize, Codec, u8), SdpError> {
    let acceptable = |m: &MediaDescription| match srtp {
        Some(s) if s.required => m.is_audio_srtp() && m.usable_crypto().is_some(),
        Some(_) => m.is_audio_rtp() || (m.is_audio_srtp() && m.usable_crypto().is_some()),
        None => m.is_audio_rtp(),
    };
    let candidates = || offer.media.iter().enumerate().filter(|(_, m)| acceptable(m));
    if candidates().next().is_none() {
        return Err(match srtp {
            Some(s) if s.required => SdpError::EncryptionRequired,
            None if offer.media.iter().any(|m| m.is_audio_srtp()) && !offer.media.iter().any(|m| m.is_audio_rtp()) => {
                SdpError::EncryptionRefused
            }
            _ => SdpError::NoAudio,
        });
    }
    let live = candidates().filter(|(_, m)| m.port != 0);
    let disabled = candidates().filter(|(_, m)| m.port == 0);
    live.chain(disabled).find_map(|(i, m)| pick_codec(m, codecs).map(|(codec, pt)| (i, codec, pt))).ok_or(SdpError::NoCommonCodec)
}

/// Our preference order decides, not the offerer's: the clinic chooses its
/// codec (e.g. PCMA on European trunks) and the offerer accepted any it listed.
fn pick_codec(m: &MediaDescription, codecs: &[Codec]) -> Option<(Codec, u8)> {
    codecs
        .iter()
        .find_map(|&codec| m.formats.iter().find(|&&pt| m.rtpmap(pt).is_some_and(|map| codec.matches(&map))).map(|&pt| (codec, pt)))
}

/// Only the 8 kHz flavour is usable alongside G.711; a peer that also
/// offers telephone-event/48000 (for Opus) lists it separately.
fn find_telephone_event(m: &MediaDescription) -> Option<u8> {
    m.formats
        .iter()
        .copied()
        .find(|&pt| m.rtpmap(pt).is_some_and(|map| map.encoding.eq_ignore_ascii_case("telephone-event") && map.clock_rate == 8000))
}

/// `Ok(None)` for the 0.0.0.0 hold address; errors when there is no
/// address at all, or only a host name, since sending RTP would be a guess.
fn remote_address(sdp: &SessionDescription, m: &MediaDescription) -> Result<Option<SocketAddr>, SdpError> {
    let conn = sdp.connection_for(m).ok_or(SdpError::MissingConnection)?;
    let ip = conn.ip().ok_or_else(|| SdpError::UnsupportedAddress(snippet(&conn.address)))?;
    Ok((!ip.is_unspecified()).then(|| SocketAddr::new(ip, m.port)))
}

/// RFC 3264 section 6.1 mirroring, narrowed by what we allow and by an old
/// style hold address (a peer that gave us nowhere to send does not receive).
fn our_direction(theirs: Direction, have_destination: bool, allowed: Direction) -> Direction {
    Direction::from_flags(theirs.receives() && have_destination && allowed.sends(), theirs.sends() && allowed.receives())
}

fn session_header(address: IpAddr, session_id: u64, version: u64) -> String {
    let family = address_family(address);
    format!("v=0\r\no=- {session_id} {version} IN {family} {address}\r\ns=-\r\nc=IN {family} {address}\r\nt=0 0\r\n")
}

fn write_audio_media(
    sdp: &mut String,
    port: u16,
    proto: &str,
    codecs: &[(Codec, u8)],
    telephone_event_pt: Option<u8>,
    ptime_ms: u32,
    direction: Direction,
) {
    let _ = write!(sdp, "m=audio {port} {proto}");
    for (_, pt) in codecs {
        let _ = write!(sdp, " {pt}");
    }
    if let Some(pt) = telephone_event_pt {
        let _ = write!(sdp, " {pt}");
    }
    sdp.push_str("\r\n");
    for (codec, pt) in codecs {
        let _ = write!(sdp, "a=rtpmap:{pt} {}/{}\r\n", codec.encoding_name(), codec.clock_rate());
    }
    if let Some(pt) = telephone_event_pt {
        // 0-15 are the DTMF digits, all an IVR needs.
        let _ = write!(sdp, "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-15\r\n");
    }
    let _ = write!(sdp, "a=ptime:{ptime_ms}\r\na={direction}\r\n");
}

fn address_family(address: IpAddr) -> &'static str {
    match address {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}

/// RFC 3551 static payload types. Only PCMU and PCMA are negotiable; the
/// rest make logs and `rtpmap()` answers meaningful for typical offers.
fn static_rtpmap(pt: u8) -> Option<(&'static str, u32)> {
    Some(match pt {
        0 => ("PCMU", 8000),
        3 => ("GSM", 8000),
        4 => ("G723", 8000),
        8 => ("PCMA", 8000),
        9 => ("G722", 8000),
        13 => ("CN", 8000),
        18 => ("G729", 8000),
        _ => return None,
    })
}

/// `x=value` with a single lower-case ASCII type letter.
fn split_line(line: &str) -> Option<(char, &str)> {
    let (kind, value) = line.split_once('=')?;
    let mut chars = kind.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_lowercase() => Some((c, value.trim())),
        _ => None,
    }
}

fn parse_origin(value: &str) -> Result<Origin, String> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [username, session_id, session_version, net_type, addr_type, address] = fields[..] else {
        return Err(format!(
            "o= needs 6 fields (username sess-id sess-version nettype addrtype address), found {}: {:?}",
            fields.len(),
            snippet(value)
        ));
    };
    Ok(Origin {
        username: username.to_owned(),
        session_id: session_id.to_owned(),
        session_version: session_version.to_owned(),
        net_type: net_type.to_owned(),
        addr_type: addr_type.to_owned(),
        address: address.to_owned(),
    })
}

fn parse_connection(value: &str) -> Result<Connection, String> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [net_type, addr_type, address] = fields[..] else {
        return Err(format!("c= needs 3 fields (nettype addrtype address), found {}: {:?}", fields.len(), snippet(value)));
    };
    Ok(Connection { net_type: net_type.to_owned(), addr_type: addr_type.to_owned(), address: address.to_owned() })
}

fn parse_media(value: &str) -> Result<MediaDescription, String> {
    let mut fields = value.split_whitespace();
    let (Some(media), Some(port_field), Some(proto)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(format!("m= needs <media> <port> <proto> <format>..., found {:?}", snippet(value)));
    };
    let format_tokens: Vec<String> = fields.map(str::to_owned).collect();
    if format_tokens.is_empty() {
        return Err(format!("m= line lists no formats: {:?}", snippet(value)));
    }
    // `port/count` is legal (RFC 4566 5.14); the count is irrelevant for a
    // unicast audio call but must still be a number.
    let (port_text, count) = match port_field.split_once('/') {
        Some((port, count)) => (port, Some(count)),
        None => (port_field, None),
    };
    let port: u16 = port_text.parse().map_err(|_| format!("m= port {:?} is not a number 0-65535", snippet(port_field)))?;
    if count.is_some_and(|c| c.parse::<u16>().is_err()) {
        return Err(format!("m= port count in {:?} is not a number", snippet(port_field)));
    }
    let formats = if proto.to_ascii_uppercase().contains("RTP") {
        format_tokens
            .iter()
            .map(|token| match token.parse::<u8>() {
                Ok(pt) if pt <= 127 => Ok(pt),
                _ => Err(format!("m= payload type {:?} is not a number 0-127", snippet(token))),
            })
            .collect::<Result<Vec<u8>, String>>()?
    } else {
        Vec::new()
    };
    Ok(MediaDescription {
        media: media.to_owned(),
        port,
        proto: proto.to_owned(),
        formats,
        format_tokens,
        connection: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        ptime: None,
        direction: Direction::default(),
        rtcp_port: None,
        crypto: Vec::new(),
    })
}

/// Malformed values of known attributes are dropped like unknown
/// attributes: the worst outcome is a codec not being recognised, which
/// negotiation already handles.
fn apply_media_attribute(m: &mut MediaDescription, name: &str, arg: &str) {
    match name.to_ascii_lowercase().as_str() {
        "rtpmap" => m.rtpmaps.extend(parse_rtpmap(arg)),
        "fmtp" => {
            let (pt, params) = arg.split_once(char::is_whitespace).map_or((arg, ""), |(pt, params)| (pt, params.trim()));
            if let Ok(pt) = pt.parse::<u8>() {
                m.fmtps.push((pt, params.to_owned()));
            }
        }
        "ptime" => m.ptime = arg.parse().ok().or(m.ptime),
        "rtcp" => {
            let port = arg.split_whitespace().next().and_then(|p| p.parse().ok());
            m.rtcp_port = port.or(m.rtcp_port);
        }
        "crypto" => {
            let mut parts = arg.splitn(3, char::is_whitespace);
            if let (Some(tag), Some(suite), Some(key_params)) = (parts.next(), parts.next(), parts.next())
                && let Ok(tag) = tag.parse()
                && m.crypto.len() < 16
            {
                m.crypto.push(CryptoAttribute { tag, suite: suite.to_string(), key_params: key_params.trim().to_string() });
            }
        }
        _ => {}
    }
}

fn parse_rtpmap(arg: &str) -> Option<RtpMap> {
    let (pt, spec) = arg.split_once(char::is_whitespace)?;
    let pt: u8 = pt.parse().ok()?;
    let mut parts = spec.trim().split('/');
    let encoding = parts.next()?.trim();
    let clock_rate: u32 = parts.next()?.trim().parse().ok()?;
    let channels = match parts.next() {
        Some(c) => Some(c.trim().parse::<u16>().ok()?),
        None => None,
    };
    if encoding.is_empty() || parts.next().is_some() {
        return None;
    }
    Some(RtpMap { pt, encoding: encoding.to_owned(), clock_rate, channels })
}

fn snippet(text: &str) -> String {
    text.chars().take(MAX_ERROR_SNIPPET).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// Test SDP is written with `\n` for readability; real peers send CRLF.
    fn crlf(text: &str) -> String {
        text.replace('\n', "\r\n")
    }

    fn local() -> LocalMedia {
        LocalMedia::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000)
    }

    fn answer_to(offer_text: &str) -> Result<Answer, SdpError> {
        let offer = SessionDescription::parse(&crlf(offer_text))?;
        answer(&offer, &local(), 1111, 1)
    }

    fn v4(port: u16) -> Option<SocketAddr> {
        Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
    }

    /// Lines of the body, checking on the way that every line ends in CRLF.
    fn lines(sdp: &str) -> Vec<&str> {
        assert!(sdp.ends_with("\r\n"), "{sdp:?}");
        let body = &sdp[..sdp.len() - 2];
        let lines: Vec<&str> = body.split("\r\n").collect();
        assert!(lines.iter().all(|l| !l.contains('\n') && !l.contains('\r')), "{sdp:?}");
        lines
    }

    const ASTERISK_PJSIP: &str = "v=0
o=- 1898217155 1898217155 IN IP4 127.0.0.1
s=Asterisk
c=IN IP4 127.0.0.1
t=0 0
m=audio 10004 RTP/AVP 0 8 3 111 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:3 GSM/8000
a=rtpmap:111 G726-32/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:150
a=sendrecv
";

    const ASTERISK_CHAN_SIP_PCMA_FIRST: &str = "v=0
o=root 1821357392 1821357392 IN IP4 127.0.0.1
s=Asterisk PBX 16.28.0
c=IN IP4 127.0.0.1
b=CT:384
t=0 0
m=audio 12000 RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
";

    const BARESIP: &str = "v=0
o=- 3829405411 2437151342 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 10256 RTP/AVP 96 9 0 8 101
b=AS:96
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1;maxaveragebitrate=28000
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtcp:10257
a=sendrecv
a=label:1
a=ssrc:1487206379 cname:b7c5d1b8-5a0e-4d3e-9a8e-2f1c7b0f6a11
a=rtcp-rsize
a=ptime:20
";

    /// sipp's built-in uac scenario with its keywords substituted.
    const SIPP_UAC: &str = "v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
";

    #[test]
    fn asterisk_pjsip_offer() {
        let a = answer_to(ASTERISK_PJSIP).unwrap();
        assert_eq!(a.codec, Codec::Pcmu);
        assert_eq!(a.payload_type, 0);
        assert_eq!(a.telephone_event_pt, Some(101));
        assert_eq!(a.remote, v4(10004));
        assert_eq!(a.direction, Direction::SendRecv);
        assert_eq!(a.ptime_ms, 20);
        assert_eq!(a.remote_ptime_ms, Some(20));
        assert_eq!(
            lines(&a.sdp),
            [
                "v=0",
                "o=- 1111 1 IN IP4 127.0.0.1",
                "s=-",
                "c=IN IP4 127.0.0.1",
                "t=0 0",
                "m=audio 40000 RTP/AVP 0 101",
                "a=rtpmap:0 PCMU/8000",
                "a=rtpmap:101 telephone-event/8000",
                "a=fmtp:101 0-15",
                "a=ptime:20",
                "a=sendrecv",
            ]
        );
        // Our answer must itself be valid SDP.
        SessionDescription::parse(&a.sdp).unwrap();
    }

    #[test]
    fn our_preference_order_wins_over_the_offerers() {
        let a = answer_to(ASTERISK_CHAN_SIP_PCMA_FIRST).unwrap();
        assert_eq!((a.codec, a.payload_type), (Codec::Pcmu, 0));

        let offer = SessionDescription::parse(&crlf(ASTERISK_PJSIP)).unwrap();
        let mut pcma_first = local();
        pcma_first.codecs = vec![Codec::Pcma, Codec::Pcmu];
        let a = answer(&offer, &pcma_first, 1, 1).unwrap();
        assert_eq!((a.codec, a.payload_type), (Codec::Pcma, 8));
        assert!(a.sdp.contains("m=audio 40000 RTP/AVP 8 101\r\n"));
        assert!(a.sdp.contains("a=rtpmap:8 PCMA/8000\r\n"));
    }

    #[test]
    fn baresip_offer_skips_opus_and_g722() {
        let offer = SessionDescription::parse(&crlf(BARESIP)).unwrap();
        let m = &offer.media[0];
        assert_eq!(m.formats, [96, 9, 0, 8, 101]);
        assert_eq!(m.rtcp_port, Some(10257));
        assert_eq!(m.fmtp(101), Some("0-15"));
        assert_eq!(m.rtpmap(96), Some(RtpMap { pt: 96, encoding: "opus".into(), clock_rate: 48000, channels: Some(2) }));
        let a = answer(&offer, &local(), 7, 7).unwrap();
        assert_eq!((a.codec, a.payload_type, a.telephone_event_pt), (Codec::Pcmu, 0, Some(101)));
        assert_eq!(a.remote, v4(10256));
        assert!(!a.sdp.contains("opus") && !a.sdp.contains("G722"));
    }

    #[test]
    fn sipp_default_uac_offer() {
        let a = answer_to(SIPP_UAC).unwrap();
        assert_eq!((a.codec, a.payload_type), (Codec::Pcmu, 0));
        assert_eq!(a.telephone_event_pt, None);
        assert_eq!(a.remote, v4(6000));
        assert!(a.sdp.contains("m=audio 40000 RTP/AVP 0\r\n"));
        assert!(!a.sdp.contains("telephone-event"));
        assert!(!a.sdp.contains("fmtp"));
    }

    #[test]
    fn pcma_only_offer_picks_pcma() {
        let a = answer_to(
            "v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 7078 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
",
        )
        .unwrap();
        assert_eq!((a.codec, a.payload_type), (Codec::Pcma, 8));
    }

    #[test]
    fn g729_only_offer_has_no_common_codec() {
        let with_rtpmap = "v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 7078 RTP/AVP 18 101
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/8000
";
        assert_eq!(answer_to(with_rtpmap), Err(SdpError::NoCommonCodec));
        let without_rtpmap = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 7078 RTP/AVP 18\n";
        assert_eq!(answer_to(without_rtpmap), Err(SdpError::NoCommonCodec));
    }

    #[test]
    fn codec_match_is_by_name_clock_and_channels() {
        let offer = "v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 7078 RTP/AVP 97 98 99
a=rtpmap:97 PCMU/16000
a=rtpmap:98 PCMA/8000/2
a=rtpmap:99 pcma/8000/1
";
        let a = answer_to(offer).unwrap();
        assert_eq!((a.codec, a.payload_type), (Codec::Pcma, 99));
        assert!(a.sdp.contains("a=rtpmap:99 PCMA/8000\r\n"));
    }

    fn hold_offer(extra_session: &str, conn: &str, media_attr: &str) -> String {
        format!(
            "v=0
o=- 1898217155 1898217156 IN IP4 127.0.0.1
s=Asterisk
c=IN IP4 {conn}
t=0 0
{extra_session}m=audio 10004 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
{media_attr}"
        )
    }

    #[test]
    fn hold_with_sendonly() {
        let a = answer_to(&hold_offer("", "127.0.0.1", "a=sendonly\n")).unwrap();
        assert_eq!(a.direction, Direction::RecvOnly);
        assert_eq!(a.remote, v4(10004));
        assert!(a.sdp.ends_with("a=recvonly\r\n"));
    }

    #[test]
    fn offer_recvonly_gets_sendonly() {
        let a = answer_to(&hold_offer("", "127.0.0.1", "a=recvonly\n")).unwrap();
        assert_eq!(a.direction, Direction::SendOnly);
    }

    #[test]
    fn hold_with_inactive() {
        let a = answer_to(&hold_offer("", "127.0.0.1", "a=inactive\n")).unwrap();
        assert_eq!(a.direction, Direction::Inactive);
        assert!(a.sdp.ends_with("a=inactive\r\n"));
    }

    #[test]
    fn old_style_hold_with_zero_address() {
        let offer = SessionDescription::parse(&crlf(&hold_offer("", "0.0.0.0", ""))).unwrap();
        assert!(offer.connection.as_ref().unwrap().is_hold_address());
        let a = answer(&offer, &local(), 1, 2).unwrap();
        assert_eq!(a.remote, None);
        // Nowhere to send to, but the peer may still play music on hold.
        assert_eq!(a.direction, Direction::RecvOnly);
        // Our own c= stays real: we still want their media.
        assert!(a.sdp.contains("c=IN IP4 127.0.0.1\r\n"));
    }

    #[test]
    fn session_level_direction_applies_unless_media_overrides() {
        let offer = SessionDescription::parse(&crlf(&hold_offer("a=sendonly\n", "127.0.0.1", ""))).unwrap();
        assert_eq!(offer.direction, Direction::SendOnly);
        assert_eq!(offer.media[0].direction, Direction::SendOnly);
        assert_eq!(answer(&offer, &local(), 1, 1).unwrap().direction, Direction::RecvOnly);

        let offer = SessionDescription::parse(&crlf(&hold_offer("a=sendonly\n", "127.0.0.1", "a=sendrecv\n"))).unwrap();
        assert_eq!(offer.media[0].direction, Direction::SendRecv);
    }

    #[test]
    fn answer_never_exceeds_what_we_allow() {
        let offer = SessionDescription::parse(&crlf(ASTERISK_PJSIP)).unwrap();
        let a = answer_with_direction(&offer, &local(), 1, 3, Direction::SendOnly).unwrap();
        assert_eq!(a.direction, Direction::SendOnly);
        assert!(a.sdp.ends_with("a=sendonly\r\n"));
    }

    #[test]
    fn video_streams_are_rejected_in_place() {
        let video_first = "v=0
o=- 20518 0 IN IP4 127.0.0.1
s=Talk
c=IN IP4 127.0.0.1
t=0 0
m=video 9078 RTP/AVP 96 97
a=rtpmap:96 VP8/90000
a=rtpmap:97 H264/90000
a=fmtp:97 profile-level-id=42801F
m=audio 7078 RTP/AVP 0 8 101
a=rtpmap:101 telephone-event/8000
m=image 0 udptl t38
";
        let a = answer_to(video_first).unwrap();
        assert_eq!(a.remote, v4(7078));
        let ls = lines(&a.sdp);
        let m_lines: Vec<&str> = ls.iter().copied().filter(|l| l.starts_with("m=")).collect();
        assert_eq!(m_lines, ["m=video 0 RTP/AVP 96 97", "m=audio 40000 RTP/AVP 0 101", "m=image 0 udptl t38"]);
        // Nothing describing the rejected stream may follow its m= line.
        let video_at = ls.iter().position(|l| l.starts_with("m=video")).unwrap();
        assert!(ls[video_at + 1].starts_with("m=audio"));

        let audio_first = "v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 7078 RTP/AVP 8
m=video 9078 RTP/AVP 96
a=rtpmap:96 H264/90000
";
        let a = answer_to(audio_first).unwrap();
        assert!(a.sdp.ends_with("a=sendrecv\r\nm=video 0 RTP/AVP 96\r\n"), "{}", a.sdp);
    }

    #[test]
    fn second_audio_stream_used_when_first_has_no_common_codec() {
        let offer = "v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 5000 RTP/AVP 96
a=rtpmap:96 opus/48000/2
m=audio 5002 RTP/AVP 8
";
        let a = answer_to(offer).unwrap();
        assert_eq!(a.remote, v4(5002));
        let m_lines: Vec<&str> = lines(&a.sdp).into_iter().filter(|l| l.starts_with("m=")).collect();
        assert_eq!(m_lines, ["m=audio 0 RTP/AVP 96", "m=audio 40000 RTP/AVP 8"]);
    }

    #[test]
    fn disabled_audio_stream_stays_disabled() {
        let offer = "v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 0 RTP/AVP 0
";
        let a = answer_to(offer).unwrap();
        assert_eq!(a.remote, None);
        assert_eq!(a.direction, Direction::Inactive);
        assert!(a.sdp.contains("m=audio 0 RTP/AVP 0\r\n"));
    }

    #[test]
    fn ipv6_offer_and_answer() {
        let offer = SessionDescription::parse(&crlf(
            "v=0
o=- 4711 1 IN IP6 ::1
s=-
c=IN IP6 ::1
t=0 0
m=audio 16000 RTP/AVP 0 101
a=rtpmap:101 telephone-event/8000
",
        ))
        .unwrap();
        assert_eq!(offer.origin.addr_type, "IP6");
        let mut v6 = local();
        v6.address = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let a = answer(&offer, &v6, 9, 9).unwrap();
        assert_eq!(a.remote, Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 16000)));
        assert!(a.sdp.contains("o=- 9 9 IN IP6 ::1\r\n"));
        assert!(a.sdp.contains("c=IN IP6 ::1\r\n"));
    }

    #[test]
    fn static_payload_types_need_no_rtpmap() {
        let a = answer_to("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 18 8 0\n").unwrap();
        assert_eq!((a.codec, a.payload_type), (Codec::Pcmu, 0));
        // The answer still spells the mapping out, for peers that want it.
        assert!(a.sdp.contains("a=rtpmap:0 PCMU/8000\r\n"));
    }

    #[test]
    fn dynamic_telephone_event_keeps_the_offerers_number() {
        for pt in [101u8, 96] {
            let offer = format!(
                "v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 4000 RTP/AVP 111 0 {pt} 110
a=rtpmap:111 opus/48000/2
a=rtpmap:110 telephone-event/48000
a=rtpmap:{pt} telephone-event/8000
a=fmtp:{pt} 0-16
"
            );
            let a = answer_to(&offer).unwrap();
            assert_eq!(a.telephone_event_pt, Some(pt));
            assert!(a.sdp.contains(&format!("m=audio 40000 RTP/AVP 0 {pt}\r\n")));
            assert!(a.sdp.contains(&format!("a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-15\r\n")));
        }

        let mut no_dtmf = local();
        no_dtmf.telephone_event = false;
        let offer = SessionDescription::parse(&crlf(ASTERISK_PJSIP)).unwrap();
        let a = answer(&offer, &no_dtmf, 1, 1).unwrap();
        assert_eq!(a.telephone_event_pt, None);
        assert!(!a.sdp.contains("telephone-event"));
    }

    #[test]
    fn avpf_is_accepted_and_echoed_but_srtp_needs_tls() {
        let avpf = ASTERISK_PJSIP.replace("RTP/AVP ", "RTP/AVPF ");
        let a = answer_to(&avpf).unwrap();
        assert!(a.sdp.contains("m=audio 40000 RTP/AVPF 0 101\r\n"));

        // Without local SRTP (the INVITE was not over TLS) an SRTP-only offer is refused.
        let savp = ASTERISK_PJSIP.replace("RTP/AVP ", "RTP/SAVP ");
        assert_eq!(answer_to(&savp), Err(SdpError::EncryptionRefused));
        let webrtc = ASTERISK_PJSIP.replace("RTP/AVP ", "UDP/TLS/RTP/SAVPF ");
        assert_eq!(answer_to(&webrtc), Err(SdpError::NoAudio));
    }

    #[test]
    fn bare_lf_line_endings_and_untidy_whitespace() {
        let offer = SessionDescription::parse(
            "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\n\nc=IN IP4 127.0.0.1  \r\nt=0 0\nm=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n\n",
        )
        .unwrap();
        assert_eq!(offer.media[0].port, 4000);
        assert_eq!(offer.connection.as_ref().unwrap().address, "127.0.0.1");
    }

    #[test]
    fn unknown_lines_and_attributes_are_ignored() {
        let offer = SessionDescription::parse(&crlf(
            "v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
i=front desk
u=http://example.invalid/
e=nobody@example.invalid
c=IN IP4 127.0.0.1
b=AS:64
t=0 0
r=7d 1h 0 25h
z=2882844526 -1h
k=prompt
x=whatever
a=group:BUNDLE 0
a=ice-ufrag:abcd
m=audio 4000/2 RTP/AVP 0 8
a=mid:0
a=rtpmap:8
a=rtpmap:x PCMA/8000
a=ptime:abc
a=rtcp:notaport
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:xyz
a=fmtp:0
a=silenceSupp:off - - - -
",
        ))
        .unwrap();
        let m = &offer.media[0];
        assert_eq!(m.port, 4000);
        assert!(m.rtpmaps.is_empty());
        assert_eq!(m.ptime, None);
        assert_eq!(m.rtcp_port, None);
        assert_eq!(m.fmtps, [(0, String::new())]);
        assert_eq!(offer.origin.session_id, "1");
    }

    #[test]
    fn media_level_connection_overrides_session_level() {
        let offer = "v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.2
t=0 0
m=audio 4000 RTP/AVP 0
c=IN IP4 127.0.0.1
";
        assert_eq!(answer_to(offer).unwrap().remote, v4(4000));
        let only_media_level = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\nc=IN IP4 127.0.0.1\n";
        assert_eq!(answer_to(only_media_level).unwrap().remote, v4(4000));
    }

    #[test]
    fn unusable_connection_addresses() {
        let none = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\n";
        assert_eq!(answer_to(none), Err(SdpError::MissingConnection));
        let host = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 pbx.example.invalid\nt=0 0\nm=audio 4000 RTP/AVP 0\n";
        assert_eq!(answer_to(host), Err(SdpError::UnsupportedAddress("pbx.example.invalid".into())));
        let conn = Connection { net_type: "IN".into(), addr_type: "IP4".into(), address: "224.2.1.1/127".into() };
        assert_eq!(conn.ip(), Some(IpAddr::V4(Ipv4Addr::new(224, 2, 1, 1))));
        assert!(!conn.is_hold_address());
    }

    #[test]
    fn structural_errors_say_what_is_wrong() {
        let ok_tail = "o=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n";
        let parse = |text: &str| SessionDescription::parse(text);
        assert_eq!(parse(""), Err(SdpError::Empty));
        assert_eq!(parse("\r\n\r\n"), Err(SdpError::Empty));
        assert_eq!(parse(ok_tail), Err(SdpError::MissingVersion("o=- 1 1 IN IP4 127.0.0.1".into())));
        assert_eq!(parse(&format!("v=1\n{ok_tail}")), Err(SdpError::UnsupportedVersion("1".into())));
        assert_eq!(parse("v=0\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n"), Err(SdpError::MissingOrigin));

        let line_error = |text: String, line: usize, needle: &str| match parse(&text) {
            Err(SdpError::InvalidLine { line: l, reason }) => {
                assert_eq!(l, line, "{reason}");
                assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
                let shown = SdpError::InvalidLine { line: l, reason }.to_string();
                assert!(shown.starts_with(&format!("SDP line {line}: ")), "{shown}");
            }
            other => panic!("expected InvalidLine for {text:?}, got {other:?}"),
        };
        let base = |m_line: &str| format!("v=0\n{ok_tail}{m_line}\n");
        line_error(base("m=audio"), 7, "m= needs");
        line_error(base("m=audio 4000 RTP/AVP"), 7, "no formats");
        line_error(base("m=audio abc RTP/AVP 0"), 7, "port \"abc\"");
        line_error(base("m=audio 70000 RTP/AVP 0"), 7, "0-65535");
        line_error(base("m=audio 4000/x RTP/AVP 0"), 7, "port count");
        line_error(base("m=audio 4000 RTP/AVP 0 200"), 7, "payload type \"200\"");
        line_error(base("m=audio 4000 RTP/AVP PCMU"), 7, "payload type \"PCMU\"");
        line_error(base("c=IN IP4"), 7, "c= needs 3 fields");
        line_error(base("this is not sdp"), 7, "expected <letter>=<value>");
        line_error(base("ab=c"), 7, "expected <letter>=<value>");
        line_error(base("o=- 2 2 IN IP4 127.0.0.1"), 7, "inside a media section");
        line_error(base("v=0"), 7, "second v=");
        line_error("v=0\no=- 1 IN IP4 127.0.0.1\n".into(), 2, "o= needs 6 fields");
        line_error("v=0\no=- 1 1 IN IP4 127.0.0.1\no=- 1 1 IN IP4 127.0.0.1\n".into(), 3, "duplicate o=");

        assert_eq!(answer_to("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n"), Err(SdpError::NoAudio));
    }

    #[test]
    fn offer_and_hold_reoffer() {
        let mut l = local();
        l.codecs = vec![Codec::Pcma, Codec::Pcmu, Codec::Pcma];
        let sdp = offer(&l, 42, 1, Direction::SendRecv);
        assert_eq!(
            lines(&sdp),
            [
                "v=0",
                "o=- 42 1 IN IP4 127.0.0.1",
                "s=-",
                "c=IN IP4 127.0.0.1",
                "t=0 0",
                "m=audio 40000 RTP/AVP 8 0 101",
                "a=rtpmap:8 PCMA/8000",
                "a=rtpmap:0 PCMU/8000",
                "a=rtpmap:101 telephone-event/8000",
                "a=fmtp:101 0-15",
                "a=ptime:20",
                "a=sendrecv",
            ]
        );
        let hold = offer(&l, 42, 2, Direction::SendOnly);
        assert!(hold.contains("o=- 42 2 IN IP4 127.0.0.1\r\n"));
        assert!(hold.ends_with("a=sendonly\r\n"));

        let mut empty = local();
        empty.codecs.clear();
        empty.telephone_event = false;
        empty.ptime_ms = 0;
        let sdp = offer(&empty, 1, 1, Direction::SendRecv);
        assert!(sdp.contains("m=audio 40000 RTP/AVP 0 8\r\n"));
        assert!(sdp.contains("a=ptime:20\r\n"));
    }

    #[test]
    fn our_offer_answered_by_ourselves_round_trips() {
        let l = local();
        let our_offer = SessionDescription::parse(&offer(&l, 5, 1, Direction::SendOnly)).unwrap();
        let mut peer = LocalMedia::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 50000);
        peer.codecs = vec![Codec::Pcma];
        let their_answer = answer(&our_offer, &peer, 77, 1).unwrap();
        assert_eq!(their_answer.direction, Direction::RecvOnly);
        assert_eq!(their_answer.remote, v4(40000));

        let parsed = SessionDescription::parse(&their_answer.sdp).unwrap();
        let n = accept_answer(&l, &parsed).unwrap();
        assert_eq!(
            n,
            Negotiated {
                codec: Codec::Pcma,
                payload_type: 8,
                telephone_event_pt: Some(101),
                remote: v4(50000),
                direction: Direction::SendOnly,
                ptime_ms: 20,
                remote_ptime_ms: Some(20),
                srtp: None,
            }
        );
    }

    fn srtp_local(required: bool) -> LocalMedia {
        LocalMedia { srtp: Some(LocalSrtp { key: MasterKey::random(), required }), ..local() }
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn an_srtp_offer_is_answered_with_the_first_usable_crypto_and_a_key_of_ours() {
        let theirs = [7u8; 30];
        let offer = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n\
             a=crypto:1 F8_128_HMAC_SHA1_80 inline:{k}\r\n\
             a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{k}|2^20|1:4\r\n\
             a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:{k}|2^31\r\n\
             a=crypto:4 AEAD_AES_128_GCM inline:{g}\r\n",
            k = b64(&theirs),
            g = b64(&theirs[..28])
        );
        let offer = SessionDescription::parse(&offer).unwrap();
        let ours = srtp_local(false);
        let a = answer(&offer, &ours, 1, 1).unwrap();
        let keys = a.srtp.clone().expect("SRTP answered");
        assert_eq!(keys.suite, Suite::AesCm128HmacSha1_80, "F8 and an MKI are not ours; tag 3 is the first usable");
        assert_eq!(keys.remote, theirs.to_vec());
        assert_eq!(keys.local, ours.srtp.as_ref().unwrap().key.for_suite(Suite::AesCm128HmacSha1_80));
        assert!(a.sdp.contains("m=audio 40000 RTP/SAVP 0"), "{}", a.sdp);
        assert!(a.sdp.contains(&format!("a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n", b64(&keys.local))), "{}", a.sdp);
        assert_eq!(a.sdp.matches("a=crypto").count(), 1);

        // Not over TLS (no local SRTP): refused with the reason, never answered in the clear.
        assert_eq!(answer(&offer, &local(), 1, 1), Err(SdpError::EncryptionRefused));
        // Required, and plain RTP is offered: refused.
        let plain = SessionDescription::parse(&crlf(ASTERISK_PJSIP)).unwrap();
        assert_eq!(answer(&plain, &srtp_local(true), 1, 1), Err(SdpError::EncryptionRequired));
        // Optional, and plain RTP is offered: plain RTP.
        assert_eq!(answer(&plain, &srtp_local(false), 1, 1).unwrap().srtp, None);
    }

    #[test]
    fn our_srtp_offer_and_its_answer_agree_on_mirrored_keys() {
        let caller = srtp_local(true);
        let offer = offer(&caller, 9, 1, Direction::SendRecv);
        assert!(offer.contains("RTP/SAVP") && offer.matches("a=crypto:").count() == 3, "{offer}");
        let callee = LocalMedia { port: 40000, ..srtp_local(false) };
        let their_answer = answer(&SessionDescription::parse(&offer).unwrap(), &callee, 5, 1).unwrap();
        let theirs = their_answer.srtp.unwrap();
        let ours = accept_answer(&caller, &SessionDescription::parse(&their_answer.sdp).unwrap()).unwrap().srtp.unwrap();
        assert_eq!((ours.suite, &ours.local, &ours.remote), (theirs.suite, &theirs.remote, &theirs.local));
        // An answer in plain RTP to an SRTP offer is not taken.
        let plain = answer(&SessionDescription::parse(&offer.replace("RTP/SAVP", "RTP/AVP")).unwrap(), &local(), 5, 1).unwrap();
        assert_eq!(accept_answer(&caller, &SessionDescription::parse(&plain.sdp).unwrap()), Err(SdpError::EncryptionRequired));
    }

    #[test]
    fn accept_answer_cases() {
        let l = local();
        let ans = |m_and_attrs: &str| {
            SessionDescription::parse(&crlf(&format!("v=0\no=- 9 9 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n{m_and_attrs}")))
                .unwrap()
        };
        // Answerer's order decides among the codecs we offered.
        let n = accept_answer(&l, &ans("m=audio 30000 RTP/AVP 8 0 101\na=rtpmap:101 telephone-event/8000\n")).unwrap();
        assert_eq!((n.codec, n.payload_type, n.telephone_event_pt), (Codec::Pcma, 8, Some(101)));
        assert_eq!(n.remote, v4(30000));

        let n = accept_answer(&l, &ans("m=audio 30000 RTP/AVP 0\na=recvonly\n")).unwrap();
        assert_eq!(n.direction, Direction::SendOnly);
        assert_eq!(n.telephone_event_pt, None);

        assert_eq!(accept_answer(&l, &ans("m=audio 0 RTP/AVP 0\n")), Err(SdpError::AudioRejected));
        assert_eq!(accept_answer(&l, &ans("m=audio 30000 RTP/AVP 18\n")), Err(SdpError::NoCommonCodec));
        assert_eq!(accept_answer(&l, &ans("m=video 30000 RTP/AVP 96\n")), Err(SdpError::NoAudio));
        let mut pcmu_only = local();
        pcmu_only.codecs = vec![Codec::Pcmu];
        assert_eq!(accept_answer(&pcmu_only, &ans("m=audio 30000 RTP/AVP 8\n")), Err(SdpError::NoCommonCodec));

        // A non-compliant sendrecv answer to our hold cannot unhold us.
        let n = accept_answer_with_direction(&l, &ans("m=audio 30000 RTP/AVP 0\n"), Direction::SendOnly).unwrap();
        assert_eq!(n.direction, Direction::SendOnly);

        let held =
            SessionDescription::parse(&crlf("v=0\no=- 9 9 IN IP4 127.0.0.1\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 30000 RTP/AVP 0\n"))
                .unwrap();
        let n = accept_answer(&l, &held).unwrap();
        assert_eq!((n.remote, n.direction), (None, Direction::RecvOnly));
    }

    #[test]
    fn direction_helpers() {
        for d in [Direction::SendRecv, Direction::SendOnly, Direction::RecvOnly, Direction::Inactive] {
            assert_eq!(Direction::from_flags(d.sends(), d.receives()), d);
            assert_eq!(d.reversed().reversed(), d);
            assert_eq!(Direction::from_attribute(d.attribute()), Some(d));
        }
        assert_eq!(Direction::SendOnly.reversed(), Direction::RecvOnly);
        assert_eq!(Direction::Inactive.reversed(), Direction::Inactive);
        assert_eq!(Direction::default(), Direction::SendRecv);
    }

    /// Small deterministic generator so the robustness test needs no crate.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn random_truncated_and_mutated_input_never_panics() {
        let seeds: Vec<String> = [ASTERISK_PJSIP, BARESIP, SIPP_UAC, ASTERISK_CHAN_SIP_PCMA_FIRST].iter().map(|s| crlf(s)).collect();
        let alphabet: Vec<char> = "vocmast=/: \r\n0123456789INIP4IP6.audioRTP/AVP-é€\u{0}\u{7f}".chars().collect();
        let l = local();
        let exercise = |input: &str| {
            if let Ok(sdp) = SessionDescription::parse(input) {
                let _ = answer(&sdp, &l, u64::MAX, u64::MAX);
                let _ = accept_answer(&l, &sdp);
            }
        };
        for seed in &seeds {
            for (i, _) in seed.char_indices() {
                exercise(&seed[..i]);
                exercise(&seed[i..]);
            }
        }
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        for _ in 0..5000 {
            let mut chars: Vec<char> = seeds[rng.below(seeds.len())].chars().collect();
            for _ in 0..1 + rng.below(8) {
                let pos = rng.below(chars.len() + 1);
                match rng.below(3) {
                    0 if pos < chars.len() => {
                        chars.remove(pos);
                    }
                    1 if pos < chars.len() => chars[pos] = alphabet[rng.below(alphabet.len())],
                    _ => chars.insert(pos, alphabet[rng.below(alphabet.len())]),
                }
            }
            exercise(&chars.into_iter().collect::<String>());
            let random: String = (0..rng.below(200)).map(|_| alphabet[rng.below(alphabet.len())]).collect();
            exercise(&format!("v=0\no=- 1 1 IN IP4 127.0.0.1\n{random}"));
            exercise(&random);
        }
    }
}
