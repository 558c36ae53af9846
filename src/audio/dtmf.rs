//! In-band DTMF detection (and generation) on 8 kHz line audio: the keypad of a caller on an
//! analog line, where no RFC 4733 event carries it, and DTMF caller ID.
//!
//! # Method
//!
//! The classic receiver of Asterisk's `main/dsp.c` and spandsp's `dtmf.c`: Goertzel filters on
//! the eight DTMF frequencies over blocks of [`BLOCK`] samples (12.75 ms). A block holds a key
//! when
//! - the strongest row and column tones are each at least [`MIN_TONE_DBM0`];
//! - their twist is within [`NORMAL_TWIST_DB`] (column louder, as a line's high-frequency
//!   loss makes it less likely) and [`REVERSE_TWIST_DB`] (row louder);
//! - every other row and column is at least [`RELATIVE_PEAK_DB`] below the strongest;
//! - the two tones hold at least [`TONE_SHARE`] of the block's power: speech spreads its power
//!   over many frequencies, a key puts nearly all of it into two.
//!
//! A key is down after [`HITS_TO_BEGIN`] blocks in a row (25 ms, so a 40 ms key is always seen)
//! and up after [`MISSES_TO_END`] blocks without it; each press is reported once, when it goes
//! down. State is a few numbers: nothing is allocated per frame.

use super::tones::{Goertzel, dbm0_power, push_silence, push_tone};

/// Samples per Goertzel block at 8 kHz (Asterisk's `DTMF_GSIZE`).
pub const BLOCK: usize = 102;
/// The least level of each of the two tones.
pub const MIN_TONE_DBM0: f32 = -36.0;
/// Column tone above the row tone, at most (Asterisk `DEF_DTMF_NORMAL_TWIST` 6.31 = 8 dB).
pub const NORMAL_TWIST_DB: f32 = 8.0;
/// Row tone above the column tone, at most (Asterisk `DEF_DTMF_REVERSE_TWIST` 2.51 = 4 dB).
pub const REVERSE_TWIST_DB: f32 = 4.0;
/// How far every other row (column) must be below the strongest one.
pub const RELATIVE_PEAK_DB: f32 = 8.0;
/// The share of the block's power the two tones must hold.
pub const TONE_SHARE: f32 = 0.7;
/// Blocks in a row that make a key down (Asterisk `DEF_DTMF_HITS_TO_BEGIN`).
pub const HITS_TO_BEGIN: u8 = 2;
/// Blocks in a row without it that make a key up (Asterisk `DEF_DTMF_MISSES_TO_END`).
pub const MISSES_TO_END: u8 = 3;

const RATE: u32 = 8000;
pub const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
pub const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [['1', '2', '3', 'A'], ['4', '5', '6', 'B'], ['7', '8', '9', 'C'], ['*', '0', '#', 'D']];

fn db(ratio_db: f32) -> f32 {
    10f32.powf(ratio_db / 10.0)
}

/// The row and column frequencies of a key (0-9, *, #, A-D); None for anything else.
pub fn frequencies(key: char) -> Option<(f32, f32)> {
    let key = key.to_ascii_uppercase();
    KEYS.iter().enumerate().find_map(|(r, row)| row.iter().position(|&k| k == key).map(|c| (ROWS[r], COLS[c])))
}

/// Appends the tones of `keys` at 8 kHz: each key `on_ms` long at `dbm0` per tone, followed by
/// `off_ms` of silence. Characters that are not keys are skipped.
pub fn push_keys(out: &mut Vec<i16>, keys: &str, dbm0: f32, on_ms: u32, off_ms: u32) {
    for (row, col) in keys.chars().filter_map(frequencies) {
        push_tone(out, &[row, col], dbm0, on_ms, RATE);
        push_silence(out, off_ms, RATE);
    }
}

