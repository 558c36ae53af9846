//! The analog line: a plain telephone line through an FXO interface whose audio is an ALSA
//! device and whose hook, ring and loop state come from a line control.
//!
//! - [`line`]: the [`crate::line::Line`] and its thread, which keeps the device's clock and
//!   runs the signalling; [`leg`]: the call leg it hands each answered call;
//! - [`audio`]: the ALSA PCM as 8 kHz 20 ms frames, any device rate, xruns recovered, the
//!   sample clock as the line's time; [`control`]: the hook and the line's sensors, and
//!   [`cm108`] the back-end on a USB sound interface's HID GPIO;
//! - [`cid`]: the caller ID message (FSK SDMF/MDMF and DTMF), the only reader of its bytes;
//! - [`ring`]: ring bursts and cadences per zone, when to answer, when the caller gave up;
//! - [`progress`]: busy, reorder, dial and ringback tone per zone;
//! - [`settings`] (`[fxo.NAME]`), and the installer's tools [`line_test`] and [`inventory`].
//!
//! The DSP they stand on (DTMF, FSK, tone measurement, the echo canceller) is in `audio`. Like
//! every line type this imports `audio`, `line`, `entropy` and `logging` only (ARCHITECTURE.md).

pub mod audio;
pub mod cid;
pub mod cm108;
pub mod control;
pub mod inventory;
pub mod leg;
pub mod line;
pub mod line_test;
pub mod progress;
pub mod ring;
pub mod settings;
