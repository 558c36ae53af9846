//! Call-progress tones on an analog line after the caller has hung up: the exchange plays busy
//! or reorder (congestion) tone, or dial tone comes back. An analog line does not always say
//! that the far end is gone (no loop-current drop on many lines), so hearing these tones is
//! how the box knows the call is over; such a call is stored as the caller hanging up.
//!
//! Each 20 ms frame is "tone" when the zone's frequencies (Goertzel, `audio::tones`) hold most of
//! its power at a telephone level; runs of tone and quiet are matched against the zone's
//! cadence, [`CYCLES`] times in a row, so a vowel that happens to sit on 425 Hz is not a busy
//! signal. Dial tone is tone without a break for [`DIAL_TONE_MS`]. Frequencies and cadences
//! are those of asterisk/dahdi-tools `zonedata.c`.

use crate::audio::tones::{Goertzel, dbm0_power};

/// One tone: frequencies played together, and its cadence in ms (on, off, ...; empty is
/// continuous).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tone {
    pub freqs: &'static [f32],
    pub cadence: &'static [u32],
}

/// A country's busy, reorder and dial tones.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToneZone {
    pub name: &'static str,
    pub busy: Tone,
    pub reorder: Tone,
    pub dial: Tone,
    /// What a caller hears while the number they dialled rings (on a transfer, the staff
    /// phone ringing).
    pub ringback: Tone,
}

pub const TONE_ZONES: &[ToneZone] = &[
    ToneZone {
        name: "us",
        busy: Tone { freqs: &[480.0, 620.0], cadence: &[500, 500] },
        reorder: Tone { freqs: &[480.0, 620.0], cadence: &[250, 250] },
        dial: Tone { freqs: &[350.0, 440.0], cadence: &[] },
        ringback: Tone { freqs: &[440.0, 480.0], cadence: &[2000, 4000] },
    },
    ToneZone {
        name: "uk",
        busy: Tone { freqs: &[400.0], cadence: &[375, 375] },
        reorder: Tone { freqs: &[400.0], cadence: &[400, 350, 225, 525] },
        dial: Tone { freqs: &[350.0, 440.0], cadence: &[] },
        ringback: Tone { freqs: &[400.0, 450.0], cadence: &[400, 200, 400, 2000] },
    },
    ToneZone {
        name: "eu",
        busy: Tone { freqs: &[425.0], cadence: &[500, 500] },
        reorder: Tone { freqs: &[425.0], cadence: &[250, 250] },
        dial: Tone { freqs: &[425.0], cadence: &[] },
        ringback: Tone { freqs: &[425.0], cadence: &[1000, 4000] },
    },
    ToneZone {
        name: "de",
        busy: Tone { freqs: &[425.0], cadence: &[480, 480] },
        reorder: Tone { freqs: &[425.0], cadence: &[240, 240] },
        dial: Tone { freqs: &[425.0], cadence: &[] },
        ringback: Tone { freqs: &[425.0], cadence: &[1000, 4000] },
    },
];

/// The tone zone called `name`.
pub fn tone_zone(name: &str) -> Option<&'static ToneZone> {
    TONE_ZONES.iter().find(|z| z.name == name)
}

/// Cadence cycles in a row that make busy or reorder (Asterisk's `busycount` is 3 to 8).
pub const CYCLES: usize = 3;
/// Unbroken dial tone that means the line is back to idle.
pub const DIAL_TONE_MS: u32 = 1500;
/// The least level of a progress tone.
pub const MIN_TONE_DBM0: f32 = -40.0;
/// The share of a frame's power the tone's frequencies must hold.
const TONE_SHARE: f32 = 0.7;
/// A run may differ from the cadence by this much, or by [`TOLERANCE_PCT`] of it if more.
const TOLERANCE_MS: u32 = 60;
const TOLERANCE_PCT: u32 = 20;
const FRAME_MS: u32 = 20;

/// What the last frame held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Heard {
    /// Below a progress tone's level.
    #[default]
    Quiet,
    /// One of the zone's tones (busy, reorder, dial, ringback).
    Tone,
    /// Something else at a telephone level: a voice, a recorded announcement, music.
    Sound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    Busy,
    Reorder,
    DialTone,
}

/// Runs of one tone: on and off alternately, the newest last.
#[derive(Clone, Debug, Default)]
struct Runs {
    on: bool,
    current_ms: u32,
    done: heapless::Deque<u32, 16>,
}

