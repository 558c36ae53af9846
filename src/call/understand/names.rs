//! Callers' names: "My name is Jane Doe", "Doe, Jane", "S-M-I-T-H", "Sierra Mike India…".
//!
//! The agent needs a name it can read back and look up, and Whisper on an 8 kHz line gets names
//! wrong more often than anything else, which is why callers spell. So this file does three
//! things: find a name in a sentence, read a spelled name however Whisper wrote the letters, and
//! apply a caller's correction to a name the agent already has.
//!
//! Everything works on the word list of [`words`]; clause boundaries (commas, full stops) are
//! kept alongside because "Doe, Jane" and "Jane Doe, D O E" only differ there.

use super::words::words;

/// A caller's name as the clinic records it: one given name and one family name.
///
/// Middle names and middle initials are dropped ("Jane Marie Doe" -> given "Jane", family
/// "Doe") because patient records are matched on first and last name, and an extra word in
/// `given` would make that match fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullName {
    /// First name, capitalised ("Jane").
    pub given: String,
    /// Last name, capitalised, including particles ("Doe", "O'Brien", "De La Cruz").
    pub family: String,
}

impl FullName {
    /// The name as the agent reads it back to the caller: "Jane Doe".
    pub fn display(&self) -> String {
        format!("{} {}", self.given, self.family)
    }
}

/// Capitalises one name word the way it is written: "o'brien" -> "O'Brien", "mcdonald" ->
/// "McDonald", "smith-jones" -> "Smith-Jones", "d'angelo" -> "D'Angelo".
///
/// Whisper and [`words`] hand us lower case; the read-back and the record need the usual
/// written form. "Mac" is left alone ("Mack", "Macy" are not "MacK", "MacY").
pub fn capitalize_name(word: &str) -> String {
    word.split('-').map(capitalize_segment).collect::<Vec<_>>().join("-")
}

fn capitalize_segment(segment: &str) -> String {
    let lower = segment.to_lowercase();
    // "mc" + at least two letters: McDonald, McCoy.
    if let Some(rest) = lower.strip_prefix("mc")
        && rest.chars().count() >= 2
        && rest.chars().all(char::is_alphabetic)
    {
        return format!("Mc{}", upper_first(rest));
    }
    // O'Brien, D'Angelo: a one-letter prefix before the apostrophe is its own capital.
    if let Some((head, tail)) = lower.split_once('\'')
        && head.chars().count() == 1
        && !tail.is_empty()
    {
        return format!("{}'{}", head.to_uppercase(), upper_first(tail));
    }
    upper_first(&lower)
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens with clause numbers
// ---------------------------------------------------------------------------------------------

/// One word and the clause it came from (clauses end at , . ; : ! ?).
struct Tok {
    word: String,
    clause: usize,
}

fn tokens(text: &str) -> Vec<Tok> {
    clause_pieces(text)
        .iter()
        .enumerate()
        .flat_map(|(clause, piece)| words(piece).into_iter().map(move |word| Tok { word, clause }))
        .collect()
}

/// Splits at , ; : ! ? and at full stops, except the full stop of an initial or a title
/// ("Jane M. Doe", "Dr. Jones", "St. John"), which Whisper writes inside names.
fn clause_pieces(text: &str) -> Vec<String> {
    const TITLES: &[&str] = &["mr", "mrs", "ms", "dr", "st", "jr", "sr"];
    let mut pieces = vec![String::new()];
    for c in text.chars() {
        let Some(current) = pieces.last_mut() else {
            break;
        };
        let boundary = match c {
            ',' | ';' | ':' | '!' | '?' => true,
            '.' => {
                let last_word: String = current.chars().rev().take_while(|c| c.is_alphabetic()).collect::<String>().to_lowercase();
                let abbreviation = last_word.chars().count() == 1 || TITLES.contains(&last_word.as_str());
                !abbreviation
            }
            _ => false,
        };
        if boundary {
            pieces.push(String::new());
        } else if c == '.' {
            current.push(' ');
        } else {
            current.push(c);
        }
    }
    pieces
}

// ---------------------------------------------------------------------------------------------
// Spelling
// ---------------------------------------------------------------------------------------------

/// How sure we are that a word is a spelled letter rather than an ordinary word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// A single letter other than "a"/"i", or a letter name that is not an English word
    /// ("ess", "aitch", "zed").
    Strong,
    /// "a" and "i": letters, but also the commonest words there are.
    Single,
    /// Letter names that are ordinary words: "you", "are", "why", "see", "oh", "jay".
    Weak,
    /// NATO alphabet words, which are also names and ordinary words ("Mike", "hotel").
    Nato,
}

/// A spelling-relevant unit made of one or more words.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Unit {
    Letter(char, Kind),
    /// "double": the next letter twice.
    Double,
    /// "apostrophe" or "hyphen"/"dash" inside a spelled name.
    Mark(char),
    /// Words that may sit inside a spelling without ending it ("uh", "capital", "as in Sam").
    Filler,
    /// Anything else: ends a spelling run.
    Other,
}

struct Scanned {
    unit: Unit,
    clause: usize,
    /// Index of the first token this unit was made from.
    tok: usize,
}

/// Letter a word stands for when spoken as a letter, and how sure that is.
fn letter_of(word: &str) -> Option<(char, Kind)> {
    let mut chars = word.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && c.is_ascii_lowercase()
    {
        let kind = if c == 'a' || c == 'i' { Kind::Single } else { Kind::Strong };
        return Some((c, kind));
    }
    use Kind::*;
    let found = match word {
        "ay" | "aye" => ('a', Strong),
        "bee" => ('b', Strong),
        "be" => ('b', Weak),
        "cee" => ('c', Strong),
        "see" | "sea" => ('c', Weak),
        "dee" => ('d', Strong),
        "ee" => ('e', Strong),
        "ef" | "eff" => ('f', Strong),
        "gee" | "jee" => ('g', Strong),
        "aitch" | "haitch" => ('h', Strong),
        "eye" => ('i', Weak),
        "jay" => ('j', Weak),
        "kay" => ('k', Weak),
        "el" | "ell" => ('l', Strong),
        "em" => ('m', Strong),
        "en" => ('n', Strong),
        "oh" | "owe" => ('o', Weak),
        "pee" => ('p', Strong),
        "pea" => ('p', Weak),
        "cue" => ('q', Strong),
        "queue" => ('q', Weak),
        "ar" => ('r', Strong),
        "are" | "our" => ('r', Weak),
        "ess" | "es" => ('s', Strong),
        "tee" => ('t', Strong),
        "tea" => ('t', Weak),
        "you" | "yu" => ('u', Weak),
        "vee" => ('v', Strong),
        "ex" => ('x', Weak),
        "why" => ('y', Weak),
        "zee" | "zed" => ('z', Strong),
        "alpha" | "alfa" => ('a', Nato),
        "bravo" => ('b', Nato),
        "charlie" => ('c', Nato),
        "delta" => ('d', Nato),
        "echo" => ('e', Nato),
        "foxtrot" => ('f', Nato),
        "golf" => ('g', Nato),
        "hotel" => ('h', Nato),
        "india" => ('i', Nato),
        "juliet" | "juliett" => ('j', Nato),
        "kilo" => ('k', Nato),
        "lima" => ('l', Nato),
        "mike" => ('m', Nato),
        "november" => ('n', Nato),
        "oscar" => ('o', Nato),
        "papa" => ('p', Nato),
        "quebec" => ('q', Nato),
        "romeo" => ('r', Nato),
        "sierra" => ('s', Nato),
        "tango" => ('t', Nato),
        "uniform" => ('u', Nato),
        "victor" => ('v', Nato),
        "whiskey" | "whisky" => ('w', Nato),
        "xray" => ('x', Nato),
        "yankee" => ('y', Nato),
        "zulu" => ('z', Nato),
        _ => return None,
    };
    Some(found)
}

