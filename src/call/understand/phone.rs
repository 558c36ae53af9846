//! Callback phone numbers (North American Numbering Plan).
//!
//! The agent asks for a callback number, reads it back in three groups, and takes corrections
//! ("no, it ends in four four seven one"). A number is only accepted when it could be dialled:
//! ten digits with a valid area code and exchange, so a mis-heard digit is caught while the
//! caller is still on the line rather than when the clinic calls back.

use std::fmt;

use super::numbers::{digits_in, is_number_word, number_words, parse_detail};

/// A dialable ten-digit NANP number (area code, exchange, line), already validated.
///
/// Holding one of these means the checks in [`classify_digits`] passed, so code that stores or
/// dials the number never re-validates it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    digits: String,
}

impl PhoneNumber {
    /// The ten digits, without country code or punctuation: the form to store and dial.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The number as the agent reads it back: "six one seven, five five five, zero one nine
    /// nine". Every digit is its own word and zero is "zero", never "oh", so the caller can
    /// check it digit by digit; the commas give the TTS the pauses people expect.
    pub fn grouped_words(&self) -> String {
        const NAMES: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
        let say = |part: &str| part.bytes().map(|b| NAMES[usize::from(b.saturating_sub(b'0')).min(9)]).collect::<Vec<_>>().join(" ");
        let d = &self.digits;
        format!("{}, {}, {}", say(&d[..3]), say(&d[3..6]), say(&d[6..]))
    }
}

/// "617-555-0199", for logs and staff screens.
impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.digits;
        write!(f, "{}-{}-{}", &d[..3], &d[3..6], &d[6..])
    }
}

/// What a caller's answer amounts to as a phone number, so the agent knows what to say next:
/// read it back, ask for the rest, or explain what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneParse {
    /// A dialable number; read it back for confirmation.
    Valid(PhoneNumber),
    /// Fewer than ten digits so far; the caller may still be going ("six one seven...").
    Incomplete {
        /// The digits heard so far.
        digits: String,
    },
    /// More digits than a number has (after dropping a leading country code 1).
    TooLong {
        /// All the digits heard.
        digits: String,
    },
    /// Ten digits that cannot be a real number; `reason` is a phrase the agent can say.
    Invalid {
        /// The ten digits (country code removed).
        digits: String,
        /// What is wrong, as words the agent can say.
        reason: &'static str,
    },
    /// No digits at all in the answer.
    Nothing,
}

/// Classifies a plain digit string (from speech or the keypad): strips a country code 1 from
/// eleven digits and checks the NANP rules. Public so keypad (DTMF) entry gets exactly the
/// same checks and messages as speech.
pub fn classify_digits(digits: &str) -> PhoneParse {
    let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
    let local = match digits.len() {
        0 => return PhoneParse::Nothing,
        11 if digits.starts_with('1') => digits[1..].to_string(),
        n if n < 10 => return PhoneParse::Incomplete { digits },
        10 => digits,
        _ => return PhoneParse::TooLong { digits },
    };
    match nanp_problem(local.as_bytes()) {
        Some(reason) => PhoneParse::Invalid { digits: local, reason },
        None => PhoneParse::Valid(PhoneNumber { digits: local }),
    }
}

/// Why ten digits are not a NANP number, in words the agent can say, or `None` if they are.
fn nanp_problem(d: &[u8]) -> Option<&'static str> {
    let [a, b, c, e, f, g, ..] = d else {
        return Some("a phone number needs ten digits");
    };
    match (a, b, c) {
        (b'0', _, _) => return Some("an area code can't start with zero"),
        (b'1', _, _) => return Some("an area code can't start with one"),
        (_, b'1', b'1') => return Some("an area code can't end in one one"),
        (_, b'9', _) => return Some("an area code can't have nine in the middle"),
        _ => {}
    }
    match (e, f, g) {
        (b'0', _, _) => Some("the three digits after the area code can't start with zero"),
        (b'1', _, _) => Some("the three digits after the area code can't start with one"),
        (_, b'1', b'1') => Some("the three digits after the area code can't end in one one"),
        _ => None,
    }
}

