//! The scripted conversation: what to say next, given what the caller said.
//!
//! Pure and synchronous: text (or key presses, or "nothing was heard") in, actions out. No
//! audio, no clock, no network; the engine (`engine.rs`) drives it on a call and `simulate`
//! drives it from a terminal, so every path of a conversation is testable in milliseconds.
//!
//! The safety net comes first on every turn: red-flag words lead to the emergency instruction
//! whatever the conversation was doing, and no path gives medical advice.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::script::{FaqEntry, IntentFlow, PromptsSection, ScriptConfig, SlotPrompts, Week};
use super::understand::dates::{self, Date, DobParse};
use super::understand::intent::{Intent, IntentMatcher};
use super::understand::names::{self, FullName};
use super::understand::phone::{self, PhoneNumber, PhoneParse};
use super::understand::yesno::{self, Answer};
use super::understand::{medication, offscript};
use super::understand::{preference, redflag};
use crate::record::{CallRecord, Outcome, Speaker, Utterance};
use crate::speech::stt::Priming;

/// What the caller did.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Heard {
        text: String,
        confidence: f32,
    },
    /// Keys pressed, collected by the engine up to '#' or the expected count.
    Keys(String),
    /// Nothing heard for `conversation.no_input_s` after a question.
    NoInput,
    TransferResult(Result<(), String>),
    /// The engine found the call stuck (nothing played or heard for too long).
    Watchdog,
    /// `conversation.max_call_s` reached.
    MaxDuration,
    /// The service is stopping: the call is told and ended.
    ShuttingDown,
    CallerHungUp,
    /// The classifier's answer to [`Action::Classify`]: a flow name, or None (no answer,
    /// "none", too slow, switched off, failed).
    Classified(Option<String>),
}

/// What the kind of answer expected next means for listening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Ordinary speech: the normal end-of-turn silence.
    Speech,
    /// A number, a date or spelled letters: callers pause between groups, so a longer silence
    /// ends the turn.
    Digits,
    /// Keys on the keypad: up to `count` keys or '#'.
    Keypad { count: usize },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Say {
        text: String,
        interruptible: bool,
    },
    Listen(Expect),
    /// Ask the classifier (the optional language model) which request `text` is: one of
    /// `labels` (flow name, its description), answered with [`Input::Classified`]. `captured`
    /// holds what the call has captured of the caller, so none of it is sent in any form.
    Classify {
        text: String,
        labels: Vec<(String, String)>,
        captured: Vec<String>,
    },
    Transfer(String),
    HangUp,
}

/// The clinic's script, prepared once from the config and shared by every call.
pub struct Script {
    pub prompts: PromptsSection,
    pub faq: BTreeMap<String, FaqEntry>,
    pub flows: BTreeMap<String, IntentFlow>,
    pub slots: BTreeMap<String, SlotPrompts>,
    pub matcher: IntentMatcher,
    pub red_flag_phrases: Vec<String>,
    pub transfer_target: Option<String>,
    pub emergency_transfer: Option<String>,
    pub retries: u32,
    pub detail_tries: u32,
    pub min_confidence: f32,
    pub week: Week,
    pub time_zone: String,
    pub closed_dates: Vec<String>,
}

impl Script {
    /// The script of `config`'s sections, placeholders filled in.
    pub fn new(config: &ScriptConfig) -> Arc<Script> {
        let week = Week::parse(&config.hours.week).unwrap_or_default();
        let hours = week.spoken();
        let fill = |t: &str| {
            t.replace("{clinic}", &config.clinic.name)
                .replace("{hours}", &hours)
                .replace("{callback_promise}", &config.clinic.callback_promise)
        };
        let mut prompts = config.prompts.clone();
        for text in prompts.texts_mut() {
            *text = fill(text);
        }
        let mut faq = config.faq_entries();
        for f in faq.values_mut() {
            f.answer = fill(&f.answer);
        }
        let mut flows = config.intent_flows();
        for f in flows.values_mut() {
            f.intro = fill(&f.intro);
        }
        let mut slots = config.slot_prompts();
        for s in slots.values_mut() {
            s.ask = fill(&s.ask);
            s.retry = fill(&s.retry);
        }
        let extra: Vec<(Intent, Vec<String>)> =
            flows.iter().filter_map(|(name, f)| Some((Intent::from_flow_name(name)?, f.phrases.clone()))).collect();
        let topics: Vec<(String, Vec<String>)> = faq.iter().map(|(t, f)| (t.clone(), f.phrases.clone())).collect();
        Arc::new(Script {
            matcher: IntentMatcher::new(&extra, &topics),
            prompts,
            faq,
            flows,
            slots,
            red_flag_phrases: config.emergency.phrases.clone(),
            transfer_target: config.transfer_target.clone(),
            emergency_transfer: config.emergency.transfer.clone().or_else(|| config.transfer_target.clone()),
            retries: config.conversation.retries,
            detail_tries: config.conversation.detail_tries,
            min_confidence: config.min_confidence,
            week,
            time_zone: config.hours.time_zone.clone(),
            closed_dates: config.hours.closed_dates.clone(),
        })
    }

    /// Whether the clinic is open at `now`, and the local date (for ages).
    pub fn open_at(&self, now: jiff::Timestamp) -> (bool, Date) {
        let tz = jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let local = now.to_zoned(tz);
        let date = local.date();
        let today = Date::new(date.year() as i32, date.month() as u8, date.day() as u8).unwrap_or(Date { year: 2000, month: 1, day: 1 });
        let holiday = self.closed_dates.iter().any(|d| d.parse::<jiff::civil::Date>().ok() == Some(date));
        let weekday = date.weekday().to_monday_zero_offset() as usize;
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        (!holiday && self.week.is_open(weekday, minute), today)
    }
}

/// The situation of this call, from the engine: open or closed, today's date, caller ID.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub open: bool,
    pub today: Date,
    pub caller: Option<String>,
    pub dialled: Option<String>,
    pub started_at: String,
}

#[derive(Debug, Clone, PartialEq)]
enum SlotStep {
    Ask,
    SpellLastName,
    /// The spelling was read back as a question: "..., spelled S M I T H. Did I get that right?"
    SpellConfirm,
    DobYear {
        month: u8,
        day: u8,
    },
    DobConfirm(Date),
    DobKeypad,
    CallerIdOffer(PhoneNumber),
    PhoneConfirm(PhoneNumber),
    PhoneKeypad,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    AwaitIntent,
    AnythingElse,
    Slot {
        flow: String,
        index: usize,
        step: SlotStep,
        redo: bool,
    },
    Confirm {
        flow: String,
    },
    CorrectionWhich {
        flow: String,
    },
    /// At the read-back, a year that could be the year of birth or the end of the number.
    WhichDetail {
        flow: String,
        dob: Date,
        phone: PhoneNumber,
    },
    Transferring {
        emergency: bool,
    },
    /// Waiting for the classifier's answer about a request the rules did not understand;
    /// `back` is the step to return to.
    Classifying {
        back: Box<Step>,
        text: String,
    },
    Done,
}

/// The most prompts one call hears; the per-detail bounds keep a call well under it. At the
/// limit the call is wrapped up (two more prompts: an apology and the goodbye).
const MAX_PROMPTS: u32 = 40;

/// Read-backs of one summary: after this many, the message is passed on as it stands and
/// staff check the details when they call back.
const MAX_READBACKS: u32 = 3;

/// Phrases that ask for medical advice the box must not give.
const ADVICE_PHRASES: &[&str] =
    &["should i take", "is it safe to", "how much should i", "what dose", "can i take", "should i go to the", "is it normal"];

pub struct Flow {
    script: Arc<Script>,
    ctx: CallContext,
    step: Step,
    misses: u32,
    /// Answers the detail being asked for has taken that could not be used (the keypad
    /// included): at `detail_tries` the call goes on without it.
    tries: u32,
    /// Times in a row the caller asked to hear the question again.
    repeats: u32,
    /// Prompts said in this call.
    said: u32,
    /// Read-backs of the summary in this intake.
    readbacks: u32,
    /// Details in a row the caller could not give: after two, the rest are not asked for.
    unclear_in_a_row: u32,
    silences: u32,
    name: Option<FullName>,
    spelled: Option<String>,
    dob: Option<Date>,
    callback: Option<PhoneNumber>,
    transfer_succeeded: bool,
    pub record: CallRecord,
    /// What the caller heard last as a question: said again after "Are you still there?".
    last_question: String,
    last_expect: Expect,
    /// A classifier is there to ask about requests the rules did not understand.
    classify: bool,
}

impl Flow {
    pub fn new(script: Arc<Script>, ctx: CallContext) -> Flow {
        let record = CallRecord::new(ctx.started_at.clone(), ctx.caller.clone(), ctx.dialled.clone(), !ctx.open);
        Flow {
            script,
            ctx,
            step: Step::AwaitIntent,
            misses: 0,
            tries: 0,
            repeats: 0,
            said: 0,
            readbacks: 0,
            unclear_in_a_row: 0,
            silences: 0,
            name: None,
            spelled: None,
            dob: None,
            callback: None,
            transfer_succeeded: false,
            record,
            last_question: String::new(),
            last_expect: Expect::Speech,
            classify: false,
        }
    }