/// Words that can sit between spelled letters without ending the spelling.
#[rustfmt::skip]
const SPELLING_FILLERS: &[&str] = &[
    "uh", "um", "umm", "uhh", "er", "erm", "ah", "capital", "lowercase", "small", "then", "letter",
];

/// Turns tokens into spelling units, folding "double you", "x ray" and "as in Sam".
fn scan(toks: &[Tok]) -> Vec<Scanned> {
    let mut out: Vec<Scanned> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let word = toks[i].word.as_str();
        let next = toks.get(i + 1).map(|t| t.word.as_str());
        let clause = toks[i].clause;
        let push = |unit: Unit, len: usize, out: &mut Vec<Scanned>| {
            out.push(Scanned { unit, clause, tok: i });
            len
        };
        let after_letter = matches!(out.last().map(|s| s.unit), Some(Unit::Letter(..)));
        let step = if (word == "double" || word == "dub") && matches!(next, Some("you" | "u" | "yu")) {
            push(Unit::Letter('w', Kind::Strong), 2, &mut out)
        } else if word == "double" && next.and_then(letter_of).is_some() {
            push(Unit::Double, 1, &mut out)
        } else if word == "x" && next == Some("ray") {
            push(Unit::Letter('x', Kind::Nato), 2, &mut out)
        } else if after_letter && word == "as" && next == Some("in") && i + 2 < toks.len() {
            // "S as in Sam": the example word is not a letter of the name.
            push(Unit::Filler, 3, &mut out)
        } else if after_letter && matches!(word, "as" | "like" | "for") && i + 1 < toks.len() {
            // "S like Sam", "S for Sam", "S as Sam"; "like in Sam" too.
            let len = if next == Some("in") && i + 2 < toks.len() { 3 } else { 2 };
            push(Unit::Filler, len, &mut out)
        } else if let Some((c, kind)) = letter_of(word) {
            push(Unit::Letter(c, kind), 1, &mut out)
        } else if word == "apostrophe" {
            push(Unit::Mark('\''), 1, &mut out)
        } else if word == "hyphen" || word == "dash" {
            push(Unit::Mark('-'), 1, &mut out)
        } else if SPELLING_FILLERS.contains(&word) {
            push(Unit::Filler, 1, &mut out)
        } else {
            push(Unit::Other, 1, &mut out)
        };
        i += step;
    }
    out
}

/// A spelled word found in the text, with the tokens it covers.
struct Run {
    text: String,
    first_tok: usize,
}

/// Decides which letter units really are spelled letters (see the module rules below) and
/// returns the runs of two or more letters, in order.
///
/// Rules, because "you", "are", "why", "a" and "I" are letters and words at once:
/// - a single letter other than a/i, or a letter name that is no English word, is a letter;
/// - "a"/"i" is a letter next to such a strong letter ("A B B O T T");
/// - weak letter names and NATO words are letters when the neighbours on both sides are strong
///   ("ess em eye tee aitch"), or when their clause is nothing but spelling and holds a strong
///   letter, or when the whole utterance is nothing but spelling with a strong letter or two
///   NATO words ("why oh you en gee", "November Golf");
/// - three NATO words in a row are a spelling ("Sierra Mike India").
///
/// A run ends at any other word, and at a clause boundary between two clauses that each hold
/// two or more letters ("S-M-I-T-H, J-A-N-E" is two words). "and" ends a run too.
fn spelled_runs(toks: &[Tok]) -> Vec<Run> {
    let units = scan(toks);
    let n = units.len();
    let is_letter = |u: Unit| matches!(u, Unit::Letter(..));
    let is_strongish = |u: Unit| matches!(u, Unit::Letter(_, Kind::Strong) | Unit::Double | Unit::Mark(_));

    // Per-clause facts.
    let clauses = toks.last().map_or(0, |t| t.clause + 1);
    let mut clause_pure = vec![true; clauses];
    let mut clause_strong = vec![false; clauses];
    let mut clause_letters = vec![0usize; clauses];
    for s in &units {
        match s.unit {
            Unit::Other => clause_pure[s.clause] = false,
            Unit::Letter(_, kind) => {
                clause_letters[s.clause] += 1;
                if kind == Kind::Strong {
                    clause_strong[s.clause] = true;
                }
            }
            _ => {}
        }
    }
    let all_pure = units.iter().all(|s| s.unit != Unit::Other);
    let letters_total = units.iter().filter(|s| is_letter(s.unit)).count();
    let strong_total = units.iter().filter(|s| matches!(s.unit, Unit::Letter(_, Kind::Strong))).count();
    let nato_total = units.iter().filter(|s| matches!(s.unit, Unit::Letter(_, Kind::Nato))).count();
    let utterance_is_spelling = all_pure && letters_total >= 2 && (strong_total >= 1 || nato_total >= 2);

    // Indices of non-filler units, so neighbours skip "uh" and "as in Sam".
    let solid: Vec<usize> = (0..n).filter(|&i| units[i].unit != Unit::Filler).collect();
    let mut accepted = vec![false; n];
    for (pos, &i) in solid.iter().enumerate() {
        let s = &units[i];
        let prev = pos.checked_sub(1).map(|p| units[solid[p]].unit);
        let next = solid.get(pos + 1).map(|&j| units[j].unit);
        accepted[i] = match s.unit {
            Unit::Letter(_, Kind::Strong) | Unit::Double | Unit::Mark(_) => true,
            Unit::Letter(_, Kind::Single) => {
                utterance_is_spelling
                    || (clause_pure[s.clause] && clause_strong[s.clause])
                    || prev.is_some_and(is_strongish)
                    || next.is_some_and(is_strongish)
            }
            Unit::Letter(_, _) => utterance_is_spelling || (clause_pure[s.clause] && clause_strong[s.clause]) || prev == Some(Unit::Double),
            Unit::Filler | Unit::Other => false,
        };
    }
    // Chains of weak/NATO/single letters: accepted when bounded by strong units on both sides,
    // or (NATO only) three or more long.
    let mut pos = 0;
    while pos < solid.len() {
        let weakish = |u: Unit| matches!(u, Unit::Letter(_, Kind::Weak | Kind::Nato | Kind::Single));
        if !weakish(units[solid[pos]].unit) {
            pos += 1;
            continue;
        }
        let start = pos;
        while pos < solid.len() && weakish(units[solid[pos]].unit) {
            pos += 1;
        }
        let chain = &solid[start..pos];
        let bounded = start > 0 && is_strongish(units[solid[start - 1]].unit) && pos < solid.len() && is_strongish(units[solid[pos]].unit);
        let nato_chain = chain.len() >= 3 && chain.iter().all(|&i| matches!(units[i].unit, Unit::Letter(_, Kind::Nato)));
        if bounded || nato_chain {
            for &i in chain {
                accepted[i] = true;
            }
        }
    }

    // Collect runs.
    let mut runs = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let flush = |current: &mut Vec<usize>, runs: &mut Vec<Run>| {
        if let Some(run) = build_run(&units, current) {
            runs.push(run);
        }
        current.clear();
    };
    for &i in &solid {
        let s = &units[i];
        if !accepted[i] {
            flush(&mut current, &mut runs);
            continue;
        }
        if let Some(&last) = current.last() {
            let (a, b) = (units[last].clause, s.clause);
            if a != b && clause_letters[a] >= 2 && clause_letters[b] >= 2 {
                flush(&mut current, &mut runs);
            }
        }
        current.push(i);
    }
    flush(&mut current, &mut runs);
    runs
}

