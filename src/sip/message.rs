//! SIP messages as the user agent handles them: the validated text, header by header.
//!
//! The wire layer (`wire.rs`) decides what is acceptable and hands over the validated text. The
//! UA works on plain header lines because it mostly copies them (Via, From, To, Call-ID, CSeq
//! into responses) and reads a handful of parameters (tags, branch, rport), which is simpler and
//! more faithful than round-tripping through rsip's typed headers (which misread IPv6 and tel:
//! URIs).

use std::fmt::Write as _;
use std::net::SocketAddr;

/// A request or response after validation.
#[derive(Clone, Debug)]
pub struct Message {
    pub start: StartLine,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { status: u16, reason: String },
}

impl Message {
    /// From the wire layer's validated text (rsip's rendering is lossy: it renames reason
    /// phrases and rewrites tel: URIs).
    pub fn from_parsed(p: &super::wire::Parsed) -> Message {
        let start = match &p.start {
            super::wire::StartLine::Request { method, uri } => StartLine::Request { method: method.clone(), uri: uri.clone() },
            super::wire::StartLine::Response { status, reason } => StartLine::Response { status: *status, reason: reason.clone() },
        };
        Message { start, headers: p.headers.clone(), body: p.body.clone() }
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { status, .. } => Some(*status),
            StartLine::Request { .. } => None,
        }
    }

    pub fn uri(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn call_id(&self) -> &str {
        self.header("Call-ID").unwrap_or("")
    }

    /// (number, method) of the CSeq header.
    pub fn cseq(&self) -> (u32, String) {
        let v = self.header("CSeq").unwrap_or("");
        let mut it = v.split_whitespace();
        let n = it.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        (n, it.next().unwrap_or("").to_string())
    }

    /// The branch parameter of the top Via: the key of a transaction.
    pub fn branch(&self) -> String {
        self.header("Via").and_then(|v| param(v, "branch")).unwrap_or_default()
    }

    pub fn from_tag(&self) -> Option<String> {
        self.header("From").and_then(|v| param(v, "tag"))
    }

    pub fn to_tag(&self) -> Option<String> {
        self.header("To").and_then(|v| param(v, "tag"))
    }

    pub fn content_type(&self) -> Option<String> {
        self.header("Content-Type").map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
    }
}

/// Splits `a, b;x="1,2", c` at commas outside quotes and angle brackets.
pub fn split_top_level_commas(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    for (i, ch) in s.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '<' if !quoted => depth += 1,
            '>' if !quoted => depth -= 1,
            ',' if !quoted && depth <= 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// A `;name=value` parameter of a header value (outside the `<...>` URI), case-insensitive name.
pub fn param(value: &str, name: &str) -> Option<String> {
    let after_uri = match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if b > a => &value[b + 1..],
        _ => value,
    };
    after_uri.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The URI inside a name-addr (`"Ann" <sip:ann@x>;tag=1` -> `sip:ann@x`) or an addr-spec.
pub fn uri_of(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if b > a => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or("").trim(),
    }
}

/// The user part of a SIP URI (`sip:+12125550147@host` -> `+12125550147`).
pub fn uri_user(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("sips:").or_else(|| uri.strip_prefix("sip:")).or_else(|| uri.strip_prefix("tel:"))?;
    let user = rest.split(['@', ';', '?']).next()?;
    (!user.is_empty() && rest.contains('@') || uri.starts_with("tel:")).then_some(user)
}

/// host:port of a SIP URI when the host is an IP literal (no DNS on this path).
pub fn uri_socket_addr(uri: &str) -> Option<SocketAddr> {
    let rest = uri.strip_prefix("sip:").or_else(|| uri.strip_prefix("sips:"))?;
    let hostport = rest.rsplit('@').next()?.split([';', '?', '>']).next()?;
    if let Ok(a) = hostport.parse::<SocketAddr>() {
        return Some(a);
    }
    let ip: std::net::IpAddr = hostport.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    Some(SocketAddr::new(ip, 5060))
}

/// Builds a response to `req`: Vias, From, To (with `to_tag` added when absent), Call-ID and
/// CSeq copied as RFC 3261 8.2.6.2 asks; `received`/`rport` are added to the top Via (RFC 3581)
/// so the peer sees where we saw it from.
pub fn response(
    req: &Message,
    source: SocketAddr,
    status: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra: &[(&str, String)],
    body: Option<(&str, &[u8])>,
) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    let _ = write!(out, "SIP/2.0 {status} {reason}\r\n");
    for (i, via) in req.headers_named("Via").enumerate() {
        if i == 0 {
            let _ = write!(out, "Via: {}\r\n", via_with_received(via, source));
        } else {
            let _ = write!(out, "Via: {via}\r\n");
        }
    }
    if let Some(from) = req.header("From") {
        let _ = write!(out, "From: {from}\r\n");
    }
    if let Some(to) = req.header("To") {
        match (param(to, "tag"), to_tag) {
            (None, Some(tag)) => {
                let _ = write!(out, "To: {to};tag={tag}\r\n");
            }
            _ => {
                let _ = write!(out, "To: {to}\r\n");
            }
        }
    }
    let _ = write!(out, "Call-ID: {}\r\n", req.call_id());
    if let Some(cseq) = req.header("CSeq") {
        let _ = write!(out, "CSeq: {cseq}\r\n");
    }
    for (name, value) in extra {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    let mut bytes = match body {
        Some((ctype, b)) => {
            let _ = write!(out, "Content-Type: {ctype}\r\nContent-Length: {}\r\n\r\n", b.len());
            let mut v = out.into_bytes();
            v.extend_from_slice(b);
            return v;
        }
        None => {
            out.push_str("Content-Length: 0\r\n\r\n");
            out.into_bytes()
        }
    };
    bytes.shrink_to_fit();
    bytes
}

