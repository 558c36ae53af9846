//! Pure signal processing over sample slices: no I/O, and no allocation per frame on the call path.

pub mod aec;
pub mod dtmf;
pub mod echo;
pub mod fsk;
pub mod g711;
pub mod resample;
pub mod ring_voltage;
pub mod telephone;
pub mod tones;
pub mod vad;