/// Reads a phone number from a caller's answer to "what's the best number to reach you?".
///
/// Takes digits however they come ("Yeah, it's 617-555-0199", "six one seven five five five
/// oh one nine nine", "my cell is (617) 555 0199 thanks", "+1 617..."), drops an extension
/// ("extension 12", "ext. 12") because the clinic's dialer cannot use it, and validates.
pub fn parse_phone(text: &str) -> PhoneParse {
    let w = prepared(text);
    classify_digits(&digits_in(&w))
}

/// Where in the number a correction applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Start,
    Middle,
    End,
}

/// Applies a caller's correction after a read-back and re-validates the result.
///
/// Understands "no, it ends in four four seven one" / "the last four are 4471" (replace the
/// last digits), "the area code is 508" / "it starts with 508" / "the first three are 508"
/// (replace the first digits), "the middle part is 555" (replace digits 4-6), and a full
/// restatement "no, 617 555 4471". Digits after "not" are the wrong ones: "508, not 617"
/// replaces the 617, and "not 0199, 4471" the 0199. Without a place word, four to nine digits
/// replace the end (people restate the tail they got wrong).
/// Returns `None` when the text holds no digits, or only one to three digits with no word
/// saying where they go: the agent should then ask again rather than guess.
pub fn apply_correction(previous: &PhoneNumber, text: &str) -> Option<PhoneParse> {
    let mut w = prepared(text);
    let wrong = blank_runs_after(&mut w, |w, i| w[i] == "not" || (w[i] == "of" && i > 0 && w[i - 1] == "instead"));
    let place = find_place(&w);
    let count = place.and_then(|(_, at)| take_count(&mut w, at + 1));
    let mut said = digits_in(&w);
    if said.is_empty() {
        // "not 0199, 4471" loses its comma in the word list, so the run after "not" holds
        // both; when it splits evenly the second half is the replacement.
        match wrong.as_slice() {
            [run] if run.len() >= 2 && run.len() % 2 == 0 => said = run[run.len() / 2..].to_string(),
            _ => return None,
        }
    }
    if said.len() >= 10 {
        return Some(classify_digits(&said));
    }
    let old = previous.digits();
    // "five oh eight, not six one seven": the wrong digits say where the right ones go.
    let named_wrong = match wrong.as_slice() {
        [run] if run.len() == said.len() => old.find(run.as_str()),
        _ => None,
    };
    let (start, end) = match (place.map(|p| p.0), named_wrong) {
        (Some(Place::Start), _) => (0, count.unwrap_or(said.len())),
        (Some(Place::Middle), _) => (3, 6),
        (Some(Place::End), _) => (10 - count.unwrap_or(said.len()).min(10), 10),
        (None, Some(at)) => (at, at + said.len()),
        (None, None) if said.len() >= 4 => (10 - said.len(), 10),
        (None, None) => return None,
    };
    let end = end.min(old.len());
    let start = start.min(end);
    let fixed = format!("{}{}{}", &old[..start], said, &old[end..]);
    Some(classify_digits(&fixed))
}

/// Words of `text` ready for digit reading, with any extension removed.
fn prepared(text: &str) -> Vec<String> {
    let mut w = number_words(text);
    blank_runs_after(&mut w, |w, i| matches!(w[i].as_str(), "extension" | "ext" | "x"));
    w
}

/// Blanks out the run of number words right after each word where `starts` holds
/// (the extension after "extension", the wrong digits after "not") and returns the digits of
/// each run blanked.
fn blank_runs_after(w: &mut [String], starts: impl Fn(&[String], usize) -> bool) -> Vec<String> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < w.len() {
        if starts(w, i) {
            let mut j = i + 1;
            // "extension number 12", "ext. is 12"
            while j < w.len() && matches!(w[j].as_str(), "number" | "is" | "uh" | "um") {
                j += 1;
            }
            let run_start = j;
            while j < w.len() && (is_number_word(&w[j]) || w[j] == "and") {
                j += 1;
            }
            runs.push(digits_in(&w[run_start..j]));
            w[run_start..j].iter_mut().for_each(String::clear);
            i = j;
        } else {
            i += 1;
        }
    }
    runs
}

