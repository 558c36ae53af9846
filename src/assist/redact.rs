//! De-identification of what a caller said, before any of it may leave the box.
//!
//! Safe Harbor (45 CFR 164.514(b)(2)) lists what must go; on a phone call the hard ones are
//! names (spelled, in NATO letters, common words such as "Bill" or "Hope", relatives'),
//! places below the state, every date but the year, ages over 89, and numbers of every kind
//! said as digits or as words. Two passes, in the order the reference designs use:
//!
//! 1. What the call itself captured (the caller's name, date of birth, numbers) is removed in
//!    whatever form it comes back: a captured name's words anywhere, spelled letter runs.
//! 2. An allowlist pass in the style of Philter ("redact unless known safe"): a word stays only
//!    if it is common English (`english.txt`) or in the clinic's own vocabulary (its intents,
//!    FAQ topics, medications); every run of digits or number words, every date and time
//!    phrase, spelled letters, e-mail addresses, street addresses, capitalised words after the
//!    start of a sentence, and the words after "my name is" or "my son" are masked whatever
//!    they are.
//!
//! A masked span becomes a bracketed class (`[name]`, `[number]`, `[date]`...), so the model
//! still reads a sentence. When the redactor is unsure (too much masked to be worth sending,
//! or more text than one request), [`Redacted::Withheld`] says why and nothing goes.
//!
//! Pure and deterministic: `frontdesk assist redact` runs exactly this on standard input, so a
//! clinic or an auditor can test it on their own sentences.

use std::collections::HashSet;

/// The lower-case common English words (SCOWL size 35), one per line after the header.
const ENGLISH: &str = include_str!("english.txt");
/// Medications and clinical words the common list lacks.
const CLINICAL: &str = include_str!("clinical.txt");

/// What a masked span was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Name,
    Number,
    Date,
    Letters,
    Email,
    Place,
    /// A word that is neither common English nor the clinic's.
    Word,
}

impl Class {
    pub fn tag(self) -> &'static str {
        match self {
            Class::Name => "[name]",
            Class::Number => "[number]",
            Class::Date => "[date]",
            Class::Letters => "[letters]",
            Class::Email => "[email]",
            Class::Place => "[place]",
            Class::Word => "[word]",
        }
    }
}

/// The outcome for one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redacted {
    /// The text that may be sent, with `masked` spans replaced.
    Send { text: String, masked: usize },
    /// Nothing may be sent, and why (no caller's words in the reason).
    Withheld(&'static str),
}

impl Redacted {
    pub fn text(&self) -> Option<&str> {
        match self {
            Redacted::Send { text, .. } => Some(text),
            Redacted::Withheld(_) => None,
        }
    }
}

/// Values the call captured; their words are masked wherever they come back.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    words: HashSet<String>,
}

