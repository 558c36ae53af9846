//! Phone numbers: read digit by digit in the groups callers write down.
//!
//! First in the rule order, because its parts would otherwise be read as
//! a range of numbers ("555-0147" is not "five hundred fifty-five to one
//! hundred forty-seven").

use super::numerals::digit_words;
use super::tokens::{Tok, is_sym, left_clean, num, right_clean, skip_space, word};
use super::{Hit, hit};

/// Read digits one by one in groups, groups separated by commas:
/// "2125550147" -> "two one two, five five five, zero one four seven".
///
/// Why digits and not a number: nobody dials "two billion ...". Why groups:
/// callers write numbers down in the 3-3-4 chunks they know, and the comma
/// gives the voice a short pause at each chunk. Why "zero" and not "oh":
/// "oh" is easily misheard as "four" or as the letter O over a phone line,
/// and a caller copying the number needs certainty, not naturalness.
///
/// Grouping: 10 digits -> 3-3-4 (NANP); 11 digits starting with 1 ->
/// 1-3-3-4; 7 digits -> 3-4. Other lengths keep the groups as written (any
/// non-digit separates groups), or are read digit by digit.
pub fn phone_words(digits: &str) -> String {
    let written: Vec<&str> = digits.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
    let all: String = written.concat();
    let groups: Vec<&str> = match all.len() {
        10 => vec![&all[..3], &all[3..6], &all[6..]],
        11 if all.starts_with('1') => vec![&all[..1], &all[1..4], &all[4..7], &all[7..]],
        7 => vec![&all[..3], &all[3..]],
        _ => written,
    };
    groups.iter().map(|g| digit_words(g)).collect::<Vec<_>>().join(", ")
}

struct PhoneGroup {
    digits: String,
    paren: bool,
    /// Separator before this group: ' ', '-', '.', or ')' for none after a
    /// parenthesised area code.
    sep: char,
    end: usize,
}

/// Phone numbers in the usual written forms: "(212) 555-0147",
/// "212-555-0147", "212.555.0147", "+1 212 555 0147", "1-800-555-0199",
/// "555-0147", a bare "2125550147", international "+44 20 7946 0958", each
/// optionally followed by an extension ("ext. 204", "x204").
pub(super) fn rule_phone(t: &[Tok], i: usize) -> Option<Hit> {
    if !left_clean(t, i) {
        return None;
    }
    let plus = is_sym(t, i, '+');
    let start = if plus { i + 1 } else { i };
    let mut groups = vec![phone_group(t, start, ' ')?];
    while groups.len() < 6 {
        let last = &groups[groups.len() - 1];
        let Some((sep, k)) = phone_sep(t, last.end, last.paren) else {
            break;
        };
        let Some(group) = phone_group(t, k, sep) else {
            break;
        };
        groups.push(group);
    }
    // Longest prefix of the groups that forms a phone number.
    for n in (1..=groups.len()).rev() {
        let Some(spoken) = phone_shape(&groups[..n], plus) else {
            continue;
        };
        let end = groups[n - 1].end;
        if let Some((ext, ext_end)) = extension_after(t, end)
            && right_clean(t, ext_end)
        {
            return hit(ext_end, format!("{spoken}, {ext}"));
        }
        if right_clean(t, end) {
            return hit(end, spoken);
        }
    }
    None
}

fn phone_group(t: &[Tok], j: usize, sep: char) -> Option<PhoneGroup> {
    if let Some(d) = num(t, j) {
        return Some(PhoneGroup { digits: d.to_string(), paren: false, sep, end: j + 1 });
    }
    if is_sym(t, j, '(') && is_sym(t, j + 2, ')') {
        let d = num(t, j + 1)?;
        return Some(PhoneGroup { digits: d.to_string(), paren: true, sep, end: j + 3 });
    }
    None
}

fn phone_sep(t: &[Tok], j: usize, after_paren: bool) -> Option<(char, usize)> {
    match t.get(j) {
        Some(Tok::Space) => Some((' ', j + 1)),
        Some(Tok::Sym(c @ ('-' | '.'))) => Some((*c, j + 1)),
        Some(Tok::Num(_)) if after_paren => Some((')', j)),
        _ => None,
    }
}

/// NANP area codes and exchanges never start with 0 or 1; checking this
/// keeps ranges such as "100-1000" from being read as phone numbers.
fn nanp_code(digits: &str) -> bool {
    digits.len() == 3 && digits.starts_with(['2', '3', '4', '5', '6', '7', '8', '9'])
}

