//! Ringing on an analog line, before the call is answered: which bursts are rings, when to
//! answer, when the caller ID may be listened for, and when the caller gave up.
//!
//! The line control reports either a debounced "ringing" bit (a DAA register, a modem's RING)
//! or raw detector pulses at the ringing frequency (an opto-coupler on a GPIO line, 20-50 pulses
//! a second). Both become bursts here: pulses closer than [`PULSE_GAP_MS`] are one burst. A
//! burst shorter than [`MIN_BURST_MS`] is a glitch (a line test, a tinkle of a phone elsewhere
//! on the line). Bursts closer than the zone's `join_ms` make one ring (the UK's "ring-ring"),
//! and a ring is counted when it ends.
//!
//! Cadences (ms on / off) are those of asterisk/dahdi-tools `zonedata.c`. Time is the line's
//! sample clock in ms, so a file-driven test runs faster than real time.

/// A country's ringing, as far as answering is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone {
    pub name: &'static str,
    /// The cadence, on and off alternately, for documentation and fixtures.
    pub cadence: &'static [u32],
    /// Silences shorter than this are inside one ring.
    pub join_ms: u32,
    /// No ring for this long after the last one ended: the caller gave up.
    pub give_up_ms: u32,
}

/// The zones the config may name (`fxo.zone`).
pub const ZONES: &[Zone] = &[
    Zone { name: "us", cadence: &[2000, 4000], join_ms: 1000, give_up_ms: 8000 },
    Zone { name: "uk", cadence: &[400, 200, 400, 2000], join_ms: 1000, give_up_ms: 6000 },
    // Germany and most of continental Europe (ETSI ES 201 970: 1 s on, 4 s off).
    Zone { name: "eu", cadence: &[1000, 4000], join_ms: 1000, give_up_ms: 8000 },
    Zone { name: "de", cadence: &[1000, 4000], join_ms: 1000, give_up_ms: 8000 },
];

/// The zone called `name`.
pub fn zone(name: &str) -> Option<Zone> {
    ZONES.iter().copied().find(|z| z.name == name)
}

/// Raw ring pulses closer than this are one burst.
pub const PULSE_GAP_MS: u64 = 150;
/// A burst shorter than this is not ringing.
pub const MIN_BURST_MS: u64 = 150;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingEvent {
    /// Ring `n` (from 1) started.
    Started(u32),
    /// Ring `n` ended: the caller ID sent after it may now be heard.
    Ended(u32),
    /// The configured number of rings has rung: answer now.
    Answer,
    /// No ring within the zone's time after the last: the caller hung up before the answer.
    GaveUp,
}

/// Counts the rings of one incoming call (see the module documentation).
#[derive(Clone, Debug)]
pub struct RingCounter {
    zone: Zone,
    answer_after: u32,
    /// The burst in progress: when it started and when it was last seen ringing.
    burst: Option<(u64, u64)>,
    /// Whether the ring bit is on now (ring-bit back-ends).
    bit: bool,
    /// The ring in progress (bursts joined): started at, and the end of its last burst.
    ring: Option<(u64, u64)>,
    rings: u32,
    /// When the last ring ended.
    last_end: Option<u64>,
    answered: bool,
}

impl RingCounter {
    /// Answers when ring `answer_after` (at least 1) ends.
    pub fn new(zone: Zone, answer_after: u32) -> RingCounter {
        RingCounter {
            zone,
            answer_after: answer_after.max(1),
            burst: None,
            bit: false,
            ring: None,
            rings: 0,
            last_end: None,
            answered: false,
        }
    }

    /// Rings counted so far.
    pub fn rings(&self) -> u32 {
        self.rings
    }

    /// True while a ring is in progress (the audio is then ringing voltage, not caller ID).
    pub fn ringing(&self) -> bool {
        self.burst.is_some() || self.ring.is_some()
    }

    /// True while ringing voltage is on the line (a burst in progress): the audio is not
    /// caller ID then.
    pub fn in_burst(&self) -> bool {
        self.burst.is_some()
    }

    /// True once this call has rung (a burst long enough to be a ring was seen).
    pub fn has_rung(&self) -> bool {
        self.rings > 0 || self.ring.is_some()
    }

    /// A raw detector pulse at `now_ms`.
    pub fn pulse(&mut self, now_ms: u64, out: &mut impl FnMut(RingEvent)) {
        self.tick(now_ms, out);
        self.burst = Some(match self.burst {
            Some((start, _)) => (start, now_ms),
            None => (now_ms, now_ms),
        });
        self.see_burst(now_ms, out);
    }

    /// The ringing bit changed at `now_ms`.
    pub fn ring_bit(&mut self, on: bool, now_ms: u64, out: &mut impl FnMut(RingEvent)) {
        self.tick(now_ms, out);
        self.bit = on;
        if on {
            if self.burst.is_none() {
                self.burst = Some((now_ms, now_ms));
            }
        } else if let Some((start, _)) = self.burst.take() {
            self.end_burst(start, now_ms, out);
        }
    }

