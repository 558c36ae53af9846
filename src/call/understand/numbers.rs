//! Numbers as callers say them and as Whisper writes them.
//!
//! A caller reading a phone number says "five five five", "five fifty five", "double five" or
//! "oh"; a caller giving a birthday says "the twenty-first" or "5th". Whisper sometimes writes
//! numerals ("555-0199") and sometimes words, even inside one utterance, so everything here
//! accepts both. Two entry points serve the two shapes of question the agent asks:
//! [`spoken_digits`] for "what digits did they say" (phone numbers, keypad-like answers) and
//! [`parse_number`] for "what quantity did they say" (days, years, counts).

use super::words::words;

/// The value of a number word from "zero" to "nine".
fn unit(w: &str) -> Option<u32> {
    let v = match w {
        "zero" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        _ => return None,
    };
    Some(v)
}

/// The value of "ten" to "nineteen".
fn teen(w: &str) -> Option<u32> {
    let v = match w {
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    };
    Some(v)
}

/// The value of "twenty" to "ninety".
fn tens(w: &str) -> Option<u32> {
    let v = match w {
        "twenty" => 20,
        "thirty" => 30,
        "forty" | "fourty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    };
    Some(v)
}

/// The value of an ordinal word below one hundred that is not itself a compound
/// ("fifth", "twelfth", "thirtieth"); compounds ("twenty first") are built by the parser.
fn ordinal_word(w: &str) -> Option<u32> {
    const ORDINALS: [&str; 20] = [
        "zeroth",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
    ];
    if let Some(i) = ORDINALS.iter().position(|o| *o == w) {
        return Some(i as u32);
    }
    let v = match w {
        "twentieth" => 20,
        "thirtieth" => 30,
        "fortieth" => 40,
        "fiftieth" => 50,
        "sixtieth" => 60,
        "seventieth" => 70,
        "eightieth" => 80,
        "ninetieth" => 90,
        _ => return None,
    };
    Some(v)
}

/// "5th", "31st", "22nd", "3rd": digits followed by an English ordinal suffix. Whisper writes
/// these for dates, so they matter more than the spelled ordinals.
fn numeral_ordinal(w: &str) -> Option<u32> {
    let split = w.find(|c: char| !c.is_ascii_digit())?;
    let (num, suffix) = w.split_at(split);
    if num.is_empty() || !matches!(suffix, "st" | "nd" | "rd" | "th") {
        return None;
    }
    num.parse().ok()
}

/// A word made only of ASCII digits ("555", "0199", "1980").
pub(super) fn is_numeral(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())
}

/// True for a word that can only be read as an ordinal ("fifth", "5th"); these name positions
/// ("the first three digits") rather than digits, so digit extraction skips them.
pub(super) fn is_ordinal(w: &str) -> bool {
    ordinal_word(w).is_some() || numeral_ordinal(w).is_some()
}

/// True for words that belong to a spoken number: digits, number words, ordinals, "oh",
/// "double", "hundred". Used to find runs of number words among filler.
pub(super) fn is_number_word(w: &str) -> bool {
    is_numeral(w)
        || unit(w).is_some()
        || teen(w).is_some()
        || tens(w).is_some()
        || is_ordinal(w)
        || matches!(w, "oh" | "o" | "double" | "triple" | "hundred" | "thousand")
}

/// One digit as a word: "five", "oh", "zero", "5". "double"/"triple" repeat exactly these.
fn single_digit(w: &str) -> Option<u32> {
    if matches!(w, "oh" | "o") {
        return Some(0);
    }
    if w.len() == 1 && is_numeral(w) {
        return w.parse().ok();
    }
    unit(w)
}

/// A number read from the start of a word list: its value, how many words it used, and
/// whether it was said as an ordinal (which ends a number: "twenty first" is complete).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Parsed {
    pub value: u32,
    pub used: usize,
    pub ordinal: bool,
}

