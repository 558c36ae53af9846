//! SIP wire format: stream framing and validation of single messages (RFC 3261 sections 7,
//! 8.2 and 18), kept apart from the transaction and dialog state machines the way smoltcp
//! keeps `wire` apart from its sockets.
//!
//! This is the only place that handles untrusted bytes, so every function here is total:
//! arbitrary input gives a value or an error, never a panic, and nothing is sliced without a
//! bounds check. Everything is parsed as bytes; text is made only from bytes already checked.
//!
//! rsip 0.4 is used only as the last step, on a normalised copy of a message we already
//! checked, because on its own it gets the wire format wrong in both directions. It accepts
//! lower-case methods (`invite`), `SIP/2.5` (as 2.0) and `SIP/1.0`, status `+12`, and a
//! missing empty line after the headers (the second and later headers become the body).
//! It rejects folded lines, whitespace before the colon, `sip/2.0`, IPv6 and most `tel:`
//! Request-URIs and any method outside its fixed list of 14. It does not know compact header
//! names, so `v:` is not found as a Via. Its errors also quote the input, so they are never
//! copied into [`WireError::reason`].
//!
//! What the normalised copy changes: folded lines are joined (with one space, or none next to
//! `;` `,` `=`), compact names are written out in full (`v` becomes `Via`), `Name : value`
//! becomes `Name: value`, a Via line with several values becomes one Via line per value, the
//! version is written as `SIP/2.0`, and the body is cut to Content-Length. Everything else,
//! header order and name case included, is passed on as received.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Which transport a message came in on. Only the rule for a missing Content-Length depends
/// on it: a datagram ends where the packet ends, a stream has no other way to find the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// What the user agent implements, given to the validator so that 501, 420 and 513 answers
/// agree with what the rest of the UA will actually do.
#[derive(Clone, Copy, Debug)]
pub struct Policy<'a> {
    /// Methods we implement, compared case-sensitively (RFC 3261 25.1). Any other method
    /// gets 501 with an Allow listing these. A method that rsip 0.4 does not know (it knows
    /// ACK BYE CANCEL INFO INVITE MESSAGE NOTIFY OPTIONS PRACK PUBLISH REFER REGISTER
    /// SUBSCRIBE UPDATE) passes validation but then fails in rsip, which gives 400.
    pub methods: &'a [&'a str],
    /// Option tags we support, compared case-insensitively (tokens are, RFC 3261 7.3.1).
    /// A Require with any other tag gets 420 with an Unsupported listing the unknown tags.
    pub supported_options: &'a [&'a str],
    /// Largest message we take, counted over the bytes given to [`parse`] or, on a stream,
    /// over headers plus Content-Length. Larger requests get 513; larger responses are
    /// dropped.
    pub max_message_bytes: usize,
}

/// What [`frame_stream`] found at the front of a stream buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The first this-many bytes are one whole message: give them to [`parse`] and remove
    /// them from the buffer.
    Message(usize),
    /// The first this-many bytes are CRLF keep-alive traffic to remove from the buffer
    /// (RFC 5626 4.4.1, and RFC 3261 7.5 says CRLFs before a start line are ignored).
    /// `KeepAlive(4)` is a ping (CRLF CRLF): answer it with one CRLF (a pong).
    /// `KeepAlive(2)` is a pong to one of our pings, or a stray CRLF: nothing to answer.
    /// A lone CRLF is reported at once, not held back in case a second one follows, because
    /// a late pong costs a keep-alive flow while a ping split across segments is unheard of.
    KeepAlive(usize),
    /// More bytes are needed.
    Incomplete,
}

/// Why a message was not accepted.
///
/// From [`frame_stream`] every error means the stream can no longer be framed: send the
/// rejection if there is one, then close the connection. From [`parse`] only the message is
/// lost.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct WireError {
    /// Fixed text for logs and counters. It never contains bytes from the message, so it is
    /// safe to log at any level and has a small, fixed set of values to count by.
    pub reason: String,
    /// Present when the input was a request that can be answered: not an ACK (an ACK never
    /// gets a response), not a response, and at least one Via was found (without a Via there
    /// is nowhere to send an answer, RFC 3261 18.2.2). Otherwise drop and count.
    /// Boxed so that the `Result`s on the receive path stay small (32 bytes, not 216).
    pub rejection: Option<Box<Rejection>>,
}

impl WireError {
    /// The status to answer with, if the input can be answered.
    pub fn status(&self) -> Option<u16> {
        self.rejection.as_ref().map(|r| r.status)
    }

    fn dropped(reason: &'static str) -> WireError {
        WireError { reason: reason.to_string(), rejection: None }
    }
}

/// An answer to send for a request that failed validation; see [`rejection_response`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub reason_phrase: &'static str,
    /// Headers the status requires: Allow for 501, Unsupported for 420, Accept or
    /// Accept-Encoding for 415.
    pub extra_headers: Vec<(String, String)>,
    pub echo: EchoHeaders,
    /// The request method, when the start line had a valid method token.
    pub method: Option<String>,
}

/// Raw header values found by a lenient scan of the text rather than by rsip, so that a 400
/// can be built even for a request that rsip or our own checks cannot accept. Control
/// characters are replaced by spaces and invalid UTF-8 by U+FFFD, so the values can be
/// written into a response as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EchoHeaders {
    /// One entry per Via line, in order (a line may carry several comma-separated values).
    pub via: Vec<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub call_id: Option<String>,
    pub cseq: Option<String>,
}

/// The start line of an accepted message, as text we validated, because rsip's own view of it
/// is lossy: it replaces the reason phrase of known status codes with its own names
/// ("486 BusyHere") and rewrites URIs (`tel:+1555` becomes host `tel`, port 1555).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { status: u16, reason: String },
}

/// An accepted message with the validated text alongside rsip's parse of it.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// rsip's parse, when rsip can read the message. It cannot read some valid ones (IPv6 and
    /// tel: Request-URIs among them); the validated parts below are complete without it.
    pub message: Option<rsip::SipMessage>,
    pub start: StartLine,
    /// Header lines in order as (name, value): unfolded, compact names written out in full,
    /// one entry per Via value. This is the same text rsip was given.
    pub headers: Vec<(String, String)>,
    /// The body, cut to Content-Length.
    pub body: Vec<u8>,
}

/// Frames the first message in a stream buffer (TCP; RFC 3261 18.3: the end of a message on
/// a stream is known only from Content-Length).
///
/// Every `Err` means the connection must be closed, since the next message boundary can no
/// longer be found: missing or bad Content-Length, a message above
/// [`Policy::max_message_bytes`], or bytes that cannot start a SIP message. The error carries
/// a rejection to send first when the request can be answered.
///
/// Keeps no state, so each call rescans `buf`: call it once per read, not per byte. Even a
/// peer that sends a 64 KB message one byte per segment costs under a second of CPU in all.
pub fn frame_stream(buf: &[u8], policy: &Policy) -> Result<Frame, WireError> {
    if buf.starts_with(b"\r\n\r\n") {
        return Ok(Frame::KeepAlive(4));
    }
    if buf.starts_with(b"\r\n") {
        return Ok(Frame::KeepAlive(2));
    }
    let Some(&first) = buf.first() else {
        return Ok(Frame::Incomplete);
    };
    if first == b'\r' && buf.len() == 1 {
        return Ok(Frame::Incomplete);
    }
    // Every start line begins with a token character (a method or "SIP/"); failing fast here
    // spares buffering max_message_bytes of a TLS handshake or HTTP probe before giving up.
    if !is_token(first) {
        return Err(WireError::dropped(R_STREAM_GARBAGE));
    }
    let Some(end) = find(buf, b"\r\n\r\n") else {
        if buf.len() > policy.max_message_bytes {
            let head = Head::split(buf);
            return Err(Ctx::new(&head).reject(Fail::new(513, R_TOO_LARGE)));
        }
        return Ok(Frame::Incomplete);
    };
    let head_len = end + 4;
    let head = Head::split(&buf[..head_len]);
    let ctx = Ctx::new(&head);
    let mut lengths = head.values("Content-Length");
    let Some(value) = lengths.next() else {
        return Err(ctx.reject(Fail::bad(R_CL_MISSING_STREAM)));
    };
    if lengths.next().is_some() {
        return Err(ctx.reject(Fail::bad(R_DUP_CONTENT_LENGTH)));
    }
    let Some(body_len) = parse_length(value) else {
        return Err(ctx.reject(Fail::bad(R_CL_MALFORMED)));
    };
    let total = (head_len as u64).saturating_add(body_len);
    if total > policy.max_message_bytes as u64 {
        return Err(ctx.reject(Fail::new(513, R_TOO_LARGE)));
    }
    // total <= max_message_bytes, a usize, so the conversion cannot truncate.
    let total = total as usize;
    if buf.len() >= total { Ok(Frame::Message(total)) } else { Ok(Frame::Incomplete) }
}

/// Parses and validates one message: a whole UDP datagram, or one message cut out by
/// [`frame_stream`]. Leading CRLFs are skipped and bytes after Content-Length ignored on
/// both transports.
pub fn parse(bytes: &[u8], transport: Transport, policy: &Policy) -> Result<rsip::SipMessage, WireError> {
    let msg = skip_crlf(bytes);
    let parsed = parse_parts(bytes, transport, policy)?;
    parsed.message.ok_or_else(|| Ctx::new(&Head::split(msg)).reject(Fail::bad(R_RSIP)))
}

/// As [`parse`], also returning the validated text, which is more faithful than rsip's
/// rendering of it (see [`StartLine`]).
pub fn parse_parts(bytes: &[u8], transport: Transport, policy: &Policy) -> Result<Parsed, WireError> {
    let msg = skip_crlf(bytes);
    if msg.is_empty() {
        return Err(WireError::dropped(R_EMPTY));
    }
    let head = Head::split(msg);
    let ctx = Ctx::new(&head);
    if bytes.len() > policy.max_message_bytes {
        return Err(ctx.reject(Fail::new(513, R_TOO_LARGE)));
    }
    let checked = validate(&head, transport, policy).map_err(|f| ctx.reject(f))?;
    // rsip has no known panics on this path: its 0.4.0 source has no unwrap, indexing or
    // slicing on it, and millions of mutated messages fed to it directly (typed headers
    // included) found none. It also only ever sees text we validated. So it is called
    // directly, not behind catch_unwind, which would not help under panic=abort anyway.
    let message = rsip::SipMessage::try_from(checked.text.as_slice()).ok();
    let body = checked.text.windows(4).position(|w| w == b"\r\n\r\n").map(|i| checked.text[i + 4..].to_vec()).unwrap_or_default();
    Ok(Parsed { message, start: checked.start, headers: checked.headers, body })
}

