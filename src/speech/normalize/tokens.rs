//! The tokenizer and the small look-ups every rule makes on its output.
//!
//! Rules work on tokens, not characters, so that "Dr." is a word and a
//! symbol, "555-0147" two numbers and a dash, whatever the spacing. The
//! helpers take a token slice and a position and never panic past the end,
//! which is what lets each rule be a short chain of `?`s.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    /// Letters, with inner apostrophes ("Mary's", "o'clock").
    Word(String),
    /// ASCII digits.
    Num(String),
    /// Any other single character (punctuation, symbols, emoji).
    Sym(char),
    /// A run of whitespace.
    Space,
}

pub(super) fn tokenize(text: &str) -> Vec<Tok> {
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
                let inner_apostrophe = (ch == '\'' || ch == '\u{2019}') && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
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

pub(super) fn word(t: &[Tok], i: usize) -> Option<&str> {
    match t.get(i) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    }
}

pub(super) fn num(t: &[Tok], i: usize) -> Option<&str> {
    match t.get(i) {
        Some(Tok::Num(n)) => Some(n),
        _ => None,
    }
}

pub(super) fn is_sym(t: &[Tok], i: usize, c: char) -> bool {
    matches!(t.get(i), Some(Tok::Sym(s)) if *s == c)
}

pub(super) fn is_space(t: &[Tok], i: usize) -> bool {
    matches!(t.get(i), Some(Tok::Space))
}

pub(super) fn is_dash(t: &[Tok], i: usize) -> bool {
    matches!(t.get(i), Some(Tok::Sym('-' | '\u{2013}' | '\u{2014}')))
}

/// Skips one whitespace token, if any.
pub(super) fn skip_space(t: &[Tok], i: usize) -> usize {
    if is_space(t, i) { i + 1 } else { i }
}

/// True at the end of the text (trailing whitespace ignored).
fn is_end(t: &[Tok], i: usize) -> bool {
    i >= t.len() || (is_space(t, i) && i + 1 >= t.len())
}

pub(super) fn capitalised(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

pub(super) fn is_ord_suffix(w: &str) -> bool {
    matches!(w.to_ascii_lowercase().as_str(), "st" | "nd" | "rd" | "th")
}

/// The word before position `i`, separated from it by whitespace.
pub(super) fn word_before(t: &[Tok], i: usize) -> Option<(usize, &str)> {
    let p = i.checked_sub(2)?;
    if !is_space(t, i - 1) {
        return None;
    }
    word(t, p).map(|w| (p, w))
}

/// True when the word at `p` starts a sentence (start of text, or after
/// sentence punctuation or an opening bracket/quote).
pub(super) fn sentence_initial(t: &[Tok], p: usize) -> bool {
    let k = if p > 0 && is_space(t, p - 1) { p - 1 } else { p };
    match k.checked_sub(1).and_then(|q| t.get(q)) {
        None => true,
        Some(Tok::Sym(c)) => ".!?:;\"\u{201c}(".contains(*c),
        _ => false,
    }
}

/// A numeric pattern may start at `i` only if it is not glued to a
/// preceding number or word ("x204", "1.212", "3/4/5").
pub(super) fn left_clean(t: &[Tok], i: usize) -> bool {
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
pub(super) fn right_clean(t: &[Tok], e: usize) -> bool {
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
pub(super) fn abbrev_dot(t: &[Tok], j: usize, may_end: bool) -> usize {
    if !is_sym(t, j, '.') || is_end(t, j + 1) {
        return j;
    }
    let next_capital = is_space(t, j + 1) && word(t, j + 2).is_some_and(capitalised);
    if may_end && next_capital { j } else { j + 1 }
}

/// After a number or time: optional spaces, a dash, optional spaces.
pub(super) fn dash_after(t: &[Tok], j: usize) -> Option<usize> {
    let k = skip_space(t, j);
    is_dash(t, k).then(|| skip_space(t, k + 1))
}