/// The value of a spoken or written number at the start of `words`, and how many words it took.
///
/// Callers give counts, days and years in words ("twenty three", "one hundred and five",
/// "two thousand five") or Whisper writes numerals ("23", "5th"); the agent needs one value and
/// needs to know where the number ended so the rest of the answer can be read.
///
/// Ordinals count ("fifth" 5, "twenty-first" or "twenty first" 21, "5th", "31st") and end the
/// number. "and" is taken only after "hundred"/"thousand" and only when a number follows.
/// "zero" is 0; "oh" is not a number here (it is usually "oh, well"), only a digit in
/// [`spoken_digits`].
///
/// "nineteen eighty" is deliberately *not* one number: it returns `(19, 1)`, because people
/// say years and phone-number groups that way and only the caller knows which it is; the date
/// parser reads year shapes itself and [`spoken_digits`] reads it as "1980". Likewise
/// "five fifty five" is `(5, 1)`. Returns `None` when the list does not start with a number.
/// Values stop at "thousand" (so at most 999,999) apart from numerals, which are read whole
/// when they fit a `u32`.
pub fn parse_number(words: &[String]) -> Option<(u32, usize)> {
    parse_detail(words).map(|p| (p.value, p.used))
}

/// [`parse_number`] with the ordinal flag, for siblings that care ("March fifth" vs "March 5").
pub(super) fn parse_detail(words: &[String]) -> Option<Parsed> {
    let first = words.first()?;
    if is_numeral(first) {
        return first.parse().ok().map(|value| Parsed { value, used: 1, ordinal: false });
    }
    if let Some(value) = numeral_ordinal(first) {
        return Some(Parsed { value, used: 1, ordinal: true });
    }
    // Hyphenated words ("twenty-first", "forty-four") become separate atoms that remember
    // which word they came from, so the result can be counted in whole words. A number
    // phrase is never longer than a dozen words, so only that much is expanded.
    let mut atoms: Vec<(&str, usize)> = Vec::new();
    for (i, w) in words.iter().enumerate().take(12) {
        atoms.extend(w.split('-').filter(|a| !a.is_empty()).map(|a| (a, i)));
    }
    let names: Vec<&str> = atoms.iter().map(|a| a.0).collect();
    let (value, end, ordinal) = cardinal(&names)?;
    // The number must end on a word boundary; "one-twenty" read as just "one" would otherwise
    // claim half a word. Back off to the last complete word.
    let last_word = atoms[end - 1].1;
    let word_complete = atoms.get(end).is_none_or(|a| a.1 != last_word);
    if word_complete {
        return Some(Parsed { value, used: last_word + 1, ordinal });
    }
    if last_word == 0 {
        return None;
    }
    parse_detail(&words[..last_word])
}

/// value, atoms used, ordinal — for up to "thousand" and one more group below a thousand.
fn cardinal(a: &[&str]) -> Option<(u32, usize, bool)> {
    let (mut value, mut pos, ordinal) = below_thousand(a, 0)?;
    if ordinal {
        return Some((value, pos, true));
    }
    match a.get(pos) {
        Some(&"thousandth") => return Some((value * 1000, pos + 1, true)),
        Some(&"thousand") => {
            value *= 1000;
            pos += 1;
        }
        _ => return Some((value, pos, false)),
    }
    let rest = pos + usize::from(a.get(pos) == Some(&"and"));
    match below_thousand(a, rest) {
        Some((v, p, ord)) => Some((value + v, p, ord)),
        None => Some((value, pos, false)),
    }
}

/// 0..=999 starting at `pos`: "five", "twenty three", "one hundred and five", "a hundred",
/// "nineteen hundred", "fifth".
fn below_thousand(a: &[&str], pos: usize) -> Option<(u32, usize, bool)> {
    let w = *a.get(pos)?;
    let lead = match w {
        "a" if matches!(a.get(pos + 1), Some(&("hundred" | "thousand"))) => Some(1),
        _ => unit(w).or_else(|| teen(w)),
    };
    if let Some(lead) = lead {
        match a.get(pos + 1) {
            Some(&"hundredth") => return Some((lead * 100, pos + 2, true)),
            Some(&"hundred") => {
                let after = pos + 2;
                let rest = after + usize::from(a.get(after) == Some(&"and"));
                return match below_hundred(a, rest) {
                    Some((v, p, ord)) => Some((lead * 100 + v, p, ord)),
                    None => Some((lead * 100, after, false)),
                };
            }
            // "a" alone is only a number before "hundred"/"thousand".
            _ if w == "a" => return Some((1, pos + 1, false)),
            _ => {}
        }
    }
    below_hundred(a, pos)
}

