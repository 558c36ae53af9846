//! Whether a caller's words read as a finished turn, so the engine may take the turn at a short
//! pause instead of waiting out the full silence.
//!
//! Whisper closes almost everything with a full stop, including a caller who paused in the
//! middle of a thought ("I'm calling about the." for "I'm calling about the ... bill"). Being
//! cut off mid-sentence is what callers of voice agents complain of most, and waiting for the
//! full silence when unsure costs only a third of a second, so this errs towards "not finished".

use super::words::words;

/// Words no sentence ends on: articles, possessives, conjunctions and hesitations.
const NEVER_LAST: &[&str] = &["a", "an", "the", "my", "your", "our", "their", "and", "or", "but", "because", "um", "uh", "er", "erm"];

/// Words a statement does not end on, though a question may ("What is it for?").
const NOT_LAST_IN_A_STATEMENT: &[&str] =
    &["for", "to", "of", "with", "from", "about", "at", "if", "that", "is", "was", "are", "i", "i'm", "i'd", "i'll", "i've"];

/// True when `text` reads as a whole turn: it ends with a sentence mark (not a trailing-off
/// ellipsis), and its last word is one a sentence can end on.
pub fn reads_finished(text: &str) -> bool {
    let t = text.trim_end();
    let question = t.ends_with('?');
    if !(question || t.ends_with('.') || t.ends_with('!')) || t.ends_with("..") || t.ends_with('\u{2026}') {
        return false;
    }
    let Some(last) = words(t).pop() else { return false };
    let last = last.as_str();
    !(NEVER_LAST.contains(&last) || (!question && NOT_LAST_IN_A_STATEMENT.contains(&last)))
}

#[cfg(test)]
mod tests {
    use super::reads_finished;

    #[test]
    fn whole_sentences_and_questions_are_finished() {
        for t in [
            "What are your hours?",
            "I need a refill.",
            "Yes.",
            "No, thank you!",
            "Can I come in?",
            "I ran out.",
            "I think so.",
            "What is it for?",
            "Who do I talk to?",
            "Mm-hmm.",
        ] {
            assert!(reads_finished(t), "{t:?}");
        }
    }

    #[test]
    fn a_pause_mid_thought_is_not_finished_whatever_whisper_punctuated() {
        for t in [
            "I'm calling about the.",
            "I need an appointment for my.",
            "My name is John and.",
            "I'd like to.",
            "It's about my bill, um.",
            "I was wondering if.",
            "I need a refill of.",
            "So I was...",
            "Well\u{2026}",
            "I need a refill",
            "",
            "   ",
            ".",
        ] {
            assert!(!reads_finished(t), "{t:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = reads_finished(&s);
        }
    }
}