impl Captured {
    /// Adds a captured value: a name ("Bill Hope"), a date ("1952-03-03"), a number. Its
    /// letter words are remembered; its digits need nothing, since every number is masked.
    pub fn add(&mut self, value: &str) {
        for w in value.split(|c: char| !c.is_alphabetic() && c != '\'') {
            let w = w.trim_matches('\'').to_lowercase();
            if w.chars().count() >= 2 {
                self.words.insert(w);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// True if `word` (lower case) is a captured word or one letter away from a long one
    /// (the recogniser writes "Hope" as "Hop", "Smith" as "Smyth").
    fn matches(&self, word: &str) -> bool {
        if self.words.contains(word) {
            return true;
        }
        let n = word.chars().count();
        n >= 4 && self.words.iter().any(|c| c.chars().count() >= 4 && within_one_edit(c, word))
    }
}

/// The de-identifier: the allowlist, built once.
pub struct Redactor {
    english: HashSet<&'static str>,
    vocabulary: HashSet<String>,
    /// The most words one text may have; longer ones are withheld.
    pub max_words: usize,
    /// The largest share of words that may be masked; above it the text is withheld (it
    /// would say little, and a text that is mostly identifiers is where a miss hurts most).
    pub max_masked_share: f32,
}

impl Redactor {
    /// A redactor that also keeps the words of `vocabulary` (the clinic's intents, FAQ
    /// topics, medications: phrases are split into words).
    pub fn new<'a>(vocabulary: impl IntoIterator<Item = &'a str>) -> Redactor {
        let english = ENGLISH.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
        let mut vocab: HashSet<String> = CLINICAL.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(str::to_string).collect();
        for phrase in vocabulary {
            for w in phrase.split(|c: char| !c.is_alphanumeric() && c != '\'') {
                let w = w.to_lowercase();
                if w.chars().any(|c| c.is_alphabetic()) && !w.chars().any(|c| c.is_ascii_digit()) {
                    vocab.insert(w);
                }
            }
        }
        Redactor { english, vocabulary: vocab, max_words: 80, max_masked_share: 0.5 }
    }

    /// Redacts one utterance (or message text).
    pub fn redact(&self, text: &str, captured: &Captured) -> Redacted {
        let mut toks = tokenize(text);
        let words: Vec<usize> = (0..toks.len()).filter(|&i| toks[i].kind == Kind::Word).collect();
        if words.is_empty() {
            return Redacted::Withheld("no words");
        }
        if words.len() > self.max_words {
            return Redacted::Withheld("longer than one request");
        }
        self.mark(&mut toks, &words, captured);
        let kept = words.iter().filter(|&&i| toks[i].mask.is_none()).count();
        let (text, masked) = render(&toks);
        // A masked run ("[number]" for a whole phone number) counts once against the words
        // kept: what matters is how much of the sentence is left to read.
        if masked as f32 > (kept + masked) as f32 * self.max_masked_share {
            return Redacted::Withheld("mostly identifiers");
        }
        Redacted::Send { text, masked }
    }

    fn known(&self, lower: &str) -> bool {
        let base = lower.strip_suffix("'s").unwrap_or(lower);
        is_pronoun_i(lower)
            || matches!(lower, "dr" | "mr" | "mrs" | "ms")
            || EXTRA_COMMON.contains(&lower)
            || self.english.contains(base)
            || self.vocabulary.contains(base)
            || self.english.contains(lower)
    }

    fn mark(&self, toks: &mut [Tok], words: &[usize], captured: &Captured) {
        let lw: Vec<String> = words.iter().map(|&i| toks[i].text.to_lowercase()).collect();
        let n = words.len();
        let mut mask: Vec<Option<Class>> = vec![None; n];
        // Whole chunks first: e-mail addresses and web addresses as written.
        for (k, &i) in words.iter().enumerate() {
            if toks[i].chunk_email {
                mask[k] = Some(Class::Email);
            }
        }
        let is_num = |w: &str| w.chars().any(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&w) || is_ordinal_word(w);
        for k in 0..n {
            let w = lw[k].as_str();
            let raw = toks[words[k]].text.as_str();
            if mask[k].is_some() {
                continue;
            }
            if w.chars().any(|c| c.is_ascii_digit()) {
                // "3rd", "1952", "4b", "a12": every digit is a number or a code.
                mask[k] = Some(if is_ordinal_digits(w) { Class::Date } else { Class::Number });
            } else if is_ordinal_word(w) {
                mask[k] = Some(Class::Date);
            } else if NUMBER_WORDS.contains(&w) {
                mask[k] = Some(Class::Number);
            } else if w == "oh" || w == "o" {
                // "six one seven, oh one": a zero between numbers.
                let near = |j: Option<usize>| j.is_some_and(|j| is_num(&lw[j]));
                if near(k.checked_sub(1)) || near(Some(k + 1).filter(|&j| j < n)) {
                    mask[k] = Some(Class::Number);
                }
            } else if WEEKDAYS.iter().any(|d| w == *d || w.strip_suffix('s') == Some(*d))
                || RELATIVE_DAYS.contains(&w)
                || MONTHS.contains(&w)
            {
                mask[k] = Some(Class::Date);
            } else if AMBIGUOUS_MONTHS.contains(&w) {
                // "may", "march": a month next to a number or written as a name; a verb otherwise.
                let near_num = (k > 0 && is_num(&lw[k - 1])) || (k + 1 < n && is_num(&lw[k + 1]));
                let after_prep =
                    k > 0 && matches!(lw[k - 1].as_str(), "in" | "on" | "since" | "until" | "of" | "from" | "early" | "late" | "mid");
                if near_num || after_prep || starts_upper(raw) && !(k + 1 < n && MODAL_FOLLOWERS.contains(&lw[k + 1].as_str())) {
                    mask[k] = Some(Class::Date);
                }
            } else if w == "o'clock" || w == "noon" || w == "midnight" {
                mask[k] = Some(Class::Date);
            } else if captured.matches(w) || captured.matches(w.strip_suffix("'s").unwrap_or(w)) {
                mask[k] = Some(Class::Name);
            }
        }
        // "last Tuesday", "next week", "two weeks ago", "3 pm", "the 5th of".
        for k in 0..n {
            let w = lw[k].as_str();
            if matches!(w, "last" | "next" | "this" | "past" | "coming")
                && k + 1 < n
                && (DATE_UNITS.contains(&lw[k + 1].as_str()) || mask[k + 1] == Some(Class::Date))
            {
                mask[k] = Some(Class::Date);
                mask[k + 1] = Some(Class::Date);
            }
            if w == "ago" && k >= 1 {
                mask[k] = Some(Class::Date);
                mask[k - 1] = Some(Class::Date);
                if k >= 2 && (is_num(&lw[k - 2]) || matches!(lw[k - 2].as_str(), "a" | "few" | "couple")) {
                    mask[k - 2] = Some(Class::Date);
                }
            }
            if matches!(w, "am" | "pm" | "a.m" | "p.m") && k >= 1 && mask[k - 1] == Some(Class::Number) {
                mask[k] = Some(Class::Date);
                mask[k - 1] = Some(Class::Date);
            }
            if matches!(w, "half" | "quarter") && k + 2 < n && matches!(lw[k + 1].as_str(), "past" | "to") && is_num(&lw[k + 2]) {
                mask[k] = Some(Class::Date);
                mask[k + 1] = Some(Class::Date);
            }
        }
        // Spelled letters: two or more single letters in a row ("S M I T H", "J.D."), NATO
        // words in a row, and "S as in Sam".
        let single = |k: usize| lw[k].chars().count() == 1 && lw[k].chars().all(|c| c.is_alphabetic());
        let mut k = 0;
        while k < n {
            let start = k;
            while k < n && (single(k) || NATO.contains(&lw[k].as_str())) {
                k += 1;
            }
            let run = k - start;
            let letters = (start..k).filter(|&j| single(j)).count();
            let nato = run - letters;
            // "a" and "I" alone are words; two letters in a row are spelling, as are NATO
            // words next to letters or each other.
            if run >= 2 && (letters >= 2 || nato >= 2 || (nato >= 1 && letters >= 1)) {
                for m in mask.iter_mut().take(k).skip(start) {
                    *m = Some(Class::Letters);
                }
            }
            if k == start {
                k += 1;
            }
        }
        // A word spelled out is masked wherever it is also said ("smith, S M I T H").
        let mut spelled: Vec<String> = Vec::new();
        let mut k = 0;
        while k < n {
            if mask[k] == Some(Class::Letters) {
                let mut word = String::new();
                while k < n && mask[k] == Some(Class::Letters) {
                    if single(k) {
                        word.push_str(&lw[k]);
                    } else {
                        word.push_str(&lw[k][..1]);
                    }
                    k += 1;
                }
                spelled.push(word);
            } else {
                k += 1;
            }
        }
        for k in 0..n {
            if mask[k].is_none() && spelled.iter().any(|s| s.len() >= 3 && (*s == lw[k] || within_one_edit(s, &lw[k]))) {
                mask[k] = Some(Class::Name);
            }
        }
        for k in 0..n.saturating_sub(3) {
            if single(k) && lw[k + 1] == "as" && matches!(lw[k + 2].as_str(), "in" | "for") {
                mask[k] = Some(Class::Letters);
                mask[k + 3] = Some(Class::Letters);
            }
        }
        // Names after the words that introduce them.
        for k in 0..n {
            let take = name_cue(&lw, k);
            if take == 0 {
                continue;
            }
            let mut j = k + take;
            let mut taken = 0;
            while j < n && taken < 3 {
                let w = lw[j].strip_suffix("'s").unwrap_or(&lw[j]);
                let raw = toks[words[j]].text.as_str();
                // "my name is" always names what follows; after "my son" only a word that looks
                // like a name ("my son Bill", not "my son needs").
                let forced = taken == 0 && cue_forces(&lw, k);
                let looks = starts_upper(raw) || AMBIGUOUS_NAMES.contains(&w) || !self.known(w);
                if STOP_AFTER_NAME.contains(&w) || !(forced || looks) || punct_between(toks, words[j - 1], words[j]) && taken > 0 {
                    break;
                }
                mask[j] = Some(Class::Name);
                taken += 1;
                j += 1;
            }
        }
        // Street addresses: "120 River Street", "Apartment 4", "on Elm Street".
        for k in 0..n {
            if !STREET_WORDS.contains(&lw[k].as_str()) {
                continue;
            }
            let unit = matches!(lw[k].as_str(), "apartment" | "apt" | "suite" | "unit" | "box");
            if unit && k + 1 < n && mask[k + 1].is_some() {
                mask[k] = Some(Class::Place);
                continue;
            }
            // Back over the street's name to a number or a preposition.
            let mut j = k;
            let mut named = false;
            while j > 0 && k - j < 3 {
                let prev = lw[j - 1].as_str();
                if mask[j - 1] == Some(Class::Number) || matches!(prev, "on" | "at" | "off" | "the" | "of" | "to" | "near" | "from") {
                    break;
                }
                j -= 1;
                named = true;
            }
            let numbered = j > 0 && mask[j - 1] == Some(Class::Number);
            let capital = (j..k).any(|m| starts_upper(&toks[words[m]].text));
            if named && (numbered || capital || (j > 0 && matches!(lw[j - 1].as_str(), "on" | "at" | "off" | "near" | "to"))) {
                for m in mask.iter_mut().take(k + 1).skip(j) {
                    *m = Some(Class::Place);
                }
            }
        }
        // Spoken addresses: "faith underscore okonkwo at hotmail dot com", "www dot ... dot
        // com slash ...": every word joined by these is part of it.
        let joiner = |w: &str| matches!(w, "dot" | "slash" | "colon" | "underscore" | "dash" | "hyphen" | "at" | "backslash");
        let mut k = 0;
        while k < n {
            if !matches!(lw[k].as_str(), "dot" | "slash") {
                k += 1;
                continue;
            }
            let mut start = k;
            while start >= 2 && joiner(&lw[start - 2]) {
                start -= 2;
            }
            start = start.saturating_sub(1);
            while start > 0 && (single(start - 1) || matches!(lw[start - 1].as_str(), "www" | "http" | "https")) {
                start -= 1;
            }
            let mut end = k + 1;
            while end + 1 < n && joiner(&lw[end + 1]) {
                end += 2;
            }
            while end + 1 < n && (single(end + 1) || mask[end + 1] == Some(Class::Number)) {
                end += 1;
            }
            for m in mask.iter_mut().take((end + 1).min(n)).skip(start) {
                *m = Some(Class::Email);
            }
            k = end + 1;
        }
        // Spoken e-mail: "bill dot hope at gmail dot com".
        for k in 0..n {
            if lw[k] == "at" && (k + 2..(k + 5).min(n)).any(|j| lw[j] == "dot") && k > 0 {
                let end = (k + 2..(k + 5).min(n)).filter(|&j| lw[j] == "dot").max().unwrap_or(k + 2);
                let mut start = k - 1;
                while start > 0 && (lw[start - 1] == "dot" || lw[start] == "dot") {
                    start -= 1;
                }
                for m in mask.iter_mut().take((end + 2).min(n)).skip(start) {
                    *m = Some(Class::Email);
                }
            }
        }
        // The allowlist: capitalised words past the start of a sentence, names that are also
        // words wherever they are capitalised, and anything not known.
        for k in 0..n {
            if mask[k].is_some() {
                continue;
            }
            let raw = toks[words[k]].text.as_str();
            let w = lw[k].as_str();
            let sentence_start = toks[words[k]].sentence_start;
            let title = matches!(w, "dr" | "mr" | "mrs" | "ms" | "miss" | "doctor" | "nurse");
            // The clinic's own proper words ("Riverside", "Lisinopril") may be capitalised;
            // a common word capitalised mid-sentence ("Park", "Hope") is a name.
            let clinic_word = self.vocabulary.contains(w) && !self.english.contains(w);
            if starts_upper(raw) && !is_pronoun_i(w) && !title && !clinic_word {
                if !sentence_start {
                    mask[k] = Some(Class::Name);
                    continue;
                }
                let modal = k + 1 < n && MODAL_FOLLOWERS.contains(&lw[k + 1].as_str());
                if AMBIGUOUS_NAMES.contains(&w) && !modal {
                    mask[k] = Some(Class::Name);
                    continue;
                }
            }
            if !self.known(w) {
                mask[k] = Some(Class::Word);
            }
        }
        // Names come in pairs: a name that is also a word ("hope", "green", "west") next to
        // a word already taken for a name or an unknown word ("hope carrington", "olivia
        // green", "west roxbury") is a name too. Twice, for "jack, frank moreau's".
        for _ in 0..2 {
            for k in 0..n {
                let w = lw[k].strip_suffix("'s").unwrap_or(&lw[k]);
                if mask[k].is_some() || !AMBIGUOUS_NAMES.contains(&w) {
                    continue;
                }
                let namey = |j: usize| matches!(mask[j], Some(Class::Name | Class::Word));
                if (k > 0 && namey(k - 1)) || (k + 1 < n && namey(k + 1)) {
                    mask[k] = Some(Class::Name);
                }
            }
        }
        for (k, m) in mask.into_iter().enumerate() {
            toks[words[k]].mask = m;
        }
    }
}

/// Whether a redacted text asks anything: a word left beyond greetings, introductions and
/// fillers. "Hi, this is [name]." (a caller who paused after her name) asks nothing; sending
/// it would spend a request, and a label, on no request at all.
pub fn asks_something(redacted: &str) -> bool {
    const NOTHING: &[&str] = &[
        "hi",
        "hello",
        "hey",
        "good",
        "morning",
        "afternoon",
        "evening",
        "there",
        "this",
        "is",
        "it",
        "it's",
        "its",
        "i",
        "i'm",
        "am",
        "my",
        "name",
        "name's",
        "here",
        "speaking",
        "calling",
        "yes",
        "yeah",
        "no",
        "um",
        "uh",
        "oh",
        "ok",
        "okay",
        "well",
        "so",
        "and",
        "the",
        "a",
        "from",
        "again",
        "dr",
        "mr",
        "mrs",
        "ms",
    ];
    let mut words = redacted.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '[' && c != ']').filter(|w| !w.is_empty());
    words.any(|w| !(w.starts_with('[') || NOTHING.contains(&w.to_lowercase().as_str())))
}

/// How many words the cue at `k` takes ("my name is" is 3), or 0 if there is none.
fn name_cue(lw: &[String], k: usize) -> usize {
    let at = |j: usize| lw.get(k + j).map(String::as_str).unwrap_or("");
    match at(0) {
        "name" if at(1) == "is" || at(1) == "was" => 2,
        "name's" | "names" => 1,
        "named" | "called" | "mr" | "mrs" | "ms" | "miss" | "dr" | "doctor" | "nurse" => 1,
        "this" if at(1) == "is" => 2,
        "i'm" | "im" | "it's" | "its" => 1,
        "i" if at(1) == "am" => 2,
        "call" if at(1) == "me" => 2,
        "for" | "with" => 1,
        w if RELATIVES.contains(&w) || w.strip_suffix("'s").is_some_and(|b| RELATIVES.contains(&b)) => 1,
        _ => 0,
    }
}

/// Cues after which the next word is a name whatever it looks like.
fn cue_forces(lw: &[String], k: usize) -> bool {
    matches!(lw[k].as_str(), "name" | "name's" | "names" | "named" | "mr" | "mrs" | "ms" | "dr")
}

fn is_pronoun_i(w: &str) -> bool {
    matches!(w, "i" | "i'm" | "i'll" | "i've" | "i'd")
}

fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_uppercase())
}

