//! The caller against a bare answering peer on loopback: what it puts on the wire (an INVITE
//! that parses, an ACK, RTP every 20 ms, key presses as RFC 4733 events on the answer's payload
//! type) and how it takes the peer's BYE.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::{Ending, Heard, LoopbackCaller};
use crate::rtp::dtmf::{DtmfReceiver, TelephoneEvent};
use crate::rtp::packet::RtpPacket;
use crate::sip::message::{Message, response, uri_of, uri_socket_addr};
use crate::sip::wire::{Policy, Transport, parse_parts};

const POLICY: Policy = Policy { methods: &["INVITE", "ACK", "BYE"], supported_options: &[], max_message_bytes: 65_535 };
/// The peer's telephone-event payload type: not the 101 of the offer, to see the answer's used.
const EVENT_PT: u8 = 96;

fn receive(socket: &UdpSocket) -> (Message, SocketAddr) {
    let mut buf = [0u8; 65_535];
    let (n, from) = socket.recv_from(&mut buf).expect("a SIP message");
    (Message::from_parsed(&parse_parts(&buf[..n], Transport::Udp, &POLICY).expect("valid SIP")), from)
}

/// Answers one INVITE with 200 OK; the INVITE and where the caller sends from.
fn answer(sip: &UdpSocket, rtp: SocketAddr) -> (Message, SocketAddr) {
    let (invite, from) = receive(sip);
    assert_eq!(invite.method(), Some("INVITE"));
    let offer = String::from_utf8_lossy(&invite.body).to_string();
    assert!(offer.contains("a=rtpmap:101 telephone-event/8000") && offer.contains("a=fmtp:101 0-16"), "{offer}");
    let sdp = format!(
        "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0 {EVENT_PT}\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:{EVENT_PT} telephone-event/8000\r\na=ptime:20\r\n",
        rtp.port()
    );
    let contact = [("Contact", format!("<sip:peer@{}>", sip.local_addr().unwrap()))];
    sip.send_to(&response(&invite, from, 200, "OK", Some("peer"), &contact, Some(("application/sdp", sdp.as_bytes()))), from).unwrap();
    let (ack, _) = receive(sip);
    assert_eq!(ack.method(), Some("ACK"));
    assert_eq!(ack.to_tag().as_deref(), Some("peer"));
    (invite, from)
}

#[test]
fn keys_go_as_telephone_events_and_the_peers_bye_ends_the_call() {
    let sip = UdpSocket::bind("127.0.0.1:0").unwrap();
    sip.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    rtp.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let uri = format!("sip:clinic@{}", sip.local_addr().unwrap());
    let peer = std::thread::spawn({
        let (sip, rtp_addr) = (sip.try_clone().unwrap(), rtp.local_addr().unwrap());
        move || answer(&sip, rtp_addr)
    });
    let call = LoopbackCaller::dial(&uri, "tester").unwrap();
    let (invite, _) = peer.join().unwrap();
    call.press("1#").unwrap();
    assert!(call.press("x").is_err());

    // The keys come as events on the answer's payload type, silence as PCMU around them.
    let mut keys = String::new();
    let mut dtmf = DtmfReceiver::new();
    let mut audio = 0;
    let started = Instant::now();
    let mut buf = [0u8; 1500];
    while keys.len() < 2 && started.elapsed() < Duration::from_secs(5) {
        let Ok(n) = rtp.recv(&mut buf) else { continue };
        let pkt = RtpPacket::new_checked(&buf[..n]).unwrap();
        match pkt.payload_type() {
            0 => audio += 1,
            EVENT_PT => {
                if let Some(d) = dtmf.on_packet(pkt.timestamp(), pkt.marker(), TelephoneEvent::parse(pkt.payload()).unwrap()) {
                    keys.push(d.digit);
                }
            }
            other => panic!("payload type {other}"),
        }
    }
    assert_eq!(keys, "1#");
    assert!(call.wait_said(Duration::from_secs(2)));
    assert!(audio > 0, "silence goes out as audio between and before the keys");

    // The peer hangs up: the caller answers 200 and reports it.
    let contact = uri_socket_addr(uri_of(invite.header("Contact").unwrap())).unwrap();
    let bye = format!(
        "BYE sip:tester@{contact} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKbye1\r\nFrom: {to};tag=peer\r\nTo: {from}\r\nCall-ID: {cid}\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        me = sip.local_addr().unwrap(),
        to = invite.header("To").unwrap(),
        from = invite.header("From").unwrap(),
        cid = invite.call_id(),
    );
    sip.send_to(bye.as_bytes(), contact).unwrap();
    let (ok, _) = receive(&sip);
    assert_eq!((ok.status(), ok.cseq().1.as_str()), (Some(200), "BYE"));
    assert_eq!(call.wait_ended(Duration::from_secs(5)), Some(Ending::Agent));
    assert_eq!(call.wait_reply(Duration::from_millis(100), Duration::from_secs(1)), Heard::Ended(Vec::new()));
    call.hang_up(Duration::from_secs(1)).unwrap();
}
