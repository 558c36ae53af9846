//! The clinical safety net: spots callers describing an emergency, on every utterance, with
//! fixed rules and no model.
//!
//! Missing a real emergency is far worse than a false alarm, so the rules lean towards flagging:
//! - patterns allow a few words in between ("my chest really hurts", "pressure in my chest");
//! - past or third-person mentions are flagged too ("my dad had a stroke", "I had chest pain
//!   this morning"): the engine's emergency script costs a sentence, a miss could cost a life;
//! - negation only cancels a match when it is close (one of the three words before the phrase,
//!   same clause) and really negates the symptom. "I don't know, my chest really hurts", "I'm
//!   not sure but I think it's a heart attack" and "No, my chest hurts" are flags; "no chest
//!   pain", "I don't have chest pain", "not having any trouble breathing" are not.
//!
//! This file deliberately shares no code with the intent matcher (it has its own stemmer), so
//! that tuning intents can never weaken it.

use std::sync::OnceLock;

use super::words::words;

/// The kind of emergency a caller described. The engine answers every one with its emergency
/// script; the kind goes into records and logs (see [`RedFlag::label`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RedFlag {
    /// Chest pain or pressure, heart attack.
    ChestPain,
    /// Cannot breathe, short of breath, choking.
    Breathing,
    /// Stroke signs: face drooping, slurred speech, one-sided weakness or numbness.
    Stroke,
    /// Heavy or uncontrolled bleeding, coughing or vomiting blood.
    Bleeding,
    /// Suicidal thoughts or self-harm.
    SelfHarm,
    /// Overdose or poisoning.
    Overdose,
    /// Passed out, unresponsive, not breathing, seizure.
    Unconscious,
    /// Severe allergic reaction: throat or tongue swelling, anaphylaxis.
    Allergic,
    /// One of the clinic's own phrases (`emergency.phrases`) without a label.
    Other,
}

impl RedFlag {
    /// Short code for records and logs. It names the category only, never the caller's words,
    /// so logs carry no health details beyond the fact of an emergency call.
    pub fn label(&self) -> &'static str {
        match self {
            RedFlag::ChestPain => "chest_pain",
            RedFlag::Breathing => "breathing",
            RedFlag::Stroke => "stroke",
            RedFlag::Bleeding => "bleeding",
            RedFlag::SelfHarm => "self_harm",
            RedFlag::Overdose => "overdose",
            RedFlag::Unconscious => "unconscious",
            RedFlag::Allergic => "allergic",
            RedFlag::Other => "other",
        }
    }

    /// Every flag, in the order used to pick one when several match: the most immediately
    /// life-threatening first.
    const PRECEDENCE: [RedFlag; 9] = [
        RedFlag::Unconscious,
        RedFlag::Allergic,
        RedFlag::Breathing,
        RedFlag::ChestPain,
        RedFlag::Stroke,
        RedFlag::Overdose,
        RedFlag::Bleeding,
        RedFlag::SelfHarm,
        RedFlag::Other,
    ];

    fn from_label(label: &str) -> Option<RedFlag> {
        RedFlag::PRECEDENCE.into_iter().find(|f| f.label() == label.trim())
    }
}

