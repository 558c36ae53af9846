//! Units after a number ("10 mg", "20%", "98.6°F") and "per" units after a
//! slash ("tablets/day", "mg/kg").
//!
//! Matched case-sensitively and only next to a number (or a word before a
//! slash), so "g", "L" or "min" in running text stay as they are.

use super::tokens::{Tok, abbrev_dot, is_sym, skip_space, word};

/// (singular, plural) readings of units written after a number. Matched
/// case-sensitively and only after a number, so "g", "L" or "min" elsewhere
/// are left alone.
const UNITS: &[(&str, &str, &str)] = &[
    ("mg", "milligram", "milligrams"),
    ("mcg", "microgram", "micrograms"),
    ("\u{b5}g", "microgram", "micrograms"),
    ("\u{3bc}g", "microgram", "micrograms"),
    ("ml", "milliliter", "milliliters"),
    ("mL", "milliliter", "milliliters"),
    ("cc", "cubic centimeter", "cubic centimeters"),
    ("kg", "kilogram", "kilograms"),
    ("g", "gram", "grams"),
    ("lb", "pound", "pounds"),
    ("lbs", "pound", "pounds"),
    ("oz", "ounce", "ounces"),
    ("mm", "millimeter", "millimeters"),
    ("cm", "centimeter", "centimeters"),
    ("mmHg", "millimeter of mercury", "millimeters of mercury"),
    ("mEq", "milliequivalent", "milliequivalents"),
    ("IU", "international unit", "international units"),
    ("L", "liter", "liters"),
    ("tsp", "teaspoon", "teaspoons"),
    ("tbsp", "tablespoon", "tablespoons"),
    ("min", "minute", "minutes"),
    ("mins", "minute", "minutes"),
    ("hr", "hour", "hours"),
    ("hrs", "hour", "hours"),
    ("wk", "week", "weeks"),
    ("wks", "week", "weeks"),
    ("yr", "year", "years"),
    ("yrs", "year", "years"),
];

/// A unit, percent sign or degree sign after a number ending at `end`.
pub(super) fn unit_after(t: &[Tok], end: usize, singular: bool) -> Option<(String, usize)> {
    // "a 15-min visit", "10-mg tablets": a compound adjective, always singular.
    if is_sym(t, end, '-')
        && let Some(w) = word(t, end + 1)
        && let Some((_, one, _)) = UNITS.iter().find(|(abbr, _, _)| *abbr == w)
    {
        return Some((one.to_string(), end + 2));
    }
    let k = skip_space(t, end);
    if is_sym(t, k, '%') {
        return Some(("percent".to_string(), k + 1));
    }
    if is_sym(t, k, '\u{b0}') {
        let degrees = if singular { "degree" } else { "degrees" };
        return Some(match word(t, k + 1) {
            Some("F") => (format!("{degrees} Fahrenheit"), k + 2),
            Some("C") => (format!("{degrees} Celsius"), k + 2),
            _ => (degrees.to_string(), k + 1),
        });
    }
    let w = word(t, k)?;
    let (_, one, many) = UNITS.iter().find(|(abbr, _, _)| *abbr == w)?;
    let name = if singular { one } else { many };
    Some((name.to_string(), abbrev_dot(t, k + 1, true)))
}

/// Denominators after a slash that read as "per" ("tablets/day", "mg/kg").
pub(super) const PER: &[(&str, &str)] = &[
    ("day", "day"),
    ("d", "day"),
    ("week", "week"),
    ("wk", "week"),
    ("month", "month"),
    ("year", "year"),
    ("yr", "year"),
    ("hour", "hour"),
    ("hr", "hour"),
    ("h", "hour"),
    ("min", "minute"),
    ("dose", "dose"),
    ("kg", "kilogram"),
    ("dL", "deciliter"),
    ("dl", "deciliter"),
    ("L", "liter"),
    ("mL", "milliliter"),
    ("ml", "milliliter"),
];

#[cfg(test)]
mod tests {
    use crate::speech::normalize::tests::check;

    #[test]
    fn percentages() {
        check("20%", "twenty percent");
        check("20 %", "twenty percent");
        check("2.5%", "two point five percent");
        check("10-20%", "ten to twenty percent");
    }

    #[test]
    fn units() {
        check("10 mg", "ten milligrams");
        check("1 mg", "one milligram");
        check("10mg", "ten milligrams");
        check("500 mcg", "five hundred micrograms");
        check("5 ml", "five milliliters");
        check("5 mL", "five milliliters");
        check("1 mL", "one milliliter");
        check("3 cc", "three cubic centimeters");
        check("70 kg", "seventy kilograms");
        check("1 lb", "one pound");
        check("150 lbs", "one hundred fifty pounds");
        check("2-3 mg", "two to three milligrams");
        check("30 min", "thirty minutes");
        check("Take 10 mg. Call us if", "Take ten milligrams. Call us if");
        check("Take 10 mg.", "Take ten milligrams.");
        check("5 lbs. of", "five pounds of");
        check("a 15-min visit", "a fifteen minute visit");
        check("10-mg tablets", "ten milligram tablets");
    }

    #[test]
    fn units_per() {
        check("5 mg/kg", "five milligrams per kilogram");
        check("100 mg/dL", "one hundred milligrams per deciliter");
        check("2 tablets/day", "two tablets per day");
        check("and/or", "and/or");
    }

    #[test]
    fn units_need_a_number() {
        check("mg", "mg");
        check("the cc line", "the cc line");
    }

    #[test]
    fn temperatures() {
        check("98.6\u{b0}F", "ninety-eight point six degrees Fahrenheit");
        check("1\u{b0}", "one degree");
        check("-5\u{b0}C", "minus five degrees Celsius");
    }
}