/// 0..=99 starting at `pos`: "seven", "twelve", "forty", "forty four", "twenty first".
fn below_hundred(a: &[&str], pos: usize) -> Option<(u32, usize, bool)> {
    let w = *a.get(pos)?;
    if let Some(t) = tens(w) {
        let next = a.get(pos + 1).copied().unwrap_or("");
        if let Some(u) = unit(next).filter(|u| *u > 0) {
            return Some((t + u, pos + 2, false));
        }
        if let Some(u) = ordinal_word(next).filter(|u| (1..10).contains(u)) {
            return Some((t + u, pos + 2, true));
        }
        return Some((t, pos + 1, false));
    }
    if let Some(v) = unit(w).or_else(|| teen(w)) {
        return Some((v, pos + 1, false));
    }
    ordinal_word(w).map(|v| (v, pos + 1, true))
}

/// Words of a transcript prepared for number reading: split at hyphens ("oh-five",
/// "twenty-three" become two words) and with an interjection "oh" ("Oh, it's...") replaced by
/// "uh" so that it is not read as a zero.
///
/// The interjection test needs the punctuation that [`words`] removes: an "oh"/"o" directly
/// followed by `, ! ? . ;` is an interjection unless the word before it was a digit
/// ("five five oh, one two" keeps its zero).
pub(super) fn number_words(text: &str) -> Vec<String> {
    let interjections = oh_followed_by_punctuation(text);
    let mut out: Vec<String> = Vec::new();
    let mut oh_seen = 0;
    for w in words(text) {
        for part in w.split('-').filter(|p| !p.is_empty()) {
            let mut part = part.to_string();
            if part == "oh" || part == "o" {
                let punctuated = interjections.get(oh_seen).copied().unwrap_or(false);
                oh_seen += 1;
                let after_digit = out.last().is_some_and(|p| is_number_word(p) && p != "uh");
                if punctuated && !after_digit {
                    part = "uh".to_string();
                }
            }
            out.push(part);
        }
    }
    out
}

