//! Requests of a call the box places: the INVITE, its ACKs and CANCEL, and the dialog it makes.
//!
//! Kept apart from the UA's state machine so each message can be checked on its own against
//! RFC 3261: which headers an ACK or CANCEL copies from the INVITE (17.1.1.3, 9.1), and how the
//! route set of a UAC's dialog is the reverse of the Record-Route of the 2xx (12.1.2).

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::message::{Message, StartLine, param, split_top_level_commas, uri_of};

/// What stays the same across the INVITEs of one outgoing call (the first, and the one that
/// answers a digest challenge).
#[derive(Clone, Debug)]
pub struct InviteTemplate {
    /// Request-URI and To: `sip:201@192.168.1.10`.
    pub target: String,
    /// Our From, with its tag.
    pub from: String,
    pub call_id: String,
    pub contact: String,
    /// `Route: <sip:proxy;lr>` when the call goes through an outbound proxy.
    pub route: Option<String>,
    /// Our Via after `SIP/2.0/`: transport and sent-by, e.g. `UDP 192.168.1.20:5060` or
    /// `TLS 192.168.1.20:5061;alias`.
    pub via: String,
    pub user_agent: String,
    pub sdp: String,
}

impl InviteTemplate {
    /// One INVITE; `authorization` is the header (name, value) answering a 401/407.
    pub fn render(&self, cseq: u32, branch: &str, authorization: Option<(&str, &str)>) -> Vec<u8> {
        let mut text = String::with_capacity(1024 + self.sdp.len());
        let _ = write!(
            text,
            "INVITE {target} SIP/2.0\r\nVia: SIP/2.0/{via};branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: {from}\r\nTo: <{target}>\r\nCall-ID: {cid}\r\nCSeq: {cseq} INVITE\r\nContact: {contact}\r\n",
            target = self.target,
            via = self.via,
            from = self.from,
            cid = self.call_id,
            contact = self.contact,
        );
        if let Some(route) = &self.route {
            let _ = write!(text, "Route: {route}\r\n");
        }
        if let Some((name, value)) = authorization {
            let _ = write!(text, "{name}: {value}\r\n");
        }
        let _ = write!(
            text,
            "Allow: {allow}\r\nUser-Agent: {ua}\r\nContent-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{sdp}",
            allow = super::ALLOW,
            ua = self.user_agent,
            len = self.sdp.len(),
            sdp = self.sdp,
        );
        text.into_bytes()
    }
}

/// The ACK of a non-2xx final response: part of the INVITE transaction, so it reuses the
/// INVITE's Via (branch), Request-URI, From, Call-ID, CSeq number and Route, with the To of the
/// response (RFC 3261 17.1.1.3).
pub fn ack_for_failure(invite: &Message, resp: &Message) -> Vec<u8> {
    copy_of_invite(invite, "ACK", resp.header("To"))
}

/// CANCEL of an INVITE that has had no final answer (RFC 3261 9.1): the same fields as the
/// INVITE except the method, and no body.
pub fn cancel(invite: &Message) -> Vec<u8> {
    copy_of_invite(invite, "CANCEL", None)
}