/// Built-in patterns. Words are separated by spaces; `a|b` is a choice; `..` allows up to three
/// other words at that point; `=word` matches that exact word, not its stem ("=swallowed" but
/// not "swallow", which is a sore throat). A `+a|b` term, last, requires one of those stems
/// anywhere in the utterance. A leading `!` makes the pattern immune to negation: "I don't
/// want to die" is distress, not reassurance.
const PATTERNS: &[(RedFlag, &str)] = &[
    // Chest pain
    (
        RedFlag::ChestPain,
        "chest .. pain|hurt|ache|pressure|tight|tightness|heavy|heaviness|squeezing|squeeze|burning|crushing|discomfort|pressing",
    ),
    (RedFlag::ChestPain, "pain|pressure|tightness|ache|squeezing|heaviness|discomfort|hurt|weight .. chest"),
    (RedFlag::ChestPain, "heart attack"),
    (RedFlag::ChestPain, "heart .. hurt|pain|ache"),
    (RedFlag::ChestPain, "angina"),
    // Palpitations are usually benign, but not always: flag.
    (RedFlag::ChestPain, "heart .. racing|pounding|fluttering|skipping"),
    (RedFlag::ChestPain, "cardiac arrest"),
    // "I feel like I'm going to die": acute distress, reported under the generic code.
    (RedFlag::ChestPain, "going|gonna .. die"),
    // Breathing
    (RedFlag::Breathing, "cannot .. breathe|breath"),
    (RedFlag::Breathing, "can not .. breathe|breath"),
    (RedFlag::Breathing, "unable .. breathe"),
    (RedFlag::Breathing, "barely|hardly breathe"),
    (
        RedFlag::Breathing,
        "hard|difficult|trouble|difficulty|struggling|struggle|problem|problems|hurt|labored|laboured .. breathe|breathing|breath",
    ),
    (RedFlag::Breathing, "short|shortness .. breath"),
    (RedFlag::Breathing, "out of breath"),
    (RedFlag::Breathing, "cannot .. catch .. breath"),
    (RedFlag::Breathing, "gasping|choking|choke|suffocating|suffocate|wheezing"),
    (RedFlag::Breathing, "not|cannot .. get|getting .. air"),
    (RedFlag::Breathing, "struggling|gasping for air"),
    (RedFlag::Breathing, "turning|going blue"),
    (RedFlag::Breathing, "lips .. blue"),
    // Stroke
    (RedFlag::Stroke, "stroke"),
    (RedFlag::Stroke, "face .. droop|drooping|droopy|crooked|numb|sagging|lopsided"),
    (RedFlag::Stroke, "droop|drooping|droopy"),
    (RedFlag::Stroke, "slurred|slurring|slur"),
    (RedFlag::Stroke, "speech .. weird|strange|garbled|funny"),
    (RedFlag::Stroke, "trouble|difficulty|problem .. speaking|talking|speech"),
    (RedFlag::Stroke, "cannot .. get .. words"),
    (RedFlag::Stroke, "cannot .. move|feel|lift|use .. arm|leg|hand|side|face|foot"),
    (RedFlag::Stroke, "numb|numbness|weak|weakness|paralyzed|paralysed|tingling|dead .. one|left|right side"),
    (RedFlag::Stroke, "side .. numb|weak|paralyzed|paralysed|dead"),
    (RedFlag::Stroke, "sudden|suddenly .. weak|weakness|numb|numbness|confused|confusion|dizzy|vision|headache|paralyzed"),
    (RedFlag::Stroke, "worst headache"),
    (RedFlag::Stroke, "arm .. numb|dead|weak|limp"),
    (RedFlag::Stroke, "lost|losing .. vision|sight"),
    // Bleeding
    (RedFlag::Bleeding, "bleeding .. lot|heavy|heavily|badly|bad|profusely|everywhere|much|nonstop|severely|through"),
    (RedFlag::Bleeding, "severe|heavy|lot|uncontrolled|major|massive .. bleeding"),
    (RedFlag::Bleeding, "wont|cannot|not|doesnt|isnt .. stop .. bleeding"),
    (RedFlag::Bleeding, "bleeding .. wont|not|doesnt|isnt|cannot .. stop"),
    (RedFlag::Bleeding, "lot|much|pool|full .. blood"),
    (RedFlag::Bleeding, "blood .. everywhere|gushing|pouring|spurting"),
    (RedFlag::Bleeding, "gushing|pouring|spurting .. blood"),
    (RedFlag::Bleeding, "hemorrhage|hemorrhaging|haemorrhage"),
    (RedFlag::Bleeding, "coughing|cough|vomiting|vomit|throwing|puking|spitting .. blood"),
    (RedFlag::Bleeding, "im|hes|shes|is|keep|keeps|still bleeding"),
    (RedFlag::Bleeding, "deep .. cut|wound|gash"),
    // Self-harm
    (RedFlag::SelfHarm, "suicidal|suicide"),
    (RedFlag::SelfHarm, "kill|killing|hurt|hurting|harm|harming|cut|cutting|shoot|hang|drown .. myself"),
    (RedFlag::SelfHarm, "end .. my life"),
    (RedFlag::SelfHarm, "end it all"),
    (RedFlag::SelfHarm, "take .. my own life"),
    (RedFlag::SelfHarm, "! want|wanna .. die"),
    (RedFlag::SelfHarm, "wish .. dead"),
    (RedFlag::SelfHarm, "better off dead"),
    (RedFlag::SelfHarm, "dont|not .. want .. live|alive"),
    (RedFlag::SelfHarm, "no reason .. live"),
    // Overdose and poisoning
    (RedFlag::Overdose, "overdose|overdosed|overdosing|overdosage"),
    (RedFlag::Overdose, "=od"),
    (
        RedFlag::Overdose,
        "too many .. pill|pills|tablet|tablets|med|meds|medication|medications|medicine|drug|drugs|capsule|capsules|gummies|doses",
    ),
    (RedFlag::Overdose, "took|taken|take|swallowed|ate .. too many|much"),
    (RedFlag::Overdose, "whole bottle"),
    (RedFlag::Overdose, "=swallowed|=swallowing"),
    (RedFlag::Overdose, "poison|poisoned|poisoning"),
    (RedFlag::Overdose, "drank|drink|ate|swallowed .. bleach|antifreeze|detergent|chemical|chemicals|cleaner|pods"),
    // Unconscious, collapse, seizure
    (RedFlag::Unconscious, "passed|pass|passing out"),
    (RedFlag::Unconscious, "unconscious|unresponsive|seizure|seizures|seizing|convulsing|convulsion|convulsions"),
    (RedFlag::Unconscious, "fainted|fainting|faint|collapsed|collapse|collapsing"),
    (RedFlag::Unconscious, "not|isnt|stopped|wasnt =breathing"),
    (RedFlag::Unconscious, "not .. responding|responsive|waking"),
    (RedFlag::Unconscious, "wont|cannot .. wake|respond"),
    (RedFlag::Unconscious, "no pulse|heartbeat"),
    (RedFlag::Unconscious, "blacked|knocked out"),
    (RedFlag::Unconscious, "blacking out"),
    // Allergic
    (RedFlag::Allergic, "anaphylaxis|anaphylactic"),
    (RedFlag::Allergic, "epipen"),
    (RedFlag::Allergic, "epi pen"),
    (RedFlag::Allergic, "throat .. swelling|swollen|swell|closing|close|tight|tightening"),
    (RedFlag::Allergic, "tongue|lips|lip|face|mouth .. swelling|swollen|swell"),
    (RedFlag::Allergic, "swelling|swollen .. throat|tongue|lips|lip"),
    (RedFlag::Allergic, "allergic reaction +swell|swollen|breath|breathe|cannot|hive|throat|tongue|lip|face|wheez|itchy|rash"),
    (RedFlag::Allergic, "having .. reaction"),
];

