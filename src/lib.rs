//! Frontdesk: a clinic's phone answered on the box itself.
//!
//! Layers, from the wire up: `audio` (pure DSP), `speech` (Whisper and Piper), and the
//! command-line tools in `cli`. The SIP/RTP stack (`sip`, `rtp`), call legs (`line`), the
//! conversation engine (`call`) and the encrypted record store (`store`) build on these.

pub mod assist;
pub mod audio;
pub mod bench;
pub mod bench_memory;
pub mod bench_records;
pub mod bench_signalling;
pub mod bench_soak;
pub mod bench_turns;
pub mod call;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod entropy;
pub mod fxo;
pub mod health;
pub mod line;
pub mod logging;
pub mod loopback_caller;
pub mod metrics;
pub mod record;
pub mod rtp;
pub mod sip;
pub mod speech;
pub mod staff;
pub mod store;
pub mod tls_files;
pub mod wav;
pub mod web;
