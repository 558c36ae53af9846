//! The clinic's script: what the box says and asks, edited by a clinic manager in the config.
//!
//! Everything here has a sensible default, so a config with only `[clinic] name` already holds
//! a complete conversation; a manager changes what the clinic needs (hours, FAQ answers, which
//! details each kind of request collects). `check` finds references that cannot work (a flow
//! naming a slot that does not exist, a prompt with an unknown `{placeholder}`), so a mistake
//! shows up in `frontdesk check-config`, not on a patient's call.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::understand::intent::Intent;

/// The details a flow can collect from a caller, in the order listed in its `slots`.
pub const SLOTS: &[&str] = &["name", "date_of_birth", "callback", "reason", "medication", "preferred_times"];

/// The requests callers make, as named in `[intents.*]`: the flow names of [`Intent::FLOWS`].
pub fn intent_names() -> Vec<&'static str> {
    Intent::FLOWS.iter().filter_map(Intent::flow_name).collect()
}

/// `{name}` placeholders a prompt may use.
pub const PLACEHOLDERS: &[&str] = &["clinic", "hours", "callback_promise"];

/// `[clinic]`: who the box answers for.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ClinicSection {
    #[serde(default = "default_clinic_name")]
    pub name: String,
    /// What callers are told will happen to their request ({callback_promise} in prompts).
    #[serde(default = "default_callback_promise")]
    pub callback_promise: String,
}

impl Default for ClinicSection {
    fn default() -> Self {
        ClinicSection { name: default_clinic_name(), callback_promise: default_callback_promise() }
    }
}

fn default_callback_promise() -> String {
    "someone from our office will call you back within one business day".into()
}

fn default_clinic_name() -> String {
    "the clinic".into()
}