fn copy_of_invite(invite: &Message, method: &str, to: Option<&str>) -> Vec<u8> {
    let mut text = String::with_capacity(512);
    let uri = invite.uri().unwrap_or("");
    let _ = write!(text, "{method} {uri} SIP/2.0\r\n");
    if let Some(via) = invite.header("Via") {
        let _ = write!(text, "Via: {via}\r\n");
    }
    let _ = write!(text, "Max-Forwards: 70\r\n");
    if let Some(from) = invite.header("From") {
        let _ = write!(text, "From: {from}\r\n");
    }
    if let Some(to) = to.or_else(|| invite.header("To")) {
        let _ = write!(text, "To: {to}\r\n");
    }
    let (cseq, _) = invite.cseq();
    let _ = write!(text, "Call-ID: {}\r\nCSeq: {cseq} {method}\r\n", invite.call_id());
    for route in invite.headers_named("Route") {
        let _ = write!(text, "Route: {route}\r\n");
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    text.into_bytes()
}

/// The dialog a 2xx to our INVITE creates, written as the INVITE the remote side would have
/// sent us had it called: From is the remote party (with its tag), To is us (with ours),
/// Contact is the remote target and Record-Route is the route set in the order a UAS keeps it.
/// With that, everything the UA does inside a dialog (BYE, REFER, re-INVITE, matching an
/// incoming BYE by our tag) works the same for calls in both directions.
pub fn dialog_view(invite: &Message, ok: &Message, source: SocketAddr) -> Option<Message> {
    let remote = ok.header("To")?;
    param(remote, "tag")?;
    let ours = invite.header("From")?;
    let remote_target =
        ok.header("Contact").map(|c| format!("<{}>", uri_of(c))).unwrap_or_else(|| format!("<{}>", invite.uri().unwrap_or("")));
    // The UAC's route set is the 2xx's Record-Route reversed (RFC 3261 12.1.2); the UA's
    // in-dialog sender reads a UAS-ordered Record-Route, so store it reversed.
    let mut routes: Vec<String> = ok.headers_named("Record-Route").flat_map(split_top_level_commas).map(|r| r.trim().to_string()).collect();
    routes.reverse();
    let mut headers = vec![
        ("Via".to_string(), format!("SIP/2.0/UDP {source};branch=z9hG4bKdialog")),
        ("From".to_string(), remote.to_string()),
        ("To".to_string(), ours.to_string()),
        ("Call-ID".to_string(), invite.call_id().to_string()),
        ("CSeq".to_string(), format!("{} INVITE", invite.cseq().0)),
        ("Contact".to_string(), remote_target),
    ];
    for r in routes {
        headers.push(("Record-Route".to_string(), r));
    }
    Some(Message {
        start: StartLine::Request { method: "INVITE".into(), uri: invite.uri().unwrap_or("").to_string() },
        headers,
        body: Vec::new(),
    })
}

/// A SIP URI for what the user asked to call: a URI as given, or a number or extension at the
/// proxy (or registrar) the call goes through.
pub fn target_uri(target: &str, via: SocketAddr) -> String {
    let t = target.trim();
    if t.starts_with("sip:") || t.starts_with("sips:") || t.starts_with("tel:") { t.to_string() } else { format!("sip:{t}@{via}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::wire::{self, Policy, Transport};

    const POLICY: Policy = Policy { methods: &["INVITE", "ACK", "BYE", "CANCEL"], supported_options: &[], max_message_bytes: 65_535 };

    fn parse(bytes: &[u8]) -> Message {
        Message::from_parsed(&wire::parse_parts(bytes, Transport::Udp, &POLICY).expect("valid SIP"))
    }

    fn template() -> InviteTemplate {
        InviteTemplate {
            target: "sip:201@127.0.0.1:5070".into(),
            from: "<sip:frontdesk@127.0.0.1>;tag=abc".into(),
            call_id: "cid1@127.0.0.1".into(),
            contact: "<sip:frontdesk@127.0.0.1:5060>".into(),
            route: Some("<sip:127.0.0.1:5070;lr>".into()),
            via: "UDP 127.0.0.1:5060".into(),
            user_agent: "frontdesk/test".into(),
            sdp: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n".into(),
        }
    }

    #[test]
    fn invite_is_valid_and_carries_the_answer_to_a_challenge() {
        let bytes = template().render(2, "z9hG4bKx", Some(("Proxy-Authorization", "Digest username=\"fd\"")));
        let m = parse(&bytes);
        assert_eq!(m.method(), Some("INVITE"));
        assert_eq!(m.cseq(), (2, "INVITE".to_string()));
        assert_eq!(m.header("Proxy-Authorization"), Some("Digest username=\"fd\""));
        assert_eq!(m.header("Route"), Some("<sip:127.0.0.1:5070;lr>"));
        assert!(m.body.starts_with(b"v=0"));
    }

    #[test]
    fn ack_and_cancel_copy_what_rfc_3261_says() {
        let invite = parse(&template().render(1, "z9hG4bKx", None));
        let resp = parse(b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx;rport=5060\r\nFrom: <sip:frontdesk@127.0.0.1>;tag=abc\r\nTo: <sip:201@127.0.0.1:5070>;tag=far\r\nCall-ID: cid1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
        let ack = parse(&ack_for_failure(&invite, &resp));
        assert_eq!(ack.method(), Some("ACK"));
        assert_eq!(ack.branch(), invite.branch());
        assert_eq!(ack.to_tag().as_deref(), Some("far"));
        assert_eq!(ack.cseq(), (1, "ACK".to_string()));
        assert_eq!(ack.header("Route"), invite.header("Route"));
        let cancel = parse(&cancel(&invite));
        assert_eq!(cancel.method(), Some("CANCEL"));
        assert_eq!(cancel.branch(), invite.branch());
        assert_eq!(cancel.to_tag(), None);
        assert_eq!(cancel.cseq(), (1, "CANCEL".to_string()));
    }

    #[test]
    fn the_dialog_view_swaps_parties_and_reverses_the_route_set() {
        let invite = parse(&template().render(1, "z9hG4bKx", None));
        let ok = parse(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\nRecord-Route: <sip:p2;lr>, <sip:p1;lr>\r\nFrom: <sip:frontdesk@127.0.0.1>;tag=abc\r\nTo: <sip:201@127.0.0.1:5070>;tag=far\r\nCall-ID: cid1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:201@127.0.0.1:5099>\r\nContent-Length: 0\r\n\r\n");
        let view = dialog_view(&invite, &ok, "127.0.0.1:5070".parse().unwrap()).expect("a dialog");
        assert_eq!(view.from_tag().as_deref(), Some("far"));
        assert_eq!(view.to_tag().as_deref(), Some("abc"));
        assert_eq!(view.header("Contact"), Some("<sip:201@127.0.0.1:5099>"));
        let routes: Vec<&str> = view.headers_named("Record-Route").collect();
        assert_eq!(routes, ["<sip:p1;lr>", "<sip:p2;lr>"]);
        // A 2xx without a To tag makes no dialog.
        let bad = parse(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\nFrom: <sip:frontdesk@127.0.0.1>;tag=abc\r\nTo: <sip:201@127.0.0.1:5070>\r\nCall-ID: cid1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
        assert!(dialog_view(&invite, &bad, "127.0.0.1:5070".parse().unwrap()).is_none());
    }

    #[test]
    fn numbers_become_uris_at_the_proxy() {
        let proxy: SocketAddr = "127.0.0.1:5070".parse().unwrap();
        assert_eq!(target_uri("201", proxy), "sip:201@127.0.0.1:5070");
        assert_eq!(target_uri("sip:bob@127.0.0.1", proxy), "sip:bob@127.0.0.1");
    }
}