fn phone_shape(groups: &[PhoneGroup], plus: bool) -> Option<String> {
    let all: String = groups.iter().map(|g| g.digits.as_str()).collect();
    let paren_only_at = |idx: usize| groups.iter().enumerate().all(|(k, g)| !g.paren || k == idx);
    let no_paren = groups.iter().all(|g| !g.paren);
    let lens: Vec<usize> = groups.iter().map(|g| g.digits.len()).collect();
    let d = |k: usize| groups[k].digits.as_str();
    // Three or four groups in the 3-3-4 layout are a phone number whatever
    // the digits (fictional numbers such as "555-123-4567" included); the
    // shorter and unseparated shapes also need plausible area code and
    // exchange digits, so that "100-1000" stays a range.
    let nanp = match lens.as_slice() {
        [3, 3, 4] => !plus && paren_only_at(0),
        [1, 3, 3, 4] => d(0) == "1" && paren_only_at(1),
        [3, 4] => !plus && no_paren && groups[1].sep == '-' && nanp_code(d(0)),
        [10] => !plus && no_paren && nanp_code(&all[..3]) && nanp_code(&all[3..6]),
        [11] => no_paren && all.starts_with('1') && nanp_code(&all[1..4]) && nanp_code(&all[4..7]),
        _ => false,
    };
    if nanp {
        return Some(phone_words(&all));
    }
    if plus && (8..=15).contains(&all.len()) && lens[0] <= 3 {
        let spoken: Vec<String> = groups.iter().map(|g| digit_words(&g.digits)).collect();
        return Some(format!("plus {}", spoken.join(", ")));
    }
    None
}

/// ", ext. 204", " x204", " extension 204" after a phone number. Extensions
/// are read digit by digit like the number itself.
fn extension_after(t: &[Tok], end: usize) -> Option<(String, usize)> {
    let mut k = end;
    if is_sym(t, k, ',') {
        k += 1;
    }
    k = skip_space(t, k);
    let w = word(t, k)?.to_ascii_lowercase();
    if !matches!(w.as_str(), "ext" | "x" | "extension") {
        return None;
    }
    k += 1;
    if is_sym(t, k, '.') || is_sym(t, k, ':') {
        k += 1;
    }
    k = skip_space(t, k);
    let digits = num(t, k).filter(|d| d.len() <= 6)?;
    Some((format!("extension {}", digit_words(digits)), k + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speech::normalize::tests::check;

    const PHONE: &str = "two one two, five five five, zero one four seven";

    #[test]
    fn phone_words_groupings() {
        assert_eq!(phone_words("2125550147"), PHONE);
        assert_eq!(phone_words("12125550147"), format!("one, {PHONE}"));
        assert_eq!(phone_words("5550147"), "five five five, zero one four seven");
        assert_eq!(phone_words("(212) 555-0147"), PHONE);
        assert_eq!(phone_words("44 20 7946"), "four four, two zero, seven nine four six");
        assert_eq!(phone_words("911"), "nine one one");
        assert_eq!(phone_words(""), "");
        assert_eq!(phone_words("abc"), "");
    }

    #[test]
    fn phone_parenthesised_area_code() {
        check("(212) 555-0147", PHONE);
        check("(212)555-0147", PHONE);
    }

    #[test]
    fn phone_dashes() {
        check("212-555-0147", PHONE);
    }

    #[test]
    fn phone_dots() {
        check("212.555.0147", PHONE);
    }

    #[test]
    fn phone_spaces() {
        check("212 555 0147", PHONE);
    }

    #[test]
    fn phone_plus_one() {
        check("+1 212 555 0147", &format!("one, {PHONE}"));
        check("+1 (212) 555-0147", &format!("one, {PHONE}"));
    }

    #[test]
    fn phone_toll_free() {
        check("1-800-555-0199", "one, eight zero zero, five five five, zero one nine nine");
    }

    #[test]
    fn phone_seven_digits() {
        check("555-0147", "five five five, zero one four seven");
    }

    #[test]
    fn phone_bare_digits() {
        check("2125550147", PHONE);
        check("12125550147", &format!("one, {PHONE}"));
    }

    #[test]
    fn phone_international() {
        check("+44 20 7946 0958", "plus four four, two zero, seven nine four six, zero nine five eight");
    }

    #[test]
    fn phone_extensions() {
        check("212-555-0147 ext. 204", &format!("{PHONE}, extension two zero four"));
        check("212-555-0147, ext 204", &format!("{PHONE}, extension two zero four"));
        check("212-555-0147 x204", &format!("{PHONE}, extension two zero four"));
        check("(212) 555-0147 x 204.", &format!("{PHONE}, extension two zero four."));
        check("Dial ext. 204 now", "Dial extension two zero four now");
        check("Extension 31", "Extension three one");
    }

    #[test]
    fn phone_in_sentence_keeps_final_period() {
        check("Call Dr. Patel at 555-0147.", "Call Doctor Patel at five five five, zero one four seven.");
        check("Call us at (212) 555-0147, or stop by.", &format!("Call us at {PHONE}, or stop by."));
    }

    #[test]
    fn phone_fictional_exchange() {
        let spoken = "five five five, one two three, four five six seven";
        check("(555) 123-4567", spoken);
        check("555-123-4567", spoken);
        check("555.123.4567", spoken);
        check("555 123 4567", spoken);
        check("1.800.555.0100", "one, eight zero zero, five five five, zero one zero zero");
    }

    #[test]
    fn phone_lookalikes_are_not_phones() {
        check("1000-2000 mg", "one thousand to two thousand milligrams");
        check("100-1000 mg", "one hundred to one thousand milligrams");
        check("2-3 tablets", "two to three tablets");
    }
}
