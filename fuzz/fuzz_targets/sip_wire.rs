//! Every byte string through the SIP wire layer, as a datagram and as a stream: no panic, and a
//! rejection is always a response we can serialise.
#![no_main]

use frontdesk::sip::wire::{self, Frame, Policy, Transport};
use libfuzzer_sys::fuzz_target;

const POLICY: Policy = Policy {
    methods: &["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY", "REFER"],
    supported_options: &[],
    max_message_bytes: 65_535,
};

fuzz_target!(|data: &[u8]| {
    for transport in [Transport::Udp, Transport::Tcp] {
        if let Err(e) = wire::parse(data, transport, &POLICY)
            && let Some(rej) = e.rejection
        {
            let bytes = wire::rejection_response(&rej, "fuzz", "frontdesk");
            assert!(bytes.starts_with(b"SIP/2.0 "));
        }
    }
    let mut rest = data;
    while let Ok(Frame::Message(n) | Frame::KeepAlive(n)) = wire::frame_stream(rest, &POLICY) {
        if n == 0 || n > rest.len() {
            break;
        }
        rest = &rest[n..];
    }
});