fn is_ordinal_digits(w: &str) -> bool {
    ["st", "nd", "rd", "th"].iter().any(|s| w.strip_suffix(s).is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())))
}

fn is_ordinal_word(w: &str) -> bool {
    ORDINALS.contains(&w) || w.split('-').next_back().is_some_and(|last| last != w && ORDINALS.contains(&last))
}

fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
}

/// Everyday words SCOWL writes with a capital or leaves out.
const EXTRA_COMMON: &[&str] = &[
    "ok",
    "okay",
    "mm",
    "hmm",
    "um",
    "uh",
    "er",
    "yeah",
    "yep",
    "nope",
    "hi",
    "hello",
    "bye",
    "email",
    "e-mail",
    "online",
    "website",
    "covid",
    "ok'd",
    "x-ray",
    "voicemail",
    "doc",
    "meds",
];

const NUMBER_WORDS: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
    "million",
    "double",
    "triple",
    "dozen",
    "nought",
    "nil",
];
const ORDINALS: &[&str] = &[
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
    "twentieth",
    "thirtieth",
];
const MONTHS: &[&str] = &[
    "january",
    "february",
    "april",
    "june",
    "july",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];
/// Months that are also common words.
const AMBIGUOUS_MONTHS: &[&str] = &["may", "march", "august"];
const WEEKDAYS: &[&str] = &["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const RELATIVE_DAYS: &[&str] = &["today", "tomorrow", "yesterday", "tonight"];
const DATE_UNITS: &[&str] =
    &["week", "weeks", "month", "months", "year", "years", "weekend", "day", "days", "night", "morning", "evening", "afternoon"];
/// Words after which "May", "Will", "Hope" at the start of a sentence are a verb, not a name.
const MODAL_FOLLOWERS: &[&str] =
    &["i", "you", "we", "he", "she", "they", "it", "someone", "somebody", "the", "that", "this", "there", "so"];
const NATO: &[&str] = &[
    "alpha", "alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "juliett", "kilo", "lima", "mike",
    "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "whisky", "xray", "x-ray", "yankee",
    "zulu",
];
const RELATIVES: &[&str] = &[
    "son",
    "daughter",
    "wife",
    "husband",
    "mother",
    "mom",
    "mum",
    "mommy",
    "father",
    "dad",
    "daddy",
    "brother",
    "sister",
    "grandson",
    "granddaughter",
    "grandmother",
    "grandma",
    "grandfather",
    "grandpa",
    "aunt",
    "uncle",
    "niece",
    "nephew",
    "cousin",
    "partner",
    "boyfriend",
    "girlfriend",
    "fiance",
    "friend",
    "neighbor",
    "neighbour",
    "kid",
    "child",
    "baby",
    "stepson",
    "stepdaughter",
    "caregiver",
    "roommate",
    "boss",
];
/// Words that end a name after a cue.
const STOP_AFTER_NAME: &[&str] = &[
    "and", "or", "but", "is", "was", "has", "had", "have", "needs", "need", "wants", "said", "says", "told", "the", "a", "an", "to",
    "from", "of", "in", "on", "at", "i", "i'm", "my", "his", "her", "their", "our", "who", "that", "which", "calling", "about", "because",
    "so", "he", "she", "they", "we", "it", "can", "could", "will", "would", "should", "just", "also", "here", "there", "again", "please",
    "thanks", "thank",
];
/// First names (and surnames) that are also ordinary words: masked wherever capitalised.
const AMBIGUOUS_NAMES: &[&str] = &[
    "bill", "may", "hope", "will", "rose", "mark", "grant", "faith", "joy", "june", "april", "august", "dawn", "ray", "frank", "jack",
    "summer", "hunter", "baker", "brown", "smith", "young", "king", "green", "white", "black", "gray", "grey", "bob", "pat", "sue", "don",
    "ken", "gene", "guy", "herb", "lily", "iris", "daisy", "holly", "ivy", "sandy", "rusty", "penny", "carol", "robin", "jay", "wade",
    "chase", "miles", "norman", "cliff", "dean", "drew", "rich", "grace", "heather", "amber", "ruby", "pearl", "crystal", "destiny",
    "harmony", "autumn", "violet", "hazel", "olive", "sky", "storm", "lane", "dale", "glen", "gale", "gail", "bud", "buck", "jean", "joan",
    "nick", "ed", "al", "art", "angel", "major", "cook", "hill", "wood", "woods", "moore", "price", "long", "short", "bell", "ford", "fox",
    "hall", "walker", "turner", "parker", "carter", "cooper", "miller", "taylor", "mason", "rice", "west", "banks", "person",
];
const STREET_WORDS: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "lane",
    "ln",
    "drive",
    "boulevard",
    "blvd",
    "court",
    "ct",
    "way",
    "place",
    "circle",
    "terrace",
    "parkway",
    "highway",
    "hwy",
    "route",
    "apartment",
    "apt",
    "suite",
    "unit",
    "box",
    "square",
    "trail",
    "pike",
    "alley",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Other,
}

