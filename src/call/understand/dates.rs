//! Dates of birth, the clinic's main way of telling patients with the same name apart.
//!
//! Callers say them in many shapes ("March fifth, nineteen eighty", "the fifth of March",
//! "oh three oh five ninety") and Whisper writes some of them as numerals ("3/5/1980",
//! "March 5th, 1980."). All follow US conventions: a numeric date is month, day, year. A date
//! is only accepted if it exists and belongs to someone alive today, so a mis-heard date is
//! caught while the caller is on the line.

use super::numbers::{cardinal_words, is_number_word, is_numeral, number_words, ordinal_words, parse_detail};

/// A calendar date. Fields are public for matching and storage; build checked values with
/// [`Date::new`]. Ordering is chronological (year, then month, then day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    /// Full year, e.g. 1980.
    pub year: i32,
    /// 1 = January .. 12 = December.
    pub month: u8,
    /// Day of the month, from 1.
    pub day: u8,
}

use crate::speech::normalize::MONTHS;

/// Whether `year` has a February 29th (Gregorian rules).
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1-12) of `year`; 0 for a month that does not exist.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A date that exists on the calendar (leap years included), or `None`. Years are limited
    /// to 1..=9999 so [`Date::iso`] always has four digits.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let ok = (1..=9999).contains(&year) && day >= 1 && day <= days_in_month(year, month);
        ok.then_some(Date { year, month, day })
    }

    /// "1980-03-05": the form for storage and for matching against the patient record.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// "March fifth, nineteen eighty": the form the agent reads back, in words so the TTS
    /// says it the way people do ("two thousand five", "twenty twelve", "nineteen oh two").
    pub fn spoken(&self) -> String {
        let month = MONTHS.get(usize::from(self.month).wrapping_sub(1)).copied().unwrap_or("");
        format!("{month} {}, {}", ordinal_words(u32::from(self.day)), year_words(self.year))
    }

    /// Completed years from this date to `today`: the patient's age if this is a birth date.
    pub fn age_on(&self, today: Date) -> i32 {
        let birthday_passed = (today.month, today.day) >= (self.month, self.day);
        today.year - self.year - i32::from(!birthday_passed)
    }
}

/// A year as people say it: "nineteen eighty", "nineteen oh two", "nineteen hundred",
/// "two thousand five", "twenty twelve".
fn year_words(year: i32) -> String {
    let Ok(y) = u32::try_from(year) else {
        return year.to_string();
    };
    if !(1000..=9999).contains(&y) {
        return year.to_string();
    }
    let (hi, lo) = (y / 100, y % 100);
    if (2000..=2009).contains(&y) || y % 1000 == 0 {
        let thousands = format!("{} thousand", cardinal_words(y / 1000));
        return match lo {
            0 => thousands,
            _ => format!("{thousands} {}", cardinal_words(lo)),
        };
    }
    match lo {
        0 => format!("{} hundred", cardinal_words(hi)),
        1..=9 => format!("{} oh {}", cardinal_words(hi), cardinal_words(lo)),
        _ => format!("{} {}", cardinal_words(hi), cardinal_words(lo)),
    }
}

/// What a caller's answer to "what's your date of birth?" amounts to, so the agent knows
/// whether to confirm it, ask for the year, or say what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DobParse {
    /// A real date, not in the future, for someone at most 120 years old.
    Valid(Date),
    /// A possible month and day ("March fifth") but no year; ask for the year.
    MissingYear {
        /// 1-12.
        month: u8,
        /// Day of the month; February 29th is allowed until the year is known.
        day: u8,
    },
    /// Something date-like that cannot be a date of birth; `reason` is a phrase the agent can
    /// say ("that date is in the future").
    Invalid {
        /// Why, as words the agent can say.
        reason: &'static str,
    },
    /// Nothing date-like at all.
    Nothing,
}

