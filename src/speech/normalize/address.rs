//! Street addresses: house numbers, ZIP codes and the states before them.
//!
//! House numbers are read in pairs ("one twenty-three Oak Street") and ZIP
//! codes digit by digit, the way people say and write them down. A state
//! abbreviation is only expanded before a ZIP code, where it cannot be an
//! ordinary word ("IN", "OR", "OK").

use super::Hit;
use super::numerals::{ONES, below_100, digit_words, words_u64};
use super::tokens::{Tok, capitalised, is_ord_suffix, is_space, is_sym, left_clean, num, right_clean, word, word_before};

const STATES: [(&str, &str); 51] = [
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("DC", "D C"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
];

/// True after a state abbreviation or (the last word of) a state name, where
/// a five-digit number is a ZIP code.
pub(super) fn zip_context_before(t: &[Tok], i: usize) -> bool {
    word_before(t, i).is_some_and(|(_, w)| STATES.iter().any(|(abbr, name)| *abbr == w || name.rsplit(' ').next() == Some(w)))
}

/// "IL 62704" -> "Illinois six two seven zero four"; ZIP+4 is read as a
/// second group. ZIP codes are read digit by digit because that is how they
/// are written down.
pub(super) fn rule_zip(t: &[Tok], i: usize) -> Option<Hit> {
    let w = word(t, i)?;
    let (_, name) = STATES.iter().find(|(abbr, _)| *abbr == w)?;
    let zip = num(t, i + 2).filter(|z| z.len() == 5)?;
    if !is_space(t, i + 1) {
        return None;
    }
    let mut end = i + 3;
    let mut text = format!("{name} {}", digit_words(zip));
    if is_sym(t, end, '-')
        && let Some(plus4) = num(t, end + 1)
        && plus4.len() == 4
    {
        text = format!("{text}, {}", digit_words(plus4));
        end += 2;
    }
    right_clean(t, end).then_some(Hit { end, text })
}

const STREET_SUFFIXES: [&str; 30] = [
    "St",
    "Street",
    "Ave",
    "Avenue",
    "Blvd",
    "Boulevard",
    "Rd",
    "Road",
    "Dr",
    "Drive",
    "Ln",
    "Lane",
    "Way",
    "Ct",
    "Court",
    "Pl",
    "Place",
    "Pkwy",
    "Parkway",
    "Hwy",
    "Highway",
    "Cir",
    "Circle",
    "Ter",
    "Terrace",
    "Sq",
    "Square",
    "Trl",
    "Trail",
    "Plaza",
];

/// Does a street name ("Oak St", "North Main Street", "5th Ave") start at
/// `k`? Up to four capitalised words or ordinals, then a street suffix.
pub(super) fn street_name_follows(t: &[Tok], mut k: usize) -> bool {
    // Up to four name words plus the suffix; `names` counts the words seen.
    for names in 0..6 {
        if let Some(w) = word(t, k) {
            if names > 0 && STREET_SUFFIXES.contains(&w) {
                return true;
            }
            if !capitalised(w) {
                return false;
            }
            k += 1;
            if w.len() <= 2 && is_sym(t, k, '.') {
                k += 1; // "N. Main St"
            }
        } else if num(t, k).is_some() && word(t, k + 1).is_some_and(is_ord_suffix) {
            k += 2;
        } else {
            return false;
        }
        if !is_space(t, k) {
            return false;
        }
        k += 1;
    }
    false
}

/// Is the word at `i` preceded by "house number, Street Name"?
pub(super) fn street_context_before(t: &[Tok], i: usize) -> bool {
    let mut k = i;
    let mut names = 0;
    while names <= 4 {
        if k < 2 || !is_space(t, k - 1) {
            return false;
        }
        let p = k - 2;
        match &t[p] {
            Tok::Num(_) => return names > 0,
            Tok::Word(w) if capitalised(w) => k = p,
            Tok::Word(w) if is_ord_suffix(w) && p >= 1 && num(t, p - 1).is_some() => k = p - 1,
            _ => return false,
        }
        names += 1;
    }
    false
}

/// House numbers before a street name, read in pairs ("one twenty-three").
pub(super) fn rule_house_number(t: &[Tok], i: usize) -> Option<Hit> {
    let n = num(t, i).filter(|n| n.len() <= 5 && !n.starts_with('0'))?;
    (left_clean(t, i) && is_space(t, i + 1) && street_name_follows(t, i + 2)).then(|| Hit { end: i + 1, text: house_number_words(n) })
}

/// Street numbers in pairs, the way people say addresses: 123 -> "one
/// twenty-three", 105 -> "one oh five", 4500 -> "forty-five hundred", 1234
/// -> "twelve thirty-four". Five digits or more are read digit by digit.
fn house_number_words(digits: &str) -> String {
    let Ok(n) = digits.parse::<u64>() else {
        return digit_words(digits);
    };
    if digits.len() >= 5 || (digits.len() > 1 && digits.starts_with('0')) {
        return digit_words(digits);
    }
    if n < 100 || n.is_multiple_of(1000) {
        return words_u64(n);
    }
    let (high, low) = (n / 100, n % 100);
    match low {
        0 => format!("{} hundred", below_100(high)),
        1..=9 => format!("{} oh {}", below_100(high), ONES[low as usize]),
        _ => format!("{} {}", below_100(high), below_100(low)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speech::normalize::tests::check;

    #[test]
    fn house_number_readings() {
        assert_eq!(house_number_words("7"), "seven");
        assert_eq!(house_number_words("42"), "forty-two");
        assert_eq!(house_number_words("123"), "one twenty-three");
        assert_eq!(house_number_words("105"), "one oh five");
        assert_eq!(house_number_words("500"), "five hundred");
        assert_eq!(house_number_words("1234"), "twelve thirty-four");
        assert_eq!(house_number_words("4500"), "forty-five hundred");
        assert_eq!(house_number_words("2000"), "two thousand");
        assert_eq!(house_number_words("12345"), "one two three four five");
    }

    #[test]
    fn zip_after_state() {
        check("Springfield, IL 62704", "Springfield, Illinois six two seven zero four");
        check("Springfield, IL 62704-1234", "Springfield, Illinois six two seven zero four, one two three four");
        check("Dallas, TX 75201.", "Dallas, Texas seven five two zero one.");
        check("Springfield, Illinois 60000", "Springfield, Illinois six zero zero zero zero");
        check("New York 10001", "New York one zero zero zero one");
    }

    #[test]
    fn state_abbreviations_without_zip_stay() {
        check("Springfield, IL", "Springfield, IL");
        check("OK, see you", "OK, see you");
    }

    #[test]
    fn full_address() {
        check("123 Oak St., Springfield, IL 62704", "one twenty-three Oak Street, Springfield, Illinois six two seven zero four");
    }
}
