//! A number, a slash, a number: fractions, month/day, "24/7" and "120/80".
//!
//! One rule for all of them, because they share a shape and only the
//! context decides: "3/4" after "on" or a weekday is a date, before
//! "cup" three quarters, and "120/80" (no fraction, no date) "over".

use super::dates::{date_words, valid_month_day};
use super::numerals::{count_words, words_u64};
use super::tokens::{Tok, is_space, is_sym, left_clean, num, right_clean, word_before};
use super::units::unit_after;
use super::weekdays::weekday_at;
use super::{Hit, hit};

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
    (is_sym(t, j + 1, '/') && right_clean(t, j + 3) && fraction_words(n, d).is_some()).then_some((n, d, j + 3))
}

/// Words after which "3/4" is a date, not three quarters.
fn date_context_before(t: &[Tok], i: usize) -> bool {
    const WORDS: [&str; 14] =
        ["on", "by", "until", "till", "before", "after", "from", "through", "thru", "since", "due", "dated", "starting", "effective"];
    if let Some((p, w)) = word_before(t, i) {
        return WORDS.contains(&w.to_lowercase().as_str()) || weekday_at(t, p).is_some();
    }
    // "Tuesday, 3/4"
    i >= 3 && is_space(t, i - 1) && is_sym(t, i - 2, ',') && weekday_at(t, i - 3).is_some()
}

pub(super) fn rule_slash(t: &[Tok], i: usize) -> Option<Hit> {
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
        Some((unit, e)) => Hit { end: e, text: format!("{amount} {unit}") },
        None => Hit { end, text: amount },
    }
}

#[cfg(test)]
mod tests {
    use crate::speech::normalize::tests::check;

    #[test]
    fn fractions() {
        check("1/2 tablet", "one half tablet");
        check("3/4 cup", "three quarters cup");
        check("1 1/2 tablets", "one and a half tablets");
        check("2 1/4 tsp", "two and a quarter teaspoons");
        check("24/7", "twenty-four seven");
        check("120/80", "one hundred twenty over eighty");
    }
}