/// Spells out the accepted units of one run; None when fewer than two letters.
fn build_run(units: &[Scanned], indices: &[usize]) -> Option<Run> {
    let mut text = String::new();
    let mut letters = 0;
    let mut double = false;
    for &i in indices {
        match units[i].unit {
            Unit::Letter(c, _) => {
                text.push(c);
                letters += 1;
                if double {
                    text.push(c);
                    letters += 1;
                    double = false;
                }
            }
            Unit::Double => double = true,
            Unit::Mark(m) => {
                if !text.is_empty() && !text.ends_with(['\'', '-']) {
                    text.push(m);
                }
            }
            Unit::Filler | Unit::Other => {}
        }
    }
    let text = text.trim_end_matches(['\'', '-']).to_string();
    if letters < 2 {
        return None;
    }
    let first_tok = indices.first().map(|&i| units[i].tok)?;
    Some(Run { text, first_tok })
}

/// The word a caller spelled, capitalised: "S-M-I-T-H." -> "Smith", "ess em why tee aitch" ->
/// "Smyth", "Sierra Mike India Tango Hotel" -> "Smith", "O apostrophe B R I E N" -> "O'Brien",
/// "S M I T H hyphen J O N E S" -> "Smith-Jones".
///
/// Used after the agent asks "could you spell that?", and inside [`parse_full_name`] and
/// [`apply_name_correction`]. Understands single letters however punctuated, letter names as
/// Whisper writes them, NATO words, "as in Sam" / "for Sam" / "like Sam" examples, "double L",
/// "double you" (W), "apostrophe", "hyphen"/"dash".
///
/// Returns None when fewer than two letters were spelled ("B as in boy" alone is one letter) or
/// when the letter-like words are ordinary words ("Are you sure?", "Oh, I see."). When the
/// caller spells several words, the last one wins: it is usually the correction ("S M I, no,
/// S M Y T H").
pub fn parse_spelling(text: &str) -> Option<String> {
    let toks = tokens(text);
    spelled_runs(&toks).pop().map(|run| capitalize_name(&run.text))
}

// ---------------------------------------------------------------------------------------------
// Names in sentences
// ---------------------------------------------------------------------------------------------

/// Words that are never part of a name. A name is made of words *not* in this list, so it
/// holds the function words, the words of a clinic call and the short answers a caller gives
/// instead of a name ("next week", "not sure", "thank you"). Words that are also common names
/// (will, may, bill, rose, grace, mark, june) are deliberately absent.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    // pronouns, articles, prepositions, conjunctions
    "i", "i'm", "im", "i'd", "i'll", "i've", "me", "my", "mine", "myself", "you", "you're", "your",
    "he", "he's", "him", "his", "she", "she's", "her", "hers", "it", "it's", "its", "we", "we're",
    "us", "our", "they", "they're", "them", "their", "this", "that", "that's", "these", "those",
    "a", "an", "the", "and", "or", "but", "so", "if", "then", "than", "because", "as", "at", "by",
    "for", "from", "in", "into", "of", "off", "on", "onto", "out", "over", "to", "up", "down",
    "with", "without", "about", "after", "before", "under", "again", "also", "just", "only", "too",
    "very", "really", "here", "there", "where", "when", "what", "what's", "who", "who's", "why",
    "how", "which", "whose", "some", "any", "anything", "something", "nothing", "all", "both",
    "each", "every", "other", "another", "same", "such", "own",
    // verbs and auxiliaries
    "is", "am", "are", "was", "were", "be", "been", "being", "do", "does", "did", "don't",
    "doesn't", "didn't", "have", "has", "had", "haven't", "can", "can't", "cannot", "could",
    "couldn't", "would", "wouldn't", "should", "shall", "must", "might", "won't", "isn't", "aren't",
    "wasn't", "need", "needs", "want", "wants", "wanted", "like", "get", "got", "make", "made",
    "take", "took", "give", "go", "going", "gonna", "wanna", "come", "coming", "call", "calling",
    "called", "speak", "speaking", "talk", "talking", "say", "said", "tell", "know", "think", "see",
    "seeing", "book", "booking", "schedule", "scheduled", "cancel", "change", "move", "reschedule",
    "check", "help", "hold", "wait", "spell", "spelled", "spelt", "spelling", "feel", "feeling",
    "hurt", "hurts", "try", "trying", "look", "looking", "ask", "asking", "leave", "left", "let",
    "put", "keep", "mean", "means", "sorry", "thank", "thanks", "please", "refill", "pay", "paid",
    "having", "doing", "getting", "chest", "head", "back", "stomach", "arm", "leg", "throat",
    "fever", "cold", "cough", "dizzy", "bleeding", "breathing", "here's", "there's", "home", "work",
    "busy", "ready", "done", "finished", "glad", "happy", "worried", "scared", "confused", "lost",
    "pregnant", "still", "already",
    // answers, fillers, greetings
    "yes", "yeah", "yep", "yup", "no", "nope", "nah", "not", "okay", "ok", "sure", "right",
    "correct", "wrong", "exactly", "uh", "um", "umm", "uhh", "er", "erm", "ah", "oh", "hmm", "mm",
    "mhm", "mm-hmm", "uh-huh", "well", "hi", "hello", "hey", "bye", "goodbye", "good", "morning",
    "afternoon", "evening", "night", "fine", "great", "maybe", "actually", "anyway", "basically",
    "alright", "sir", "ma'am", "miss", "mr", "mrs", "ms", "dr", "doctor",
    // clinic words
    "name", "name's", "names", "first", "last", "middle", "family", "given", "surname", "surname's",
    "appointment", "appointments", "patient", "new", "old", "visit", "office", "clinic", "nurse",
    "prescription", "medication", "pharmacy", "insurance", "billing", "results", "test", "number",
    "phone", "date", "birth", "birthday", "today", "tomorrow", "yesterday", "week", "weeks",
    "month", "months", "year", "years", "day", "days", "time", "next", "soon", "now", "later",
    "early", "late", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "september", "october", "november", "december", "pain", "sick",
    "emergency", "question", "message", "someone", "somebody", "person", "mother", "father", "mom",
    "dad", "son", "daughter", "wife", "husband", "child", "kid", "baby", "one", "two", "three",
    "four", "five", "six", "seven", "eight", "nine", "ten", "letter", "capital", "apostrophe",
    "hyphen", "dash", "double",
];