    /// Requests the rules do not understand are first put to the classifier
    /// ([`Action::Classify`]); without it, or when it has no answer, the call goes exactly as
    /// it does without one.
    pub fn enable_classification(&mut self) {
        self.classify = true;
    }

    pub fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    /// What the recogniser should be primed for in the caller's next turn: medication names
    /// when asked which medication or what the call is about (the words staff act on), the
    /// clinic's everyday words otherwise. A medication named in the opening request does not
    /// need them: the request is recognised by "refill", and the medication is asked for.
    pub fn priming(&self) -> Priming {
        let Step::Slot { flow, index, step: SlotStep::Ask, .. } = &self.step else {
            return Priming::Everyday;
        };
        match self.script.flows.get(flow).and_then(|f| f.slots.get(*index)).map(String::as_str) {
            Some("medication" | "reason") => Priming::Medications,
            _ => Priming::Everyday,
        }
    }

    /// The greeting.
    /// The script this call runs on (a reload does not change a call in progress).
    pub fn script(&self) -> &Arc<Script> {
        &self.script
    }

    pub fn start(&mut self) -> Vec<Action> {
        let greeting = if self.ctx.open { self.script.prompts.greeting.clone() } else { self.script.prompts.after_hours_greeting.clone() };
        let mut out = Vec::new();
        self.ask(&mut out, greeting, Expect::Speech);
        out
    }

    /// Notes what the agent said in the transcript (the engine calls this as prompts play, with
    /// the call clock; `simulate` with zero).
    pub fn note_said(&mut self, at_ms: u64, text: &str, interrupted: bool) {
        self.record.transcript.push(Utterance {
            at_ms,
            speaker: Speaker::Agent,
            text: text.to_string(),
            confidence: None,
            keypad: false,
            interrupted,
        });
    }

    pub fn on_input(&mut self, at_ms: u64, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        if self.step == Step::Done {
            return out;
        }
        match input {
            Input::CallerHungUp => {
                self.step = Step::Done;
            }
            Input::Classified(label) => self.on_classified(&mut out, label),
            Input::MaxDuration => {
                let text = self.script.prompts.max_duration.clone();
                self.say(&mut out, text, true);
                self.finish(&mut out);
            }
            Input::ShuttingDown => {
                let text = self.script.prompts.shutting_down.clone();
                self.say(&mut out, text, false);
                self.finish(&mut out);
            }
            Input::Watchdog => {
                let text = self.script.prompts.watchdog.clone();
                self.say(&mut out, text, true);
                self.offer_message(&mut out);
            }
            Input::NoInput => {
                self.silences += 1;
                if self.silences > 1 {
                    let text = self.script.prompts.no_input_goodbye.clone();
                    self.say(&mut out, text, true);
                    self.finish(&mut out);
                } else {
                    let q = format!("{} {}", self.script.prompts.still_there, self.last_question);
                    let expect = self.last_expect;
                    self.say(&mut out, q, true);
                    out.push(Action::Listen(expect));
                }
            }
            Input::TransferResult(result) => self.on_transfer_result(&mut out, result),
            Input::Keys(keys) => {
                self.silences = 0;
                self.record.transcript.push(Utterance {
                    at_ms,
                    speaker: Speaker::Caller,
                    text: keys.clone(),
                    confidence: None,
                    keypad: true,
                    interrupted: false,
                });
                self.on_keys(&mut out, &keys);
            }
            Input::Heard { text, confidence } => {
                let text = text.trim().to_string();
                if !text.is_empty() {
                    self.silences = 0;
                    self.record.transcript.push(Utterance {
                        at_ms,
                        speaker: Speaker::Caller,
                        text: text.clone(),
                        confidence: Some(confidence),
                        keypad: false,
                        interrupted: false,
                    });
                }
                // The safety net, before anything else the caller might have meant.
                if !text.is_empty()
                    && self.record.red_flag.is_none()
                    && let Some(flag) = redflag::red_flag(&text, &self.script.red_flag_phrases)
                {
                    self.emergency(&mut out, flag.label(), &text);
                } else if text.is_empty()
                    || (confidence < self.script.min_confidence && !self.expects_checked_value() && !self.names_a_medication(&text))
                {
                    self.not_understood(&mut out);
                } else if offscript::asks_to_repeat(&text)
                    && self.repeats < 2
                    && !self.last_question.is_empty()
                    && !matches!(self.step, Step::Transferring { .. })
                {
                    // "What?": the question again, plainly, without an apology for the caller.
                    self.repeats += 1;
                    let (q, expect) = (self.last_question.clone(), self.last_expect);
                    self.ask(&mut out, q, expect);
                } else {
                    self.repeats = 0;
                    self.on_heard(&mut out, &text);
                }
            }
        }
        out
    }

    /// The final record, with the outcome decided from what happened.
    pub fn finish_record(&mut self, ended_at: String, duration_ms: u64) -> CallRecord {
        let r = &mut self.record;
        r.ended_at = Some(ended_at);
        r.duration_ms = duration_ms;
        // A request whose every detail was given or is marked missing is a message for staff:
        // a vague caller's message is passed on, as such.
        let collected = r
            .intent
            .as_ref()
            .and_then(|i| self.script.flows.get(i))
            .is_some_and(|f| f.slots.iter().all(|s| r.slots.contains_key(s) || r.missing.contains_key(s)));
        r.outcome = if r.red_flag.is_some() {
            Outcome::Emergency
        } else if self.transfer_succeeded {
            Outcome::Transferred
        } else if r.confirmed || collected {
            Outcome::MessageTaken
        } else if !r.questions.is_empty() {
            Outcome::Answered
        } else {
            Outcome::Abandoned
        };
        r.clone()
    }

    /// Whether the answer expected now is checked by parsing and read back (a spelling, a
    /// date, a number, yes or no to a read-back): then a low recognition confidence is no reason
    /// to ask again, since a wrong value would not parse or would be corrected by the caller.
    fn expects_checked_value(&self) -> bool {
        match &self.step {
            Step::Slot { flow, index, step, .. } => {
                !matches!(step, SlotStep::Ask) || matches!(self.slot_name(flow, *index).as_str(), "date_of_birth" | "callback" | "name")
            }
            Step::Confirm { .. } => true,
            _ => false,
        }
    }

    // --- the steps -----------------------------------------------------------------------

    fn on_heard(&mut self, out: &mut Vec<Action>, text: &str) {
        match self.step.clone() {
            // The caller went on while the classifier thought ("Hi, this is Rose." ... "My
            // kid's school needs a form."): the two are one request, taken afresh; the
            // classifier's answer about the first part no longer counts.
            Step::Classifying { back, text: before } => {
                self.step = *back;
                self.on_heard(out, &format!("{before} {text}"));
            }
            Step::AwaitIntent => self.on_request(out, text),
            Step::AnythingElse => match yesno::yes_no(text) {
                Answer::No if self.script.matcher.classify(text).is_none() => self.goodbye(out),
                Answer::Yes if self.script.matcher.classify(text).is_none() => {
                    self.step = Step::AwaitIntent;
                    self.ask(out, "What else can I help you with?".into(), Expect::Speech);
                }
                _ => self.on_request(out, text),
            },
            Step::Slot { flow, index, step, redo } => self.on_slot_answer(out, &flow, index, step, redo, text),
            Step::Confirm { flow } => match yesno::yes_no(text) {
                Answer::Yes => {
                    self.record.confirmed = true;
                    self.misses = 0;
                    let closing = self.script.prompts.closing.clone();
                    self.say(out, closing, true);
                    self.step = Step::AnythingElse;
                    // "Yes. And where do I park?": the question is the next request.
                    match offscript::volunteered_after_yes(text) {
                        Some(more) if self.script.matcher.classify(&more).is_some() => self.on_request(out, &more),
                        _ => {
                            let q = self.script.prompts.anything_else.clone();
                            self.ask(out, q, Expect::Speech);
                        }
                    }
                }
                Answer::No => {
                    // "No, the number ends in 4471" corrects in one go.
                    if !self.try_direct_correction(out, &flow, text) {
                        self.step = Step::CorrectionWhich { flow };
                        let q = self.script.prompts.correction_which.clone();
                        self.ask(out, q, Expect::Speech);
                    }
                }
                Answer::Unclear => {
                    if !self.try_direct_correction(out, &flow, text) && !self.question_in_passing(out, text) {
                        self.not_understood(out);
                    }
                }
            },
            Step::WhichDetail { flow, dob, phone } => {
                let w = text.to_lowercase();
                if ["born", "birth", "year", "birthday"].iter().any(|k| w.contains(k)) {
                    let index = self.slot_index(&flow, "date_of_birth").unwrap_or(0);
                    self.confirm_dob(out, &flow, index, true, dob);
                } else if ["phone", "number", "call"].iter().any(|k| w.contains(k)) {
                    let index = self.slot_index(&flow, "callback").unwrap_or(0);
                    self.confirm_phone(out, &flow, index, true, phone);
                } else {
                    self.not_understood(out);
                }
            }
            Step::CorrectionWhich { flow } => {
                if self.try_direct_correction(out, &flow, text) {
                    return;
                }
                let w = text.to_lowercase();
                let slot = if w.contains("name") || w.contains("spell") {
                    "name"
                } else if w.contains("birth") || w.contains("date") || w.contains("born") {
                    "date_of_birth"
                } else if w.contains("number") || w.contains("phone") || w.contains("call") || w.contains("digit") {
                    "callback"
                } else if w.contains("medic") || w.contains("prescription") {
                    "medication"
                } else if w.contains("time") || w.contains("day") {
                    "preferred_times"
                } else if w.contains("reason") || w.contains("about") || w.contains("message") {
                    "reason"
                } else if yesno::yes_no(text) == Answer::No || w.contains("nothing") {
                    // "No, it's fine actually."
                    self.step = Step::Confirm { flow: flow.clone() };
                    self.read_back(out, &flow);
                    return;
                } else {
                    self.not_understood(out);
                    return;
                };
                match self.script.flows.get(&flow).and_then(|f| f.slots.iter().position(|s| s == slot)) {
                    Some(index) => self.ask_slot(out, &flow, index, true),
                    None => self.not_understood(out),
                }
            }
            Step::Transferring { .. } | Step::Done => {}
        }
    }

