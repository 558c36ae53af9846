//! 1200 baud FSK reception (Bell 202 and ITU-T V.23), for the caller ID an analog line sends
//! between the rings: asynchronous bytes (a start bit, eight data bits least significant
//! first, a stop bit) out of 8 kHz audio.
//!
//! # Method
//!
//! As spandsp's `fsk.c` does it: each sample is correlated with the mark and the space
//! frequency (in phase and in quadrature) over a sliding window of one bit, and the bit is
//! whichever correlation is stronger, whatever the level. A byte starts at a mark-to-space
//! edge; its bits are read at their middles, counted from that edge and kept in step by the
//! transitions inside the byte, and a byte whose stop bit
//! is not mark is dropped (the receiver then waits for mark again). Below
//! [`MIN_CARRIER_DBM0`] nothing is received. What the bytes mean (the caller ID message and its
//! checksum) is for the caller ID layer: noise makes bytes too.
//!
//! Nothing is allocated per sample: the windows are fixed arrays and the bytes go to a
//! caller-supplied sink.

use super::tones::dbm0_power;

/// An FSK modem's frequencies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FskModem {
    pub mark: f32,
    pub space: f32,
    pub baud: f32,
}

/// Bell 202: North American caller ID (mark 1200 Hz, space 2200 Hz).
pub const BELL202: FskModem = FskModem { mark: 1200.0, space: 2200.0, baud: 1200.0 };
/// ITU-T V.23 channel 1: European (ETSI EN 300 659, BT SIN227) caller ID (mark 1300 Hz,
/// space 2100 Hz).
pub const V23: FskModem = FskModem { mark: 1300.0, space: 2100.0, baud: 1200.0 };

/// Below this level (power over one bit) there is no carrier.
pub const MIN_CARRIER_DBM0: f32 = -48.0;

const RATE: f32 = 8000.0;
/// Correlation window: one bit at 8 kHz and 1200 baud (6.67 samples).
const WINDOW: usize = 7;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Uart {
    /// Waiting for mark (after a framing error, or at the start).
    WaitMark,
    /// Mark: waiting for the edge of a start bit.
    Idle,
    /// In a byte whose start edge was at `start` (sample index); `bits` read so far.
    Byte { start: f64, bits: u16, next: u8 },
}

/// The FSK receiver of one line.
#[derive(Clone, Debug)]
pub struct FskReceiver {
    modem: FskModem,
    /// Phase steps of the two reference oscillators, and their phases (radians).
    step: [f32; 2],
    phase: [f32; 2],
    /// The last WINDOW products x·cos, x·sin for mark and space, and x² (ring buffers).
    products: [[f32; 5]; WINDOW],
    sums: [f32; 5],
    at: usize,
    /// Samples seen, for bit timing.
    n: u64,
    samples_per_bit: f64,
    min_power: f32,
    last_mark: bool,
    uart: Uart,
    /// Consecutive samples with carrier.
    carrier: u32,
}

impl FskReceiver {
    pub fn new(modem: FskModem) -> FskReceiver {
        let w = |f: f32| 2.0 * std::f32::consts::PI * f / RATE;
        FskReceiver {
            modem,
            step: [w(modem.mark), w(modem.space)],
            phase: [0.0; 2],
            products: [[0.0; 5]; WINDOW],
            sums: [0.0; 5],
            at: 0,
            n: 0,
            samples_per_bit: RATE as f64 / modem.baud as f64,
            min_power: dbm0_power(MIN_CARRIER_DBM0),
            last_mark: false,
            uart: Uart::WaitMark,
            carrier: 0,
        }
    }

    pub fn modem(&self) -> FskModem {
        self.modem
    }

    /// True while a carrier (either tone, loud enough) is being received.
    pub fn has_carrier(&self) -> bool {
        self.carrier as usize >= WINDOW
    }

    /// Feeds 8 kHz samples; every byte received is given to `byte`.
    pub fn push(&mut self, samples: &[i16], mut byte: impl FnMut(u8)) {
        for &s in samples {
            if let Some(b) = self.sample(s as f32) {
                byte(b);
            }
        }
    }