/// Serialises the answer to a rejected request (RFC 3261 8.2.6): Via, From, To, Call-ID and
/// CSeq copied from the request, a To tag added when the request had none (8.2.6.2), then the
/// rejection's own headers. Values are written as given except that control characters become
/// spaces, so a caller-built [`Rejection`] cannot inject header lines either.
pub fn rejection_response(rej: &Rejection, to_tag: &str, server: &str) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    let _ = write!(out, "SIP/2.0 {} {}\r\n", rej.status, clean(rej.reason_phrase));
    for via in &rej.echo.via {
        let _ = write!(out, "Via: {}\r\n", clean(via));
    }
    if let Some(from) = &rej.echo.from {
        let _ = write!(out, "From: {}\r\n", clean(from));
    }
    if let Some(to) = &rej.echo.to {
        if to_tag.is_empty() || has_tag_param(to.as_bytes()) {
            let _ = write!(out, "To: {}\r\n", clean(to));
        } else {
            let _ = write!(out, "To: {};tag={}\r\n", clean(to), clean(to_tag));
        }
    }
    if let Some(call_id) = &rej.echo.call_id {
        let _ = write!(out, "Call-ID: {}\r\n", clean(call_id));
    }
    if let Some(cseq) = &rej.echo.cseq {
        let _ = write!(out, "CSeq: {}\r\n", clean(cseq));
    }
    if !server.is_empty() {
        let _ = write!(out, "Server: {}\r\n", clean(server));
    }
    for (name, value) in &rej.extra_headers {
        let _ = write!(out, "{}: {}\r\n", clean(name), clean(value));
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// Body types we take, by method: what the UA can act on. Public so the UA can build the same
/// Accept header elsewhere (OPTIONS answers). Anything else gets 415 rather than being
/// silently ignored, so the peer learns why (RFC 3261 8.2.3). Multipart bodies, which some
/// trunks send (SDP plus ISUP), are not taken.
pub fn accepted_content_types(method: &str) -> &'static [&'static str] {
    match method {
        "INVITE" | "ACK" | "UPDATE" | "PRACK" => &["application/sdp"],
        "INFO" => &["application/dtmf-relay", "application/dtmf"],
        "NOTIFY" => &["message/sipfrag"],
        _ => &["application/sdp"],
    }
}

// Reasons: fixed texts, so logs never carry caller data and counters have few keys.
const R_EMPTY: &str = "empty message or CRLF keep-alive";
const R_STREAM_GARBAGE: &str = "stream data does not start with a SIP start line";
const R_TOO_LARGE: &str = "message larger than the configured maximum";
const R_START_LINE: &str = "malformed start line";
const R_METHOD_TOKEN: &str = "method is not a valid token";
const R_URI: &str = "malformed Request-URI";
const R_VERSION: &str = "malformed SIP version";
const R_VERSION_UNSUPPORTED: &str = "SIP version other than 2.0";
const R_STATUS: &str = "malformed status code";
const R_REASON: &str = "reason phrase with control characters or invalid UTF-8";
const R_NOT_TERMINATED: &str = "no empty line after the header section";
const R_CONTINUATION_FIRST: &str = "continuation line before any header";
const R_NO_COLON: &str = "header line without a colon";
const R_HEADER_NAME: &str = "header name is not a valid token";
const R_HEADER_VALUE: &str = "header value with control characters or invalid UTF-8";
const R_CSEQ: &str = "malformed CSeq";
const R_CSEQ_NUMBER: &str = "CSeq number is not a 32-bit unsigned integer";
const R_CSEQ_METHOD: &str = "CSeq method differs from the request method";
const R_CALL_ID: &str = "malformed Call-ID";
const R_FROM: &str = "malformed From";
const R_TO: &str = "malformed To";
const R_VIA: &str = "malformed Via";
const R_MAX_FORWARDS: &str = "Max-Forwards is not an integer from 0 to 255";
const R_CL_MISSING_STREAM: &str = "Content-Length missing on a stream transport: cannot frame";
const R_CL_MALFORMED: &str = "malformed Content-Length";
const R_CL_TOO_BIG: &str = "Content-Length larger than the bytes received";
const R_DUP_CONTENT_LENGTH: &str = "more than one Content-Length";
const R_CONTENT_TYPE: &str = "malformed Content-Type";
const R_BODY_NO_TYPE: &str = "body without Content-Type";
const R_REQUIRE: &str = "malformed Require";
const R_NOT_IMPLEMENTED: &str = "method not implemented";
const R_SCHEME: &str = "Request-URI scheme is not sip, sips or tel";
const R_EXTENSION: &str = "Require lists an option tag we do not support";
const R_MEDIA_TYPE: &str = "body type not accepted for this method";
const R_ENCODING: &str = "body content coding other than identity";
const R_NOT_ACCEPTABLE: &str = "Accept rules out application/sdp, the body of our answer";
const R_RSIP: &str = "rsip rejected a message the validator accepted";

/// Headers every message must carry (RFC 3261 8.1.1). Max-Forwards is left out on purpose:
/// it is a MUST for the sender, but many phones and gateways omit it, and a UA that is the
/// final destination has no use for it, so a missing one is accepted.
const MANDATORY: [(&str, &str); 5] =
    [("Via", "missing Via"), ("From", "missing From"), ("To", "missing To"), ("Call-ID", "missing Call-ID"), ("CSeq", "missing CSeq")];

/// Headers whose grammar allows one value (RFC 3261 7.3.1): a second one makes the message
/// ambiguous, which for Content-Length is a request-smuggling hazard.
const SINGLE: [(&str, &str); 7] = [
    ("From", "more than one From"),
    ("To", "more than one To"),
    ("Call-ID", "more than one Call-ID"),
    ("CSeq", "more than one CSeq"),
    ("Content-Length", R_DUP_CONTENT_LENGTH),
    ("Content-Type", "more than one Content-Type"),
    ("Max-Forwards", "more than one Max-Forwards"),
];

/// Full names with their compact forms (RFC 3261 7.3.3 and the RFCs that added more).
/// Compact names must be recognised because phones use them to fit UDP MTUs.
const NAMES: &[(&str, Option<u8>)] = &[
    ("Via", Some(b'v')),
    ("From", Some(b'f')),
    ("To", Some(b't')),
    ("Call-ID", Some(b'i')),
    ("CSeq", None),
    ("Contact", Some(b'm')),
    ("Content-Length", Some(b'l')),
    ("Content-Type", Some(b'c')),
    ("Content-Encoding", Some(b'e')),
    ("Subject", Some(b's')),
    ("Supported", Some(b'k')),
    ("Max-Forwards", None),
    ("Require", None),
    ("Event", Some(b'o')),
    ("Refer-To", Some(b'r')),
    ("Referred-By", Some(b'b')),
    ("Allow-Events", Some(b'u')),
    ("Session-Expires", Some(b'x')),
    ("Accept-Contact", Some(b'a')),
    ("Reject-Contact", Some(b'j')),
    ("Request-Disposition", Some(b'd')),
    ("Identity", Some(b'y')),
    ("Accept", None),
];

fn canonical(name: &[u8]) -> Option<&'static str> {
    NAMES.iter().find_map(|&(full, compact)| {
        let is_compact = matches!((compact, name), (Some(c), [n]) if n.eq_ignore_ascii_case(&c));
        (is_compact || name.eq_ignore_ascii_case(full.as_bytes())).then_some(full)
    })
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        406 => "Not Acceptable",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        501 => "Not Implemented",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        _ => "Error",
    }
}

/// A failed check, before we know whether it can be answered.
struct Fail {
    status: u16,
    reason: &'static str,
    extra: Vec<(String, String)>,
}

impl Fail {
    fn new(status: u16, reason: &'static str) -> Fail {
        Fail { status, reason, extra: Vec::new() }
    }

    fn bad(reason: &'static str) -> Fail {
        Fail::new(400, reason)
    }

    fn with(mut self, name: &str, value: String) -> Fail {
        self.extra.push((name.to_string(), value));
        self
    }
}

/// What the lenient scan learnt about the message: enough to answer it even when the strict
/// checks fail.
struct Ctx {
    answerable: bool,
    echo: EchoHeaders,
    method: Option<String>,
}

impl Ctx {
    fn new(head: &Head) -> Ctx {
        let echo = EchoHeaders::extract(&head.headers);
        let response_like = head.start.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"));
        let method = head.start.split(|&b| b == b' ').next().filter(|m| is_token_str(m)).map(|m| String::from_utf8_lossy(m).into_owned());
        let ack = method.as_deref() == Some("ACK");
        Ctx { answerable: !response_like && !ack && !echo.via.is_empty(), echo, method }
    }

    fn reject(&self, fail: Fail) -> WireError {
        let rejection = self.answerable.then(|| {
            Box::new(Rejection {
                status: fail.status,
                reason_phrase: reason_phrase(fail.status),
                extra_headers: fail.extra,
                echo: self.echo.clone(),
                method: self.method.clone(),
            })
        });
        WireError { reason: fail.reason.to_string(), rejection }
    }
}

impl EchoHeaders {
    fn extract(headers: &[RawHeader]) -> EchoHeaders {
        let mut echo = EchoHeaders::default();
        for h in headers {
            let slot = match h.canon {
                Some("Via") => {
                    echo.via.push(echo_text(&h.value));
                    continue;
                }
                Some("From") => &mut echo.from,
                Some("To") => &mut echo.to,
                Some("Call-ID") => &mut echo.call_id,
                Some("CSeq") => &mut echo.cseq,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(echo_text(&h.value));
            }
        }
        echo
    }
}

/// One header line after unfolding.
struct RawHeader<'a> {
    name: &'a [u8],
    canon: Option<&'static str>,
    value: Cow<'a, [u8]>,
}

/// A message cut into start line, header lines and body, without judging any of it, so the
/// same scan serves both the lenient echo and the strict checks.
struct Head<'a> {
    start: &'a [u8],
    headers: Vec<RawHeader<'a>>,
    /// The first problem with a header line; those lines are skipped, not fatal to the scan.
    line_error: Option<&'static str>,
    terminated: bool,
    body: &'a [u8],
}

