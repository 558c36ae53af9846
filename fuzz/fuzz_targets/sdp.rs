//! Any text as an SDP offer: parsing and answering never panic.
#![no_main]

use frontdesk::sip::sdp::{LocalMedia, SessionDescription, answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(offer) = SessionDescription::parse(text)
    {
        let local = LocalMedia::new("127.0.0.1".parse().unwrap(), 20000);
        let _ = answer(&offer, &local, 1, 1);
    }
});
