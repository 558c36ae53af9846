//! Yes/no answers and backchannels.
//!
//! The agent reads things back ("Is that 555-1234?") and asks yes/no questions; callers answer
//! in every way English allows, and often correct in the same breath ("Yes, but the last digit
//! is 2"). A confirmation must not be taken as Yes when the caller is correcting, so anything
//! with a correction is No: the engine then asks again or applies the correction.
//!
//! Separately, [`is_backchannel`] tells the barge-in logic that "mm-hmm" while the agent talks
//! is listening, not interrupting.

use super::words::words;

/// What a caller's answer to a yes/no question means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Answer {
    /// Agreement: "yes", "that's right", "mm-hmm".
    Yes,
    /// Disagreement, including a yes followed by a correction.
    No,
    /// Neither: "I don't know", "maybe", "what?", or no answer words at all. The agent should
    /// ask again.
    Unclear,
}

/// Words in the text, grouped by clause (, . ; : ! ? end a clause), with Whisper's split
/// spellings of "uh-huh", "mm-hmm" joined back.
fn clauses(text: &str) -> Vec<Vec<String>> {
    text.split([',', '.', ';', ':', '!', '?']).map(|piece| join_noises(words(piece))).filter(|c| !c.is_empty()).collect()
}

fn join_noises(ws: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(ws.len());
    for w in ws {
        let joined = match (out.last().map(String::as_str), w.as_str()) {
            (Some("uh"), "huh") => Some("uh-huh"),
            (Some("mm" | "mmm" | "m"), "hmm" | "hm") => Some("mm-hmm"),
            (Some("mm"), "mm") => Some("mm-mm"),
            (Some("all"), "right") => Some("alright"),
            _ => None,
        };
        match joined {
            Some(j) => {
                out.pop();
                out.push(j.to_string());
            }
            None => out.push(w),
        }
    }
    // "Uh uh." on its own is Whisper's "uh-uh" (no); inside a longer clause it is hesitation.
    if out.len() == 2 && out[0] == "uh" && out[1] == "uh" {
        return vec!["uh-uh".to_string()];
    }
    out
}

/// Hesitation and politeness that may precede the answer word.
const FILLERS: &[&str] = &[
    "uh", "um", "umm", "uhh", "er", "erm", "ah", "oh", "well", "so", "sorry", "hmm", "hm", "like", "i", "mean", "think", "guess", "ma'am",
    "sir", "hey", "oops", "wait", "hold", "on",
];

/// Single words that are a yes on their own.
#[rustfmt::skip]
const YES_WORDS: &[&str] = &[
    "yes", "yeah", "yea", "yah", "ya", "yep", "yup", "yess", "sure", "correct", "right", "exactly",
    "absolutely", "definitely", "certainly", "uh-huh", "mm-hmm", "mhm", "mmhmm", "mm-hm",
    "affirmative", "okay", "ok", "alright", "perfect", "indeed", "true", "precisely", "totally",
    "yessir", "aye", "great",
];

/// Multi-word yeses; checked before single words so "no problem" is not a no.
#[rustfmt::skip]
const YES_PHRASES: &[&[&str]] = &[
    &["that's", "right"], &["that", "is", "right"], &["that's", "correct"],
    &["that", "is", "correct"], &["it", "is"], &["it's", "correct"], &["it's", "right"],
    &["that's", "it"], &["that", "is", "it"], &["you", "got", "it"], &["you're", "right"],
    &["you", "are", "right"], &["sounds", "good"], &["sounds", "right"], &["of", "course"],
    &["no", "problem"], &["not", "a", "problem"], &["no", "worries"], &["why", "not"], &["i", "do"],
    &["i", "am"], &["i", "did"], &["i", "have"], &["it", "does"], &["we", "do"], &["so"],
    &["please"], &["that", "works"], &["that's", "fine"], &["that's", "good"], &["that's", "true"],
    &["all", "good"], &["looks", "good"], &["that'll", "work"], &["o", "k"],
];

/// Single words that are a no on their own.
#[rustfmt::skip]
const NO_WORDS: &[&str] = &[
    "no", "nope", "nah", "uh-uh", "mm-mm", "nuh-uh", "incorrect", "wrong", "negative", "not",
    "never", "isn't", "wasn't", "ain't", "don't", "doesn't", "didn't", "nay", "almost", "mostly",
    "nearly", "close", "partly",
];