/// The first word that says which part of the number is being corrected, and its index.
fn find_place(w: &[String]) -> Option<(Place, usize)> {
    w.iter().enumerate().find_map(|(i, word)| {
        let next = w.get(i + 1).map(String::as_str).unwrap_or("");
        let place = match word.as_str() {
            "area" if next == "code" => Place::Start,
            "starts" | "start" | "starting" | "begins" | "begin" | "beginning" | "first" => Place::Start,
            "middle" | "exchange" => Place::Middle,
            "second" if matches!(next, "part" | "group" | "three" | "bit") => Place::Middle,
            "ends" | "end" | "ending" | "last" | "final" => Place::End,
            _ => return None,
        };
        Some((place, i))
    })
}

/// Removes and returns a count at `i` ("the last *four* are 4471") so it is not read as a
/// digit. "the last four seven one two" has no count: the word is kept when only as a digit
/// does it give as many digits as it says.
fn take_count(w: &mut [String], i: usize) -> Option<usize> {
    let n = count_at(w, i)?;
    // "the last four are...", "the last four digits": the word after a count says so.
    let says_count =
        w.get(i + 1).is_some_and(|x| matches!(x.as_str(), "digits" | "digit" | "numbers" | "number" | "are" | "is" | "should" | "were"));
    let digits_with = digits_in(w).len();
    let word = std::mem::take(&mut w[i]);
    let digits_without = digits_in(w).len();
    if says_count || digits_without == n || digits_with != n {
        return Some(n);
    }
    w[i] = word;
    None
}