    fn sample(&mut self, x: f32) -> Option<u8> {
        let (sm, cm) = self.phase[0].sin_cos();
        let (ss, cs) = self.phase[1].sin_cos();
        for i in 0..2 {
            self.phase[i] += self.step[i];
            if self.phase[i] > std::f32::consts::PI {
                self.phase[i] -= 2.0 * std::f32::consts::PI;
            }
        }
        let p = [x * cm, x * sm, x * cs, x * ss, x * x];
        let old = std::mem::replace(&mut self.products[self.at], p);
        self.at = (self.at + 1) % WINDOW;
        for i in 0..5 {
            self.sums[i] += p[i] - old[i];
        }
        self.n += 1;
        // Rounding drift of the running sums is reset whenever the window is silent.
        if self.sums[4] < 0.0 {
            self.sums = [0.0; 5];
        }
        let power = self.sums[4] / WINDOW as f32;
        if power < self.min_power {
            // Whatever comes after a loss of carrier starts from mark: a transmitter that
            // starts with a start bit (no leader) still gets its first byte read.
            self.carrier = 0;
            self.uart = Uart::Idle;
            self.last_mark = true;
            return None;
        }
        self.carrier = self.carrier.saturating_add(1);
        let mark_p = self.sums[0] * self.sums[0] + self.sums[1] * self.sums[1];
        let space_p = self.sums[2] * self.sums[2] + self.sums[3] * self.sums[3];
        let mark = mark_p > space_p;
        let edge = self.last_mark && !mark;
        let changed = self.last_mark != mark;
        self.last_mark = mark;
        let now = self.n as f64;
        // Every transition inside a byte lies on a bit boundary: the byte's clock is pulled
        // half-way towards it, so a transmitter a few percent off 1200 baud (minimodem's is
        // 7 samples a bit at 8 kHz, 1143 baud) is still read at the middles of its bits.
        if changed && let Uart::Byte { start, bits, next } = self.uart {
            let at = (now - 0.5 - start) / self.samples_per_bit;
            let boundary = at.round();
            if boundary >= 1.0 {
                self.uart = Uart::Byte { start: start + (at - boundary) * self.samples_per_bit * 0.5, bits, next };
            }
        }
        match self.uart {
            Uart::WaitMark => {
                if mark {
                    self.uart = Uart::Idle;
                }
                None
            }
            Uart::Idle => {
                if edge {
                    // The edge lies between this sample and the one before.
                    self.uart = Uart::Byte { start: now - 0.5, bits: 0, next: 0 };
                }
                None
            }
            Uart::Byte { start, bits, next } => {
                let centre = start + (next as f64 + 0.5) * self.samples_per_bit;
                if now < centre {
                    return None;
                }
                match next {
                    // The start bit must still be space at its middle: else it was a glitch.
                    0 if mark => {
                        self.uart = Uart::Idle;
                        None
                    }
                    0..=8 => {
                        let bits = if next > 0 && mark { bits | 1 << (next - 1) } else { bits };
                        self.uart = Uart::Byte { start, bits, next: next + 1 };
                        None
                    }
                    _ => {
                        if mark {
                            self.uart = Uart::Idle;
                            Some(bits as u8)
                        } else {
                            self.uart = Uart::WaitMark;
                            None
                        }
                    }
                }
            }
        }
    }
}

/// Appends `bytes` as 1200 baud asynchronous FSK at 8 kHz and `dbm0`, after `mark_bits` of
/// mark (phase-continuous). For tests and fixtures; the project's own tests of caller ID
/// decode bursts made by an independent modem (minimodem) too.
pub fn push_fsk(out: &mut Vec<i16>, modem: FskModem, bytes: &[u8], mark_bits: usize, dbm0: f32) {
    let peak = super::tones::DBM0_PEAK * 10f32.powf(dbm0 / 20.0);
    let spb = RATE as f64 / modem.baud as f64;
    let mut bits = vec![true; mark_bits];
    for &b in bytes {
        bits.push(false);
        bits.extend((0..8).map(|i| b >> i & 1 == 1));
        bits.push(true);
    }
    let total = (bits.len() as f64 * spb).round() as usize;
    let mut phase = 0f32;
    for i in 0..total {
        let bit = bits[((i as f64) / spb) as usize];
        let f = if bit { modem.mark } else { modem.space };
        phase += 2.0 * std::f32::consts::PI * f / RATE;
        if phase > std::f32::consts::PI {
            phase -= 2.0 * std::f32::consts::PI;
        }
        out.push((phase.sin() * peak).round() as i16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(modem: FskModem, audio: &[i16]) -> Vec<u8> {
        let mut rx = FskReceiver::new(modem);
        let mut got = Vec::new();
        for frame in audio.chunks(160) {
            rx.push(frame, |b| got.push(b));
        }
        got
    }

    #[test]
    fn bytes_round_trip_on_both_modems_at_all_levels() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        for modem in [BELL202, V23] {
            for level in [-6.0f32, -20.0, -40.0] {
                let mut audio = vec![0i16; 400];
                push_fsk(&mut audio, modem, &bytes, 80, level);
                audio.extend([0i16; 400]);
                assert_eq!(receive(modem, &audio), bytes, "{modem:?} at {level} dBm0");
            }
        }
    }

    #[test]
    fn a_transmitter_off_speed_is_still_read() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        for baud in [1142.86f32, 1180.0, 1220.0] {
            let mut audio = vec![0i16; 400];
            push_fsk(&mut audio, FskModem { baud, ..BELL202 }, &bytes, 80, -20.0);
            audio.extend([0i16; 400]);
            assert_eq!(receive(BELL202, &audio), bytes, "{baud} baud");
        }
    }

    #[test]
    fn silence_and_quiet_noise_give_nothing() {
        assert!(receive(BELL202, &[0i16; 8000]).is_empty());
        let mut x = 1u32;
        let hiss: Vec<i16> = (0..8000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((x >> 16) as i16) >> 10
            })
            .collect();
        assert!(receive(BELL202, &hiss).is_empty(), "noise at about -60 dBm0 is below the carrier floor");
    }
}
