//! Caller ID on an analog line: the message the exchange sends while the phone is still on
//! hook, either as FSK bytes (Bell 202 in North America, V.23 in Europe) or as DTMF keys
//! (Nordic and Dutch lines). The bytes are untrusted: this is the only code that reads them.
//!
//! # FSK message (Telcordia GR-30, ETSI EN 300 659-3; framing as spandsp's `adsi.h`)
//!
//! After a channel seizure (alternating bits) and a run of mark comes one message:
//! `type, length, body[length], checksum`, where the checksum makes the sum of every byte from
//! `type` on a multiple of 256.
//! - `0x04` SDMF: the body is the date and time (`MMDDhhmm`, 8 ASCII digits) followed by the
//!   number, or by `O` (out of area) or `P` (private).
//! - `0x80` MDMF (and ETSI's call set-up): the body is parameters `kind, length, value`:
//!   `0x01` date and time, `0x02` number, `0x03` dialable number, `0x04` why there is no
//!   number (`O`, `P`), `0x07` name, `0x08` why there is no name.
//!
//! Bytes around the message (the seizure's 0x55s, noise when the carrier ends) are skipped:
//! the message is found by its type, its length and its checksum.
//!
//! # DTMF caller ID (ETSI EN 300 659-1 annex; Asterisk `callerid_get_dtmf`)
//!
//! `A` or `D`, the number, then `C` or `#`; `B00` means the number is unknown, `B10` that it
//! is private.

use crate::audio::dtmf::DtmfDetector;
use crate::audio::fsk::{FskModem, FskReceiver};

/// What the exchange said about the caller. The number and name are patient data: into the
/// sealed call record, never into a log line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallerId {
    pub number: Option<String>,
    pub name: Option<String>,
    /// Why there is no number: withheld by the caller, or not available.
    pub number_absent: Option<Absence>,
    pub name_absent: Option<Absence>,
    /// Month, day, hour and minute, as sent (no year).
    pub when: Option<[u8; 4]>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absence {
    /// `P`: the caller withheld it.
    Private,
    /// `O`: out of area, or not available.
    Unavailable,
}

/// Why a burst held no caller ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidError {
    #[error("no caller ID message in the burst")]
    NoMessage,
    #[error("a caller ID message with a bad checksum")]
    BadChecksum,
    #[error("a caller ID message that is not a call's (message waiting, or an unknown type)")]
    NotACall,
}

const SDMF: u8 = 0x04;
const MDMF: u8 = 0x80;
/// Message-waiting indicators (SDMF and MDMF): valid messages, but no caller.
const MWI: [u8; 2] = [0x06, 0x82];
/// The longest number and name kept (GR-30 allows 15 digits and 15 characters; ETSI 20 and 50).
const MAX_NUMBER: usize = 20;
const MAX_NAME: usize = 50;

/// Finds the caller ID message in the bytes of one FSK burst and reads it. A message with the
/// right shape but a bad checksum is reported as such (a line too noisy), never read.
pub fn parse_fsk(burst: &[u8]) -> Result<CallerId, CidError> {
    let mut result = Err(CidError::NoMessage);
    for start in 0..burst.len() {
        let kind = burst[start];
        if kind != SDMF && kind != MDMF && !MWI.contains(&kind) {
            continue;
        }
        let Some(&len) = burst.get(start + 1) else { break };
        let end = start + 2 + len as usize;
        let Some(&_checksum) = burst.get(end) else { continue };
        if len == 0 {
            continue;
        }
        let sum = burst[start..=end].iter().fold(0u8, |s, &b| s.wrapping_add(b));
        if sum != 0 {
            if result == Err(CidError::NoMessage) && plausible(kind, &burst[start + 2..end]) {
                result = Err(CidError::BadChecksum);
            }
            continue;
        }
        let body = &burst[start + 2..end];
        return match kind {
            SDMF => parse_sdmf(body).ok_or(CidError::NoMessage),
            MDMF => Ok(parse_mdmf(body)),
            _ => Err(CidError::NotACall),
        };
    }
    result
}

/// Whether a body looks like a message of `kind` (so a failed checksum means a damaged
/// message rather than noise that happened to contain a type byte).
fn plausible(kind: u8, body: &[u8]) -> bool {
    match kind {
        SDMF => body.len() >= 9 && body[..8].iter().all(u8::is_ascii_digit),
        MDMF => body.len() >= 3 && matches!(body[0], 0x01..=0x08) && (body[1] as usize) < body.len(),
        _ => false,
    }
}

