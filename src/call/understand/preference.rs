//! When a caller would like their appointment: "Tuesday or Thursday mornings", "any weekday
//! after 3", "as soon as possible".
//!
//! The result narrows the slot search and is read back ("Tuesday or Thursday, in the
//! morning"), so it keeps only what the scheduler can use: a set of weekdays, one part of the
//! day, and whether the caller wants the soonest slot. Anything finer stays in `text` for a
//! human. Absolute dates ("March 5th") are the dates parser's job, not this one's.

use super::words::words;

/// A day of the week, as callers name them. Our own type so this module needs no date crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// All days, Monday first, for iterating and ranges.
    pub const ALL: [Weekday; 7] =
        [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday, Weekday::Saturday, Weekday::Sunday];

    /// The day's English name, for read-back: "Tuesday".
    pub fn name(&self) -> &'static str {
        match self {
            Weekday::Monday => "Monday",
            Weekday::Tuesday => "Tuesday",
            Weekday::Wednesday => "Wednesday",
            Weekday::Thursday => "Thursday",
            Weekday::Friday => "Friday",
            Weekday::Saturday => "Saturday",
            Weekday::Sunday => "Sunday",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The day a caller's word names: "tuesday", "tuesdays", "tues", "thurs", "weds".
    fn from_word(word: &str) -> Option<Weekday> {
        let w = word.trim_end_matches("'s");
        let w = if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") { &w[..w.len() - 1] } else { w };
        let day = match w {
            "monday" | "mon" => Weekday::Monday,
            "tuesday" | "tue" | "tues" => Weekday::Tuesday,
            "wednesday" | "wed" | "wensday" | "wendsday" => Weekday::Wednesday,
            "thursday" | "thu" | "thur" | "thurs" => Weekday::Thursday,
            "friday" | "fri" => Weekday::Friday,
            "saturday" | "sat" => Weekday::Saturday,
            "sunday" | "sun" => Weekday::Sunday,
            _ => return None,
        };
        Some(day)
    }
}

/// A broad part of the day, as callers ask for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PartOfDay {
    /// Before noon.
    Morning,
    /// Noon to about 5 pm.
    Afternoon,
    /// About 5 pm on.
    Evening,
}

impl PartOfDay {
    fn phrase(self) -> &'static str {
        match self {
            PartOfDay::Morning => "in the morning",
            PartOfDay::Afternoon => "in the afternoon",
            PartOfDay::Evening => "in the evening",
        }
    }

    /// The part of day an hour (0-23) falls in.
    fn of_hour(hour: u32) -> PartOfDay {
        match hour {
            0..=11 => PartOfDay::Morning,
            12..=16 => PartOfDay::Afternoon,
            _ => PartOfDay::Evening,
        }
    }
}

/// What a caller said about when they would like to come in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimePreference {
    /// Acceptable days, Monday first, no repeats. Empty means any day.
    pub days: Vec<Weekday>,
    /// Preferred part of the day; None means any (or several were named).
    pub part_of_day: Option<PartOfDay>,
    /// The caller wants the earliest slot ("as soon as possible", "today", "first available").
    pub soonest: bool,
    /// The caller's words, unchanged, for a human and for the record.
    pub text: String,
}

/// Words that make the following days or parts of day unwanted ("except Friday", "not
/// mornings", "can't do Mondays").
#[rustfmt::skip]
const EXCLUDE_BEFORE: &[&str] = &[
    "except", "not", "no", "besides", "cannot", "can't", "cant", "excluding", "avoid", "never",
    "aside",
];

/// Words that make the preceding day or part unwanted ("Mondays don't work", "Friday's bad").
const EXCLUDE_AFTER: &[&str] = &["don't", "doesn't", "won't", "not", "no", "bad", "busy", "can't", "isn't", "aren't", "out"];

/// After a negation these words make it a hedge, not an exclusion ("not sure", "doesn't
/// matter", "don't mind").
const HEDGES: &[&str] = &["sure", "matter", "mind", "care", "know", "picky"];