const NO_SUCH_DAY: &str = "that day doesn't exist in that month";
const NOT_LEAP: &str = "February twenty-ninth only exists in leap years";
const FUTURE: &str = "that date is in the future";
const TOO_OLD: &str = "that would make you more than a hundred and twenty years old";
const NO_DAY: &str = "I need the day of the month as well";
const NO_MONTH_DAY: &str = "I need the month and the day as well";
const NOT_A_DATE: &str = "I couldn't make that out as a month, day and year";
const KEYPAD: &str = "please enter eight digits: two for the month, two for the day, and four for the year";

/// A year as said: four digits, or two that need a century.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Year {
    Full(i32),
    Short(u32),
}

/// Reads a date of birth from what the caller said, checked against `today`.
///
/// Understands month names and abbreviations in any of "March fifth nineteen eighty",
/// "March 5th, 1980", "march the fifth 1980", "the fifth of March, 1980", "5th of March 1980",
/// "fifth March nineteen eighty", and numeric month-day-year forms "3/5/1980", "03-05-80",
/// "3 5 1980", "03051980", "oh three oh five ninety", "zero three zero five nineteen ninety".
/// Years may be "1980", "nineteen eighty", "nineteen oh two", "two thousand (and) five",
/// "twenty oh five", "twenty twelve", or two digits ("eighty", "'80", "05"), which take the
/// century that makes the caller 0-120 years old and not yet unborn. Filler ("uh, let me
/// think, it's March, um, fifth") is skipped.
pub fn parse_date_of_birth(text: &str, today: Date) -> DobParse {
    let t = date_tokens(text);
    if t.is_empty() {
        return DobParse::Nothing;
    }
    let has_number = t.iter().any(|w| month_of(w).is_none());
    if !has_number {
        // "March" alone may be a month; "may" and "march" alone are more likely verbs.
        let ambiguous = t.iter().all(|w| matches!(w.as_str(), "may" | "march"));
        return if ambiguous { DobParse::Nothing } else { DobParse::Invalid { reason: NO_MONTH_DAY } };
    }
    let month_at = (0..t.len()).find(|&i| {
        month_of(&t[i]).is_some()
            && (i.checked_sub(1).is_some_and(|j| month_of(&t[j]).is_none()) || t.get(i + 1).is_some_and(|n| month_of(n).is_none()))
    });
    match month_at {
        Some(i) => with_month_name(&t, i, today),
        None => numeric(&t, today),
    }
}

/// Keypad entry: the caller types MMDDYYYY, maybe ending with '#'. Same checks as speech;
/// anything but eight digits is `Invalid` with a reason that says how to type it.
pub fn parse_dtmf_date(digits: &str, today: Date) -> DobParse {
    let d = digits.strip_suffix('#').unwrap_or(digits);
    if d.len() != 8 || !is_numeral(d) {
        return DobParse::Invalid { reason: KEYPAD };
    }
    let (Ok(m), Ok(day), Ok(y)) = (d[..2].parse::<u8>(), d[2..4].parse::<u8>(), d[4..].parse::<i32>()) else {
        return DobParse::Invalid { reason: KEYPAD };
    };
    resolve(m, day, Some(Year::Full(y)), today)
}

/// The month number of a month name or abbreviation ("Sept", "feb").
fn month_of(w: &str) -> Option<u8> {
    let m = match w {
        "january" | "jan" => 1,
        "february" | "feb" | "febuary" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sept" | "sep" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    };
    Some(m)
}

/// The words that can be part of a date (month names and number words), in order; all
/// filler is dropped so "March, um, fifth" reads as "march fifth". Long numerals typed as one
/// word are split the US way: "03051980" into 03 05 1980, "030580" into 03 05 80.
fn date_tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let all = number_words(text);
    for (i, w) in all.iter().enumerate() {
        let after_big = out.last().is_some_and(|p| p == "hundred" || p == "thousand");
        let keep_and = w == "and" && after_big && all.get(i + 1).is_some_and(|n| is_number_word(n));
        if w == "double" || w == "triple" {
            continue;
        }
        if is_numeral(w) && (w.len() == 8 || w.len() == 6) {
            out.extend([w[..2].to_string(), w[2..4].to_string(), w[4..].to_string()]);
        } else if month_of(w).is_some() || is_number_word(w) || keep_and {
            out.push(w.clone());
        }
    }
    out
}