fn parse_sdmf(body: &[u8]) -> Option<CallerId> {
    if body.len() < 9 {
        return None;
    }
    let mut id = CallerId { when: when(&body[..8]), ..CallerId::default() };
    match &body[8..] {
        b"P" => id.number_absent = Some(Absence::Private),
        b"O" => id.number_absent = Some(Absence::Unavailable),
        n => id.number = number(n),
    }
    Some(id)
}

fn parse_mdmf(mut body: &[u8]) -> CallerId {
    let mut id = CallerId::default();
    while body.len() >= 2 {
        let (kind, len) = (body[0], body[1] as usize);
        let Some(value) = body.get(2..2 + len) else { break };
        match kind {
            0x01 => id.when = when(value),
            0x02 | 0x03 if id.number.is_none() => id.number = number(value),
            0x04 => id.number_absent = absence(value),
            0x07 => id.name = name(value),
            0x08 => id.name_absent = absence(value),
            _ => {}
        }
        body = &body[2 + len..];
    }
    id
}

fn when(v: &[u8]) -> Option<[u8; 4]> {
    if v.len() != 8 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two = |i: usize| (v[i] - b'0') * 10 + (v[i + 1] - b'0');
    let w = [two(0), two(2), two(4), two(6)];
    ((1..=12).contains(&w[0]) && (1..=31).contains(&w[1]) && w[2] < 24 && w[3] < 60).then_some(w)
}

/// A number keeps digits, and `+`, `*` and `#`; anything else in it means it is not one.
fn number(v: &[u8]) -> Option<String> {
    let ok = !v.is_empty() && v.len() <= MAX_NUMBER && v.iter().all(|&b| b.is_ascii_digit() || b"+*#".contains(&b));
    ok.then(|| String::from_utf8_lossy(v).into_owned())
}

