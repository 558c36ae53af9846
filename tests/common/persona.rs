//! Callers with a mind of their own, for conversation tests: each answers what the agent
//! actually asked (not a fixed list of lines), the way a kind of caller would. The same
//! persona drives `frontdesk simulate --audio` (tests/personas.rs) and a SIP call through the
//! listening caller (tests/conversation_sip.rs).

/// What a caller does after the agent has finished talking.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Says these words.
    Say(String),
    /// Presses these keys (RFC 4733 over SIP, `<dtmf ...>` in simulate).
    Keys(String),
    /// Says nothing until the agent speaks again (or the call ends).
    Silence,
    /// Hangs up.
    HangUp,
}

/// A caller that listens: `agent` is everything the agent said since the caller last spoke
/// (on a call, as the caller's own recogniser heard it; in simulate, the agent's text).
pub trait Persona: Send {
    fn name(&self) -> &str;
    fn reply(&mut self, agent: &str) -> Reply;
}

/// A kind of detail the agent asks for, recognised from the words of its question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ask {
    Request,
    Name,
    Spelling,
    SpellingCheck,
    Dob,
    Year,
    DobCheck,
    CallerId,
    Phone,
    PhoneCheck,
    Reason,
    Medication,
    Times,
    Summary,
    WhichDetail,
    YearOrNumber,
    KeypadDate,
    KeypadPhone,
    AnythingElse,
    Unknown,
}

/// What the agent is asking, from its last question (the text before it may be an FAQ answer
/// or an apology). Works on the agent's own text and on Whisper's transcript of its voice.
pub fn classify(agent: &str) -> Ask {
    let lower = agent.to_lowercase();
    // The last sentence that asks something; else the whole text.
    let q = lower
        .rsplit_terminator(['.', '!'])
        .map(str::trim)
        .find(|s| s.ends_with('?') || s.contains("keypad") || s.contains("spell") || s.contains("letter by letter"))
        .unwrap_or(&lower);
    let q = q.to_string();
    let has = |w: &str| q.contains(w);
    if has("keypad") {
        return if has("date") || has("birth") || has("month") { Ask::KeypadDate } else { Ask::KeypadPhone };
    }
    if has("year you were born, or") || (has("year") && has("phone number")) {
        return Ask::YearOrNumber;
    }
    if has("what should i change") {
        return Ask::WhichDetail;
    }
    if has("did i get that right") {
        return Ask::SpellingCheck;
    }
    if has("all correct") || lower.contains("read that back") {
        return Ask::Summary;
    }
    if has("calling from") {
        return Ask::CallerId;
    }
    if has("is that right") || has("is that correct") {
        return if q.chars().filter(char::is_ascii_digit).count() >= 7 || lower.contains("i have") {
            Ask::PhoneCheck
        } else {
            Ask::DobCheck
        };
    }
    // "letter by letter" too: the caller's recogniser once wrote "Could you style your last
    // name for me, letter by letter?" (CI, 2026-12-07).
    if has("spell") || has("letter by letter") {
        return Ask::Spelling;
    }
    if has("what year") || has("year were you born") {
        return Ask::Year;
    }
    if has("medication") || has("prescription") {
        return Ask::Medication;
    }
    if has("name") {
        return Ask::Name;
    }
    if has("date of birth") || has("born") || has("birthday") {
        return Ask::Dob;
    }
    if has("number") || has("reach you") {
        return Ask::Phone;
    }
    if has("medication") || has("prescription") {
        return Ask::Medication;
    }
    if has("about") {
        return Ask::Reason;
    }
    if has("days") || has("time") {
        return Ask::Times;
    }
    if has("anything else") || has("what else") {
        return Ask::AnythingElse;
    }
    if has("help") {
        return Ask::Request;
    }
    Ask::Unknown
}

/// Who the caller is and what they want: the truth the record is checked against.
#[derive(Debug, Clone)]
pub struct Facts {
    pub given: &'static str,
    pub family: &'static str,
    /// (year, month, day); None: the caller does not give one.
    pub dob: Option<(i32, u8, u8)>,
    /// Ten digits; None: the caller has none to give.
    pub phone: Option<&'static str>,
}