impl<'a> Head<'a> {
    fn split(msg: &'a [u8]) -> Head<'a> {
        let (head, body, terminated) = match find(msg, b"\r\n\r\n") {
            Some(p) => (&msg[..p], &msg[p + 4..], true),
            None => (msg, &msg[msg.len()..], false),
        };
        let (start, rest) = match find(head, b"\r\n") {
            Some(p) => (&head[..p], &head[p + 2..]),
            None => (head, &head[head.len()..]),
        };
        let mut headers: Vec<RawHeader<'a>> = Vec::new();
        let mut line_error = None;
        // Whether a continuation line may be joined to the last header: not after a line we
        // skipped, or it would be glued onto the wrong header.
        let mut joinable = false;
        // Quote state at the end of the last header's value, kept up to date chunk by chunk
        // so that joining stays linear however many folds a header has.
        let mut quotes = Quotes::default();
        for line in CrlfLines(rest) {
            if line.is_empty() {
                // Only possible as the last line of an unterminated head.
                continue;
            }
            if is_ws(line[0]) {
                match headers.last_mut() {
                    Some(last) if joinable => {
                        let more = trim_ws(line);
                        if !more.is_empty() {
                            let value = last.value.to_mut();
                            if needs_space(value, more, quotes) {
                                value.push(b' ');
                            }
                            value.extend_from_slice(more);
                            quotes = quotes.after(more);
                        }
                    }
                    Some(_) => {}
                    None => {
                        line_error.get_or_insert(R_CONTINUATION_FIRST);
                    }
                }
                continue;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                line_error.get_or_insert(R_NO_COLON);
                joinable = false;
                continue;
            };
            // HCOLON allows whitespace before the colon (RFC 3261 25.1).
            let name = trim_ws(&line[..colon]);
            if !is_token_str(name) {
                line_error.get_or_insert(R_HEADER_NAME);
                joinable = false;
                continue;
            }
            let value = trim_ws(&line[colon + 1..]);
            headers.push(RawHeader { name, canon: canonical(name), value: Cow::Borrowed(value) });
            joinable = true;
            quotes = Quotes::default().after(value);
        }
        Head { start, headers, line_error, terminated, body }
    }

    fn values<'s>(&'s self, canon: &'static str) -> impl Iterator<Item = &'s [u8]> + 's {
        self.headers.iter().filter(move |h| h.canon == Some(canon)).map(|h| h.value.as_ref())
    }

    fn first(&self, canon: &'static str) -> Option<&[u8]> {
        self.values(canon).next()
    }
}

/// Whether joining a folded line needs the single SP that stands for the fold (RFC 3261
/// 7.3.1). Around `;` `,` `=` the whitespace is optional (SEMI, COMMA, EQUAL allow SWS), and
/// leaving it out lets rsip's typed parsers read the result: they reject `a ;branch=x`.
/// Inside a quoted string the space is kept, as it is part of the text.
fn needs_space(value: &[u8], more: &[u8], quotes: Quotes) -> bool {
    let Some(&last) = value.last() else {
        return false;
    };
    let sep = |b: u8| matches!(b, b';' | b',' | b'=');
    quotes.inside || !(sep(last) || more.first().is_some_and(|&b| sep(b)))
}

/// Where a scan stands with respect to quoted strings and their backslash escapes.
#[derive(Clone, Copy, Default)]
struct Quotes {
    inside: bool,
    escaped: bool,
}

impl Quotes {
    fn after(mut self, bytes: &[u8]) -> Quotes {
        for &b in bytes {
            if self.escaped {
                self.escaped = false;
            } else if self.inside && b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.inside = !self.inside;
            }
        }
        self
    }
}

struct CrlfLines<'a>(&'a [u8]);

impl<'a> Iterator for CrlfLines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.0.is_empty() {
            return None;
        }
        match find(self.0, b"\r\n") {
            Some(p) => {
                let line = &self.0[..p];
                self.0 = &self.0[p + 2..];
                Some(line)
            }
            None => Some(std::mem::take(&mut self.0)),
        }
    }
}

enum Start<'a> {
    Request { method: &'a [u8], uri: &'a [u8], scheme: &'a [u8] },
    Response { code: u16, reason: &'a [u8] },
}

struct Checked {
    start: StartLine,
    headers: Vec<(String, String)>,
    text: Vec<u8>,
}

/// The strict checks, in the order RFC 3261 8.2 answers them: first whether the message is
/// well-formed at all (400, or 505 for the version as soon as the start line is read), then
/// method (501), Request-URI scheme (416), extensions (420) and body (415).
fn validate(head: &Head, transport: Transport, policy: &Policy) -> Result<Checked, Fail> {
    let start = parse_start(head.start)?;
    if let Some(reason) = head.line_error {
        return Err(Fail::bad(reason));
    }
    if !head.terminated {
        return Err(Fail::bad(R_NOT_TERMINATED));
    }
    if head.headers.iter().any(|h| !text_ok(&h.value)) {
        return Err(Fail::bad(R_HEADER_VALUE));
    }
    for (name, reason) in MANDATORY {
        if head.first(name).is_none() {
            return Err(Fail::bad(reason));
        }
    }
    for (name, reason) in SINGLE {
        if head.values(name).nth(1).is_some() {
            return Err(Fail::bad(reason));
        }
    }
    let request_method = match start {
        Start::Request { method, .. } => Some(method),
        Start::Response { .. } => None,
    };
    check_cseq(head.first("CSeq").unwrap_or_default(), request_method)?;
    let call_id = head.first("Call-ID").unwrap_or_default();
    if call_id.is_empty() || call_id.iter().any(|&b| is_ws(b)) {
        return Err(Fail::bad(R_CALL_ID));
    }
    if !name_addr_ok(head.first("From").unwrap_or_default()) {
        return Err(Fail::bad(R_FROM));
    }
    if !name_addr_ok(head.first("To").unwrap_or_default()) {
        return Err(Fail::bad(R_TO));
    }
    for via in head.values("Via") {
        if !split_top_level(via, b',').iter().all(|p| via_parm_ok(p)) {
            return Err(Fail::bad(R_VIA));
        }
    }
    if let Some(mf) = head.first("Max-Forwards") {
        // 0 is fine: it only forbids forwarding, and we are the destination (RFC 3261 8.2).
        let ok = is_digits(mf) && std::str::from_utf8(mf).ok().and_then(|s| s.parse::<u8>().ok()).is_some();
        if !ok {
            return Err(Fail::bad(R_MAX_FORWARDS));
        }
    }
    let body = match head.first("Content-Length") {
        None if transport == Transport::Tcp => return Err(Fail::bad(R_CL_MISSING_STREAM)),
        // RFC 3261 18.3: on a datagram a missing Content-Length means the rest of the packet.
        None => head.body,
        Some(value) => {
            let n = parse_length(value).ok_or(Fail::bad(R_CL_MALFORMED))?;
            match usize::try_from(n) {
                // Bytes after Content-Length are discarded, not an error (RFC 3261 18.3).
                Ok(n) if n <= head.body.len() => &head.body[..n],
                _ => return Err(Fail::bad(R_CL_TOO_BIG)),
            }
        }
    };
    let content_type = match head.first("Content-Type") {
        Some(v) => Some(media_type(v).ok_or(Fail::bad(R_CONTENT_TYPE))?),
        None => None,
    };
    if !body.is_empty() && content_type.is_none() {
        // RFC 3261 20.15: a non-empty body MUST come with its type.
        return Err(Fail::bad(R_BODY_NO_TYPE));
    }

    if let Start::Request { method, scheme, .. } = start {
        // Tokens are ASCII, so this cannot fail; the fallback only avoids an unwrap.
        let method_str = std::str::from_utf8(method).unwrap_or_default();
        if !policy.methods.contains(&method_str) {
            return Err(Fail::new(501, R_NOT_IMPLEMENTED).with("Allow", policy.methods.join(", ")));
        }
        if !["sip", "sips", "tel"].iter().any(|s| scheme.eq_ignore_ascii_case(s.as_bytes())) {
            return Err(Fail::new(416, R_SCHEME));
        }
        // RFC 3261 8.2.2.3: Require is not checked on ACK and CANCEL, which cannot be refused.
        if method_str != "ACK" && method_str != "CANCEL" {
            let unknown = unsupported_tags(head, policy)?;
            if !unknown.is_empty() {
                return Err(Fail::new(420, R_EXTENSION).with("Unsupported", unknown.join(", ")));
            }
        }
        if !body.is_empty() {
            let accepted = accepted_content_types(method_str);
            let (ty, sub) = content_type.unwrap_or_default();
            let ok = accepted.iter().any(|a| match a.split_once('/') {
                Some((a_ty, a_sub)) => ty.eq_ignore_ascii_case(a_ty.as_bytes()) && sub.eq_ignore_ascii_case(a_sub.as_bytes()),
                None => false,
            });
            if !ok {
                return Err(Fail::new(415, R_MEDIA_TYPE).with("Accept", accepted.join(", ")));
            }
            let foreign_coding = head
                .values("Content-Encoding")
                .flat_map(|v| split_top_level(v, b','))
                .map(trim_ws)
                .any(|c| !c.is_empty() && !c.eq_ignore_ascii_case(b"identity"));
            if foreign_coding {
                return Err(Fail::new(415, R_ENCODING).with("Accept-Encoding", "identity".to_string()));
            }
        }
        // Our answer to an INVITE carries SDP: a caller whose Accept rules it out gets 406
        // rather than a body it said it cannot take (RFC 3261 20.1, RFC 4475 3.3.15).
        if method_str == "INVITE" && head.first("Accept").is_some() && !accepts(head, "application", "sdp") {
            return Err(Fail::new(406, R_NOT_ACCEPTABLE).with("Accept", accepted_content_types("INVITE").join(", ")));
        }
    }

    Ok(normalise(head, &start, body))
}

fn normalise(head: &Head, start: &Start, body: &[u8]) -> Checked {
    let mut text = Vec::with_capacity(head.start.len() + body.len() + 64 * head.headers.len());
    let start_line = match *start {
        Start::Request { method, uri, .. } => {
            text.extend_from_slice(method);
            text.push(b' ');
            text.extend_from_slice(uri);
            text.extend_from_slice(b" SIP/2.0\r\n");
            StartLine::Request { method: lossy(method), uri: lossy(uri) }
        }
        Start::Response { code, reason } => {
            let _ = write!(VecWriter(&mut text), "SIP/2.0 {code} ");
            text.extend_from_slice(reason);
            text.extend_from_slice(b"\r\n");
            StartLine::Response { status: code, reason: lossy(reason) }
        }
    };
    let mut headers = Vec::with_capacity(head.headers.len());
    for h in &head.headers {
        let name = h.canon.map(str::as_bytes).unwrap_or(h.name);
        let values = if h.canon == Some("Via") {
            split_top_level(&h.value, b',').into_iter().map(trim_ws).collect()
        } else {
            vec![h.value.as_ref()]
        };
        for value in values {
            text.extend_from_slice(name);
            text.extend_from_slice(b": ");
            text.extend_from_slice(value);
            text.extend_from_slice(b"\r\n");
            headers.push((lossy(name), lossy(value)));
        }
    }
    text.extend_from_slice(b"\r\n");
    text.extend_from_slice(body);
    Checked { start: start_line, headers, text }
}

struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn parse_start(line: &[u8]) -> Result<Start<'_>, Fail> {
    if line.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/")) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let sp = line.iter().position(|&b| b == b' ').ok_or(Fail::bad(R_START_LINE))?;
        check_version(&line[..sp])?;
        let rest = &line[sp + 1..];
        let digits = rest.get(..3).filter(|d| is_digits(d)).ok_or(Fail::bad(R_STATUS))?;
        let code = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        if !(100..=699).contains(&code) {
            return Err(Fail::bad(R_STATUS));
        }
        // A missing SP and empty reason ("SIP/2.0 200") is accepted: nothing is ambiguous.
        let reason = match rest.get(3) {
            None => &rest[3..],
            Some(b' ') => &rest[4..],
            Some(_) => return Err(Fail::bad(R_STATUS)),
        };
        if !text_ok(reason) {
            return Err(Fail::bad(R_REASON));
        }
        return Ok(Start::Response { code, reason });
    }
    // Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP between parts.
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (Some(method), Some(uri), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Fail::bad(R_START_LINE));
    };
    if !is_token_str(method) {
        return Err(Fail::bad(R_METHOD_TOKEN));
    }
    // URIs are ASCII; anything else must be %-escaped (RFC 3986 2.1).
    if uri.is_empty() || !uri.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(Fail::bad(R_URI));
    }
    check_version(version)?;
    let scheme = uri_scheme(uri).ok_or(Fail::bad(R_URI))?;
    Ok(Start::Request { method, uri, scheme })
}

/// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, with "SIP" case-insensitive (RFC 3261 7.1).
fn check_version(v: &[u8]) -> Result<(), Fail> {
    let nums = v.get(..4).filter(|p| p.eq_ignore_ascii_case(b"SIP/")).map(|_| &v[4..]).ok_or(Fail::bad(R_VERSION))?;
    let (major, minor) = match nums.iter().position(|&b| b == b'.') {
        Some(dot) => (&nums[..dot], &nums[dot + 1..]),
        None => return Err(Fail::bad(R_VERSION)),
    };
    if !is_digits(major) || !is_digits(minor) {
        return Err(Fail::bad(R_VERSION));
    }
    if major != b"2" || minor != b"0" {
        return Err(Fail::new(505, R_VERSION_UNSUPPORTED));
    }
    Ok(())
}

/// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), followed by ":".
fn uri_scheme(uri: &[u8]) -> Option<&[u8]> {
    let colon = uri.iter().position(|&b| b == b':')?;
    let scheme = &uri[..colon];
    let first_alpha = scheme.first().is_some_and(u8::is_ascii_alphabetic);
    let rest_ok = scheme.iter().all(|&b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    (first_alpha && rest_ok).then_some(scheme)
}

/// CSeq = 1*DIGIT LWS Method (RFC 3261 20.16); the method must be the request's (8.1.1.5).
/// ACK and CANCEL are no exception: they carry the INVITE's number but their own method
/// (9.1, 17.1.1.3).
fn check_cseq(value: &[u8], request_method: Option<&[u8]>) -> Result<(), Fail> {
    let ws = value.iter().position(|&b| is_ws(b)).ok_or(Fail::bad(R_CSEQ))?;
    let (number, method) = (&value[..ws], trim_ws(&value[ws..]));
    if !is_digits(number) {
        return Err(Fail::bad(R_CSEQ));
    }
    if std::str::from_utf8(number).ok().and_then(|s| s.parse::<u32>().ok()).is_none() {
        return Err(Fail::bad(R_CSEQ_NUMBER));
    }
    if !is_token_str(method) {
        return Err(Fail::bad(R_CSEQ));
    }
    match request_method {
        Some(m) if m != method => Err(Fail::bad(R_CSEQ_METHOD)),
        _ => Ok(()),
    }
}

/// Unknown option tags of all Require headers, each once, in order of appearance.
fn unsupported_tags(head: &Head, policy: &Policy) -> Result<Vec<String>, Fail> {
    let mut unknown: Vec<String> = Vec::new();
    for value in head.values("Require") {
        for tag in value.split(|&b| b == b',').map(trim_ws).filter(|t| !t.is_empty()) {
            if !is_token_str(tag) {
                return Err(Fail::bad(R_REQUIRE));
            }
            let known = policy.supported_options.iter().any(|s| tag.eq_ignore_ascii_case(s.as_bytes()));
            let listed = unknown.iter().any(|u| tag.eq_ignore_ascii_case(u.as_bytes()));
            if !known && !listed {
                unknown.push(lossy(tag));
            }
        }
    }
    Ok(unknown)
}

/// Whether the Accept headers take `ty`/`sub`: a range naming it, `ty/*` or `*/*`. An empty
/// Accept takes nothing (RFC 3261 20.1).
fn accepts(head: &Head, ty: &str, sub: &str) -> bool {
    head.values("Accept").flat_map(|v| split_top_level(v, b',')).any(|range| {
        let media = trim_ws(range.split(|&b| b == b';').next().unwrap_or_default());
        let Some(slash) = media.iter().position(|&b| b == b'/') else { return false };
        let (t, s) = (trim_ws(&media[..slash]), trim_ws(&media[slash + 1..]));
        (t == b"*" || t.eq_ignore_ascii_case(ty.as_bytes())) && (s == b"*" || s.eq_ignore_ascii_case(sub.as_bytes()))
    })
}

/// The media type of a Content-Type value, parameters ignored: type "/" subtype, with
/// whitespace allowed around the slash (SLASH = SWS "/" SWS).
fn media_type(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let media = value.split(|&b| b == b';').next().unwrap_or_default();
    let slash = media.iter().position(|&b| b == b'/')?;
    let (ty, sub) = (trim_ws(&media[..slash]), trim_ws(&media[slash + 1..]));
    (is_token_str(ty) && is_token_str(sub)).then_some((ty, sub))
}

/// via-parm = sent-protocol LWS sent-by *( SEMI via-params ), where
/// sent-protocol = protocol-name SLASH protocol-version SLASH transport. Structure only:
/// enough to be sure the value is a Via and its sent-by is there.
fn via_parm_ok(parm: &[u8]) -> bool {
    let p = trim_ws(parm);
    let mut i = 0;
    for part in 0..3 {
        let start = i;
        while p.get(i).is_some_and(|&b| is_token(b)) {
            i += 1;
        }
        if i == start {
            return false;
        }
        while p.get(i).is_some_and(|&b| is_ws(b)) {
            i += 1;
        }
        if part < 2 {
            if p.get(i) != Some(&b'/') {
                return false;
            }
            i += 1;
            while p.get(i).is_some_and(|&b| is_ws(b)) {
                i += 1;
            }
        }
    }
    // At least one whitespace must have separated the transport from sent-by.
    let sent_by = &p[i..];
    i > 0 && p.get(i - 1).is_some_and(|&b| is_ws(b)) && sent_by.first().is_some_and(|&b| b != b';' && b != b',')
}

/// Structure of From/To (name-addr or addr-spec, RFC 3261 20.20): quotes closed, angle
/// brackets closed, a URI scheme present, and without angle brackets no display name. Not a
/// full URI parse: rsip and the UA look at the URI itself.
fn name_addr_ok(value: &[u8]) -> bool {
    let v = trim_ws(value);
    let mut i = 0;
    let mut in_quotes = false;
    while i < v.len() {
        let b = v[i];
        if in_quotes {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == b'"' {
                in_quotes = false;
            }
        } else if b == b'"' {
            in_quotes = true;
        } else if b == b'<' {
            let rest = &v[i + 1..];
            let Some(close) = rest.iter().position(|&c| c == b'>') else {
                return false;
            };
            let uri = &rest[..close];
            let after = trim_ws(&rest[close + 1..]);
            return uri_scheme(uri).is_some()
                && !uri.iter().any(|&c| is_ws(c) || c == b'<' || c == b'"')
                && (after.is_empty() || after[0] == b';');
        }
        i += 1;
    }
    if in_quotes {
        return false;
    }
    // addr-spec: every ';' starts a header parameter, so the URI ends at the first one.
    let uri = trim_ws(v.split(|&b| b == b';').next().unwrap_or_default());
    uri_scheme(uri).is_some() && !uri.iter().any(|&c| is_ws(c) || c == b'"' || c == b'>')
}

/// Whether a To value already carries a tag parameter (a header parameter: after the
/// name-addr's '>' or, without brackets, after the URI).
fn has_tag_param(value: &[u8]) -> bool {
    let mut in_quotes = false;
    let mut in_angle = false;
    let mut i = 0;
    while i < value.len() {
        let b = value[i];
        if in_quotes {
            if b == b'\\' {
                i += 1;
            } else if b == b'"' {
                in_quotes = false;
            }
        } else if in_angle {
            in_angle = b != b'>';
        } else {
            match b {
                b'"' => in_quotes = true,
                b'<' => in_angle = true,
                b';' => {
                    let rest = trim_start_ws(&value[i + 1..]);
                    let len = rest.iter().take_while(|&&c| is_token(c)).count();
                    if rest[..len].eq_ignore_ascii_case(b"tag") {
                        return true;
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    false
}

/// Splits at `sep` outside quoted strings and angle brackets, where commas and semicolons
/// are data.
fn split_top_level(value: &[u8], sep: u8) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut in_angle = false;
    let mut start = 0;
    let mut i = 0;
    while i < value.len() {
        let b = value[i];
        if in_quotes {
            if b == b'\\' {
                i += 1;
            } else if b == b'"' {
                in_quotes = false;
            }
        } else if in_angle {
            in_angle = b != b'>';
        } else if b == b'"' {
            in_quotes = true;
        } else if b == b'<' {
            in_angle = true;
        } else if b == sep {
            parts.push(&value[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    parts.push(&value[start.min(value.len())..]);
    parts
}

/// 1*DIGIT as a number, saturating: a huge length is "too large", not "malformed".
fn parse_length(value: &[u8]) -> Option<u64> {
    is_digits(value).then(|| value.iter().fold(0u64, |n, d| n.saturating_mul(10).saturating_add(u64::from(d - b'0'))))
}

fn skip_crlf(mut b: &[u8]) -> &[u8] {
    while let Some(rest) = b.strip_prefix(b"\r\n") {
        b = rest;
    }
    b
}

/// Scans for the needle's first byte and compares the rest only there: the needles are CRLF
/// sequences, and CR is rare in SIP text, so this runs close to a byte scan.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    let mut from = 0;
    while let Some(p) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + p;
        if hay.get(at + 1..at + needle.len()) == Some(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

fn is_token_str(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token(b))
}

fn is_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

fn trim_start_ws(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_ws(b)).unwrap_or(s.len());
    &s[start..]
}

fn trim_ws(s: &[u8]) -> &[u8] {
    let s = trim_start_ws(s);
    let end = s.iter().rposition(|&b| !is_ws(b)).map_or(0, |p| p + 1);
    &s[..end]
}

/// Header text as rsip needs it (valid UTF-8) and as RFC 3261 allows it (no control
/// characters but HTAB).
fn text_ok(v: &[u8]) -> bool {
    if std::str::from_utf8(v).is_err() {
        return false;
    }
    // A control character may only appear escaped in a quoted string: quoted-pair allows
    // any octet but CR and LF after the backslash (RFC 3261 25.1; RFC 4475 3.1.1.2).
    let mut quotes = Quotes::default();
    v.iter().all(|&b| {
        let escaped = quotes.escaped;
        quotes = quotes.after(&[b]);
        escaped && b != b'\r' && b != b'\n' || !((b < 0x20 && b != b'\t') || b == 0x7f)
    })
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn echo_text(b: &[u8]) -> String {
    clean(&String::from_utf8_lossy(b)).into_owned()
}

fn clean(s: &str) -> Cow<'_, str> {
    if s.chars().any(|c| c.is_control() && c != '\t') {
        Cow::Owned(s.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }).collect())
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rsip::prelude::*;

    const METHODS: &[&str] = &["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "REFER", "NOTIFY", "UPDATE", "PRACK"];

    /// The policy the corpus is judged by. Small max_message_bytes keeps the 513 case small.
    const POLICY: Policy<'static> = Policy { methods: METHODS, supported_options: &["timer"], max_message_bytes: 4096 };

    /// A message under construction: tests edit one thing of a valid message.
    struct M {
        start: String,
        headers: Vec<String>,
        body: Vec<u8>,
    }

    impl M {
        fn req(method: &str) -> M {
            M {
                start: format!("{method} sip:frontdesk@127.0.0.1:5060 SIP/2.0"),
                headers: vec![
                    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport".into(),
                    "Max-Forwards: 70".into(),
                    "From: \"Alice\" <sip:alice@127.0.0.1:5070>;tag=a1".into(),
                    "To: <sip:frontdesk@127.0.0.1:5060>".into(),
                    "Call-ID: call-1@127.0.0.1".into(),
                    format!("CSeq: 1 {method}"),
                    "Contact: <sip:alice@127.0.0.1:5070>".into(),
                    "Content-Length: 0".into(),
                ],
                body: Vec::new(),
            }
        }

        fn resp(status: &str, method: &str) -> M {
            let mut m = M::req(method);
            m.start = format!("SIP/2.0 {status}");
            m.set("To", "<sip:frontdesk@127.0.0.1:5060>;tag=b2");
            m.remove("Max-Forwards");
            m
        }

        fn start(mut self, s: &str) -> M {
            self.start = s.into();
            self
        }

        fn pos(&self, name: &str) -> Option<usize> {
            self.headers.iter().position(|h| h.split_once(':').is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name)))
        }

        fn set(&mut self, name: &str, value: &str) -> &mut M {
            let line = format!("{name}: {value}");
            match self.pos(name) {
                Some(i) => self.headers[i] = line,
                None => self.headers.push(line),
            }
            self
        }

        fn remove(&mut self, name: &str) -> &mut M {
            while let Some(i) = self.pos(name) {
                self.headers.remove(i);
            }
            self
        }

        fn add(&mut self, line: &str) -> &mut M {
            self.headers.push(line.into());
            self
        }

        fn body(&mut self, content_type: &str, body: &str) -> &mut M {
            self.set("Content-Type", content_type);
            self.set("Content-Length", &body.len().to_string());
            self.body = body.as_bytes().to_vec();
            self
        }

        fn bytes(&self) -> Vec<u8> {
            let mut out = format!("{}\r\n", self.start).into_bytes();
            for h in &self.headers {
                out.extend_from_slice(h.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&self.body);
            out
        }
    }

    const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

    fn udp(bytes: &[u8]) -> Result<rsip::SipMessage, WireError> {
        parse(bytes, Transport::Udp, &POLICY)
    }

    fn status(bytes: &[u8]) -> Option<u16> {
        match udp(bytes) {
            Ok(_) => Some(200),
            Err(e) => e.status(),
        }
    }

    #[track_caller]
    fn assert_status(m: &M, want: u16) {
        let got = udp(&m.bytes());
        match (&got, want) {
            (Ok(_), 200) => {}
            (Err(e), _) if e.status() == Some(want) => {}
            _ => panic!("want {want}, got {got:?}\n{}", String::from_utf8_lossy(&m.bytes())),
        }
    }

    #[track_caller]
    fn assert_dropped(bytes: &[u8]) {
        match udp(bytes) {
            Err(e) if e.rejection.is_none() => {}
            other => panic!("want drop, got {other:?}"),
        }
    }

    fn extra<'a>(e: &'a WireError, name: &str) -> Option<&'a str> {
        e.rejection.as_ref()?.extra_headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    // ---- start line ----

    #[test]
    fn valid_request_and_response_parse() {
        let mut m = M::req("INVITE");
        m.body("application/sdp", SDP);
        let msg = udp(&m.bytes()).unwrap();
        assert!(msg.is_request());
        assert_eq!(msg.body(), SDP.as_bytes());
        let msg = udp(&M::resp("200 OK", "INVITE").bytes()).unwrap();
        assert!(msg.is_response());
    }

    #[test]
    fn version_other_than_2_0_is_505() {
        assert_status(&M::req("OPTIONS").start("OPTIONS sip:frontdesk@127.0.0.1 SIP/3.0"), 505);
        assert_status(&M::req("OPTIONS").start("OPTIONS sip:frontdesk@127.0.0.1 SIP/1.0"), 505);
        // rsip would take SIP/2.5 as 2.0.
        assert_status(&M::req("OPTIONS").start("OPTIONS sip:frontdesk@127.0.0.1 SIP/2.5"), 505);
    }

    #[test]
    fn version_is_case_insensitive_and_normalised() {
        // RFC 3261 7.1; rsip rejects this unless we rewrite it.
        let p = parse_parts(&M::req("OPTIONS").start("OPTIONS sip:frontdesk@127.0.0.1 sip/2.0").bytes(), Transport::Udp, &POLICY).unwrap();
        assert_eq!(p.message.as_ref().unwrap().version(), &rsip::Version::V2);
    }

    #[test]
    fn malformed_version_is_400() {
        assert_status(&M::req("OPTIONS").start("OPTIONS sip:frontdesk@127.0.0.1 HTTP/1.1"), 400);
        assert_status(&M::req("OPTIONS").start("OPTIONS sip:frontdesk@127.0.0.1 SIP/2"), 400);
    }

    #[test]
    fn unknown_method_is_501_with_allow() {
        let mut m = M::req("FOO");
        m.set("CSeq", "1 FOO");
        let e = udp(&m.bytes()).unwrap_err();
        assert_eq!(e.status(), Some(501));
        assert_eq!(extra(&e, "Allow"), Some(METHODS.join(", ").as_str()));
        assert_eq!(e.rejection.unwrap().method.as_deref(), Some("FOO"));
        // Known to SIP but not in the policy.
        assert_status(&M::req("REGISTER"), 501);
    }

    #[test]
    fn methods_are_case_sensitive() {
        // rsip parses "invite" as INVITE; RFC 3261 7.1 says methods are case-sensitive.
        assert_status(&M::req("invite"), 501);
    }

    #[test]
    fn invalid_method_token_is_400() {
        let mut m = M::req("INVITE");
        m.start = "INV@TE sip:frontdesk@127.0.0.1 SIP/2.0".into();
        assert_status(&m, 400);
    }

    #[test]
    fn unsupported_uri_scheme_is_416() {
        assert_status(&M::req("OPTIONS").start("OPTIONS http://127.0.0.1/ SIP/2.0"), 416);
        assert_status(&M::req("OPTIONS").start("OPTIONS mailto:frontdesk@127.0.0.1 SIP/2.0"), 416);
        // Schemes compare case-insensitively.
        assert_status(&M::req("OPTIONS").start("OPTIONS SIP:frontdesk@127.0.0.1 SIP/2.0"), 200);
        // tel passes our check; rsip 0.4 then misreads it (host "tel", port 1555) but accepts.
        assert_status(&M::req("OPTIONS").start("OPTIONS tel:+1555 SIP/2.0"), 200);
    }

    #[test]
    fn tel_uri_rsip_cannot_parse_is_400_with_reason() {
        let e = udp(&M::req("OPTIONS").start("OPTIONS tel:+15551234567 SIP/2.0").bytes()).unwrap_err();
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.reason, R_RSIP);
    }

    #[test]
    fn malformed_request_uri_is_400() {
        assert_status(&M::req("OPTIONS").start("OPTIONS <sip:frontdesk@127.0.0.1> SIP/2.0"), 400);
        assert_status(&M::req("OPTIONS").start("OPTIONS  sip:frontdesk@127.0.0.1 SIP/2.0"), 400);
        assert_status(&M::req("OPTIONS").start("OPTIONS sip:frontdesk@127.0.0.1  SIP/2.0"), 400);
        assert_status(&M::req("OPTIONS").start("OPTIONS 127.0.0.1 SIP/2.0"), 400);
        assert_status(&M::req("OPTIONS").start("OPTIONS sip:fr\u{e9}@127.0.0.1 SIP/2.0"), 400);
    }

    #[test]
    fn garbage_start_line_is_400_when_answerable_else_dropped() {
        let m = M::req("OPTIONS").start("\u{1}\u{2} hello");
        let e = udp(&m.bytes()).unwrap_err();
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.rejection.unwrap().method, None);
        let mut m = m;
        m.remove("Via");
        assert_dropped(&m.bytes());
        assert_dropped(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    }

    #[test]
    fn status_line_is_checked() {
        assert_dropped(&M::resp("+12 OK", "INVITE").bytes());
        assert_dropped(&M::resp("2000 OK", "INVITE").bytes());
        assert_dropped(&M::resp("099 Low", "INVITE").bytes());
        assert_dropped(&M::resp("200 OK", "INVITE").start("SIP/3.0 200 OK").bytes());
        assert!(udp(&M::resp("200", "INVITE").start("SIP/2.0 200").bytes()).is_ok());
    }

    #[test]
    fn reason_phrase_is_kept_verbatim() {
        let p = parse_parts(&M::resp("486 Busy Here", "INVITE").bytes(), Transport::Udp, &POLICY).unwrap();
        assert_eq!(p.start, StartLine::Response { status: 486, reason: "Busy Here".into() });
    }

    // ---- header parsing ----

    #[test]
    fn folded_lines_are_joined() {
        let mut m = M::req("OPTIONS");
        m.set("Via", "SIP/2.0/UDP 127.0.0.1:5070\r\n  ;branch=z9hG4bK-1\r\n\t;rport");
        m.set("Subject", "a\r\n b");
        let p = parse_parts(&m.bytes(), Transport::Udp, &POLICY).unwrap();
        let via = p.message.as_ref().unwrap().via_header().unwrap().typed().unwrap();
        assert_eq!(via.branch().map(|b| b.to_string()).as_deref(), Some("z9hG4bK-1"));
        assert!(p.headers.contains(&("Subject".into(), "a b".into())));
    }

    #[test]
    fn folds_keep_their_space_inside_quotes_only() {
        let mut m = M::req("OPTIONS");
        m.set("From", "\"Alice\r\n  Smith\" <sip:alice@127.0.0.1>\r\n ;tag=f1");
        m.set("Supported", "timer,\r\n 100rel");
        let p = parse_parts(&m.bytes(), Transport::Udp, &POLICY).unwrap();
        assert!(p.headers.contains(&("From".into(), "\"Alice Smith\" <sip:alice@127.0.0.1>;tag=f1".into())));
        assert!(p.headers.contains(&("Supported".into(), "timer,100rel".into())));
    }

    #[test]
    fn pathological_sizes_stay_linear() {
        // Quadratic work here would take minutes in a debug build, not milliseconds.
        let policy = Policy { max_message_bytes: 65_535, ..POLICY };
        let mut folds = M::req("OPTIONS");
        folds.set("Subject", &"a\r\n \"b".repeat(10_000));
        let mut lines = M::req("OPTIONS");
        lines.headers.extend(std::iter::repeat_n("X:".to_string(), 15_000));
        let mut vias = M::req("OPTIONS");
        vias.set("Via", &vec!["SIP/2.0/UDP h"; 4_000].join(","));
        for m in [folds, lines, vias] {
            let bytes = m.bytes();
            assert!(bytes.len() > 50_000 && bytes.len() <= 65_535);
            assert!(parse(&bytes, Transport::Udp, &policy).is_ok());
        }
        let crs = [b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nX: ".as_slice(), &[b'\r'; 60_000]].concat();
        assert!(parse(&crs, Transport::Udp, &policy).is_err());
        assert_eq!(frame_stream(&crs, &policy), Ok(Frame::Incomplete));
    }

    #[test]
    fn continuation_before_any_header_is_400() {
        let mut m = M::req("OPTIONS");
        m.headers.insert(0, " oops".into());
        assert_status(&m, 400);
    }

    #[test]
    fn compact_forms_are_recognised() {
        let m = M {
            start: "OPTIONS sip:frontdesk@127.0.0.1 SIP/2.0".into(),
            headers: vec![
                "v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-c".into(),
                "f: <sip:alice@127.0.0.1>;tag=1".into(),
                "t: <sip:frontdesk@127.0.0.1>".into(),
                "i: compact@127.0.0.1".into(),
                "CSeq: 7 OPTIONS".into(),
                "m: <sip:alice@127.0.0.1>".into(),
                "k: timer".into(),
                "l: 0".into(),
            ],
            body: vec![],
        };
        let msg = udp(&m.bytes()).unwrap();
        assert_eq!(msg.call_id_header().unwrap().value(), "compact@127.0.0.1");
        assert!(msg.via_header().is_ok());
        assert!(msg.from_header().is_ok() && msg.to_header().is_ok());
        // Compact duplicates of full names count as duplicates.
        let mut dup = m;
        dup.add("Call-ID: other@127.0.0.1");
        assert_status(&dup, 400);
    }

    #[test]
    fn compact_forms_are_used_by_the_lenient_extractor() {
        let raw = b"BROKEN\r\nv: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-x\r\nf: <sip:a@127.0.0.1>;tag=1\r\nt: <sip:b@127.0.0.1>\r\ni: id@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n\r\n";
        let rej = udp(raw).unwrap_err().rejection.unwrap();
        assert_eq!(rej.echo.via, vec!["SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-x".to_string()]);
        assert_eq!(rej.echo.from.as_deref(), Some("<sip:a@127.0.0.1>;tag=1"));
        assert_eq!(rej.echo.call_id.as_deref(), Some("id@127.0.0.1"));
    }

    #[test]
    fn header_names_are_case_insensitive_and_may_have_space_before_colon() {
        let mut m = M::req("OPTIONS");
        for h in &mut m.headers {
            let (n, v) = h.split_once(':').unwrap();
            *h = format!("{} :{}", n.to_ascii_lowercase(), v);
        }
        let msg = udp(&m.bytes()).unwrap();
        assert!(msg.cseq_header().is_ok());
    }

    #[test]
    fn bad_header_lines_are_400() {
        let mut m = M::req("OPTIONS");
        m.add("NoColonHere");
        assert_status(&m, 400);
        let mut m = M::req("OPTIONS");
        m.add("Bad Name: x");
        assert_status(&m, 400);
        let mut m = M::req("OPTIONS");
        m.add("X-Ctl: a\u{7}b");
        assert_status(&m, 400);
        let mut bytes = M::req("OPTIONS").bytes();
        let at = find(&bytes, b"Alice").unwrap();
        bytes[at] = 0xff;
        assert_eq!(status(&bytes), Some(400));
    }

    #[test]
    fn missing_empty_line_is_400() {
        let mut bytes = M::req("OPTIONS").bytes();
        bytes.truncate(bytes.len() - 2);
        assert_eq!(status(&bytes), Some(400));
    }

    #[test]
    fn via_lines_with_several_values_are_split_for_rsip() {
        let mut m = M::req("OPTIONS");
        m.set("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-a, SIP / 2.0 / TCP 127.0.0.1:5080;branch=z9hG4bK-b");
        let p = parse_parts(&m.bytes(), Transport::Udp, &POLICY).unwrap();
        let vias: Vec<_> = p.headers.iter().filter(|(n, _)| n == "Via").map(|(_, v)| v.as_str()).collect();
        assert_eq!(vias, ["SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-a", "SIP / 2.0 / TCP 127.0.0.1:5080;branch=z9hG4bK-b"]);
        let rsip_vias = p.message.as_ref().unwrap().headers().iter().filter(|h| matches!(h, rsip::Header::Via(_))).count();
        assert_eq!(rsip_vias, 2);
    }

    #[test]
    fn malformed_via_is_400() {
        for via in ["SIP/2.0/UDP", "SIP/2.0 127.0.0.1", "127.0.0.1:5070", "SIP/2.0/UDP ;branch=x", "SIP/2.0/UDP 127.0.0.1,"] {
            let mut m = M::req("OPTIONS");
            m.set("Via", via);
            assert_status(&m, 400);
        }
    }

    // ---- mandatory and single-valued headers ----

    #[test]
    fn missing_mandatory_header_is_400() {
        for name in ["From", "To", "Call-ID", "CSeq"] {
            let mut m = M::req("OPTIONS");
            m.remove(name);
            let e = udp(&m.bytes()).unwrap_err();
            assert_eq!(e.status(), Some(400), "{name}");
        }
    }

    #[test]
    fn missing_via_cannot_be_answered() {
        let mut m = M::req("OPTIONS");
        m.remove("Via");
        assert_dropped(&m.bytes());
    }

    #[test]
    fn missing_max_forwards_is_accepted() {
        let mut m = M::req("OPTIONS");
        m.remove("Max-Forwards");
        assert_status(&m, 200);
    }

    #[test]
    fn duplicate_single_valued_header_is_400() {
        for (name, value) in [
            ("From", "<sip:bob@127.0.0.1>;tag=x"),
            ("To", "<sip:bob@127.0.0.1>"),
            ("Call-ID", "other@127.0.0.1"),
            ("CSeq", "2 OPTIONS"),
            ("Content-Length", "0"),
            ("Content-Type", "application/sdp"),
            ("Max-Forwards", "70"),
        ] {
            let mut m = M::req("OPTIONS");
            m.add(&format!("{name}: {value}"));
            if name == "Content-Type" {
                m.add("Content-Type: application/sdp");
            }
            let e = udp(&m.bytes()).unwrap_err();
            assert_eq!(e.status(), Some(400), "{name}");
        }
    }

    #[test]
    fn malformed_from_to_call_id_are_400() {
        for (name, value) in [
            ("From", "\"Alice <sip:alice@127.0.0.1>;tag=1"),
            ("From", "<sip:alice@127.0.0.1;tag=1"),
            ("From", "Alice sip:alice@127.0.0.1"),
            ("To", "frontdesk"),
            ("To", ""),
            ("Call-ID", "two words"),
            ("Call-ID", ""),
        ] {
            let mut m = M::req("OPTIONS");
            m.set(name, value);
            assert_status(&m, 400);
        }
        let mut m = M::req("OPTIONS");
        m.set("From", "sip:alice@127.0.0.1 ; tag=1");
        assert_status(&m, 200);
    }

    // ---- CSeq ----

    #[test]
    fn cseq_must_be_number_and_request_method() {
        for cseq in ["x OPTIONS", "1", "OPTIONS", "1 INVITE", "4294967296 OPTIONS", "-1 OPTIONS", "1 OPTIONS extra", "1 options"] {
            let mut m = M::req("OPTIONS");
            m.set("CSeq", cseq);
            assert_status(&m, 400);
        }
        let mut m = M::req("OPTIONS");
        m.set("CSeq", "4294967295   OPTIONS");
        assert_status(&m, 200);
    }

    #[test]
    fn ack_and_cancel_cseq_must_match_too() {
        let mut m = M::req("CANCEL");
        m.set("CSeq", "1 INVITE");
        assert_status(&m, 400);
        let mut m = M::req("ACK");
        m.set("CSeq", "1 INVITE");
        // ACK is never answered.
        assert_dropped(&m.bytes());
    }

    // ---- Content-Length ----

    #[test]
    fn missing_content_length_on_udp_means_rest_of_datagram() {
        let mut m = M::req("INVITE");
        m.body("application/sdp", SDP);
        m.remove("Content-Length");
        assert_eq!(udp(&m.bytes()).unwrap().body(), SDP.as_bytes());
    }

    #[test]
    fn missing_content_length_on_tcp_is_400() {
        let mut m = M::req("OPTIONS");
        m.remove("Content-Length");
        let e = parse(&m.bytes(), Transport::Tcp, &POLICY).unwrap_err();
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.reason, R_CL_MISSING_STREAM);
    }

    #[test]
    fn bad_content_length_is_400() {
        for cl in ["-1", "abc", "0, 0", "1 0", "", "99999999999999999999999"] {
            let mut m = M::req("OPTIONS");
            m.set("Content-Length", cl);
            assert_status(&m, 400);
        }
        let mut m = M::req("INVITE");
        m.body("application/sdp", SDP);
        m.set("Content-Length", &(SDP.len() + 1).to_string());
        assert_status(&m, 400);
    }

    #[test]
    fn bytes_beyond_content_length_are_discarded_on_udp() {
        let mut m = M::req("INVITE");
        m.body("application/sdp", SDP);
        let mut bytes = m.bytes();
        bytes.extend_from_slice(b"trailing junk\r\n\r\n");
        assert_eq!(udp(&bytes).unwrap().body(), SDP.as_bytes());
    }

    // ---- Max-Forwards ----

    #[test]
    fn max_forwards_must_be_0_to_255() {
        for mf in ["256", "abc", "-1", "7 0", "", "99999999999"] {
            let mut m = M::req("OPTIONS");
            m.set("Max-Forwards", mf);
            assert_status(&m, 400);
        }
        for mf in ["0", "255", "070"] {
            let mut m = M::req("INVITE");
            m.set("Max-Forwards", mf);
            assert_status(&m, 200);
        }
    }

    // ---- Require ----

    #[test]
    fn unknown_require_is_420_with_unsupported() {
        let mut m = M::req("INVITE");
        m.add("Require: timer, 100rel, foo");
        m.add("Require: FOO, bar");
        let e = udp(&m.bytes()).unwrap_err();
        assert_eq!(e.status(), Some(420));
        assert_eq!(extra(&e, "Unsupported"), Some("100rel, foo, bar"));
    }

    #[test]
    fn supported_require_passes_case_insensitively() {
        let mut m = M::req("INVITE");
        m.add("Require: Timer");
        assert_status(&m, 200);
    }

    #[test]
    fn require_is_ignored_on_ack_and_cancel() {
        for method in ["ACK", "CANCEL"] {
            let mut m = M::req(method);
            m.add("Require: foo");
            assert!(udp(&m.bytes()).is_ok(), "{method}");
        }
    }

    #[test]
    fn malformed_require_is_400() {
        let mut m = M::req("INVITE");
        m.add("Require: a b");
        assert_status(&m, 400);
    }

    // ---- Content-Type ----

    #[test]
    fn unaccepted_body_type_is_415_with_accept() {
        let mut m = M::req("INVITE");
        m.body("text/plain", "hello");
        let e = udp(&m.bytes()).unwrap_err();
        assert_eq!(e.status(), Some(415));
        assert_eq!(extra(&e, "Accept"), Some("application/sdp"));
        let mut m = M::req("INFO");
        m.body("application/sdp", SDP);
        let e = udp(&m.bytes()).unwrap_err();
        assert_eq!(extra(&e, "Accept"), Some("application/dtmf-relay, application/dtmf"));
    }

    #[test]
    fn accepted_body_types_pass() {
        for (method, ty, body) in [
            ("INVITE", "Application/SDP", SDP),
            ("INVITE", "application / sdp ; charset=utf-8", SDP),
            ("INFO", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"),
            ("INFO", "application/dtmf", "5"),
            ("NOTIFY", "message/sipfrag;version=2.0", "SIP/2.0 200 OK\r\n"),
            ("OPTIONS", "application/sdp", SDP),
        ] {
            let mut m = M::req(method);
            m.body(ty, body);
            assert!(udp(&m.bytes()).is_ok(), "{method} {ty}");
        }
    }

    #[test]
    fn body_without_content_type_is_400() {
        let mut m = M::req("INVITE");
        m.body("application/sdp", SDP);
        m.remove("Content-Type");
        let e = udp(&m.bytes()).unwrap_err();
        assert_eq!((e.status(), e.reason.as_str()), (Some(400), R_BODY_NO_TYPE));
    }

    #[test]
    fn content_type_without_body_is_fine_but_must_be_well_formed() {
        let mut m = M::req("OPTIONS");
        m.set("Content-Type", "text/plain");
        assert_status(&m, 200);
        m.set("Content-Type", "sdp");
        assert_status(&m, 400);
    }

    #[test]
    fn content_encoding_other_than_identity_is_415() {
        let mut m = M::req("INVITE");
        m.body("application/sdp", SDP);
        m.add("e: gzip");
        let e = udp(&m.bytes()).unwrap_err();
        assert_eq!(e.status(), Some(415));
        assert_eq!(extra(&e, "Accept-Encoding"), Some("identity"));
        m.remove("e").set("Content-Encoding", "identity");
        assert_status(&m, 200);
    }

    // ---- size ----

    #[test]
    fn oversized_request_is_513_and_oversized_response_dropped() {
        let mut m = M::req("OPTIONS");
        m.add(&format!("X-Pad: {}", "a".repeat(POLICY.max_message_bytes)));
        assert_status(&m, 513);
        let mut r = M::resp("200 OK", "OPTIONS");
        r.add(&format!("X-Pad: {}", "a".repeat(POLICY.max_message_bytes)));
        assert_dropped(&r.bytes());
    }

    // ---- responses, ACK, keep-alives ----

    #[test]
    fn broken_responses_are_never_answered() {
        let mut r = M::resp("200 OK", "INVITE");
        r.remove("Call-ID");
        let e = udp(&r.bytes()).unwrap_err();
        assert_eq!((e.rejection, e.reason.as_str()), (None, "missing Call-ID"));
        let mut r = M::resp("200 OK", "INVITE");
        r.set("CSeq", "x INVITE");
        assert_dropped(&r.bytes());
    }

    #[test]
    fn broken_ack_is_never_answered() {
        let mut m = M::req("ACK");
        m.remove("Call-ID");
        assert_dropped(&m.bytes());
    }

    #[test]
    fn crlf_keepalive_datagram_is_dropped_and_leading_crlf_skipped() {
        assert_dropped(b"\r\n\r\n");
        assert_dropped(b"");
        let mut bytes = b"\r\n\r\n".to_vec();
        bytes.extend(M::req("OPTIONS").bytes());
        assert!(udp(&bytes).is_ok());
    }

    #[test]
    fn reason_never_contains_message_bytes() {
        let mut m = M::req("OPTIONS").start("OPTIONS tel:+15551234567 SIP/2.0");
        m.set("Call-ID", "secret-patient-name@127.0.0.1");
        let e = udp(&m.bytes()).unwrap_err();
        assert!(!e.reason.contains("secret") && !e.reason.contains("5551234567"));
    }

    // ---- stream framing ----

    #[test]
    fn frame_stream_keepalives() {
        assert_eq!(frame_stream(b"\r\n\r\n", &POLICY), Ok(Frame::KeepAlive(4)));
        assert_eq!(frame_stream(b"\r\n\r\nINV", &POLICY), Ok(Frame::KeepAlive(4)));
        assert_eq!(frame_stream(b"\r\n", &POLICY), Ok(Frame::KeepAlive(2)));
        assert_eq!(frame_stream(b"\r\nINVITE", &POLICY), Ok(Frame::KeepAlive(2)));
        assert_eq!(frame_stream(b"\r", &POLICY), Ok(Frame::Incomplete));
        assert_eq!(frame_stream(b"", &POLICY), Ok(Frame::Incomplete));
    }

    #[test]
    fn frame_stream_finds_message_boundaries() {
        let mut m = M::req("INVITE");
        m.body("application/sdp", SDP);
        let one = m.bytes();
        let mut buf = one.clone();
        buf.extend(M::req("BYE").bytes());
        assert_eq!(frame_stream(&buf, &POLICY), Ok(Frame::Message(one.len())));
        for cut in [1, 10, one.len() - SDP.len() - 1, one.len() - 1] {
            assert_eq!(frame_stream(&one[..cut], &POLICY), Ok(Frame::Incomplete), "cut {cut}");
        }
        assert!(parse(&buf[..one.len()], Transport::Tcp, &POLICY).is_ok());
    }

    /// RFC 4475 3.1.1.11: a binary body part holding NULs, CRLFs and CRLFCRLF is framed by
    /// its Content-Length alone, on a stream as in a datagram.
    #[test]
    fn a_binary_multipart_body_is_framed_by_its_length() {
        let one = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sip-corpus/501-rfc4475-mpart01.sip")).unwrap();
        let body_at = one.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert!(one[body_at..].contains(&0) && one[body_at..].windows(4).any(|w| w == b"\r\n\r\n"), "the body is the hard case");
        let mut buf = one.clone();
        buf.extend(M::req("OPTIONS").bytes());
        assert_eq!(frame_stream(&buf, &POLICY), Ok(Frame::Message(one.len())));
        assert_eq!(frame_stream(&buf[..one.len() - 1], &POLICY), Ok(Frame::Incomplete));
        let err = parse(&one, Transport::Tcp, &POLICY).unwrap_err();
        assert_eq!(err.status(), Some(501), "a valid MESSAGE, which the box does not take: {err:?}");
    }

    #[test]
    fn frame_stream_without_content_length_is_fatal_with_400() {
        let mut m = M::req("OPTIONS");
        m.remove("Content-Length");
        let e = frame_stream(&m.bytes(), &POLICY).unwrap_err();
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.reason, R_CL_MISSING_STREAM);
        let mut r = M::resp("200 OK", "OPTIONS");
        r.remove("Content-Length");
        assert_eq!(frame_stream(&r.bytes(), &POLICY).unwrap_err().rejection, None);
    }

    #[test]
    fn frame_stream_bad_or_duplicate_content_length_is_fatal() {
        for cl in ["-1", "x", "1, 1"] {
            let mut m = M::req("OPTIONS");
            m.set("Content-Length", cl);
            assert_eq!(frame_stream(&m.bytes(), &POLICY).unwrap_err().status(), Some(400));
        }
        let mut m = M::req("OPTIONS");
        m.add("l: 0");
        assert_eq!(frame_stream(&m.bytes(), &POLICY).unwrap_err().status(), Some(400));
    }

    #[test]
    fn frame_stream_too_large_is_fatal_with_513() {
        let mut m = M::req("INVITE");
        m.set("Content-Length", "99999999999999999999999999");
        assert_eq!(frame_stream(&m.bytes(), &POLICY).unwrap_err().status(), Some(513));
        // Headers that never end.
        let mut buf = b"INVITE sip:frontdesk@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-9\r\n".to_vec();
        assert_eq!(frame_stream(&buf, &POLICY), Ok(Frame::Incomplete));
        while buf.len() <= POLICY.max_message_bytes {
            buf.extend_from_slice(b"X-Pad: aaaaaaaaaaaaaaaaaaaa\r\n");
        }
        assert_eq!(frame_stream(&buf, &POLICY).unwrap_err().status(), Some(513));
    }

    #[test]
    fn frame_stream_rejects_non_sip_at_once() {
        let e = frame_stream(b"\x16\x03\x01\x00", &POLICY).unwrap_err();
        assert_eq!((e.rejection, e.reason.as_str()), (None, R_STREAM_GARBAGE));
    }

    // ---- rejection_response ----

    #[test]
    fn rejection_response_echoes_and_adds_to_tag() {
        let mut m = M::req("INVITE");
        m.set("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1");
        m.add("Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-0");
        m.add("Require: foo");
        let rej = udp(&m.bytes()).unwrap_err().rejection.unwrap();
        let out = String::from_utf8(rejection_response(&rej, "xyz", "Frontdesk")).unwrap();
        assert_eq!(
            out,
            "SIP/2.0 420 Bad Extension\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-0\r\n\
             From: \"Alice\" <sip:alice@127.0.0.1:5070>;tag=a1\r\n\
             To: <sip:frontdesk@127.0.0.1:5060>;tag=xyz\r\n\
             Call-ID: call-1@127.0.0.1\r\n\
             CSeq: 1 INVITE\r\n\
             Server: Frontdesk\r\n\
             Unsupported: foo\r\n\
             Content-Length: 0\r\n\r\n"
        );
        // Our own answer is a valid response.
        assert!(udp(out.as_bytes()).unwrap().is_response());
    }

    #[test]
    fn rejection_response_keeps_existing_to_tag() {
        for to in ["<sip:b@127.0.0.1>;tag=old", "<sip:b@127.0.0.1> ; TAG = old", "sip:b@127.0.0.1;tag=old"] {
            let mut m = M::req("BYE");
            m.set("To", to);
            m.add("Require: foo");
            let rej = udp(&m.bytes()).unwrap_err().rejection.unwrap();
            let out = String::from_utf8(rejection_response(&rej, "new", "")).unwrap();
            assert!(out.contains(&format!("To: {to}\r\n")) && !out.contains("new"), "{out}");
        }
        // A tag inside the URI is not the To tag.
        assert!(!has_tag_param(b"<sip:b@127.0.0.1;tag=x>"));
        assert!(!has_tag_param(b"\"a;tag=x\" <sip:b@127.0.0.1>"));
    }

    #[test]
    fn rejection_response_cannot_inject_lines() {
        let rej = Rejection {
            status: 400,
            reason_phrase: "Bad\r\nX: y",
            extra_headers: vec![("A\r\nB".into(), "c\r\nD: e".into())],
            echo: EchoHeaders { via: vec!["v\r\nEvil: 1".into()], ..Default::default() },
            method: None,
        };
        let out = rejection_response(&rej, "t\r\n", "s\n");
        let text = String::from_utf8(out).unwrap();
        let body = text.strip_suffix("\r\n\r\n").unwrap();
        assert!(body.split("\r\n").all(|l| !l.contains('\r') && !l.contains('\n')));
        assert!(!body.split("\r\n").any(|l| l.starts_with("Evil") || l.starts_with("D:")));
    }

    // ---- corpus ----

    #[test]
    fn corpus_statuses_match_file_names() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sip-corpus");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("corpus directory")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".sip"))
            .collect();
        names.sort();
        let mut failures = Vec::new();
        for name in &names {
            let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
            let transport = if name.contains("-tcp-") { Transport::Tcp } else { Transport::Udp };
            let got = parse_parts(&bytes, transport, &POLICY);
            let prefix = name.split('-').next().unwrap_or_default();
            let ok = match (prefix, &got) {
                ("ok", Ok(_)) => true,
                ("drop", Err(e)) => e.rejection.is_none(),
                (code, Err(e)) => code.parse::<u16>().ok() == e.status(),
                _ => false,
            };
            if !ok {
                failures.push(format!("{name}: {got:?}"));
            }
            if transport == Transport::Tcp && prefix == "ok" {
                assert_eq!(frame_stream(&bytes, &POLICY), Ok(Frame::Message(bytes.len())), "{name}");
            }
            exercise(&bytes);
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(names.len() >= 25, "only {} corpus cases", names.len());
    }

    // ---- never panic ----

    /// Runs every entry point on the input and checks the invariants that must hold whatever
    /// it is; reaching the end without a panic is the main point.
    fn exercise(data: &[u8]) {
        for transport in [Transport::Udp, Transport::Tcp] {
            match parse_parts(data, transport, &POLICY) {
                Ok(Parsed { message: Some(m), .. }) => {
                    // rsip's typed parsers are what the UA will call next: they must not panic either.
                    let m = &m;
                    let _ = m.via_header().map(|h| h.typed());
                    let _ = m.from_header().map(|h| h.typed());
                    let _ = m.to_header().map(|h| h.typed());
                    let _ = m.cseq_header().map(|h| h.typed());
                    let _ = m.contact_header().map(|h| h.typed());
                    for h in m.headers().iter() {
                        if let rsip::Header::ContentType(ct) = h {
                            let _ = ct.typed();
                        }
                    }
                    let _ = m.to_string();
                }
                Ok(Parsed { message: None, .. }) => {}
                Err(e) => {
                    assert!(e.reason.is_ascii());
                    if let Some(rej) = &e.rejection {
                        let out = rejection_response(rej, "tag", "Frontdesk");
                        let text = String::from_utf8(out).expect("response is UTF-8");
                        let head = text.strip_suffix("\r\n\r\n").expect("response ends with an empty line");
                        assert!(head.split("\r\n").all(|l| !l.is_empty() && !l.contains(['\r', '\n'])));
                    }
                }
            }
        }
        match frame_stream(data, &POLICY) {
            Ok(Frame::Message(n)) => assert!(n > 0 && n <= data.len()),
            Ok(Frame::KeepAlive(n)) => assert!(n == 2 || n == 4),
            Ok(Frame::Incomplete) | Err(_) => {}
        }
    }

    fn seeds() -> Vec<Vec<u8>> {
        let mut invite = M::req("INVITE");
        invite.body("application/sdp", SDP);
        let mut info = M::req("INFO");
        info.body("application/dtmf-relay", "Signal=1\r\nDuration=100\r\n");
        let mut folded = M::req("OPTIONS");
        folded.set("Via", "SIP/2.0/UDP 127.0.0.1:5070\r\n ;branch=z9hG4bK-f, SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-g");
        folded.add("Require: timer");
        vec![
            invite.bytes(),
            info.bytes(),
            folded.bytes(),
            M::resp("180 Ringing", "INVITE").bytes(),
            M::req("ACK").bytes(),
            b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nv: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-c\r\nf: <sip:a@127.0.0.1>;tag=1\r\nt: sip:b@127.0.0.1\r\ni: c\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n".to_vec(),
        ]
    }

    /// Fragments that steer mutations towards the parser's edges.
    const DICT: &[&[u8]] = &[
        b"\r\n",
        b"\r\n\r\n",
        b"\r\n ",
        b" ",
        b"\t",
        b":",
        b";",
        b",",
        b"\"",
        b"<",
        b">",
        b"/",
        b"\\",
        b"\xff",
        b"\xc3",
        b"\0",
        b"Content-Length: 4294967296",
        b"l: 99999999999999999999",
        b";tag=",
        b"SIP/2.0",
        b"sip:",
        b"tel:+1",
        b"Require: x",
        b"Via: ",
        b"CSeq: 1 ",
        b"c: text/plain",
    ];

    fn mutate(seed: &[u8], ops: &[(u8, usize, usize)]) -> Vec<u8> {
        let mut d = seed.to_vec();
        for &(op, a, b) in ops {
            let at = if d.is_empty() { 0 } else { a % (d.len() + 1) };
            match op % 5 {
                0 if at < d.len() => d[at] = b as u8,
                1 => d.insert(at, b as u8),
                2 if at < d.len() => {
                    let end = (at + 1 + b % 16).min(d.len());
                    d.drain(at..end);
                }
                3 => {
                    let frag = DICT[b % DICT.len()];
                    d.splice(at..at, frag.iter().copied());
                }
                4 => {
                    let end = (at + b % 64).min(d.len());
                    let copy = d[at..end].to_vec();
                    d.splice(at..at, copy);
                }
                _ => {}
            }
        }
        d
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            exercise(&data);
        }

        #[test]
        fn mutated_messages_never_panic(
            seed in 0usize..6,
            ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..8),
        ) {
            let data = mutate(&seeds()[seed], &ops);
            exercise(&data);
        }

        #[test]
        fn stream_of_valid_messages_frames_exactly(
            picks in proptest::collection::vec((0usize..6, any::<bool>()), 1..6),
        ) {
            // Every seed carries a Content-Length, so all of them can travel on a stream.
            let seeds = seeds();
            let mut buf = Vec::new();
            let mut want = Vec::new();
            for &(pick, ping) in &picks {
                if ping {
                    buf.extend_from_slice(b"\r\n\r\n");
                }
                buf.extend_from_slice(&seeds[pick]);
                want.push(seeds[pick].len());
            }
            let mut got = Vec::new();
            let mut rest = &buf[..];
            while !rest.is_empty() {
                match frame_stream(rest, &POLICY) {
                    Ok(Frame::Message(n)) => {
                        prop_assert!(parse(&rest[..n], Transport::Tcp, &POLICY).is_ok());
                        got.push(n);
                        rest = &rest[n..];
                    }
                    Ok(Frame::KeepAlive(n)) => rest = &rest[n..],
                    other => return Err(TestCaseError::fail(format!("{other:?}"))),
                }
            }
            prop_assert_eq!(got, want);
        }
    }
}