/// Whole-phrase markers of wanting the earliest slot.
#[rustfmt::skip]
const SOONEST: &[&[&str]] = &[
    &["as", "soon", "as"], &["asap"], &["a", "s", "a", "p"], &["soonest"], &["earliest"],
    &["first", "available"], &["next", "available"], &["right", "away"], &["today"], &["tomorrow"],
    &["tonight"], &["urgent"], &["urgently"], &["sooner", "the", "better"], &["as", "early", "as"],
    &["first", "opening"], &["next", "opening"], &["this", "week"], &["right", "now"],
];

#[rustfmt::skip]
const NUMBER_WORDS: &[(&str, u32)] = &[
    ("one", 1), ("two", 2), ("three", 3), ("four", 4), ("five", 5), ("six", 6), ("seven", 7),
    ("eight", 8), ("nine", 9), ("ten", 10), ("eleven", 11), ("twelve", 12), ("noon", 12),
    ("midday", 12), ("lunch", 12), ("lunchtime", 12),
];

/// An hour a caller names, on a 24-hour clock: "3", "3pm", "10am", "three", "noon" followed
/// perhaps by "a m"/"p m"/"o'clock". Bare hours 1-6 are afternoon (clinic hours), 7-11
/// morning, 12 noon. Returns the hour and how many tokens it used.
fn hour_at(toks: &[String], i: usize) -> Option<(u32, usize)> {
    let w = toks.get(i)?.as_str();
    let (digits, suffix): (String, String) =
        (w.chars().take_while(char::is_ascii_digit).collect(), w.chars().skip_while(char::is_ascii_digit).collect());
    let (hour, mut used) = if !digits.is_empty() {
        let n: u32 = digits.parse().ok()?;
        // "330" or "1530": Whisper drops the colon sometimes.
        let n = if n >= 100 { n / 100 } else { n };
        (n, 1)
    } else {
        let &(_, n) = NUMBER_WORDS.iter().find(|(name, _)| *name == w)?;
        (n, 1)
    };
    if hour > 23 {
        return None;
    }
    // A minutes token after the hour: "3 30", "3:30" ("3", "30").
    if toks.get(i + used).is_some_and(|m| m.len() == 2 && m.chars().all(|c| c.is_ascii_digit())) {
        used += 1;
    }
    let next = toks.get(i + used).map(String::as_str);
    let after_next = toks.get(i + used + 1).map(String::as_str);
    let meridiem = match (suffix.as_str(), next, after_next) {
        ("am", _, _) => Some(false),
        ("pm", _, _) => Some(true),
        (_, Some("am"), _) => {
            used += 1;
            Some(false)
        }
        (_, Some("pm"), _) => {
            used += 1;
            Some(true)
        }
        (_, Some("a"), Some("m")) => {
            used += 2;
            Some(false)
        }
        (_, Some("p"), Some("m")) => {
            used += 2;
            Some(true)
        }
        _ => None,
    };
    let hour24 = match meridiem {
        Some(true) if hour < 12 => hour + 12,
        Some(false) if hour == 12 => 0,
        Some(_) => hour,
        None if hour >= 13 => hour,
        None if (1..=6).contains(&hour) => hour + 12,
        None => hour,
    };
    Some((hour24, used))
}