/// Defines [`PromptsSection`] from one list: each prompt's key, its doc and its default text.
/// The struct, its defaults, [`PromptsSection::KEYS`] and the by-key accessors all come from
/// this list, so a prompt cannot be added in one place and forgotten in another.
macro_rules! prompts {
    ($($(#[doc = $doc:literal])* $key:ident: $default:literal,)*) => {
        /// What the box says, besides FAQ answers and the questions of `[slots.*]`. Each may use
        /// {clinic}, {hours} and {callback_promise}. Fixed ones are synthesised at start.
        #[derive(Debug, Deserialize, Clone)]
        #[serde(deny_unknown_fields, default)]
        pub struct PromptsSection {
            $($(#[doc = $doc])* pub $key: String,)*
        }

        impl Default for PromptsSection {
            fn default() -> Self {
                PromptsSection { $($key: $default.to_string(),)* }
            }
        }

        impl PromptsSection {
            /// Every prompt's key, as `[prompts]` names it.
            pub const KEYS: &[&str] = &[$(stringify!($key)),*];

            /// (key, text) of every prompt, for checks and for synthesising them at start.
            pub fn all(&self) -> Vec<(&'static str, &str)> {
                vec![$((stringify!($key), self.$key.as_str())),*]
            }

            /// Each prompt's text, to rewrite in place (placeholders filled).
            pub fn texts_mut(&mut self) -> Vec<&mut String> {
                vec![$(&mut self.$key),*]
            }
        }
    };
}

prompts! {
    greeting: "Thank you for calling {clinic}. I'm the automated assistant. How can I help you today?",
    after_hours_greeting: "Thank you for calling {clinic}. We're closed right now; our hours are {hours}. If this is an emergency, please hang up and call 9 1 1. I can take a message or answer questions. How can I help?",
    goodbye: "Thank you for calling {clinic}. Goodbye.",
    anything_else: "Is there anything else I can help you with?",
    not_understood: "Sorry, I didn't catch that.",
    still_there: "Are you still there?",
    no_input_goodbye: "I haven't heard anything, so I'll end the call now. Please call back anytime. Goodbye.",
    /// Said, uninterruptible, when a caller describes an emergency.
    emergency: "This sounds like it could be an emergency. Please hang up and call 9 1 1 now, or go to the nearest emergency room.",
    transferring: "Please hold while I transfer you.",
    transfer_failed: "I'm sorry, I couldn't reach anyone right now.",
    /// A caller asks for a person while the clinic is closed.
    after_hours_person: "Our office is closed right now, so nobody can take the call.",
    /// The call went wrong on our side (nothing heard or played for too long).
    watchdog: "I'm sorry, something went wrong on my end.",
    /// Said when the reply is not ready a second after the caller's turn ended (a busy box), so
    /// that the caller knows they were heard.
    hold: "One moment.",
    max_duration: "I'm sorry, we need to wrap up this call.",
    /// Said, uninterruptible, to every call in progress when the service stops (an update, a
    /// restart), before the line hangs up.
    shutting_down: "I'm sorry, the phone system is restarting, so I have to end this call. Please call back in a few minutes.",
    offer_message: "I can take a message, and {callback_promise}.",
    spell_last_name: "Could you spell your last name for me, letter by letter?",
    date_year: "And what year were you born?",
    keypad_date: "Please enter your date of birth on the keypad: two digits for the month, two for the day, and four for the year.",
    keypad_phone: "Please enter the ten digit phone number on the keypad.",
    confirm_summary: "Let me read that back.",
    correction_which: "What should I change: the name, the date of birth, the phone number, or something else?",
    closing: "Thank you. I've passed this on, and {callback_promise}.",
    no_medical_advice: "I'm not able to give medical advice, but I can take a message for the care team.",
}

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
        flow(
            &[&person[..], &["reason", "preferred_times"]].concat(),
            "I can take an appointment request, and our staff will call you to confirm a time.",
            "an appointment request",
        ),
    );
    m.insert(
        "reschedule".into(),
        flow(&[&person[..], &["preferred_times"]].concat(), "I can pass on a request to move your appointment.", "a request to reschedule"),
    );
    m.insert("cancel".into(), flow(&person, "I can pass on your cancellation.", "a cancellation"));
    m.insert(
        "refill".into(),
        flow(&[&person[..], &["medication"]].concat(), "I can pass a refill request to the care team.", "a prescription refill request"),
    );
    m.insert(
        "test_results".into(),
        flow(
            &[&person[..], &["reason"]].concat(),
            "I can't give results over the phone, but I'll ask the care team to call you about them.",
            "a question about test results",
        ),
    );
    m.insert(
        "billing".into(),
        flow(&[&person[..], &["reason"]].concat(), "I'll pass your billing question to our billing office.", "a billing question"),
    );
    m.insert("message".into(), flow(&[&person[..], &["reason"]].concat(), "I'll take a message for the staff.", "a message"));
    m
}

pub fn default_slot_prompts() -> BTreeMap<String, SlotPrompts> {
    let p = |ask: &str, retry: &str| SlotPrompts { ask: ask.into(), retry: retry.into() };
    let mut m = BTreeMap::new();
    m.insert("name".into(), p("May I have your first and last name?", "Sorry, could you tell me your first and last name again?"));
    m.insert(
        "date_of_birth".into(),
        p("What is your date of birth?", "Could you say your date of birth again, with the month, day and year?"),
    );
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
                    _ => {
                        return Err((
                            day.clone(),
                            format!("{range:?}: write hours as \"08:00-17:00\", several as \"08:00-12:00, 13:00-17:00\", or \"closed\""),
                        ));
                    }
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

/// The sections of the config file the conversation is made of, as `config` hands them over:
/// the call layer never reads the config file itself.
#[derive(Debug, Clone)]
pub struct ScriptConfig {
    pub clinic: ClinicSection,
    pub prompts: PromptsSection,
    pub hours: HoursSection,
    /// `[faq.*]` as written (merged over the built-in topics by [`ScriptConfig::faq_entries`]).
    pub faq: BTreeMap<String, FaqEntry>,
    pub intents: BTreeMap<String, IntentFlow>,
    pub slots: BTreeMap<String, SlotPrompts>,
    pub conversation: ConversationSection,
    pub emergency: EmergencySection,
    /// `[transfer] target`: where a caller who asks for a person goes.
    pub transfer_target: Option<String>,
    /// `[stt] min_confidence`: below it a recognised answer is asked again.
    pub min_confidence: f32,
}

impl Default for ScriptConfig {
    /// The script of an empty config file.
    fn default() -> Self {
        ScriptConfig {
            clinic: Default::default(),
            prompts: Default::default(),
            hours: Default::default(),
            faq: BTreeMap::new(),
            intents: BTreeMap::new(),
            slots: BTreeMap::new(),
            conversation: Default::default(),
            emergency: Default::default(),
            transfer_target: None,
            min_confidence: crate::speech::settings::default_min_confidence(),
        }
    }
}

/// One mistake in the script's sections: (section, key, what is wrong), for `config` to
/// locate in the file.
pub type Problem = (String, String, String);

impl ScriptConfig {
    /// FAQ topics: the built-in ones with the config's on top.
    pub fn faq_entries(&self) -> BTreeMap<String, FaqEntry> {
        let mut m = default_faq();
        m.extend(self.faq.clone());
        m
    }

    /// Request flows: the built-in ones, each replaced by the config's of the same name.
    pub fn intent_flows(&self) -> BTreeMap<String, IntentFlow> {
        let mut m = default_intents();
        m.extend(self.intents.clone());
        m
    }

    /// How each detail is asked for: built-in, replaced by the config's of the same name.
    pub fn slot_prompts(&self) -> BTreeMap<String, SlotPrompts> {
        let mut m = default_slot_prompts();
        m.extend(self.slots.clone());
        m
    }

    /// Everything in the script's sections that cannot work: empty prompts, unknown
    /// placeholders, flows naming details that do not exist, bad hours, values out of range.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out: Vec<Problem> = Vec::new();
        let mut check = |ok: bool, section: &str, key: &str, message: String| {
            if !ok {
                out.push((section.to_string(), key.to_string(), message));
            }
        };
        let placeholders = |t: &str| {
            let bad = unknown_placeholders(t);
            (bad.is_empty(), format!("unknown placeholder {{{}}}: use {{clinic}}, {{hours}} or {{callback_promise}}", bad.join("}, {")))
        };
        for (key, prompt) in self.prompts.all() {
            check(!prompt.trim().is_empty(), "prompts", key, "must not be empty".into());
            let (ok, msg) = placeholders(prompt);
            check(ok, "prompts", key, msg);
        }
        for (topic, faq) in &self.faq {
            let section = format!("faq.{topic}");
            check(
                !faq.phrases.iter().all(|p| p.trim().is_empty()),
                &section,
                "phrases",
                "list at least one word or phrase callers say".into(),
            );
            check(!faq.answer.trim().is_empty(), &section, "answer", "must not be empty".into());
            let (ok, msg) = placeholders(&faq.answer);
            check(ok, &section, "answer", msg);
        }
        let intents = intent_names();
        for (name, flow) in &self.intents {
            let section = format!("intents.{name}");
            if !intents.contains(&name.as_str()) {
                check(false, "intents", name, format!("unknown request type {name:?}: use one of {}", intents.join(", ")));
                continue;
            }
            check(!flow.slots.is_empty(), &section, "slots", "list at least one detail to collect".into());
            for slot in &flow.slots {
                check(
                    SLOTS.contains(&slot.as_str()),
                    &section,
                    "slots",
                    format!("{slot:?} is not a detail the box can collect: use {}", SLOTS.join(", ")),
                );
            }
            let mut seen = std::collections::BTreeSet::new();
            for slot in &flow.slots {
                check(seen.insert(slot), &section, "slots", format!("{slot:?} is listed twice"));
            }
            let (ok, msg) = placeholders(&flow.intro);
            check(ok, &section, "intro", msg);
        }
        for (name, prompts) in &self.slots {
            let section = format!("slots.{name}");
            if !SLOTS.contains(&name.as_str()) {
                check(false, "slots", name, format!("unknown detail {name:?}: use one of {}", SLOTS.join(", ")));
                continue;
            }
            for (key, t) in [("ask", &prompts.ask), ("retry", &prompts.retry)] {
                check(!t.trim().is_empty(), &section, key, "must not be empty".into());
                let (ok, msg) = placeholders(t);
                check(ok, &section, key, msg);
            }
        }
        if let Err((day, msg)) = Week::parse(&self.hours.week) {
            check(false, "hours.week", &day, msg);
        }
        check(
            jiff::tz::TimeZone::get(&self.hours.time_zone).is_ok(),
            "hours",
            "time_zone",
            format!("{:?} is not a time zone: use a name such as \"America/Chicago\"", self.hours.time_zone),
        );
        for d in &self.hours.closed_dates {
            check(d.parse::<jiff::civil::Date>().is_ok(), "hours", "closed_dates", format!("{d:?} is not a date: write YYYY-MM-DD"));
        }
        let c = &self.conversation;
        check((200..=3000).contains(&c.silence_ms), "conversation", "silence_ms", format!("{}: use 200 to 3000", c.silence_ms));
        check(
            c.long_silence_ms >= c.silence_ms && c.long_silence_ms <= 5000,
            "conversation",
            "long_silence_ms",
            format!("{}: use silence_ms to 5000", c.long_silence_ms),
        );
        check((5..=60).contains(&c.max_utterance_s), "conversation", "max_utterance_s", format!("{}: use 5 to 60", c.max_utterance_s));
        check((3..=60).contains(&c.no_input_s), "conversation", "no_input_s", format!("{}: use 3 to 60", c.no_input_s));
        check((60..=7200).contains(&c.max_call_s), "conversation", "max_call_s", format!("{}: use 60 to 7200", c.max_call_s));
        check(
            (60..=2000).contains(&c.barge_in_min_speech_ms),
            "conversation",
            "barge_in_min_speech_ms",
            format!("{}: use 60 to 2000", c.barge_in_min_speech_ms),
        );
        check(c.barge_in_protect_ms <= 3000, "conversation", "barge_in_protect_ms", format!("{}: use 0 to 3000", c.barge_in_protect_ms));
        check((1..=5).contains(&c.retries), "conversation", "retries", format!("{}: use 1 to 5", c.retries));
        check((1..=8).contains(&c.detail_tries), "conversation", "detail_tries", format!("{}: use 1 to 8", c.detail_tries));
        out
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
            assert!(intent_names().contains(&name.as_str()));
            for s in &flow.slots {
                assert!(SLOTS.contains(&s.as_str()), "{name}: {s}");
            }
        }
        for s in SLOTS {
            assert!(default_slot_prompts().contains_key(*s), "{s} has prompts");
        }
    }
}
