//! Any datagram as RTP, RTCP and a telephone event: no panic.
#![no_main]

use frontdesk::rtp::{dtmf::TelephoneEvent, packet::RtpPacket, rtcp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = RtpPacket::new_checked(data) {
        let _ = TelephoneEvent::parse(p.payload());
    }
    for packet in rtcp::compound(data) {
        let _ = packet;
    }
});