/// Negation words. "no" only counts when it does not open the clause as an interjection
/// ("No, my chest hurts" / "no my chest hurts" are flags).
const NEGATORS: &[&str] = &[
    "no", "not", "dont", "doesnt", "didnt", "havent", "hasnt", "isnt", "arent", "wasnt", "werent", "never", "without", "deny", "denies",
    "nor", "none", "nothing", "aint",
];

/// A negator followed by one of these negates the speaker's knowledge, not the symptom ("I
/// don't know, my chest…", "I'm not sure but…", "I don't think it's a heart attack").
#[rustfmt::skip]
const HEDGE_VERBS: &[&str] = &[
    "know", "sure", "think", "remember", "understand", "mean", "believe", "care", "certain",
    "kidding",
];

/// Words after "no" that show "no" is an interjection, not a determiner.
const AFTER_INTERJECTION: &[&str] = &[
    "my", "i", "im", "it", "its", "he", "she", "hes", "shes", "the", "they", "we", "this", "that", "thats", "his", "her", "our", "your",
    "you", "sorry", "wait", "please", "help", "but",
];

/// One position of a pattern.
#[derive(Debug)]
struct Step {
    /// Accepted stems; an entry starting with '=' is an exact surface word.
    alts: Vec<String>,
    /// How many other words may come before this one (0 = right after the previous step).
    gap: usize,
}

#[derive(Debug)]
struct Pattern {
    flag: RedFlag,
    steps: Vec<Step>,
    /// Stems of which at least one must appear somewhere in the utterance.
    requires: Vec<String>,
    /// The pattern is itself negative ("not breathing", "won't stop bleeding"): a negator before
    /// it does not cancel it.
    negative: bool,
}

const GAP: usize = 3;