/// Words that may open a clause before the name: greetings, answers, hesitations.
const LEADING_FILLERS: &[&str] = &[
    "uh", "um", "umm", "uhh", "er", "erm", "ah", "oh", "yeah", "yes", "yep", "yup", "sure", "okay", "ok", "so", "well", "hi", "hello",
    "hey", "sorry", "right", "alright", "and", "mr", "mrs", "ms", "miss", "dr", "doctor",
];

/// Words that may close a name clause: "Jane Doe here", "Jane Doe calling, please".
const TRAILING_FILLERS: &[&str] = &["here", "speaking", "calling", "please", "thanks", "thank", "you"];

/// Phrases that introduce a name. Longest first so "my name is" wins over "is". The bool marks
/// a strong lead-in, after which anything may follow the name ("My name is Jane Doe I need…");
/// after a weak one ("I'm", "it's", "for") the name must end its clause or be followed by a
/// word in [`AFTER_WEAK_NAME`], so "I'm having chest pain" is not a name.
const LEAD_INS: &[(&[&str], bool)] = &[
    (&["the", "patient's", "name", "is"], true),
    (&["patient's", "name", "is"], true),
    (&["the", "name", "is"], true),
    (&["my", "name", "is"], true),
    (&["my", "name's"], true),
    (&["name", "is"], true),
    (&["name's"], true),
    (&["call", "me"], true),
    (&["this", "is"], false),
    (&["it", "is"], false),
    (&["it's"], false),
    (&["its"], false),
    (&["i", "am"], false),
    (&["i'm"], false),
    (&["im"], false),
    (&["under"], false),
    (&["for"], false),
];

/// Words that may follow a name introduced by a weak lead-in: "This is Jane Doe calling about
/// my appointment", "I'm Jane Doe and I need…".
#[rustfmt::skip]
const AFTER_WEAK_NAME: &[&str] = &[
    "calling", "here", "speaking", "and", "i", "i'm", "i'd", "i've", "from", "please", "thanks",
    "thank", "again", "returning", "who", "with", "my", "date", "born", "birthday", "dob",
];

/// Particles that belong to the family name: "Van Buren", "de la Cruz".
const PARTICLES: &[&str] = &["van", "von", "de", "del", "della", "da", "di", "du", "la", "le", "der", "den", "st"];

/// Common given names, used only to tell "Jane, Doe" (a pause) from "Doe, Jane" (family
/// first). It need not be complete: when neither or both sides are listed, the comma means
/// family-first, as written.
#[rustfmt::skip]
const COMMON_GIVEN: &[&str] = &[
    "james", "john", "robert", "michael", "william", "david", "richard", "joseph", "thomas",
    "charles", "christopher", "daniel", "matthew", "anthony", "mark", "donald", "steven", "paul",
    "andrew", "joshua", "kenneth", "kevin", "brian", "george", "timothy", "ronald", "edward",
    "jason", "jeffrey", "ryan", "jacob", "gary", "nicholas", "eric", "jonathan", "stephen", "larry",
    "justin", "scott", "brandon", "benjamin", "samuel", "frank", "gregory", "raymond", "patrick",
    "jack", "dennis", "jerry", "tyler", "aaron", "jose", "adam", "henry", "peter", "mary",
    "patricia", "jennifer", "linda", "elizabeth", "barbara", "susan", "jessica", "sarah", "karen",
    "nancy", "lisa", "betty", "margaret", "sandra", "ashley", "kimberly", "emily", "donna",
    "michelle", "dorothy", "carol", "amanda", "melissa", "deborah", "stephanie", "rebecca",
    "sharon", "laura", "cynthia", "kathleen", "amy", "angela", "shirley", "anna", "brenda",
    "pamela", "emma", "nicole", "helen", "samantha", "katherine", "christine", "debra", "rachel",
    "carolyn", "janet", "catherine", "maria", "heather", "diane", "ruth", "julie", "olivia",
    "joyce", "virginia", "victoria", "kelly", "lauren", "christina", "joan", "evelyn", "judith",
    "megan", "andrea", "cheryl", "hannah", "jacqueline", "martha", "gloria", "teresa", "ann",
    "sara", "madison", "frances", "kathryn", "janice", "jean", "abigail", "alice", "julia", "judy",
    "sophia", "grace", "denise", "amber", "doris", "marilyn", "danielle", "beverly", "isabella",
    "theresa", "diana", "natalie", "brittany", "charlotte", "marie", "kayla", "alexis", "lori",
    "jane", "bob", "bill", "jim", "mike", "tom", "joe", "dan", "dave", "steve", "chris", "matt",
    "tony", "sam", "ben", "kate", "liz", "sue", "jill", "luis", "carlos", "juan", "ana", "wei",
    "mohammed", "muhammad", "ahmed", "fatima",
];

/// A word that can be part of a name: letters (with inner apostrophe or hyphen), two or more
/// of them, and not a stop word.
fn is_name_word(word: &str) -> bool {
    word.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && word.chars().all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        && !STOP_WORDS.contains(&word)
}

/// A single letter: allowed inside a name as a middle initial, then dropped.
fn is_initial(word: &str) -> bool {
    word.chars().count() == 1 && word.chars().all(|c| c.is_ascii_lowercase())
}

/// Name words found in one clause, with the token index after the last one.
struct NameWords {
    words: Vec<String>,
    end: usize,
}

/// Reads name words from `start`, staying inside `clause`: candidate words with at most one
/// initial between two of them. Stops at the first word that is not part of a name.
fn read_name_words(toks: &[Tok], start: usize, clause: usize) -> NameWords {
    let mut found = Vec::new();
    let mut end = start;
    let mut i = start;
    while i < toks.len() && toks[i].clause == clause {
        let w = toks[i].word.as_str();
        if is_name_word(w) {
            found.push(w.to_string());
            i += 1;
            end = i;
        } else if is_initial(w) && !found.is_empty() && toks.get(i + 1).is_some_and(|t| t.clause == clause && is_name_word(&t.word)) {
            i += 1; // middle initial: skip it
        } else {
            break;
        }
    }
    NameWords { words: found, end }
}

fn skip_while(toks: &[Tok], mut i: usize, clause: usize, list: &[&str]) -> usize {
    while i < toks.len() && toks[i].clause == clause && list.contains(&toks[i].word.as_str()) {
        i += 1;
    }
    i
}

fn clause_range(toks: &[Tok], clause: usize) -> (usize, usize) {
    let start = toks.iter().position(|t| t.clause == clause).unwrap_or(toks.len());
    let end = toks[start..].iter().position(|t| t.clause != clause).map_or(toks.len(), |p| start + p);
    (start, end)
}