impl Runs {
    /// Adds a frame; true when a run just ended.
    fn push(&mut self, on: bool) -> bool {
        if on == self.on {
            self.current_ms = self.current_ms.saturating_add(FRAME_MS);
            return false;
        }
        if self.done.is_full() {
            self.done.pop_front();
        }
        let _ = self.done.push_back(self.current_ms);
        self.on = on;
        self.current_ms = FRAME_MS;
        true
    }

    /// Whether the last completed runs are `cycles` repeats of `cadence` (which starts with
    /// an "on" run), ending with the run that just ended.
    fn matches(&self, cadence: &[u32], cycles: usize) -> bool {
        let n = cadence.len() * cycles;
        if cadence.is_empty() || self.done.len() < n {
            return false;
        }
        // The run that just ended has the opposite state of the current one.
        let last_was_on = !self.on;
        let skip = self.done.len() - n;
        // Position in the cadence of the last run: any rotation whose state fits.
        (0..cadence.len()).filter(|&end| (end % 2 == 0) == last_was_on).any(|end| {
            self.done.iter().skip(skip).enumerate().all(|(i, &ms)| {
                let want = cadence[(end + cadence.len() * cycles - (n - 1 - i)) % cadence.len()];
                ms.abs_diff(want) <= TOLERANCE_MS.max(want * TOLERANCE_PCT / 100)
            })
        })
    }
}

/// Listens for the zone's progress tones on a line (see the module documentation).
#[derive(Clone, Debug)]
pub struct ProgressDetector {
    zone: &'static ToneZone,
    /// Goertzel filters for the busy/reorder frequencies and the dial tone's.
    busy_filters: heapless::Vec<Goertzel, 2>,
    dial_filters: heapless::Vec<Goertzel, 2>,
    ringback_filters: heapless::Vec<Goertzel, 2>,
    heard: Heard,
    busy_runs: Runs,
    dial_on_ms: u32,
    min_power: f32,
}

impl ProgressDetector {
    pub fn new(zone: &'static ToneZone) -> ProgressDetector {
        let filters = |t: &Tone| t.freqs.iter().map(|&f| Goertzel::new(f, 8000)).collect();
        ProgressDetector {
            zone,
            busy_filters: filters(&zone.busy),
            dial_filters: filters(&zone.dial),
            ringback_filters: filters(&zone.ringback),
            heard: Heard::Quiet,
            busy_runs: Runs::default(),
            dial_on_ms: 0,
            min_power: dbm0_power(MIN_TONE_DBM0),
        }
    }

    /// What the last frame pushed held.
    pub fn heard(&self) -> Heard {
        self.heard
    }

    /// Feeds one 20 ms frame; a progress tone once it is recognised (reported once per run).
    pub fn push(&mut self, frame: &[i16]) -> Option<Progress> {
        let n = frame.len();
        let mut energy = 0f32;
        for &s in frame {
            let x = s as f32;
            energy += x * x;
            for g in self.busy_filters.iter_mut().chain(self.dial_filters.iter_mut()).chain(self.ringback_filters.iter_mut()) {
                g.push(x);
            }
        }
        let power = energy / n.max(1) as f32;
        let loud = power >= self.min_power;
        let share = |filters: &mut heapless::Vec<Goertzel, 2>| filters.iter_mut().map(|g| g.take_power(n)).sum::<f32>();
        let busy_on = share(&mut self.busy_filters) >= TONE_SHARE * power && loud;
        let dial_on = share(&mut self.dial_filters) >= TONE_SHARE * power && loud;
        let ringback_on = share(&mut self.ringback_filters) >= TONE_SHARE * power && loud;
        self.heard = match (loud, busy_on || dial_on || ringback_on) {
            (false, _) => Heard::Quiet,
            (true, true) => Heard::Tone,
            (true, false) => Heard::Sound,
        };

        if dial_on && self.zone.dial.cadence.is_empty() {
            self.dial_on_ms = self.dial_on_ms.saturating_add(FRAME_MS);
            if self.dial_on_ms == DIAL_TONE_MS {
                return Some(Progress::DialTone);
            }
        } else {
            self.dial_on_ms = 0;
        }
        if self.busy_runs.push(busy_on) {
            if self.busy_runs.matches(self.zone.busy.cadence, CYCLES) {
                self.busy_runs = Runs { on: self.busy_runs.on, ..Runs::default() };
                return Some(Progress::Busy);
            }
            if self.busy_runs.matches(self.zone.reorder.cadence, CYCLES) {
                self.busy_runs = Runs { on: self.busy_runs.on, ..Runs::default() };
                return Some(Progress::Reorder);
            }
        }
        None
    }
}