#[derive(Debug, Clone)]
struct Tok {
    text: String,
    kind: Kind,
    /// Part of a whitespace-separated chunk that is an e-mail or web address.
    chunk_email: bool,
    /// The first word of the text or of a sentence.
    sentence_start: bool,
    mask: Option<Class>,
}

/// Words (letters, digits, inner apostrophes and dots of "a.m.") and everything between them.
fn tokenize(text: &str) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::new();
    let mut sentence_start = true;
    for (chunk, is_space) in chunks(text) {
        if is_space {
            out.push(Tok { text: chunk.to_string(), kind: Kind::Other, chunk_email: false, sentence_start: false, mask: None });
            continue;
        }
        let email = looks_like_address(chunk);
        let chars: Vec<char> = chunk.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_alphanumeric() {
                let mut j = i;
                while j < chars.len()
                    && (chars[j].is_alphanumeric()
                        || ((chars[j] == '\'' || chars[j] == '\u{2019}') && j + 1 < chars.len() && chars[j + 1].is_alphabetic() && j > i))
                {
                    j += 1;
                }
                // "x-ray" is one word (a NATO letter, or the picture).
                if j - i == 1 && matches!(c, 'x' | 'X') && chars.get(j) == Some(&'-') {
                    let rest: String = chars[j + 1..].iter().take(3).collect::<String>().to_lowercase();
                    if rest == "ray" && chars.get(j + 4).is_none_or(|c| !c.is_alphanumeric()) {
                        j += 4;
                    }
                }
                let text: String = chars[i..j].iter().map(|&c| if c == '\u{2019}' { '\'' } else { c }).collect();
                out.push(Tok { text, kind: Kind::Word, chunk_email: email, sentence_start, mask: None });
                sentence_start = false;
                i = j;
            } else {
                if matches!(c, '.' | '?' | '!') {
                    // A dot inside "a.m." or "J.D." does not start a sentence.
                    let next_is_letter = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                    if !next_is_letter {
                        sentence_start = true;
                    }
                }
                out.push(Tok { text: c.to_string(), kind: Kind::Other, chunk_email: email, sentence_start: false, mask: None });
                i += 1;
            }
        }
    }
    out
}

