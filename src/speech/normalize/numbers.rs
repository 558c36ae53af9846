//! Plain numbers and their decorations: "1,250", "2.5 mg", "-5", "~20",
//! "2-3 tablets", "2x", "the 1990s", "6'2\"", ordinals ("21st") and
//! identifiers ("#20417").
//!
//! The last numeric rule: whatever the more specific rules (phones, dates,
//! times, money, addresses) did not claim is read here, as a quantity, a
//! year or an identifier read digit by digit.

use super::address::zip_context_before;
use super::numerals::{MAX_WORDS, count_words, digit_words, ordinal_words, pluralize_words, year_words};
use super::tokens::{Tok, dash_after, is_ord_suffix, is_space, is_sym, num, word, word_before};
use super::units::unit_after;
use super::{Hit, hit};

/// A written number: integer digits (thousands separators removed) and an
/// optional decimal part.
pub(super) struct NumLit {
    pub(super) int: String,
    pub(super) frac: Option<String>,
    pub(super) grouped: bool,
    pub(super) end: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
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
        !self.grouped && self.frac.is_none() && self.int.len() == 4 && self.int.parse::<u64>().is_ok_and(|y| (1100..=2099).contains(&y))
    }

    fn year(&self) -> String {
        year_words(self.int.parse().unwrap_or(0))
    }

    /// Member IDs and confirmation numbers are read digit by digit: "48213"
    /// is useless as "forty-eight thousand ...". Round thousands are counts.
    fn looks_like_identifier(&self) -> bool {
        let d = self.int.as_str();
        !self.grouped && self.frac.is_none() && ((d.len() > 1 && d.starts_with('0')) || (d.len() >= 5 && !d.ends_with("000")))
    }

    pub(super) fn say(&self, style: Style) -> String {
        let int = if style == Style::Plain && self.looks_like_identifier() { digit_words(&self.int) } else { count_words(&self.int) };
        match &self.frac {
            Some(f) => format!("{int} point {}", digit_words(f)),
            None => int,
        }
    }
}

pub(super) fn parse_num(t: &[Tok], i: usize) -> Option<NumLit> {
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
    Some(NumLit { int, frac, grouped, end: j })
}

/// Words after which a four-digit number is a year ("in 2024", "born 1952").
fn year_context_before(t: &[Tok], i: usize) -> bool {
    const WORDS: [&str; 15] =
        ["in", "since", "year", "until", "till", "by", "before", "after", "during", "of", "from", "born", "to", "through", "circa"];
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
pub(super) fn rule_number(t: &[Tok], i: usize) -> Option<Hit> {
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
        let (x, y) = if a.is_year_like() && b.is_year_like() { (a.year(), b.year()) } else { (a.say(Style::Plain), b.say(Style::Plain)) };
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
        return hit(a.end + 1, format!("{prefix}{} {times}", a.say(Style::Quantity)));
    }
    let s_end = if w == Some("s") {
        a.end + 1
    } else if (is_sym(t, a.end, '\'') || is_sym(t, a.end, '\u{2019}')) && word(t, a.end + 1) == Some("s") {
        a.end + 2
    } else {
        return None;
    };
    let base = if a.is_year_like() && a.int.ends_with('0') { a.year() } else { a.say(Style::Quantity) };
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
    hit(end, format!("{} foot {}", count_words(&a.int), count_words(inches)))
}

/// "1st", "21st", "112th" -> "first", "twenty-first", "one hundred twelfth".
pub(super) fn rule_ordinal(t: &[Tok], i: usize) -> Option<Hit> {
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
pub(super) fn id_words(lit: &NumLit) -> String {
    if lit.frac.is_none() && !lit.grouped && lit.int.len() >= 4 { digit_words(&lit.int) } else { lit.say(Style::Quantity) }
}

#[cfg(test)]
mod tests {
    use crate::speech::normalize::tests::check;

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

    #[test]
    fn plain_numbers() {
        check("3 tablets", "three tablets");
        check("1,250", "one thousand two hundred fifty");
        check("1,250,000 people", "one million two hundred fifty thousand people");
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
}
