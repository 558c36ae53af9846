//! The clinic's script: what the box says and asks, edited by a clinic manager in the config.
//!
//! Everything here has a sensible default, so a config with only `[clinic] name` already holds
//! a complete conversation; a manager changes what the clinic needs (hours, FAQ answers, which
//! details each kind of request collects). `check` finds references that cannot work (a flow
//! naming a slot that does not exist, a prompt with an unknown `{placeholder}`), so a mistake
//! shows up in `frontdesk check-config`, not on a patient's call.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The details a flow can collect from a caller, in the order listed in its `slots`.
pub const SLOTS: &[&str] = &["name", "date_of_birth", "callback", "reason", "medication", "preferred_times"];

/// The requests callers make, as named in `[intents.*]`.
pub const INTENTS: &[&str] = &["new_appointment", "reschedule", "cancel", "refill", "test_results", "billing", "message"];

/// `{name}` placeholders a prompt may use.
pub const PLACEHOLDERS: &[&str] = &["clinic", "hours", "callback_promise"];

/// Opening hours and what the caller is told about them.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct HoursSection {
    /// IANA time zone of the clinic, e.g. "America/Chicago".
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Per day: "08:00-17:00", several ranges "08:00-12:00, 13:00-17:00", or "closed".
    /// A day left out is closed.
    #[serde(default = "default_week")]
    pub week: BTreeMap<String, String>,
    /// Days the clinic is closed although the week says open (holidays), "YYYY-MM-DD".
    #[serde(default)]
    pub closed_dates: Vec<String>,
}

impl Default for HoursSection {
    fn default() -> Self {
        HoursSection { time_zone: default_time_zone(), week: default_week(), closed_dates: Vec::new() }
    }
}

fn default_time_zone() -> String {
    "America/New_York".into()
}

fn default_week() -> BTreeMap<String, String> {
    ["monday", "tuesday", "wednesday", "thursday", "friday"].iter().map(|d| (d.to_string(), "08:00-17:00".to_string())).collect()
}

/// One answer to a frequently asked question, found by what callers say.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct FaqEntry {
    /// Words or phrases that mean the caller asks this ("parking", "where do I park").
    pub phrases: Vec<String>,
    /// What the box answers. May use {clinic}, {hours}.
    pub answer: String,
}

/// What one kind of request collects and says.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct IntentFlow {
    /// Details to collect, in order; from: name, date_of_birth, callback, reason, medication,
    /// preferred_times.
    pub slots: Vec<String>,
    /// Said when the request is recognised, before the first question.
    pub intro: String,
    /// More ways callers put it, besides the built-in ones.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// A short description read back in the summary ("a new appointment").
    pub summary: String,
}

/// How to ask for one detail.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct SlotPrompts {
    pub ask: String,
    /// Asked again after an answer that could not be used.
    pub retry: String,
}

/// Timing of the conversation.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ConversationSection {
    /// Silence that ends a caller's turn, ms.
    #[serde(default = "default_silence_ms")]
    pub silence_ms: u32,
    /// Longer silence allowed while the caller gives a number or a date or spells, ms.
    #[serde(default = "default_long_silence_ms")]
    pub long_silence_ms: u32,
    /// A turn longer than this is cut and answered, seconds.
    #[serde(default = "default_max_utterance_s")]
    pub max_utterance_s: u32,
    /// Silence after a question before "Are you still there?", seconds.
    #[serde(default = "default_no_input_s")]
    pub no_input_s: u32,
    /// The longest a call may last, seconds.
    #[serde(default = "default_max_call_s")]
    pub max_call_s: u32,
    /// Whether callers may interrupt the box (barge-in).
    #[serde(default = "default_true")]
    pub barge_in: bool,
    /// Speech shorter than this does not interrupt, ms.
    #[serde(default = "default_barge_in_min_speech_ms")]
    pub barge_in_min_speech_ms: u32,
    /// The start of each prompt that cannot be interrupted (the line's echo settles), ms.
    #[serde(default = "default_barge_in_protect_ms")]
    pub barge_in_protect_ms: u32,
    /// Times the box says it did not understand before falling back (keypad, message).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Answers one detail (name, date of birth, number, ...) may take, the keypad included,
    /// before the call goes on without it; the message is kept with the detail marked missing.
    #[serde(default = "default_detail_tries")]
    pub detail_tries: u32,
}

impl Default for ConversationSection {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

fn default_silence_ms() -> u32 {
    600
}
fn default_long_silence_ms() -> u32 {
    1300
}
fn default_max_utterance_s() -> u32 {
    20
}
fn default_no_input_s() -> u32 {
    8
}
fn default_max_call_s() -> u32 {
    600
}
fn default_true() -> bool {
    true
}
fn default_barge_in_min_speech_ms() -> u32 {
    200
}
fn default_barge_in_protect_ms() -> u32 {
    300
}
fn default_retries() -> u32 {
    2
}
fn default_detail_tries() -> u32 {
    4
}

/// The safety net: red-flag phrases lead at once to emergency instructions.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct EmergencySection {
    /// More phrases that mean an emergency, besides the built-in ones.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Where to transfer an emergency caller after the instructions (a nurse line); default:
    /// `[transfer] target` while the clinic is open.
    pub transfer: Option<String>,
}

