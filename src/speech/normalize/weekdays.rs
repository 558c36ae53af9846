//! Weekdays and ranges of them ("Mon-Fri" -> "Monday to Friday").
//!
//! "Sun", "Sat" and "Wed" are also ordinary words, so an abbreviation is
//! only expanded where it is clearly a day (see [`rule_weekday`]).

use super::dates::month_at;
use super::tokens::{Tok, abbrev_dot, capitalised, is_dash, is_space, is_sym, num, skip_space, word};
use super::{Hit, hit};

const WEEKDAYS: [(&str, &[&str]); 7] = [
    ("Monday", &["mon"]),
    ("Tuesday", &["tue", "tues"]),
    ("Wednesday", &["wed"]),
    ("Thursday", &["thu", "thur", "thurs"]),
    ("Friday", &["fri"]),
    ("Saturday", &["sat"]),
    ("Sunday", &["sun"]),
];

pub(super) struct Weekday {
    name: &'static str,
    abbreviated: bool,
    dot: bool,
}

pub(super) fn weekday_at(t: &[Tok], i: usize) -> Option<Weekday> {
    let w = word(t, i).filter(|w| capitalised(w))?;
    let lower = w.to_lowercase();
    let (name, abbrs) = WEEKDAYS.iter().find(|(name, abbrs)| name.to_lowercase() == lower || abbrs.contains(&lower.as_str()))?;
    let abbreviated = abbrs.contains(&lower.as_str());
    Some(Weekday { name, abbreviated, dot: abbreviated && is_sym(t, i + 1, '.') })
}

/// "Mon-Fri" -> "Monday to Friday"; "Tue., April 3" -> "Tuesday, April
/// third". An abbreviation is only expanded when it is clearly a weekday
/// (period, comma, range, date or list of weekdays after it), because "Sun",
/// "Sat" and "Wed" are also ordinary words.
pub(super) fn rule_weekday(t: &[Tok], i: usize) -> Option<Hit> {
    let first = weekday_at(t, i)?;
    let after = if first.dot { i + 2 } else { i + 1 };
    if let Some((connective, k)) = weekday_range_sep(t, after)
        && let Some(last) = weekday_at(t, k)
    {
        let end = if last.dot { abbrev_dot(t, k + 1, false) } else { k + 1 };
        return hit(end, format!("{} {connective} {}", first.name, last.name));
    }
    if !first.abbreviated {
        return None;
    }
    let date_follows = is_space(t, after) && (month_at(t, after + 1).is_some() || num(t, after + 1).is_some());
    let listed = i >= 3
        && is_space(t, i - 1)
        && is_sym(t, i - 2, ',')
        && (weekday_at(t, i - 3).is_some() || (is_sym(t, i - 3, '.') && i >= 4 && weekday_at(t, i - 4).is_some()));
    if !(first.dot || is_sym(t, after, ',') || date_follows || listed) {
        return None;
    }
    let end = if first.dot { abbrev_dot(t, i + 1, false) } else { i + 1 };
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

#[cfg(test)]
mod tests {
    use crate::speech::normalize::tests::check;

    #[test]
    fn weekdays() {
        check("Monday", "Monday");
        check("We are open Monday through Friday.", "We are open Monday through Friday.");
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
}
