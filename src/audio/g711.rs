//! ITU-T G.711 companding (mu-law and A-law) between 16-bit linear PCM and
//! 8-bit codes, as carried in RTP payload types 0 (PCMU) and 8 (PCMA).
//!
//! The standard is defined on a 14-bit (mu-law) or 13-bit (A-law) uniform
//! scale. Our audio is 16-bit, so the standard's decision and reconstruction
//! values are used scaled by 4 (mu-law) or 8 (A-law). The encoders compare
//! the input *magnitude* with those scaled decision values, so positive and
//! negative inputs are quantised symmetrically, exactly as the standard's
//! tables describe. (The classic `x >> 2` / `x >> 3` shortcut rounds negative
//! values towards minus infinity and so misplaces a few small negative
//! inputs, e.g. -1 would become mu-law -8 instead of 0.)
//!
//! A value lying exactly on a decision value goes to the interval with the
//! larger magnitude; the standard leaves that choice open.
//!
//! Note that G.711 is not a nearest-level quantiser at segment boundaries:
//! the first interval of each segment is twice as wide as the last interval
//! of the segment below, and its reconstruction value is its own midpoint.
//! An input in the lower quarter of that interval is therefore closer to the
//! level below. We keep the standard's decision values anyway, because
//! interoperability with other G.711 implementations is the point.
//!
//! Decoding uses 256-entry tables built at compile time; encoding is a few
//! integer operations, so no 64 Ki lookup table is needed.

/// Which G.711 companding law a stream uses. PCMU (North America, Japan)
/// is mu-law; PCMA (most of the rest of the world) is A-law.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Law {
    /// mu-law, RTP payload type 0 (PCMU).
    Ulaw,
    /// A-law, RTP payload type 8 (PCMA).
    Alaw,
}

impl Law {
    /// Encodes with this law; see [`encode_ulaw`] for the length rule.
    pub fn encode(self, input: &[i16], out: &mut [u8]) {
        match self {
            Law::Ulaw => encode_ulaw(input, out),
            Law::Alaw => encode_alaw(input, out),
        }
    }

    /// Decodes with this law; see [`decode_ulaw`] for the length rule.
    pub fn decode(self, input: &[u8], out: &mut [i16]) {
        match self {
            Law::Ulaw => decode_ulaw(input, out),
            Law::Alaw => decode_alaw(input, out),
        }
    }
}

/// mu-law bias (33 on the 14-bit scale) expressed on the 16-bit scale.
/// Adding it makes every segment start at a power of two, so the segment
/// number is just the position of the highest set bit.
const ULAW_BIAS: i32 = 33 << 2;
/// Largest 16-bit magnitude that still lies below the mu-law overload point
/// (8159 on the 14-bit scale). Anything above quantises to the top level
/// anyway; clipping here keeps the biased value inside segment 7.
const ULAW_CLIP: i32 = (8159 << 2) - 1;
/// A-law codes have their even bits inverted on the line so that idle
/// channels (which sit near zero) still produce enough ones transitions.
const ALAW_XOR: u8 = 0x55;

/// Reconstruction value of a mu-law code, via the bias formula:
/// ((2q + 33) * 2^s - 33) on the 14-bit scale, times 4.
const fn ulaw_decode_formula(code: u8) -> i16 {
    let c = !code;
    let seg = ((c >> 4) & 0x07) as i32;
    let q = (c & 0x0F) as i32;
    let mag = (((q << 3) + ULAW_BIAS) << seg) - ULAW_BIAS;
    // Sign bit 1 (after inversion) means negative.
    if c & 0x80 != 0 { -mag as i16 } else { mag as i16 }
}

/// Reconstruction value of an A-law code: segment 0 has step 2 starting at 0,
/// segment s >= 1 spans [2^(s+4), 2^(s+5)) with step 2^s; the output is the
/// interval midpoint on the 13-bit scale, times 8.
const fn alaw_decode_formula(code: u8) -> i16 {
    let c = code ^ ALAW_XOR;
    let seg = ((c >> 4) & 0x07) as i32;
    let q = (c & 0x0F) as i32;
    let mag = if seg == 0 { (q << 4) + 8 } else { ((q << 4) + 0x108) << (seg - 1) };
    // For A-law the sign bit is 1 for positive values.
    if c & 0x80 != 0 { mag as i16 } else { -mag as i16 }
}