/// Where call records are kept.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// Directory of the database (calls.db).
    #[serde(default = "default_data_dir")]
    pub data_dir: std::path::PathBuf,
    /// The master key (64 hex digits, mode 0600), outside the data directory. Made on first
    /// start; back it up, since the records cannot be read without it. A systemd credential
    /// named master.key takes its place when the service has one.
    #[serde(default = "default_key_file")]
    pub key_file: std::path::PathBuf,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection { data_dir: default_data_dir(), key_file: default_key_file() }
    }
}

fn default_key_file() -> std::path::PathBuf {
    "/etc/frontdesk/master.key".into()
}

fn default_data_dir() -> std::path::PathBuf {
    "/var/lib/frontdesk".into()
}

/// Built-in flows, replaced one by one by `[intents.NAME]` in the config.
pub fn default_intents() -> BTreeMap<String, IntentFlow> {
    let flow = |slots: &[&str], intro: &str, summary: &str| IntentFlow {
        slots: slots.iter().map(|s| s.to_string()).collect(),
        intro: intro.into(),
        phrases: Vec::new(),
        summary: summary.into(),
    };
    let person = ["name", "date_of_birth", "callback"];
    let mut m = BTreeMap::new();
    m.insert(
        "new_appointment".into(),
        flow(&[&person[..], &["reason", "preferred_times"]].concat(), "I can take an appointment request, and our staff will call you to confirm a time.", "an appointment request"),
    );
    m.insert("reschedule".into(), flow(&[&person[..], &["preferred_times"]].concat(), "I can pass on a request to move your appointment.", "a request to reschedule"));
    m.insert("cancel".into(), flow(&person, "I can pass on your cancellation.", "a cancellation"));
    m.insert("refill".into(), flow(&[&person[..], &["medication"]].concat(), "I can pass a refill request to the care team.", "a prescription refill request"));
    m.insert("test_results".into(), flow(&[&person[..], &["reason"]].concat(), "I can't give results over the phone, but I'll ask the care team to call you about them.", "a question about test results"));
    m.insert("billing".into(), flow(&[&person[..], &["reason"]].concat(), "I'll pass your billing question to our billing office.", "a billing question"));
    m.insert("message".into(), flow(&[&person[..], &["reason"]].concat(), "I'll take a message for the staff.", "a message"));
    m
}

pub fn default_slot_prompts() -> BTreeMap<String, SlotPrompts> {
    let p = |ask: &str, retry: &str| SlotPrompts { ask: ask.into(), retry: retry.into() };
    let mut m = BTreeMap::new();
    m.insert("name".into(), p("May I have your first and last name?", "Sorry, could you tell me your first and last name again?"));
    m.insert("date_of_birth".into(), p("What is your date of birth?", "Could you say your date of birth again, with the month, day and year?"));
    m.insert("callback".into(), p("What is the best phone number to reach you?", "Please say the whole phone number, with the area code."));
    m.insert("reason".into(), p("In a few words, what is this about?", "Could you tell me briefly what this is about?"));
    m.insert("medication".into(), p("Which medication do you need refilled?", "Could you say the name of the medication again?"));
    m.insert("preferred_times".into(), p("What days and times work best for you?", "Which days or times of day suit you best?"));
    m
}

pub fn default_faq() -> BTreeMap<String, FaqEntry> {
    let f = |phrases: &[&str], answer: &str| FaqEntry { phrases: phrases.iter().map(|s| s.to_string()).collect(), answer: answer.into() };
    let mut m = BTreeMap::new();
    m.insert("hours".into(), f(&["hours", "what time", "open", "close", "closing", "opening"], "Our hours are {hours}."));
    m
}

/// Every `{placeholder}` in `text` that is not one we fill in.
pub fn unknown_placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push(after.chars().take(20).collect());
            break;
        };
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            out.push(name.to_string());
        }
        rest = &after[end + 1..];
    }
    out
}

/// Parsed opening hours: per weekday (Monday = 0) a list of (open, close) minutes after midnight.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Week {
    pub days: [Vec<(u16, u16)>; 7],
}

pub const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