    fn on_keys(&mut self, out: &mut Vec<Action>, keys: &str) {
        let keys = keys.trim_end_matches('#');
        match self.step.clone() {
            Step::Slot { flow, index, step, redo } => {
                let slot = self.slot_name(&flow, index);
                match (slot.as_str(), step) {
                    // Keys that do not make a date or a number count as a try like words
                    // do, so the keypad cannot become a loop.
                    ("date_of_birth", step) => match dates::parse_dtmf_date(keys, self.ctx.today) {
                        DobParse::Valid(d) => self.confirm_dob(out, &flow, index, redo, d),
                        DobParse::Invalid { reason } if step == SlotStep::DobKeypad => {
                            self.slot_miss(out, &flow, index, redo, Some(format!("Sorry, {reason}.")))
                        }
                        _ if step == SlotStep::DobKeypad => self.slot_miss(out, &flow, index, redo, None),
                        _ => self.keypad_again(out, &flow, index, redo, Self::keypad_dob),
                    },
                    ("callback", step) => match phone::classify_digits(keys) {
                        PhoneParse::Valid(p) => self.confirm_phone(out, &flow, index, redo, p),
                        other if step == SlotStep::PhoneKeypad => self.slot_miss(out, &flow, index, redo, Some(phone_problem(&other))),
                        _ => self.keypad_again(out, &flow, index, redo, Self::keypad_phone),
                    },
                    _ => self.not_understood(out),
                }
            }
            Step::AwaitIntent | Step::AnythingElse if keys == "0" => self.person(out),
            _ => self.not_understood(out),
        }
    }

    /// An FAQ asked where a yes or no was expected ("Where do I park?" at the read-back):
    /// answered, then the question again.
    fn question_in_passing(&mut self, out: &mut Vec<Action>, text: &str) -> bool {
        let Some(Intent::Faq(topic)) = self.script.matcher.classify(text).map(|m| m.intent) else { return false };
        let Some(answer) = self.script.faq.get(&topic).map(|f| f.answer.clone()) else { return false };
        if !self.record.questions.contains(&topic) {
            self.record.questions.push(topic);
        }
        self.say(out, answer, true);
        let (q, expect) = (self.last_question.clone(), self.last_expect);
        self.ask(out, format!("Now, back to your request. {q}"), expect);
        true
    }

    fn on_request(&mut self, out: &mut Vec<Action>, text: &str) {
        let lower = text.to_lowercase();
        if ADVICE_PHRASES.iter().any(|p| lower.contains(p)) {
            let t = self.script.prompts.no_medical_advice.clone();
            self.say(out, t, true);
            self.start_flow(out, "message", Some(text));
            return;
        }
        match self.script.matcher.classify(text).map(|m| m.intent) {
            Some(Intent::Faq(topic)) => {
                self.misses = 0;
                if let Some(f) = self.script.faq.get(&topic) {
                    let answer = f.answer.clone();
                    if !self.record.questions.contains(&topic) {
                        self.record.questions.push(topic);
                    }
                    self.say(out, answer, true);
                }
                self.step = Step::AnythingElse;
                let q = self.script.prompts.anything_else.clone();
                self.ask(out, q, Expect::Speech);
            }
            Some(Intent::Person) => self.person(out),
            Some(Intent::Goodbye) => self.goodbye(out),
            Some(Intent::Emergency) => self.emergency(out, "other", text),
            Some(intent) => match intent.flow_name() {
                Some(name) if self.script.flows.contains_key(name) => self.start_flow(out, name, None),
                _ => self.not_understood(out),
            },
            None => self.classify_or_not_understood(out, text),
        }
    }

    /// A request no rule understood: asked of the classifier once, with the hold prompt while
    /// it thinks; otherwise (or when it has no answer) not understood, as always. The red-flag
    /// check has already run on these words: an emergency never waits for a model.
    fn classify_or_not_understood(&mut self, out: &mut Vec<Action>, text: &str) {
        if !self.classify || !matches!(self.step, Step::AwaitIntent | Step::AnythingElse) || text.trim().is_empty() {
            return self.not_understood(out);
        }
        let labels = self.script.flows.iter().map(|(name, f)| (name.clone(), f.summary.clone())).collect();
        let mut captured: Vec<String> = Vec::new();
        if let Some(n) = &self.name {
            captured.push(format!("{} {}", n.given, n.family));
        }
        captured.extend(self.spelled.iter().cloned());
        captured.extend(self.record.caller_name.iter().cloned());
        captured.extend(self.record.slots.values().cloned());
        let back = std::mem::replace(&mut self.step, Step::Done);
        self.step = Step::Classifying { back: Box::new(back), text: text.to_string() };
        let hold = self.script.prompts.hold.clone();
        if !hold.trim().is_empty() {
            // Interruptible: a caller who was only pausing goes on over it (see on_heard).
            self.say(out, hold, true);
        }
        out.push(Action::Classify { text: text.to_string(), labels, captured });
    }

    /// The classifier's answer: a request flow of this script starts as if the rules had
    /// recognised it; no answer is "not understood", exactly as without a classifier.
    fn on_classified(&mut self, out: &mut Vec<Action>, label: Option<String>) {
        let Step::Classifying { back, text } = self.step.clone() else { return };
        self.step = *back;
        match label.filter(|l| self.script.flows.contains_key(l)) {
            Some(name) => {
                self.misses = 0;
                self.record.assisted = true;
                // What no rule understood is the request in the caller's own words: it is
                // what the call is about, and they are not asked to say it again.
                self.start_flow(out, &name, Some(&text));
            }
            None => self.not_understood(out),
        }
    }

    fn person(&mut self, out: &mut Vec<Action>) {
        self.misses = 0;
        match (&self.script.transfer_target, self.ctx.open) {
            (Some(target), true) => {
                let target = target.clone();
                let t = self.script.prompts.transferring.clone();
                self.say(out, t, false);
                self.record.transfer = Some(target.clone());
                self.step = Step::Transferring { emergency: false };
                out.push(Action::Transfer(target));
            }
            _ => {
                let t = self.script.prompts.after_hours_person.clone();
                self.say(out, t, true);
                self.offer_message(out);
            }
        }
    }

    fn emergency(&mut self, out: &mut Vec<Action>, label: &str, text: &str) {
        self.record.red_flag = Some(label.to_string());
        let t = self.script.prompts.emergency.clone();
        self.say(out, t, false);
        let target = if self.ctx.open { self.script.emergency_transfer.clone() } else { None };
        match target {
            Some(target) => {
                let t = self.script.prompts.transferring.clone();
                self.say(out, t, false);
                self.record.transfer = Some(target.clone());
                self.step = Step::Transferring { emergency: true };
                out.push(Action::Transfer(target));
            }
            None => {
                // Nobody to hand over to: say it again, then take a message for the care team
                // with the caller's own words as the reason.
                self.start_flow(out, "message", Some(text));
            }
        }
    }

    fn on_transfer_result(&mut self, out: &mut Vec<Action>, result: Result<(), String>) {
        let Step::Transferring { emergency } = self.step else { return };
        match result {
            Ok(()) => {
                self.transfer_succeeded = true;
                self.step = Step::Done;
                out.push(Action::HangUp);
            }
            Err(_) => {
                let t = self.script.prompts.transfer_failed.clone();
                self.say(out, t, true);
                if emergency {
                    let t = self.script.prompts.emergency.clone();
                    self.say(out, t, false);
                    let reason = self.record.transcript.iter().rev().find(|u| u.speaker == Speaker::Caller).map(|u| u.text.clone());
                    self.start_flow(out, "message", reason.as_deref());
                } else {
                    self.offer_message(out);
                }
            }
        }
    }