const fn build_table(law: Law) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match law {
            Law::Ulaw => ulaw_decode_formula(i as u8),
            Law::Alaw => alaw_decode_formula(i as u8),
        };
        i += 1;
    }
    t
}

/// mu-law code -> 16-bit linear.
static ULAW_TO_LINEAR: [i16; 256] = build_table(Law::Ulaw);
/// A-law code -> 16-bit linear.
static ALAW_TO_LINEAR: [i16; 256] = build_table(Law::Alaw);

/// Encodes one 16-bit sample to mu-law. Zero yields 0xFF (positive zero);
/// small negative inputs that round to the zero level yield 0x7F, keeping
/// the sign the way the standard's code table does.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let x = sample as i32;
    let (sign, mag) = if x < 0 { (0x80u8, -x) } else { (0u8, x) };
    let biased = mag.min(ULAW_CLIP) + ULAW_BIAS; // 132 ..= 32767
    // biased >= 128 always, so the highest set bit is 7..=14.
    let seg = (31 - biased.leading_zeros() as i32) - 7;
    let q = (biased >> (seg + 3)) & 0x0F;
    !(sign | ((seg as u8) << 4) | q as u8)
}

/// Decodes one mu-law code. 0xFF and 0x7F (positive and negative zero)
/// both give 0.
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_TO_LINEAR[code as usize]
}

/// Encodes one 16-bit sample to A-law. A-law has no zero level: zero maps
/// to the smallest positive level (0xD5, +8), and -1..=-15 to 0x55 (-8).
pub fn linear_to_alaw(sample: i16) -> u8 {
    let x = sample as i32;
    let (sign, mag) = if x < 0 { (0x00u8, -x) } else { (0x80u8, x) };
    // 13-bit magnitude 0..=4095; -32768 shares the top level with 32767.
    let m = mag.min(0x7FFF) >> 3;
    let (seg, q) = if m < 32 {
        (0, m >> 1)
    } else {
        // m in [2^(s+4), 2^(s+5)) for segment s = 1..=7, step 2^s.
        let seg = (31 - m.leading_zeros() as i32) - 4;
        (seg, (m >> seg) & 0x0F)
    };
    (sign | ((seg as u8) << 4) | q as u8) ^ ALAW_XOR
}

/// Decodes one A-law code.
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_TO_LINEAR[code as usize]
}

/// Encodes `input` into `out`. If the lengths differ only the first
/// `min(input.len(), out.len())` samples are processed and the rest of
/// `out` is left untouched: a length mismatch in the media path must not
/// take the call down with a panic.
pub fn encode_ulaw(input: &[i16], out: &mut [u8]) {
    for (o, &s) in out.iter_mut().zip(input) {
        *o = linear_to_ulaw(s);
    }
}

/// Decodes `input` into `out`; same shorter-length rule as [`encode_ulaw`].
pub fn decode_ulaw(input: &[u8], out: &mut [i16]) {
    for (o, &c) in out.iter_mut().zip(input) {
        *o = ULAW_TO_LINEAR[c as usize];
    }
}

/// Encodes `input` into `out`; same shorter-length rule as [`encode_ulaw`].
pub fn encode_alaw(input: &[i16], out: &mut [u8]) {
    for (o, &s) in out.iter_mut().zip(input) {
        *o = linear_to_alaw(s);
    }
}