/// Multi-word noes.
#[rustfmt::skip]
const NO_PHRASES: &[&[&str]] = &[
    &["that's", "wrong"], &["that", "is", "wrong"], &["that's", "not"], &["that", "is", "not"],
    &["that", "isn't"], &["it's", "not"], &["it", "is", "not"], &["it", "isn't"], &["not", "quite"],
    &["not", "really"], &["i", "don't", "think", "so"], &["i", "don't"], &["i'm", "not"],
    &["i", "am", "not"], &["i", "didn't"], &["i", "haven't"], &["it", "doesn't"], &["we", "don't"],
    &["you're", "wrong"], &["that's", "incorrect"],
];

/// Phrases that, anywhere in a clause, mean the caller does not know or did not understand.
#[rustfmt::skip]
const UNCLEAR_PHRASES: &[&[&str]] = &[
    &["don't", "know"], &["dunno"], &["not", "sure"], &["maybe"], &["perhaps"], &["possibly"],
    &["probably"], &["pardon"], &["excuse", "me"], &["come", "again"], &["say", "that", "again"],
    &["repeat"], &["can't", "remember"], &["don't", "remember"], &["no", "idea"],
    &["not", "certain"], &["hard", "to", "say"], &["didn't", "catch"], &["didn't", "hear"],
];

/// Words that, opening a clause, make it a question back rather than an answer ("What?",
/// "Huh?", "What did you say?").
const UNCLEAR_OPENERS: &[&str] = &["what", "huh", "who", "which", "when", "where", "how", "eh"];

/// Words that turn a yes into a correction when more words follow them.
const CORRECTION_MARKERS: &[&str] = &["but", "except", "actually", "however", "though", "although"];

fn starts_with(words: &[String], phrase: &[&str]) -> bool {
    words.len() >= phrase.len() && phrase.iter().zip(words).all(|(p, w)| w == p)
}

fn contains(words: &[String], phrase: &[&str]) -> bool {
    (0..words.len()).any(|i| starts_with(&words[i..], phrase))
}

/// The verdict of one clause, before looking at the other clauses.
fn clause_verdict(clause: &[String]) -> Answer {
    // Hedges anywhere in the clause make it unclear ("yes, maybe", "probably not").
    if UNCLEAR_PHRASES.iter().any(|p| contains(clause, p)) {
        return Answer::Unclear;
    }
    // Skip hesitation, but never skip a word that is itself an answer ("uh-huh" is not "uh").
    let mut start = 0;
    while start < clause.len() && FILLERS.contains(&clause[start].as_str()) {
        let rest = &clause[start..];
        if YES_PHRASES.iter().chain(NO_PHRASES).any(|p| starts_with(rest, p)) {
            break;
        }
        start += 1;
    }
    let rest = &clause[start..];
    if rest.first().is_some_and(|w| UNCLEAR_OPENERS.contains(&w.as_str())) {
        return Answer::Unclear;
    }
    // Yes phrases first: "no problem" and "that's it" are agreement.
    if YES_PHRASES.iter().any(|p| starts_with(rest, p) && !negated_after(rest, p.len())) {
        return Answer::Yes;
    }
    if NO_PHRASES.iter().any(|p| starts_with(rest, p)) {
        return Answer::No;
    }
    match rest.first().map(String::as_str) {
        Some(w) if NO_WORDS.contains(&w) => Answer::No,
        Some(w) if YES_WORDS.contains(&w) => {
            // "Yes it's not" / "right, no" inside one clause: a no later in the clause wins.
            if rest[1..].iter().any(|w| NO_WORDS.contains(&w.as_str()) && w != "not") { Answer::No } else { Answer::Yes }
        }
        _ => Answer::Unclear,
    }
}

/// "it is not", "that's right not" — a yes phrase immediately followed by "not".
fn negated_after(words: &[String], at: usize) -> bool {
    words.get(at).is_some_and(|w| w == "not" || w == "n't")
}

/// Reads a caller's answer to a yes/no question ("Is your date of birth March 5th?").
///
/// Rules, in order:
/// - Clauses are read in order and the first one that is a clear Yes or No decides: "no, yes,
///   sorry, yes" is No. A caller who changes their mind gets asked again (or their correction
///   applied) rather than having a wrong read-back confirmed. Clauses with no answer words
///   ("uh", "let me see") are skipped; hedges ("maybe", "I don't know", "what?") make a clause
///   Unclear, and if no clause is clear the answer is Unclear.
/// - A Yes followed by a correction is No: "but"/"except"/"actually"/"however"/"though"/"only"
///   with words after it ("Yes, but the last digit is 2", "Yeah, actually it's 5"). "Yes,
///   actually." alone stays Yes.
/// - "No problem", "no worries", "why not", "not a problem" are Yes; "I do", "it is", "I am"
///   are Yes and "I don't", "it isn't", "I'm not" are No, because those answer "do you…?" and
///   "is it…?" questions.
/// - "No, it ends in 4" is No (the engine looks for the correction itself).
pub fn yes_no(text: &str) -> Answer {
    let clauses = clauses(text);
    for (k, clause) in clauses.iter().enumerate() {
        match clause_verdict(clause) {
            Answer::Unclear => continue,
            Answer::No => return Answer::No,
            Answer::Yes => {
                return if corrected_after(clause, &clauses[k + 1..]) { Answer::No } else { Answer::Yes };
            }
        }
    }
    Answer::Unclear
}