fn parse_pattern(flag: RedFlag, spec: &str) -> Option<Pattern> {
    let mut steps = Vec::new();
    let mut requires = Vec::new();
    let mut gap = 0;
    let mut unnegatable = false;
    for part in spec.split_whitespace() {
        if part == "!" {
            unnegatable = true;
            continue;
        }
        if part == ".." {
            gap = GAP;
            continue;
        }
        if let Some(req) = part.strip_prefix('+') {
            requires.extend(req.split('|').map(stem));
            continue;
        }
        let alts = part.split('|').map(|a| if a.starts_with('=') { a.to_string() } else { stem(a) }).collect();
        steps.push(Step { alts, gap });
        gap = 0;
    }
    if steps.is_empty() {
        return None;
    }
    let negative = unnegatable
        || steps.iter().any(|s| s.alts.iter().any(|a| NEGATORS.contains(&a.as_str()) || matches!(a.as_str(), "cannot" | "wont" | "unabl")));
    Some(Pattern { flag, steps, requires, negative })
}

fn built_in() -> &'static [Pattern] {
    static PATTERNS_CELL: OnceLock<Vec<Pattern>> = OnceLock::new();
    PATTERNS_CELL.get_or_init(|| PATTERNS.iter().filter_map(|&(flag, spec)| parse_pattern(flag, spec)).collect())
}

/// Rough stem: lower case, apostrophes dropped, plural/-ing/-ed and a final "e" removed, a
/// doubled final consonant collapsed. "breathing", "breathe", "breath" -> "breath"; "can't" ->
/// "cannot"; "hurts" -> "hurt". A copy of the intent matcher's idea, kept separate on purpose.
fn stem(word: &str) -> String {
    let lower = word.to_lowercase();
    let w: String = match lower.as_str() {
        "can't" | "cant" | "cannot" | "couldn't" | "couldnt" => return "cannot".to_string(),
        "won't" | "wont" => return "wont".to_string(),
        "od'd" | "o.d.'d" | "oded" => return "overdos".to_string(),
        _ => lower.chars().filter(|c| c.is_alphanumeric()).collect(),
    };
    let n = w.chars().count();
    let mut s = if n > 4 && w.ends_with("ies") {
        format!("{}y", &w[..w.len() - 3])
    } else if n > 4 && (w.ends_with("sses") || w.ends_with("xes") || w.ends_with("ches") || w.ends_with("shes")) {
        w[..w.len() - 2].to_string()
    } else if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..w.len() - 1].to_string()
    } else {
        w
    };
    let n = s.chars().count();
    if n > 5 && s.ends_with("ing") {
        s.truncate(s.len() - 3);
    } else if n > 4 && s.ends_with("ed") {
        s.truncate(s.len() - 2);
    }
    if s.chars().count() > 3 && s.ends_with('e') {
        s.pop();
    }
    let chars: Vec<char> = s.chars().collect();
    if let [.., a, b] = chars.as_slice()
        && a == b
        && !"aeiou".contains(*a)
        && chars.len() > 3
    {
        s.pop();
    }
    s
}

/// A word of the utterance: its surface form, stem and comma-level clause.
struct Token {
    surface: String,
    stem: String,
    clause: usize,
}

/// Hesitations dropped before matching, so "my chest, it's, uh, it's really hurting" keeps
/// its words within reach of each other.
const HESITATIONS: &[&str] = &["uh", "um", "umm", "uhh", "er", "erm", "ah", "hmm", "mm"];

fn tokens(text: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    for (clause, piece) in text.split([',', '.', ';', ':', '!', '?']).enumerate() {
        for w in words(piece) {
            // "short-of-breath", "epi-pen": match the parts.
            for part in w.split('-').filter(|p| !p.is_empty()) {
                if HESITATIONS.contains(&part) {
                    continue;
                }
                // Stutters ("it's, it's") count once.
                if out.last().is_some_and(|t| t.surface == part) {
                    continue;
                }
                out.push(Token { surface: part.to_string(), stem: stem(part), clause });
            }
        }
    }
    out
}

fn step_matches(step: &Step, tok: &Token) -> bool {
    step.alts.iter().any(|a| match a.strip_prefix('=') {
        Some(exact) => tok.surface == exact,
        None => *a == tok.stem,
    })
}