    fn offer_message(&mut self, out: &mut Vec<Action>) {
        let t = self.script.prompts.offer_message.clone();
        self.say(out, t, true);
        let flow = self.record.intent.clone().filter(|i| self.script.flows.contains_key(i)).unwrap_or_else(|| "message".into());
        self.start_flow(out, &flow, None);
    }

    fn start_flow(&mut self, out: &mut Vec<Action>, name: &str, reason: Option<&str>) {
        self.misses = 0;
        self.readbacks = 0;
        let Some(flow) = self.script.flows.get(name) else {
            self.goodbye(out);
            return;
        };
        if self.record.intent.is_none() || self.record.intent.as_deref() == Some("message") {
            self.record.intent = Some(name.to_string());
        }
        if let Some(r) = reason
            && flow.slots.iter().any(|s| s == "reason")
        {
            self.record.slots.insert("reason".into(), r.to_string());
        }
        let intro = flow.intro.clone();
        self.say(out, intro, true);
        self.next_slot(out, name, 0);
    }

    /// Asks for the first slot at or after `from` that is still empty (neither given nor
    /// marked missing), or reads back.
    fn next_slot(&mut self, out: &mut Vec<Action>, flow: &str, from: usize) {
        let slots = self.script.flows.get(flow).map(|f| f.slots.clone()).unwrap_or_default();
        match (from..slots.len()).find(|&i| !self.record.slots.contains_key(&slots[i]) && !self.record.missing.contains_key(&slots[i])) {
            Some(i) => self.ask_slot(out, flow, i, false),
            None => {
                self.step = Step::Confirm { flow: flow.to_string() };
                self.read_back(out, flow);
            }
        }
    }

    fn slot_name(&self, flow: &str, index: usize) -> String {
        self.script.flows.get(flow).and_then(|f| f.slots.get(index)).cloned().unwrap_or_default()
    }

    fn slot_index(&self, flow: &str, slot: &str) -> Option<usize> {
        self.script.flows.get(flow).and_then(|f| f.slots.iter().position(|s| s == slot))
    }