/// Reads a caller's scheduling preference. Understands:
/// - days: "Tuesday or Thursday", "Tuesdays", "Tues", "Monday through Wednesday",
///   "Mon-Wed", "between Monday and Wednesday", "weekdays", "weekends", "early next week"
///   (Monday, Tuesday), "midweek" (Wednesday), "end of the week" (Thursday, Friday);
/// - exclusions: "any weekday except Friday", "not Mondays", "Mondays don't work", "can't do
///   mornings" (only mornings excluded means afternoon; only afternoons or evenings excluded
///   means morning);
/// - parts of day: "mornings", "afternoon", "evening", "first thing", "after lunch", "before
///   noon", "after 3" (afternoon), "after 5" (evening), "before 11" (morning), "at 10 a.m.";
///   two different parts named ("mornings or evenings") means no preference;
/// - soonest: "as soon as possible", "ASAP", "first available", "earliest", "today",
///   "tomorrow", "this week";
/// - no preference: "anytime", "whenever", "doesn't matter" give an empty preference.
///
/// Days are relative names only; "tomorrow"/"today" set `soonest` because this module does not
/// know the date.
pub fn parse_preference(text: &str) -> TimePreference {
    let mut included: Vec<Weekday> = Vec::new();
    let mut excluded: Vec<Weekday> = Vec::new();
    let mut parts_in: Vec<PartOfDay> = Vec::new();
    let mut parts_out: Vec<PartOfDay> = Vec::new();
    let mut soonest = false;

    for clause in clauses(text) {
        let toks = clause_tokens(&clause);
        if SOONEST.iter().any(|p| contains(&toks, p)) {
            soonest = true;
        }
        // Each mention: (token index, what it adds).
        let mut mentions: Vec<(usize, Mention)> = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let (mention, used) = mention_at(&toks, i);
            if let Some(m) = mention {
                mentions.push((i, m));
            }
            i += used.max(1);
        }
        for (k, (at, mention)) in mentions.iter().enumerate() {
            let next_mention = mentions.get(k + 1).map_or(toks.len(), |(j, _)| *j);
            let excluded_here = excluded_before(&toks, *at) || excluded_after(&toks, *at, next_mention);
            match mention {
                Mention::Days(days) if excluded_here => excluded.extend(days),
                Mention::Days(days) => included.extend(days),
                Mention::Part(p) if excluded_here => parts_out.push(*p),
                Mention::Part(p) => parts_in.push(*p),
            }
        }
    }

    let mut days: Vec<Weekday> = if included.is_empty() && !excluded.is_empty() { Weekday::ALL.to_vec() } else { included };
    days.retain(|d| !excluded.contains(d));
    days.sort();
    days.dedup();

    parts_in.dedup();
    let part_of_day = match (parts_in.as_slice(), parts_out.as_slice()) {
        ([only], _) => Some(*only),
        ([], []) => None,
        ([], out) if out.iter().all(|p| *p == PartOfDay::Morning) => Some(PartOfDay::Afternoon),
        ([], out) if !out.contains(&PartOfDay::Morning) => Some(PartOfDay::Morning),
        _ => None,
    };

    TimePreference { days, part_of_day, soonest, text: text.trim().to_string() }
}

/// Splits at , ; ! ? and at full stops that end a word of two or more letters or digits, so
/// "3 p.m." and "A.S.A.P." stay whole while "Not Monday. Tuesday works." is two clauses.
fn clauses(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut word_len = 0;
    for c in text.chars() {
        let Some(current) = out.last_mut() else { break };
        let boundary = match c {
            ',' | ';' | '!' | '?' => true,
            '.' => word_len >= 2,
            _ => false,
        };
        word_len = if c.is_alphanumeric() { word_len + 1 } else { 0 };
        if boundary {
            out.push(String::new());
        } else {
            current.push(if c == '.' { ' ' } else { c });
        }
    }
    out
}

/// Something a clause says about days or time of day.
#[derive(Clone, Debug, PartialEq)]
enum Mention {
    Days(Vec<Weekday>),
    Part(PartOfDay),
}

/// Words of one clause, with "monday-wednesday" split into "monday", "through", "wednesday".
fn clause_tokens(clause: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in words(clause) {
        if w.contains('-') {
            let parts: Vec<&str> = w.split('-').collect();
            if parts.iter().all(|p| Weekday::from_word(p).is_some()) {
                for (k, p) in parts.iter().enumerate() {
                    if k > 0 {
                        out.push("through".to_string());
                    }
                    out.push((*p).to_string());
                }
                continue;
            }
            out.extend(parts.iter().filter(|p| !p.is_empty()).map(|p| p.to_string()));
            continue;
        }
        out.push(w);
    }
    out
}

