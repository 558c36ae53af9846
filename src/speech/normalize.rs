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

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

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

/// Spell out an integer in words ("one hundred twenty-three").
///
/// American style without "and"; negative numbers get "minus". Supports the
/// whole `i64` range (the dialog only needs 0..=999_999_999_999).
pub fn number_words(n: i64) -> String {
    if n < 0 {
        format!("minus {}", words_u64(n.unsigned_abs()))
    } else {
        words_u64(n.unsigned_abs())
    }
}

/// Ordinal words: 1 -> "first", 23 -> "twenty-third", 100 -> "one hundredth".
pub fn ordinal_words(n: u64) -> String {
    let cardinal = words_u64(n);
    match cardinal.rfind([' ', '-']) {
        Some(pos) => {
            let (head, last) = cardinal.split_at(pos + 1);
            format!("{head}{}", ordinal_of_word(last))
        }
        None => ordinal_of_word(&cardinal),
    }
}

/// Read digits one by one in groups, groups separated by commas:
/// "2125550147" -> "two one two, five five five, zero one four seven".
///
/// Why digits and not a number: nobody dials "two billion ...". Why groups:
/// callers write numbers down in the 3-3-4 chunks they know, and the comma
/// gives the voice a short pause at each chunk. Why "zero" and not "oh":
/// "oh" is easily misheard as "four" or as the letter O over a phone line,
/// and a caller copying the number needs certainty, not naturalness.
///
/// Grouping: 10 digits -> 3-3-4 (NANP); 11 digits starting with 1 ->
/// 1-3-3-4; 7 digits -> 3-4. Other lengths keep the groups as written (any
/// non-digit separates groups), or are read digit by digit.
pub fn phone_words(digits: &str) -> String {
    let written: Vec<&str> = digits
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let all: String = written.concat();
    let groups: Vec<&str> = match all.len() {
        10 => vec![&all[..3], &all[3..6], &all[6..]],
        11 if all.starts_with('1') => vec![&all[..1], &all[1..4], &all[4..7], &all[7..]],
        7 => vec![&all[..3], &all[3..]],
        _ => written,
    };
    groups
        .iter()
        .map(|g| digit_words(g))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// Number words
// ---------------------------------------------------------------------------

const ONES: [&str; 20] = [
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
];

const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Largest integer [`speakable`] reads as words; longer ones are read digit
/// by digit, which is easier to follow on the phone than "quadrillion".
const MAX_WORDS: u64 = 999_999_999_999;

fn below_100(n: u64) -> String {
    let n = n % 100;
    if n < 20 {
        return ONES[n as usize].to_string();
    }
    let tens = TENS[(n / 10) as usize];
    match n % 10 {
        0 => tens.to_string(),
        unit => format!("{tens}-{}", ONES[unit as usize]),
    }
}

fn below_1000(n: u64) -> String {
    let n = n % 1000;
    let (hundreds, rest) = (n / 100, n % 100);
    match (hundreds, rest) {
        (0, _) => below_100(rest),
        (_, 0) => format!("{} hundred", ONES[hundreds as usize]),
        _ => format!("{} hundred {}", ONES[hundreds as usize], below_100(rest)),
    }
}

fn words_u64(n: u64) -> String {
    const SCALES: [(u64, &str); 6] = [
        (1_000_000_000_000_000_000, "quintillion"),
        (1_000_000_000_000_000, "quadrillion"),
        (1_000_000_000_000, "trillion"),
        (1_000_000_000, "billion"),
        (1_000_000, "million"),
        (1_000, "thousand"),
    ];
    if n == 0 {
        return "zero".to_string();
    }
    let mut parts = Vec::new();
    let mut rest = n;
    for (scale, name) in SCALES {
        if rest >= scale {
            parts.push(format!("{} {name}", below_1000(rest / scale)));
            rest %= scale;
        }
    }
    if rest > 0 {
        parts.push(below_1000(rest));
    }
    parts.join(" ")
}

fn ordinal_of_word(word: &str) -> String {
    match word {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    }
}

/// "twenty" -> "twenties", "six" -> "sixes", "nineteen ninety" -> "nineteen
/// nineties" (for "the 1990s", "in your 20s").
fn pluralize_words(words: &str) -> String {
    if let Some(stem) = words.strip_suffix('y') {
        format!("{stem}ies")
    } else if words.ends_with('x') {
        format!("{words}es")
    } else {
        format!("{words}s")
    }
}

/// Each digit as a word, "zero" for 0. Non-digits are ignored.
fn digit_words(digits: &str) -> String {
    digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| ONES[d as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Integer words for a digit string, digit by digit when it is too long.
fn count_words(digits: &str) -> String {
    match digits.parse::<u64>() {
        Ok(v) if v <= MAX_WORDS => words_u64(v),
        _ => digit_words(digits),
    }
}

/// Years as people say them: 1952 -> "nineteen fifty-two", 1905 ->
/// "nineteen oh five", 1900 -> "nineteen hundred", 2000 -> "two thousand",
/// 2005 -> "two thousand five", 2024 -> "twenty twenty-four".
fn year_words(year: u64) -> String {
    if !(1000..=9999).contains(&year) || year.is_multiple_of(1000) || (2000..2010).contains(&year) {
        return words_u64(year);
    }
    let (high, low) = (year / 100, year % 100);
    match low {
        0 => format!("{} hundred", below_100(high)),
        1..=9 => format!("{} oh {}", below_100(high), ONES[low as usize]),
        _ => format!("{} {}", below_100(high), below_100(low)),
    }
}

/// Two-digit years ("4/3/52"): "fifty-two", "oh five", "two thousand".
fn short_year_words(yy: u64) -> String {
    match yy {
        0 => "two thousand".to_string(),
        1..=9 => format!("oh {}", ONES[yy as usize]),
        _ => below_100(yy),
    }
}

/// Street numbers in pairs, the way people say addresses: 123 -> "one
/// twenty-three", 105 -> "one oh five", 4500 -> "forty-five hundred", 1234
/// -> "twelve thirty-four". Five digits or more are read digit by digit.
fn house_number_words(digits: &str) -> String {
    let Ok(n) = digits.parse::<u64>() else {
        return digit_words(digits);
    };
    if digits.len() >= 5 || (digits.len() > 1 && digits.starts_with('0')) {
        return digit_words(digits);
    }
    if n < 100 || n.is_multiple_of(1000) {
        return words_u64(n);
    }
    let (high, low) = (n / 100, n % 100);
    match low {
        0 => format!("{} hundred", below_100(high)),
        1..=9 => format!("{} oh {}", below_100(high), ONES[low as usize]),
        _ => format!("{} {}", below_100(high), below_100(low)),
    }
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// Letters, with inner apostrophes ("Mary's", "o'clock").
    Word(String),
    /// ASCII digits.
    Num(String),
    /// Any other single character (punctuation, symbols, emoji).
    Sym(char),
    /// A run of whitespace.
    Space,
}

fn tokenize(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            toks.push(Tok::Space);
        } else if c.is_ascii_digit() {
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            toks.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() {
            while i < chars.len() {
                let ch = chars[i];
                let inner_apostrophe = (ch == '\'' || ch == '\u{2019}')
                    && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
                if ch.is_alphabetic() || inner_apostrophe {
                    i += 1;
                } else {
                    break;
                }
            }
            toks.push(Tok::Word(chars[start..i].iter().collect()));
        } else {
            toks.push(Tok::Sym(c));
            i += 1;
        }
    }
    toks
}

fn word(t: &[Tok], i: usize) -> Option<&str> {
    match t.get(i) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    }
}

fn num(t: &[Tok], i: usize) -> Option<&str> {
    match t.get(i) {
        Some(Tok::Num(n)) => Some(n),
        _ => None,
    }
}

fn is_sym(t: &[Tok], i: usize, c: char) -> bool {
    matches!(t.get(i), Some(Tok::Sym(s)) if *s == c)
}

fn is_space(t: &[Tok], i: usize) -> bool {
    matches!(t.get(i), Some(Tok::Space))
}

fn is_dash(t: &[Tok], i: usize) -> bool {
    matches!(t.get(i), Some(Tok::Sym('-' | '\u{2013}' | '\u{2014}')))
}

/// Skips one whitespace token, if any.
fn skip_space(t: &[Tok], i: usize) -> usize {
    if is_space(t, i) { i + 1 } else { i }
}

/// True at the end of the text (trailing whitespace ignored).
fn is_end(t: &[Tok], i: usize) -> bool {
    i >= t.len() || (is_space(t, i) && i + 1 >= t.len())
}

fn capitalised(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

fn is_ord_suffix(w: &str) -> bool {
    matches!(w.to_ascii_lowercase().as_str(), "st" | "nd" | "rd" | "th")
}

/// The word before position `i`, separated from it by whitespace.
fn word_before(t: &[Tok], i: usize) -> Option<(usize, &str)> {
    let p = i.checked_sub(2)?;
    if !is_space(t, i - 1) {
        return None;
    }
    word(t, p).map(|w| (p, w))
}

/// True when the word at `p` starts a sentence (start of text, or after
/// sentence punctuation or an opening bracket/quote).
fn sentence_initial(t: &[Tok], p: usize) -> bool {
    let k = if p > 0 && is_space(t, p - 1) {
        p - 1
    } else {
        p
    };
    match k.checked_sub(1).and_then(|q| t.get(q)) {
        None => true,
        Some(Tok::Sym(c)) => ".!?:;\"\u{201c}(".contains(*c),
        _ => false,
    }
}

/// A numeric pattern may start at `i` only if it is not glued to a
/// preceding number or word ("x204", "1.212", "3/4/5").
fn left_clean(t: &[Tok], i: usize) -> bool {
    let Some(prev) = i.checked_sub(1).and_then(|p| t.get(p)) else {
        return true;
    };
    match prev {
        Tok::Num(_) | Tok::Word(_) => false,
        Tok::Sym(c) if ".,:/-".contains(*c) => !(i >= 2 && num(t, i - 2).is_some()),
        _ => true,
    }
}

/// A numeric pattern may end at `e` only if it is not glued to a following
/// number or word, or continued by a separator and more digits.
fn right_clean(t: &[Tok], e: usize) -> bool {
    match t.get(e) {
        None => true,
        Some(Tok::Num(_) | Tok::Word(_)) => false,
        Some(Tok::Sym(c)) if ".,:/-".contains(*c) => num(t, e + 1).is_none(),
        _ => true,
    }
}

/// Position after an abbreviation whose period may sit at `j`.
///
/// The period is swallowed ("Dr. Patel" -> "Doctor Patel") unless it also
/// ends the sentence: at the end of the text, or - when `may_end` - before a
/// capitalised word ("We are on Main St. Call us"). In those cases it is
/// left in place and passes through as sentence punctuation.
fn abbrev_dot(t: &[Tok], j: usize, may_end: bool) -> usize {
    if !is_sym(t, j, '.') || is_end(t, j + 1) {
        return j;
    }
    let next_capital = is_space(t, j + 1) && word(t, j + 2).is_some_and(capitalised);
    if may_end && next_capital { j } else { j + 1 }
}

/// After a number or time: optional spaces, a dash, optional spaces.
fn dash_after(t: &[Tok], j: usize) -> Option<usize> {
    let k = skip_space(t, j);
    is_dash(t, k).then(|| skip_space(t, k + 1))
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

/// Characters that must not be glued together across a replacement
/// ("B" + "twelve" -> "B twelve").
fn is_wordy(c: char) -> bool {
    c.is_alphabetic() || c.is_ascii_digit()
}

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

// ---------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------

/// A rule's result: the tokens up to `end` are replaced by `text`.
struct Hit {
    end: usize,
    text: String,
}

fn hit(end: usize, text: impl Into<String>) -> Option<Hit> {
    Some(Hit {
        end,
        text: text.into(),
    })
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

// --- Phone numbers ---------------------------------------------------------

struct PhoneGroup {
    digits: String,
    paren: bool,
    /// Separator before this group: ' ', '-', '.', or ')' for none after a
    /// parenthesised area code.
    sep: char,
    end: usize,
}

/// Phone numbers in the usual written forms: "(212) 555-0147",
/// "212-555-0147", "212.555.0147", "+1 212 555 0147", "1-800-555-0199",
/// "555-0147", a bare "2125550147", international "+44 20 7946 0958", each
/// optionally followed by an extension ("ext. 204", "x204").
fn rule_phone(t: &[Tok], i: usize) -> Option<Hit> {
    if !left_clean(t, i) {
        return None;
    }
    let plus = is_sym(t, i, '+');
    let start = if plus { i + 1 } else { i };
    let mut groups = vec![phone_group(t, start, ' ')?];
    while groups.len() < 6 {
        let last = &groups[groups.len() - 1];
        let Some((sep, k)) = phone_sep(t, last.end, last.paren) else {
            break;
        };
        let Some(group) = phone_group(t, k, sep) else {
            break;
        };
        groups.push(group);
    }
    // Longest prefix of the groups that forms a phone number.
    for n in (1..=groups.len()).rev() {
        let Some(spoken) = phone_shape(&groups[..n], plus) else {
            continue;
        };
        let end = groups[n - 1].end;
        if let Some((ext, ext_end)) = extension_after(t, end)
            && right_clean(t, ext_end)
        {
            return hit(ext_end, format!("{spoken}, {ext}"));
        }
        if right_clean(t, end) {
            return hit(end, spoken);
        }
    }
    None
}

fn phone_group(t: &[Tok], j: usize, sep: char) -> Option<PhoneGroup> {
    if let Some(d) = num(t, j) {
        return Some(PhoneGroup {
            digits: d.to_string(),
            paren: false,
            sep,
            end: j + 1,
        });
    }
    if is_sym(t, j, '(') && is_sym(t, j + 2, ')') {
        let d = num(t, j + 1)?;
        return Some(PhoneGroup {
            digits: d.to_string(),
            paren: true,
            sep,
            end: j + 3,
        });
    }
    None
}

fn phone_sep(t: &[Tok], j: usize, after_paren: bool) -> Option<(char, usize)> {
    match t.get(j) {
        Some(Tok::Space) => Some((' ', j + 1)),
        Some(Tok::Sym(c @ ('-' | '.'))) => Some((*c, j + 1)),
        Some(Tok::Num(_)) if after_paren => Some((')', j)),
        _ => None,
    }
}

/// NANP area codes and exchanges never start with 0 or 1; checking this
/// keeps ranges such as "100-1000" from being read as phone numbers.
fn nanp_code(digits: &str) -> bool {
    digits.len() == 3 && digits.starts_with(['2', '3', '4', '5', '6', '7', '8', '9'])
}

fn phone_shape(groups: &[PhoneGroup], plus: bool) -> Option<String> {
    let all: String = groups.iter().map(|g| g.digits.as_str()).collect();
    let paren_only_at = |idx: usize| groups.iter().enumerate().all(|(k, g)| !g.paren || k == idx);
    let no_paren = groups.iter().all(|g| !g.paren);
    let lens: Vec<usize> = groups.iter().map(|g| g.digits.len()).collect();
    let d = |k: usize| groups[k].digits.as_str();
    // Three or four groups in the 3-3-4 layout are a phone number whatever
    // the digits (fictional numbers such as "555-123-4567" included); the
    // shorter and unseparated shapes also need plausible area code and
    // exchange digits, so that "100-1000" stays a range.
    let nanp = match lens.as_slice() {
        [3, 3, 4] => !plus && paren_only_at(0),
        [1, 3, 3, 4] => d(0) == "1" && paren_only_at(1),
        [3, 4] => !plus && no_paren && groups[1].sep == '-' && nanp_code(d(0)),
        [10] => !plus && no_paren && nanp_code(&all[..3]) && nanp_code(&all[3..6]),
        [11] => no_paren && all.starts_with('1') && nanp_code(&all[1..4]) && nanp_code(&all[4..7]),
        _ => false,
    };
    if nanp {
        return Some(phone_words(&all));
    }
    if plus && (8..=15).contains(&all.len()) && lens[0] <= 3 {
        let spoken: Vec<String> = groups.iter().map(|g| digit_words(&g.digits)).collect();
        return Some(format!("plus {}", spoken.join(", ")));
    }
    None
}

/// ", ext. 204", " x204", " extension 204" after a phone number. Extensions
/// are read digit by digit like the number itself.
fn extension_after(t: &[Tok], end: usize) -> Option<(String, usize)> {
    let mut k = end;
    if is_sym(t, k, ',') {
        k += 1;
    }
    k = skip_space(t, k);
    let w = word(t, k)?.to_ascii_lowercase();
    if !matches!(w.as_str(), "ext" | "x" | "extension") {
        return None;
    }
    k += 1;
    if is_sym(t, k, '.') || is_sym(t, k, ':') {
        k += 1;
    }
    k = skip_space(t, k);
    let digits = num(t, k).filter(|d| d.len() <= 6)?;
    Some((format!("extension {}", digit_words(digits)), k + 1))
}

// --- Dates -----------------------------------------------------------------

/// Month names, January first: shared with the dialog's date understanding and read-back.
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const MONTH_ABBREVIATIONS: [(&str, usize); 12] = [
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

/// "April third", optionally followed by ", nineteen fifty-two".
fn date_words(month: usize, day: u64, year: Option<String>) -> String {
    let name = MONTHS[(month.clamp(1, 12)) - 1];
    match year {
        Some(y) => format!("{name} {}, {y}", ordinal_words(day)),
        None => format!("{name} {}", ordinal_words(day)),
    }
}

fn valid_month_day(month: u64, day: u64) -> bool {
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// A capitalised month name or abbreviation ("April", "Apr", "Apr.") at `i`:
/// (month number, position after it).
fn month_at(t: &[Tok], i: usize) -> Option<(usize, usize)> {
    let w = word(t, i).filter(|w| capitalised(w))?;
    let lower = w.to_lowercase();
    if let Some(idx) = MONTHS.iter().position(|m| m.to_lowercase() == lower) {
        return Some((idx + 1, i + 1));
    }
    let (_, month) = MONTH_ABBREVIATIONS.iter().find(|(a, _)| *a == lower)?;
    Some((*month, abbrev_dot(t, i + 1, true)))
}

/// A day of the month at `k`: "3" or "3rd" -> (3, position after it).
fn day_at(t: &[Tok], k: usize) -> Option<(u64, usize)> {
    let d = num(t, k).filter(|d| d.len() <= 2)?;
    let day: u64 = d.parse().ok()?;
    if !(1..=31).contains(&day) {
        return None;
    }
    if word(t, k + 1).is_some_and(is_ord_suffix) {
        Some((day, k + 2))
    } else {
        Some((day, k + 1))
    }
}

/// ", 1952" / " 1952" / ",1952" after a day or month.
fn year_after(t: &[Tok], j: usize) -> Option<(String, usize)> {
    let comma = is_sym(t, j, ',');
    let k = if comma { j + 1 } else { j };
    let space = is_space(t, k);
    let k = if space { k + 1 } else { k };
    if !(comma || space) {
        return None;
    }
    let y = num(t, k).filter(|y| y.len() == 4)?;
    let year: u64 = y.parse().ok()?;
    ((1000..=2999).contains(&year) && right_clean(t, k + 1)).then(|| (year_words(year), k + 1))
}

/// "1952-04-03" (ISO).
fn rule_iso_date(t: &[Tok], i: usize) -> Option<Hit> {
    let y = num(t, i).filter(|y| y.len() == 4)?;
    let m = num(t, i + 2).filter(|m| m.len() <= 2)?;
    let d = num(t, i + 4).filter(|d| d.len() <= 2)?;
    let shape = is_sym(t, i + 1, '-') && is_sym(t, i + 3, '-');
    let (year, month, day): (u64, u64, u64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !shape || !valid_month_day(month, day) || !left_clean(t, i) || !right_clean(t, i + 5) {
        return None;
    }
    hit(
        i + 5,
        date_words(month as usize, day, Some(year_words(year))),
    )
}

/// "04/03/1952", "4/3/52", "04-03-1952": US month/day/year.
fn rule_numeric_date(t: &[Tok], i: usize) -> Option<Hit> {
    let m = num(t, i).filter(|m| m.len() <= 2)?;
    let d = num(t, i + 2).filter(|d| d.len() <= 2)?;
    let y = num(t, i + 4).filter(|y| y.len() == 2 || y.len() == 4)?;
    let slashes = is_sym(t, i + 1, '/') && is_sym(t, i + 3, '/');
    let dashes = is_dash(t, i + 1) && is_dash(t, i + 3) && y.len() == 4;
    let (month, day, year): (u64, u64, u64) = (m.parse().ok()?, d.parse().ok()?, y.parse().ok()?);
    if !(slashes || dashes)
        || !valid_month_day(month, day)
        || !left_clean(t, i)
        || !right_clean(t, i + 5)
    {
        return None;
    }
    let year = if y.len() == 2 {
        short_year_words(year)
    } else {
        year_words(year)
    };
    hit(i + 5, date_words(month as usize, day, Some(year)))
}

/// "April 3, 1952", "Apr 3 1952", "March 5th", "March 5-7", "April 2024".
fn rule_month_date(t: &[Tok], i: usize) -> Option<Hit> {
    let (month, j) = month_at(t, i)?;
    if !is_space(t, j) {
        return None;
    }
    let k = j + 1;
    if let Some((day, day_end)) = day_at(t, k) {
        if let Some((year, end)) = year_after(t, day_end) {
            return hit(end, date_words(month, day, Some(year)));
        }
        if let Some(r) = dash_after(t, day_end)
            && let Some((last, end)) = day_at(t, r)
            && right_clean(t, end)
        {
            return hit(
                end,
                format!(
                    "{} to {}",
                    date_words(month, day, None),
                    ordinal_words(last)
                ),
            );
        }
        return right_clean(t, day_end).then(|| Hit {
            end: day_end,
            text: date_words(month, day, None),
        });
    }
    let y = num(t, k).filter(|y| y.len() == 4)?;
    let year: u64 = y.parse().ok()?;
    if !(1000..=2999).contains(&year) || !right_clean(t, k + 1) {
        return None;
    }
    hit(k + 1, format!("{} {}", MONTHS[month - 1], year_words(year)))
}

/// "3 April 1952", "3rd April": read in the American order, "April third".
fn rule_day_month(t: &[Tok], i: usize) -> Option<Hit> {
    if !left_clean(t, i) {
        return None;
    }
    let (day, day_end) = day_at(t, i)?;
    if !is_space(t, day_end) {
        return None;
    }
    let (month, month_end) = month_at(t, day_end + 1)?;
    if let Some((year, end)) = year_after(t, month_end) {
        return hit(end, date_words(month, day, Some(year)));
    }
    hit(month_end, date_words(month, day, None))
}

// --- Weekdays --------------------------------------------------------------

const WEEKDAYS: [(&str, &[&str]); 7] = [
    ("Monday", &["mon"]),
    ("Tuesday", &["tue", "tues"]),
    ("Wednesday", &["wed"]),
    ("Thursday", &["thu", "thur", "thurs"]),
    ("Friday", &["fri"]),
    ("Saturday", &["sat"]),
    ("Sunday", &["sun"]),
];

struct Weekday {
    name: &'static str,
    abbreviated: bool,
    dot: bool,
}

fn weekday_at(t: &[Tok], i: usize) -> Option<Weekday> {
    let w = word(t, i).filter(|w| capitalised(w))?;
    let lower = w.to_lowercase();
    let (name, abbrs) = WEEKDAYS
        .iter()
        .find(|(name, abbrs)| name.to_lowercase() == lower || abbrs.contains(&lower.as_str()))?;
    let abbreviated = abbrs.contains(&lower.as_str());
    Some(Weekday {
        name,
        abbreviated,
        dot: abbreviated && is_sym(t, i + 1, '.'),
    })
}

/// "Mon-Fri" -> "Monday to Friday"; "Tue., April 3" -> "Tuesday, April
/// third". An abbreviation is only expanded when it is clearly a weekday
/// (period, comma, range, date or list of weekdays after it), because "Sun",
/// "Sat" and "Wed" are also ordinary words.
fn rule_weekday(t: &[Tok], i: usize) -> Option<Hit> {
    let first = weekday_at(t, i)?;
    let after = if first.dot { i + 2 } else { i + 1 };
    if let Some((connective, k)) = weekday_range_sep(t, after)
        && let Some(last) = weekday_at(t, k)
    {
        let end = if last.dot {
            abbrev_dot(t, k + 1, false)
        } else {
            k + 1
        };
        return hit(end, format!("{} {connective} {}", first.name, last.name));
    }
    if !first.abbreviated {
        return None;
    }
    let date_follows =
        is_space(t, after) && (month_at(t, after + 1).is_some() || num(t, after + 1).is_some());
    let listed = i >= 3
        && is_space(t, i - 1)
        && is_sym(t, i - 2, ',')
        && (weekday_at(t, i - 3).is_some()
            || (is_sym(t, i - 3, '.') && i >= 4 && weekday_at(t, i - 4).is_some()));
    if !(first.dot || is_sym(t, after, ',') || date_follows || listed) {
        return None;
    }
    let end = if first.dot {
        abbrev_dot(t, i + 1, false)
    } else {
        i + 1
    };
    hit(end, first.name)
}

fn weekday_range_sep(t: &[Tok], j: usize) -> Option<(&'static str, usize)> {
    let k = skip_space(t, j);
    if is_dash(t, k) {
        return Some(("to", skip_space(t, k + 1)));
    }
    let connective = match word(t, k)? {
        "to" => "to",
        "through" | "thru" => "through",
        _ => return None,
    };
    is_space(t, k + 1).then_some((connective, k + 2))
}

// --- Times -----------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Meridiem {
    Am,
    Pm,
}

#[derive(Clone, Copy, Debug)]
struct Clock {
    hour: u64,
    minute: u64,
    colon: bool,
    leading_zero: bool,
    meridiem: Option<Meridiem>,
    end: usize,
}

impl Clock {
    /// A clock time on its own: "10:30" or "9 am". A bare "9" is only a time
    /// as part of a range with a real time ("9-11 am").
    fn strict(&self) -> bool {
        self.colon || self.meridiem.is_some()
    }
}

/// "am", "PM", "a.m.", "A.M", with the final period kept if it ends the
/// sentence.
fn meridiem_at(t: &[Tok], j: usize) -> Option<(Meridiem, usize)> {
    let w = word(t, j)?.to_ascii_lowercase();
    let (m, end) = match w.as_str() {
        "am" => (Meridiem::Am, j + 1),
        "pm" => (Meridiem::Pm, j + 1),
        "a" | "p"
            if is_sym(t, j + 1, '.')
                && word(t, j + 2).is_some_and(|m| m.eq_ignore_ascii_case("m")) =>
        {
            let m = if w == "a" { Meridiem::Am } else { Meridiem::Pm };
            (m, abbrev_dot(t, j + 3, true))
        }
        _ => return None,
    };
    Some((m, end))
}

fn clock_at(t: &[Tok], i: usize) -> Option<Clock> {
    let h = num(t, i).filter(|h| h.len() <= 2)?;
    let hour: u64 = h.parse().ok()?;
    let mut j = i + 1;
    let (mut minute, mut colon) = (0, false);
    if is_sym(t, j, ':')
        && let Some(m) = num(t, j + 1)
        && m.len() == 2
    {
        minute = m.parse().ok()?;
        colon = true;
        j += 2;
    }
    if hour > 23 || minute > 59 || (!colon && (!(1..=12).contains(&hour) || h.starts_with('0'))) {
        return None;
    }
    let (meridiem, end) = match meridiem_at(t, skip_space(t, j)) {
        Some((m, e)) => (Some(m), e),
        None => (None, j),
    };
    // Like right_clean, but a dash may follow (ranges are handled by the caller).
    let clean = match t.get(end) {
        None => true,
        Some(Tok::Num(_) | Tok::Word(_)) => false,
        Some(Tok::Sym(c)) if ":/.,".contains(*c) => num(t, end + 1).is_none(),
        _ => true,
    };
    clean.then_some(Clock {
        hour,
        minute,
        colon,
        leading_zero: h.len() == 2 && h.starts_with('0'),
        meridiem,
        end,
    })
}

/// "ten thirty a m", "ten oh five p m", "ten a m", "ten o'clock".
fn clock_words(c: &Clock, in_range: bool) -> String {
    let twenty_four =
        c.meridiem.is_none() && c.colon && (c.hour == 0 || c.hour >= 13 || c.leading_zero);
    let (hour, meridiem) = if twenty_four {
        match c.hour {
            0 => (12, Some(Meridiem::Am)),
            12 => (12, Some(Meridiem::Pm)),
            h if h > 12 => (h - 12, Some(Meridiem::Pm)),
            h => (h, Some(Meridiem::Am)),
        }
    } else {
        match (c.hour, c.meridiem) {
            (0, m @ Some(_)) => (12, m),
            (h, Some(_)) if h > 12 => (h - 12, Some(Meridiem::Pm)),
            (h, m) => (h, m),
        }
    };
    let mut s = below_100(hour);
    match c.minute {
        0 if meridiem.is_none() && c.colon && !in_range => s.push_str(" o'clock"),
        0 => {}
        m @ 1..=9 => {
            s.push_str(" oh ");
            s.push_str(ONES[m as usize]);
        }
        m => {
            s.push(' ');
            s.push_str(&below_100(m));
        }
    }
    match meridiem {
        Some(Meridiem::Am) => s.push_str(" a m"),
        Some(Meridiem::Pm) => s.push_str(" p m"),
        None => {}
    }
    s
}

/// Clock times and ranges of them ("9:00-5:00", "9 am - 5 pm", "9-11 am").
/// The suffix is spelled "a m"/"p m" so the voice says the letters.
fn rule_time(t: &[Tok], i: usize) -> Option<Hit> {
    if !left_clean(t, i) {
        return None;
    }
    let first = clock_at(t, i)?;
    if let Some(k) = dash_after(t, first.end)
        && let Some(last) = clock_at(t, k)
        && (first.strict() || last.strict())
    {
        let text = format!(
            "{} to {}",
            clock_words(&first, true),
            clock_words(&last, true)
        );
        return hit(last.end, text);
    }
    first.strict().then(|| Hit {
        end: first.end,
        text: clock_words(&first, false),
    })
}

// --- Slashes: fractions, month/day, 24/7, 120/80 ---------------------------

fn fraction_words(n: u64, d: u64) -> Option<String> {
    let words = match (n, d) {
        (1, 2) => "one half",
        (1, 3) => "one third",
        (2, 3) => "two thirds",
        (1, 4) => "one quarter",
        (2, 4) => "two quarters",
        (3, 4) => "three quarters",
        _ => return None,
    };
    Some(words.to_string())
}

/// A simple fraction "a/b" at `j`: (numerator, denominator, end).
fn fraction_at(t: &[Tok], j: usize) -> Option<(u64, u64, usize)> {
    let a = num(t, j).filter(|a| !a.starts_with('0') && a.len() == 1)?;
    let b = num(t, j + 2).filter(|b| !b.starts_with('0') && b.len() == 1)?;
    let (n, d) = (a.parse().ok()?, b.parse().ok()?);
    (is_sym(t, j + 1, '/') && right_clean(t, j + 3) && fraction_words(n, d).is_some()).then_some((
        n,
        d,
        j + 3,
    ))
}

/// Words after which "3/4" is a date, not three quarters.
fn date_context_before(t: &[Tok], i: usize) -> bool {
    const WORDS: [&str; 14] = [
        "on",
        "by",
        "until",
        "till",
        "before",
        "after",
        "from",
        "through",
        "thru",
        "since",
        "due",
        "dated",
        "starting",
        "effective",
    ];
    if let Some((p, w)) = word_before(t, i) {
        return WORDS.contains(&w.to_lowercase().as_str()) || weekday_at(t, p).is_some();
    }
    // "Tuesday, 3/4"
    i >= 3 && is_space(t, i - 1) && is_sym(t, i - 2, ',') && weekday_at(t, i - 3).is_some()
}

fn rule_slash(t: &[Tok], i: usize) -> Option<Hit> {
    if !left_clean(t, i) {
        return None;
    }
    let a = num(t, i)?;
    // Mixed number: "1 1/2 tablets" -> "one and a half tablets".
    if a.len() <= 3
        && is_space(t, i + 1)
        && let Some((n, d, end)) = fraction_at(t, i + 2)
    {
        let part = match (n, d) {
            (1, 2) => "a half".to_string(),
            (1, 3) => "a third".to_string(),
            (1, 4) => "a quarter".to_string(),
            _ => fraction_words(n, d)?,
        };
        let text = format!("{} and {part}", count_words(a));
        return Some(with_unit(t, end, text, false));
    }
    let b = num(t, i + 2)?;
    if !is_sym(t, i + 1, '/') || a.len() > 3 || b.len() > 3 || !right_clean(t, i + 3) {
        return None;
    }
    if a == "24" && b == "7" {
        return hit(i + 3, "twenty-four seven");
    }
    let (x, y): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
    if !date_context_before(t, i)
        && let Some((_, _, end)) = fraction_at(t, i)
    {
        let text = fraction_words(x, y)?;
        return Some(with_unit(t, end, text, true));
    }
    if valid_month_day(x, y) {
        return hit(i + 3, date_words(x as usize, y, None));
    }
    // Blood pressure and scores: "120/80" -> "one hundred twenty over eighty".
    hit(i + 3, format!("{} over {}", words_u64(x), words_u64(y)))
}

/// Appends a unit after an amount, if one follows at `end`.
fn with_unit(t: &[Tok], end: usize, amount: String, singular: bool) -> Hit {
    match unit_after(t, end, singular) {
        Some((unit, e)) => Hit {
            end: e,
            text: format!("{amount} {unit}"),
        },
        None => Hit { end, text: amount },
    }
}

// --- Numbers ---------------------------------------------------------------

/// A written number: integer digits (thousands separators removed) and an
/// optional decimal part.
struct NumLit {
    int: String,
    frac: Option<String>,
    grouped: bool,
    end: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// An amount (money, units): always words if it fits.
    Quantity,
    /// A bare number: identifiers are read digit by digit.
    Plain,
}

impl NumLit {
    fn is_one(&self) -> bool {
        self.int == "1" && self.frac.is_none()
    }

    fn is_year_like(&self) -> bool {
        !self.grouped
            && self.frac.is_none()
            && self.int.len() == 4
            && self
                .int
                .parse::<u64>()
                .is_ok_and(|y| (1100..=2099).contains(&y))
    }

    fn year(&self) -> String {
        year_words(self.int.parse().unwrap_or(0))
    }

    /// Member IDs and confirmation numbers are read digit by digit: "48213"
    /// is useless as "forty-eight thousand ...". Round thousands are counts.
    fn looks_like_identifier(&self) -> bool {
        let d = self.int.as_str();
        !self.grouped
            && self.frac.is_none()
            && ((d.len() > 1 && d.starts_with('0')) || (d.len() >= 5 && !d.ends_with("000")))
    }

    fn say(&self, style: Style) -> String {
        let int = if style == Style::Plain && self.looks_like_identifier() {
            digit_words(&self.int)
        } else {
            count_words(&self.int)
        };
        match &self.frac {
            Some(f) => format!("{int} point {}", digit_words(f)),
            None => int,
        }
    }
}

fn parse_num(t: &[Tok], i: usize) -> Option<NumLit> {
    let first = num(t, i)?;
    let mut int = first.to_string();
    let mut j = i + 1;
    let mut grouped = false;
    if first.len() <= 3 && !first.starts_with('0') {
        while is_sym(t, j, ',')
            && let Some(g) = num(t, j + 1)
            && g.len() == 3
        {
            int.push_str(g);
            j += 2;
            grouped = true;
        }
    }
    let mut frac = None;
    if is_sym(t, j, '.')
        && let Some(f) = num(t, j + 1)
    {
        frac = Some(f.to_string());
        j += 2;
    }
    Some(NumLit {
        int,
        frac,
        grouped,
        end: j,
    })
}

/// (singular, plural) readings of units written after a number. Matched
/// case-sensitively and only after a number, so "g", "L" or "min" elsewhere
/// are left alone.
const UNITS: &[(&str, &str, &str)] = &[
    ("mg", "milligram", "milligrams"),
    ("mcg", "microgram", "micrograms"),
    ("\u{b5}g", "microgram", "micrograms"),
    ("\u{3bc}g", "microgram", "micrograms"),
    ("ml", "milliliter", "milliliters"),
    ("mL", "milliliter", "milliliters"),
    ("cc", "cubic centimeter", "cubic centimeters"),
    ("kg", "kilogram", "kilograms"),
    ("g", "gram", "grams"),
    ("lb", "pound", "pounds"),
    ("lbs", "pound", "pounds"),
    ("oz", "ounce", "ounces"),
    ("mm", "millimeter", "millimeters"),
    ("cm", "centimeter", "centimeters"),
    ("mmHg", "millimeter of mercury", "millimeters of mercury"),
    ("mEq", "milliequivalent", "milliequivalents"),
    ("IU", "international unit", "international units"),
    ("L", "liter", "liters"),
    ("tsp", "teaspoon", "teaspoons"),
    ("tbsp", "tablespoon", "tablespoons"),
    ("min", "minute", "minutes"),
    ("mins", "minute", "minutes"),
    ("hr", "hour", "hours"),
    ("hrs", "hour", "hours"),
    ("wk", "week", "weeks"),
    ("wks", "week", "weeks"),
    ("yr", "year", "years"),
    ("yrs", "year", "years"),
];

/// A unit, percent sign or degree sign after a number ending at `end`.
fn unit_after(t: &[Tok], end: usize, singular: bool) -> Option<(String, usize)> {
    // "a 15-min visit", "10-mg tablets": a compound adjective, always singular.
    if is_sym(t, end, '-')
        && let Some(w) = word(t, end + 1)
        && let Some((_, one, _)) = UNITS.iter().find(|(abbr, _, _)| *abbr == w)
    {
        return Some((one.to_string(), end + 2));
    }
    let k = skip_space(t, end);
    if is_sym(t, k, '%') {
        return Some(("percent".to_string(), k + 1));
    }
    if is_sym(t, k, '\u{b0}') {
        let degrees = if singular { "degree" } else { "degrees" };
        return Some(match word(t, k + 1) {
            Some("F") => (format!("{degrees} Fahrenheit"), k + 2),
            Some("C") => (format!("{degrees} Celsius"), k + 2),
            _ => (degrees.to_string(), k + 1),
        });
    }
    let w = word(t, k)?;
    let (_, one, many) = UNITS.iter().find(|(abbr, _, _)| *abbr == w)?;
    let name = if singular { one } else { many };
    Some((name.to_string(), abbrev_dot(t, k + 1, true)))
}

/// Words after which a four-digit number is a year ("in 2024", "born 1952").
fn year_context_before(t: &[Tok], i: usize) -> bool {
    const WORDS: [&str; 15] = [
        "in", "since", "year", "until", "till", "by", "before", "after", "during", "of", "from",
        "born", "to", "through", "circa",
    ];
    word_before(t, i).is_some_and(|(_, w)| WORDS.contains(&w.to_lowercase().as_str()))
}

fn number_start(t: &[Tok], i: usize) -> Option<(&'static str, usize)> {
    if num(t, i).is_some() {
        return Some(("", i));
    }
    let free_before = i == 0 || is_space(t, i - 1) || is_sym(t, i - 1, '(');
    if num(t, i + 1).is_some() && free_before {
        if is_sym(t, i, '-') || is_sym(t, i, '\u{2212}') {
            return Some(("minus ", i + 1));
        }
        if is_sym(t, i, '~') {
            return Some(("about ", i + 1));
        }
    }
    None
}

/// Plain numbers, with their decorations: "3 tablets", "1,250", "2.5 mg",
/// "20%", "98.6°F", "-5", "2-3 tablets", "2x", "the 1990s", "in 2024".
fn rule_number(t: &[Tok], i: usize) -> Option<Hit> {
    let (prefix, start) = number_start(t, i)?;
    let a = parse_num(t, start)?;
    if let Some(h) = number_with_letter(t, &a, prefix).or_else(|| height(t, &a)) {
        return Some(h);
    }
    let b = dash_after(t, a.end).and_then(|k| parse_num(t, k));
    let end = b.as_ref().map_or(a.end, |b| b.end);
    let singular = b.is_none() && a.is_one();
    if let Some((unit, e)) = unit_after(t, end, singular) {
        let amount = match &b {
            Some(b) => format!("{} to {}", a.say(Style::Quantity), b.say(Style::Quantity)),
            None => a.say(Style::Quantity),
        };
        return hit(e, format!("{prefix}{amount} {unit}"));
    }
    if let Some(b) = &b {
        let (x, y) = if a.is_year_like() && b.is_year_like() {
            (a.year(), b.year())
        } else {
            (a.say(Style::Plain), b.say(Style::Plain))
        };
        return hit(end, format!("{prefix}{x} to {y}"));
    }
    let text = if a.is_year_like() && year_context_before(t, start) {
        a.year()
    } else if a.int.len() == 5 && a.frac.is_none() && zip_context_before(t, start) {
        digit_words(&a.int)
    } else if a.int == "911" && a.frac.is_none() {
        // The emergency number is only ever "nine one one".
        digit_words(&a.int)
    } else {
        a.say(Style::Plain)
    };
    hit(a.end, format!("{prefix}{text}"))
}

/// "2x" -> "two times", "1990s" / "1990's" -> "nineteen nineties", "20s" ->
/// "twenties".
fn number_with_letter(t: &[Tok], a: &NumLit, prefix: &str) -> Option<Hit> {
    if a.frac.is_some() || a.grouped {
        return None;
    }
    let w = word(t, a.end);
    if matches!(w, Some("x" | "X")) && num(t, a.end + 1).is_none() {
        let times = if a.is_one() { "time" } else { "times" };
        return hit(
            a.end + 1,
            format!("{prefix}{} {times}", a.say(Style::Quantity)),
        );
    }
    let s_end = if w == Some("s") {
        a.end + 1
    } else if (is_sym(t, a.end, '\'') || is_sym(t, a.end, '\u{2019}'))
        && word(t, a.end + 1) == Some("s")
    {
        a.end + 2
    } else {
        return None;
    };
    let base = if a.is_year_like() && a.int.ends_with('0') {
        a.year()
    } else {
        a.say(Style::Quantity)
    };
    hit(s_end, format!("{prefix}{}", pluralize_words(&base)))
}

/// Heights: "6'2\"" -> "six foot two".
fn height(t: &[Tok], a: &NumLit) -> Option<Hit> {
    let feet_mark = is_sym(t, a.end, '\'') || is_sym(t, a.end, '\u{2032}');
    let inches = num(t, a.end + 1).filter(|n| n.len() <= 2)?;
    if !feet_mark || a.frac.is_some() || a.int.len() > 1 {
        return None;
    }
    let mut end = a.end + 2;
    if is_sym(t, end, '"') || is_sym(t, end, '\u{2033}') {
        end += 1;
    }
    hit(
        end,
        format!("{} foot {}", count_words(&a.int), count_words(inches)),
    )
}

/// "1st", "21st", "112th" -> "first", "twenty-first", "one hundred twelfth".
fn rule_ordinal(t: &[Tok], i: usize) -> Option<Hit> {
    let lit = parse_num(t, i).filter(|l| l.frac.is_none())?;
    if !word(t, lit.end).is_some_and(is_ord_suffix) {
        return None;
    }
    let text = match lit.int.parse::<u64>() {
        Ok(v) if v <= MAX_WORDS => ordinal_words(v),
        _ => digit_words(&lit.int),
    };
    hit(lit.end + 1, text)
}

/// Identifiers after "#" or "No.": four digits or more are read digit by
/// digit ("#20417" -> "number two zero four one seven").
fn id_words(lit: &NumLit) -> String {
    if lit.frac.is_none() && !lit.grouped && lit.int.len() >= 4 {
        digit_words(&lit.int)
    } else {
        lit.say(Style::Quantity)
    }
}

// --- Money -----------------------------------------------------------------

fn cents_of(lit: &NumLit) -> Option<u64> {
    match lit.frac.as_deref() {
        None => Some(0),
        Some(f) if f.len() == 1 => f.parse::<u64>().ok().map(|c| c * 10),
        Some(f) if f.len() == 2 => f.parse().ok(),
        Some(_) => None,
    }
}

/// "forty-five dollars and fifty cents", "one dollar", "ninety-nine cents".
fn money_words(lit: &NumLit) -> String {
    let Some(cents) = cents_of(lit) else {
        return format!("{} dollars", lit.say(Style::Quantity));
    };
    let dollars = lit.int.parse::<u64>().ok();
    let dollar_text = format!(
        "{} {}",
        count_words(&lit.int),
        if dollars == Some(1) {
            "dollar"
        } else {
            "dollars"
        }
    );
    let cent_text = format!(
        "{} {}",
        below_100(cents),
        if cents == 1 { "cent" } else { "cents" }
    );
    match (dollars, cents) {
        (_, 0) => dollar_text,
        (Some(0), _) => cent_text,
        _ => format!("{dollar_text} and {cent_text}"),
    }
}

/// "$45", "$45.50", "$1,250", "$0.99", "$.50", "$1.5 million", "$5-$10".
fn rule_money(t: &[Tok], i: usize) -> Option<Hit> {
    if !is_sym(t, i, '$') {
        return None;
    }
    let amount = money_amount(t, skip_space(t, i + 1))?;
    if is_space(t, amount.end)
        && let Some(scale) = word(t, amount.end + 1)
        && matches!(scale, "thousand" | "million" | "billion" | "trillion")
    {
        return hit(
            amount.end + 2,
            format!("{} {scale} dollars", amount.say(Style::Quantity)),
        );
    }
    if let Some(k) = dash_after(t, amount.end)
        && let Some(upper) = money_amount(t, if is_sym(t, k, '$') { k + 1 } else { k })
    {
        let text = if cents_of(&amount) == Some(0) && cents_of(&upper) == Some(0) {
            format!("{} to {}", count_words(&amount.int), money_words(&upper))
        } else {
            format!("{} to {}", money_words(&amount), money_words(&upper))
        };
        return hit(upper.end, text);
    }
    hit(amount.end, money_words(&amount))
}

fn money_amount(t: &[Tok], j: usize) -> Option<NumLit> {
    if is_sym(t, j, '.')
        && let Some(c) = num(t, j + 1)
        && c.len() <= 2
    {
        return Some(NumLit {
            int: "0".to_string(),
            frac: Some(c.to_string()),
            grouped: false,
            end: j + 2,
        });
    }
    parse_num(t, j)
}

// --- Addresses -------------------------------------------------------------

const STATES: [(&str, &str); 51] = [
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("DC", "D C"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
];

/// True after a state abbreviation or (the last word of) a state name, where
/// a five-digit number is a ZIP code.
fn zip_context_before(t: &[Tok], i: usize) -> bool {
    word_before(t, i).is_some_and(|(_, w)| {
        STATES
            .iter()
            .any(|(abbr, name)| *abbr == w || name.rsplit(' ').next() == Some(w))
    })
}

/// "IL 62704" -> "Illinois six two seven zero four"; ZIP+4 is read as a
/// second group. ZIP codes are read digit by digit because that is how they
/// are written down.
fn rule_zip(t: &[Tok], i: usize) -> Option<Hit> {
    let w = word(t, i)?;
    let (_, name) = STATES.iter().find(|(abbr, _)| *abbr == w)?;
    let zip = num(t, i + 2).filter(|z| z.len() == 5)?;
    if !is_space(t, i + 1) {
        return None;
    }
    let mut end = i + 3;
    let mut text = format!("{name} {}", digit_words(zip));
    if is_sym(t, end, '-')
        && let Some(plus4) = num(t, end + 1)
        && plus4.len() == 4
    {
        text = format!("{text}, {}", digit_words(plus4));
        end += 2;
    }
    right_clean(t, end).then_some(Hit { end, text })
}

const STREET_SUFFIXES: [&str; 30] = [
    "St",
    "Street",
    "Ave",
    "Avenue",
    "Blvd",
    "Boulevard",
    "Rd",
    "Road",
    "Dr",
    "Drive",
    "Ln",
    "Lane",
    "Way",
    "Ct",
    "Court",
    "Pl",
    "Place",
    "Pkwy",
    "Parkway",
    "Hwy",
    "Highway",
    "Cir",
    "Circle",
    "Ter",
    "Terrace",
    "Sq",
    "Square",
    "Trl",
    "Trail",
    "Plaza",
];

/// Does a street name ("Oak St", "North Main Street", "5th Ave") start at
/// `k`? Up to four capitalised words or ordinals, then a street suffix.
fn street_name_follows(t: &[Tok], mut k: usize) -> bool {
    // Up to four name words plus the suffix; `names` counts the words seen.
    for names in 0..6 {
        if let Some(w) = word(t, k) {
            if names > 0 && STREET_SUFFIXES.contains(&w) {
                return true;
            }
            if !capitalised(w) {
                return false;
            }
            k += 1;
            if w.len() <= 2 && is_sym(t, k, '.') {
                k += 1; // "N. Main St"
            }
        } else if num(t, k).is_some() && word(t, k + 1).is_some_and(is_ord_suffix) {
            k += 2;
        } else {
            return false;
        }
        if !is_space(t, k) {
            return false;
        }
        k += 1;
    }
    false
}

/// Is the word at `i` preceded by "house number, Street Name"?
fn street_context_before(t: &[Tok], i: usize) -> bool {
    let mut k = i;
    let mut names = 0;
    while names <= 4 {
        if k < 2 || !is_space(t, k - 1) {
            return false;
        }
        let p = k - 2;
        match &t[p] {
            Tok::Num(_) => return names > 0,
            Tok::Word(w) if capitalised(w) => k = p,
            Tok::Word(w) if is_ord_suffix(w) && p >= 1 && num(t, p - 1).is_some() => k = p - 1,
            _ => return false,
        }
        names += 1;
    }
    false
}

/// House numbers before a street name, read in pairs ("one twenty-three").
fn rule_house_number(t: &[Tok], i: usize) -> Option<Hit> {
    let n = num(t, i).filter(|n| n.len() <= 5 && !n.starts_with('0'))?;
    (left_clean(t, i) && is_space(t, i + 1) && street_name_follows(t, i + 2)).then(|| Hit {
        end: i + 1,
        text: house_number_words(n),
    })
}

// --- Words and abbreviations -----------------------------------------------

/// (written, spoken, may end a sentence). Case-sensitive: "Ave" but not "ave".
const ABBREVIATIONS: &[(&str, &str, bool)] = &[
    ("Ave", "Avenue", true),
    ("Blvd", "Boulevard", true),
    ("Rd", "Road", true),
    ("Ln", "Lane", true),
    ("Hwy", "Highway", true),
    ("Pkwy", "Parkway", true),
    ("Ste", "Suite", true),
    ("Apt", "Apartment", true),
    ("appt", "appointment", true),
    ("Appt", "Appointment", true),
    ("appts", "appointments", true),
    ("Appts", "Appointments", true),
    ("approx", "approximately", false),
    ("Approx", "Approximately", false),
    ("vs", "versus", false),
    ("DOB", "date of birth", true),
    ("Rx", "prescription", true),
    ("RX", "prescription", true),
    ("rx", "prescription", true),
    ("ASAP", "as soon as possible", true),
    ("asap", "as soon as possible", true),
    ("Dept", "Department", true),
    ("dept", "department", true),
];

/// Initialisms the voice must spell out. espeak-ng would otherwise try to
/// pronounce the ones with vowels as words ("er", "icu", "id").
const INITIALISMS: &[&str] = &[
    "ER", "MD", "ICU", "ENT", "MRI", "CT", "EKG", "ECG", "EMT", "ID", "PA", "NP", "RN", "LPN",
    "OB", "GYN", "PT", "IV", "BP", "HIV", "UTI", "COPD", "ADHD", "STD", "STI", "PCP", "HMO", "PPO",
    "EPO", "OTC", "DDS", "DMD", "CPR", "ED", "GI", "PhD",
];

fn spell_out(w: &str) -> String {
    w.chars()
        .map(|c| c.to_uppercase().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn rule_word(t: &[Tok], i: usize) -> Option<Hit> {
    let w = word(t, i)?;
    if let Some(h) = dotted_abbreviation(t, i) {
        return Some(h);
    }
    match w {
        "Dr" | "dr" | "St" => return street_or_title(t, i, w),
        "Drs" | "Mr" | "Mrs" | "Ms" => return honorific(t, i, w),
        "Jr" | "Sr" => return generational(t, i, w),
        "No" | "no" => return number_abbreviation(t, i, w),
        "w" | "W" if is_sym(t, i + 1, '/') => return with_abbreviation(t, i),
        _ => {}
    }
    if let Some(h) = street_direction(t, i, w) {
        return Some(h);
    }
    if let Some(h) = extension_word(t, i) {
        return Some(h);
    }
    if let Some((_, spoken, may_end)) = ABBREVIATIONS.iter().find(|(a, _, _)| *a == w) {
        return hit(abbrev_dot(t, i + 1, *may_end), *spoken);
    }
    INITIALISMS.contains(&w).then(|| Hit {
        end: i + 1,
        text: spell_out(w),
    })
}

/// "Dr." is Doctor or Drive, "St." is Saint or Street.
///
/// Street when it follows a house number and street name ("123 Oak Dr."),
/// or a capitalised word inside a sentence ("on Main St. Call us"), or a
/// capitalised word with no name after it ("Elm Dr, Springfield").
/// Otherwise a title when a capitalised name follows ("Dr. Patel", "St.
/// Mary's"). A street's period may end the sentence; a title's never does.
fn street_or_title(t: &[Tok], i: usize, w: &str) -> Option<Hit> {
    let after = if is_sym(t, i + 1, '.') { i + 2 } else { i + 1 };
    let next_capital = word(t, skip_space(t, after)).is_some_and(capitalised);
    let prev = word_before(t, i);
    let prev_capital = prev.is_some_and(|(_, pw)| capitalised(pw));
    let prev_mid_sentence = prev.is_some_and(|(p, pw)| capitalised(pw) && !sentence_initial(t, p));
    let street = w != "dr"
        && (street_context_before(t, i) || prev_mid_sentence || (prev_capital && !next_capital));
    let (spoken, may_end) = match (w, street) {
        ("St", true) => ("Street", true),
        ("St", false) if next_capital => ("Saint", false),
        ("St", false) => ("Street", true),
        ("Dr", true) => ("Drive", true),
        ("Dr", false) => ("Doctor", false),
        _ => ("doctor", false),
    };
    hit(abbrev_dot(t, i + 1, may_end), spoken)
}

/// "4821 W. Lincoln Ave." -> "West Lincoln Avenue": a compass letter is a
/// direction only at the start of a street name.
fn street_direction(t: &[Tok], i: usize, w: &str) -> Option<Hit> {
    let spoken = match w {
        "N" => "North",
        "S" => "South",
        "E" => "East",
        "W" => "West",
        "NE" => "Northeast",
        "NW" => "Northwest",
        "SE" => "Southeast",
        "SW" => "Southwest",
        _ => return None,
    };
    street_name_follows(t, i).then(|| Hit {
        end: abbrev_dot(t, i + 1, false),
        text: spoken.to_string(),
    })
}

/// "Mr. Lee" -> "Mister Lee"; without a period only before a capitalised
/// name ("Ms" alone could be anything).
fn honorific(t: &[Tok], i: usize, w: &str) -> Option<Hit> {
    let dot = is_sym(t, i + 1, '.');
    let after = if dot { i + 2 } else { i + 1 };
    let next_capital = word(t, skip_space(t, after)).is_some_and(capitalised);
    if !(dot || next_capital) {
        return None;
    }
    let spoken = match w {
        "Drs" => "Doctors",
        "Mr" => "Mister",
        "Mrs" => "Missus",
        _ => "Miz",
    };
    hit(abbrev_dot(t, i + 1, false), spoken)
}

/// "John Smith Jr." / "John Smith, Sr." -> "Junior" / "Senior".
fn generational(t: &[Tok], i: usize, w: &str) -> Option<Hit> {
    let after_name = word_before(t, i).is_some_and(|(_, pw)| capitalised(pw))
        || (i >= 3
            && is_space(t, i - 1)
            && is_sym(t, i - 2, ',')
            && word(t, i - 3).is_some_and(capitalised));
    if !after_name {
        return None;
    }
    let spoken = if w == "Jr" { "Junior" } else { "Senior" };
    hit(abbrev_dot(t, i + 1, true), spoken)
}

/// "No. 5" -> "number five" (only with the period and a number after it).
fn number_abbreviation(t: &[Tok], i: usize, w: &str) -> Option<Hit> {
    if !is_sym(t, i + 1, '.') {
        return None;
    }
    let lit = parse_num(t, skip_space(t, i + 2))?;
    let label = if w == "No" { "Number" } else { "number" };
    hit(lit.end, format!("{label} {}", id_words(&lit)))
}

/// "w/" -> "with", "w/o" -> "without".
fn with_abbreviation(t: &[Tok], i: usize) -> Option<Hit> {
    if !is_sym(t, i + 1, '/') {
        return None;
    }
    if word(t, i + 2) == Some("o") {
        return hit(i + 3, "without");
    }
    matches!(t.get(i + 2), None | Some(Tok::Space | Tok::Word(_))).then(|| Hit {
        end: i + 2,
        text: "with".to_string(),
    })
}

/// "ext. 204" / "extension 204" anywhere -> "extension two zero four".
fn extension_word(t: &[Tok], i: usize) -> Option<Hit> {
    let w = word(t, i)?;
    if !matches!(w.to_ascii_lowercase().as_str(), "ext" | "extension") {
        return None;
    }
    let mut k = i + 1;
    if is_sym(t, k, '.') || is_sym(t, k, ':') {
        k += 1;
    }
    k = skip_space(t, k);
    let digits = num(t, k).filter(|d| d.len() <= 6)?;
    let label = if capitalised(w) {
        "Extension"
    } else {
        "extension"
    };
    hit(k + 1, format!("{label} {}", digit_words(digits)))
}

/// Single letters joined by periods: "e.g." -> "for example", "i.e." ->
/// "that is", a stray "a.m." -> "a m", "U.S." -> "U S", "D.O.B." -> "date
/// of birth".
fn dotted_abbreviation(t: &[Tok], i: usize) -> Option<Hit> {
    let mut letters = String::new();
    let mut k = i;
    while let Some(w) = word(t, k)
        && w.chars().count() == 1
        && is_sym(t, k + 1, '.')
    {
        letters.push_str(w);
        k += 2;
    }
    if letters.chars().count() < 2 {
        return None;
    }
    let capital = capitalised(&letters);
    let (spoken, may_end) = match letters.to_lowercase().as_str() {
        "eg" => (
            if capital {
                "For example"
            } else {
                "for example"
            }
            .to_string(),
            false,
        ),
        "ie" => (
            if capital { "That is" } else { "that is" }.to_string(),
            false,
        ),
        "am" => ("a m".to_string(), true),
        "pm" => ("p m".to_string(), true),
        "dob" => ("date of birth".to_string(), true),
        _ if letters.chars().all(char::is_uppercase) => (spell_out(&letters), false),
        _ => return None,
    };
    hit(abbrev_dot(t, k - 1, may_end), spoken)
}

// --- Symbols ---------------------------------------------------------------

/// Denominators after a slash that read as "per" ("tablets/day", "mg/kg").
const PER: &[(&str, &str)] = &[
    ("day", "day"),
    ("d", "day"),
    ("week", "week"),
    ("wk", "week"),
    ("month", "month"),
    ("year", "year"),
    ("yr", "year"),
    ("hour", "hour"),
    ("hr", "hour"),
    ("h", "hour"),
    ("min", "minute"),
    ("dose", "dose"),
    ("kg", "kilogram"),
    ("dL", "deciliter"),
    ("dl", "deciliter"),
    ("L", "liter"),
    ("mL", "milliliter"),
    ("ml", "milliliter"),
];

fn standalone(t: &[Tok], i: usize) -> bool {
    let before = i == 0 || is_space(t, i - 1);
    let after = matches!(
        t.get(i + 1),
        None | Some(Tok::Space | Tok::Sym('.' | ',' | '?' | '!' | ')'))
    );
    before && after
}

/// A "#" without a number after it: the pound key after "press" and the
/// like (that is its name on a US phone), otherwise a label meaning "number"
/// ("Patient #: 451").
fn hash_sign(t: &[Tok], i: usize) -> Option<Hit> {
    const KEY_WORDS: [&str; 7] = ["press", "dial", "hit", "the", "or", "and", "then"];
    let key =
        word_before(t, i).is_some_and(|(_, w)| KEY_WORDS.contains(&w.to_lowercase().as_str()));
    if key && standalone(t, i) {
        return hit(i + 1, "pound");
    }
    let label = i > 0 && (is_space(t, i - 1) || word(t, i - 1).is_some()) && is_sym(t, i + 1, ':');
    label.then(|| Hit {
        end: i + 1,
        text: "number".to_string(),
    })
}

fn rule_symbol(t: &[Tok], i: usize) -> Option<Hit> {
    let Some(Tok::Sym(c)) = t.get(i) else {
        return None;
    };
    match c {
        '&' => hit(i + 1, "and"),
        '#' => match parse_num(t, skip_space(t, i + 1)) {
            Some(lit) => hit(lit.end, format!("number {}", id_words(&lit))),
            None => hash_sign(t, i),
        },
        '*' if standalone(t, i)
            && word_before(t, i)
                .is_some_and(|(_, w)| matches!(w.to_lowercase().as_str(), "press" | "dial")) =>
        {
            hit(i + 1, "star")
        }
        '%' => hit(i + 1, "percent"),
        '/' if i > 0 && word(t, i - 1).is_some() => {
            let denominator = word(t, i + 1)?;
            let (_, spoken) = PER.iter().find(|(w, _)| *w == denominator)?;
            hit(i + 2, format!("per {spoken}"))
        }
        // A hyphen glued between a word and a number: a range after an
        // amount ("6 months-5 years" -> "six months to five years"), otherwise
        // just a separator ("COVID-19" -> "COVID nineteen").
        '-' | '\u{2013}' if i > 0 && word(t, i - 1).is_some() && num(t, i + 1).is_some() => {
            let after_amount = i >= 3 && is_space(t, i - 2) && num(t, i - 3).is_some();
            hit(i + 1, if after_amount { "to" } else { "" })
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(speakable(input), expected, "input: {input:?}");
    }

    const PHONE: &str = "two one two, five five five, zero one four seven";

    // --- number_words / ordinal_words / phone_words -----------------------

    #[test]
    fn number_words_basics() {
        assert_eq!(number_words(0), "zero");
        assert_eq!(number_words(7), "seven");
        assert_eq!(number_words(13), "thirteen");
        assert_eq!(number_words(20), "twenty");
        assert_eq!(number_words(45), "forty-five");
        assert_eq!(number_words(100), "one hundred");
        assert_eq!(number_words(123), "one hundred twenty-three");
        assert_eq!(number_words(1_250), "one thousand two hundred fifty");
        assert_eq!(number_words(10_000), "ten thousand");
        assert_eq!(number_words(1_000_001), "one million one");
        assert_eq!(
            number_words(999_999_999_999),
            "nine hundred ninety-nine billion nine hundred ninety-nine million \
             nine hundred ninety-nine thousand nine hundred ninety-nine"
        );
    }

    #[test]
    fn number_words_negative_and_extremes() {
        assert_eq!(number_words(-5), "minus five");
        assert_eq!(number_words(-1_250), "minus one thousand two hundred fifty");
        assert!(number_words(i64::MIN).starts_with("minus nine quintillion"));
        assert!(number_words(i64::MAX).starts_with("nine quintillion"));
    }

    #[test]
    fn ordinal_words_basics() {
        assert_eq!(ordinal_words(0), "zeroth");
        assert_eq!(ordinal_words(1), "first");
        assert_eq!(ordinal_words(2), "second");
        assert_eq!(ordinal_words(3), "third");
        assert_eq!(ordinal_words(4), "fourth");
        assert_eq!(ordinal_words(5), "fifth");
        assert_eq!(ordinal_words(8), "eighth");
        assert_eq!(ordinal_words(9), "ninth");
        assert_eq!(ordinal_words(12), "twelfth");
        assert_eq!(ordinal_words(20), "twentieth");
        assert_eq!(ordinal_words(21), "twenty-first");
        assert_eq!(ordinal_words(23), "twenty-third");
        assert_eq!(ordinal_words(100), "one hundredth");
        assert_eq!(ordinal_words(112), "one hundred twelfth");
        assert_eq!(ordinal_words(1_000), "one thousandth");
        assert!(ordinal_words(u64::MAX).ends_with("fifteenth"));
    }

    #[test]
    fn phone_words_groupings() {
        assert_eq!(phone_words("2125550147"), PHONE);
        assert_eq!(phone_words("12125550147"), format!("one, {PHONE}"));
        assert_eq!(
            phone_words("5550147"),
            "five five five, zero one four seven"
        );
        assert_eq!(phone_words("(212) 555-0147"), PHONE);
        assert_eq!(
            phone_words("44 20 7946"),
            "four four, two zero, seven nine four six"
        );
        assert_eq!(phone_words("911"), "nine one one");
        assert_eq!(phone_words(""), "");
        assert_eq!(phone_words("abc"), "");
    }

    #[test]
    fn year_readings() {
        assert_eq!(year_words(1952), "nineteen fifty-two");
        assert_eq!(year_words(2000), "two thousand");
        assert_eq!(year_words(2005), "two thousand five");
        assert_eq!(year_words(2024), "twenty twenty-four");
        assert_eq!(year_words(1900), "nineteen hundred");
        assert_eq!(year_words(1905), "nineteen oh five");
        assert_eq!(year_words(2010), "twenty ten");
        assert_eq!(year_words(2100), "twenty-one hundred");
    }

    #[test]
    fn house_number_readings() {
        assert_eq!(house_number_words("7"), "seven");
        assert_eq!(house_number_words("42"), "forty-two");
        assert_eq!(house_number_words("123"), "one twenty-three");
        assert_eq!(house_number_words("105"), "one oh five");
        assert_eq!(house_number_words("500"), "five hundred");
        assert_eq!(house_number_words("1234"), "twelve thirty-four");
        assert_eq!(house_number_words("4500"), "forty-five hundred");
        assert_eq!(house_number_words("2000"), "two thousand");
        assert_eq!(house_number_words("12345"), "one two three four five");
    }

    // --- Phone numbers ----------------------------------------------------

    #[test]
    fn phone_parenthesised_area_code() {
        check("(212) 555-0147", PHONE);
        check("(212)555-0147", PHONE);
    }

    #[test]
    fn phone_dashes() {
        check("212-555-0147", PHONE);
    }

    #[test]
    fn phone_dots() {
        check("212.555.0147", PHONE);
    }

    #[test]
    fn phone_spaces() {
        check("212 555 0147", PHONE);
    }

    #[test]
    fn phone_plus_one() {
        check("+1 212 555 0147", &format!("one, {PHONE}"));
        check("+1 (212) 555-0147", &format!("one, {PHONE}"));
    }

    #[test]
    fn phone_toll_free() {
        check(
            "1-800-555-0199",
            "one, eight zero zero, five five five, zero one nine nine",
        );
    }

    #[test]
    fn phone_seven_digits() {
        check("555-0147", "five five five, zero one four seven");
    }

    #[test]
    fn phone_bare_digits() {
        check("2125550147", PHONE);
        check("12125550147", &format!("one, {PHONE}"));
    }

    #[test]
    fn phone_international() {
        check(
            "+44 20 7946 0958",
            "plus four four, two zero, seven nine four six, zero nine five eight",
        );
    }

    #[test]
    fn phone_extensions() {
        check(
            "212-555-0147 ext. 204",
            &format!("{PHONE}, extension two zero four"),
        );
        check(
            "212-555-0147, ext 204",
            &format!("{PHONE}, extension two zero four"),
        );
        check(
            "212-555-0147 x204",
            &format!("{PHONE}, extension two zero four"),
        );
        check(
            "(212) 555-0147 x 204.",
            &format!("{PHONE}, extension two zero four."),
        );
        check("Dial ext. 204 now", "Dial extension two zero four now");
        check("Extension 31", "Extension three one");
    }

    #[test]
    fn phone_in_sentence_keeps_final_period() {
        check(
            "Call Dr. Patel at 555-0147.",
            "Call Doctor Patel at five five five, zero one four seven.",
        );
        check(
            "Call us at (212) 555-0147, or stop by.",
            &format!("Call us at {PHONE}, or stop by."),
        );
    }

    #[test]
    fn phone_fictional_exchange() {
        let spoken = "five five five, one two three, four five six seven";
        check("(555) 123-4567", spoken);
        check("555-123-4567", spoken);
        check("555.123.4567", spoken);
        check("555 123 4567", spoken);
        check(
            "1.800.555.0100",
            "one, eight zero zero, five five five, zero one zero zero",
        );
    }

    #[test]
    fn phone_lookalikes_are_not_phones() {
        check("1000-2000 mg", "one thousand to two thousand milligrams");
        check("100-1000 mg", "one hundred to one thousand milligrams");
        check("2-3 tablets", "two to three tablets");
    }

    // --- Dates ------------------------------------------------------------

    const DATE: &str = "April third, nineteen fifty-two";

    #[test]
    fn date_month_day_comma_year() {
        check("April 3, 1952", DATE);
    }

    #[test]
    fn date_abbreviated_month_no_comma() {
        check("Apr 3 1952", DATE);
        check("Apr. 3, 1952", DATE);
    }

    #[test]
    fn date_day_month_year() {
        check("3 April 1952", DATE);
        check("3rd April 1952", DATE);
    }

    #[test]
    fn date_us_numeric() {
        check("04/03/1952", DATE);
        check("4/3/1952", DATE);
        check("04-03-1952", DATE);
        check("4/3/52", "April third, fifty-two");
        check("1/5/05", "January fifth, oh five");
    }

    #[test]
    fn date_iso() {
        check("1952-04-03", DATE);
    }

    #[test]
    fn date_years() {
        check("January 1, 2000", "January first, two thousand");
        check("January 1, 2005", "January first, two thousand five");
        check("January 1, 2024", "January first, twenty twenty-four");
        check("January 1, 1900", "January first, nineteen hundred");
        check("January 1, 1905", "January first, nineteen oh five");
        check("since 2024", "since twenty twenty-four");
        check("born in 1952.", "born in nineteen fifty-two.");
        check("April 2024", "April twenty twenty-four");
        check("2023-2024", "twenty twenty-three to twenty twenty-four");
        check("the 1990s", "the nineteen nineties");
        check("in your 20s", "in your twenties");
    }

    #[test]
    fn date_bare_month_day() {
        check("March 5", "March fifth");
        check("March 5th", "March fifth");
        check("on March 22nd, please", "on March twenty-second, please");
        check("March 5-7", "March fifth to seventh");
    }

    #[test]
    fn date_in_sentence() {
        check(
            "Your DOB is April 3, 1952.",
            "Your date of birth is April third, nineteen fifty-two.",
        );
        check("See you Tue., April 3.", "See you Tuesday, April third.");
    }

    #[test]
    fn date_month_day_without_year() {
        check("on 4/15", "on April fifteenth");
        check("due 3/4", "due March fourth");
        check("Tuesday, 3/4", "Tuesday, March fourth");
        check("Tuesday 3/4", "Tuesday March fourth");
    }

    #[test]
    fn month_words_as_ordinary_words() {
        check("May I help you?", "May I help you?");
        check("It may rain in march.", "It may rain in march.");
    }

    #[test]
    fn weekdays() {
        check("Monday", "Monday");
        check(
            "We are open Monday through Friday.",
            "We are open Monday through Friday.",
        );
        check("Mon-Fri", "Monday to Friday");
        check("Mon.-Fri.", "Monday to Friday.");
        check("Mon - Fri", "Monday to Friday");
        check("Mon\u{2013}Fri", "Monday to Friday");
        check("Sat, Sun", "Saturday, Sunday");
        check("Mon, Wed, Fri", "Monday, Wednesday, Friday");
        check("Thurs. at 10 am", "Thursday at ten a m");
        check("Thu April 3", "Thursday April third");
        check("closed Sun.", "closed Sunday.");
        check("Sun exposure", "Sun exposure");
        check("Wed 4/3", "Wednesday April third");
    }

    // --- Times ------------------------------------------------------------

    #[test]
    fn time_am_variants() {
        for input in [
            "10:30 AM",
            "10:30am",
            "10:30 a.m.",
            "10:30 A.M.",
            "10:30 a.m",
            "10:30AM",
        ] {
            let expected = if input.ends_with("m.") || input.ends_with("M.") {
                "ten thirty a m."
            } else {
                "ten thirty a m"
            };
            check(input, expected);
        }
    }

    #[test]
    fn time_am_mid_sentence() {
        check("at 10:30 a.m. tomorrow", "at ten thirty a m tomorrow");
        check(
            "at 10:30 a.m. See you then.",
            "at ten thirty a m. See you then.",
        );
    }

    #[test]
    fn time_pm_with_oh() {
        check("10:05 pm", "ten oh five p m");
    }

    #[test]
    fn time_on_the_hour() {
        check("10:00 AM", "ten a m");
        check("10:00", "ten o'clock");
    }

    #[test]
    fn time_hour_only() {
        check("9 am", "nine a m");
        check("9am", "nine a m");
        check("3 PM", "three p m");
    }

    #[test]
    fn time_24_hour() {
        check("14:30", "two thirty p m");
        check("00:15", "twelve fifteen a m");
        check("09:30", "nine thirty a m");
        check("12:30", "twelve thirty");
        check("23:00", "eleven p m");
    }

    #[test]
    fn time_noon_is_read_literally() {
        check("12:00 PM", "twelve p m");
        check("12:00 AM", "twelve a m");
    }

    #[test]
    fn time_without_suffix() {
        check("10:30", "ten thirty");
    }

    #[test]
    fn time_ranges() {
        check("9:00-5:00", "nine to five");
        check("9 am - 5 pm", "nine a m to five p m");
        check("9am-5pm", "nine a m to five p m");
        check("9:00 AM - 5:00 PM", "nine a m to five p m");
        check("9-11 am", "nine to eleven a m");
        check(
            "Mon-Fri 8:30 am-5 pm.",
            "Monday to Friday eight thirty a m to five p m.",
        );
    }

    #[test]
    fn time_lookalikes() {
        check("I am 5", "I am five");
        check("at 5", "at five");
        check("10:30:15", "ten:thirty:fifteen");
    }

    // --- Ordinals ---------------------------------------------------------

    #[test]
    fn ordinals() {
        check("1st", "first");
        check("2nd", "second");
        check("3rd", "third");
        check("4th", "fourth");
        check("21st", "twenty-first");
        check("112th", "one hundred twelfth");
        check("the 2nd floor", "the second floor");
        check("1,000th", "one thousandth");
    }

    // --- Money ------------------------------------------------------------

    #[test]
    fn money_whole_dollars() {
        check("$45", "forty-five dollars");
        check("$1", "one dollar");
        check("$0", "zero dollars");
        check("$45.00", "forty-five dollars");
    }

    #[test]
    fn money_with_cents() {
        check("$45.50", "forty-five dollars and fifty cents");
        check("$45.5", "forty-five dollars and fifty cents");
        check("$1.01", "one dollar and one cent");
    }

    #[test]
    fn money_cents_only() {
        check("$0.99", "ninety-nine cents");
        check("$.50", "fifty cents");
    }

    #[test]
    fn money_grouped() {
        check("$1,250", "one thousand two hundred fifty dollars");
        check(
            "$1,250.75",
            "one thousand two hundred fifty dollars and seventy-five cents",
        );
    }

    #[test]
    fn money_other_forms() {
        check("$1.5 million", "one point five million dollars");
        check("$5-$10", "five to ten dollars");
        check("$5-10", "five to ten dollars");
        check("$1.999", "one point nine nine nine dollars");
        check("The copay is $25.", "The copay is twenty-five dollars.");
        check("The fee is $ 20.", "The fee is twenty dollars.");
    }

    // --- Plain numbers, units, percentages ---------------------------------

    #[test]
    fn plain_numbers() {
        check("3 tablets", "three tablets");
        check("1,250", "one thousand two hundred fifty");
        check(
            "1,250,000 people",
            "one million two hundred fifty thousand people",
        );
        check("0", "zero");
        check("Room 204", "Room two hundred four");
    }

    #[test]
    fn decimals() {
        check("2.5 mg", "two point five milligrams");
        check("0.25", "zero point two five");
        check("Take 2.5.", "Take two point five.");
    }

    #[test]
    fn percentages() {
        check("20%", "twenty percent");
        check("20 %", "twenty percent");
        check("2.5%", "two point five percent");
        check("10-20%", "ten to twenty percent");
    }

    #[test]
    fn units() {
        check("10 mg", "ten milligrams");
        check("1 mg", "one milligram");
        check("10mg", "ten milligrams");
        check("500 mcg", "five hundred micrograms");
        check("5 ml", "five milliliters");
        check("5 mL", "five milliliters");
        check("1 mL", "one milliliter");
        check("3 cc", "three cubic centimeters");
        check("70 kg", "seventy kilograms");
        check("1 lb", "one pound");
        check("150 lbs", "one hundred fifty pounds");
        check("2-3 mg", "two to three milligrams");
        check("30 min", "thirty minutes");
        check("Take 10 mg. Call us if", "Take ten milligrams. Call us if");
        check("Take 10 mg.", "Take ten milligrams.");
        check("5 lbs. of", "five pounds of");
        check("a 15-min visit", "a fifteen minute visit");
        check("10-mg tablets", "ten milligram tablets");
    }

    #[test]
    fn units_per() {
        check("5 mg/kg", "five milligrams per kilogram");
        check("100 mg/dL", "one hundred milligrams per deciliter");
        check("2 tablets/day", "two tablets per day");
        check("and/or", "and/or");
    }

    #[test]
    fn units_need_a_number() {
        check("mg", "mg");
        check("the cc line", "the cc line");
    }

    #[test]
    fn temperatures() {
        check("98.6\u{b0}F", "ninety-eight point six degrees Fahrenheit");
        check("1\u{b0}", "one degree");
        check("-5\u{b0}C", "minus five degrees Celsius");
    }

    #[test]
    fn number_decorations() {
        check("-5", "minus five");
        check("~20 minutes", "about twenty minutes");
        check("2x daily", "two times daily");
        check("COVID-19", "COVID nineteen");
        check("ages 6 months-5 years", "ages six months to five years");
        check("Call 911 now.", "Call nine one one now.");
        check("B12", "B twelve");
        check("He is 6'2\" tall", "He is six foot two tall");
        check("5\u{2032}7\u{2033}", "five foot seven");
        check("Apt. 4B", "Apartment four B");
    }

    #[test]
    fn identifiers_read_digit_by_digit() {
        check("Your ID is 48213.", "Your I D is four eight two one three.");
        check("007", "zero zero seven");
        check("10000 steps", "ten thousand steps");
        check("12,500", "twelve thousand five hundred");
        check(
            "99999999999999999999",
            "nine nine nine nine nine nine nine nine nine nine nine nine nine nine nine nine nine nine nine nine",
        );
    }

    #[test]
    fn fractions() {
        check("1/2 tablet", "one half tablet");
        check("3/4 cup", "three quarters cup");
        check("1 1/2 tablets", "one and a half tablets");
        check("2 1/4 tsp", "two and a quarter teaspoons");
        check("24/7", "twenty-four seven");
        check("120/80", "one hundred twenty over eighty");
    }

    // --- Abbreviations ----------------------------------------------------

    #[test]
    fn doctor_vs_drive() {
        check("Dr. Patel", "Doctor Patel");
        check("Dr Patel", "Doctor Patel");
        check("Thank you, Dr. Lee.", "Thank you, Doctor Lee.");
        check("123 Oak Dr.", "one twenty-three Oak Drive.");
        check("Elm Dr", "Elm Drive");
        check("on Elm Dr, Springfield", "on Elm Drive, Springfield");
        check(
            "We moved to Elm Dr. last year.",
            "We moved to Elm Drive last year.",
        );
        check("see the dr. today", "see the doctor today");
    }

    #[test]
    fn saint_vs_street() {
        check("St. Mary's", "Saint Mary's");
        check("Visit St. Mary's Hospital.", "Visit Saint Mary's Hospital.");
        check("Main St.", "Main Street.");
        check("We are on Main St.", "We are on Main Street.");
        check(
            "We are on Main St. Call us first.",
            "We are on Main Street. Call us first.",
        );
        check("123 Oak St.", "one twenty-three Oak Street.");
        check("350 5th Ave", "three fifty fifth Avenue");
    }

    #[test]
    fn street_words() {
        check("10 Elm Ave.", "ten Elm Avenue.");
        check("Sunset Blvd.", "Sunset Boulevard.");
        check("Mill Rd, Suite 5", "Mill Road, Suite five");
        check("Ste. 200", "Suite two hundred");
        check("Suite 200", "Suite two hundred");
        check("Apt. 3", "Apartment three");
        check("4500 N. Main St.", "forty-five hundred North Main Street.");
        check(
            "4821 W Lincoln Ave",
            "forty-eight twenty-one West Lincoln Avenue",
        );
        check("on SW Park Ave", "on Southwest Park Avenue");
        check("Plan A or plan B, W. Smith", "Plan A or plan B, W. Smith");
    }

    #[test]
    fn clinic_words() {
        check("DOB", "date of birth");
        check("your appt", "your appointment");
        check("your appt.", "your appointment.");
        check("Appt. confirmed", "Appointment confirmed");
        check("2 appts", "two appointments");
        check("Rx ready", "prescription ready");
        check("ASAP", "as soon as possible");
    }

    #[test]
    fn latin_and_dotted() {
        check("e.g. aspirin", "for example aspirin");
        check(
            "pain relievers, e.g. Tylenol",
            "pain relievers, for example Tylenol",
        );
        check("i.e. tomorrow", "that is tomorrow");
        check("approx. 20 minutes", "approximately twenty minutes");
        check("Approx 20 min", "Approximately twenty minutes");
        check("D.O.B.", "date of birth.");
        check("in the U.S. today", "in the U S today");
    }

    #[test]
    fn number_sign() {
        check("No. 5", "Number five");
        check("no.5", "number five");
        check("No, thanks.", "No, thanks.");
        check("#5", "number five");
        check("Rx #20417", "prescription number two zero four one seven");
        check("press #", "press pound");
        check("or # to repeat", "or pound to repeat");
        check(
            "Patient #: 00451",
            "Patient number: zero zero four five one",
        );
        check("Member # 1234", "Member number one two three four");
        check("C#", "C#");
        check("press *", "press star");
    }

    #[test]
    fn honorifics() {
        check("Mr. Lee", "Mister Lee");
        check("Mrs. Lee", "Missus Lee");
        check("Ms. Lee", "Miz Lee");
        check("Mr Lee", "Mister Lee");
        check("Drs. Lee and Patel", "Doctors Lee and Patel");
        check("John Smith Jr.", "John Smith Junior.");
        check("John Smith, Sr. called", "John Smith, Senior called");
        check("Jr", "Jr");
    }

    #[test]
    fn versus_and_ampersand() {
        check("flu vs. cold", "flu versus cold");
        check("Smith & Jones", "Smith and Jones");
        check("Q&A", "Q and A");
        check("w/ food", "with food");
        check("w/o food", "without food");
    }

    #[test]
    fn initialisms() {
        check("ER", "E R");
        check("MD", "M D");
        check("ICU", "I C U");
        check("Go to the ER.", "Go to the E R.");
        check("Jane Doe, MD", "Jane Doe, M D");
        check("bring your photo ID", "bring your photo I D");
        check("PPO plans", "P P O plans");
    }

    // --- ZIP codes and states -----------------------------------------------

    #[test]
    fn zip_after_state() {
        check(
            "Springfield, IL 62704",
            "Springfield, Illinois six two seven zero four",
        );
        check(
            "Springfield, IL 62704-1234",
            "Springfield, Illinois six two seven zero four, one two three four",
        );
        check(
            "Dallas, TX 75201.",
            "Dallas, Texas seven five two zero one.",
        );
        check(
            "Springfield, Illinois 60000",
            "Springfield, Illinois six zero zero zero zero",
        );
        check("New York 10001", "New York one zero zero zero one");
    }

    #[test]
    fn state_abbreviations_without_zip_stay() {
        check("Springfield, IL", "Springfield, IL");
        check("OK, see you", "OK, see you");
    }

    #[test]
    fn full_address() {
        check(
            "123 Oak St., Springfield, IL 62704",
            "one twenty-three Oak Street, Springfield, Illinois six two seven zero four",
        );
    }

    // --- Punctuation, whitespace, pass-through ------------------------------

    #[test]
    fn sentence_punctuation_preserved() {
        check(
            "Is 10:30 AM okay? Yes, see you then!",
            "Is ten thirty a m okay? Yes, see you then!",
        );
        check(
            "Your total is $45. Thank you.",
            "Your total is forty-five dollars. Thank you.",
        );
    }

    #[test]
    fn nothing_to_normalise_passes_through() {
        let plain =
            "Hello, thank you for calling Riverside Family Clinic. How can I help you today?";
        check(plain, plain);
        check(
            "Don't worry; it's fine: really!",
            "Don't worry; it's fine: really!",
        );
        check("Sunday", "Sunday");
        check(
            "caf\u{e9} na\u{ef}ve \u{201c}quoted\u{201d}",
            "caf\u{e9} na\u{ef}ve \u{201c}quoted\u{201d}",
        );
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
            assert!(
                !out.starts_with(' ') && !out.ends_with(' '),
                "{input:?} -> {out:?}"
            );
            assert!(!out.contains("  "), "{input:?} -> {out:?}");
        }
    }
}