/// Splits `text` into runs of whitespace and runs of anything else.
fn chunks(text: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut space = None;
    for (i, c) in text.char_indices() {
        let s = c.is_whitespace();
        if space.is_some_and(|p| p != s) {
            out.push((&text[start..i], space.unwrap_or(false)));
            start = i;
        }
        space = Some(s);
    }
    if start < text.len() {
        out.push((&text[start..], space.unwrap_or(false)));
    }
    out
}

/// "bill@gmail.com", "www.clinic.org", "http://...": an address as written.
fn looks_like_address(chunk: &str) -> bool {
    let c = chunk.trim_matches(|c: char| !c.is_alphanumeric());
    let lower = c.to_lowercase();
    let dotted = c.split('.').filter(|p| !p.is_empty()).count() >= 2
        && c.split('.').any(|p| p.chars().filter(|ch| ch.is_alphabetic()).count() >= 2)
        && c.split(['.', '/']).all(|p| !p.is_empty())
        && c.chars().any(|ch| ch.is_alphabetic())
        && !c.chars().all(|ch| ch.is_ascii_digit() || ch == '.');
    c.contains('@')
        || dotted
        || lower.starts_with("www.")
        || lower.contains("://")
        || [".com", ".org", ".net", ".edu", ".gov", ".us", ".io"].iter().any(|t| lower.ends_with(t) && lower.len() > t.len())
}