fn starts_with(toks: &[String], phrase: &[&str]) -> bool {
    toks.len() >= phrase.len() && phrase.iter().zip(toks).all(|(p, t)| t == p)
}

fn contains(toks: &[String], phrase: &[&str]) -> bool {
    (0..toks.len()).any(|i| starts_with(&toks[i..], phrase))
}

const RANGE_WORDS: &[&str] = &["through", "thru", "to", "till", "til", "until", "and"];

/// The mention starting at token `i`, if any, and how many tokens it covers.
fn mention_at(toks: &[String], i: usize) -> (Option<Mention>, usize) {
    let w = toks[i].as_str();
    let rest = &toks[i..];
    let prev = i.checked_sub(1).map(|p| toks[p].as_str());

    if let Some(day) = Weekday::from_word(w) {
        // Ranges: "Monday through Wednesday"; "and" only after "between" or "from".
        if let (Some(range), Some(end)) = (rest.get(1), rest.get(2).and_then(|e| Weekday::from_word(e))) {
            let is_range = RANGE_WORDS.contains(&range.as_str()) && (range != "and" || matches!(prev, Some("between" | "from")));
            if is_range {
                return (Some(Mention::Days(day_range(day, end))), 3);
            }
        }
        return (Some(Mention::Days(vec![day])), 1);
    }
    let weekdays = || Weekday::ALL[..5].to_vec();
    let weekend = || vec![Weekday::Saturday, Weekday::Sunday];
    match w {
        "weekday" | "weekdays" | "workday" | "workdays" => {
            return (Some(Mention::Days(weekdays())), 1);
        }
        "weekend" | "weekends" => return (Some(Mention::Days(weekend())), 1),
        "midweek" => return (Some(Mention::Days(vec![Weekday::Wednesday])), 1),
        _ => {}
    }
    // Parts of the week: "early next week", "beginning of the week", "end of the week".
    let week_ahead = |n: usize| toks[i + 1..].iter().take(n).any(|t| t == "week");
    match w {
        "early" | "beginning" | "start" if week_ahead(4) => {
            return (Some(Mention::Days(vec![Weekday::Monday, Weekday::Tuesday])), 1);
        }
        "late" | "later" | "end" if week_ahead(4) => {
            return (Some(Mention::Days(vec![Weekday::Thursday, Weekday::Friday])), 1);
        }
        "mid" | "middle" if week_ahead(3) => {
            return (Some(Mention::Days(vec![Weekday::Wednesday])), 1);
        }
        _ => {}
    }

    // Times of day relative to an hour: "after 3", "before noon", "by 11".
    if matches!(w, "after" | "before" | "by" | "past" | "from" | "at" | "around" | "about")
        && let Some((hour, used)) = hour_at(toks, i + 1)
    {
        let is_lunch = matches!(toks[i + 1].as_str(), "lunch" | "lunchtime");
        let part = match w {
            "after" | "past" | "from" if is_lunch => Some(PartOfDay::Afternoon),
            "after" | "past" | "from" if hour >= 17 => Some(PartOfDay::Evening),
            "after" | "past" | "from" if hour >= 12 => Some(PartOfDay::Afternoon),
            "after" | "past" | "from" => None,
            "before" | "by" if hour <= 13 => Some(PartOfDay::Morning),
            "before" | "by" => None,
            _ if is_lunch || hour == 12 => None,
            _ => Some(PartOfDay::of_hour(hour)),
        };
        return (part.map(Mention::Part), 1 + used);
    }
    // A bare hour with am/pm: "10 a.m.", "3pm".
    if w.chars().next().is_some_and(|c| c.is_ascii_digit())
        && let Some((hour, used)) = hour_at(toks, i)
        && (used > 1 || w.ends_with("am") || w.ends_with("pm"))
    {
        return (Some(Mention::Part(PartOfDay::of_hour(hour))), used);
    }

    let part = match w {
        "morning" | "mornings" | "am" | "a.m" => Some(PartOfDay::Morning),
        "afternoon" | "afternoons" => Some(PartOfDay::Afternoon),
        "evening" | "evenings" | "night" | "nights" | "tonight" => Some(PartOfDay::Evening),
        "first" if rest.get(1).is_some_and(|t| t == "thing") => Some(PartOfDay::Morning),
        "early" if !week_ahead(4) && rest.get(1).is_none_or(|t| !matches!(t.as_str(), "afternoon" | "evening")) => Some(PartOfDay::Morning),
        "late" if !week_ahead(4) && rest.get(1).is_none_or(|t| !matches!(t.as_str(), "morning")) => Some(PartOfDay::Afternoon),
        "work" if prev == Some("after") => Some(PartOfDay::Evening),
        "school" if prev == Some("after") => Some(PartOfDay::Afternoon),
        _ => None,
    };
    // "early morning" and "first thing in the morning" are one mention.
    let used = match (w, rest.get(1).map(String::as_str)) {
        ("early", Some("morning" | "mornings")) | ("late", Some("afternoon" | "afternoons")) => 2,
        ("first", Some("thing")) => {
            if starts_with(&rest[2..], &["in", "the", "morning"]) {
                5
            } else {
                2
            }
        }
        _ => 1,
    };
    (part.map(Mention::Part), used)
}