/// A caller: facts, the words they use, and their habits. Each field is how this caller says
/// it; `reply` picks by what the agent asked.
#[derive(Debug, Clone)]
pub struct Caller {
    pub label: &'static str,
    pub facts: Facts,
    pub request: &'static str,
    pub name_said: &'static str,
    pub spelling_said: &'static str,
    pub dob_said: &'static str,
    pub year_said: &'static str,
    pub phone_said: &'static str,
    pub reason_said: &'static str,
    pub medication_said: &'static str,
    pub times_said: &'static str,
    /// What the caller says instead of the first answer to a kind of question (an FAQ, a
    /// change of request, an emergency, "Sorry, what?").
    pub instead: Vec<(Ask, &'static str)>,
    /// Kinds of question this caller declines, with the words.
    pub declines: Vec<(Ask, &'static str)>,
    /// Answers "Yes." to everything (the vague caller).
    pub yes_man: bool,
    /// Caller ID the line shows (for the "number you're calling from" offer).
    pub caller_id: Option<&'static str>,
    /// Says yes to every read-back. Over a phone line the caller's own recogniser is what
    /// hears the read-back, and it mishears more than the agent does ("spelb smit"): a caller
    /// checking by that ear would correct what was right.
    pub trusting: bool,
    asked: Vec<Ask>,
    pub turns: usize,
}

impl Caller {
    pub fn new(label: &'static str, facts: Facts, request: &'static str) -> Caller {
        Caller {
            label,
            facts,
            request,
            name_said: "",
            spelling_said: "",
            dob_said: "",
            year_said: "",
            phone_said: "",
            reason_said: "",
            medication_said: "",
            times_said: "Monday morning.",
            instead: Vec::new(),
            declines: Vec::new(),
            yes_man: false,
            caller_id: None,
            trusting: false,
            asked: Vec::new(),
            turns: 0,
        }
    }

    fn letters(word: &str) -> String {
        word.chars().filter(|c| c.is_alphabetic()).map(|c| c.to_ascii_uppercase().to_string()).collect::<Vec<_>>().join(" ")
    }

    /// The date the agent read back, if it holds one.
    fn date_in(text: &str) -> Option<(i32, u8, u8)> {
        let today = frontdesk::call::understand::dates::Date { year: 2026, month: 11, day: 23 };
        // Only the part after "born" in a summary, the whole text in a date read-back.
        let part = text
            .to_lowercase()
            .split_once("born")
            .map(|(_, r)| r.split(", call").next().unwrap_or(r).to_string())
            .unwrap_or_else(|| text.to_string());
        match frontdesk::call::understand::dates::parse_date_of_birth(&part, today) {
            frontdesk::call::understand::dates::DobParse::Valid(d) => Some((d.year, d.month, d.day)),
            _ => None,
        }
    }

    /// The phone number the agent read back, if it holds one.
    fn phone_in(text: &str) -> Option<String> {
        let lower = text.to_lowercase();
        let part = lower
            .split_once("call back at")
            .map(|(_, r)| r.to_string())
            .or_else(|| lower.split_once("i have").map(|(_, r)| r.to_string()))
            .unwrap_or(lower);
        let part = part.split(", about").next().unwrap_or(&part).split(", for").next().unwrap_or(&part).to_string();
        match frontdesk::call::understand::phone::parse_phone(&part) {
            frontdesk::call::understand::phone::PhoneParse::Valid(p) => Some(p.digits().to_string()),
            _ => None,
        }
    }

    fn name_right(&self, text: &str) -> (bool, bool) {
        let lower = text.to_lowercase();
        let family_letters = Self::letters(self.facts.family).to_lowercase();
        let family_ok = lower.contains(&self.facts.family.to_lowercase()) || lower.contains(&family_letters);
        (lower.contains(&self.facts.given.to_lowercase()), family_ok)
    }

    fn dob_words(&self) -> &'static str {
        self.dob_said
    }

    fn answer(&mut self, ask: Ask, agent: &str) -> Reply {
        let say = |t: &str| Reply::Say(t.to_string());
        if self.yes_man {
            return say("Yes.");
        }
        if let Some(i) = self.instead.iter().position(|(k, _)| *k == ask) {
            let (_, words) = self.instead.remove(i);
            return say(words);
        }
        if let Some((_, words)) = self.declines.iter().find(|(k, _)| *k == ask) {
            return say(words);
        }
        if self.trusting && matches!(ask, Ask::SpellingCheck | Ask::DobCheck | Ask::PhoneCheck | Ask::Summary) {
            return say("Yes, that's right.");
        }
        match ask {
            Ask::Request => say(self.request),
            Ask::Name => say(self.name_said),
            Ask::Spelling => say(self.spelling_said),
            Ask::SpellingCheck => match self.name_right(agent) {
                (true, true) => say("Yes, that's right."),
                (false, _) => Reply::Say(format!("No, my first name is {}, {}.", self.facts.given, Self::letters(self.facts.given))),
                (true, false) => Reply::Say(format!("No, my last name is {}.", Self::letters(self.facts.family))),
            },
            Ask::Dob => say(self.dob_words()),
            Ask::Year => say(self.year_said),
            Ask::DobCheck => match Self::date_in(agent) {
                Some(d) if Some(d) == self.facts.dob => say("Yes."),
                _ => Reply::Say(format!("No, it's {}", self.dob_said)),
            },
            Ask::CallerId => {
                if self.caller_id.is_some() && self.caller_id == self.facts.phone {
                    say("Yes, that's the best number.")
                } else {
                    say("No, please use another number.")
                }
            }
            Ask::Phone => say(self.phone_said),
            Ask::PhoneCheck => match Self::phone_in(agent) {
                Some(p) if Some(p.as_str()) == self.facts.phone => say("Yes."),
                _ => Reply::Say(format!("No, it's {}", self.phone_said)),
            },
            Ask::Reason => say(self.reason_said),
            Ask::Medication => say(self.medication_said),
            Ask::Times => say(self.times_said),
            Ask::Summary => {
                let (given, family) = self.name_right(agent);
                if agent.to_lowercase().contains(" for ") && !(given && family) && !self.declines.iter().any(|(k, _)| *k == Ask::Name) {
                    return Reply::Say(format!(
                        "No, my name is {} {}, {}.",
                        self.facts.given,
                        self.facts.family,
                        Self::letters(self.facts.family)
                    ));
                }
                let declined = |k: Ask| self.declines.iter().any(|(d, _)| *d == k);
                if self.facts.dob.is_some() && !declined(Ask::Dob) && Self::date_in(agent) != self.facts.dob {
                    return Reply::Say(format!("No, my date of birth is {}", self.dob_said));
                }
                if let Some(p) = self.facts.phone
                    && Self::phone_in(agent).as_deref() != Some(p)
                    && !self.phone_said.is_empty()
                    && !declined(Ask::Phone)
                {
                    return Reply::Say(format!("No, my phone number is {}", self.phone_said));
                }
                say("Yes, that's right.")
            }
            Ask::WhichDetail => say("The date of birth."),
            Ask::YearOrNumber => say("The year I was born."),
            Ask::KeypadDate => match self.facts.dob {
                Some((y, m, d)) => Reply::Keys(format!("{m:02}{d:02}{y}#")),
                None => say("I don't know it."),
            },
            Ask::KeypadPhone => match self.facts.phone {
                Some(p) => Reply::Keys(format!("{p}#")),
                None => say("I don't have one."),
            },
            Ask::AnythingElse => say("No, thank you. Goodbye."),
            Ask::Unknown => say("Sorry, what was that?"),
        }
    }
}

impl Persona for Caller {
    fn name(&self) -> &str {
        self.label
    }

    fn reply(&mut self, agent: &str) -> Reply {
        self.turns += 1;
        if self.turns > 60 {
            return Reply::HangUp;
        }
        let ask = classify(agent);
        self.asked.push(ask);
        self.answer(ask, agent)
    }
}

/// John Smith, born March fifth 1980, on 617 555 0199: the caller who says the usual things.
/// Each persona changes what makes it one.
pub fn john_smith(label: &'static str, request: &'static str) -> Caller {
    let facts = Facts { given: "John", family: "Smith", dob: Some((1980, 3, 5)), phone: Some("6175550199") };
    let mut c = Caller::new(label, facts, request);
    c.name_said = "My name is John Smith.";
    c.spelling_said = "S. M. I. T. H.";
    c.dob_said = "March fifth, nineteen eighty.";
    c.year_said = "Nineteen eighty.";
    c.phone_said = "Six one seven, five five five, zero one nine nine.";
    c.reason_said = "I have a sore throat.";
    c.medication_said = "Lisinopril.";
    c
}