/// Is `end` the end of its clause once trailing fillers ("here", "calling") are skipped?
fn ends_clause(toks: &[Tok], end: usize, clause: usize) -> bool {
    let after = skip_while(toks, end, clause, TRAILING_FILLERS);
    after >= toks.len() || toks[after].clause != clause
}

/// Every way this clause could hold a name: after a lead-in ("my name is …", any following
/// words allowed) or as the whole clause ("Uh, yeah, Jane Marie Doe").
fn clause_names(toks: &[Tok], clause: usize) -> Vec<NameWords> {
    let (start, _) = clause_range(toks, clause);
    let mut found = lead_in_names(toks, clause);
    // The whole clause, after leading fillers.
    let from = skip_while(toks, start, clause, LEADING_FILLERS);
    let name = read_name_words(toks, from, clause);
    if !name.words.is_empty() && ends_clause(toks, name.end, clause) {
        found.push(name);
    }
    found
}

/// The names this clause introduces with a lead-in ("my name is …", "this is …"), anywhere in
/// the clause.
fn lead_in_names(toks: &[Tok], clause: usize) -> Vec<NameWords> {
    let (start, end) = clause_range(toks, clause);
    let mut found = Vec::new();
    for i in start..end {
        for &(lead, strong) in LEAD_INS {
            let matches = lead.iter().enumerate().all(|(k, w)| toks.get(i + k).is_some_and(|t| t.clause == clause && t.word == *w));
            if matches {
                let from = skip_while(toks, i + lead.len(), clause, LEADING_FILLERS);
                let name = read_name_words(toks, from, clause);
                let follows_ok = strong
                    || ends_clause(toks, name.end, clause)
                    || toks.get(name.end).is_some_and(|t| AFTER_WEAK_NAME.contains(&t.word.as_str()));
                if !name.words.is_empty() && follows_ok {
                    found.push(name);
                }
                break;
            }
        }
    }
    found
}

/// The words of the names a caller introduces themselves or the patient with ("This is Bill
/// Hope", "my name is Rose", "I'm Mark Page calling about ..."), lowercase, in order. The
/// intent reader leaves them out: a name is not a request, however it sounds ("Bill", "Page").
pub fn introduced_name_words(text: &str) -> Vec<String> {
    let toks = tokens(text);
    let clauses = toks.last().map_or(0, |t| t.clause + 1);
    (0..clauses).flat_map(|c| lead_in_names(&toks, c)).flat_map(|n| n.words).collect()
}

/// Builds given/family from two to four name words: first word given, particles stay with the
/// last word, middle names dropped.
fn name_from_words(words: &[String]) -> Option<FullName> {
    if !(2..=4).contains(&words.len()) {
        return None;
    }
    let given = capitalize_name(&words[0]);
    let mut family_start = words.len() - 1;
    while family_start > 1 && PARTICLES.contains(&words[family_start - 1].as_str()) {
        family_start -= 1;
    }
    let family = words[family_start..].iter().map(|w| capitalize_name(w)).collect::<Vec<_>>().join(" ");
    Some(FullName { given, family })
}

pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// How far apart two spellings are, 0.0 (same) to 1.0 (nothing shared).
fn distance(a: &str, b: &str) -> f32 {
    let longest = a.chars().count().max(b.chars().count()).max(1);
    edit_distance(a, b) as f32 / longest as f32
}

/// Which part of a name a lone word or spelling most likely replaces: the closer spelling,
/// family on a tie (family names are the ones Whisper mangles and callers correct).
fn closer_to_given(name: &FullName, value: &str) -> bool {
    distance(value, &name.given) < distance(value, &name.family)
}

/// "Doe, Jane": two adjacent clauses of one name word (the second may add middle names).
/// Family first, as the comma means, unless only the first is a common given name; skipped
/// when both are.
fn comma_order(toks: &[Tok]) -> Option<(FullName, usize)> {
    let clauses = toks.last().map_or(0, |t| t.clause + 1);
    for c in 0..clauses.saturating_sub(1) {
        let (start, _) = clause_range(toks, c);
        let mut first = None;
        for lead in [&[][..], &["it's"][..], &["it", "is"][..], &["my", "name", "is"][..], &["this", "is"][..]] {
            let from = skip_while(toks, start, c, LEADING_FILLERS);
            let lead_ok = lead.iter().enumerate().all(|(k, w)| toks.get(from + k).is_some_and(|t| t.clause == c && t.word == *w));
            if !lead_ok {
                continue;
            }
            let name = read_name_words(toks, from + lead.len(), c);
            if name.words.len() == 1 && ends_clause(toks, name.end, c) {
                first = Some(name);
                break;
            }
        }
        let Some(first) = first else { continue };
        let (start2, end2) = clause_range(toks, c + 1);
        if start2 >= end2 {
            continue;
        }
        let from2 = skip_while(toks, start2, c + 1, LEADING_FILLERS);
        let second = read_name_words(toks, from2, c + 1);
        if second.words.is_empty() || second.words.len() > 3 || !ends_clause(toks, second.end, c + 1) {
            continue;
        }
        let a = &first.words[0];
        let b = &second.words[0];
        let a_given = COMMON_GIVEN.contains(&a.as_str());
        let b_given = COMMON_GIVEN.contains(&b.as_str());
        if a_given && b_given {
            // "Robert, Bob, Jones": two given names in a row are not "Family, Given".
            continue;
        }
        let (given, family) = if a_given && second.words.len() == 1 { (a, b) } else { (b, a) };
        let name = FullName { given: capitalize_name(given), family: capitalize_name(family) };
        return Some((name, second.end));
    }
    None
}

/// The name found in the text and the token index where it ends, without spellings applied.
/// `allow_partial` also accepts one name word followed by a spelling ("Jane, D O E") and two
/// spelled words ("J A N E, D O E").
fn find_name(toks: &[Tok], allow_partial: bool) -> Option<(FullName, usize)> {
    if let Some(found) = explicit_full_name(toks) {
        return Some(found);
    }
    if let Some(found) = comma_order(toks) {
        return Some(found);
    }
    let clauses = toks.last().map_or(0, |t| t.clause + 1);
    let mut singles: Vec<NameWords> = Vec::new();
    for c in 0..clauses {
        for name in clause_names(toks, c) {
            if let Some(full) = name_from_words(&name.words) {
                return Some((full, name.end));
            }
            if name.words.len() == 1 && singles.last().is_none_or(|s| s.end <= name.end && s.words != name.words) {
                singles.push(name);
            }
        }
    }
    if !allow_partial {
        return None;
    }
    let runs = spelled_runs(toks);
    // "J A N E, D O E" (and "Jane, J A N E, Doe, D O E"): first and last spelled words.
    if let [first, .., last] = runs.as_slice() {
        let name = FullName { given: capitalize_name(&first.text), family: capitalize_name(&last.text) };
        return Some((name, toks.len()));
    }
    let (Some(single), Some(run)) = (singles.first(), runs.first()) else {
        return None;
    };
    if run.first_tok < single.end {
        return None;
    }
    let spelled = capitalize_name(&run.text);
    // "Nguyen, N-G-U-Y-E-N, Thi": the spelling confirms the first word, a family name, and the
    // given name follows.
    if distance(&spelled, &single.words[0]) <= 0.34
        && let Some(given) = singles.get(1)
    {
        let name = FullName { given: capitalize_name(&given.words[0]), family: spelled };
        return Some((name, toks.len()));
    }
    // "Jane, D-O-E": a given name, then the family name spelled.
    let name = FullName { given: capitalize_name(&single.words[0]), family: spelled };
    Some((name, toks.len()))
}