/// Days from `start` to `end` inclusive, wrapping past Sunday ("Friday through Monday").
fn day_range(start: Weekday, end: Weekday) -> Vec<Weekday> {
    let mut days = Vec::new();
    let mut k = start.index();
    for _ in 0..7 {
        days.push(Weekday::ALL[k]);
        if k == end.index() {
            break;
        }
        k = (k + 1) % 7;
    }
    days
}

fn is_negation(toks: &[String], k: usize, words: &[&str]) -> bool {
    words.contains(&toks[k].as_str()) && toks.get(k + 1).is_none_or(|n| !HEDGES.contains(&n.as_str()))
}

/// An exclusion word earlier in the clause, or "anything but"/"any day but".
fn excluded_before(toks: &[String], at: usize) -> bool {
    (0..at).any(|k| {
        is_negation(toks, k, EXCLUDE_BEFORE)
            || (toks[k] == "but" && k > 0 && matches!(toks[k - 1].as_str(), "anything" | "any" | "day" | "everything" | "all"))
            || (toks[k] == "other" && toks.get(k + 1).is_some_and(|t| t == "than"))
    })
}

/// A negative right after the mention, before the next mention ("Mondays don't work",
/// "Friday's no good").
fn excluded_after(toks: &[String], at: usize, until: usize) -> bool {
    let end = until.min(at + 4).min(toks.len());
    (at + 1..end).any(|k| is_negation(toks, k, EXCLUDE_AFTER))
}

impl TimePreference {
    /// The preference as the agent reads it back: "Tuesday or Thursday, in the morning",
    /// "any weekday, in the afternoon", "as soon as possible", "any time".
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.soonest {
            parts.push("as soon as possible".to_string());
        }
        if !self.days.is_empty() {
            parts.push(describe_days(&self.days));
        }
        if let Some(p) = self.part_of_day {
            parts.push(p.phrase().to_string());
        }
        if parts.is_empty() {
            return "any time".to_string();
        }
        parts.join(", ")
    }
}