/// A name keeps printable ASCII; control bytes are dropped.
fn name(v: &[u8]) -> Option<String> {
    let s: String = v.iter().take(MAX_NAME).filter(|b| (0x20..0x7f).contains(*b)).map(|&b| b as char).collect();
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn absence(v: &[u8]) -> Option<Absence> {
    match v {
        b"P" => Some(Absence::Private),
        b"O" => Some(Absence::Unavailable),
        _ => None,
    }
}

/// Reads DTMF caller ID from the keys heard before the first ring (or between rings). None
/// when the keys are not a caller ID.
pub fn parse_dtmf(keys: &str) -> Option<CallerId> {
    let keys = keys.trim();
    let body = keys.strip_prefix('A').or_else(|| keys.strip_prefix('D'))?;
    let body = body.strip_suffix('C').or_else(|| body.strip_suffix('#')).unwrap_or(body);
    if let Some(code) = body.strip_prefix('B') {
        let absent = match code {
            "00" => Absence::Unavailable,
            "10" => Absence::Private,
            _ => return None,
        };
        return Some(CallerId { number_absent: Some(absent), ..CallerId::default() });
    }
    // A number may be followed by other fields (a redirecting number after another 'D').
    let digits = body.split(['B', 'C', 'D', '#']).next().unwrap_or("");
    let number = number(digits.as_bytes())?;
    Some(CallerId { number: Some(number), ..CallerId::default() })
}

/// Listens to the line's audio while the phone is on hook (between rings, or after a polarity
/// reversal) for caller ID of either kind; hands over what it heard when an FSK burst ends or
/// a DTMF caller ID is complete. Fixed buffers: nothing is allocated per frame.
#[derive(Clone, Debug)]
pub struct CidListener {
    fsk: FskReceiver,
    dtmf: DtmfDetector,
    bytes: heapless::Vec<u8, 512>,
    keys: heapless::String<40>,
    /// In a burst: a carrier was heard and has not been gone for `BURST_END_SAMPLES`.
    carrier: bool,
    /// Samples since the carrier was last heard.
    quiet: u32,
}

/// A carrier gone this long (50 ms) ends an FSK burst.
const BURST_END_SAMPLES: u32 = 400;

impl CidListener {
    /// `modem`: Bell 202 (North America) or V.23 (Europe); DTMF caller ID is heard either way.
    pub fn new(modem: FskModem) -> CidListener {
        CidListener {
            fsk: FskReceiver::new(modem),
            dtmf: DtmfDetector::new(),
            bytes: heapless::Vec::new(),
            keys: heapless::String::new(),
            carrier: false,
            quiet: 0,
        }
    }

    /// Feeds 8 kHz line audio; the caller ID once a burst that held one ends (or the reason a
    /// message in it could not be read: a bad checksum, a message-waiting indicator).
    pub fn push(&mut self, samples: &[i16]) -> Option<Result<CallerId, CidError>> {
        let bytes = &mut self.bytes;
        let mut added = false;
        self.fsk.push(samples, |b| {
            if bytes.is_full() {
                // Noise read as bytes for seconds: keep the newer half.
                let half = bytes.len() / 2;
                bytes.copy_within(half.., 0);
                bytes.truncate(bytes.len() - half);
            }
            let _ = bytes.push(b);
            added = true;
        });
        let mut done = None;
        // A whole message with a good checksum is taken at once: on a noisy line the carrier
        // detector may never see the burst end.
        if added {
            if let r @ (Ok(_) | Err(CidError::NotACall)) = parse_fsk(&self.bytes) {
                done = Some(r);
                self.bytes.clear();
            }
        }
        if self.fsk.has_carrier() {
            self.quiet = 0;
        } else {
            self.quiet = self.quiet.saturating_add(samples.len() as u32);
        }
        // A burst ends when the carrier has been gone for a while (a transmitter may pause
        // between the seizure and the message); a damaged message is reported then.
        if self.carrier && self.quiet >= BURST_END_SAMPLES && !self.bytes.is_empty() {
            // A burst with no message in it was not caller ID (a DTMF key, speech, a click).
            done = done.or(Some(parse_fsk(&self.bytes)).filter(|r| *r != Err(CidError::NoMessage)));
            self.bytes.clear();
        }
        self.carrier = self.carrier && self.quiet < BURST_END_SAMPLES || self.fsk.has_carrier();
        if let Some(key) = self.dtmf.push(samples) {
            // A DTMF caller ID starts with A or D; keys before one are not caller ID.
            if !self.keys.is_empty() || matches!(key, 'A' | 'D') {
                let _ = self.keys.push(key);
            }
            if matches!(key, 'C' | '#') && !self.keys.is_empty() {
                let keys = std::mem::take(&mut self.keys);
                if let Some(id) = parse_dtmf(&keys) {
                    done = Some(Ok(id));
                }
            }
        }
        done
    }

    /// At the end of the window (the next ring, or the answer): a DTMF caller ID left without
    /// its end key, if any.
    pub fn finish(&mut self) -> Option<CallerId> {
        let keys = std::mem::take(&mut self.keys);
        self.bytes.clear();
        parse_dtmf(&keys)
    }
}

/// Builds an FSK caller ID message (with its checksum): the other side of `parse_fsk`, for
/// tests and fixtures.
pub fn build_mdmf(when: Option<&str>, number: Option<&str>, name: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    for (kind, v) in [(0x01u8, when), (0x02, number), (0x07, name)] {
        if let Some(v) = v {
            body.push(kind);
            body.push(v.len() as u8);
            body.extend_from_slice(v.as_bytes());
        }
    }
    with_checksum(MDMF, &body)
}

/// An SDMF message: `MMDDhhmm` and the number (or `P`, `O`).
pub fn build_sdmf(when: &str, number: &str) -> Vec<u8> {
    let mut body = when.as_bytes().to_vec();
    body.extend_from_slice(number.as_bytes());
    with_checksum(SDMF, &body)
}

fn with_checksum(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind, body.len() as u8];
    m.extend_from_slice(body);
    let sum = m.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    m.push(sum.wrapping_neg());
    m
}

