//! Calendar dates: ISO, US numeric, "April 3, 1952" and "3 April 1952".
//!
//! All are read the American way, month first ("April third, nineteen
//! fifty-two"), because that is how a caller checks a date of birth. A
//! month name is only a month when capitalised: "may" and "march" are
//! ordinary words.

use super::numerals::{ordinal_words, short_year_words, year_words};
use super::tokens::{
    Tok, abbrev_dot, capitalised, dash_after, is_dash, is_ord_suffix, is_space, is_sym, left_clean, num, right_clean, word,
};
use super::{Hit, hit};

/// Month names, January first: shared with the dialog's date understanding and read-back.
pub const MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

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
pub(super) fn date_words(month: usize, day: u64, year: Option<String>) -> String {
    let name = MONTHS[(month.clamp(1, 12)) - 1];
    match year {
        Some(y) => format!("{name} {}, {y}", ordinal_words(day)),
        None => format!("{name} {}", ordinal_words(day)),
    }
}

pub(super) fn valid_month_day(month: u64, day: u64) -> bool {
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// A capitalised month name or abbreviation ("April", "Apr", "Apr.") at `i`:
/// (month number, position after it).
pub(super) fn month_at(t: &[Tok], i: usize) -> Option<(usize, usize)> {
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
    if word(t, k + 1).is_some_and(is_ord_suffix) { Some((day, k + 2)) } else { Some((day, k + 1)) }
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
pub(super) fn rule_iso_date(t: &[Tok], i: usize) -> Option<Hit> {
    let y = num(t, i).filter(|y| y.len() == 4)?;
    let m = num(t, i + 2).filter(|m| m.len() <= 2)?;
    let d = num(t, i + 4).filter(|d| d.len() <= 2)?;
    let shape = is_sym(t, i + 1, '-') && is_sym(t, i + 3, '-');
    let (year, month, day): (u64, u64, u64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !shape || !valid_month_day(month, day) || !left_clean(t, i) || !right_clean(t, i + 5) {
        return None;
    }
    hit(i + 5, date_words(month as usize, day, Some(year_words(year))))
}

/// "04/03/1952", "4/3/52", "04-03-1952": US month/day/year.
pub(super) fn rule_numeric_date(t: &[Tok], i: usize) -> Option<Hit> {
    let m = num(t, i).filter(|m| m.len() <= 2)?;
    let d = num(t, i + 2).filter(|d| d.len() <= 2)?;
    let y = num(t, i + 4).filter(|y| y.len() == 2 || y.len() == 4)?;
    let slashes = is_sym(t, i + 1, '/') && is_sym(t, i + 3, '/');
    let dashes = is_dash(t, i + 1) && is_dash(t, i + 3) && y.len() == 4;
    let (month, day, year): (u64, u64, u64) = (m.parse().ok()?, d.parse().ok()?, y.parse().ok()?);
    if !(slashes || dashes) || !valid_month_day(month, day) || !left_clean(t, i) || !right_clean(t, i + 5) {
        return None;
    }
    let year = if y.len() == 2 { short_year_words(year) } else { year_words(year) };
    hit(i + 5, date_words(month as usize, day, Some(year)))
}

/// "April 3, 1952", "Apr 3 1952", "March 5th", "March 5-7", "April 2024".
pub(super) fn rule_month_date(t: &[Tok], i: usize) -> Option<Hit> {
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
            return hit(end, format!("{} to {}", date_words(month, day, None), ordinal_words(last)));
        }
        return right_clean(t, day_end).then(|| Hit { end: day_end, text: date_words(month, day, None) });
    }
    let y = num(t, k).filter(|y| y.len() == 4)?;
    let year: u64 = y.parse().ok()?;
    if !(1000..=2999).contains(&year) || !right_clean(t, k + 1) {
        return None;
    }
    hit(k + 1, format!("{} {}", MONTHS[month - 1], year_words(year)))
}

/// "3 April 1952", "3rd April": read in the American order, "April third".
pub(super) fn rule_day_month(t: &[Tok], i: usize) -> Option<Hit> {
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

#[cfg(test)]
mod tests {
    use crate::speech::normalize::tests::check;

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
        check("Your DOB is April 3, 1952.", "Your date of birth is April third, nineteen fifty-two.");
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
}