/// "Monday to Wednesday", "Tuesday or Thursday", "any weekday", "the weekend".
fn describe_days(days: &[Weekday]) -> String {
    let set: Vec<usize> = days.iter().map(|d| d.index()).collect();
    match set.as_slice() {
        [0, 1, 2, 3, 4] => return "any weekday".to_string(),
        [5, 6] => return "the weekend".to_string(),
        [0, 1, 2, 3, 4, 5, 6] => return "any day".to_string(),
        _ => {}
    }
    // Group consecutive days; three or more read as a range.
    let mut items: Vec<String> = Vec::new();
    let mut k = 0;
    while k < set.len() {
        let mut end = k;
        while end + 1 < set.len() && set[end + 1] == set[end] + 1 {
            end += 1;
        }
        if end - k >= 2 {
            items.push(format!("{} to {}", Weekday::ALL[set[k]].name(), Weekday::ALL[set[end]].name()));
        } else {
            items.extend(set[k..=end].iter().map(|&d| Weekday::ALL[d].name().to_string()));
        }
        k = end + 1;
    }
    match items.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {}", rest.join(", "), last),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::Weekday::*;
    use super::*;
    use proptest::prelude::*;

    fn pref(text: &str) -> (Vec<Weekday>, Option<PartOfDay>, bool) {
        let p = parse_preference(text);
        (p.days, p.part_of_day, p.soonest)
    }

    #[test]
    fn brief_examples() {
        assert_eq!(pref("Tuesday or Thursday mornings."), (vec![Tuesday, Thursday], Some(PartOfDay::Morning), false));
        assert_eq!(pref("Any weekday after 3."), (vec![Monday, Tuesday, Wednesday, Thursday, Friday], Some(PartOfDay::Afternoon), false));
        assert_eq!(pref("Weekends."), (vec![Saturday, Sunday], None, false));
        assert_eq!(pref("Monday through Wednesday."), (vec![Monday, Tuesday, Wednesday], None, false));
        assert_eq!(pref("As soon as possible."), (vec![], None, true));
        assert_eq!(pref("Early next week."), (vec![Monday, Tuesday], None, false));
        assert_eq!(pref("Anytime."), (vec![], None, false));
    }

    #[test]
    fn days() {
        assert_eq!(pref("Uh, Tuesdays, I guess.").0, vec![Tuesday]);
        assert_eq!(pref("Mon-Wed").0, vec![Monday, Tuesday, Wednesday]);
        assert_eq!(pref("Monday to Friday").0, vec![Monday, Tuesday, Wednesday, Thursday, Friday]);
        assert_eq!(pref("Anywhere between Monday and Wednesday.").0, vec![Monday, Tuesday, Wednesday]);
        assert_eq!(pref("Friday through Monday").0, vec![Monday, Friday, Saturday, Sunday]);
        assert_eq!(pref("Monday and Wednesday").0, vec![Monday, Wednesday]);
        assert_eq!(pref("This Friday or next Tuesday.").0, vec![Tuesday, Friday]);
        assert_eq!(pref("Thurs or Fri").0, vec![Thursday, Friday]);
        assert_eq!(pref("Later in the week.").0, vec![Thursday, Friday]);
        assert_eq!(pref("End of the week.").0, vec![Thursday, Friday]);
        assert_eq!(pref("Sometime midweek.").0, vec![Wednesday]);
        assert_eq!(pref("Weekdays only.").0.len(), 5);
    }

    #[test]
    fn exclusions() {
        assert_eq!(pref("Any weekday except Friday.").0, vec![Monday, Tuesday, Wednesday, Thursday]);
        assert_eq!(pref("Anything but Monday.").0, vec![Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday]);
        assert!(!pref("Not Mondays.").0.contains(&Monday));
        assert_eq!(pref("Mondays don't work for me, but Tuesday is fine.").0, vec![Tuesday]);
        assert_eq!(pref("Tuesday, but not Thursday.").0, vec![Tuesday]);
        assert_eq!(pref("I can't do mornings.").1, Some(PartOfDay::Afternoon));
        assert_eq!(pref("No afternoons.").1, Some(PartOfDay::Morning));
        assert_eq!(pref("I'm not sure, maybe Tuesday.").0, vec![Tuesday]);
        assert_eq!(pref("Doesn't matter, Tuesday is good.").0, vec![Tuesday]);
    }

    #[test]
    fn parts_of_day() {
        assert_eq!(pref("Mornings.").1, Some(PartOfDay::Morning));
        assert_eq!(pref("In the afternoon.").1, Some(PartOfDay::Afternoon));
        assert_eq!(pref("Evenings, after work.").1, Some(PartOfDay::Evening));
        assert_eq!(pref("After 5.").1, Some(PartOfDay::Evening));
        assert_eq!(pref("After three.").1, Some(PartOfDay::Afternoon));
        assert_eq!(pref("After 3:30 p.m.").1, Some(PartOfDay::Afternoon));
        assert_eq!(pref("Before noon.").1, Some(PartOfDay::Morning));
        assert_eq!(pref("Before 11.").1, Some(PartOfDay::Morning));
        assert_eq!(pref("After lunch.").1, Some(PartOfDay::Afternoon));
        assert_eq!(pref("First thing in the morning.").1, Some(PartOfDay::Morning));
        assert_eq!(pref("Early.").1, Some(PartOfDay::Morning));
        assert_eq!(pref("Late afternoon.").1, Some(PartOfDay::Afternoon));
        assert_eq!(pref("Around 10 a.m.").1, Some(PartOfDay::Morning));
        assert_eq!(pref("At 2pm on Friday.").1, Some(PartOfDay::Afternoon));
        assert_eq!(pref("Mornings or evenings.").1, None);
        assert_eq!(pref("After 10.").1, None);
        assert_eq!(pref("Tuesday.").1, None);
    }

    #[test]
    fn soonest() {
        for text in [
            "ASAP.",
            "A.S.A.P.",
            "The first available.",
            "Whatever's soonest.",
            "Today if possible.",
            "Tomorrow morning.",
            "The earliest you have.",
        ] {
            assert!(parse_preference(text).soonest, "{text}");
        }
        assert!(!parse_preference("Next Tuesday.").soonest);
        assert_eq!(pref("Tomorrow morning.").1, Some(PartOfDay::Morning));
    }

    #[test]
    fn no_preference() {
        for text in ["Anytime.", "Any time.", "Whenever.", "Doesn't matter.", "I'm flexible.", "", "Um."] {
            assert_eq!(pref(text), (vec![], None, false), "{text}");
        }
    }

    #[test]
    fn keeps_text() {
        assert_eq!(parse_preference("  Tuesday or Thursday mornings. ").text, "Tuesday or Thursday mornings.");
    }

    #[test]
    fn summaries() {
        let s = |t: &str| parse_preference(t).summary();
        assert_eq!(s("Tuesday or Thursday mornings."), "Tuesday or Thursday, in the morning");
        assert_eq!(s("Any weekday after 3."), "any weekday, in the afternoon");
        assert_eq!(s("Weekends."), "the weekend");
        assert_eq!(s("Monday through Wednesday."), "Monday to Wednesday");
        assert_eq!(s("As soon as possible."), "as soon as possible");
        assert_eq!(s("Anytime."), "any time");
        assert_eq!(s("Monday, Tuesday, Wednesday or Friday."), "Monday to Wednesday or Friday");
        assert_eq!(s("Anything but Monday."), "Tuesday to Sunday");
        assert_eq!(s("ASAP, mornings."), "as soon as possible, in the morning");
        assert_eq!(s("Monday or Tuesday or Thursday evening"), "Monday, Tuesday or Thursday, in the evening");
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,80}") {
            let p = parse_preference(&text);
            let _ = p.summary();
            let mut sorted = p.days.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(sorted, p.days);
        }

        #[test]
        fn never_panics_on_time_words(parts in proptest::collection::vec(
            prop_oneof![Just("after"), Just("before"), Just("3"), Just("330"), Just("99999999999"), Just("p"), Just("m"), Just("a"),
                        Just("monday"), Just("through"), Just("-"), Just("not"), Just("early"), Just("week"), Just("first"), Just("thing")],
            0..12,
        )) {
            let _ = parse_preference(&parts.join(" ")).summary();
        }
    }
}