    fn ask_slot(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool) {
        self.misses = 0;
        self.tries = 0;
        let slot = self.slot_name(flow, index);
        self.record.missing.remove(&slot);
        if slot == "callback"
            && !redo
            && let Some(PhoneParse::Valid(p)) =
                self.ctx.caller.as_deref().map(|c| phone::classify_digits(&c.chars().filter(char::is_ascii_digit).collect::<String>()))
        {
            let last4: String = p.digits()[6..].chars().map(|c| digit_word(c).to_string() + " ").collect();
            self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::CallerIdOffer(p), redo };
            self.ask(
                out,
                format!("Is the number you're calling from, ending in {}, the best one to reach you?", last4.trim()),
                Expect::Speech,
            );
            return;
        }
        let prompt = self.script.slots.get(&slot).map(|p| p.ask.clone()).unwrap_or_default();
        self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::Ask, redo };
        let expect = if matches!(slot.as_str(), "date_of_birth" | "callback") { Expect::Digits } else { Expect::Speech };
        self.ask(out, prompt, expect);
    }

    /// The slot is filled: on to the next one, or back to the read-back after a correction.
    fn slot_done(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool) {
        self.misses = 0;
        self.tries = 0;
        if self.record.slots.contains_key(&self.slot_name(flow, index)) {
            self.unclear_in_a_row = 0;
        }
        if redo {
            self.step = Step::Confirm { flow: flow.into() };
            self.read_back(out, flow);
        } else {
            self.next_slot(out, flow, index + 1);
        }
    }

    /// The call goes on without this detail; staff see it marked missing, with why.
    fn slot_missing(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool, why: &str) {
        let slot = self.slot_name(flow, index);
        self.unclear_in_a_row = if why == "unclear" { self.unclear_in_a_row + 1 } else { 0 };
        if self.unclear_in_a_row >= 2 && !redo {
            // Two details in a row could not be made out: the caller is not going to give the
            // rest either. What there is goes to staff, who have the caller ID.
            let slots = self.script.flows.get(flow).map(|f| f.slots.clone()).unwrap_or_default();
            for s in &slots[index..] {
                if !self.record.slots.contains_key(s) {
                    self.record.missing.insert(s.clone(), "unclear".into());
                }
            }
            self.say(out, "I'll pass on your message as it is.".into(), true);
            self.step = Step::Confirm { flow: flow.into() };
            return self.read_back(out, flow);
        }
        self.record.slots.remove(&slot);
        self.record.missing.insert(slot.clone(), why.to_string());
        if slot == "name" {
            self.name = None;
        }
        if slot == "date_of_birth" {
            self.dob = None;
        }
        if slot == "callback" {
            self.callback = None;
        }
        let t = match why {
            "unclear" => "Let's go on; I'll note that for the staff.",
            _ => "That's all right, we'll go on without it.",
        };
        self.say(out, t.to_string(), true);
        self.slot_done(out, flow, index, redo);
    }

    /// What a caller added after a plain yes ("Yes. I have a sore throat."): kept as the
    /// reason, or the preferred times, when the request has that detail and it is still empty.
    fn volunteered(&mut self, flow: &str, text: &str) {
        let Some(extra) = offscript::volunteered_after_yes(text) else { return };
        let slots = self.script.flows.get(flow).map(|f| f.slots.clone()).unwrap_or_default();
        let empty = |s: &str| slots.iter().any(|x| x == s) && !self.record.slots.contains_key(s);
        let p = preference::parse_preference(&extra);
        if empty("preferred_times")
            && (!p.days.is_empty() || p.part_of_day.is_some())
            && offscript::declines(&extra).is_none()
            && self.script.matcher.classify(&extra).is_none()
            && extra.split_whitespace().count() <= 8
        {
            self.record.slots.insert("preferred_times".into(), format!("{} ({extra})", p.summary()));
        } else if empty("reason") {
            self.record.slots.insert("reason".into(), extra);
        }
    }

    fn on_slot_answer(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, step: SlotStep, redo: bool, text: &str) {
        let slot = self.slot_name(flow, index);
        match (slot.as_str(), step) {
            ("name", SlotStep::Ask) => match names::parse_full_name(text).filter(|_| !self.sounds_like_a_request(text)) {
                Some(n) => {
                    // A spelling given with the name ("Jane Doe, D O E") is already in it.
                    self.spelled = names::parse_spelling(text);
                    self.name = Some(n);
                    if self.spelled.is_some() {
                        self.confirm_spelling(out, flow, index, redo);
                    } else {
                        self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::SpellLastName, redo };
                        let q = self.script.prompts.spell_last_name.clone();
                        self.ask(out, q, Expect::Digits);
                    }
                }
                None => self.unusable(out, flow, index, redo, text, None),
            },
            ("name", SlotStep::SpellLastName) => match names::parse_spelling(&letters_apart(text)).or_else(|| spelled_as_a_word(text)) {
                Some(family) => {
                    if let Some(n) = &mut self.name {
                        n.family = family.clone();
                    }
                    self.spelled = Some(family);
                    self.confirm_spelling(out, flow, index, redo);
                }
                // "My name is Carlos Mendoza" again instead of the letters: take the name.
                None if names::parse_full_name(text).is_some()
                    && !self.sounds_like_a_request(text)
                    && self.tries + 1 < self.script.detail_tries =>
                {
                    self.name = names::parse_full_name(text);
                    self.tries += 1;
                    let q = self.script.prompts.spell_last_name.clone();
                    self.ask(out, q, Expect::Digits);
                }
                None => {
                    let again = self.script.prompts.spell_last_name.clone();
                    self.unusable(out, flow, index, redo, text, Some(again));
                }
            },
            ("name", SlotStep::SpellConfirm) => match yesno::yes_no(text) {
                Answer::Yes => {
                    self.store_name();
                    self.volunteered(flow, text);
                    self.slot_done(out, flow, index, redo);
                }
                answer => {
                    // The caller went straight on to the next detail ("March fifth, 1980"): the
                    // spelling stands, and the date or number is the answer to what comes next.
                    let next = self.script.flows.get(flow).and_then(|f| {
                        (index + 1..f.slots.len())
                            .find(|&i| !self.record.slots.contains_key(&f.slots[i]) && !self.record.missing.contains_key(&f.slots[i]))
                    });
                    let moves_on = answer == Answer::Unclear
                        && !redo
                        && next.is_some_and(|i| match self.slot_name(flow, i).as_str() {
                            "date_of_birth" => {
                                !matches!(dates::parse_date_of_birth(text, self.ctx.today), DobParse::Nothing | DobParse::Invalid { .. })
                            }
                            "callback" => matches!(phone::parse_phone(text), PhoneParse::Valid(_)),
                            _ => false,
                        });
                    if moves_on && let Some(i) = next {
                        self.store_name();
                        self.tries = 0;
                        self.misses = 0;
                        self.step = Step::Slot { flow: flow.into(), index: i, step: SlotStep::Ask, redo };
                        return self.on_slot_answer(out, flow, i, SlotStep::Ask, redo, text);
                    }
                    let current = self.name.clone();
                    match current.as_ref().and_then(|n| names::apply_name_correction(n, text)) {
                        Some(n2) if Some(&n2) != current.as_ref() => {
                            self.tries += 1;
                            self.spelled = Some(n2.family.clone());
                            self.name = Some(n2);
                            if self.tries >= self.script.detail_tries {
                                self.store_name();
                                return self.slot_done(out, flow, index, redo);
                            }
                            self.confirm_spelling(out, flow, index, redo);
                        }
                        _ if answer == Answer::No => {
                            self.tries += 1;
                            if self.tries >= self.script.detail_tries {
                                // Read back twice and still wrong: staff get it as heard.
                                self.store_name();
                                return self.slot_done(out, flow, index, redo);
                            }
                            self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::SpellLastName, redo };
                            self.ask(out, "Okay. Could you spell the part I got wrong, letter by letter? For example: my first name is Jane, J A N E.".into(), Expect::Digits);
                        }
                        _ => self.unusable(out, flow, index, redo, text, None),
                    }
                }
            },
            ("date_of_birth", SlotStep::Ask) | ("date_of_birth", SlotStep::DobKeypad) => self.on_dob(out, flow, index, redo, text),
            ("date_of_birth", SlotStep::DobYear { month, day }) => {
                let month_name = crate::speech::normalize::MONTHS[(month as usize).saturating_sub(1).min(11)];
                match dates::parse_date_of_birth(&format!("{month_name} {day} {text}"), self.ctx.today) {
                    DobParse::Valid(d) => self.confirm_dob(out, flow, index, redo, d),
                    _ => self.on_dob(out, flow, index, redo, text),
                }
            }
            ("date_of_birth", SlotStep::DobConfirm(d)) => match yesno::yes_no(text) {
                Answer::Yes => {
                    self.dob = Some(d);
                    self.record.slots.insert("date_of_birth".into(), d.iso());
                    self.volunteered(flow, text);
                    self.slot_done(out, flow, index, redo);
                }
                answer => {
                    // "No, it's the fifteenth": a date in the answer is taken at once.
                    match dates::parse_date_of_birth(text, self.ctx.today) {
                        DobParse::Valid(d2) if d2 != d => self.confirm_dob(out, flow, index, redo, d2),
                        _ if answer == Answer::No => {
                            self.tries += 1;
                            if self.tries >= self.script.detail_tries {
                                return self.slot_missing(out, flow, index, redo, "unclear");
                            }
                            self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::Ask, redo };
                            let q = self.script.slots.get("date_of_birth").map(|p| p.retry.clone()).unwrap_or_default();
                            self.ask(out, format!("Let's try again. {}", without_apology(&q)), Expect::Digits);
                        }
                        _ => self.unusable(out, flow, index, redo, text, None),
                    }
                }
            },
            ("callback", SlotStep::CallerIdOffer(p)) => match yesno::yes_no(text) {
                Answer::Yes => {
                    self.volunteered(flow, text);
                    self.store_phone(out, flow, index, redo, p)
                }
                answer => match phone::parse_phone(text) {
                    PhoneParse::Valid(p2) => self.confirm_phone(out, flow, index, redo, p2),
                    _ if answer == Answer::No => {
                        self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::Ask, redo };
                        let q = self.script.slots.get("callback").map(|p| p.ask.clone()).unwrap_or_default();
                        self.ask(out, q, Expect::Digits);
                    }
                    _ => self.unusable(out, flow, index, redo, text, None),
                },
            },
            ("callback", SlotStep::Ask) | ("callback", SlotStep::PhoneKeypad) => match phone::parse_phone(text) {
                PhoneParse::Valid(p) => self.confirm_phone(out, flow, index, redo, p),
                PhoneParse::Nothing => self.unusable(out, flow, index, redo, text, None),
                other => {
                    let problem = phone_problem(&other);
                    self.unusable(out, flow, index, redo, text, Some(problem));
                }
            },
            ("callback", SlotStep::PhoneConfirm(p)) => match yesno::yes_no(text) {
                Answer::Yes => {
                    self.volunteered(flow, text);
                    self.store_phone(out, flow, index, redo, p)
                }
                answer => match phone::apply_correction(&p, text) {
                    Some(PhoneParse::Valid(p2)) => self.confirm_phone(out, flow, index, redo, p2),
                    Some(other) => {
                        self.tries += 1;
                        if self.tries >= self.script.detail_tries {
                            return self.slot_missing(out, flow, index, redo, "unclear");
                        }
                        let t = phone_problem(&other);
                        self.say(out, t, true);
                        self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::Ask, redo };
                        let q = self.script.slots.get("callback").map(|p| p.retry.clone()).unwrap_or_default();
                        self.ask(out, q, Expect::Digits);
                    }
                    None if answer == Answer::No => {
                        self.tries += 1;
                        if self.tries >= self.script.detail_tries {
                            return self.slot_missing(out, flow, index, redo, "unclear");
                        }
                        self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::Ask, redo };
                        let q = self.script.slots.get("callback").map(|p| p.retry.clone()).unwrap_or_default();
                        self.ask(out, format!("Okay. {}", without_apology(&q)), Expect::Digits);
                    }
                    None => self.unusable(out, flow, index, redo, text, None),
                },
            },
            (free, _) => {
                // Reason, medication, preferred times: the caller's own words, unless they ask
                // something, change the request, or decline.
                if self.off_script(out, flow, index, redo, text, true) {
                    return;
                }
                // "Yes." or "Okay." is no reason and no time for staff to act on.
                if text.split_whitespace().count() <= 3 && (yesno::yes_no(text) != Answer::Unclear || yesno::is_backchannel(text)) {
                    return self.slot_miss(out, flow, index, redo, None);
                }
                if free == "medication" {
                    let named = medication::corrected(text, crate::speech::stt::COMMON_MEDICATIONS).unwrap_or_else(|| text.to_string());
                    self.record.slots.insert("medication".into(), named);
                } else if free == "preferred_times" {
                    let p = preference::parse_preference(text);
                    let summary = p.summary();
                    let value = if summary.is_empty() { text.to_string() } else { format!("{summary} ({text})") };
                    self.record.slots.insert("preferred_times".into(), value);
                } else {
                    self.record.slots.insert(free.to_string(), text.to_string());
                }
                self.slot_done(out, flow, index, redo);
            }
        }
    }

    /// A medication asked for and a near-miss of a known name heard: the recogniser's low
    /// confidence in a word it half knows is no reason to ask again.
    fn names_a_medication(&self, text: &str) -> bool {
        matches!(&self.step, Step::Slot { flow, index, .. } if self.slot_name(flow, *index) == "medication")
            && medication::find(text, crate::speech::stt::COMMON_MEDICATIONS).is_some()
    }

    /// "Hi, I would like to check the balance on my account" where a name was asked: a
    /// request, not a name. A name is a few words; a sentence that reads as a request is not.
    fn sounds_like_a_request(&self, text: &str) -> bool {
        let lower = text.to_lowercase();
        !lower.contains("name") && text.split_whitespace().count() >= 5 && self.script.matcher.classify(text).is_some()
    }

    /// An answer that is not the detail asked for. In order: a caller who declines (the call
    /// goes on without it), an FAQ asked in passing (answered, then back to the question), a
    /// person or a different request, an address where a date or number was asked, and
    /// otherwise a miss (asked again, the keypad, at last marked unclear).
    fn unusable(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool, text: &str, problem: Option<String>) {
        if self.off_script(out, flow, index, redo, text, false) {
            return;
        }
        let problem = if offscript::is_address(text) { Some("I don't need your address.".to_string()) } else { problem };
        self.slot_miss(out, flow, index, redo, problem);
    }

    /// Handles what is plainly not an answer to the question; false when it may be one.
    /// `free` is set for slots that take the caller's own words (a reason): there an intent is
    /// a new request only when the caller says so ("actually", "instead"), and an FAQ only
    /// when it is asked as a question.
    fn off_script(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool, text: &str, free: bool) -> bool {
        if let Some(d) = offscript::declines(text).filter(|_| !offscript::is_question(text)) {
            let short = text.split_whitespace().count() <= 8;
            if !free || short {
                self.slot_missing(out, flow, index, redo, d.code());
                return true;
            }
        }
        let Some(intent) = self.script.matcher.classify(text).map(|m| m.intent) else { return false };
        match intent {
            Intent::Faq(topic) if !free || offscript::is_question(text) => {
                let Some(answer) = self.script.faq.get(&topic).map(|f| f.answer.clone()) else { return false };
                if !self.record.questions.contains(&topic) {
                    self.record.questions.push(topic);
                }
                self.say(out, answer, true);
                // Back to where the intake was, with the same question.
                let (q, expect) = (self.last_question.clone(), self.last_expect);
                self.ask(out, format!("Now, back to your request. {}", without_apology(&q)), expect);
                true
            }
            Intent::Person if !free || offscript::changes_request(text) => {
                self.person(out);
                true
            }
            Intent::Goodbye if !free => {
                self.goodbye(out);
                true
            }
            other => match other.flow_name() {
                Some(name) if name != flow && self.script.flows.contains_key(name) && (!free || offscript::changes_request(text)) => {
                    // The caller changed what the call is about: the new request, keeping the
                    // details already given.
                    self.record.intent = Some(name.to_string());
                    self.say(out, "Okay, no problem.".into(), true);
                    self.start_flow(out, name, None);
                    true
                }
                _ => false,
            },
        }
    }

    fn on_dob(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool, text: &str) {
        if offscript::is_address(text) {
            return self.unusable(out, flow, index, redo, text, None);
        }
        match dates::parse_date_of_birth(text, self.ctx.today) {
            DobParse::Valid(d) => self.confirm_dob(out, flow, index, redo, d),
            DobParse::MissingYear { month, day } => {
                self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::DobYear { month, day }, redo };
                let q = self.script.prompts.date_year.clone();
                self.ask(out, q, Expect::Digits);
            }
            DobParse::Invalid { reason } => self.unusable(out, flow, index, redo, text, Some(format!("Sorry, {reason}."))),
            DobParse::Nothing => self.unusable(out, flow, index, redo, text, None),
        }
    }

    fn confirm_dob(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool, d: Date) {
        self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::DobConfirm(d), redo };
        self.ask(out, format!("{}. Is that right?", d.spoken()), Expect::Speech);
    }

    /// Keys that make no date or number where words were expected (or at a read-back): a try
    /// like any other, and the keypad is asked for, until `detail_tries`, when the call goes on
    /// without the detail. Counting them is what keeps the keypad from becoming a loop.
    fn keypad_again(
        &mut self,
        out: &mut Vec<Action>,
        flow: &str,
        index: usize,
        redo: bool,
        keypad: fn(&mut Self, &mut Vec<Action>, &str, usize, bool),
    ) {
        self.tries += 1;
        if self.tries >= self.script.detail_tries {
            return self.slot_missing(out, flow, index, redo, "unclear");
        }
        keypad(self, out, flow, index, redo)
    }

    fn keypad_dob(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool) {
        self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::DobKeypad, redo };
        let q = self.script.prompts.keypad_date.clone();
        self.ask(out, q, Expect::Keypad { count: 8 });
    }

    fn confirm_phone(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool, p: PhoneNumber) {
        let t = format!("I have {}. Is that right?", p.grouped_words());
        self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::PhoneConfirm(p), redo };
        self.ask(out, t, Expect::Speech);
    }

    fn store_phone(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool, p: PhoneNumber) {
        self.record.slots.insert("callback".into(), p.digits().to_string());
        self.callback = Some(p);
        self.slot_done(out, flow, index, redo);
    }

    fn keypad_phone(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool) {
        self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::PhoneKeypad, redo };
        let q = self.script.prompts.keypad_phone.clone();
        self.ask(out, q, Expect::Keypad { count: 10 });
    }

    fn store_name(&mut self) {
        if let Some(n) = &self.name {
            self.record.slots.insert("name".into(), n.display());
        }
    }

    /// The name and its spelling, read back as a question, so a misheard letter or first
    /// name can be corrected now rather than at the summary.
    fn confirm_spelling(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool) {
        let Some(n) = self.name.clone() else { return self.slot_miss(out, flow, index, redo, None) };
        // Kept at once, so a caller who hangs up now still left a name.
        self.store_name();
        let letters: Vec<String> = n.family.chars().filter(|c| c.is_alphabetic()).map(|c| c.to_ascii_uppercase().to_string()).collect();
        self.step = Step::Slot { flow: flow.into(), index, step: SlotStep::SpellConfirm, redo };
        self.ask(out, format!("I have {}, spelled {}. Did I get that right?", n.display(), letters.join(" ")), Expect::Speech);
    }

    /// An answer that could not be used: say why and ask again; after `retries` the keypad for
    /// numbers and dates; after `detail_tries` the call goes on with the detail marked missing.
    fn slot_miss(&mut self, out: &mut Vec<Action>, flow: &str, index: usize, redo: bool, problem: Option<String>) {
        self.misses += 1;
        self.tries += 1;
        let slot = self.slot_name(flow, index);
        if self.tries >= self.script.detail_tries {
            return self.slot_missing(out, flow, index, redo, "unclear");
        }
        let Step::Slot { step, .. } = self.step.clone() else { return };
        if self.misses > self.script.retries && !matches!(step, SlotStep::DobKeypad | SlotStep::PhoneKeypad) {
            match slot.as_str() {
                "date_of_birth" => {
                    self.misses = 0;
                    return self.keypad_dob(out, flow, index, redo);
                }
                "callback" => {
                    self.misses = 0;
                    return self.keypad_phone(out, flow, index, redo);
                }
                _ => {}
            }
        }
        let spelling = matches!(step, SlotStep::SpellLastName);
        let keypad = matches!(step, SlotStep::DobKeypad | SlotStep::PhoneKeypad);
        let step = if spelling || keypad { step } else { SlotStep::Ask };
        let retry = if spelling {
            problem.clone().unwrap_or_else(|| self.script.prompts.spell_last_name.clone())
        } else if keypad {
            self.last_question.clone()
        } else {
            self.script.slots.get(&slot).map(|p| p.retry.clone()).unwrap_or_default()
        };
        let expect = self.last_expect;
        self.step = Step::Slot { flow: flow.into(), index, step, redo };
        // One apology per reply: a specific problem ("I only got 7 digits.") then the question;
        // the plain "didn't catch that" only when the question does not apologise itself.
        let problem = if spelling { None } else { problem };
        let sorry = self.script.prompts.not_understood.clone();
        // After the first miss the question is asked again without another "sorry".
        let again = self.tries > 1;
        let retry = if again { without_apology(&retry) } else { retry };
        let lead = match problem {
            Some(p) => Some(p),
            None if !is_apology(&retry) && !again => Some(sorry),
            None => None,
        };
        if let Some(lead) = lead {
            self.say(out, lead, true);
        }
        if retry.is_empty() {
            out.push(Action::Listen(expect));
        } else {
            self.ask(out, retry, expect);
        }
    }

    fn not_understood(&mut self, out: &mut Vec<Action>) {
        if let Step::Slot { flow, index, redo, .. } = self.step.clone() {
            return self.slot_miss(out, &flow, index, redo, None);
        }
        self.misses += 1;
        if self.misses > self.script.retries && matches!(self.step, Step::AwaitIntent | Step::AnythingElse) {
            self.misses = 0;
            // A message already taken is not taken again: the call ends with it.
            if self.record.confirmed {
                return self.goodbye(out);
            }
            return self.offer_message(out);
        }
        if self.misses > self.script.retries + 1
            && let Step::Confirm { flow } | Step::CorrectionWhich { flow } | Step::WhichDetail { flow, .. } = self.step.clone()
        {
            // The read-back could not be settled: pass the message on as it stands.
            self.misses = 0;
            let closing = self.script.prompts.closing.clone();
            self.say(out, closing, true);
            self.step = Step::AnythingElse;
            let q = self.script.prompts.anything_else.clone();
            let _ = flow;
            return self.ask(out, q, Expect::Speech);
        }
        let sorry = self.script.prompts.not_understood.clone();
        self.say(out, sorry, true);
        let q = match self.step {
            Step::AwaitIntent => {
                "How can I help you? For example, you can ask for an appointment, a prescription refill, or to leave a message.".to_string()
            }
            _ => self.last_question.clone(),
        };
        let expect = self.last_expect;
        self.ask(out, q, expect);
    }

    /// A correction at the read-back, routed by what it holds: a date corrects the date of
    /// birth, digits the number, days and times the preferred times, a name the name. A bare
    /// year when both a birth date and a number were given is asked about.
    fn try_direct_correction(&mut self, out: &mut Vec<Action>, flow: &str, text: &str) -> bool {
        let has_dob = self.slot_index(flow, "date_of_birth").is_some();
        let has_phone = self.slot_index(flow, "callback").is_some();
        let date = match dates::parse_date_of_birth(text, self.ctx.today) {
            DobParse::Valid(d) => Some(d),
            _ => None,
        };
        let month_named = crate::speech::normalize::MONTHS.iter().any(|m| text.to_lowercase().contains(&m.to_lowercase()));
        if has_dob && let Some(d) = date {
            let index = self.slot_index(flow, "date_of_birth").unwrap_or(0);
            self.confirm_dob(out, flow, index, true, d);
            return true;
        }
        if month_named {
            return false;
        }
        // A year on its own ("nineteen seventy eight"): the year of birth, or the end of the number?
        let year = self.dob.and_then(|d| {
            match dates::parse_date_of_birth(
                &format!("{} {} {text}", crate::speech::normalize::MONTHS[(d.month as usize).saturating_sub(1).min(11)], d.day),
                self.ctx.today,
            ) {
                DobParse::Valid(d2) if d2.year != d.year => Some(d2),
                _ => None,
            }
        });
        let phone_fix = self.callback.as_ref().filter(|_| has_phone).and_then(|p| match phone::apply_correction(p, text) {
            Some(PhoneParse::Valid(p2)) => Some(p2),
            _ => None,
        });
        let names_number_part = ["ends", "end", "area code", "last", "number", "phone", "starts", "digits", "middle"]
            .iter()
            .any(|w| text.to_lowercase().contains(w));
        match (year, phone_fix) {
            (Some(d), Some(p)) if !names_number_part => {
                self.step = Step::WhichDetail { flow: flow.into(), dob: d, phone: p };
                self.ask(out, "Is that the year you were born, or part of the phone number?".into(), Expect::Speech);
                return true;
            }
            (_, Some(p)) => {
                let index = self.slot_index(flow, "callback").unwrap_or(0);
                self.confirm_phone(out, flow, index, true, p);
                return true;
            }
            (Some(d), None) => {
                let index = self.slot_index(flow, "date_of_birth").unwrap_or(0);
                self.confirm_dob(out, flow, index, true, d);
                return true;
            }
            (None, None) => {}
        }
        if let Some(index) = self.slot_index(flow, "preferred_times") {
            let p = preference::parse_preference(text);
            let lower = text.to_lowercase();
            if (!p.days.is_empty() || p.part_of_day.is_some() || p.soonest) && !lower.contains("name") {
                self.record.slots.insert("preferred_times".into(), format!("{} ({text})", p.summary()));
                let _ = index;
                self.step = Step::Confirm { flow: flow.into() };
                self.read_back(out, flow);
                return true;
            }
        }
        if let Some(n) = &self.name
            && let Some(n2) = names::apply_name_correction(n, text)
            && &n2 != n
        {
            let index = self.slot_index(flow, "name").unwrap_or(0);
            self.name = Some(n2);
            self.tries = 0;
            self.confirm_spelling(out, flow, index, true);
            return true;
        }
        false
    }

    fn read_back(&mut self, out: &mut Vec<Action>, flow: &str) {
        let Some(f) = self.script.flows.get(flow) else { return };
        self.readbacks += 1;
        if self.readbacks > MAX_READBACKS {
            // Corrected three times and still not right: pass it on; staff will check.
            self.say(out, "I'll pass this on as it is, and the staff will check the details with you when they call back.".into(), true);
            self.step = Step::AnythingElse;
            let q = self.script.prompts.anything_else.clone();
            return self.ask(out, q, Expect::Speech);
        }
        let mut parts = vec![f.summary.clone()];
        let s = &self.record.slots;
        if let Some(n) = s.get("name") {
            parts.push(format!("for {n}"));
        }
        if let Some(d) = &self.dob {
            parts.push(format!("born {}", d.spoken()));
        }
        if let Some(p) = &self.callback {
            parts.push(format!("call back at {}", p.grouped_words()));
        }
        if let Some(m) = s.get("medication") {
            parts.push(format!("for {}", m.trim_end_matches(['.', '!', '?', ' '])));
        }
        if let Some(r) = s.get("reason") {
            parts.push(format!("about: {}", r.trim_end_matches(['.', '!', '?', ' '])));
        }
        if let Some(t) = s.get("preferred_times") {
            let t = t.split(" (").next().unwrap_or(t);
            parts.push(format!("preferring {t}"));
        }
        let missing: Vec<String> = f.slots.iter().filter(|k| self.record.missing.contains_key(*k)).map(|k| spoken_detail(k)).collect();
        if !missing.is_empty() {
            parts.push(format!("without {}", join_and(&missing)));
        }
        let mut summary = parts.join(", ");
        if let Some(first) = summary.get(..1) {
            summary = first.to_uppercase() + &summary[1..];
        }
        let text = format!("{} {summary}. Is that all correct?", self.script.prompts.confirm_summary);
        self.ask(out, text, Expect::Speech);
    }

    fn goodbye(&mut self, out: &mut Vec<Action>) {
        let t = self.script.prompts.goodbye.clone();
        self.say(out, t, true);
        self.finish(out);
    }

    fn finish(&mut self, out: &mut Vec<Action>) {
        self.step = Step::Done;
        out.push(Action::HangUp);
    }

    /// Adds a prompt to the reply. A reply never apologises twice in a row: an apology right
    /// after another loses its "Sorry,".
    fn say(&mut self, out: &mut Vec<Action>, text: String, interruptible: bool) {
        if text.trim().is_empty() {
            return;
        }
        let after_apology =
            out.iter().rev().find_map(|a| if let Action::Say { text, .. } = a { Some(is_apology(text)) } else { None }).unwrap_or(false);
        let text = if after_apology && is_apology(&text) { without_apology(&text) } else { text };
        self.said += 1;
        out.push(Action::Say { text, interruptible });
    }

    fn ask(&mut self, out: &mut Vec<Action>, question: String, expect: Expect) {
        if self.said + 1 > MAX_PROMPTS - 2 {
            // A backstop under the per-detail bounds: no caller is questioned without end.
            let t = self.script.prompts.max_duration.clone();
            self.say(out, t, true);
            return self.goodbye(out);
        }
        self.last_question = without_apology(&question);
        self.last_expect = expect;
        self.say(out, question, true);
        out.push(Action::Listen(expect));
    }
}

