//! Word error rate, for measuring recognition the way the round-trip test and benchmarks do.
//!
//! Both sides are put into one written form before counting, in the spirit of Whisper's own
//! evaluation normaliser: lower case, no punctuation, "a.m."/"AM" alike, "Dr." as "doctor",
//! ordinal suffixes dropped, and digit groups joined ("212-555-0147", "212 555 0147" and
//! "2125550147" are one token; so are "10:30" and "10.30"). What remains are recognition errors:
//! a wrong digit still counts.

/// Words of `text` in a form comparable across writing styles.
pub fn comparable_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase().replace("a.m.", "am").replace("p.m.", "pm").replace("a.m", "am").replace("p.m", "pm");
    let chars: Vec<char> = lower.chars().collect();
    let mut out = String::with_capacity(lower.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            while i < chars.len() && chars[i].is_ascii_digit() {
                out.push(chars[i]);
                i += 1;
            }
            // Ordinal suffixes: "22nd" -> "22".
            let suffix: String = chars[i..chars.len().min(i + 2)].iter().collect();
            if matches!(suffix.as_str(), "st" | "nd" | "rd" | "th") && chars.get(i + 2).is_none_or(|c| !c.is_alphanumeric()) {
                i += 2;
            }
            // Separators between two digit groups vanish: "555-0147", "10:30", "5, 1980".
            let mut j = i;
            while j < chars.len() && matches!(chars[j], '-' | '.' | ':' | '/' | ',' | ' ' | '(' | ')') {
                j += 1;
            }
            if j > i && j < chars.len() && chars[j].is_ascii_digit() {
                i = j;
            } else if chars.get(i).is_some_and(|c| c.is_alphabetic()) {
                // A unit glued on ("3pm") becomes its own word.
                out.push(' ');
            }
            continue;
        }
        out.push(if c.is_alphanumeric() || c == '\'' { c } else { ' ' });
        i += 1;
    }
    out.split_whitespace()
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "dr" => "doctor".to_string(),
            "mr" => "mister".to_string(),
            "mrs" => "missus".to_string(),
            "ok" => "okay".to_string(),
            other => other.to_string(),
        })
        .collect()
}

/// Word-level edit distance between reference and hypothesis, and the reference length.
pub fn word_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let r = comparable_words(reference);
    let h = comparable_words(hypothesis);
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    let mut cur = vec![0; h.len() + 1];
    for (i, rw) in r.iter().enumerate() {
        cur[0] = i + 1;
        for (j, hw) in h.iter().enumerate() {
            let sub = prev[j] + usize::from(rw != hw);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[h.len()], r.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_substitutions_insertions_deletions() {
        assert_eq!(word_errors("a b c", "a b c"), (0, 3));
        assert_eq!(word_errors("a b c", "a x c"), (1, 3));
        assert_eq!(word_errors("a b c", "a b c d"), (1, 3));
        assert_eq!(word_errors("a b c", "a c"), (1, 3));
        assert_eq!(word_errors("", "a"), (1, 0));
    }

    #[test]
    fn writing_style_does_not_count() {
        for (a, b) in [
            ("Call me at 212-555-0147.", "call me at (212) 555 0147"),
            ("Call me at 303-555-0182.", "Call me at 303-5550182."),
            ("I see Dr. Patel at 10:30 a.m.", "I see doctor Patel at 10.30 AM"),
            ("Could someone call me back after 3 p.m.?", "Could someone call me back after 3pm?"),
            ("I was born on July 22, 1965.", "I was born on july 22nd, 1965."),
            ("It's OK.", "it's okay"),
        ] {
            assert_eq!(word_errors(a, b).0, 0, "{a} / {b}: {:?} {:?}", comparable_words(a), comparable_words(b));
        }
    }

    #[test]
    fn wrong_digits_still_count() {
        assert_eq!(word_errors("My number is 415-555-0123.", "My number is 450-555-0123."), (1, 4));
        assert_eq!(word_errors("at 4:15", "at 450"), (1, 2));
    }
}