/// "oh five" / "zero five": a leading zero said as a word, as in "oh three oh five ninety".
fn zero_unit(t: &[String]) -> Option<u32> {
    let [z, u, ..] = t else { return None };
    if !matches!(z.as_str(), "oh" | "o" | "zero") {
        return None;
    }
    let p = parse_detail(std::slice::from_ref(u))?;
    (p.value < 10 && !p.ordinal).then_some(p.value)
}

/// Ways to read a day of the month at the start of `t`: (day, words used, said as ordinal).
/// The first option is the greedy one; "twenty five" also offers "twenty".
fn days_at(t: &[String]) -> Vec<(u8, usize, bool)> {
    if let Some(d) = zero_unit(t) {
        return u8::try_from(d).ok().filter(|d| *d > 0).map(|d| vec![(d, 2, false)]).unwrap_or_default();
    }
    let Some(p) = parse_detail(t) else {
        return Vec::new();
    };
    if t.first().is_some_and(|w| is_numeral(w) && w.len() > 2) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Ok(d) = u8::try_from(p.value)
        && (1..=31).contains(&d)
    {
        out.push((d, p.used, p.ordinal));
    }
    if p.used > 1
        && let Some(first) = parse_detail(&t[..1]).filter(|f| (1..=31).contains(&f.value))
    {
        out.push((first.value as u8, 1, first.ordinal));
    }
    out
}

/// Ways to read a month number at the start of `t` ("3", "03", "oh three", "three", "twelve").
fn months_at(t: &[String]) -> Vec<(u8, usize)> {
    if let Some(m) = zero_unit(t) {
        return (1..=9).contains(&m).then_some((m as u8, 2)).into_iter().collect();
    }
    let Some(first) = t.first() else {
        return Vec::new();
    };
    if is_numeral(first) && first.len() > 2 {
        return Vec::new();
    }
    match parse_detail(&t[..1]) {
        Some(p) if !p.ordinal && (1..=12).contains(&p.value) => vec![(p.value as u8, 1)],
        _ => Vec::new(),
    }
}

/// The longest year at the start of `t`, and the words it used.
fn year_at(t: &[String]) -> Option<(Year, usize)> {
    let first = t.first()?;
    if is_numeral(first) {
        return match first.len() {
            4 => first.parse().ok().map(|y| (Year::Full(y), 1)),
            2 => first.parse().ok().map(|y| (Year::Short(y), 1)),
            _ => None,
        };
    }
    // "two thousand and five", "nineteen hundred and two".
    if let Some(p) = parse_detail(t).filter(|p| (1000..=9999).contains(&p.value) && !p.ordinal) {
        return Some((Year::Full(p.value as i32), p.used));
    }
    // "one nine eight oh": a year read digit by digit.
    if t.len() >= 4 {
        let digits: Option<Vec<u32>> = t[..4].iter().map(|w| single_digit(w)).collect();
        if let Some(d) = digits.filter(|d| matches!(d[0], 1 | 2)) {
            return Some((Year::Full(d.iter().fold(0, |y, x| y * 10 + *x as i32)), 4));
        }
    }
    // "nineteen eighty (five)", "nineteen oh two", "twenty twelve", "twenty oh five".
    if let Some(lead) = parse_detail(&t[..1]).filter(|p| !p.ordinal && (10..=20).contains(&p.value)) {
        if let Some(u) = zero_unit(&t[1..]).filter(|u| *u > 0) {
            return Some((Year::Full((lead.value * 100 + u) as i32), 3));
        }
        // "nineteen five"; not "twenty five", which is the two-digit year 25.
        if let Some(u) = t.get(1).and_then(|w| single_digit(w)).filter(|u| *u > 0 && lead.value < 20) {
            return Some((Year::Full((lead.value * 100 + u) as i32), 2));
        }
        if let Some(lo) = parse_detail(&t[1..]).filter(|p| (10..=99).contains(&p.value) && !p.ordinal) {
            return Some((Year::Full((lead.value * 100 + lo.value) as i32), 1 + lo.used));
        }
    }
    // Two digits: "eighty", "ninety five", "oh five".
    if let Some(u) = zero_unit(t) {
        return Some((Year::Short(u), 2));
    }
    let p = parse_detail(t).filter(|p| (10..=99).contains(&p.value) && !p.ordinal)?;
    Some((Year::Short(p.value), p.used))
}