/// Is there a correction marker followed by more words in this clause (after its first word)
/// or at the start of a later clause?
fn corrected_after(clause: &[String], later: &[Vec<String>]) -> bool {
    let words_after_marker = |ws: &[String], from: usize| {
        ws.iter().enumerate().skip(from).any(|(i, w)| CORRECTION_MARKERS.contains(&w.as_str()) && has_content(&ws[i + 1..]))
    };
    if words_after_marker(clause, 1) {
        return true;
    }
    // "Yes. Actually, the last digit is 2": the marker opens a later clause and content follows
    // it somewhere after. Any later clause that is a No ("Yeah, no.", "Yes, it's not 4")
    // also makes the answer a correction.
    let opens_correction = later.iter().enumerate().any(|(k, c)| {
        c.first().is_some_and(|w| CORRECTION_MARKERS.contains(&w.as_str()))
            && (has_content(&c[1..]) || later[k + 1..].iter().any(|n| has_content(n)))
    });
    opens_correction || later.iter().any(|c| clause_verdict(c) == Answer::No)
}

/// More than hesitation: "but, uh" is not a correction, "but the last digit is 2" is.
fn has_content(words: &[String]) -> bool {
    words.iter().any(|w| !FILLERS.contains(&w.as_str()) && !YES_WORDS.contains(&w.as_str()))
}

/// Words that acknowledge without asking for the turn.
#[rustfmt::skip]
const BACKCHANNEL_WORDS: &[&str] = &[
    "mm-hmm", "mhm", "mmhmm", "mm-hm", "uh-huh", "okay", "ok", "o", "k", "yeah", "yea", "yep",
    "yup", "yes", "right", "sure", "alright", "hmm", "hm", "mm", "mmm", "uh", "um", "umm", "uhh",
    "ah", "oh", "aha", "ahh", "ooh", "cool", "great", "good", "gotcha", "exactly", "true",
    "absolutely", "definitely", "perfect", "fine",
];

/// Two-word acknowledgements, read as one unit.
#[rustfmt::skip]
const BACKCHANNEL_PHRASES: &[&[&str]] = &[
    &["got", "it"], &["i", "see"], &["all", "right"], &["uh", "huh"], &["mm", "hmm"],
    &["i", "understand"], &["makes", "sense"], &["that", "makes", "sense"], &["oh", "okay"],
    &["sounds", "good"], &["go", "on"], &["go", "ahead"], &["i", "know"],
];

