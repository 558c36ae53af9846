//! Conversations through `frontdesk simulate`, the way staff try a config: caller lines in,
//! `AGENT:` lines and a `RECORD:` out. Every intent, slot path, fallback and the safety net.
//! The clinic's clock is fixed with --now: Monday 2026-11-23, 10:00 in New York (open) or
//! 22:00 (closed).

mod common;

use serde_json::Value;

const OPEN: &str = "2026-11-23T10:00:00-05:00";
const CLOSED: &str = "2026-11-23T22:00:00-05:00";

struct Conversation {
    agent: Vec<String>,
    record: Value,
}

impl Conversation {
    fn said(&self, needle: &str) -> bool {
        self.agent.iter().any(|l| l.contains(needle))
    }

    fn slot(&self, name: &str) -> &str {
        self.record["slots"][name].as_str().unwrap_or_else(|| panic!("no slot {name}: {}", self.record))
    }

    fn outcome(&self) -> &str {
        self.record["outcome"].as_str().unwrap()
    }

    fn transcript(&self) -> String {
        self.agent.join("\n")
    }
}

/// The example config (without its [sip] part), plus `extra` sections.
fn config(name: &str, extra: &str) -> std::path::PathBuf {
    let dir = common::scratch(name);
    let models = common::repo().join("models");
    let mut text =
        std::fs::read_to_string(common::example_config_path()).unwrap().replace("\"../models", &format!("\"{}", models.display()));
    if let Some(pos) = text.find("\n[sip]") {
        text.truncate(pos);
    }
    text.push_str(extra);
    let path = dir.join("frontdesk.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn simulate_with(config: &std::path::Path, args: &[&str], caller_lines: &[&str]) -> Conversation {
    let args: Vec<&str> = std::iter::once("simulate").chain(args.iter().copied()).collect();
    let out = common::run_frontdesk(config, &args, &(caller_lines.join("\n") + "\n"), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "simulate failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let agent: Vec<String> = stdout.lines().filter_map(|l| l.strip_prefix("AGENT: ")).map(str::to_string).collect();
    let record_line = stdout.lines().find_map(|l| l.strip_prefix("RECORD: ")).unwrap_or_else(|| panic!("no RECORD line:\n{stdout}"));
    assert_eq!(
        stdout.lines().filter(|l| !l.starts_with("AGENT: ") && !l.starts_with("RECORD: ")).count(),
        0,
        "only AGENT and RECORD lines on stdout:\n{stdout}"
    );
    Conversation { agent, record: serde_json::from_str(record_line).unwrap() }
}

fn simulate(caller_lines: &[&str]) -> Conversation {
    simulate_with(&common::example_config_path(), &["--now", OPEN], caller_lines)
}

const APPOINTMENT: &[&str] = &[
    "Hi, I'd like to make an appointment.",
    "My name is Jane Doe.",
    "D O E",
    "Yes.",
    "March fifth, nineteen eighty.",
    "Yes.",
    "Six one seven, five five five, zero one nine nine.",
    "Yes.",
    "I have a rash on my arm.",
    "Tuesday or Thursday mornings.",
    "Yes, that's right.",
    "No, thank you.",
];

#[test]
fn new_appointment_collects_and_confirms_every_detail() {
    let c = simulate(APPOINTMENT);
    assert_eq!(c.record["intent"], "new_appointment");
    assert_eq!(c.slot("name"), "Jane Doe");
    assert_eq!(c.slot("date_of_birth"), "1980-03-05");
    assert_eq!(c.slot("callback"), "6175550199");
    assert_eq!(c.slot("reason"), "I have a rash on my arm.");
    assert!(c.slot("preferred_times").starts_with("Tuesday or Thursday, in the morning"), "{}", c.slot("preferred_times"));
    assert_eq!(c.record["confirmed"], true);
    assert_eq!(c.outcome(), "message_taken");
    assert!(c.said("March fifth, nineteen eighty. Is that right?"));
    assert!(c.said("I have six one seven, five five five, zero one nine nine. Is that right?"));
    assert!(c.said("Thank you for calling Riverside Family Clinic. Goodbye."), "{}", c.transcript());
    // Both sides of the conversation are in the record, in order.
    let t = c.record["transcript"].as_array().unwrap();
    assert_eq!(t[0]["speaker"], "agent");
    assert_eq!(t[1]["speaker"], "caller");
    assert_eq!(t[1]["text"], "Hi, I'd like to make an appointment.");
}

#[test]
fn every_request_type_is_recognised_in_the_callers_words() {
    for (words, intent) in [
        ("I need to move my appointment to next week.", "reschedule"),
        ("I have to cancel my appointment tomorrow.", "cancel"),
        ("My blood pressure prescription ran out, I need a refill.", "refill"),
        ("Did my blood work results come back?", "test_results"),
        ("I have a question about my bill.", "billing"),
        ("Can I leave a message for Dr. Patel?", "message"),
    ] {
        let c = simulate(&[words, "<hangup>"]);
        assert_eq!(c.record["intent"], intent, "{words:?}:\n{}", c.transcript());
        assert_eq!(c.outcome(), "abandoned", "hung up before the details");
    }
}

#[test]
fn refill_with_caller_id_offer_and_medication() {
    let c = simulate_with(
        &common::example_config_path(),
        &["--now", OPEN, "--caller", "+16175550199"],
        &[
            "I need a refill on my lisinopril.",
            "It's John Smith.",
            "S M I T H",
            "yes",
            "oh three oh five ninety",
            "yes",
            "Yes, that's the best number.",
            "Lisinopril, ten milligrams.",
            "Yes.",
            "That's all, goodbye.",
        ],
    );
    assert!(c.said("Is the number you're calling from, ending in zero one nine nine, the best one to reach you?"), "{}", c.transcript());
    assert_eq!(c.slot("callback"), "6175550199");
    assert_eq!(c.slot("date_of_birth"), "1990-03-05");
    assert_eq!(c.slot("medication"), "Lisinopril, ten milligrams.");
    assert_eq!(c.record["intent"], "refill");
    assert_eq!(c.outcome(), "message_taken");
}

#[test]
fn faq_answers_and_anything_else() {
    let c = simulate(&["What are your hours?", "Yes, where do I park?", "No, that's all."]);
    assert!(
        c.said(
            "Our hours are Monday to Wednesday, 8 AM to 5 PM; Thursday, 8 AM to 7 PM; Friday, 8 AM to 5 PM, and Saturday, 9 AM to noon."
        ),
        "{}",
        c.transcript()
    );
    assert!(c.said("free parking behind the building"));
    assert_eq!(c.record["questions"], serde_json::json!(["hours", "parking"]));
    assert_eq!(c.outcome(), "answered");
}

#[test]
fn spelling_with_as_in_and_double_letters() {
    let c = simulate(&["I want to book a checkup.", "Anna Bell", "B as in boy, E, double L", "<hangup>"]);
    assert_eq!(c.slot("name"), "Anna Bell");
    assert!(c.said("spelled B E L L"), "{}", c.transcript());
    let c = simulate(&["I want to book a checkup.", "My name is Ann Smyth", "S as in Sam, M, Y, T, H", "<hangup>"]);
    assert_eq!(c.slot("name"), "Ann Smyth");
}

#[test]
fn date_of_birth_forms_missing_year_and_impossible_dates() {
    let c = simulate(&["I'd like an appointment.", "Jane Doe", "D O E", "yes", "the fifth of March", "nineteen eighty", "yes", "<hangup>"]);
    assert!(c.said("And what year were you born?"), "{}", c.transcript());
    assert_eq!(c.slot("date_of_birth"), "1980-03-05");
    let c = simulate(&[
        "I'd like an appointment.",
        "Jane Doe",
        "D O E",
        "yes",
        "February thirtieth, nineteen eighty",
        "February twentieth, nineteen eighty",
        "yes",
        "<hangup>",
    ]);
    assert!(c.said("that day doesn't exist in that month"), "{}", c.transcript());
    assert_eq!(c.slot("date_of_birth"), "1980-02-20");
    // A correction in the "no" goes straight in.
    let c = simulate(&[
        "I'd like an appointment.",
        "Jane Doe",
        "D O E",
        "yes",
        "March fifth 1980",
        "No, March fifteenth 1980",
        "yes",
        "<hangup>",
    ]);
    assert_eq!(c.slot("date_of_birth"), "1980-03-15");
}

#[test]
fn keypad_fallback_for_date_and_number() {
    let c = simulate(&[
        "I'd like an appointment.",
        "Jane Doe",
        "D O E",
        "Yes.",
        "um, well",
        "hmm",
        "it was a Tuesday",
        "<dtmf 03051980#>",
        "yes",
        "it's five five five",
        "uh, five five five",
        "um, five five five, I think",
        "<dtmf 6175550199>",
        "yes",
        "<hangup>",
    ]);
    assert!(c.said("Please enter your date of birth on the keypad"), "{}", c.transcript());
    assert_eq!(c.slot("date_of_birth"), "1980-03-05");
    assert!(c.said("I only got 3 digits."), "{}", c.transcript());
    assert!(c.said("Please enter the ten digit phone number on the keypad."), "{}", c.transcript());
    assert_eq!(c.slot("callback"), "6175550199");
    let keypad: Vec<&Value> = c.record["transcript"].as_array().unwrap().iter().filter(|u| u["keypad"] == true).collect();
    assert_eq!(keypad.len(), 2, "key presses are marked in the transcript");
}

#[test]
fn phone_correction_after_read_back() {
    let c = simulate(&[
        "I'd like an appointment.",
        "Jane Doe",
        "D O E",
        "Yes.",
        "March 5 1980",
        "yes",
        "617 555 0199",
        "No, it ends in four four seven one.",
        "Yes.",
        "<hangup>",
    ]);
    assert!(c.said("I have six one seven, five five five, four four seven one. Is that right?"), "{}", c.transcript());
    assert_eq!(c.slot("callback"), "6175554471");
}

#[test]
fn correction_at_the_summary_changes_one_detail() {
    let mut lines: Vec<&str> = APPOINTMENT[..10].to_vec();
    lines.extend(["No.", "The phone number.", "508 555 0199", "yes", "Yes.", "No."]);
    let c = simulate(&lines);
    assert!(c.said("What should I change"), "{}", c.transcript());
    assert_eq!(c.slot("callback"), "5085550199");
    assert_eq!(c.record["confirmed"], true);
    // The read-back came twice, the second with the new number.
    assert!(c.agent.iter().filter(|l| l.starts_with("Let me read that back.")).count() == 2);
    assert!(c.said("call back at five zero eight, five five five, zero one nine nine"));
}

#[test]
fn silence_gets_a_reprompt_then_a_goodbye() {
    let c = simulate(&["<silence 10s>", "<silence 10s>"]);
    assert!(c.said("Are you still there?"));
    assert!(c.said("I haven't heard anything, so I'll end the call now."));
    assert_eq!(c.outcome(), "abandoned");
    // A short pause is not a timeout.
    let c = simulate(&["<silence 2s>", "What are your hours?", "no"]);
    assert!(!c.said("Are you still there?"));
    assert_eq!(c.outcome(), "answered");
}

#[test]
fn emergency_in_the_middle_of_an_intake_interrupts_it() {
    let c =
        simulate(&["I need an appointment.", "Jane Doe", "D O E", "yes", "Actually I'm having crushing chest pain right now.", "<hangup>"]);
    assert!(c.said("Please hang up and call 9 1 1 now"), "{}", c.transcript());
    assert_eq!(c.outcome(), "emergency");
    assert_eq!(c.record["red_flag"], "chest_pain");
    // Without a transfer target the box takes a message with the caller's words as reason.
    assert_eq!(c.slot("reason"), "Actually I'm having crushing chest pain right now.");
}

#[test]
fn emergency_is_transferred_to_the_nurse_line_when_open() {
    let cfg = config("sim-emergency", "\n[transfer]\ntarget = \"sip:reception@127.0.0.1\"\n");
    let c = simulate_with(&cfg, &["--now", OPEN], &["My husband can't breathe"]);
    assert!(c.said("Please hang up and call 9 1 1 now"));
    assert!(c.said("Please hold while I transfer you."));
    assert_eq!(c.outcome(), "emergency");
    assert_eq!(c.record["red_flag"], "breathing");
    assert_eq!(c.record["transfer"], "sip:reception@127.0.0.1");
}

#[test]
fn a_person_is_reached_by_transfer_or_a_message_is_taken() {
    let cfg = config("sim-person", "\n[transfer]\ntarget = \"sip:reception@127.0.0.1\"\n");
    let c = simulate_with(&cfg, &["--now", OPEN], &["Can I talk to a real person?"]);
    assert_eq!(c.outcome(), "transferred");
    let c = simulate_with(
        &cfg,
        &["--now", OPEN, "--transfer-fails"],
        &[
            "Can I talk to the receptionist?",
            "Jane Doe",
            "D O E",
            "yes",
            "March 5 1980",
            "yes",
            "617 555 0199",
            "yes",
            "Please call me about my referral.",
            "yes",
            "no",
        ],
    );
    assert!(c.said("I couldn't reach anyone right now."));
    assert_eq!(c.record["intent"], "message");
    assert_eq!(c.outcome(), "message_taken");
    assert_eq!(c.slot("reason"), "Please call me about my referral.");
    // Key 0 asks for a person too.
    let c = simulate_with(&cfg, &["--now", OPEN], &["<dtmf 0>"]);
    assert_eq!(c.outcome(), "transferred");
}

#[test]
fn after_hours_greeting_and_no_transfer() {
    let cfg = config("sim-closed", "\n[transfer]\ntarget = \"sip:reception@127.0.0.1\"\n");
    let c = simulate_with(&cfg, &["--now", CLOSED], &["I need to speak to someone.", "<hangup>"]);
    assert!(c.agent[0].contains("We're closed right now"), "{}", c.transcript());
    assert!(c.said("Our office is closed right now"));
    assert_eq!(c.record["after_hours"], true);
    assert_eq!(c.record["transfer"], Value::Null);
    // Holidays from hours.closed_dates count as closed.
    let c = simulate_with(&cfg, &["--now", "2026-12-25T10:00:00-05:00"], &["<hangup>"]);
    assert!(c.agent[0].contains("We're closed right now"));
}

#[test]
fn medical_advice_is_declined_and_a_message_taken() {
    let c = simulate(&["Should I take ibuprofen with my blood pressure pills?", "<hangup>"]);
    assert!(c.said("I'm not able to give medical advice"), "{}", c.transcript());
    assert_eq!(c.record["intent"], "message");
    assert_eq!(c.slot("reason"), "Should I take ibuprofen with my blood pressure pills?");
}

#[test]
fn not_understood_twice_then_a_message() {
    let c = simulate(&["", "blah blah", "qwerty", "<hangup>"]);
    assert_eq!(c.agent.iter().filter(|l| l.contains("Sorry, I didn't catch that.")).count(), 2, "{}", c.transcript());
    assert!(c.said("I can take a message"), "{}", c.transcript());
    assert_eq!(c.record["intent"], "message");
}

#[test]
fn hanging_up_mid_intake_keeps_what_was_given() {
    let c = simulate(&["I'd like an appointment.", "Jane Doe", "D O E"]);
    assert_eq!(c.outcome(), "abandoned");
    assert_eq!(c.slot("name"), "Jane Doe");
}

#[test]
fn config_flows_change_the_conversation() {
    let cfg = config(
        "sim-flow",
        "\n[intents.cancel]\nslots = [\"name\", \"reason\"]\nintro = \"Sorry to hear that.\"\nsummary = \"a cancellation\"\nphrases = [\"won't be coming\"]\n",
    );
    let c = simulate_with(
        &cfg,
        &["--now", OPEN],
        &["I won't be coming on Friday.", "Jane Doe", "D O E", "yes", "My car broke down.", "yes", "no"],
    );
    assert!(c.said("Sorry to hear that."));
    assert_eq!(c.record["intent"], "cancel");
    assert!(!c.said("date of birth"), "the clinic's flow has no date of birth: {}", c.transcript());
    assert_eq!(c.outcome(), "message_taken");
}

/// The same appointment call, with each caller line spoken by our voice through 8 kHz G.711
/// and recognised by Whisper, as on a real line.
#[test]
fn audio_mode_hears_an_appointment_request() {
    let c = simulate_with(&config("sim-audio", ""), &["--audio", "--now", OPEN], common::APPOINTMENT);
    assert_eq!(c.slot("name"), "John Smith");
    assert_eq!(c.slot("date_of_birth"), "1980-03-05");
    assert_eq!(c.slot("callback"), "6175550199");
    assert_eq!(c.outcome(), "message_taken");
    let confidences: Vec<f64> = c.record["transcript"].as_array().unwrap().iter().filter_map(|u| u["confidence"].as_f64()).collect();
    assert!(confidences.iter().all(|&x| x > 0.0 && x < 1.0), "real recognition confidences: {confidences:?}");
}