/// The DTMF receiver of one line (see the module documentation).
#[derive(Clone, Debug)]
pub struct DtmfDetector {
    rows: [Goertzel; 4],
    cols: [Goertzel; 4],
    /// Samples and power summed in the current block.
    n: usize,
    energy: f32,
    /// The key the last blocks held, and for how many in a row.
    candidate: Option<char>,
    hits: u8,
    /// The key down now, and blocks in a row without it.
    down: Option<char>,
    misses: u8,
    min_tone: f32,
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl DtmfDetector {
    pub fn new() -> DtmfDetector {
        DtmfDetector {
            rows: ROWS.map(|f| Goertzel::new(f, RATE)),
            cols: COLS.map(|f| Goertzel::new(f, RATE)),
            n: 0,
            energy: 0.0,
            candidate: None,
            hits: 0,
            down: None,
            misses: 0,
            min_tone: dbm0_power(MIN_TONE_DBM0),
        }
    }

    /// The key held down now, if any.
    pub fn key_down(&self) -> Option<char> {
        self.down
    }

    /// Feeds 8 kHz samples (any count); returns the key pressed in them, if one went down.
    /// (At most one key can go down in 20 ms: a press and the gap after it take 80 ms.)
    pub fn push(&mut self, samples: &[i16]) -> Option<char> {
        let mut pressed = None;
        for &s in samples {
            let x = s as f32;
            for g in self.rows.iter_mut().chain(self.cols.iter_mut()) {
                g.push(x);
            }
            self.energy += x * x;
            self.n += 1;
            if self.n == BLOCK {
                let key = self.block_key();
                if let Some(k) = self.step(key) {
                    pressed = Some(k);
                }
            }
        }
        pressed
    }

    /// Ends a block: the key it holds, if any.
    fn block_key(&mut self) -> Option<char> {
        let n = self.n;
        let row_p = self.rows.each_mut().map(|g| g.take_power(n));
        let col_p = self.cols.each_mut().map(|g| g.take_power(n));
        let power = self.energy / n as f32;
        self.n = 0;
        self.energy = 0.0;
        let (r, row) = strongest(&row_p);
        let (c, col) = strongest(&col_p);
        if row < self.min_tone || col < self.min_tone {
            return None;
        }
        if col > row * db(NORMAL_TWIST_DB) || row > col * db(REVERSE_TWIST_DB) {
            return None;
        }
        let peak = db(RELATIVE_PEAK_DB);
        if row_p.iter().enumerate().any(|(i, &p)| i != r && p * peak > row)
            || col_p.iter().enumerate().any(|(i, &p)| i != c && p * peak > col)
        {
            return None;
        }
        if row + col < TONE_SHARE * power {
            return None;
        }
        Some(KEYS[r][c])
    }

    /// Moves the key state on by one block; the key that went down, if any.
    fn step(&mut self, key: Option<char>) -> Option<char> {
        if key.is_some() && key == self.candidate {
            self.hits = self.hits.saturating_add(1);
        } else {
            self.candidate = key;
            self.hits = u8::from(key.is_some());
        }
        match self.down {
            Some(d) if key == Some(d) => {
                self.misses = 0;
                None
            }
            Some(_) => {
                self.misses += 1;
                if self.misses >= MISSES_TO_END {
                    self.down = None;
                    self.misses = 0;
                    return self.start_if_held();
                }
                None
            }
            None => self.start_if_held(),
        }
    }

    fn start_if_held(&mut self) -> Option<char> {
        if self.hits >= HITS_TO_BEGIN {
            self.down = self.candidate;
            self.misses = 0;
            self.down
        } else {
            None
        }
    }
}

fn strongest(p: &[f32; 4]) -> (usize, f32) {
    p.iter().copied().enumerate().fold((0, f32::MIN), |best, (i, v)| if v > best.1 { (i, v) } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(audio: &[i16]) -> String {
        let mut d = DtmfDetector::new();
        // In 20 ms frames, as a line delivers them.
        audio.chunks(160).filter_map(|f| d.push(f)).collect()
    }

    const ALL: &str = "123A456B789C*0#D";

    #[test]
    fn all_sixteen_keys_at_every_level() {
        for level in [-4.0f32, -10.0, -20.0, -30.0, -34.0] {
            let mut audio = Vec::new();
            push_silence(&mut audio, 30, 8000);
            push_keys(&mut audio, ALL, level, 50, 50);
            assert_eq!(detect(&audio), ALL, "{level} dBm0 per tone");
        }
    }

    #[test]
    fn too_quiet_keys_are_not_heard() {
        let mut audio = Vec::new();
        push_keys(&mut audio, "159#", -45.0, 80, 80);
        assert_eq!(detect(&audio), "");
    }

    #[test]
    fn twist_within_limits_is_accepted_beyond_is_rejected() {
        let key = |row_db: f32, col_db: f32| {
            let mut a = Vec::new();
            push_tone(&mut a, &[852.0], row_db, 60, 8000);
            let mut b = Vec::new();
            push_tone(&mut b, &[1336.0], col_db, 60, 8000);
            let mut mix: Vec<i16> = a.iter().zip(&b).map(|(x, y)| x.saturating_add(*y)).collect();
            push_silence(&mut mix, 60, 8000);
            detect(&mix)
        };
        assert_eq!(key(-20.0, -13.0), "8", "normal twist 7 dB");
        assert_eq!(key(-13.0, -16.5), "8", "reverse twist 3.5 dB");
        assert_eq!(key(-20.0, -10.0), "", "normal twist 10 dB");
        assert_eq!(key(-13.0, -19.0), "", "reverse twist 6 dB");
    }

    #[test]
    fn duration_and_gaps() {
        // 40 ms keys with 40 ms gaps (the fastest Q.24 dialling) are all seen.
        let mut fast = Vec::new();
        push_keys(&mut fast, "0123456789", -15.0, 40, 40);
        assert_eq!(detect(&fast), "0123456789");
        // A 15 ms blip is not a key.
        let mut blip = Vec::new();
        push_keys(&mut blip, "5", -15.0, 15, 100);
        assert_eq!(detect(&blip), "");
        // A long press is one key; the same key again after a gap is a second one.
        let mut long = Vec::new();
        push_keys(&mut long, "7", -15.0, 900, 60);
        push_keys(&mut long, "7", -15.0, 60, 60);
        assert_eq!(detect(&long), "77");
    }

    #[test]
    fn keys_survive_noise_and_frequency_error() {
        let mut audio = Vec::new();
        push_keys(&mut audio, ALL, -20.0, 60, 60);
        crate::audio::tones::add_white_noise(&mut audio, -40.0, 7);
        assert_eq!(detect(&audio), ALL, "20 dB signal to noise");
        // 1.5 % off frequency (the Q.24 acceptance limit).
        let mut off = Vec::new();
        for key in ['1', '5', '9', 'D'] {
            let (r, c) = frequencies(key).unwrap();
            push_tone(&mut off, &[r * 1.015, c * 0.985], -15.0, 60, 8000);
            push_silence(&mut off, 60, 8000);
        }
        assert_eq!(detect(&off), "159D");
    }

    #[test]
    fn single_tones_and_noise_are_not_keys() {
        let mut audio = Vec::new();
        for f in ROWS.iter().chain(COLS.iter()).chain([350.0, 440.0, 425.0, 1000.0].iter()) {
            push_tone(&mut audio, &[*f], -10.0, 200, 8000);
        }
        // Dial tone (350 + 440 Hz) and busy tone (480 + 620 Hz).
        push_tone(&mut audio, &[350.0, 440.0], -13.0, 500, 8000);
        push_tone(&mut audio, &[480.0, 620.0], -13.0, 500, 8000);
        let mut noise = vec![0i16; 8000 * 5];
        crate::audio::tones::add_white_noise(&mut noise, -10.0, 3);
        audio.extend_from_slice(&noise);
        assert_eq!(detect(&audio), "");
    }

    #[test]
    fn frequencies_of_keys() {
        assert_eq!(frequencies('5'), Some((770.0, 1336.0)));
        assert_eq!(frequencies('d'), Some((941.0, 1633.0)));
        assert_eq!(frequencies('x'), None);
    }
}