/// Positions where the pattern matches, as (first token, last token).
fn matches(pattern: &Pattern, toks: &[Token]) -> Vec<(usize, usize)> {
    fn rest(steps: &[Step], toks: &[Token], prev: usize) -> Option<usize> {
        let Some((step, others)) = steps.split_first() else {
            return Some(prev);
        };
        let from = prev + 1;
        let to = (from + step.gap).min(toks.len().saturating_sub(1));
        (from..=to).filter(|&i| i < toks.len() && step_matches(step, &toks[i])).find_map(|i| rest(others, toks, i))
    }
    let Some((first, others)) = pattern.steps.split_first() else {
        return Vec::new();
    };
    (0..toks.len()).filter(|&i| step_matches(first, &toks[i])).filter_map(|i| rest(others, toks, i).map(|end| (i, end))).collect()
}

/// Is the match starting at `at` negated? A real negator among the three words before it in
/// the same clause, or an "or"/"nor" list continuing an earlier negation ("no chest pain or
/// shortness of breath").
fn negated(toks: &[Token], at: usize) -> bool {
    let clause = toks[at].clause;
    let is_negator = |k: usize| {
        let t = &toks[k];
        if t.clause != clause || !NEGATORS.contains(&t.stem.as_str()) {
            return false;
        }
        let next = toks.get(k + 1).filter(|n| n.clause == clause);
        if next.is_some_and(|n| HEDGE_VERBS.contains(&n.stem.as_str())) {
            return false;
        }
        if t.stem == "no" && next.is_none_or(|n| AFTER_INTERJECTION.contains(&n.stem.as_str())) {
            return false;
        }
        true
    };
    if (at.saturating_sub(GAP)..at).any(is_negator) {
        return true;
    }
    // "no chest pain or shortness of breath": "or"/"nor" right before (skipping "any"), and a
    // negator earlier in the same clause.
    let mut k = at;
    while k > 0 && matches!(toks[k - 1].stem.as_str(), "any" | "a" | "an") && toks[k - 1].clause == clause {
        k -= 1;
    }
    if k > 0 && toks[k - 1].clause == clause && matches!(toks[k - 1].stem.as_str(), "or" | "nor") {
        return (k.saturating_sub(10)..k - 1).any(is_negator);
    }
    false
}

fn flag_in(patterns: &[Pattern], toks: &[Token], found: &mut [bool; 9]) {
    for pattern in patterns {
        if !pattern.requires.is_empty() && !toks.iter().any(|t| pattern.requires.contains(&t.stem)) {
            continue;
        }
        let hit = matches(pattern, toks).into_iter().any(|(start, _)| pattern.negative || !negated(toks, start));
        if hit && let Some(i) = RedFlag::PRECEDENCE.iter().position(|f| *f == pattern.flag) {
            found[i] = true;
        }
    }
}