/// Whisper often writes quickly spelled letters as the word they spell ("SMITH." or "SMITH.
/// SMITH." for "S M I T H"): one word, said once or repeated, is taken as the spelling. The
/// spelling is read back as a question, so a wrong guess is corrected at once.
fn spelled_as_a_word(text: &str) -> Option<String> {
    let ws: Vec<&str> = text.split(|c: char| !c.is_alphabetic() && c != '\'' && c != '-').filter(|w| !w.is_empty()).collect();
    let first = ws.first()?;
    let same = ws.iter().all(|w| w.eq_ignore_ascii_case(first));
    (same && ws.len() <= 3 && first.chars().count() >= 2 && first.chars().any(char::is_uppercase))
        .then(|| names::capitalize_name(&first.to_lowercase()))
}

/// Whether a prompt opens with an apology.
fn is_apology(text: &str) -> bool {
    let t = text.trim_start().to_lowercase();
    ["sorry", "i'm sorry", "i am sorry", "apologies", "my apologies", "pardon"].iter().any(|p| t.starts_with(p))
}

/// "Sorry, could you tell me your name again?" -> "Could you tell me your name again?"; a
/// prompt that is nothing but an apology, or has none, is kept.
fn without_apology(text: &str) -> String {
    if !is_apology(text) {
        return text.to_string();
    }
    let Some(cut) = text.find([',', '.', '!']) else { return text.to_string() };
    let rest = text[cut + 1..].trim_start();
    if rest.is_empty() {
        return text.to_string();
    }
    let mut c = rest.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// A detail as said in the read-back ("without a date of birth").
fn spoken_detail(slot: &str) -> String {
    match slot {
        "name" => "a name".into(),
        "date_of_birth" => "a date of birth".into(),
        "callback" => "a phone number".into(),
        "preferred_times" => "preferred times".into(),
        other => format!("the {}", other.replace('_', " ")),
    }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Whisper sometimes writes spelled letters in groups ("S-M-I-TH."): when every group is at
/// most three capitals and at least half are single letters, the groups are split into letters,
/// so "S-M-I-TH" reads as S M I T H. Anything else is left as it is.
fn letters_apart(text: &str) -> String {
    let groups: Vec<&str> = text.split(|c: char| !c.is_alphabetic()).filter(|g| !g.is_empty()).collect();
    let single = groups.iter().filter(|g| g.chars().count() == 1).count();
    let spelled = groups.len() >= 2
        && single * 2 >= groups.len()
        && groups.iter().all(|g| g.chars().count() <= 3 && g.chars().all(char::is_uppercase));
    if spelled { groups.iter().flat_map(|g| g.chars()).map(String::from).collect::<Vec<_>>().join(" ") } else { text.to_string() }
}

fn digit_word(c: char) -> &'static str {
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][c.to_digit(10).unwrap_or(0) as usize]
}

