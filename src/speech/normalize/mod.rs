//! Speech text normalisation: turns what the dialog *displays* into what a
//! caller should *hear*.
//!
//! The dialog writes text for reading ("Dr. Patel, Tue 4/3 at 10:30am, call
//! (212) 555-0147"). Piper's phonemiser (espeak-ng) reads such text literally
//! and often badly: "Dr." may come out as "drive", "4/3" as "four slash
//! three", a phone number as "two hundred twelve ...". [`speakable`] rewrites
//! display text into plain English words before synthesis.
//!
//! # Design
//!
//! 1. A tokenizer splits the text into words, digit runs, single symbols and
//!    whitespace runs. Nothing is dropped, so text without anything to
//!    normalise comes back unchanged (except that whitespace is collapsed).
//! 2. A rule pass walks the tokens left to right. At each position the rules
//!    are tried in priority order, most specific first (phone numbers before
//!    dates before times before plain numbers). The first rule that matches
//!    consumes some tokens and emits words; unmatched tokens are copied.
//!
//! Sentence punctuation is only consumed when it is part of a pattern (the
//! dots of "a.m.", the comma in "April 3, 1952", which is re-emitted). An
//! abbreviation's period that also ends the sentence is kept, because the
//! voice uses punctuation for pauses and intonation.
//!
//! # Choices where several readings are reasonable
//!
//! * Noon is read literally: "12:00 PM" -> "twelve p m" (not "noon").
//! * "10:00" without a.m./p.m. -> "ten o'clock"; in a range the "o'clock" is
//!   dropped ("9:00-5:00" -> "nine to five").
//! * A clock time is treated as 24-hour when the hour is 0 or 13..=23 or has a
//!   leading zero ("09:30"), and then gets "a m"/"p m" ("14:30" -> "two thirty
//!   p m"). "12:30" without suffix stays "twelve thirty".
//! * Street numbers are read in pairs, as people say them: "123 Oak St." ->
//!   "one twenty-three Oak Street", "4500 Elm Ave" -> "forty-five hundred Elm
//!   Avenue".
//! * US state abbreviations are expanded only in front of a ZIP code, where
//!   they are unambiguous ("IL 62704" -> "Illinois six two seven zero four");
//!   elsewhere "IN", "OR", "ME", "OK", "HI" are ordinary words.
//! * 11-digit phone numbers keep their leading "one" ("1-800-..." -> "one,
//!   eight zero zero, ..."), because the caller has to dial it.
//! * Integers of five or more digits written without thousands separators,
//!   and numbers with a leading zero, are identifiers (member IDs,
//!   confirmation numbers, ZIP codes) and are read digit by digit; round
//!   thousands ("10000") and numbers with separators ("12,500") or a unit are
//!   read as quantities.
//! * "cc" is read "cubic centimeters".
//! * "3/4" without a year is a date after words such as "on" or "by" and
//!   after a weekday; otherwise halves, thirds and quarters are fractions
//!   ("1/2 tablet" -> "one half tablet") and other valid month/day pairs are
//!   dates; anything else is "over" ("120/80" -> "one hundred twenty over
//!   eighty").
//! * "911" is always "nine one one".
//! * "#" before a number is "number"; after "press", "dial", "or" and the
//!   like it is the "pound" key; "press *" is "star".
//! * Compass letters are expanded only at the start of a street name
//!   ("4821 W. Lincoln Ave." -> "forty-eight twenty-one West Lincoln
//!   Avenue").
//! * Not handled (passed through): e-mail addresses and URLs, version
//!   numbers, times with seconds.
//!
//! # Layout
//!
//! This file holds the entry points and the rule engine (the rule order and
//! the output). `tokens` is the tokenizer and the look-ups every rule makes;
//! `numerals` the words for integers, ordinals, digits and years. Each other
//! file is one domain with its rule and its tests: `phone`, `dates`,
//! `weekdays`, `times`, `slashes` (fractions, month/day, "120/80"),
//! `money`, `address` (house numbers, ZIP codes), `numbers`, `units`,
//! `abbreviations` and `symbols`. A new domain is a new file whose rule is
//! placed in `RULES`; the helpers it takes from the others are
//! `pub(super)`, nothing more, so the public surface stays `speakable` and
//! the four items re-exported below.

mod abbreviations;
mod address;
mod dates;
mod money;
mod numbers;
mod numerals;
mod phone;
mod slashes;
mod symbols;
mod times;
mod tokens;
mod units;
mod weekdays;

pub use dates::MONTHS;
pub use numerals::{number_words, ordinal_words};
pub use phone::phone_words;

use abbreviations::rule_word;
use address::{rule_house_number, rule_zip};
use dates::{rule_day_month, rule_iso_date, rule_month_date, rule_numeric_date};
use money::rule_money;
use numbers::{rule_number, rule_ordinal};
use phone::rule_phone;
use slashes::rule_slash;
use symbols::rule_symbol;
use times::rule_time;
use tokens::{Tok, tokenize};
use weekdays::rule_weekday;

/// Turns display text into speakable words.
///
/// Never panics; whitespace runs are collapsed to single spaces and the
/// result is trimmed.
pub fn speakable(text: &str) -> String {
    let toks = tokenize(text);
    let mut out = Out::default();
    let mut i = 0;
    while i < toks.len() {
        match RULES.iter().find_map(|rule| rule(&toks, i)) {
            Some(hit) if hit.end > i => {
                out.push_str(&hit.text);
                i = hit.end;
            }
            _ => {
                out.push_token(&toks[i]);
                i += 1;
            }
        }
    }
    out.finish()
}