    /// Time passes: ends bursts whose pulses stopped, rings whose silence is long enough, and
    /// a call whose rings stopped.
    pub fn tick(&mut self, now_ms: u64, out: &mut impl FnMut(RingEvent)) {
        if self.bit {
            if let Some((start, _)) = self.burst {
                self.burst = Some((start, now_ms));
                self.see_burst(now_ms, out);
            }
        } else if let Some((start, last)) = self.burst
            && now_ms.saturating_sub(last) > PULSE_GAP_MS
        {
            self.burst = None;
            self.end_burst(start, last, out);
        }
        if self.burst.is_none()
            && let Some((_, end)) = self.ring
            && now_ms.saturating_sub(end) >= self.zone.join_ms as u64
        {
            self.ring = None;
            self.rings += 1;
            self.last_end = Some(end);
            out(RingEvent::Ended(self.rings));
            if self.rings >= self.answer_after && !self.answered {
                self.answered = true;
                out(RingEvent::Answer);
            }
        }
        if !self.answered
            && self.ring.is_none()
            && self.burst.is_none()
            && let Some(end) = self.last_end
            && now_ms.saturating_sub(end) >= self.zone.give_up_ms as u64
        {
            self.last_end = None;
            out(RingEvent::GaveUp);
        }
    }

    /// A burst long enough to be ringing starts a ring (or continues the one in progress).
    fn see_burst(&mut self, now_ms: u64, out: &mut impl FnMut(RingEvent)) {
        let Some((start, _)) = self.burst else { return };
        if now_ms.saturating_sub(start) < MIN_BURST_MS {
            return;
        }
        match self.ring {
            Some((ring_start, _)) => self.ring = Some((ring_start, now_ms)),
            None => {
                self.ring = Some((start, now_ms));
                out(RingEvent::Started(self.rings + 1));
            }
        }
    }

    fn end_burst(&mut self, start: u64, end: u64, out: &mut impl FnMut(RingEvent)) {
        if end.saturating_sub(start) >= MIN_BURST_MS {
            self.see_burst(end, out);
            if let Some((s, _)) = self.ring {
                self.ring = Some((s, end));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives a counter with raw pulses at 20 Hz following `cadence` (on, off, ...) for
    /// `cycles`, then `tail_ms` of quiet; the events with their times.
    fn pulsed(zone: Zone, answer_after: u32, cadence: &[u32], cycles: usize, tail_ms: u64) -> Vec<(u64, RingEvent)> {
        let mut c = RingCounter::new(zone, answer_after);
        let mut ev = Vec::new();
        let mut t = 0u64;
        for _ in 0..cycles {
            for (i, &d) in cadence.iter().enumerate() {
                let end = t + d as u64;
                while t < end {
                    if i % 2 == 0 && t.is_multiple_of(50) {
                        c.pulse(t, &mut |e| ev.push((t, e)));
                    } else {
                        c.tick(t, &mut |e| ev.push((t, e)));
                    }
                    t += 10;
                }
            }
        }
        let end = t + tail_ms;
        while t < end {
            c.tick(t, &mut |e| ev.push((t, e)));
            t += 10;
        }
        ev
    }

    fn kinds(ev: &[(u64, RingEvent)]) -> Vec<RingEvent> {
        ev.iter().map(|e| e.1).collect()
    }

    #[test]
    fn us_rings_are_counted_and_answered_after_the_second() {
        let us = zone("us").unwrap();
        let ev = pulsed(us, 2, us.cadence, 2, 0);
        use RingEvent::*;
        assert_eq!(kinds(&ev), [Started(1), Ended(1), Started(2), Ended(2), Answer]);
        // Ring 1 ends 1 s after its last pulse (the join time), well before ring 2.
        let ended = ev.iter().find(|e| e.1 == Ended(1)).unwrap().0;
        assert!((2950..=3000).contains(&ended), "{ended}");
    }

    #[test]
    fn uk_double_ring_is_one_ring() {
        let uk = zone("uk").unwrap();
        use RingEvent::*;
        assert_eq!(kinds(&pulsed(uk, 1, uk.cadence, 1, 1500)), [Started(1), Ended(1), Answer]);
        assert_eq!(kinds(&pulsed(uk, 3, uk.cadence, 3, 1500)), [Started(1), Ended(1), Started(2), Ended(2), Started(3), Ended(3), Answer]);
    }

    #[test]
    fn a_caller_who_gives_up_is_noticed() {
        let de = zone("de").unwrap();
        use RingEvent::*;
        let ev = pulsed(de, 4, de.cadence, 2, 10_000);
        assert_eq!(kinds(&ev), [Started(1), Ended(1), Started(2), Ended(2), GaveUp]);
    }

    #[test]
    fn glitches_are_not_rings() {
        let us = zone("us").unwrap();
        // A 100 ms burst (a line test), then nothing.
        let ev = pulsed(us, 1, &[100, 5000], 1, 0);
        assert!(ev.is_empty(), "{ev:?}");
    }

    #[test]
    fn a_ring_bit_works_like_pulses() {
        let us = zone("us").unwrap();
        let mut c = RingCounter::new(us, 1);
        let mut ev = Vec::new();
        c.ring_bit(true, 0, &mut |e| ev.push(e));
        c.tick(500, &mut |e| ev.push(e));
        c.ring_bit(false, 2000, &mut |e| ev.push(e));
        assert!(c.ringing());
        c.tick(3000, &mut |e| ev.push(e));
        assert_eq!(ev, [RingEvent::Started(1), RingEvent::Ended(1), RingEvent::Answer]);
        assert!(!c.ringing());
        assert_eq!(c.rings(), 1);
    }
}