fn single_digit(w: &str) -> Option<u32> {
    match w {
        "oh" | "o" => Some(0),
        _ => parse_detail(&[w.to_string()]).filter(|p| p.value < 10 && !p.ordinal && p.used == 1).map(|p| p.value),
    }
}

/// A date whose month was named: the day is next to the month name (after it as in "March
/// fifth", or before it as in "the fifth of March"), and the year follows.
fn with_month_name(t: &[String], mi: usize, today: Date) -> DobParse {
    let month = month_of(&t[mi]).unwrap_or(0);
    let is_num = |w: &String| month_of(w).is_none();
    let b = t[..mi].iter().rposition(|w| !is_num(w)).map_or(0, |p| p + 1);
    let before = &t[b..mi];
    let a = t[mi + 1..].iter().position(|w| !is_num(w)).map_or(t.len(), |p| mi + 1 + p);
    let after = &t[mi + 1..a];

    // The day just before the month: the longest tail of `before` that is wholly a day.
    let day_before = (0..before.len()).find_map(|k| days_at(&before[k..]).into_iter().find(|d| d.1 == before.len() - k));
    let days_after = days_at(after);
    let year_rest = |used: usize| {
        let rest = &after[used..];
        if rest.is_empty() {
            // "born in 1980 on March 5th": the year came first.
            return (0..before.len()).find_map(|k| year_at(&before[k..]).filter(|y| y.1 == before.len() - k)).map(|y| y.0);
        }
        year_at(rest).map(|y| y.0)
    };

    if let Some(&(d, used, true)) = days_after.first() {
        return resolve(month, d, year_rest(used), today);
    }
    if let Some((d, _, true)) = day_before {
        return resolve(month, d, year_at(after).map(|y| y.0), today);
    }
    for &(d, used, _) in &days_after {
        if after.len() == used || year_at(&after[used..]).is_some() {
            return resolve(month, d, year_rest(used), today);
        }
    }
    if let Some((d, _, _)) = day_before {
        return resolve(month, d, year_at(after).map(|y| y.0), today);
    }
    DobParse::Invalid { reason: NO_DAY }
}

/// One way of reading a numbers-only date: where it started in the words, whether it used
/// every word from there on, and what it says.
struct Reading {
    start: usize,
    full: bool,
    month: u8,
    day: u8,
    year: Option<Year>,
}

/// A date said as numbers only, month first: "3 5 1980", "oh three oh five ninety".
/// Every reading is tried; one that uses all the words from the start wins, then one that
/// uses all words from a later start ("I'm 45, 3/5/1980"), then any.
fn numeric(t: &[String], today: Date) -> DobParse {
    let mut found: Vec<Reading> = Vec::new();
    for start in 0..t.len() {
        let s = &t[start..];
        // "1980-03-05": ISO order, only when the whole thing fits.
        if let (Some((Year::Full(y), 1)), [_, m, d]) = (year_at(s), s) {
            let m = months_at(std::slice::from_ref(m));
            let d = days_at(std::slice::from_ref(d));
            if let (Some(&(month, _)), Some(&(day, _, _))) = (m.first(), d.first()) {
                found.push(Reading { start, full: true, month, day, year: Some(Year::Full(y)) });
            }
        }
        for (month, mu) in months_at(s) {
            for (day, du, _) in days_at(&s[mu..]) {
                let rest = &s[mu + du..];
                let (year, full) = match year_at(rest) {
                    Some((y, yu)) => (Some(y), yu == rest.len()),
                    None => (None, rest.is_empty()),
                };
                found.push(Reading { start, full, month, day, year });
            }
        }
    }
    let groups: [fn(&Reading) -> bool; 3] = [|r| r.start == 0 && r.full, |r| r.full, |_| true];
    for in_group in groups {
        let results: Vec<DobParse> = found.iter().filter(|r| in_group(r)).map(|r| resolve(r.month, r.day, r.year, today)).collect();
        if let Some(first) = results.first() {
            return results.iter().find(|r| matches!(r, DobParse::Valid(_))).unwrap_or(first).clone();
        }
    }
    if year_at(t).is_some_and(|(_, used)| used == t.len()) {
        return DobParse::Invalid { reason: NO_MONTH_DAY };
    }
    DobParse::Invalid { reason: NOT_A_DATE }
}