impl Week {
    pub fn parse(week: &BTreeMap<String, String>) -> Result<Week, (String, String)> {
        let mut out = Week::default();
        for (day, spec) in week {
            let Some(index) = WEEKDAYS.iter().position(|d| d.eq_ignore_ascii_case(day)) else {
                return Err((day.clone(), format!("{day:?} is not a day of the week: use monday .. sunday")));
            };
            if spec.trim().eq_ignore_ascii_case("closed") {
                continue;
            }
            for range in spec.split(',') {
                let parsed = range.split_once('-').and_then(|(a, b)| Some((minutes(a)?, minutes(b)?)));
                match parsed {
                    Some((open, close)) if open < close => out.days[index].push((open, close)),
                    _ => return Err((day.clone(), format!("{range:?}: write hours as \"08:00-17:00\", several as \"08:00-12:00, 13:00-17:00\", or \"closed\""))),
                }
            }
        }
        Ok(out)
    }

    /// Whether the clinic is open at `minute` past midnight of weekday `day` (Monday = 0).
    pub fn is_open(&self, day: usize, minute: u16) -> bool {
        self.days.get(day).is_some_and(|ranges| ranges.iter().any(|&(a, b)| minute >= a && minute < b))
    }

    /// The week as a caller hears it: "Monday to Friday, 8 AM to 5 PM, and Saturday, 9 AM to noon".
    pub fn spoken(&self) -> String {
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for d in 0..7 {
            if self.days[d].is_empty() {
                continue;
            }
            match groups.last_mut() {
                Some((_, end)) if *end + 1 == d && self.days[*end] == self.days[d] => *end = d,
                _ => groups.push((d, d)),
            }
        }
        if groups.is_empty() {
            return "not set".into();
        }
        let cap = |s: &str| {
            let mut c = s.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        };
        let parts: Vec<String> = groups
            .iter()
            .map(|&(a, b)| {
                let days = if a == b { cap(WEEKDAYS[a]) } else { format!("{} to {}", cap(WEEKDAYS[a]), cap(WEEKDAYS[b])) };
                let ranges: Vec<String> = self.days[a].iter().map(|&(o, c)| format!("{} to {}", spoken_time(o), spoken_time(c))).collect();
                format!("{days}, {}", ranges.join(" and "))
            })
            .collect();
        match parts.len() {
            1 => parts[0].clone(),
            n => format!("{}, and {}", parts[..n - 1].join("; "), parts[n - 1]),
        }
    }
}

fn minutes(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

/// "8 AM", "12:30 PM", "noon", "midnight": what the normaliser and a caller both read well.
fn spoken_time(minute: u16) -> String {
    let (h, m) = (minute / 60, minute % 60);
    match (h, m) {
        (12, 0) => "noon".into(),
        (0, 0) | (24, 0) => "midnight".into(),
        _ => {
            let (h12, ampm) = match h {
                0 => (12, "AM"),
                1..=11 => (h, "AM"),
                12 => (12, "PM"),
                _ => (h - 12, "PM"),
            };
            if m == 0 { format!("{h12} {ampm}") } else { format!("{h12}:{m:02} {ampm}") }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_parse_and_read_well() {
        let mut w = default_week();
        w.insert("saturday".into(), "09:00-12:00".into());
        let week = Week::parse(&w).unwrap();
        assert!(week.is_open(0, 8 * 60));
        assert!(!week.is_open(0, 17 * 60), "closing time is closed");
        assert!(!week.is_open(6, 10 * 60));
        assert_eq!(week.spoken(), "Monday to Friday, 8 AM to 5 PM, and Saturday, 9 AM to noon");
        let mut split = BTreeMap::new();
        split.insert("tuesday".to_string(), "08:30-12:00, 13:00-16:30".to_string());
        assert_eq!(Week::parse(&split).unwrap().spoken(), "Tuesday, 8:30 AM to noon and 1 PM to 4:30 PM");
    }

    #[test]
    fn bad_hours_say_how_to_write_them() {
        for bad in ["8-5", "17:00-08:00", "25:00-26:00", "nine to five"] {
            let mut w = BTreeMap::new();
            w.insert("monday".to_string(), bad.to_string());
            let (day, msg) = Week::parse(&w).unwrap_err();
            assert_eq!(day, "monday");
            assert!(msg.contains("08:00-17:00"), "{msg}");
        }
        let mut w = BTreeMap::new();
        w.insert("funday".to_string(), "closed".to_string());
        assert!(Week::parse(&w).unwrap_err().1.contains("not a day"));
    }

    #[test]
    fn placeholders_are_checked() {
        assert!(unknown_placeholders("Thanks for calling {clinic}. We are open {hours}.").is_empty());
        assert_eq!(unknown_placeholders("Hi {clinc}"), vec!["clinc"]);
        assert_eq!(unknown_placeholders("Hi {clinic"), vec!["clinic"]);
    }

    #[test]
    fn default_flows_use_only_known_slots() {
        for (name, flow) in default_intents() {
            assert!(INTENTS.contains(&name.as_str()));
            for s in &flow.slots {
                assert!(SLOTS.contains(&s.as_str()), "{name}: {s}");
            }
        }
        for s in SLOTS {
            assert!(default_slot_prompts().contains_key(*s), "{s} has prompts");
        }
    }
}
