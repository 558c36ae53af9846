//! Abbreviations and initialisms: "Dr.", "St.", "Mr.", "Jr.", "No.",
//! "w/", "ext.", "e.g.", "ER".
//!
//! espeak-ng reads "Dr." as "drive" and tries to pronounce "ICU"; the
//! ambiguous ones ("Dr." doctor or drive, "St." saint or street) are
//! decided from the words around them. An abbreviation's period is
//! swallowed unless it also ends the sentence (see `tokens::abbrev_dot`).

use super::address::{street_context_before, street_name_follows};
use super::numbers::{id_words, parse_num};
use super::numerals::digit_words;
use super::tokens::{Tok, abbrev_dot, capitalised, is_space, is_sym, num, sentence_initial, skip_space, word, word_before};
use super::{Hit, hit};

/// (written, spoken, may end a sentence). Case-sensitive: "Ave" but not "ave".
const ABBREVIATIONS: &[(&str, &str, bool)] = &[
    ("Ave", "Avenue", true),
    ("Blvd", "Boulevard", true),
    ("Rd", "Road", true),
    ("Ln", "Lane", true),
    ("Hwy", "Highway", true),
    ("Pkwy", "Parkway", true),
    ("Ste", "Suite", true),
    ("Apt", "Apartment", true),
    ("appt", "appointment", true),
    ("Appt", "Appointment", true),
    ("appts", "appointments", true),
    ("Appts", "Appointments", true),
    ("approx", "approximately", false),
    ("Approx", "Approximately", false),
    ("vs", "versus", false),
    ("DOB", "date of birth", true),
    ("Rx", "prescription", true),
    ("RX", "prescription", true),
    ("rx", "prescription", true),
    ("ASAP", "as soon as possible", true),
    ("asap", "as soon as possible", true),
    ("Dept", "Department", true),
    ("dept", "department", true),
];

/// Initialisms the voice must spell out. espeak-ng would otherwise try to
/// pronounce the ones with vowels as words ("er", "icu", "id").
const INITIALISMS: &[&str] = &[
    "ER", "MD", "ICU", "ENT", "MRI", "CT", "EKG", "ECG", "EMT", "ID", "PA", "NP", "RN", "LPN", "OB", "GYN", "PT", "IV", "BP", "HIV", "UTI",
    "COPD", "ADHD", "STD", "STI", "PCP", "HMO", "PPO", "EPO", "OTC", "DDS", "DMD", "CPR", "ED", "GI", "PhD",
];

fn spell_out(w: &str) -> String {
    w.chars().map(|c| c.to_uppercase().to_string()).collect::<Vec<_>>().join(" ")
}

pub(super) fn rule_word(t: &[Tok], i: usize) -> Option<Hit> {
    let w = word(t, i)?;
    if let Some(h) = dotted_abbreviation(t, i) {
        return Some(h);
    }
    match w {
        "Dr" | "dr" | "St" => return street_or_title(t, i, w),
        "Drs" | "Mr" | "Mrs" | "Ms" => return honorific(t, i, w),
        "Jr" | "Sr" => return generational(t, i, w),
        "No" | "no" => return number_abbreviation(t, i, w),
        "w" | "W" if is_sym(t, i + 1, '/') => return with_abbreviation(t, i),
        _ => {}
    }
    if let Some(h) = street_direction(t, i, w) {
        return Some(h);
    }
    if let Some(h) = extension_word(t, i) {
        return Some(h);
    }
    if let Some((_, spoken, may_end)) = ABBREVIATIONS.iter().find(|(a, _, _)| *a == w) {
        return hit(abbrev_dot(t, i + 1, *may_end), *spoken);
    }
    INITIALISMS.contains(&w).then(|| Hit { end: i + 1, text: spell_out(w) })
}