/// Checks a month, day and maybe year as a date of birth on `today`, choosing the century
/// of a two-digit year.
fn resolve(month: u8, day: u8, year: Option<Year>, today: Date) -> DobParse {
    // Checked in a leap year first, so "February thirtieth" is refused even with no year.
    if Date::new(2000, month, day).is_none() {
        return DobParse::Invalid { reason: NO_SUCH_DAY };
    }
    let year = match year {
        None => return DobParse::MissingYear { month, day },
        Some(Year::Full(y)) => y,
        Some(Year::Short(yy)) => {
            let century = today.year - today.year.rem_euclid(100);
            // Latest century that is not in the future; at most 120 years back.
            let fits = (0..3)
                .map(|k| century - 100 * k + yy as i32)
                .find(|&y| Date::new(y, month, day).is_some_and(|d| d <= today && d.age_on(today) <= 120));
            match fits {
                Some(y) => y,
                None if month == 2 && day == 29 => return DobParse::Invalid { reason: NOT_LEAP },
                None => return DobParse::Invalid { reason: NOT_A_DATE },
            }
        }
    };
    let Some(date) = Date::new(year, month, day) else {
        let reason = if month == 2 && day == 29 { NOT_LEAP } else { NO_SUCH_DAY };
        return DobParse::Invalid { reason };
    };
    if date > today {
        return DobParse::Invalid { reason: FUTURE };
    }
    if date.age_on(today) > 120 {
        return DobParse::Invalid { reason: TOO_OLD };
    }
    DobParse::Valid(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date { year: 2026, month: 6, day: 15 };

    fn dob(text: &str) -> DobParse {
        parse_date_of_birth(text, TODAY)
    }

    /// The ISO form of a valid parse, or the whole result for a readable failure.
    fn iso(text: &str) -> String {
        match dob(text) {
            DobParse::Valid(d) => d.iso(),
            other => format!("{text:?} gave {other:?}"),
        }
    }

    fn reason(text: &str) -> &'static str {
        match dob(text) {
            DobParse::Invalid { reason } => reason,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn calendar_checks() {
        assert!(Date::new(1980, 3, 5).is_some());
        assert!(Date::new(2000, 2, 29).is_some());
        assert!(Date::new(2024, 2, 29).is_some());
        assert!(Date::new(1900, 2, 29).is_none());
        assert!(Date::new(2023, 2, 29).is_none());
        assert!(Date::new(1980, 4, 31).is_none());
        assert!(Date::new(1980, 13, 1).is_none());
        assert!(Date::new(1980, 0, 1).is_none());
        assert!(Date::new(1980, 1, 0).is_none());
        assert!(Date::new(0, 1, 1).is_none());
    }

    #[test]
    fn iso_order_and_age() {
        let d = Date { year: 1980, month: 3, day: 5 };
        assert_eq!(d.iso(), "1980-03-05");
        assert!(d < Date { year: 1980, month: 3, day: 6 });
        assert!(d < Date { year: 1980, month: 4, day: 1 });
        assert_eq!(d.age_on(TODAY), 46);
        assert_eq!(d.age_on(Date { year: 2026, month: 3, day: 4 }), 45);
        assert_eq!(d.age_on(Date { year: 2026, month: 3, day: 5 }), 46);
    }

    #[test]
    fn spoken_read_back() {
        let s = |y, m, d| Date::new(y, m, d).map(|d| d.spoken()).unwrap_or_default();
        assert_eq!(s(1980, 3, 5), "March fifth, nineteen eighty");
        assert_eq!(s(1902, 7, 21), "July twenty-first, nineteen oh two");
        assert_eq!(s(1900, 1, 1), "January first, nineteen hundred");
        assert_eq!(s(2000, 12, 31), "December thirty-first, two thousand");
        assert_eq!(s(2005, 2, 28), "February twenty-eighth, two thousand five");
        assert_eq!(s(2012, 10, 12), "October twelfth, twenty twelve");
        assert_eq!(s(2020, 5, 30), "May thirtieth, twenty twenty");
        assert_eq!(s(1999, 11, 11), "November eleventh, nineteen ninety-nine");
    }

    #[test]
    fn read_back_parses_to_the_same_date() {
        for (y, m, d) in [(1980, 3, 5), (1907, 7, 21), (2005, 2, 28), (2012, 10, 12), (1999, 11, 30), (1926, 1, 1)] {
            let date = Date { year: y, month: m, day: d };
            assert_eq!(dob(&date.spoken()), DobParse::Valid(date), "{}", date.spoken());
        }
    }

    #[test]
    fn month_name_first() {
        assert_eq!(iso("March fifth nineteen eighty"), "1980-03-05");
        assert_eq!(iso("March 5th, 1980"), "1980-03-05");
        assert_eq!(iso("March 5th, 1980."), "1980-03-05");
        assert_eq!(iso("march the fifth 1980"), "1980-03-05");
        assert_eq!(iso("it's march 5 1980"), "1980-03-05");
        assert_eq!(iso("March 5, 1980"), "1980-03-05");
        assert_eq!(iso("I was born on March 5th, 1980."), "1980-03-05");
        assert_eq!(iso("March twenty-first, nineteen eighty-five"), "1985-03-21");
        assert_eq!(iso("March twenty first nineteen eighty five"), "1985-03-21");
        assert_eq!(iso("March twenty three, nineteen eighty"), "1980-03-23");
        assert_eq!(iso("March nineteen, nineteen eighty"), "1980-03-19");
    }

    #[test]
    fn day_first() {
        assert_eq!(iso("the fifth of March, 1980"), "1980-03-05");
        assert_eq!(iso("5th of March 1980"), "1980-03-05");
        assert_eq!(iso("fifth March nineteen eighty"), "1980-03-05");
        assert_eq!(iso("The twenty-first of July, nineteen oh seven."), "1907-07-21");
        assert_eq!(iso("5 March 1980"), "1980-03-05");
    }

    #[test]
    fn abbreviations() {
        assert_eq!(iso("Sept. 9th, 1975"), "1975-09-09");
        assert_eq!(iso("Feb. 2, 1990"), "1990-02-02");
        assert_eq!(iso("Dec 31 1969"), "1969-12-31");
        assert_eq!(iso("Jan 1st, 2000"), "2000-01-01");
    }

    #[test]
    fn filler_does_not_confuse() {
        assert_eq!(iso("uh, let me think, it's March, um, fifth, 1980"), "1980-03-05");
        assert_eq!(iso("Oh, it's March 5th, 1980."), "1980-03-05");
        assert_eq!(iso("I'm 45, born March 5th 1980"), "1980-03-05");
        assert_eq!(iso("First, it's March fifth 1980"), "1980-03-05");
        assert_eq!(iso("I may have said it wrong, it's May 5th, 1980"), "1980-05-05");
        assert_eq!(iso("I was born in 1980, on March 5th"), "1980-03-05");
    }

    #[test]
    fn numeric_forms() {
        assert_eq!(iso("3/5/1980"), "1980-03-05");
        assert_eq!(iso("03-05-80"), "1980-03-05");
        assert_eq!(iso("3 5 1980"), "1980-03-05");
        assert_eq!(iso("03/05/1980."), "1980-03-05");
        assert_eq!(iso("03051980"), "1980-03-05");
        assert_eq!(iso("030580"), "1980-03-05");
        assert_eq!(iso("12/25/2001"), "2001-12-25");
        assert_eq!(iso("1980-03-05"), "1980-03-05");
        assert_eq!(iso("I'm 45, it's 3/5/1980"), "1980-03-05");
    }

    #[test]
    fn spoken_digit_pairs() {
        assert_eq!(iso("oh three oh five ninety"), "1990-03-05");
        assert_eq!(iso("zero three zero five nineteen ninety"), "1990-03-05");
        assert_eq!(iso("three five nineteen eighty"), "1980-03-05");
        assert_eq!(iso("twelve twenty five eighty"), "1980-12-25");
        assert_eq!(iso("oh three oh five one nine eight oh"), "1980-03-05");
    }

    #[test]
    fn year_shapes() {
        assert_eq!(iso("July 4th, nineteen oh seven"), "1907-07-04");
        // 1902 is a year shape we read, but too long ago for a living patient in 2026.
        assert_eq!(reason("July 4th, nineteen oh two"), TOO_OLD);
        let in_1990 = Date { year: 1990, month: 1, day: 1 };
        assert_eq!(parse_date_of_birth("July 4th, nineteen oh two", in_1990), DobParse::Valid(Date { year: 1902, month: 7, day: 4 }));
        assert_eq!(iso("July 4th, two thousand five"), "2005-07-04");
        assert_eq!(iso("July 4th, two thousand and five"), "2005-07-04");
        assert_eq!(iso("July 4th, twenty oh five"), "2005-07-04");
        assert_eq!(iso("July 4th, twenty twelve"), "2012-07-04");
        assert_eq!(iso("July 4th, 2012"), "2012-07-04");
        assert_eq!(iso("July 4th, nineteen hundred and ten"), "1910-07-04");
        assert_eq!(reason("July 4th, nineteen hundred"), TOO_OLD);
        assert_eq!(parse_date_of_birth("July 4th, nineteen hundred", in_1990), DobParse::Valid(Date { year: 1900, month: 7, day: 4 }));
        assert_eq!(iso("July fourth, nineteen ten"), "1910-07-04");
        assert_eq!(iso("July fourth, nineteen five"), "1905-07-04");
        assert_eq!(iso("July fourth, twenty five"), "2025-07-04");
        assert_eq!(iso("July fourth, twenty twenty"), "2020-07-04");
        assert_eq!(iso("1980, March 5"), "1980-03-05");
    }

    #[test]
    fn two_digit_years_take_the_sensible_century() {
        assert_eq!(iso("March 5th, eighty"), "1980-03-05");
        assert_eq!(iso("March 5th, '80"), "1980-03-05");
        assert_eq!(iso("March 5th, 90"), "1990-03-05");
        assert_eq!(iso("March 5th, 05"), "2005-03-05");
        assert_eq!(iso("March 5th, oh five"), "2005-03-05");
        // Today is June 15th 2026: a 26 date before it is this year, after it a century ago.
        assert_eq!(iso("March 5th, 26"), "2026-03-05");
        assert_eq!(iso("July 5th, 26"), "1926-07-05");
        assert_eq!(iso("June 15th, 26"), "2026-06-15");
        assert_eq!(iso("June 16th, 26"), "1926-06-16");
        assert_eq!(iso("July 5th, 27"), "1927-07-05");
    }

    #[test]
    fn missing_year() {
        assert_eq!(dob("March fifth"), DobParse::MissingYear { month: 3, day: 5 });
        assert_eq!(dob("the 5th of March."), DobParse::MissingYear { month: 3, day: 5 });
        assert_eq!(dob("3/5"), DobParse::MissingYear { month: 3, day: 5 });
        assert_eq!(dob("February 29th"), DobParse::MissingYear { month: 2, day: 29 });
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert_eq!(reason("February thirtieth, 1980"), NO_SUCH_DAY);
        assert_eq!(reason("February thirtieth"), NO_SUCH_DAY);
        assert_eq!(reason("April 31st 1990"), NO_SUCH_DAY);
        assert_eq!(reason("2/30/1980"), NO_SUCH_DAY);
        assert_eq!(reason("February 29th, 1981"), NOT_LEAP);
        assert_eq!(iso("February 29th, 1980"), "1980-02-29");
    }

    #[test]
    fn future_and_too_old_are_refused() {
        assert_eq!(reason("March 5th, 2030"), FUTURE);
        assert_eq!(reason("December 1st, 2026"), FUTURE);
        assert_eq!(reason("March 5th, 1890"), TOO_OLD);
        // Today is June 15th 2026: 120 today is fine, 121 is not.
        assert_eq!(reason("June 15th, 1905"), TOO_OLD);
        assert_eq!(iso("June 16th, 1905"), "1905-06-16");
    }

    #[test]
    fn incomplete_or_unreadable() {
        assert_eq!(reason("March 1980"), NO_DAY);
        assert_eq!(reason("nineteen eighty"), NO_MONTH_DAY);
        assert_eq!(reason("13/45/1980"), NOT_A_DATE);
        assert_eq!(reason("December"), NO_MONTH_DAY);
        assert_eq!(dob("I'm not sure"), DobParse::Nothing);
        assert_eq!(dob(""), DobParse::Nothing);
        assert_eq!(dob("I may be wrong"), DobParse::Nothing);
    }

    #[test]
    fn keypad_entry() {
        assert_eq!(parse_dtmf_date("03051980", TODAY), DobParse::Valid(Date { year: 1980, month: 3, day: 5 }));
        assert_eq!(parse_dtmf_date("03051980#", TODAY), DobParse::Valid(Date { year: 1980, month: 3, day: 5 }));
        assert_eq!(parse_dtmf_date("02301980#", TODAY), DobParse::Invalid { reason: NO_SUCH_DAY });
        assert_eq!(parse_dtmf_date("13051980", TODAY), DobParse::Invalid { reason: NO_SUCH_DAY });
        assert_eq!(parse_dtmf_date("03052030", TODAY), DobParse::Invalid { reason: FUTURE });
        assert_eq!(parse_dtmf_date("03051880", TODAY), DobParse::Invalid { reason: TOO_OLD });
        assert_eq!(parse_dtmf_date("030580", TODAY), DobParse::Invalid { reason: KEYPAD });
        assert_eq!(parse_dtmf_date("0305198#", TODAY), DobParse::Invalid { reason: KEYPAD });
        assert_eq!(parse_dtmf_date("", TODAY), DobParse::Invalid { reason: KEYPAD });
        assert_eq!(parse_dtmf_date("#", TODAY), DobParse::Invalid { reason: KEYPAD });
        assert_eq!(parse_dtmf_date("０３051980", TODAY), DobParse::Invalid { reason: KEYPAD });
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = dob(&s);
            let _ = parse_dtmf_date(&s, TODAY);
        }

        #[test]
        fn digit_strings_never_panic(s in "[0-9/#' -]{0,20}") {
            let _ = dob(&s);
            let _ = parse_dtmf_date(&s, TODAY);
        }

        #[test]
        fn date_like_words_never_panic(
            s in "(march|feb|the|of|oh|zero|first|twenty|nineteen|hundred|thousand|and|two|[0-9]{1,8}| ){0,12}"
        ) {
            if let DobParse::Valid(d) = dob(&s) {
                proptest::prop_assert!(d <= TODAY && d.age_on(TODAY) <= 120);
            }
        }

        #[test]
        fn keypad_round_trip(y in 1906i32..2026, m in 1u8..=12, d in 1u8..=28) {
            let typed = format!("{m:02}{d:02}{y:04}#");
            let want = Date { year: y, month: m, day: d };
            proptest::prop_assert_eq!(parse_dtmf_date(&typed, TODAY), DobParse::Valid(want));
            proptest::prop_assert_eq!(dob(&want.spoken()), DobParse::Valid(want));
        }
    }
}
