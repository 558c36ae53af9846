//! Answers that are not the answer asked for: a caller who cannot or will not give a detail,
//! asks to hear the question again, says more than was asked ("Yes. I have a sore throat."),
//! gives an address instead of a date, or changes what the call is about.
//!
//! Why a module of its own: the flow asks a question and expects one kind of value; a real
//! caller answers something else about one turn in five. A receptionist takes "I don't know"
//! as an answer, keeps what was volunteered, and goes back to the question after answering
//! "where do I park?". These are the words that tell the flow which of those happened. Every
//! function here is a pure reading of the text; what to do about it is the flow's business.

use super::words::words;
use super::yesno::{self, Answer};

/// Why a caller did not give a detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decline {
    /// Would rather not say: "I'd rather not say", "I don't want to give that out".
    Refused,
    /// Does not know, or has none: "I don't know", "I can't remember", "I don't have one".
    Unknown,
}

impl Decline {
    /// The code stored in the record's `missing` map.
    pub fn code(self) -> &'static str {
        match self {
            Decline::Refused => "declined",
            Decline::Unknown => "unknown",
        }
    }
}

/// Phrases of a caller who will not give a detail.
const REFUSED: &[&str] = &[
    "rather not",
    "prefer not",
    "don't want to",
    "do not want to",
    "not comfortable",
    "won't give",
    "will not give",
    "not going to give",
    "not going to say",
    "none of your business",
    "skip it",
    "skip that",
    "skip this",
    "not giving",
    "no comment",
    "i'd rather not",
    "pass on that",
];

/// Phrases of a caller who cannot give a detail.
const UNKNOWN: &[&str] = &[
    "don't know",
    "do not know",
    "dont know",
    "not sure",
    "no idea",
    "can't remember",
    "cannot remember",
    "can not remember",
    "don't remember",
    "do not remember",
    "i forgot",
    "don't have",
    "do not have",
    "dont have",
    "haven't got",
    "have not got",
    "don't have one",
    "no phone",
    "no number",
    "not have one",
    "doesn't have",
    "does not have",
    "can't recall",
    "cannot recall",
    "unsure",
    "i have no",
];

/// A short answer that declines the detail asked for. Long turns are not read as declining:
/// "I don't know if the pharmacy got it" is a reason, not a refusal. A caller who says "I'm
/// not sure, March fifth?" did give a value: the flow parses the value before asking this.
pub fn declines(text: &str) -> Option<Decline> {
    let ws = words(text);
    // A question is not an answer: "before I forget, where do I park?".
    if ws.is_empty() || ws.len() > 14 || text.trim_end().ends_with('?') {
        return None;
    }
    let joined = ws.join(" ");
    let has = |list: &[&str]| list.iter().any(|p| contains_phrase(&joined, p));
    if has(REFUSED) {
        Some(Decline::Refused)
    } else if has(UNKNOWN) {
        Some(Decline::Unknown)
    } else {
        None
    }
}

/// Whether `phrase` occurs in `joined` on word boundaries.
fn contains_phrase(joined: &str, phrase: &str) -> bool {
    joined.match_indices(phrase).any(|(at, _)| {
        let before = joined[..at].chars().next_back();
        let after = joined[at + phrase.len()..].chars().next();
        before.is_none_or(|c| c == ' ') && after.is_none_or(|c| c == ' ')
    })
}

/// "What?", "Sorry?", "Can you say that again?", "What do you mean?": the caller wants the
/// question again, not an apology for not understanding them.
pub fn asks_to_repeat(text: &str) -> bool {
    let ws = words(text);
    if ws.is_empty() || ws.len() > 12 {
        return false;
    }
    let joined = ws.join(" ");
    const WHOLE: &[&str] = &[
        "what",
        "sorry",
        "pardon",
        "huh",
        "excuse me",
        "come again",
        "what was that",
        "what's that",
        "pardon me",
        "sorry what",
        "i'm sorry",
        "say again",
    ];
    const PARTS: &[&str] = &[
        "say that again",
        "repeat that",
        "repeat the question",
        "say it again",
        "repeat it",
        "what do you mean",
        "what did you say",
        "didn't hear",
        "did not hear",
        "didn't catch",
        "don't understand",
        "do not understand",
        "didn't understand",
        "what do you need",
        "what was the question",
        "one more time",
        "who is this",
        "what is this",
    ];
    WHOLE.contains(&joined.as_str()) || PARTS.iter().any(|p| contains_phrase(&joined, p))
}

/// Words that open what a caller adds after answering a yes/no question and that carry
/// nothing for staff ("Yes, that's right", "Yes, thank you").
const EMPTY_ADDITIONS: &[&str] = &[
    "that's right",
    "that is right",
    "that's correct",
    "that is correct",
    "correct",
    "right",
    "thank you",
    "thanks",
    "please",
    "it is",
    "that's it",
    "that's all",
    "perfect",
    "great",
    "good",
    "okay",
    "ok",
    "sure",
    "exactly",
    "yep",
    "yes",
    "yeah",
    "thank you very much",
    "that's me",
    "all good",
    "sounds good",
    "that's fine",
    "fine",
];