/// For each stand-alone "oh"/"o" in `text`, in order, whether punctuation follows it.
fn oh_followed_by_punctuation(text: &str) -> Vec<bool> {
    let mut out = Vec::new();
    let is_word = |c: char| c.is_alphanumeric() || c == '\'' || c == '\u{2019}';
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !is_word(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_word(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().flat_map(|c| c.to_lowercase()).collect();
        let word = word.trim_matches(|c| c == '\'' || c == '\u{2019}');
        if word == "oh" || word == "o" {
            let next = chars[i..].iter().find(|c| **c != ' ').copied();
            out.push(matches!(next, Some(',' | '!' | '?' | '.' | ';' | '\u{2026}')));
        }
    }
    out
}

/// Every digit the caller said or Whisper wrote, in order, as a string of ASCII digits.
///
/// This is what the agent wants for phone numbers and keypad-style answers: "five five five,
/// one two three" and "555-123" both give "555123". "oh"/"o"/"zero" are 0 (an "oh" counts
/// only next to other digits, so "Oh, it's 617..." does not gain a zero), "double five" is
/// "55", "triple two" "222", and grouped words are read as people read phone numbers:
/// "five fifty five" "555", "twenty three forty five" "2345", "eight hundred" "800",
/// "two thousand" "2000". Ordinals ("first", "5th") name positions, not digits, and are
/// skipped, as is every other word.
pub fn spoken_digits(text: &str) -> String {
    digits_in(&number_words(text))
}

/// [`spoken_digits`] over words already prepared by [`number_words`], so siblings can blank
/// out words (counts, extensions) before reading digits.
pub(super) fn digits_in(w: &[String]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < w.len() {
        let word = w[i].as_str();
        if is_numeral(word) {
            out.push_str(word);
            i += 1;
            continue;
        }
        if word == "double" || word == "triple" {
            if let Some(d) = w.get(i + 1).and_then(|n| single_digit(n)) {
                let times = if word == "double" { 2 } else { 3 };
                for _ in 0..times {
                    out.push_str(&d.to_string());
                }
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        if word == "oh" || word == "o" {
            let near = |j: Option<usize>| j.and_then(|j| w.get(j)).is_some_and(|n| is_number_word(n) && !is_ordinal(n));
            if near(i.checked_sub(1)) || near(Some(i + 1)) {
                out.push('0');
            }
            i += 1;
            continue;
        }
        // "one eight hundred five five five": in digit strings a bare digit after "hundred"
        // starts the next group rather than making 805 ("eight oh five" is how 805 is said).
        let phrase = match w[i..].iter().position(|x| x == "hundred") {
            Some(k) if w.get(i + k + 1).and_then(|n| unit(n)).is_some() => &w[i..=i + k],
            _ => &w[i..],
        };
        match parse_detail(phrase) {
            Some(p) if !p.ordinal => {
                out.push_str(&p.value.to_string());
                i += p.used;
            }
            Some(p) => i += p.used,
            None => i += 1,
        }
    }
    out
}

/// English words for 0..=99 ("seven", "forty-four"), for read-back by text-to-speech: the
/// voice's normaliser's own, so what is read back is what the voice would say.
pub fn cardinal_words(n: u32) -> String {
    crate::speech::normalize::number_words(i64::from(n % 100))
}

/// English ordinal words for 1..=99 ("fifth", "twenty-first"), for reading dates back.
pub fn ordinal_words(n: u32) -> String {
    crate::speech::normalize::ordinal_words(u64::from(n % 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        words(s)
    }

    fn num(s: &str) -> Option<(u32, usize)> {
        parse_number(&w(s))
    }

    #[test]
    fn digits_spoken_one_by_one() {
        assert_eq!(spoken_digits("five five five, one two three"), "555123");
        assert_eq!(spoken_digits("six one seven five five five oh one nine nine"), "6175550199");
        assert_eq!(spoken_digits("zero zero seven"), "007");
        assert_eq!(spoken_digits("Five, five, five."), "555");
    }

    #[test]
    fn digits_written_as_numerals() {
        assert_eq!(spoken_digits("555-123-4567"), "5551234567");
        assert_eq!(spoken_digits("(617) 555 0199"), "6175550199");
        assert_eq!(spoken_digits("Yes, it's 617-555-0199."), "6175550199");
        assert_eq!(spoken_digits("+1 617.555.0199"), "16175550199");
    }

    #[test]
    fn digits_mixed_words_and_numerals() {
        assert_eq!(spoken_digits("617, five five five, 0199"), "6175550199");
        assert_eq!(spoken_digits("six one seven 555 oh one nine nine"), "6175550199");
    }

    #[test]
    fn oh_and_o_are_zero_next_to_digits() {
        assert_eq!(spoken_digits("five oh five"), "505");
        assert_eq!(spoken_digits("five o five"), "505");
        assert_eq!(spoken_digits("oh three oh five"), "0305");
        assert_eq!(spoken_digits("five five oh, one two"), "55012");
    }

    #[test]
    fn interjection_oh_is_not_zero() {
        assert_eq!(spoken_digits("Oh, it's 617-555-0199."), "6175550199");
        assert_eq!(spoken_digits("Oh, six one seven"), "617");
        assert_eq!(spoken_digits("oh well"), "");
        assert_eq!(spoken_digits("Um, oh! five five five"), "555");
    }

    #[test]
    fn double_and_triple() {
        assert_eq!(spoken_digits("double five"), "55");
        assert_eq!(spoken_digits("triple two"), "222");
        assert_eq!(spoken_digits("six one seven double five five"), "617555");
        assert_eq!(spoken_digits("double oh seven"), "007");
        assert_eq!(spoken_digits("double 5"), "55");
        assert_eq!(spoken_digits("double trouble"), "");
    }

    #[test]
    fn grouped_number_words() {
        assert_eq!(spoken_digits("five fifty five"), "555");
        assert_eq!(spoken_digits("twenty three forty five"), "2345");
        assert_eq!(spoken_digits("eight hundred"), "800");
        assert_eq!(spoken_digits("forty four seventy one"), "4471");
        assert_eq!(spoken_digits("forty-four seventy-one"), "4471");
        assert_eq!(spoken_digits("five five five two thousand"), "5552000");
        assert_eq!(spoken_digits("nineteen eighty"), "1980");
        assert_eq!(spoken_digits("five hundred fifty five"), "555");
        assert_eq!(spoken_digits("eight hundred and five"), "805");
        assert_eq!(spoken_digits("one eight hundred five five five twelve twelve"), "18005551212");
    }

    #[test]
    fn non_number_words_are_ignored() {
        assert_eq!(spoken_digits("Yeah, sure, it's um five five five"), "555");
        assert_eq!(spoken_digits("hello there"), "");
        assert_eq!(spoken_digits(""), "");
        // Counts are digits too; phone corrections remove them before reading digits.
        assert_eq!(spoken_digits("the first three are five oh eight"), "3508");
        assert_eq!(spoken_digits("on the 5th"), "");
    }

    #[test]
    fn parse_simple_and_compound() {
        assert_eq!(num("seven"), Some((7, 1)));
        assert_eq!(num("zero"), Some((0, 1)));
        assert_eq!(num("twelve"), Some((12, 1)));
        assert_eq!(num("twenty three"), Some((23, 2)));
        assert_eq!(num("twenty-three"), Some((23, 1)));
        assert_eq!(num("forty"), Some((40, 1)));
    }

    #[test]
    fn parse_hundreds_and_thousands() {
        assert_eq!(num("one hundred and five"), Some((105, 4)));
        assert_eq!(num("a hundred"), Some((100, 2)));
        assert_eq!(num("two thousand five"), Some((2005, 3)));
        assert_eq!(num("two thousand and five"), Some((2005, 4)));
        assert_eq!(num("two thousand"), Some((2000, 2)));
        assert_eq!(num("nineteen hundred eighty"), Some((1980, 3)));
        assert_eq!(num("three hundred forty-two thousand"), Some((342_000, 4)));
    }

    #[test]
    fn parse_stops_at_the_number_end() {
        assert_eq!(num("five dollars"), Some((5, 1)));
        // "and" is only part of a number when a number follows it.
        assert_eq!(num("one hundred and then"), Some((100, 2)));
        assert_eq!(num("two thousand and"), Some((2000, 2)));
        assert_eq!(num("five fifty five"), Some((5, 1)));
    }

    #[test]
    fn nineteen_eighty_is_two_numbers() {
        assert_eq!(num("nineteen eighty"), Some((19, 1)));
        assert_eq!(parse_number(&w("eighty")), Some((80, 1)));
    }

    #[test]
    fn parse_ordinals() {
        assert_eq!(num("fifth"), Some((5, 1)));
        assert_eq!(num("twenty-first"), Some((21, 1)));
        assert_eq!(num("twenty first"), Some((21, 2)));
        assert_eq!(num("thirtieth"), Some((30, 1)));
        assert_eq!(num("5th"), Some((5, 1)));
        assert_eq!(num("31st"), Some((31, 1)));
        assert_eq!(num("22nd"), Some((22, 1)));
        assert_eq!(num("3rd"), Some((3, 1)));
        assert_eq!(num("one hundredth"), Some((100, 2)));
        // An ordinal ends the number.
        assert_eq!(num("twenty first nineteen"), Some((21, 2)));
        assert!(parse_detail(&w("fifth")).is_some_and(|p| p.ordinal));
        assert!(parse_detail(&w("5")).is_some_and(|p| !p.ordinal));
    }

    #[test]
    fn parse_numerals() {
        assert_eq!(num("1980"), Some((1980, 1)));
        assert_eq!(num("05"), Some((5, 1)));
        assert_eq!(num("99999999999999"), None);
    }

    #[test]
    fn parse_rejects_non_numbers() {
        assert_eq!(num(""), None);
        assert_eq!(num("hello"), None);
        assert_eq!(num("hundred"), None);
        assert_eq!(num("a"), None);
        assert_eq!(num("oh"), None);
        assert_eq!(num("5x"), None);
        // Half a hyphenated word is not claimed.
        assert_eq!(num("one-way"), None);
    }

    #[test]
    fn words_for_read_back() {
        assert_eq!(cardinal_words(0), "zero");
        assert_eq!(cardinal_words(44), "forty-four");
        assert_eq!(cardinal_words(80), "eighty");
        assert_eq!(ordinal_words(5), "fifth");
        assert_eq!(ordinal_words(21), "twenty-first");
        assert_eq!(ordinal_words(30), "thirtieth");
        assert_eq!(ordinal_words(12), "twelfth");
    }

    #[test]
    fn read_back_words_parse_again() {
        for n in 0..100 {
            assert_eq!(num(&cardinal_words(n)), Some((n, 1)), "{n}");
        }
        for n in 1..100 {
            assert_eq!(num(&ordinal_words(n)), Some((n, 1)), "{n}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = spoken_digits(&s);
            let _ = parse_number(&words(&s));
        }

        #[test]
        fn never_panics_on_number_like_text(
            s in "([0-9]{1,12}|oh|o|double|triple|hundred|thousand|and|a|twenty|first|-|,| ){0,20}"
        ) {
            let d = spoken_digits(&s);
            proptest::prop_assert!(d.bytes().all(|b| b.is_ascii_digit()));
            let _ = parse_number(&words(&s));
        }

        #[test]
        fn numerals_come_back_unchanged(s in "[0-9]{1,20}") {
            proptest::prop_assert_eq!(spoken_digits(&s), s);
        }
    }
}