/// True when the whole utterance is acknowledgement noises ("mm-hmm", "okay okay", "yeah,
/// mm-hmm", "I see", "got it") that must not interrupt the agent while it speaks.
///
/// False for anything with content ("okay, I need to cancel"), for "no"/"wait"/"stop"/"what"
/// (those do want the turn) and for empty text: silence is the caller's decision, not a
/// backchannel. "Thank you" is not a backchannel either, since it often ends a call.
pub fn is_backchannel(text: &str) -> bool {
    let ws = words(text);
    if ws.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < ws.len() {
        if let Some(p) = BACKCHANNEL_PHRASES.iter().find(|p| starts_with(&ws[i..], p)) {
            i += p.len();
        } else if BACKCHANNEL_WORDS.contains(&ws[i].as_str()) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn yes_forms() {
        for text in [
            "Yes.",
            "Yeah.",
            "Yep.",
            "Yup!",
            "Sure.",
            "Correct.",
            "That's right.",
            "Right.",
            "Exactly.",
            "Absolutely.",
            "Uh-huh.",
            "Uh huh.",
            "Mm-hmm.",
            "Mm hmm.",
            "Mhm.",
            "Affirmative.",
            "Yes, please.",
            "Yes please.",
            "That is correct.",
            "Yes, it is.",
            "Yeah, that's right.",
            "Yes, that's correct.",
            "Uh, yes.",
            "Oh yeah.",
            "Yeah, yeah.",
            "It is.",
            "I do.",
            "Yes, sir.",
            "Okay.",
            "Sounds good.",
            "Yes, actually.",
            "Yeah, you got it.",
            "No problem.",
            "Sure, no problem.",
            "Yes. Yes.",
            "Of course.",
            "Um, yeah, that's it.",
            "That's it.",
            "Yes, it's correct.",
            "Definitely.",
            "Yes, that's my number.",
            "Right, exactly.",
            "I think so.",
            "I guess so.",
            "Yes, that's what I said.",
            "Yes, only in the mornings.",
        ] {
            assert_eq!(yes_no(text), Answer::Yes, "{text}");
        }
    }

    #[test]
    fn no_forms() {
        for text in [
            "No.",
            "Nope.",
            "Nah.",
            "Uh-uh.",
            "Uh uh.",
            "Mm-mm.",
            "That's wrong.",
            "That's not right.",
            "Not quite.",
            "Incorrect.",
            "No, it ends in 4.",
            "No, it's 555-1235.",
            "That's incorrect.",
            "No, that's not it.",
            "It's not.",
            "It isn't.",
            "I don't.",
            "I don't think so.",
            "No, no, no.",
            "Not really.",
            "Uh, no.",
            "No, yes, sorry, yes.",
            "That is not correct.",
            "Never.",
            "Oh, no, the birthday is wrong.",
        ] {
            assert_eq!(yes_no(text), Answer::No, "{text}");
        }
    }

    #[test]
    fn yes_with_correction_is_no() {
        for text in [
            "Yes, but the last digit is 2.",
            "Yeah but it's 1985, not 1984.",
            "Yes, except the last name is Smyth.",
            "Yeah, actually it's 5 not 4.",
            "Yes. Actually, the street is wrong.",
            "Mostly right, but the last digit is 2.",
            "Right, but, uh, the month is June.",
            "Yes, that's right, but the birthday is wrong.",
            "Yeah, no.",
            "Yes, it's not 4, it's 5.",
        ] {
            assert_eq!(yes_no(text), Answer::No, "{text}");
        }
        assert_eq!(yes_no("Yes, but, uh."), Answer::Yes, "a trailing marker without content");
    }

    #[test]
    fn unclear_forms() {
        for text in [
            "I don't know.",
            "Maybe.",
            "What?",
            "Huh?",
            "Pardon?",
            "Sorry, what?",
            "Could you repeat that?",
            "I'm not sure.",
            "Hmm.",
            "Uh.",
            "",
            "Let me check.",
            "Probably.",
            "Maybe yes.",
            "I need an appointment.",
            "Come again?",
            "I didn't catch that.",
            "I don't remember.",
            "What did you say?",
            "Which one?",
        ] {
            assert_eq!(yes_no(text), Answer::Unclear, "{text}");
        }
    }

    #[test]
    fn unclear_then_answer() {
        assert_eq!(yes_no("Sorry, what? Oh, yes."), Answer::Yes);
        assert_eq!(yes_no("Hmm, let me think. No."), Answer::No);
    }

    #[test]
    fn backchannels() {
        for text in [
            "Mm-hmm.",
            "Uh-huh.",
            "Okay.",
            "OK.",
            "Yeah.",
            "Right.",
            "Sure.",
            "Got it.",
            "I see.",
            "Alright.",
            "All right.",
            "Mhm.",
            "Hmm.",
            "Uh.",
            "Um.",
            "Okay, okay.",
            "Yeah, mm-hmm.",
            "Uh huh.",
            "Mm hmm.",
            "Oh, okay.",
            "Yeah, yeah, yeah.",
            "Right, right.",
            "Okay, got it.",
            "O.K.",
            "Yes.",
        ] {
            assert!(is_backchannel(text), "{text}");
        }
    }

    #[test]
    fn not_backchannels() {
        for text in [
            "Okay, I need to cancel.",
            "No.",
            "Wait.",
            "Stop.",
            "What?",
            "Yeah, but.",
            "Hold on.",
            "Thank you.",
            "",
            "Okay, and my birthday is March 5th.",
            "Mm-hmm, can I also ask something?",
            "I see, so Tuesday?",
            "Sorry?",
            "Huh?",
            "Yeah, I can't breathe.",
        ] {
            assert!(!is_backchannel(text), "{text}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,80}") {
            let _ = yes_no(&text);
            let _ = is_backchannel(&text);
        }

        #[test]
        fn any_pure_backchannel_sequence_is_one(
            parts in proptest::collection::vec(
                prop_oneof![Just("mm-hmm"), Just("okay"), Just("yeah"), Just("uh-huh"), Just("got it"), Just("right")],
                1..6,
            )
        ) {
            let text = parts.join(", ");
            prop_assert!(is_backchannel(&text));
        }
    }
}