/// What a caller volunteered after a plain yes: "Yes. I have a sore throat." gives "I have a
/// sore throat." The first clause must be a yes and nothing else (a correction after "yes, but"
/// is a No, see [`yesno::yes_no`]); the rest must be more than politeness.
pub fn volunteered_after_yes(text: &str) -> Option<String> {
    if yesno::yes_no(text) != Answer::Yes {
        return None;
    }
    // The first clause ends at the first , . ! ? ; after which the rest is kept as said.
    let cut = text.find([',', '.', '!', '?', ';'])?;
    let (first, rest) = (&text[..cut], text[cut + 1..].trim());
    if yesno::yes_no(first) != Answer::Yes || words(first).len() > 4 {
        return None;
    }
    // Clauses of politeness after the yes are dropped: "Yes, that's right. I have a cough."
    let mut rest = rest;
    loop {
        let end = rest.find(['.', '!', '?', ',', ';']).unwrap_or(rest.len());
        let clause = words(&rest[..end]).join(" ");
        if clause.is_empty() || EMPTY_ADDITIONS.contains(&clause.as_str()) {
            if end >= rest.len() {
                return None;
            }
            rest = rest[end + 1..].trim();
        } else {
            break;
        }
    }
    let ws = words(rest);
    (ws.len() >= 2 && !yesno::is_backchannel(rest)).then(|| rest.to_string())
}

/// Street words: an address given where a date or a number was asked for ("Forty two Maple
/// Street") must not be read as a birthday missing its year.
const STREET_WORDS: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "drive",
    "dr",
    "lane",
    "ln",
    "boulevard",
    "blvd",
    "court",
    "ct",
    "way",
    "place",
    "terrace",
    "circle",
    "highway",
    "parkway",
    "apartment",
    "apt",
    "suite",
    "unit",
    "route",
];

/// A street address.
pub fn is_address(text: &str) -> bool {
    let ws = words(text);
    let has_street = ws.iter().any(|w| STREET_WORDS.contains(&w.as_str()));
    let has_number = ws.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()))
        || ws.iter().any(|w| super::numbers::parse_number(std::slice::from_ref(w)).is_some());
    has_street && has_number
}

/// "Actually, I need a refill instead", "Wait, I'd rather cancel": the caller changes what the
/// call is about, so an intent in a free-text answer is a new request, not the answer.
pub fn changes_request(text: &str) -> bool {
    let joined = words(text).join(" ");
    ["actually", "instead", "changed my mind", "change my mind", "rather", "wait", "on second thought", "scratch that", "never mind"]
        .iter()
        .any(|p| contains_phrase(&joined, p))
}

/// Sounds like a question ("Where do I park?", "do you take Medicare"): an FAQ asked in the
/// middle of an intake is answered only when it is asked, not when a reason mentions parking.
pub fn is_question(text: &str) -> bool {
    let t = text.trim_end();
    if t.ends_with('?') {
        return true;
    }
    let ws = words(text);
    let lead = ["where", "what", "when", "how", "do", "does", "are", "is", "can", "could", "will", "which", "who"];
    ws.first().is_some_and(|w| lead.contains(&w.as_str()))
        || ws.windows(2).any(|p| p[0] == "wondering" || (p[0] == "want" && p[1] == "to" && ws.contains(&"know".to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_who_cannot_or_will_not_give_a_detail() {
        for t in [
            "I don't know.",
            "I'd rather not say.",
            "I don't have one.",
            "I can't remember.",
            "No idea, sorry.",
            "I'm not sure.",
            "I'd prefer not to give that out.",
            "I don't have a phone.",
        ] {
            assert!(declines(t).is_some(), "{t:?}");
        }
        assert_eq!(declines("I'd rather not say."), Some(Decline::Refused));
        assert_eq!(declines("I don't have one"), Some(Decline::Unknown));
        for t in [
            "Oh, before I forget, where do I park?",
            "John Smith",
            "March fifth, nineteen eighty",
            "Yes.",
            "I don't know if the pharmacy ever got the prescription you sent last week for my mother",
            "Tuesday morning",
        ] {
            assert_eq!(declines(t), None, "{t:?}");
        }
    }

    #[test]
    fn asking_for_the_question_again() {
        for t in ["What?", "Sorry?", "Can you say that again?", "What do you mean?", "I didn't hear you.", "Pardon?", "Who is this?"] {
            assert!(asks_to_repeat(t), "{t:?}");
        }
        for t in ["What are your hours?", "Yes.", "John Smith", "What time do you open on Saturday?"] {
            assert!(!asks_to_repeat(t), "{t:?}");
        }
    }

    #[test]
    fn what_a_caller_adds_after_yes() {
        assert_eq!(volunteered_after_yes("Yes. I have a sore throat.").as_deref(), Some("I have a sore throat."));
        assert_eq!(volunteered_after_yes("Yeah, that's right. It's about my back pain.").as_deref(), Some("It's about my back pain."));
        assert_eq!(volunteered_after_yes("Yes, that's right."), None);
        assert_eq!(volunteered_after_yes("Yes. Thank you."), None);
        assert_eq!(volunteered_after_yes("Yes."), None);
        assert_eq!(volunteered_after_yes("Yes, but the last digit is two."), None, "a correction is a No");
        assert_eq!(volunteered_after_yes("No. I have a cough."), None);
    }

    #[test]
    fn addresses_are_told_from_dates() {
        assert!(is_address("Forty two Maple Street."));
        assert!(is_address("It's 12 Elm Drive, apartment 3"));
        assert!(!is_address("March fifth, nineteen eighty"));
        assert!(!is_address("I live on Main Street"));
    }

    #[test]
    fn questions_and_changed_minds() {
        assert!(is_question("Where do I park?"));
        assert!(is_question("do you take medicare"));
        assert!(!is_question("I have a sore throat."));
        assert!(changes_request("Actually, I need a refill instead."));
        assert!(!changes_request("I need a refill."));
    }
}