fn phone_problem(p: &PhoneParse) -> String {
    match p {
        PhoneParse::Incomplete { digits } if !digits.is_empty() => format!("I only got {} digits.", digits.len()),
        PhoneParse::TooLong { .. } => "That sounded like too many digits.".into(),
        PhoneParse::Invalid { reason, .. } => format!("Sorry, {reason}."),
        _ => "Sorry, I didn't catch the number.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(text: &str) -> Input {
        Input::Heard { text: text.into(), confidence: 0.9 }
    }

    fn new_flow(classify: bool) -> Flow {
        let today = Date { year: 2026, month: 11, day: 23 };
        let ctx = CallContext { open: true, today, caller: None, dialled: None, started_at: "2026-11-23T10:00:00-05:00".into() };
        let mut flow = Flow::new(Script::new(&ScriptConfig::default()), ctx);
        if classify {
            flow.enable_classification();
        }
        flow.start();
        flow
    }

    /// Words no rule understands go to the classifier once, with the hold prompt; its label
    /// starts that request; no label (or one that is not a request of this script) leaves the
    /// call exactly where it would be without a classifier.
    #[test]
    fn an_unforeseen_request_is_classified_and_no_answer_changes_nothing() {
        let said = "My kid's school needs a form signed.";
        let mut plain = new_flow(false);
        let without = plain.on_input(1000, heard(said));
        assert!(!without.iter().any(|a| matches!(a, Action::Classify { .. })));

        for label in [None, Some("emergency".to_string()), Some("no_such_flow".to_string())] {
            let mut flow = new_flow(true);
            let asked = flow.on_input(1000, heard(said));
            let hold = flow.script.prompts.hold.clone();
            assert_eq!(asked[0], Action::Say { text: hold, interruptible: true }, "{asked:?}");
            let Action::Classify { text, labels, .. } = &asked[1] else { panic!("{asked:?}") };
            assert_eq!(text, said);
            assert!(labels.iter().any(|(n, d)| n == "refill" && !d.is_empty()), "{labels:?}");
            let after = flow.on_input(2000, Input::Classified(label.clone()));
            assert_eq!(after, without, "with {label:?} the call goes on as without a classifier");
            assert_eq!(flow.step, plain.step);
            assert!(!flow.record.assisted);
        }

        let mut flow = new_flow(true);
        flow.on_input(1000, heard(said));
        let after = flow.on_input(2000, Input::Classified(Some("message".into())));
        let intro = flow.script.flows["message"].intro.clone();
        assert!(after.iter().any(|a| matches!(a, Action::Say { text, .. } if *text == intro)), "{after:?}");
        assert!(flow.record.assisted);
        assert!(matches!(flow.step, Step::Slot { ref flow, .. } if flow == "message"), "{:?}", flow.step);
        assert_eq!(flow.record.slots.get("reason").map(String::as_str), Some(said), "the request is what the message is about");
        // A late answer after the call moved on is ignored.
        assert!(flow.on_input(3000, Input::Classified(Some("refill".into()))).is_empty());

        // The caller goes on while the classifier thinks: both parts are one request, and a
        // rule that understands the whole takes it without the classifier.
        let mut flow = new_flow(true);
        let asked = flow.on_input(1000, heard("Hi, this is Rose Baker."));
        assert!(asked.iter().any(|a| matches!(a, Action::Classify { .. })), "{asked:?}");
        let went_on = flow.on_input(1500, heard("I need a refill of my lisinopril."));
        let intro = flow.script.flows["refill"].intro.clone();
        assert!(went_on.iter().any(|a| matches!(a, Action::Say { text, .. } if *text == intro)), "{went_on:?}");
        assert!(flow.on_input(2000, Input::Classified(Some("message".into()))).is_empty(), "the first part's answer no longer counts");
        assert!(!flow.record.assisted);
    }

    /// Keys that make no date at the date's read-back (a stray key, a second entry cut short)
    /// ask for the keypad again, and count as tries: after `detail_tries` the call goes on
    /// without the date, rather than reading dates back and asking for the keypad for ever.
    #[test]
    fn keys_that_make_no_date_cannot_make_the_keypad_a_loop() {
        let mut flow = new_flow(false);
        for (i, answer) in ["I need a refill please", "John Smith", "S M I T H", "yes"].iter().enumerate() {
            flow.on_input(i as u64 * 1000, heard(answer));
        }
        let at_dob = |f: &Flow| matches!(&f.step, Step::Slot { flow, index, .. } if f.slot_name(flow, *index) == "date_of_birth");
        assert!(at_dob(&flow), "{:?}", flow.step);
        let mut rounds = 0;
        while at_dob(&flow) {
            rounds += 1;
            assert!(rounds <= flow.script.detail_tries, "still at the date of birth after {rounds} rounds: {:?}", flow.step);
            let read_back = flow.on_input(10_000 + rounds as u64, Input::Keys("03051980".into()));
            assert!(read_back.iter().any(|a| matches!(a, Action::Say { text, .. } if text.contains("Is that right?"))), "{read_back:?}");
            flow.on_input(20_000 + rounds as u64, Input::Keys("7".into()));
        }
        assert_eq!(rounds, flow.script.detail_tries);
        assert_eq!(flow.record.missing.get("date_of_birth").map(String::as_str), Some("unclear"));
        assert!(!flow.record.slots.contains_key("date_of_birth"));
    }

    /// Medication names are primed for only while the caller is asked which medication, or
    /// what the call is about; every other turn gets the cheaper everyday prompt.
    #[test]
    fn medications_are_primed_for_only_when_asked_for() {
        let config = ScriptConfig::default();
        let today = Date { year: 2026, month: 11, day: 23 };
        let ctx = CallContext { open: true, today, caller: None, dialled: None, started_at: "2026-11-23T10:00:00-05:00".into() };
        let mut flow = Flow::new(Script::new(&config), ctx);
        flow.start();
        assert_eq!(flow.priming(), Priming::Everyday, "the opening request");
        let (mut primings, mut asked) = (Vec::new(), Vec::new());
        for (i, answer) in [
            "I need a refill please",
            "John Smith",
            "S M I T H",
            "yes",
            "March fifth nineteen eighty",
            "yes",
            "617 555 0199",
            "yes",
            "lisinopril",
            "yes",
        ]
        .iter()
        .enumerate()
        {
            for action in flow.on_input(i as u64 * 1000, heard(answer)) {
                if let Action::Say { text, .. } = action {
                    asked.push(text);
                }
            }
            primings.push(flow.priming());
        }
        let medication_question =
            primings.iter().position(|p| *p == Priming::Medications).unwrap_or_else(|| panic!("never primed for medications: {asked:#?}"));
        assert_eq!(primings.iter().filter(|p| **p == Priming::Medications).count(), 1, "{primings:?}\n{asked:#?}");
        assert!(asked.iter().any(|a| a.contains("Which medication")), "{asked:#?}");
        assert_eq!(medication_question, primings.len() - 3, "primed as the medication is asked, not before: {primings:?}\n{asked:#?}");
    }

    /// A caller who answers the spelling question with the date of birth has moved on: the
    /// spelling stands and the date is taken, not read as a first name ("Twenty").
    #[test]
    fn a_date_after_the_spelling_question_is_the_date_of_birth() {
        let config = ScriptConfig::default();
        let today = Date { year: 2026, month: 11, day: 23 };
        let ctx = CallContext { open: true, today, caller: None, dialled: None, started_at: "2026-11-23T10:00:00-05:00".into() };
        let mut flow = Flow::new(Script::new(&config), ctx);
        flow.start();
        let mut said = Vec::new();
        for (i, answer) in
            ["Can I leave a message?", "My name is Ottoline Brackwater.", "B R A C K W A T E R", "November thirteenth, nineteen twenty one"]
                .iter()
                .enumerate()
        {
            for action in flow.on_input(i as u64 * 1000, heard(answer)) {
                if let Action::Say { text, .. } = action {
                    said.push(text);
                }
            }
        }
        assert_eq!(flow.record.slots.get("name").map(String::as_str), Some("Ottoline Brackwater"), "{said:#?}");
        assert!(said.last().is_some_and(|s| s.contains("November thirteenth, nineteen twenty-one")), "{said:#?}");
    }

    #[test]
    fn a_spelling_written_as_the_word_is_the_spelling() {
        assert_eq!(spelled_as_a_word("SMITH. SMITH.").as_deref(), Some("Smith"));
        assert_eq!(spelled_as_a_word("MENDOZA").as_deref(), Some("Mendoza"));
        assert_eq!(spelled_as_a_word("I don't know"), None);
        assert_eq!(spelled_as_a_word("yes"), None, "a lower-case word is a word, not a spelling");
    }

    #[test]
    fn grouped_capitals_are_split_into_letters() {
        assert_eq!(letters_apart("S-M-I-TH."), "S M I T H");
        assert_eq!(letters_apart("D, O, E"), "D O E", "single letters already read the same either way");
        assert_eq!(letters_apart("It's Smith"), "It's Smith");
        assert_eq!(letters_apart("B as in boy"), "B as in boy");
        assert_eq!(letters_apart("NG-U-Y-EN"), "N G U Y E N");
    }
}
