//! Words of a transcript, as the understanding functions want them.
//!
//! Whisper writes "Yes.", "o'clock", "555-1234", "S-M-I-T-H" and "Mm-hmm"; every matcher in this
//! module works on the same lower-case word list so none of them has to care about punctuation.

/// Lower-case words of `text`. Letters, digits and apostrophes stay inside a word; everything
/// else separates words, except that a hyphen between two letters that are not single letters
/// ("mm-hmm", "follow-up") keeps the word whole. A run of single letters joined by hyphens or
/// dots ("s-m-i-t-h", "J.D.") comes out as separate one-letter words, and digits are split from
/// letters ("5th" stays "5th"; "555-1234" becomes "555", "1234").
pub fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() || c == '\'' || c == '\u{2019}' {
            let c = if c == '\u{2019}' { '\'' } else { c };
            current.extend(c.to_lowercase());
            continue;
        }
        if c == '-' && !current.is_empty() {
            let next_is_letter = chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
            let current_is_word = current.chars().count() > 1 && current.chars().all(|x| x.is_alphabetic());
            let next_is_word = next_is_letter && chars[i + 1..].iter().take_while(|x| x.is_alphabetic()).count() > 1;
            if current_is_word && next_is_word {
                current.push('-');
                continue;
            }
        }
        flush(&mut current, &mut out);
    }
    flush(&mut current, &mut out);
    out
}

fn flush(current: &mut String, out: &mut Vec<String>) {
    let word = current.trim_matches('\'');
    if !word.is_empty() {
        out.push(word.to_string());
    }
    current.clear();
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn punctuation_and_case_go() {
        assert_eq!(words("Yes, that's right."), ["yes", "that's", "right"]);
        assert_eq!(words("Mm-hmm."), ["mm-hmm"]);
        assert_eq!(words("S-M-I-T-H"), ["s", "m", "i", "t", "h"]);
        assert_eq!(words("J.D. Salinger"), ["j", "d", "salinger"]);
        assert_eq!(words("(555) 123-4567"), ["555", "123", "4567"]);
        assert_eq!(words("March 5th, 1980"), ["march", "5th", "1980"]);
        assert_eq!(words("I\u{2019}m fine"), ["i'm", "fine"]);
        assert_eq!(words("  "), Vec::<String>::new());
    }
}
