//! The caller's SIP side: the INVITE transaction that sets the call up, then a thread that
//! keeps the dialog (answers the daemon's BYE, acknowledges a retransmitted 200 OK, resends our
//! own BYE until it is answered).
//!
//! Messages are built by hand or by `sip::uac`, and every message received goes through the
//! same validating parser the daemon uses, so a malformed answer fails the call here rather than
//! being half-read.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{Ending, Shared};
use crate::entropy::u32 as rand_u32;
use crate::sip::message::{Message, response, uri_of, uri_socket_addr};
use crate::sip::sdp::{Codec, LocalMedia, SessionDescription, accept_answer};
use crate::sip::uac::{InviteTemplate, ack_for_failure};
use crate::sip::wire::{Policy, Transport, parse_parts};

const POLICY: Policy = Policy {
    methods: &["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY", "REFER"],
    supported_options: &[],
    max_message_bytes: 65_535,
};
/// RFC 3261 timers: first retransmission, longest interval, and when a transaction gives up.
const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
const TIMER_B: Duration = Duration::from_secs(32);
/// How often the signalling thread looks at the stop flag and the BYE timer.
const POLL: Duration = Duration::from_millis(20);

/// Where and how the RTP goes, from the answer.
#[derive(Clone, Copy, Debug)]
pub(super) struct Stream {
    pub remote: SocketAddr,
    /// The payload type to send audio (PCMU) with, as the answer numbered it.
    pub payload_type: u8,
    /// The answer's telephone-event payload type, when it took them.
    pub telephone_event_pt: Option<u8>,
}

/// An established call: its dialog and its stream.
pub(super) struct Answered {
    pub dialog: Dialog,
    pub stream: Stream,
}

/// What requests inside the call need (RFC 3261 12.2.1.1).
pub(super) struct Dialog {
    socket: UdpSocket,
    /// Where in-dialog requests go: the answer's Contact.
    dest: SocketAddr,
    remote_target: String,
    /// Our From (with our tag) and the daemon's To (with its tag).
    from: String,
    to: String,
    call_id: String,
    contact: String,
    local: SocketAddr,
    cseq: AtomicU32,
    /// The ACK of the 2xx, sent again if the 200 OK is (it means the ACK was lost).
    ack: Vec<u8>,
    /// Our BYE, once sent: the signalling thread resends it until it is answered.
    bye: Mutex<Option<Vec<u8>>>,
}

fn parse(bytes: &[u8]) -> Option<Message> {
    parse_parts(bytes, Transport::Udp, &POLICY).ok().map(|p| Message::from_parsed(&p))
}

fn branch() -> String {
    format!("z9hG4bK{:08x}{:08x}", rand_u32(), rand_u32())
}

/// Our offer: PCMU only, and RFC 4733 events on 101 as most phones offer them.
fn offer(rtp: SocketAddr) -> String {
    let (ip, port) = (rtp.ip(), rtp.port());
    format!(
        "v=0\r\no=caller {} 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
        rand_u32()
    )
}

/// Sends the INVITE (retransmitted on Timer A until a provisional answer) and waits for the
/// final answer; on a 200 OK, acknowledges it and returns the dialog it made.
pub(super) fn invite(sip: &UdpSocket, uri: &str, target: SocketAddr, from_user: &str, rtp: SocketAddr) -> Result<Answered> {
    let local = sip.local_addr()?;
    let template = InviteTemplate {
        target: uri.to_string(),
        from: format!("<sip:{from_user}@{local}>;tag={:08x}", rand_u32()),
        call_id: format!("{:08x}{:08x}@{}", rand_u32(), rand_u32(), local.ip()),
        contact: format!("<sip:{from_user}@{local}>"),
        route: None,
        via: format!("UDP {local}"),
        user_agent: "frontdesk-loopback-caller".into(),
        sdp: offer(rtp),
    };
    let bytes = template.render(1, &branch(), None);
    let request = parse(&bytes).context("our own INVITE does not parse")?;
    let give_up = Instant::now() + TIMER_B;
    let mut resend: Option<(Instant, Duration)> = Some((Instant::now(), T1));
    let mut buf = [0u8; 65_535];
    loop {
        let now = Instant::now();
        if now >= give_up {
            bail!("no final answer to the INVITE within {TIMER_B:?}");
        }
        if let Some((at, interval)) = resend
            && now >= at
        {
            sip.send_to(&bytes, target)?;
            resend = Some((now + interval, (interval * 2).min(T2)));
        }
        let wake = resend.map_or(give_up, |(at, _)| at.min(give_up));
        sip.set_read_timeout(Some(wake.saturating_duration_since(now).max(Duration::from_millis(1))))?;
        let Ok((n, _)) = sip.recv_from(&mut buf) else { continue };
        let Some(resp) = parse(&buf[..n]) else { continue };
        let Some(status) = resp.status() else { continue };
        if resp.call_id() != request.call_id() || resp.cseq().1 != "INVITE" {
            continue;
        }
        match status {
            100..=199 => resend = None,
            200..=299 => return established(sip, &request, &resp, target, rtp),
            _ => {
                sip.send_to(&ack_for_failure(&request, &resp), target)?;
                bail!("call refused: {status} {}", String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or(""));
            }
        }
    }
}