/// Decodes `input` into `out`; same shorter-length rule as [`encode_ulaw`].
pub fn decode_alaw(input: &[u8], out: &mut [i16]) {
    for (o, &c) in out.iter_mut().zip(input) {
        *o = ALAW_TO_LINEAR[c as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One quantisation interval of the standard, on the standard's own
    /// uniform scale (14-bit for mu-law, 13-bit for A-law), for the positive
    /// half. `lo..hi` are decision values, `out` the decoder output value.
    #[derive(Clone, Copy, Debug)]
    struct Interval {
        lo: f64,
        hi: f64,
        out: f64,
    }

    /// The 128 positive mu-law intervals as listed in G.711 Table 2a:
    /// eight segments of sixteen intervals, the step doubling from 2 to 256;
    /// segment end points 31, 95, 223, 479, 991, 2015, 4063, 8159. The very
    /// first interval is the half-width one 0..1 whose output is 0; all
    /// other outputs are interval midpoints. Index = interval number 0..127
    /// counted from zero upwards (the code is its bit-inverse).
    fn ulaw_intervals() -> Vec<Interval> {
        let ends = [31.0, 95.0, 223.0, 479.0, 991.0, 2015.0, 4063.0, 8159.0];
        let mut v = Vec::new();
        let mut start = -1.0; // segment 0 notionally starts at -1 (see below)
        for (s, &end) in ends.iter().enumerate() {
            let step = (end - start) / 16.0;
            assert_eq!(step, f64::from(2u32 << s));
            for k in 0..16 {
                let lo = start + step * k as f64;
                let hi = lo + step;
                v.push(Interval { lo, hi, out: lo + step / 2.0 });
            }
            start = end;
        }
        // The first interval is -1..1 centred on 0; on the magnitude scale
        // that is the half interval 0..1 with output 0.
        v[0].lo = 0.0;
        assert_eq!(v[0].out, 0.0);
        v
    }

    /// The 128 positive A-law intervals per G.711 Table 1a: segments 1 and 2
    /// (our 0 and 1) both have step 2 over 0..32 and 32..64, then the step
    /// doubles each segment up to 128 over 2048..4096. Outputs are midpoints.
    fn alaw_intervals() -> Vec<Interval> {
        let ends = [32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0];
        let mut v = Vec::new();
        let mut start = 0.0;
        for &end in &ends {
            let step = (end - start) / 16.0;
            for k in 0..16 {
                let lo = start + step * k as f64;
                v.push(Interval { lo, hi: lo + step, out: lo + step / 2.0 });
            }
            start = end;
        }
        v
    }

    /// Expected 16-bit decoder output for a mu-law code, from the table:
    /// the transmitted byte is the bit-inverse of the interval number, and
    /// on the line bit 7 set means positive.
    fn ulaw_expected(code: u8) -> i32 {
        let table = ulaw_intervals();
        let idx = (!code & 0x7F) as usize;
        let level = (table[idx].out * 4.0) as i32;
        if code & 0x80 != 0 { level } else { -level }
    }

    /// Expected 16-bit decoder output for an A-law code: undo the even-bit
    /// inversion; bit 7 set = positive.
    fn alaw_expected(code: u8) -> i32 {
        let table = alaw_intervals();
        let raw = code ^ 0x55;
        let idx = (raw & 0x7F) as usize;
        let level = (table[idx].out * 8.0) as i32;
        if raw & 0x80 != 0 { level } else { -level }
    }

    #[test]
    fn ulaw_decode_matches_standard_for_all_codes() {
        for c in 0..=255u8 {
            assert_eq!(ulaw_to_linear(c) as i32, ulaw_expected(c), "code {c:#04x}");
        }
    }

    #[test]
    fn alaw_decode_matches_standard_for_all_codes() {
        for c in 0..=255u8 {
            assert_eq!(alaw_to_linear(c) as i32, alaw_expected(c), "code {c:#04x}");
        }
    }

    #[test]
    fn well_known_values() {
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0xFE), 8);
        assert_eq!(ulaw_to_linear(0x7E), -8);
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);

        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    /// Finds the interval containing magnitude `m` (on the standard's scale),
    /// plus the neighbouring interval if `m` sits exactly on a decision value.
    /// Magnitudes beyond the last decision value are overload: top interval.
    fn containing(table: &[Interval], m: f64) -> (usize, Option<usize>) {
        let last = table.len() - 1;
        if m >= table[last].hi {
            return (last, None);
        }
        let i = table.iter().position(|iv| m >= iv.lo && m < iv.hi).expect("magnitude inside the table");
        let alt = if i > 0 && m == table[i].lo { Some(i - 1) } else { None };
        (i, alt)
    }

    /// Shared body of the exhaustive encoder test.
    ///
    /// `scale` converts the standard's scale to 16-bit. `zero_is_boundary`
    /// is true for A-law, whose zero is a decision value between +8 and -8.
    /// Returns the number of inputs for which a level from a different
    /// interval would have been (strictly) closer; each of those is checked
    /// to be the documented segment-boundary case.
    fn check_encoder_exhaustive(
        table: &[Interval],
        scale: f64,
        zero_is_boundary: bool,
        encode: fn(i16) -> u8,
        decode: fn(u8) -> i16,
    ) -> usize {
        let levels: Vec<i32> = (0..=255u8).map(|c| decode(c) as i32).collect();
        let mut not_nearest = 0;
        for x in i16::MIN..=i16::MAX {
            let xi = x as i32;
            let got = decode(encode(x)) as i32;

            // (1) Lands on the output value of the interval containing x.
            let m = (xi.abs() as f64) / scale;
            let (i, alt) = containing(table, m);
            let sgn = if xi < 0 { -1 } else { 1 };
            let mut ok = got == sgn * (table[i].out * scale) as i32;
            if let Some(j) = alt {
                ok |= got == sgn * (table[j].out * scale) as i32;
            }
            if zero_is_boundary && xi == 0 {
                ok |= got == -((table[0].out * scale) as i32);
            }
            assert!(ok, "x={x} decoded to {got}, interval {:?}", table[i]);

            // (2) Sign preserved.
            if xi > 0 {
                assert!(got >= 0, "x={x} -> {got}");
            } else if xi < 0 {
                assert!(got <= 0, "x={x} -> {got}");
            }

            // (3) No level is strictly closer, except in the lower quarter of
            // the first interval of a segment, where the top level of the
            // segment below is closer (the standard's decision values).
            let err = (got - xi).abs();
            let best = levels.iter().map(|&l| (l - xi).abs()).min().unwrap();
            if best < err {
                not_nearest += 1;
                let first_of_segment = i % 16 == 0 && i > 0;
                let below = sgn * (table[i - 1].out * scale) as i32;
                assert!(first_of_segment && (below - xi).abs() == best, "x={x} decoded to {got} but {best} away is closer");
                let width = (table[i].hi - table[i].lo) * scale;
                assert!((m * scale - table[i].lo * scale) < width / 4.0, "x={x} not in the lower quarter of its interval");
            }
        }
        not_nearest
    }

    #[test]
    fn ulaw_encoder_exhaustive() {
        let n = check_encoder_exhaustive(&ulaw_intervals(), 4.0, false, linear_to_ulaw, ulaw_to_linear);
        // Segment boundaries s = 1..=7: 2^s 16-bit inputs each, both signs
        // (the zone is a quarter of the new step, 2^(s-2) on the 14-bit scale).
        let expected: usize = (1..=7).map(|s| 1usize << s).sum::<usize>() * 2;
        assert_eq!(n, expected);
    }

    #[test]
    fn alaw_encoder_exhaustive() {
        let n = check_encoder_exhaustive(&alaw_intervals(), 8.0, true, linear_to_alaw, alaw_to_linear);
        // Segments 0 and 1 share a step, so only boundaries s = 2..=7 count:
        // 2^(s-3) on the 13-bit scale = 2^s 16-bit inputs each, both signs.
        let expected: usize = (2..=7).map(|s| 1usize << s).sum::<usize>() * 2;
        assert_eq!(n, expected);
    }

    #[test]
    fn reencode_is_identity() {
        for c in 0..=255u8 {
            let expect = if c == 0x7F { 0xFF } else { c };
            assert_eq!(linear_to_ulaw(ulaw_to_linear(c)), expect, "ulaw {c:#04x}");
            assert_eq!(linear_to_alaw(alaw_to_linear(c)), c, "alaw {c:#04x}");
        }
    }

    #[test]
    fn slices_use_shorter_length() {
        let pcm = [0i16, 1000, -1000, 32767, -32768];
        let mut codes = [0u8; 3];
        encode_ulaw(&pcm, &mut codes);
        assert_eq!(codes, [0xFF, linear_to_ulaw(1000), linear_to_ulaw(-1000)]);

        let mut wide = [0xAAu8; 8];
        Law::Alaw.encode(&pcm, &mut wide);
        assert_eq!(&wide[5..], &[0xAA; 3]);
        assert_eq!(wide[3], 0xAA); // 32767 -> top positive A-law code

        let mut back = [7i16; 8];
        Law::Alaw.decode(&wide[..5], &mut back);
        assert_eq!(back[0], 8);
        assert_eq!(&back[5..], &[7; 3]);

        let mut short = [0i16; 2];
        Law::Ulaw.decode(&codes, &mut short);
        assert_eq!(short, [0, ulaw_to_linear(codes[1])]);
        decode_alaw(&[], &mut short);
        encode_alaw(&pcm, &mut []);
    }
}