/// "Dr." is Doctor or Drive, "St." is Saint or Street.
///
/// Street when it follows a house number and street name ("123 Oak Dr."),
/// or a capitalised word inside a sentence ("on Main St. Call us"), or a
/// capitalised word with no name after it ("Elm Dr, Springfield").
/// Otherwise a title when a capitalised name follows ("Dr. Patel", "St.
/// Mary's"). A street's period may end the sentence; a title's never does.
fn street_or_title(t: &[Tok], i: usize, w: &str) -> Option<Hit> {
    let after = if is_sym(t, i + 1, '.') { i + 2 } else { i + 1 };
    let next_capital = word(t, skip_space(t, after)).is_some_and(capitalised);
    let prev = word_before(t, i);
    let prev_capital = prev.is_some_and(|(_, pw)| capitalised(pw));
    let prev_mid_sentence = prev.is_some_and(|(p, pw)| capitalised(pw) && !sentence_initial(t, p));
    let street = w != "dr" && (street_context_before(t, i) || prev_mid_sentence || (prev_capital && !next_capital));
    let (spoken, may_end) = match (w, street) {
        ("St", true) => ("Street", true),
        ("St", false) if next_capital => ("Saint", false),
        ("St", false) => ("Street", true),
        ("Dr", true) => ("Drive", true),
        ("Dr", false) => ("Doctor", false),
        _ => ("doctor", false),
    };
    hit(abbrev_dot(t, i + 1, may_end), spoken)
}

/// "4821 W. Lincoln Ave." -> "West Lincoln Avenue": a compass letter is a
/// direction only at the start of a street name.
fn street_direction(t: &[Tok], i: usize, w: &str) -> Option<Hit> {
    let spoken = match w {
        "N" => "North",
        "S" => "South",
        "E" => "East",
        "W" => "West",
        "NE" => "Northeast",
        "NW" => "Northwest",
        "SE" => "Southeast",
        "SW" => "Southwest",
        _ => return None,
    };
    street_name_follows(t, i).then(|| Hit { end: abbrev_dot(t, i + 1, false), text: spoken.to_string() })
}

/// "Mr. Lee" -> "Mister Lee"; without a period only before a capitalised
/// name ("Ms" alone could be anything).
fn honorific(t: &[Tok], i: usize, w: &str) -> Option<Hit> {
    let dot = is_sym(t, i + 1, '.');
    let after = if dot { i + 2 } else { i + 1 };
    let next_capital = word(t, skip_space(t, after)).is_some_and(capitalised);
    if !(dot || next_capital) {
        return None;
    }
    let spoken = match w {
        "Drs" => "Doctors",
        "Mr" => "Mister",
        "Mrs" => "Missus",
        _ => "Miz",
    };
    hit(abbrev_dot(t, i + 1, false), spoken)
}

/// "John Smith Jr." / "John Smith, Sr." -> "Junior" / "Senior".
fn generational(t: &[Tok], i: usize, w: &str) -> Option<Hit> {
    let after_name = word_before(t, i).is_some_and(|(_, pw)| capitalised(pw))
        || (i >= 3 && is_space(t, i - 1) && is_sym(t, i - 2, ',') && word(t, i - 3).is_some_and(capitalised));
    if !after_name {
        return None;
    }
    let spoken = if w == "Jr" { "Junior" } else { "Senior" };
    hit(abbrev_dot(t, i + 1, true), spoken)
}

/// "No. 5" -> "number five" (only with the period and a number after it).
fn number_abbreviation(t: &[Tok], i: usize, w: &str) -> Option<Hit> {
    if !is_sym(t, i + 1, '.') {
        return None;
    }
    let lit = parse_num(t, skip_space(t, i + 2))?;
    let label = if w == "No" { "Number" } else { "number" };
    hit(lit.end, format!("{label} {}", id_words(&lit)))
}

/// "w/" -> "with", "w/o" -> "without".
fn with_abbreviation(t: &[Tok], i: usize) -> Option<Hit> {
    if !is_sym(t, i + 1, '/') {
        return None;
    }
    if word(t, i + 2) == Some("o") {
        return hit(i + 3, "without");
    }
    matches!(t.get(i + 2), None | Some(Tok::Space | Tok::Word(_))).then(|| Hit { end: i + 2, text: "with".to_string() })
}

/// "ext. 204" / "extension 204" anywhere -> "extension two zero four".
fn extension_word(t: &[Tok], i: usize) -> Option<Hit> {
    let w = word(t, i)?;
    if !matches!(w.to_ascii_lowercase().as_str(), "ext" | "extension") {
        return None;
    }
    let mut k = i + 1;
    if is_sym(t, k, '.') || is_sym(t, k, ':') {
        k += 1;
    }
    k = skip_space(t, k);
    let digits = num(t, k).filter(|d| d.len() <= 6)?;
    let label = if capitalised(w) { "Extension" } else { "extension" };
    hit(k + 1, format!("{label} {}", digit_words(digits)))
}