/// Which part of the name a phrase like "last name" points at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    Given,
    Family,
}

/// Finds "first name"/"last name"/"surname"/"family name"/"given name" and returns the part
/// and the token index after the marker.
fn part_markers(toks: &[Tok]) -> Vec<(Part, usize)> {
    let mut found = Vec::new();
    for i in 0..toks.len() {
        let w = toks[i].word.as_str();
        let next = toks.get(i + 1).map(|t| t.word.as_str());
        let part = match (w, next) {
            ("first" | "given" | "christian", Some("name" | "name's")) => Some((Part::Given, i + 2)),
            ("last" | "family", Some("name" | "name's")) => Some((Part::Family, i + 2)),
            ("surname" | "surname's" | "lastname", _) => Some((Part::Family, i + 1)),
            ("firstname", _) => Some((Part::Given, i + 1)),
            _ => None,
        };
        found.extend(part);
    }
    found
}

/// Words between a part marker and its value: "last name is spelled", "first name should be".
const VALUE_LEAD: &[&str] =
    &["is", "it's", "its", "name's", "'s", "should", "be", "spelled", "spelt", "actually", "uh", "um", "it", "that's", "like", "as"];

/// The value given after a part marker: a spelling if one starts there, else the next name
/// word.
fn value_after(toks: &[Tok], runs: &[Run], at: usize, limit: usize) -> Option<String> {
    let mut i = at;
    while i < limit && VALUE_LEAD.contains(&toks[i].word.as_str()) {
        i += 1;
    }
    if let Some(run) = runs.iter().find(|r| r.first_tok >= at && r.first_tok < limit) {
        // A spelling right after the marker, or after the word it spells ("Smyth, S M Y T H").
        let word_between = (i..run.first_tok).all(|k| is_name_word(&toks[k].word) || VALUE_LEAD.contains(&toks[k].word.as_str()));
        if word_between && run.first_tok - i <= 2 {
            return Some(capitalize_name(&run.text));
        }
    }
    if i < limit && is_name_word(&toks[i].word) {
        return Some(capitalize_name(&toks[i].word));
    }
    None
}

/// "My first name is Jane and my last name is Doe": both parts named explicitly.
fn explicit_full_name(toks: &[Tok]) -> Option<(FullName, usize)> {
    let markers = part_markers(toks);
    let runs = spelled_runs(toks);
    let mut given = None;
    let mut family = None;
    for (k, &(part, at)) in markers.iter().enumerate() {
        let limit = markers.get(k + 1).map_or(toks.len(), |&(_, next)| next.saturating_sub(2));
        let value = value_after(toks, &runs, at, limit);
        match part {
            Part::Given => given = given.or(value),
            Part::Family => family = family.or(value),
        }
    }
    Some((FullName { given: given?, family: family? }, toks.len()))
}

/// Finds a caller's full name in what they said, for the "may I have your name?" step.
///
/// Understands "My name is Jane Doe.", "It's Jane Doe", "Jane Doe", "This is Jane Doe calling",
/// "Uh, yeah, Jane Marie Doe" (middle names and initials are dropped), "Doe, Jane" (comma means
/// family first, unless only the first word is a common given name: "Jane, Doe"), "Jane Doe,
/// D O E" (a spelling after the name replaces the part it is closer to, normally the family
/// name), "Jane, D-O-E", "J A N E, D O E", and "first name Jane, last name Doe".
///
/// A name is two to four words that are not stop words, either after a lead-in ("my name is",
/// "this is", "it's", "I'm", "for", "under") or making up a whole clause. Returns None for
/// anything else: "I need an appointment", "yes", "I don't know", a single word.
pub fn parse_full_name(text: &str) -> Option<FullName> {
    let toks = tokens(text);
    let (mut name, end) = find_name(&toks, true)?;
    // A spelling after the name corrects the part it resembles.
    if let Some(run) = spelled_runs(&toks).into_iter().rfind(|r| r.first_tok >= end) {
        let spelled = capitalize_name(&run.text);
        if closer_to_given(&name, &spelled) {
            name.given = spelled;
        } else {
            name.family = spelled;
        }
    }
    Some(name)
}

