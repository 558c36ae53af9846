//! Medication names as the recogniser mishears them: "Listonapril" for lisinopril.
//!
//! Why: the medication is the one detail of a refill that staff act on, and at 8 kHz Whisper
//! writes the names it half knows as near-misses, often with a low confidence that would have
//! the caller asked again and again for a word the recogniser will never spell right. A
//! near-miss of a name on the clinic's list is that name; staff read the canonical spelling.

use super::names::edit_distance;
use super::words::words;

/// Furthest a heard word may be from a name (edits per letter of the longer) to be taken as it.
const MAX_DISTANCE: f32 = 0.34;

/// The medication on `list` that `text` names, and the words it replaces: one word, or two or
/// three run together ("listen a pril" for lisinopril). None when nothing is close enough.
pub fn find<'a>(text: &str, list: &[&'a str]) -> Option<(&'a str, String)> {
    let ws = words(text);
    let mut best: Option<(f32, &'a str, String)> = None;
    for len in 1..=3 {
        for run in ws.windows(len) {
            let joined: String = run.concat();
            if joined.chars().count() < 5 {
                continue;
            }
            for &name in list {
                let d = edit_distance(&joined, name) as f32 / joined.chars().count().max(name.chars().count()) as f32;
                if d <= MAX_DISTANCE && best.as_ref().is_none_or(|b| d < b.0) {
                    best = Some((d, name, run.join(" ")));
                }
            }
        }
    }
    best.map(|(_, name, heard)| (name, heard))
}

/// The caller's words with a misheard medication written as the name: "Listonapril, ten
/// milligrams" -> "Lisinopril, ten milligrams".
pub fn corrected(text: &str, list: &[&str]) -> Option<String> {
    // The closest run wins ("Lisinopril, ten" is further from the name than "Lisinopril").
    let (name, heard) = find(text, list)?;
    let mut c = name.chars();
    let proper = c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default();
    let lower = text.to_lowercase();
    let run: Vec<&str> = heard.split(' ').collect();
    let (Some(first), Some(last)) = (run.first(), run.last()) else { return Some(proper) };
    let Some(start) = lower.find(first) else { return Some(proper) };
    let Some(end_rel) = lower[start..].find(last) else { return Some(proper) };
    let end = start + end_rel + last.len();
    Some(format!("{}{}{}", &text[..start], proper, &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &[&str] = &["lisinopril", "atorvastatin", "metformin", "amlodipine"];

    #[test]
    fn near_misses_are_the_name() {
        assert_eq!(find("Listonapril,", LIST).map(|x| x.0), Some("lisinopril"));
        assert_eq!(find("It's my listen a pril", LIST).map(|x| x.0), Some("lisinopril"), "words run together");
        assert_eq!(find("metformin please", LIST).map(|x| x.0), Some("metformin"));
        assert_eq!(find("my blood pressure pill", LIST), None);
        assert_eq!(find("I need a refill", LIST), None);
        assert_eq!(corrected("Listonapril, ten milligrams.", LIST).as_deref(), Some("Lisinopril, ten milligrams."));
        assert_eq!(corrected("Lisinopril.", LIST).as_deref(), Some("Lisinopril."));
        assert_eq!(
            corrected("Lisinopril, ten milligrams.", LIST).as_deref(),
            Some("Lisinopril, ten milligrams."),
            "the closest run, not the longest"
        );
    }
}
