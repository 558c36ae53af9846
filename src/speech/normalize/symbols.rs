//! Symbols that have a spoken name: "&", "%", "#" (number or the pound
//! key), "*" after "press", "/" meaning "per", and a hyphen between a word
//! and a number.
//!
//! Last in the rule order: a symbol that is part of a phone number, date,
//! time or amount has been consumed by then; what is left is read here or
//! passed through.

use super::numbers::{id_words, parse_num};
use super::tokens::{Tok, is_space, is_sym, num, skip_space, word, word_before};
use super::units::PER;
use super::{Hit, hit};

fn standalone(t: &[Tok], i: usize) -> bool {
    let before = i == 0 || is_space(t, i - 1);
    let after = matches!(t.get(i + 1), None | Some(Tok::Space | Tok::Sym('.' | ',' | '?' | '!' | ')')));
    before && after
}

/// A "#" without a number after it: the pound key after "press" and the
/// like (that is its name on a US phone), otherwise a label meaning "number"
/// ("Patient #: 451").
fn hash_sign(t: &[Tok], i: usize) -> Option<Hit> {
    const KEY_WORDS: [&str; 7] = ["press", "dial", "hit", "the", "or", "and", "then"];
    let key = word_before(t, i).is_some_and(|(_, w)| KEY_WORDS.contains(&w.to_lowercase().as_str()));
    if key && standalone(t, i) {
        return hit(i + 1, "pound");
    }
    let label = i > 0 && (is_space(t, i - 1) || word(t, i - 1).is_some()) && is_sym(t, i + 1, ':');
    label.then(|| Hit { end: i + 1, text: "number".to_string() })
}

pub(super) fn rule_symbol(t: &[Tok], i: usize) -> Option<Hit> {
    let Some(Tok::Sym(c)) = t.get(i) else {
        return None;
    };
    match c {
        '&' => hit(i + 1, "and"),
        '#' => match parse_num(t, skip_space(t, i + 1)) {
            Some(lit) => hit(lit.end, format!("number {}", id_words(&lit))),
            None => hash_sign(t, i),
        },
        '*' if standalone(t, i) && word_before(t, i).is_some_and(|(_, w)| matches!(w.to_lowercase().as_str(), "press" | "dial")) => {
            hit(i + 1, "star")
        }
        '%' => hit(i + 1, "percent"),
        '/' if i > 0 && word(t, i - 1).is_some() => {
            let denominator = word(t, i + 1)?;
            let (_, spoken) = PER.iter().find(|(w, _)| *w == denominator)?;
            hit(i + 2, format!("per {spoken}"))
        }
        // A hyphen glued between a word and a number: a range after an
        // amount ("6 months-5 years" -> "six months to five years"), otherwise
        // just a separator ("COVID-19" -> "COVID nineteen").
        '-' | '\u{2013}' if i > 0 && word(t, i - 1).is_some() && num(t, i + 1).is_some() => {
            let after_amount = i >= 3 && is_space(t, i - 2) && num(t, i - 3).is_some();
            hit(i + 1, if after_amount { "to" } else { "" })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::speech::normalize::tests::check;

    #[test]
    fn number_sign() {
        check("No. 5", "Number five");
        check("no.5", "number five");
        check("No, thanks.", "No, thanks.");
        check("#5", "number five");
        check("Rx #20417", "prescription number two zero four one seven");
        check("press #", "press pound");
        check("or # to repeat", "or pound to repeat");
        check("Patient #: 00451", "Patient number: zero zero four five one");
        check("Member # 1234", "Member number one two three four");
        check("C#", "C#");
        check("press *", "press star");
    }

    #[test]
    fn versus_and_ampersand() {
        check("flu vs. cold", "flu versus cold");
        check("Smith & Jones", "Smith and Jones");
        check("Q&A", "Q and A");
        check("w/ food", "with food");
        check("w/o food", "without food");
    }
}
