//! RTP media: packets (zero-copy views), the jitter buffer, RFC 4733 telephone events, RTCP,
//! and the per-call media thread that keeps the 20 ms clock.

pub mod dtmf;
pub mod jitter;
pub mod pacing;
pub mod packet;
pub mod rtcp;
pub mod session;
pub mod settings;
pub mod srtp;
