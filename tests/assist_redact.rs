//! The de-identifier against the leak corpus (`tests/data/assist/leak_corpus.txt`): 400-odd
//! spoken-form utterances with every Safe Harbor identifier marked `{...}` and clinically
//! useful words marked `<...>`. No identifier word may reach the text that would be sent;
//! how many useful words survive is printed (run with `--nocapture`) for BENCHMARKS.md.
//!
//! The redactor is the one the daemon and `frontdesk assist redact` build from the example
//! config; one test also drives the command itself.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use frontdesk::assist::redact::{Captured, Redacted};

mod common;

struct Case {
    class: String,
    text: String,
    identifiers: Vec<String>,
    useful: Vec<String>,
    captured: Vec<String>,
}

/// Runs of letters or digits, lower-cased: what "a word reached the model" means here.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).collect()
}

fn corpus() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/assist/leak_corpus.txt")).unwrap();
    let mut class = String::from("unclassed");
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(c) = line.strip_prefix("# ") {
            if !c.contains(':') && c.len() < 60 && !c.starts_with(' ') {
                class = c.trim().to_string();
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (utterance, captured) = line.split_once('\t').expect("a TAB on every corpus line");
        let (mut plain, mut identifiers, mut useful) = (String::new(), Vec::new(), Vec::new());
        let mut mark: Option<(char, String)> = None;
        for c in utterance.chars() {
            match (c, &mut mark) {
                ('{' | '<', None) => mark = Some((c, String::new())),
                ('}' | '>', Some((open, inner))) => {
                    if *open == '{' {
                        identifiers.extend(words(inner))
                    } else {
                        useful.extend(words(inner))
                    }
                    mark = None;
                }
                (c, Some((_, inner))) => {
                    inner.push(c);
                    plain.push(c);
                }
                (c, None) => plain.push(c),
            }
        }
        let captured = captured.split(" | ").map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect();
        out.push(Case { class: class.clone(), text: plain, identifiers, useful, captured });
    }
    out
}

/// Words the corpus marks inside an identifier's span that only give it its shape ("{C as in
/// cat}", "{95 years old}", "{four in the morning}", "{www dot ... dot com}", "{RX 7731902}"):
/// they identify no one, so finding them in a request is not a leak. Everything else inside
/// braces is.
const SHAPE_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "in",
    "as",
    "and",
    "of",
    "at",
    "on",
    "this",
    "for",
    "dot",
    "slash",
    "colon",
    "underscore",
    "dash",
    "hyphen",
    "www",
    "com",
    "org",
    "net",
    "http",
    "https",
    "years",
    "year",
    "old",
    "young",
    "extension",
    "number",
    "rx",
    "mr",
    "mrs",
    "ms",
    "dr",
    "morning",
    "afternoon",
    "evening",
    "night",
    "earlier",
    "around",
    "between",
    "before",
    "after",
    "day",
    "ago",
    "past",
    "half",
    "quarter",
    "lot",
    "visit",
];

/// What would be sent, with the class tags removed (they are not the caller's words).
fn sent_words(sent: &str) -> Vec<String> {
    let mut s = sent.to_string();
    for tag in ["[name]", "[number]", "[date]", "[letters]", "[email]", "[place]", "[word]"] {
        s = s.replace(tag, " ");
    }
    words(&s)
}

#[test]
fn no_identifier_in_the_corpus_reaches_a_request() {
    let config = common::config();
    let redactor = config.redactor();
    let cases = corpus();
    assert!(cases.len() >= 200, "the corpus has {} utterances", cases.len());
    #[derive(Default)]
    struct Tally {
        lines: usize,
        withheld: usize,
        identifiers: usize,
        useful: usize,
        useful_kept: usize,
        unchanged: usize,
    }
    let mut by_class: BTreeMap<String, Tally> = BTreeMap::new();
    let mut leaks = Vec::new();
    for case in &cases {
        let mut captured = Captured::default();
        for v in &case.captured {
            captured.add(v);
        }
        let t = by_class.entry(case.class.clone()).or_default();
        t.lines += 1;
        t.identifiers += case.identifiers.len();
        t.useful += case.useful.len();
        match redactor.redact(&case.text, &captured) {
            Redacted::Withheld(_) => t.withheld += 1,
            Redacted::Send { text, masked } => {
                t.unchanged += usize::from(masked == 0);
                let sent = sent_words(&text);
                for id in case.identifiers.iter().filter(|w| !SHAPE_WORDS.contains(&w.as_str())) {
                    if sent.contains(id) {
                        leaks.push(format!("{:?} leaks {id:?} in {text:?} ({})", case.text, case.class));
                    }
                }
                t.useful_kept += case.useful.iter().filter(|u| sent.contains(u)).count();
            }
        }
    }
    println!("| class | utterances | withheld | sent unchanged | identifier words | useful words kept |");
    println!("|---|---|---|---|---|---|");
    let (mut lines, mut withheld, mut useful, mut kept) = (0, 0, 0, 0);
    for (class, t) in &by_class {
        println!("| {class} | {} | {} | {} | {} | {}/{} |", t.lines, t.withheld, t.unchanged, t.identifiers, t.useful_kept, t.useful);
        lines += t.lines;
        withheld += t.withheld;
        useful += t.useful;
        kept += t.useful_kept;
    }
    println!("| all | {lines} | {withheld} | | | {kept}/{useful} ({:.0} %) |", 100.0 * kept as f64 / useful.max(1) as f64);
    assert!(leaks.is_empty(), "{} identifier words would have left the box:\n{}", leaks.len(), leaks.join("\n"));
}

#[test]
fn the_command_prints_one_line_per_utterance_and_an_empty_one_when_withheld() {
    let (bin, config) = (common::frontdesk_bin(), common::example_config_path());
    let mut child = Command::new(bin)
        .args(["--config", config.to_str().unwrap(), "assist", "redact", "--captured", "Bill Hope"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Hi, it's bill hope, about my refill.\n617 555 0147\nMy kid's school needs a form signed.\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, ["Hi, it's [name], about my refill.", "", "My kid's school needs a form signed."]);
}