/// Appends `ms` of `tone` at `dbm0` per frequency, following its cadence (8 kHz): for tests and
/// the line test's fixtures.
pub fn push_progress_tone(out: &mut Vec<i16>, tone: &Tone, dbm0: f32, ms: u32) {
    use crate::audio::tones::{push_silence, push_tone};
    if tone.cadence.is_empty() {
        push_tone(out, tone.freqs, dbm0, ms, 8000);
        return;
    }
    let mut left = ms;
    for (i, &d) in tone.cadence.iter().cycle().enumerate() {
        let d = d.min(left);
        if i % 2 == 0 {
            push_tone(out, tone.freqs, dbm0, d, 8000);
        } else {
            push_silence(out, d, 8000);
        }
        left -= d;
        if left == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(zone: &'static ToneZone, audio: &[i16]) -> Vec<(usize, Progress)> {
        let mut d = ProgressDetector::new(zone);
        audio.chunks(160).enumerate().filter_map(|(i, f)| d.push(f).map(|p| (i * 20, p))).collect()
    }

    #[test]
    fn busy_reorder_and_dial_tone_in_every_zone() {
        for zone in TONE_ZONES {
            for (tone, want) in [(&zone.busy, Progress::Busy), (&zone.reorder, Progress::Reorder)] {
                let mut audio = vec![0i16; 1600];
                push_progress_tone(&mut audio, tone, -20.0, 6000);
                let got = detect(zone, &audio);
                assert!(!got.is_empty(), "{} {want:?}: nothing", zone.name);
                assert_eq!(got[0].1, want, "{} {got:?}", zone.name);
                let cycle: u32 = tone.cadence.iter().sum();
                assert!(got[0].0 as u32 <= 200 + cycle * (CYCLES as u32 + 1), "{} {want:?} took {} ms", zone.name, got[0].0);
            }
            let mut audio = vec![0i16; 800];
            push_progress_tone(&mut audio, &zone.dial, -15.0, 3000);
            assert_eq!(detect(zone, &audio).iter().map(|p| p.1).collect::<Vec<_>>(), [Progress::DialTone], "{}", zone.name);
        }
    }

    #[test]
    fn quiet_tones_wrong_cadences_and_wrong_frequencies_are_not_progress() {
        let us = tone_zone("us").unwrap();
        let mut quiet = Vec::new();
        push_progress_tone(&mut quiet, &us.busy, -50.0, 6000);
        assert!(detect(us, &quiet).is_empty());
        // The right frequencies, 1 s on / 1 s off: not a cadence the US uses.
        let slow = Tone { freqs: us.busy.freqs, cadence: &[1000, 1000] };
        let mut audio = Vec::new();
        push_progress_tone(&mut audio, &slow, -20.0, 8000);
        assert!(detect(us, &audio).is_empty());
        // European busy (425 Hz) on a US line.
        let mut eu_busy = Vec::new();
        push_progress_tone(&mut eu_busy, &tone_zone("eu").unwrap().busy, -20.0, 6000);
        assert!(detect(us, &eu_busy).is_empty());
        // Two busy cycles, then quiet: not yet.
        let mut short = Vec::new();
        push_progress_tone(&mut short, &us.busy, -20.0, 1900);
        short.extend(vec![0i16; 8000 * 3]);
        assert!(detect(us, &short).is_empty());
    }

    #[test]
    fn ringback_is_a_tone_and_a_voice_is_sound() {
        for zone in TONE_ZONES {
            let mut d = ProgressDetector::new(zone);
            let mut ringback = Vec::new();
            push_progress_tone(&mut ringback, &zone.ringback, -20.0, 400);
            for f in ringback.chunks(160).take(15) {
                d.push(f);
                assert_eq!(d.heard(), Heard::Tone, "{}", zone.name);
            }
            // A vowel-like sound: several harmonics of a 120 Hz voice.
            let mut voice = vec![0i16; 160];
            for h in [2.0f32, 3.0, 5.0, 7.0, 9.0] {
                let mut part = Vec::new();
                crate::audio::tones::push_tone(&mut part, &[120.0 * h], -22.0, 20, 8000);
                voice.iter_mut().zip(part).for_each(|(v, p)| *v = v.saturating_add(p));
            }
            d.push(&voice);
            assert_eq!(d.heard(), Heard::Sound, "{}", zone.name);
            d.push(&[0; 160]);
            assert_eq!(d.heard(), Heard::Quiet);
        }
    }
}