/// Single letters joined by periods: "e.g." -> "for example", "i.e." ->
/// "that is", a stray "a.m." -> "a m", "U.S." -> "U S", "D.O.B." -> "date
/// of birth".
fn dotted_abbreviation(t: &[Tok], i: usize) -> Option<Hit> {
    let mut letters = String::new();
    let mut k = i;
    while let Some(w) = word(t, k)
        && w.chars().count() == 1
        && is_sym(t, k + 1, '.')
    {
        letters.push_str(w);
        k += 2;
    }
    if letters.chars().count() < 2 {
        return None;
    }
    let capital = capitalised(&letters);
    let (spoken, may_end) = match letters.to_lowercase().as_str() {
        "eg" => (if capital { "For example" } else { "for example" }.to_string(), false),
        "ie" => (if capital { "That is" } else { "that is" }.to_string(), false),
        "am" => ("a m".to_string(), true),
        "pm" => ("p m".to_string(), true),
        "dob" => ("date of birth".to_string(), true),
        _ if letters.chars().all(char::is_uppercase) => (spell_out(&letters), false),
        _ => return None,
    };
    hit(abbrev_dot(t, k - 1, may_end), spoken)
}

#[cfg(test)]
mod tests {
    use crate::speech::normalize::tests::check;

    #[test]
    fn doctor_vs_drive() {
        check("Dr. Patel", "Doctor Patel");
        check("Dr Patel", "Doctor Patel");
        check("Thank you, Dr. Lee.", "Thank you, Doctor Lee.");
        check("123 Oak Dr.", "one twenty-three Oak Drive.");
        check("Elm Dr", "Elm Drive");
        check("on Elm Dr, Springfield", "on Elm Drive, Springfield");
        check("We moved to Elm Dr. last year.", "We moved to Elm Drive last year.");
        check("see the dr. today", "see the doctor today");
    }

    #[test]
    fn saint_vs_street() {
        check("St. Mary's", "Saint Mary's");
        check("Visit St. Mary's Hospital.", "Visit Saint Mary's Hospital.");
        check("Main St.", "Main Street.");
        check("We are on Main St.", "We are on Main Street.");
        check("We are on Main St. Call us first.", "We are on Main Street. Call us first.");
        check("123 Oak St.", "one twenty-three Oak Street.");
        check("350 5th Ave", "three fifty fifth Avenue");
    }

    #[test]
    fn street_words() {
        check("10 Elm Ave.", "ten Elm Avenue.");
        check("Sunset Blvd.", "Sunset Boulevard.");
        check("Mill Rd, Suite 5", "Mill Road, Suite five");
        check("Ste. 200", "Suite two hundred");
        check("Suite 200", "Suite two hundred");
        check("Apt. 3", "Apartment three");
        check("4500 N. Main St.", "forty-five hundred North Main Street.");
        check("4821 W Lincoln Ave", "forty-eight twenty-one West Lincoln Avenue");
        check("on SW Park Ave", "on Southwest Park Avenue");
        check("Plan A or plan B, W. Smith", "Plan A or plan B, W. Smith");
    }

    #[test]
    fn clinic_words() {
        check("DOB", "date of birth");
        check("your appt", "your appointment");
        check("your appt.", "your appointment.");
        check("Appt. confirmed", "Appointment confirmed");
        check("2 appts", "two appointments");
        check("Rx ready", "prescription ready");
        check("ASAP", "as soon as possible");
    }

    #[test]
    fn latin_and_dotted() {
        check("e.g. aspirin", "for example aspirin");
        check("pain relievers, e.g. Tylenol", "pain relievers, for example Tylenol");
        check("i.e. tomorrow", "that is tomorrow");
        check("approx. 20 minutes", "approximately twenty minutes");
        check("Approx 20 min", "Approximately twenty minutes");
        check("D.O.B.", "date of birth.");
        check("in the U.S. today", "in the U S today");
    }

    #[test]
    fn honorifics() {
        check("Mr. Lee", "Mister Lee");
        check("Mrs. Lee", "Missus Lee");
        check("Ms. Lee", "Miz Lee");
        check("Mr Lee", "Mister Lee");
        check("Drs. Lee and Patel", "Doctors Lee and Patel");
        check("John Smith Jr.", "John Smith Junior.");
        check("John Smith, Sr. called", "John Smith, Senior called");
        check("Jr", "Jr");
    }

    #[test]
    fn initialisms() {
        check("ER", "E R");
        check("MD", "M D");
        check("ICU", "I C U");
        check("Go to the ER.", "Go to the E R.");
        check("Jane Doe, MD", "Jane Doe, M D");
        check("bring your photo ID", "bring your photo I D");
        check("PPO plans", "P P O plans");
    }
}
