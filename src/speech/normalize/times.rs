//! Clock times and ranges of them ("9:00-5:00", "10:30 a.m.", "14:30").
//!
//! The suffix is spelled "a m"/"p m" so that the voice says the letters; a
//! bare "9" is only a time inside a range with a real time ("9-11 am").

use super::numerals::{ONES, below_100};
use super::tokens::{Tok, abbrev_dot, dash_after, is_sym, left_clean, num, skip_space, word};
use super::{Hit, hit};

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
        "a" | "p" if is_sym(t, j + 1, '.') && word(t, j + 2).is_some_and(|m| m.eq_ignore_ascii_case("m")) => {
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
    clean.then_some(Clock { hour, minute, colon, leading_zero: h.len() == 2 && h.starts_with('0'), meridiem, end })
}

/// "ten thirty a m", "ten oh five p m", "ten a m", "ten o'clock".
fn clock_words(c: &Clock, in_range: bool) -> String {
    let twenty_four = c.meridiem.is_none() && c.colon && (c.hour == 0 || c.hour >= 13 || c.leading_zero);
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
pub(super) fn rule_time(t: &[Tok], i: usize) -> Option<Hit> {
    if !left_clean(t, i) {
        return None;
    }
    let first = clock_at(t, i)?;
    if let Some(k) = dash_after(t, first.end)
        && let Some(last) = clock_at(t, k)
        && (first.strict() || last.strict())
    {
        let text = format!("{} to {}", clock_words(&first, true), clock_words(&last, true));
        return hit(last.end, text);
    }
    first.strict().then(|| Hit { end: first.end, text: clock_words(&first, false) })
}

#[cfg(test)]
mod tests {
    use crate::speech::normalize::tests::check;

    #[test]
    fn time_am_variants() {
        for input in ["10:30 AM", "10:30am", "10:30 a.m.", "10:30 A.M.", "10:30 a.m", "10:30AM"] {
            let expected = if input.ends_with("m.") || input.ends_with("M.") { "ten thirty a m." } else { "ten thirty a m" };
            check(input, expected);
        }
    }

    #[test]
    fn time_am_mid_sentence() {
        check("at 10:30 a.m. tomorrow", "at ten thirty a m tomorrow");
        check("at 10:30 a.m. See you then.", "at ten thirty a m. See you then.");
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
        check("Mon-Fri 8:30 am-5 pm.", "Monday to Friday eight thirty a m to five p m.");
    }

    #[test]
    fn time_lookalikes() {
        check("I am 5", "I am five");
        check("at 5", "at five");
        check("10:30:15", "ten:thirty:fifteen");
    }
}