/// The 2xx: the dialog, the negotiated stream, and our ACK.
fn established(sip: &UdpSocket, invite: &Message, ok: &Message, target: SocketAddr, rtp: SocketAddr) -> Result<Answered> {
    let to = ok.header("To").context("200 OK without To")?.to_string();
    if ok.to_tag().is_none() {
        bail!("200 OK without a To tag");
    }
    let remote_target = ok.header("Contact").map(uri_of).unwrap_or(uri_of(invite.uri().unwrap_or(""))).to_string();
    let sdp = SessionDescription::parse(&String::from_utf8_lossy(&ok.body)).context("the answer's SDP")?;
    let ours = LocalMedia { codecs: vec![Codec::Pcmu], ..LocalMedia::new(rtp.ip(), rtp.port()) };
    let negotiated = accept_answer(&ours, &sdp).context("the answer's SDP")?;
    let remote = negotiated.remote.context("the answer gives no address to send RTP to")?;
    let mut dialog = Dialog {
        socket: sip.try_clone()?,
        dest: uri_socket_addr(&remote_target).unwrap_or(target),
        remote_target,
        from: invite.header("From").unwrap_or("").to_string(),
        to,
        call_id: invite.call_id().to_string(),
        contact: invite.header("Contact").unwrap_or("").to_string(),
        local: sip.local_addr()?,
        cseq: AtomicU32::new(invite.cseq().0),
        ack: Vec::new(),
        bye: Mutex::new(None),
    };
    dialog.ack = dialog.request("ACK", invite.cseq().0);
    dialog.socket.send_to(&dialog.ack, dialog.dest)?;
    Ok(Answered {
        dialog,
        stream: Stream { remote, payload_type: negotiated.payload_type, telephone_event_pt: negotiated.telephone_event_pt },
    })
}

impl Dialog {
    /// A request inside the dialog, with a new branch (an ACK of a 2xx is a transaction of its
    /// own, RFC 3261 17.1.1.3).
    fn request(&self, method: &str, cseq: u32) -> Vec<u8> {
        format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: {cseq} {method}\r\nContact: {contact}\r\nContent-Length: 0\r\n\r\n",
            target = self.remote_target,
            local = self.local,
            branch = branch(),
            from = self.from,
            to = self.to,
            cid = self.call_id,
            contact = self.contact,
        )
        .into_bytes()
    }

    /// Sends BYE once; [`serve`] resends it until answered.
    pub fn send_bye(&self) -> Result<()> {
        let bye = self.request("BYE", self.cseq.fetch_add(1, Ordering::SeqCst) + 1);
        self.socket.send_to(&bye, self.dest)?;
        *self.bye.lock().unwrap_or_else(|p| p.into_inner()) = Some(bye);
        Ok(())
    }
}

/// The signalling thread: until the caller stops, answers what the daemon sends inside the call
/// and resends our BYE on Timer E until it is answered (or Timer F gives up).
pub(super) fn serve(sip: UdpSocket, dialog: &Dialog, shared: &Shared) {
    let _ = sip.set_read_timeout(Some(POLL));
    let mut buf = [0u8; 65_535];
    let mut bye_timer: Option<(Instant, Duration, Instant)> = None;
    while !shared.stop.load(Ordering::SeqCst) {
        if let Ok((n, from)) = sip.recv_from(&mut buf)
            && let Some(msg) = parse(&buf[..n])
        {
            on_message(&sip, dialog, shared, &msg, from);
        }
        let pending = dialog.bye.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(bye) = pending else { continue };
        if shared.lock().bye_answered {
            continue;
        }
        let now = Instant::now();
        match bye_timer {
            None => bye_timer = Some((now + T1, T1, now + TIMER_B)),
            Some((_, _, give_up)) if now >= give_up => {}
            Some((at, interval, give_up)) if now >= at => {
                let _ = sip.send_to(&bye, dialog.dest);
                let next = (interval * 2).min(T2);
                bye_timer = Some((now + next, next, give_up));
            }
            Some(_) => {}
        }
    }
}

fn on_message(sip: &UdpSocket, dialog: &Dialog, shared: &Shared, msg: &Message, from: SocketAddr) {
    let ours = msg.call_id() == dialog.call_id;
    match (msg.method(), msg.status()) {
        (Some("ACK"), _) => {}
        (Some(method), _) => {
            let (status, reason) = match method {
                _ if !ours => (481, "Call/Transaction Does Not Exist"),
                "BYE" | "OPTIONS" => (200, "OK"),
                _ => (501, "Not Implemented"),
            };
            let _ = sip.send_to(&response(msg, from, status, reason, None, &[], None), from);
            if ours && method == "BYE" {
                let mut s = shared.lock();
                s.ending.get_or_insert(Ending::Agent);
                drop(s);
                shared.notify();
            }
        }
        (None, Some(status)) if ours => match msg.cseq().1.as_str() {
            // A retransmitted 200 OK: our ACK was lost.
            "INVITE" if (200..300).contains(&status) => {
                let _ = sip.send_to(&dialog.ack, dialog.dest);
            }
            "BYE" if status >= 200 => {
                shared.lock().bye_answered = true;
                shared.notify();
            }
            _ => {}
        },
        _ => {}
    }
}