/// The channel seizure that precedes a message on the line: 30 bytes of alternating bits.
pub const SEIZURE: [u8; 30] = [0x55; 30];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdmf_with_number_name_and_date() {
        let mut burst = SEIZURE.to_vec();
        burst.extend(build_mdmf(Some("12061432"), Some("5551234567"), Some("GONZALEZ MARIA")));
        burst.extend([0xff, 0x13]);
        let id = parse_fsk(&burst).unwrap();
        assert_eq!(id.number.as_deref(), Some("5551234567"));
        assert_eq!(id.name.as_deref(), Some("GONZALEZ MARIA"));
        assert_eq!(id.when, Some([12, 6, 14, 32]));
    }

    #[test]
    fn sdmf_number_and_private() {
        let id = parse_fsk(&build_sdmf("01310905", "6175550199")).unwrap();
        assert_eq!((id.number.as_deref(), id.when), (Some("6175550199"), Some([1, 31, 9, 5])));
        let id = parse_fsk(&build_sdmf("01310905", "P")).unwrap();
        assert_eq!((id.number, id.number_absent), (None, Some(Absence::Private)));
    }

    #[test]
    fn withheld_number_and_name_in_mdmf() {
        let body = [0x01, 8, b'0', b'3', b'0', b'1', b'1', b'2', b'0', b'0', 0x04, 1, b'P', 0x08, 1, b'O'];
        let id = parse_fsk(&with_checksum(MDMF, &body)).unwrap();
        assert_eq!((id.number_absent, id.name_absent, id.number), (Some(Absence::Private), Some(Absence::Unavailable), None));
    }

    #[test]
    fn a_bad_checksum_is_rejected() {
        let mut m = build_mdmf(Some("12061432"), Some("5551234567"), None);
        let i = m.len() - 3;
        m[i] ^= 0x04; // one digit damaged by noise
        assert_eq!(parse_fsk(&m), Err(CidError::BadChecksum));
        assert_eq!(parse_fsk(&[0x55; 40]), Err(CidError::NoMessage));
        assert_eq!(parse_fsk(&[]), Err(CidError::NoMessage));
    }

    #[test]
    fn message_waiting_is_not_a_caller() {
        assert_eq!(parse_fsk(&with_checksum(0x82, &[0x0b, 1, 0xff])), Err(CidError::NotACall));
    }

    #[test]
    fn hostile_bytes_are_cleaned_or_refused() {
        // A "number" with letters is not a number; a name with control bytes loses them.
        let body = [0x02, 4, b'5', b'x', b'5', b'5', 0x07, 5, b'A', 0x07, 0x1b, b'B', b'C'];
        let id = parse_fsk(&with_checksum(MDMF, &body)).unwrap();
        assert_eq!((id.number, id.name.as_deref()), (None, Some("ABC")));
        // A parameter running past the body ends the reading, no panic.
        let body = [0x07, 200, b'A'];
        assert_eq!(parse_fsk(&with_checksum(MDMF, &body)).unwrap(), CallerId::default());
        // Every truncation of a real message: never a panic.
        let m = build_mdmf(Some("12061432"), Some("5551234567"), Some("X"));
        for n in 0..m.len() {
            let _ = parse_fsk(&m[..n]);
        }
    }

    #[test]
    fn the_listener_hears_fsk_and_dtmf_bursts() {
        use crate::audio::fsk::{BELL202, V23, push_fsk};
        for modem in [BELL202, V23] {
            let mut audio = vec![0i16; 800];
            let mut message = SEIZURE.to_vec();
            message.extend(build_mdmf(Some("12061432"), Some("5551234567"), Some("GONZALEZ MARIA")));
            push_fsk(&mut audio, modem, &message, 150, -20.0);
            audio.extend([0i16; 800]);
            let mut l = CidListener::new(modem);
            let got: Vec<_> = audio.chunks(160).filter_map(|f| l.push(f)).collect();
            assert_eq!(got.len(), 1, "{modem:?}: {got:?}");
            assert_eq!(got[0].as_ref().unwrap().name.as_deref(), Some("GONZALEZ MARIA"));
        }
        let mut audio = vec![0i16; 800];
        crate::audio::dtmf::push_keys(&mut audio, "A0612345678C", -15.0, 60, 60);
        let mut l = CidListener::new(V23);
        let got: Vec<_> = audio.chunks(160).filter_map(|f| l.push(f)).collect();
        assert_eq!(got, [Ok(CallerId { number: Some("0612345678".into()), ..CallerId::default() })]);
    }

    #[test]
    fn dtmf_caller_id() {
        assert_eq!(parse_dtmf("A5551234567C").unwrap().number.as_deref(), Some("5551234567"));
        assert_eq!(parse_dtmf("D0612345678#").unwrap().number.as_deref(), Some("0612345678"));
        assert_eq!(parse_dtmf("AB10C").unwrap().number_absent, Some(Absence::Private));
        assert_eq!(parse_dtmf("AB00C").unwrap().number_absent, Some(Absence::Unavailable));
        assert_eq!(parse_dtmf("5551234"), None, "no start key: not caller ID");
        assert_eq!(parse_dtmf("AC"), None);
    }
}