fn punct_between(toks: &[Tok], a: usize, b: usize) -> bool {
    toks[a + 1..b].iter().any(|t| t.kind == Kind::Other && !t.text.trim().is_empty())
}

/// The text with masked words replaced by their class; a masked run (words of one class with
/// only spaces, hyphens, dots, commas or slashes between) becomes one tag.
fn render(toks: &[Tok]) -> (String, usize) {
    let mut out = String::new();
    let mut masked = 0;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let Some(class) = t.mask else {
            // Punctuation inside a written address goes with it.
            if !(t.chunk_email && t.kind == Kind::Other) {
                out.push_str(&t.text);
            }
            i += 1;
            continue;
        };
        // Extend over joiners to the next word of the same class.
        let mut end = i + 1;
        let mut j = i + 1;
        while j < toks.len() {
            match toks[j].kind {
                Kind::Other
                    if toks[j].text.trim().is_empty()
                        || matches!(toks[j].text.as_str(), "-" | "." | "," | "/" | ":" | "@" | "(" | ")" | "#") =>
                {
                    j += 1
                }
                Kind::Word if toks[j].mask == Some(class) => {
                    j += 1;
                    end = j;
                }
                _ => break,
            }
        }
        out.push_str(class.tag());
        masked += 1;
        i = end;
    }
    (out, masked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(text: &str) -> String {
        match Redactor::new(["refill", "lisinopril", "metformin"]).redact(text, &Captured::default()) {
            Redacted::Send { text, .. } => text,
            Redacted::Withheld(why) => format!("WITHHELD: {why}"),
        }
    }

    #[test]
    fn ordinary_requests_pass_unchanged() {
        assert_eq!(send("My kid's school needs a form signed."), "My kid's school needs a form signed.");
        assert_eq!(send("The pharmacy says you never sent it."), "The pharmacy says you never sent it.");
        assert_eq!(send("I need a refill of my lisinopril, please."), "I need a refill of my lisinopril, please.");
    }

    #[test]
    fn names_numbers_and_dates_are_masked() {
        assert_eq!(send("This is Bill Hope, my number is 617-555-0147."), "This is [name], my number is [number].");
        assert_eq!(send("I was born March third, fifty-two, at the hospital."), "I was born [date], [number], at the hospital.");
        assert_eq!(send("My son Bill needs a note for school."), "My son [name] needs a note for school.");
        assert_eq!(send("The refill is for smith, that's S M I T H."), "The refill is for [name], that's [letters].");
        assert_eq!(send("I saw Dr. Patel last Tuesday."), "I saw Dr. [name] [date].");
        assert_eq!(send("Send it to bill.hope@gmail.com please."), "Send it to [email] please.");
        assert_eq!(send("I live at 120 River Street."), "I live at [number] [place].");
    }

    #[test]
    fn may_and_will_as_verbs_stay() {
        assert_eq!(send("May I ask a question about my bill?"), "May I ask a question about my bill?");
        assert_eq!(send("Will you call me back?"), "Will you call me back?");
        assert_eq!(send("Hope is picking it up."), "[name] is picking it up.");
    }

    #[test]
    fn captured_values_go_in_any_form() {
        let mut c = Captured::default();
        c.add("Bill Smith");
        let r = Redactor::new(["refill"]);
        assert_eq!(r.redact("the refill is for bill smith", &c).text(), Some("the refill is for [name]"));
        assert_eq!(r.redact("the refill is for smyth", &c).text(), Some("the refill is for [name]"));
    }

    #[test]
    fn a_greeting_and_a_name_ask_nothing() {
        for said in ["Hi, this is Rose Baker.", "Hello, my name is Bill Hope.", "Good morning, it's Dr. Patel calling."] {
            let sent = send(said);
            assert!(!asks_something(&sent), "{said:?} -> {sent:?}");
        }
        for said in ["Hi, this is Rose Baker, I need a form signed.", "Is the clinic open on Saturday?", "Refill"] {
            assert!(asks_something(&send(said)), "{said:?}");
        }
    }

    #[test]
    fn mostly_identifiers_is_withheld() {
        assert_eq!(send("617 555 0147"), "WITHHELD: mostly identifiers");
        assert_eq!(send(""), "WITHHELD: no words");
    }
}