/// Applies a caller's correction to the name the agent read back, for the "did I get your name
/// right?" step. Returns the corrected name, or None when no new name value was understood.
///
/// Understands:
/// - an explicit part: "my first name is Jayne", "the last name is spelled S M Y T H",
///   "surname's Smyth";
/// - a whole new name: "No, it's Jane Smyth";
/// - a spelling: "No, it's Smyth, S M Y T H", "S M Y T H";
/// - a single word: "No, Smyth", "It's Smyth, not Smith".
///
/// Without an explicit part, a value replaces the part it resembles more (edit distance), the
/// family name on a tie; "X, not Y" replaces the part equal to Y. The returned name may equal
/// `previous` when the caller repeated it.
pub fn apply_name_correction(previous: &FullName, text: &str) -> Option<FullName> {
    let toks = tokens(text);
    let runs = spelled_runs(&toks);
    let mut name = previous.clone();

    let markers = part_markers(&toks);
    if !markers.is_empty() {
        let mut changed = false;
        for (k, &(part, at)) in markers.iter().enumerate() {
            let limit = markers.get(k + 1).map_or(toks.len(), |&(_, next)| next.saturating_sub(2));
            if let Some(value) = value_after(&toks, &runs, at, limit) {
                match part {
                    Part::Given => name.given = value,
                    Part::Family => name.family = value,
                }
                changed = true;
            }
        }
        if changed {
            return Some(name);
        }
    }

    if let Some((full, end)) = find_name(&toks, false) {
        let mut full = full;
        if let Some(run) = runs.iter().rfind(|r| r.first_tok >= end) {
            let spelled = capitalize_name(&run.text);
            if closer_to_given(&full, &spelled) {
                full.given = spelled;
            } else {
                full.family = spelled;
            }
        }
        return Some(full);
    }

    // "Smyth, not Smith": the word after "not" says which part is being replaced.
    let not_at = toks.iter().position(|t| t.word == "not");
    let replaced = not_at.and_then(|i| toks.get(i + 1)).map(|t| t.word.as_str()).and_then(|w| {
        if w.eq_ignore_ascii_case(&previous.given) {
            Some(Part::Given)
        } else if w.eq_ignore_ascii_case(&previous.family) {
            Some(Part::Family)
        } else {
            None
        }
    });
    let before_not = not_at.unwrap_or(toks.len());

    let value = if let Some(run) = runs.last() {
        Some(capitalize_name(&run.text))
    } else {
        toks[..before_not].iter().rev().find(|t| is_name_word(&t.word)).map(|t| capitalize_name(&t.word))
    }?;
    let part = replaced.unwrap_or(if closer_to_given(previous, &value) { Part::Given } else { Part::Family });
    match part {
        Part::Given => name.given = value,
        Part::Family => name.family = value,
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn full(given: &str, family: &str) -> FullName {
        FullName { given: given.to_string(), family: family.to_string() }
    }

    #[test]
    fn capitalisation() {
        assert_eq!(capitalize_name("o'brien"), "O'Brien");
        assert_eq!(capitalize_name("mcdonald"), "McDonald");
        assert_eq!(capitalize_name("smith-jones"), "Smith-Jones");
        assert_eq!(capitalize_name("d'angelo"), "D'Angelo");
        assert_eq!(capitalize_name("JANE"), "Jane");
        assert_eq!(capitalize_name("mack"), "Mack");
        assert_eq!(capitalize_name("mc"), "Mc");
        assert_eq!(capitalize_name(""), "");
        assert_eq!(full("Jane", "Doe").display(), "Jane Doe");
    }

    #[test]
    fn spelling_single_letters() {
        for text in [
            "S M I T H",
            "S-M-I-T-H.",
            "s, m, i, t, h",
            "S. M. I. T. H.",
            "It's S-M-I-T-H.",
            "Smith. S, M, I, T, H.",
            "Uh, S, M, uh, I, T, H.",
            "capital S M I T H",
        ] {
            assert_eq!(parse_spelling(text).as_deref(), Some("Smith"), "{text}");
        }
    }

    #[test]
    fn spelling_as_in_and_double() {
        assert_eq!(parse_spelling("S as in Sam, M as in Mary, Y, T, H").as_deref(), Some("Smyth"));
        assert_eq!(parse_spelling("B as in boy, R, O, W, N.").as_deref(), Some("Brown"));
        assert_eq!(parse_spelling("B for boy, R, O, W, N").as_deref(), Some("Brown"));
        assert_eq!(parse_spelling("B like boy, R O W N").as_deref(), Some("Brown"));
        assert_eq!(parse_spelling("B as in boy."), None, "one letter is not a spelling");
        assert_eq!(parse_spelling("R U S S E L L").as_deref(), Some("Russell"));
        assert_eq!(parse_spelling("R, U, double S, E, double L.").as_deref(), Some("Russell"));
        assert_eq!(parse_spelling("R U double-S E double-L").as_deref(), Some("Russell"));
        assert_eq!(parse_spelling("double you, I, L, S, O, N").as_deref(), Some("Wilson"));
        assert_eq!(parse_spelling("W, I, L, S, O, N").as_deref(), Some("Wilson"));
    }

    #[test]
    fn spelling_letter_names() {
        assert_eq!(parse_spelling("ess em eye tee aitch").as_deref(), Some("Smith"));
        assert_eq!(parse_spelling("Ess, em, why, tee, aitch.").as_deref(), Some("Smyth"));
        assert_eq!(parse_spelling("why oh you en gee").as_deref(), Some("Young"));
        assert_eq!(parse_spelling("Bee, are, oh, double you, en.").as_deref(), Some("Brown"));
        assert_eq!(parse_spelling("dee oh ee").as_deref(), Some("Doe"));
        assert_eq!(parse_spelling("jay oh en ee ess").as_deref(), Some("Jones"));
        assert_eq!(parse_spelling("kay ee el el why").as_deref(), Some("Kelly"));
        assert_eq!(parse_spelling("pee ay tee ee ell").as_deref(), Some("Patel"));
        assert_eq!(parse_spelling("cue you ee ee en").as_deref(), Some("Queen"));
        assert_eq!(parse_spelling("vee ay en ess").as_deref(), Some("Vans"));
        assert_eq!(parse_spelling("zee ee dee").as_deref(), Some("Zed"));
        assert_eq!(parse_spelling("zed ay en ee").as_deref(), Some("Zane"));
        assert_eq!(parse_spelling("cee oh ex").as_deref(), Some("Cox"));
        assert_eq!(parse_spelling("gee are ay why").as_deref(), Some("Gray"));
        assert_eq!(parse_spelling("em ay see kay").as_deref(), Some("Mack"));
        assert_eq!(parse_spelling("It's, uh, dee oh see.").as_deref(), Some("Doc"));
    }

    #[test]
    fn spelling_nato() {
        assert_eq!(parse_spelling("Sierra Mike India Tango Hotel").as_deref(), Some("Smith"));
        assert_eq!(parse_spelling("Sierra, Mike, India, Tango, Hotel.").as_deref(), Some("Smith"));
        assert_eq!(parse_spelling("It's Sierra Mike Yankee Tango Hotel").as_deref(), Some("Smyth"));
        assert_eq!(parse_spelling("November Golf").as_deref(), Some("Ng"));
        assert_eq!(parse_spelling("D as in delta, O, E").as_deref(), Some("Doe"));
        assert_eq!(parse_spelling("Foxtrot, O, X").as_deref(), Some("Fox"));
        assert_eq!(parse_spelling("X-ray, U").as_deref(), Some("Xu"));
    }

    #[test]
    fn spelling_marks() {
        assert_eq!(parse_spelling("O apostrophe B R I E N").as_deref(), Some("O'Brien"));
        assert_eq!(parse_spelling("O, apostrophe, B, R, I, E, N.").as_deref(), Some("O'Brien"));
        assert_eq!(parse_spelling("S M I T H hyphen J O N E S").as_deref(), Some("Smith-Jones"));
        assert_eq!(parse_spelling("S M I T H dash J O N E S").as_deref(), Some("Smith-Jones"));
        assert_eq!(parse_spelling("M C D O N A L D").as_deref(), Some("McDonald"));
        assert_eq!(parse_spelling("A B B O T T").as_deref(), Some("Abbott"));
        assert_eq!(parse_spelling("It's A-B-B-O-T-T.").as_deref(), Some("Abbott"));
    }

    #[test]
    fn spelling_last_word_wins() {
        assert_eq!(parse_spelling("S-M-I-T-H, J-A-N-E.").as_deref(), Some("Jane"));
        assert_eq!(parse_spelling("S M I, no, S M Y T H").as_deref(), Some("Smyth"));
    }

    #[test]
    fn spelling_not_from_ordinary_words() {
        for text in [
            "Are you sure?",
            "Oh, I see.",
            "Why are you asking?",
            "I need an appointment.",
            "Yes.",
            "You are right.",
            "I see, okay.",
            "See you Tuesday.",
            "Why are you?",
            "See you.",
            "My name is Mike.",
            "X-ray results",
            "I have a question.",
            "",
            "Oh, you are, I see why.",
            "S M I T H, are you getting this?",
        ] {
            let got = parse_spelling(text);
            if text.starts_with("S M I T H") {
                assert_eq!(got.as_deref(), Some("Smith"), "{text}");
            } else {
                assert_eq!(got, None, "{text}");
            }
        }
    }

    #[test]
    fn full_names_with_lead_ins() {
        let jane = Some(full("Jane", "Doe"));
        for text in [
            "My name is Jane Doe.",
            "It's Jane Doe",
            "Yeah, it's Jane Doe.",
            "Jane Doe",
            "Jane Doe.",
            "This is Jane Doe calling",
            "Hi, this is Jane Doe calling about my appointment.",
            "Uh, yeah, Jane Marie Doe",
            "Uh yeah Jane Marie Doe",
            "Jane M. Doe",
            "Jane Doe here.",
            "Hello, my name's Jane Doe, I need to reschedule.",
            "Hi, I'm Jane Doe.",
            "The patient's name is Jane Doe.",
            "It's for Jane Doe.",
            "first name Jane, last name Doe",
            "My first name is Jane and my last name is Doe.",
        ] {
            assert_eq!(parse_full_name(text), jane, "{text}");
        }
    }

    #[test]
    fn full_names_comma_order_and_spelling() {
        assert_eq!(parse_full_name("Doe, Jane"), Some(full("Jane", "Doe")));
        assert_eq!(parse_full_name("Doe, Jane Marie."), Some(full("Jane", "Doe")));
        assert_eq!(parse_full_name("Jane, Doe."), Some(full("Jane", "Doe")));
        assert_eq!(parse_full_name("Smith, Xiomara"), Some(full("Xiomara", "Smith")));
        assert_eq!(parse_full_name("Jane Doe, D O E"), Some(full("Jane", "Doe")));
        assert_eq!(parse_full_name("Jane Smith, S-M-Y-T-H."), Some(full("Jane", "Smyth")));
        assert_eq!(parse_full_name("Jayne Doe, J A Y N E"), Some(full("Jayne", "Doe")));
        assert_eq!(parse_full_name("Jane Doh. D as in David, O, E."), Some(full("Jane", "Doe")));
        assert_eq!(parse_full_name("My name is Jane, D-O-E."), Some(full("Jane", "Doe")));
        assert_eq!(parse_full_name("J A N E, D O E"), Some(full("Jane", "Doe")));
        assert_eq!(parse_full_name("Jane, J-A-N-E. Doe, D-O-E."), Some(full("Jane", "Doe")));
        assert_eq!(parse_full_name("Nguyen, N-G-U-Y-E-N, Thi."), Some(full("Thi", "Nguyen")));
        assert_eq!(parse_full_name("It's, uh, Robert, Bob, Jones."), Some(full("Bob", "Jones")));
        assert_eq!(parse_full_name("I'm calling for my mother, Jane Doe."), Some(full("Jane", "Doe")));
        assert_eq!(parse_full_name("I'm Jane Doe and I need to reschedule."), Some(full("Jane", "Doe")));
        assert_eq!(parse_full_name("My name is Jane Doe I need a refill."), Some(full("Jane", "Doe")));
    }

    #[test]
    fn full_names_capitalised() {
        assert_eq!(parse_full_name("my name is sean o'brien"), Some(full("Sean", "O'Brien")));
        assert_eq!(parse_full_name("it's mary smith-jones"), Some(full("Mary", "Smith-Jones")));
        assert_eq!(parse_full_name("Ronald McDonald."), Some(full("Ronald", "McDonald")));
        assert_eq!(parse_full_name("Juan de la Cruz"), Some(full("Juan", "De La Cruz")));
        assert_eq!(parse_full_name("Martin Van Buren"), Some(full("Martin", "Van Buren")));
        assert_eq!(parse_full_name("Bill Will"), Some(full("Bill", "Will")));
        // NATO words are names too when nobody is spelling.
        assert_eq!(parse_full_name("Mike Oscar"), Some(full("Mike", "Oscar")));
        assert_eq!(parse_full_name("It's Charlie Victor."), Some(full("Charlie", "Victor")));
    }

    #[test]
    fn not_names() {
        for text in [
            "I need an appointment.",
            "Yes.",
            "yes",
            "I don't know.",
            "No.",
            "Next Tuesday.",
            "Thank you.",
            "Good morning.",
            "I'm not sure.",
            "I'm calling about my bill.",
            "It's about my prescription.",
            "Can you repeat that?",
            "Mm-hmm.",
            "Jane.",
            "",
            "S-M-I-T-H.",
            "This is urgent.",
            "I'm feeling sick.",
            "Right now.",
            "I'm having chest pain.",
            "I'm having really bad chest pain.",
            "It's getting worse.",
            "This is my first visit.",
            "I'm calling for my husband.",
        ] {
            assert_eq!(parse_full_name(text), None, "{text}");
        }
    }

    #[test]
    fn corrections() {
        let jane = full("Jane", "Smith");
        assert_eq!(apply_name_correction(&jane, "No, it's Smyth, S M Y T H"), Some(full("Jane", "Smyth")));
        assert_eq!(apply_name_correction(&jane, "The last name is spelled S M Y T H."), Some(full("Jane", "Smyth")));
        assert_eq!(apply_name_correction(&jane, "My first name is Jayne."), Some(full("Jayne", "Smith")));
        assert_eq!(apply_name_correction(&jane, "First name is spelled J-A-Y-N-E."), Some(full("Jayne", "Smith")));
        assert_eq!(apply_name_correction(&jane, "Surname's Smythe."), Some(full("Jane", "Smythe")));
        assert_eq!(apply_name_correction(&jane, "No, it's Jane Smyth."), Some(full("Jane", "Smyth")));
        assert_eq!(apply_name_correction(&jane, "S M Y T H."), Some(full("Jane", "Smyth")));
        assert_eq!(apply_name_correction(&jane, "No, Smyth."), Some(full("Jane", "Smyth")));
        assert_eq!(apply_name_correction(&jane, "Jayne, not Jane."), Some(full("Jayne", "Smith")));
        assert_eq!(apply_name_correction(&jane, "It's Jayne, J A Y N E."), Some(full("Jayne", "Smith")));
        assert_eq!(apply_name_correction(&jane, "First name Jayne, last name Smyth."), Some(full("Jayne", "Smyth")));
    }

    #[test]
    fn corrections_without_a_value() {
        let jane = full("Jane", "Smith");
        assert_eq!(apply_name_correction(&jane, "No."), None);
        assert_eq!(apply_name_correction(&jane, "That's wrong."), None);
        assert_eq!(apply_name_correction(&jane, "The last name is wrong."), None);
        assert_eq!(apply_name_correction(&jane, ""), None);
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,80}") {
            let _ = parse_spelling(&text);
            let _ = parse_full_name(&text);
            let _ = apply_name_correction(&full("Jane", "Doe"), &text);
        }

        #[test]
        fn never_panics_on_spelling_like_input(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("double"), Just("as"), Just("in"), Just("x"), Just("ray"), Just("a"),
                    Just("you"), Just("apostrophe"), Just("dash"), Just(","), Just("s"), Just("name"),
                    Just("last"), Just("is"), Just("not"), Just("for"), Just("uh"), Just("Jane"),
                ],
                0..16,
            )
        ) {
            let text = parts.join(" ");
            let _ = parse_spelling(&text);
            let _ = parse_full_name(&text);
            let _ = apply_name_correction(&full("Jane", "Doe"), &text);
        }
    }
}