/// A small count ("four", "4", "three") at `i`, as in "the last four".
fn count_at(w: &[String], i: usize) -> Option<usize> {
    let p = parse_detail(w.get(i..)?)?;
    if p.ordinal || p.used != 1 || !(1..=10).contains(&p.value) {
        return None;
    }
    usize::try_from(p.value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(text: &str) -> PhoneNumber {
        match parse_phone(text) {
            PhoneParse::Valid(p) => p,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    fn digits_of(p: Option<PhoneParse>) -> String {
        match p {
            Some(PhoneParse::Valid(n)) => n.digits().to_string(),
            other => format!("{other:?}"),
        }
    }

    fn reason(text: &str) -> &'static str {
        match parse_phone(text) {
            PhoneParse::Invalid { reason, .. } => reason,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn whisper_numeral_styles() {
        assert_eq!(valid("Yeah, it's 617-555-0199").digits(), "6175550199");
        assert_eq!(valid("Yes, it's 617-555-0199.").digits(), "6175550199");
        assert_eq!(valid("my cell is (617) 555 0199 thanks").digits(), "6175550199");
        assert_eq!(valid("6175550199").digits(), "6175550199");
        assert_eq!(valid("617.555.0199").digits(), "6175550199");
        assert_eq!(valid("It's 617 555 0199.").digits(), "6175550199");
    }

    #[test]
    fn spoken_digit_styles() {
        assert_eq!(valid("six one seven five five five oh one nine nine").digits(), "6175550199");
        assert_eq!(valid("Six one seven, five five five, zero one nine nine.").digits(), "6175550199");
        assert_eq!(valid("six seventeen, five fifty five, oh one ninety nine").digits(), "6175550199");
        assert_eq!(valid("six one seven triple five oh one nine nine").digits(), "6175550199");
        assert_eq!(valid("Oh, it's six one seven, five five five, oh one nine nine.").digits(), "6175550199");
    }

    #[test]
    fn country_code_is_dropped() {
        assert_eq!(valid("+1 617-555-0199").digits(), "6175550199");
        assert_eq!(valid("1-800-555-0199").digits(), "8005550199");
        assert_eq!(valid("one eight hundred five five five oh one nine nine").digits(), "8005550199");
    }

    #[test]
    fn extension_is_ignored() {
        assert_eq!(valid("617-555-0199 extension 12").digits(), "6175550199");
        assert_eq!(valid("617-555-0199, ext. 12").digits(), "6175550199");
        assert_eq!(valid("It's 617-555-0199 x 204.").digits(), "6175550199");
        assert_eq!(valid("617-555-0199 extension number two oh four").digits(), "6175550199");
    }

    #[test]
    fn incomplete_too_long_and_nothing() {
        assert_eq!(parse_phone("six one seven"), PhoneParse::Incomplete { digits: "617".into() });
        assert_eq!(parse_phone("555-0199"), PhoneParse::Incomplete { digits: "5550199".into() });
        assert_eq!(parse_phone("617-555-01999"), PhoneParse::TooLong { digits: "61755501999".into() });
        assert_eq!(parse_phone("2 617 555 0199"), PhoneParse::TooLong { digits: "26175550199".into() });
        assert_eq!(parse_phone("I don't know it"), PhoneParse::Nothing);
        assert_eq!(parse_phone(""), PhoneParse::Nothing);
        assert_eq!(parse_phone("Oh, hang on."), PhoneParse::Nothing);
    }

    #[test]
    fn nanp_area_code_rules() {
        assert_eq!(reason("017-555-0199"), "an area code can't start with zero");
        assert_eq!(reason("117 555 0199"), "an area code can't start with one");
        assert_eq!(reason("411-555-0199"), "an area code can't end in one one");
        assert_eq!(reason("911-555-0199"), "an area code can't end in one one");
        assert_eq!(reason("697-555-0199"), "an area code can't have nine in the middle");
    }

    #[test]
    fn nanp_exchange_rules() {
        assert_eq!(reason("617-055-0199"), "the three digits after the area code can't start with zero");
        assert_eq!(reason("617-155-0199"), "the three digits after the area code can't start with one");
        assert_eq!(reason("617-411-0199"), "the three digits after the area code can't end in one one");
        // 555 and N11-looking line numbers are fine.
        assert_eq!(valid("617-555-1111").digits(), "6175551111");
        assert_eq!(valid("212-555-0100").digits(), "2125550100");
    }

    #[test]
    fn invalid_keeps_the_digits() {
        assert_eq!(
            parse_phone("1 117 555 0199"),
            PhoneParse::Invalid { digits: "1175550199".into(), reason: "an area code can't start with one" }
        );
    }

    #[test]
    fn read_back_words() {
        let p = valid("617-555-0199");
        assert_eq!(p.grouped_words(), "six one seven, five five five, zero one nine nine");
        assert_eq!(p.to_string(), "617-555-0199");
        assert_eq!(valid("(508) 204-3000").grouped_words(), "five zero eight, two zero four, three zero zero zero");
    }

    #[test]
    fn read_back_parses_to_the_same_number() {
        let p = valid("617-555-0199");
        assert_eq!(valid(&p.grouped_words()), p);
    }

    #[test]
    fn classify_keypad_digits() {
        assert_eq!(digits_of(Some(classify_digits("16175550199"))), "6175550199");
        assert_eq!(classify_digits(""), PhoneParse::Nothing);
        assert!(matches!(classify_digits("61755"), PhoneParse::Incomplete { .. }));
    }

    fn prev() -> PhoneNumber {
        valid("617-555-0199")
    }

    #[test]
    fn correct_the_end() {
        assert_eq!(digits_of(apply_correction(&prev(), "no, it ends in four four seven one")), "6175554471");
        assert_eq!(digits_of(apply_correction(&prev(), "The last four are 4471.")), "6175554471");
        assert_eq!(digits_of(apply_correction(&prev(), "the last four digits are four four seven one")), "6175554471");
        assert_eq!(digits_of(apply_correction(&prev(), "No, it ends with 71.")), "6175550171");
        assert_eq!(digits_of(apply_correction(&prev(), "last digit is 8")), "6175550198");
        assert_eq!(digits_of(apply_correction(&prev(), "It's 4471 at the end")), "6175554471");
    }

    #[test]
    fn count_word_that_is_really_a_digit() {
        // "the last four seven one two": four digits said after "last" with no count.
        assert_eq!(digits_of(apply_correction(&prev(), "the last four seven one two")), "6175554712");
        assert_eq!(digits_of(apply_correction(&prev(), "the last four four four seven one")), "6175554471");
    }

    #[test]
    fn correct_the_start() {
        assert_eq!(digits_of(apply_correction(&prev(), "the area code is 508")), "5085550199");
        assert_eq!(digits_of(apply_correction(&prev(), "No, the area code is five oh eight.")), "5085550199");
        assert_eq!(digits_of(apply_correction(&prev(), "it starts with 508")), "5085550199");
        assert_eq!(digits_of(apply_correction(&prev(), "the first three are five oh eight")), "5085550199");
        assert_eq!(digits_of(apply_correction(&prev(), "it starts with 5")), "5175550199");
    }

    #[test]
    fn correct_the_middle() {
        assert_eq!(digits_of(apply_correction(&prev(), "the middle part is 556")), "6175560199");
        assert_eq!(digits_of(apply_correction(&prev(), "The middle three are two oh four.")), "6172040199");
        assert_eq!(digits_of(apply_correction(&prev(), "the second part is 204")), "6172040199");
    }

    #[test]
    fn full_restatement_replaces_everything() {
        assert_eq!(digits_of(apply_correction(&prev(), "no, 617 555 4471")), "6175554471");
        assert_eq!(digits_of(apply_correction(&prev(), "No, it's 1-508-555-4471.")), "5085554471");
        assert_eq!(digits_of(apply_correction(&prev(), "no, five oh eight two oh four three thousand")), "5082043000");
    }

    #[test]
    fn correction_without_place_word() {
        assert_eq!(digits_of(apply_correction(&prev(), "no, 4471")), "6175554471");
        assert_eq!(digits_of(apply_correction(&prev(), "no, 555-4471")), "6175554471");
        assert_eq!(digits_of(apply_correction(&prev(), "not 0199, 4471")), "6175554471");
        assert_eq!(digits_of(apply_correction(&prev(), "it's 4471 not 0199")), "6175554471");
        assert_eq!(apply_correction(&prev(), "no, 508"), None);
        assert_eq!(digits_of(apply_correction(&prev(), "no it's five oh eight not six one seven")), "5085550199");
        assert_eq!(digits_of(apply_correction(&prev(), "It's 556, not 555.")), "6175560199");
        // Wrong digits that are not in the number do not place the correction.
        assert_eq!(apply_correction(&prev(), "508, not 999"), None);
    }

    #[test]
    fn correction_is_revalidated() {
        assert_eq!(
            apply_correction(&prev(), "the area code is 117"),
            Some(PhoneParse::Invalid { digits: "1175550199".into(), reason: "an area code can't start with one" })
        );
        assert_eq!(apply_correction(&prev(), "the last four are 471"), Some(PhoneParse::Incomplete { digits: "617555471".into() }));
        assert_eq!(apply_correction(&prev(), "the middle part is 4"), Some(PhoneParse::Incomplete { digits: "61740199".into() }));
    }

    #[test]
    fn no_correction() {
        assert_eq!(apply_correction(&prev(), "no, that's wrong"), None);
        assert_eq!(apply_correction(&prev(), ""), None);
        assert_eq!(apply_correction(&prev(), "the last part"), None);
        assert_eq!(apply_correction(&prev(), "Oh, sorry."), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = parse_phone(&s);
            let _ = apply_correction(&prev(), &s);
        }

        #[test]
        fn digit_strings_never_panic(s in "[0-9+() .-]{0,24}") {
            let _ = parse_phone(&s);
            let _ = classify_digits(&s);
            let _ = apply_correction(&prev(), &s);
        }

        #[test]
        fn valid_numbers_read_back_to_themselves(s in "[2-8][02-8][0-9][2-9][0-9]{6}") {
            if let PhoneParse::Valid(p) = parse_phone(&s) {
                proptest::prop_assert_eq!(p.digits(), s.as_str());
                proptest::prop_assert_eq!(parse_phone(&p.grouped_words()), PhoneParse::Valid(p));
            }
        }

        #[test]
        fn corrections_never_panic(s in "(last|first|area code|middle|ends in|not|four|[0-9]{1,11}| ){0,8}") {
            let _ = apply_correction(&prev(), &s);
        }
    }
}