/// Checks one utterance for a medical emergency. Run it on every utterance, before anything
/// else, and never skip it.
///
/// `extra_phrases` come from the clinic's config. A phrase may start with a label and a colon
/// to choose its flag ("bleeding: miscarriage", "stroke: face feels numb"); without one it maps
/// to [`RedFlag::Other`]. Extra
/// phrases match word by word (stems, in order, no gaps) and respect negation like the
/// built-ins.
///
/// When several flags match, the most immediately life-threatening wins (unconscious,
/// allergic, breathing, chest pain, stroke, overdose, bleeding, self-harm).
pub fn red_flag(text: &str, extra_phrases: &[String]) -> Option<RedFlag> {
    let toks = tokens(text);
    if toks.is_empty() {
        return None;
    }
    let mut found = [false; 9];
    flag_in(built_in(), &toks, &mut found);
    let extra: Vec<Pattern> = extra_phrases
        .iter()
        .filter_map(|phrase| {
            let (flag, body) = match phrase.split_once(':') {
                Some((label, body)) => match RedFlag::from_label(label) {
                    Some(flag) => (flag, body),
                    None => (RedFlag::Other, phrase.as_str()),
                },
                None => (RedFlag::Other, phrase.as_str()),
            };
            let spec: Vec<String> = words(body).into_iter().map(|w| w.replace(['|', '+', '='], "")).collect();
            parse_pattern(flag, &spec.join(" "))
        })
        .collect();
    flag_in(&extra, &toks, &mut found);
    RedFlag::PRECEDENCE.into_iter().zip(found).find_map(|(flag, hit)| hit.then_some(flag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn flag(text: &str) -> Option<RedFlag> {
        red_flag(text, &[])
    }

    fn expect(flag_kind: RedFlag, cases: &[&str]) {
        for text in cases {
            assert_eq!(flag(text), Some(flag_kind), "{text}");
        }
    }

    #[test]
    fn chest_pain() {
        expect(
            RedFlag::ChestPain,
            &[
                "I have chest pain.",
                "My chest hurts.",
                "Uh, there's a lot of pressure in my chest.",
                "I think I'm having a heart attack.",
                "I don't know, my chest really hurts.",
                "I'm not sure, but I think it might be a heart attack.",
                "No, my chest hurts.",
                "no my chest hurts really bad",
                "It feels like an elephant is sitting on my chest, like a tightness.",
                "My husband says his chest feels tight.",
                "I've got this crushing pain in my chest.",
                "Chest pains since this morning.",
                "My chest, it's, uh, it's really hurting.",
                "I don't think it's a heart attack, but my chest hurts.",
            ],
        );
    }

    #[test]
    fn breathing() {
        expect(
            RedFlag::Breathing,
            &[
                "I can't breathe.",
                "I cannot breathe.",
                "I can not breathe very well.",
                "I'm having trouble breathing.",
                "I'm short of breath.",
                "I'm really short-of-breath.",
                "Shortness of breath since last night.",
                "I'm struggling to breathe.",
                "My son is choking!",
                "It's hard to breathe.",
                "I can barely breathe.",
                "I can't catch my breath.",
                "She's gasping for air.",
                "I'm having difficulty breathing.",
                "I'm wheezing really bad.",
            ],
        );
    }

    #[test]
    fn stroke() {
        expect(
            RedFlag::Stroke,
            &[
                "I think my mom is having a stroke.",
                "His face is drooping on one side.",
                "Her speech is slurred.",
                "He has slurred speech all of a sudden.",
                "He's slurring his words.",
                "I can't move my arm.",
                "I'm numb on one side.",
                "Sudden weakness in my left leg.",
                "My left side is numb.",
                "I suddenly feel really confused and dizzy.",
                "Worst headache of my life.",
                "My arm went numb and my face feels weird.",
                "He can't lift his right arm.",
            ],
        );
    }

    #[test]
    fn bleeding() {
        expect(
            RedFlag::Bleeding,
            &[
                "I'm bleeding a lot.",
                "It won't stop bleeding.",
                "Severe bleeding from my leg.",
                "There's lots of blood.",
                "There's so much blood.",
                "The bleeding won't stop.",
                "I cut my hand and it's bleeding really bad.",
                "I'm coughing up blood.",
                "She's throwing up blood.",
                "He's bleeding.",
                "It keeps bleeding and bleeding.",
            ],
        );
    }

    #[test]
    fn self_harm() {
        expect(
            RedFlag::SelfHarm,
            &[
                "I'm feeling suicidal.",
                "I want to kill myself.",
                "I'm thinking about ending my life.",
                "I just want to die.",
                "I wanna die.",
                "I want to hurt myself.",
                "I've been cutting myself.",
                "I don't want to live anymore.",
                "Everyone would be better off if I was dead. I'm better off dead.",
                "I want to end it all.",
                "I've had thoughts of suicide.",
                "I'm going to end my life.",
                "I want to end my life.",
            ],
        );
    }

    #[test]
    fn overdose() {
        expect(
            RedFlag::Overdose,
            &[
                "I think I took an overdose.",
                "I took too many pills.",
                "My daughter swallowed a bunch of my pills.",
                "He overdosed.",
                "I accidentally took too much of my insulin.",
                "My toddler swallowed a battery.",
                "She drank bleach.",
                "I think he OD'd.",
                "He took a whole bottle of Tylenol.",
                "I think my son got into the medicine cabinet and took too many tablets.",
            ],
        );
    }

    #[test]
    fn unconscious() {
        expect(
            RedFlag::Unconscious,
            &[
                "My husband passed out.",
                "She's unconscious.",
                "He's not breathing!",
                "He isn't breathing.",
                "She's unresponsive.",
                "My son is having a seizure.",
                "I think I'm going to pass out.",
                "My wife fainted and hit her head.",
                "He collapsed in the kitchen.",
                "She won't wake up.",
                "He's not responding to me.",
                "He stopped breathing.",
                "My dad is not breathing, no, he's not breathing.",
            ],
        );
    }

    #[test]
    fn allergic() {
        expect(
            RedFlag::Allergic,
            &[
                "I think it's anaphylaxis.",
                "My throat is swelling.",
                "I'm having an allergic reaction and my lips are swelling.",
                "Allergic reaction, I can't breathe.",
                "Her tongue is swollen.",
                "My throat feels like it's closing up.",
                "I'm having a bad reaction to the new medicine.",
                "I used my EpiPen.",
                "allergic reaction with hives and my face is swelling",
            ],
        );
    }

    #[test]
    fn negated_is_not_a_flag() {
        for text in [
            "No chest pain.",
            "I don't have chest pain.",
            "I don't have any chest pain.",
            "I'm not having any trouble breathing.",
            "Without chest pain.",
            "No chest pain or shortness of breath.",
            "I'm not short of breath.",
            "There's no bleeding.",
            "I'm not suicidal, I just need my refill.",
            "He's not choking.",
            "I have never had a seizure.",
            "No, I don't have trouble breathing.",
            "I didn't pass out.",
            "Not bleeding a lot anymore.",
            "There's no swelling in my throat.",
        ] {
            assert_eq!(flag(text), None, "{text}");
        }
    }

    #[test]
    fn ordinary_calls_are_not_flags() {
        for text in [
            "I'd like to make an appointment.",
            "My prescription ran out.",
            "It hurts to swallow.",
            "Can I get my blood test results?",
            "I need to reschedule my physical.",
            "I have a question about my bill.",
            "My name is Jane Doe.",
            "What time do you open?",
            "I had an allergic reaction to penicillin years ago.",
            "The bleeding stopped.",
            "I'm fine, thanks.",
            "I need a refill of my blood pressure medication.",
            "I can't make it tomorrow.",
            "Yes.",
            "",
        ] {
            assert_eq!(flag(text), None, "{text}");
        }
    }

    #[test]
    fn when_in_doubt_flag() {
        // Past and third-person mentions are flagged on purpose (see the module doc).
        assert_eq!(flag("My father had a stroke last year."), Some(RedFlag::Stroke));
        assert_eq!(flag("I had chest pain this morning but it's gone."), Some(RedFlag::ChestPain));
        assert_eq!(flag("My heart is racing."), Some(RedFlag::ChestPain));
        assert_eq!(flag("I'd like to schedule a stroke follow-up."), Some(RedFlag::Stroke));
        // "I don't want to die" is distress: negation does not cancel it.
        assert_eq!(flag("I don't know, I don't want to die."), Some(RedFlag::SelfHarm));
    }

    #[test]
    fn precedence() {
        assert_eq!(flag("I took too many pills and I want to die."), Some(RedFlag::Overdose));
        assert_eq!(flag("He passed out and he's bleeding a lot."), Some(RedFlag::Unconscious));
        assert_eq!(flag("Allergic reaction, my throat is swelling and I can't breathe."), Some(RedFlag::Allergic));
    }

    #[test]
    fn extra_phrases() {
        let extra = vec!["miscarriage".to_string(), "bleeding: heavy period".to_string(), "stroke: face feels numb".to_string()];
        assert_eq!(red_flag("I think I'm having a miscarriage.", &extra), Some(RedFlag::Other));
        assert_eq!(red_flag("I have a really heavy period.", &extra), Some(RedFlag::Bleeding));
        assert_eq!(red_flag("Half my face feels numb.", &extra), Some(RedFlag::Stroke));
        assert_eq!(red_flag("I'm not having a miscarriage.", &extra), None);
        assert_eq!(red_flag("Just a refill.", &extra), None);
        assert_eq!(red_flag("x", &["".to_string(), ":".to_string(), "|+=".to_string()]), None);
    }

    #[test]
    fn labels_are_codes() {
        for f in RedFlag::PRECEDENCE {
            let label = f.label();
            assert!(label.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{label}");
            assert_eq!(RedFlag::from_label(label), Some(f));
        }
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,100}", extra in proptest::collection::vec("\\PC{0,20}", 0..3)) {
            let _ = red_flag(&text, &extra);
        }

        #[test]
        fn a_flag_survives_a_polite_prefix(prefix in prop_oneof![Just("Hi, "), Just("Um, "), Just("Yeah, so, "), Just("Hello, I don't know, ")]) {
            prop_assert_eq!(red_flag(&format!("{prefix}my chest hurts."), &[]), Some(RedFlag::ChestPain));
            prop_assert_eq!(red_flag(&format!("{prefix}I can't breathe."), &[]), Some(RedFlag::Breathing));
        }
    }
}