/// The sent-by (host and port) of a Via value: what follows the transport token of
/// `SIP/2.0/UDP`, up to the first parameter. Whitespace as written is kept inside.
pub fn sent_by_of(via: &str) -> &str {
    let sent = via.split([';', ',']).next().unwrap_or_default();
    let last = sent.rsplit('/').next().unwrap_or_default().trim();
    last.split_once(char::is_whitespace).map_or("", |(_, h)| h.trim())
}

/// Where a response to a request that came over UDP goes (RFC 3261 18.2.2 with RFC 3581):
/// with `rport` in the top Via, back to the packet's source address and port; otherwise to the
/// source address (the `received` we add) at the port the Via's sent-by names, 5060 if none.
/// A peer that listens on its Via port but sends from another one hears the answer there.
pub fn response_address(top_via: Option<&str>, source: SocketAddr) -> SocketAddr {
    let Some(via) = top_via else { return source };
    // The first value of the line ("SIP/2.0/UDP a;branch=x, SIP/2.0/UDP b;rport" is two).
    let via = via.split(',').next().unwrap_or_default();
    let mut parts = via.split(';');
    let sent = parts.next().unwrap_or_default();
    if parts.any(|p| {
        let name = p.split('=').next().unwrap_or_default().trim();
        name.eq_ignore_ascii_case("rport")
    }) {
        return source;
    }
    let host_port = sent_by_of(sent);
    let port = if let Some(rest) = host_port.strip_prefix('[') {
        // [v6]:port or [v6]
        rest.split_once(']').and_then(|(_, p)| p.strip_prefix(':')).map(str::trim)
    } else {
        host_port.rsplit_once(':').map(|(_, p)| p.trim())
    };
    match port {
        None => SocketAddr::new(source.ip(), 5060),
        Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0).map_or(source, |p| SocketAddr::new(source.ip(), p)),
    }
}

fn via_with_received(via: &str, source: SocketAddr) -> String {
    let mut parts: Vec<String> = via.split(';').map(|p| p.trim().to_string()).collect();
    let mut has_received = false;
    for p in parts.iter_mut().skip(1) {
        if p.eq_ignore_ascii_case("rport") || p.to_ascii_lowercase().starts_with("rport=") {
            *p = format!("rport={}", source.port());
        } else if p.to_ascii_lowercase().starts_with("received=") {
            has_received = true;
        }
    }
    if !has_received {
        parts.push(format!("received={}", source.ip()));
    }
    parts.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_uris() {
        let from = "\"Ann\" <sip:+12125550147@127.0.0.1:5062;transport=udp>;tag=abc";
        assert_eq!(param(from, "tag").as_deref(), Some("abc"));
        assert_eq!(param(from, "transport"), None, "URI parameters are not header parameters");
        assert_eq!(uri_of(from), "sip:+12125550147@127.0.0.1:5062;transport=udp");
        assert_eq!(uri_user(uri_of(from)), Some("+12125550147"));
        assert_eq!(uri_socket_addr(uri_of(from)), Some("127.0.0.1:5062".parse().unwrap()));
        assert_eq!(uri_socket_addr("sip:bob@[::1]:5070"), Some("[::1]:5070".parse().unwrap()));
        assert_eq!(uri_socket_addr("sip:bob@127.0.0.1"), Some("127.0.0.1:5060".parse().unwrap()));
        assert_eq!(uri_user("sip:127.0.0.1"), None);
    }

    #[test]
    fn commas_inside_quotes_and_brackets_do_not_split() {
        assert_eq!(split_top_level_commas("a, \"x,y\" <sip:b>, <sip:c;p=1,2>"), vec!["a", " \"x,y\" <sip:b>", " <sip:c;p=1,2>"]);
    }

    #[test]
    fn responses_go_where_rfc_3261_18_2_2_says() {
        let src: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let v6: SocketAddr = "[::1]:40000".parse().unwrap();
        // rport: back to the source, port included (RFC 3581).
        assert_eq!(response_address(Some("SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1;rport"), src), src);
        assert_eq!(response_address(Some("SIP/2.0/UDP 10.0.0.9:5062;RPORT=;branch=x"), src), src);
        // Otherwise the source address at the sent-by port, or 5060.
        assert_eq!(response_address(Some("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw"), src), "127.0.0.1:5060".parse().unwrap());
        assert_eq!(response_address(Some("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-lc"), src), "127.0.0.1:5070".parse().unwrap());
        assert_eq!(response_address(Some("SIP / 2.0 / UDP host.example.com : 5080 ;branch=x"), src), "127.0.0.1:5080".parse().unwrap());
        // RFC 5118 4.7: an IPv6 sent-by with a port.
        assert_eq!(response_address(Some("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111"), v6), "[::1]:6050".parse().unwrap());
        assert_eq!(response_address(Some("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111"), v6), "[::1]:5060".parse().unwrap());
        // Nothing usable: the source.
        assert_eq!(response_address(None, src), src);
        assert_eq!(response_address(Some("SIP/2.0/UDP 127.0.0.1:0;branch=x"), src), src);
    }

    #[test]
    fn rport_and_received_are_filled() {
        let v = via_with_received("SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1;rport", "127.0.0.1:40000".parse().unwrap());
        assert_eq!(v, "SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1;rport=40000;received=127.0.0.1");
    }
}