/// Characters that must not be glued together across a replacement
/// ("B" + "twelve" -> "B twelve").
fn is_wordy(c: char) -> bool {
    c.is_alphabetic() || c.is_ascii_digit()
}

/// The spoken text as it is built: whitespace runs become one space, and a
/// replacement never glues onto a neighbouring word.
#[derive(Default)]
struct Out {
    text: String,
}

impl Out {
    fn push_space(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with(' ') {
            self.text.push(' ');
        }
    }

    fn push_str(&mut self, s: &str) {
        if let (Some(prev), Some(next)) = (self.text.chars().next_back(), s.chars().next())
            && is_wordy(prev)
            && is_wordy(next)
        {
            self.text.push(' ');
        }
        self.text.push_str(s);
    }

    fn push_token(&mut self, tok: &Tok) {
        match tok {
            Tok::Space => self.push_space(),
            Tok::Word(w) => self.push_str(w),
            Tok::Num(n) => self.push_str(n),
            Tok::Sym(c) => self.text.push(*c),
        }
    }

    fn finish(self) -> String {
        self.text.trim().to_string()
    }
}

/// A rule's result: the tokens up to `end` are replaced by `text`.
struct Hit {
    end: usize,
    text: String,
}

fn hit(end: usize, text: impl Into<String>) -> Option<Hit> {
    Some(Hit { end, text: text.into() })
}

type Rule = fn(&[Tok], usize) -> Option<Hit>;

/// Most specific first: a phone number must be claimed before its parts are
/// read as a range of numbers, a date before its day is read as a number.
const RULES: &[Rule] = &[
    rule_phone,
    rule_iso_date,
    rule_numeric_date,
    rule_time,
    rule_slash,
    rule_money,
    rule_zip,
    rule_month_date,
    rule_day_month,
    rule_weekday,
    rule_house_number,
    rule_ordinal,
    rule_number,
    rule_word,
    rule_symbol,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Shared by every domain's tests: `input` is spoken as `expected`.
    pub(super) fn check(input: &str, expected: &str) {
        assert_eq!(speakable(input), expected, "input: {input:?}");
    }

    #[test]
    fn sentence_punctuation_preserved() {
        check("Is 10:30 AM okay? Yes, see you then!", "Is ten thirty a m okay? Yes, see you then!");
        check("Your total is $45. Thank you.", "Your total is forty-five dollars. Thank you.");
    }

    #[test]
    fn nothing_to_normalise_passes_through() {
        let plain = "Hello, thank you for calling Riverside Family Clinic. How can I help you today?";
        check(plain, plain);
        check("Don't worry; it's fine: really!", "Don't worry; it's fine: really!");
        check("Sunday", "Sunday");
        check("caf\u{e9} na\u{ef}ve \u{201c}quoted\u{201d}", "caf\u{e9} na\u{ef}ve \u{201c}quoted\u{201d}");
    }

    #[test]
    fn whitespace_collapsed() {
        check("  Hello \n\t world  ", "Hello world");
        check("Dr.   Patel\n\nis in", "Doctor Patel is in");
    }

    #[test]
    fn full_sentences() {
        check(
            "Dr. Patel can see you Mon., April 3 at 10:30am in Ste. 200.",
            "Doctor Patel can see you Monday, April third at ten thirty a m in Suite two hundred.",
        );
        check(
            "Take 1 tablet (10 mg) 2x daily & call (212) 555-0147 ext. 204 with questions.",
            "Take one tablet (ten milligrams) two times daily and call two one two, five five five, \
             zero one four seven, extension two zero four with questions.",
        );
        check(
            "Your appt. on 04/03/2025 is at 9:15 AM with Dr. Lee at 500 Main St.",
            "Your appointment on April third, twenty twenty-five is at nine fifteen a m with Doctor Lee \
             at five hundred Main Street.",
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd = [
            "",
            " ",
            ".",
            "...",
            "?!,;:",
            "99999999999999999999",
            "99999999999999999999th",
            "$99999999999999999999.999",
            "#99999999999999999999",
            "999,999,999,999,999,999,999",
            "\u{1f600} \u{65e5}\u{672c}\u{8a9e} \u{661}\u{662}\u{663} e\u{301}",
            "$",
            "$.",
            "12:",
            ":30",
            "1/2",
            "//",
            "--",
            "-",
            "(",
            "()",
            "(212",
            "+",
            "+1",
            "+1 ",
            "1-",
            "1-800-",
            "x",
            "ext.",
            "ext. x",
            "Dr.",
            "St",
            "No.",
            "#",
            "&",
            "%",
            "\u{b0}",
            "a.m.",
            "A.",
            "e.g",
            "Mon-",
            "-Fri",
            "April",
            "April 99",
            "April 3,",
            "13/45/2020",
            "0/0",
            "24:60",
            "99:99 pm",
            "0 am",
            "2024-13-45",
            "w/",
            "1st2nd3rd",
            "'s",
            "1990's",
            "\u{2019}",
            "IL",
            "IL 1",
            "\t\n\r",
            "\u{0}\u{7f}",
        ];
        for input in odd {
            let out = speakable(input);
            assert!(!out.starts_with(' ') && !out.ends_with(' '), "{input:?} -> {out:?}");
            assert!(!out.contains("  "), "{input:?} -> {out:?}");
        }
    }
}
