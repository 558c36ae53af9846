//! The monitoring endpoint (`[metrics]`) and `frontdesk status`, on the real daemon after a
//! real SIP call: the counters hold the call, its turns and its media, and nothing the caller
//! said or is appears anywhere in them. The caller leaves a message with planted values (a
//! name, a phone number, a reason) that must not leave the box by this door either.
//!
//! Everything on 127.0.0.1; the test waits for the daemon's log lines, never for time.

mod common;

use std::process::Command;
use std::time::Duration;

use common::daemon::Daemon;
use common::listening::converse;

const METRICS_PORT: u16 = 18669;

/// Planted in what the caller says: none may appear in a scrape or in `frontdesk status`.
const CANARIES: &[&str] = &["Zebulon", "zebulon", "Quixote", "quixote", "QUIXOTE", "6175550142", "rash", "Okafor"];

fn scrape() -> String {
    ureq::get(&format!("http://127.0.0.1:{METRICS_PORT}/metrics")).call().unwrap().body_mut().read_to_string().unwrap()
}

/// The value of the first sample whose series starts with `series`.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(series))
        .find_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse().ok()))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[test]
fn a_call_is_counted_and_nothing_of_the_caller_is_in_the_counters() {
    let mut edits = common::ALWAYS_OPEN.to_vec();
    edits.push(common::ONE_STT_THREAD);
    edits.push(("no_input_s = 8", "no_input_s = 30"));
    let port = 18660;
    let tail = format!("[metrics]\nlisten = \"127.0.0.1:{METRICS_PORT}\"\n");
    let d = Daemon::launch_edited("metrics", port, "app = \"conversation\"", &tail, "info", &edits);
    d.wait_for("metrics for monitoring at /metrics", Duration::from_secs(10));
    let before = scrape();
    assert_eq!(value(&before, "frontdesk_calls_active"), 0.0, "{before}");
    assert!(!before.contains("frontdesk_calls_total{"), "no call yet:\n{before}");

    let mut caller = common::persona::john_smith("a caller with planted details", "I'd like to leave a message for Doctor Okafor.");
    caller.trusting = true;
    caller.facts.given = "Zebulon";
    caller.facts.family = "Quixote";
    caller.facts.phone = Some("6175550142");
    caller.name_said = "My name is Zebulon Quixote.";
    caller.spelling_said = "Q. U. I. X. O. T. E.";
    caller.phone_said = "Six one seven, five five five, zero one four two.";
    caller.reason_said = "Please tell Doctor Okafor my rash is worse.";
    let talk = converse(port, Box::new(caller), Duration::from_secs(300));
    eprintln!("{}", talk.transcript());
    d.wait_for("conversation ended", Duration::from_secs(60));
    d.wait_for("call ended", Duration::from_secs(30));

    let after = scrape();
    let log = d.log();
    let context = format!("{}\n--- scrape ---\n{after}\n--- daemon log ---\n{log}", talk.transcript());
    // The call, by outcome and request; its turns; its media.
    let calls: f64 = after
        .lines()
        .filter(|l| l.starts_with("frontdesk_calls_total{"))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum();
    assert_eq!(calls, 1.0, "{context}");
    assert_eq!(value(&after, "frontdesk_calls_active"), 0.0, "{context}");
    assert!(value(&after, "frontdesk_turn_latency_seconds_count") >= 3.0, "{context}");
    assert!(value(&after, "frontdesk_stt_seconds_count") >= 3.0, "{context}");
    assert!(value(&after, "frontdesk_rtp_packets_received_total") > 100.0, "{context}");
    assert_eq!(value(&after, "frontdesk_rtp_jitter_seconds_count"), 1.0, "{context}");
    // Looked up at the scrape: the store holds the call, the audit chain its start.
    assert!(value(&after, "frontdesk_store_bytes") > 0.0, "{context}");
    assert!(value(&after, "frontdesk_audit_chain_entries") > 0.0, "{context}");
    assert_eq!(value(&after, "frontdesk_purge_runs_total"), 1.0, "the start-up purge\n{context}");
    // Every label value is a closed word: outcome and request names, histogram bounds.
    for line in after.lines().filter(|l| !l.starts_with('#')) {
        if let Some((_, labels)) = line.split_once('{') {
            let labels = labels.split('}').next().unwrap();
            for kv in labels.split(',') {
                let v = kv.split_once('=').unwrap().1.trim_matches('"');
                assert!(v.chars().all(|c| c.is_ascii_alphanumeric() || "_-.+".contains(c)), "{line}");
            }
        }
    }

    let config = d.dir.join("frontdesk.toml");
    let status = Command::new(common::frontdesk_bin()).arg("--config").arg(&config).arg("status").output().unwrap();
    let status_text = String::from_utf8_lossy(&status.stdout).to_string();
    eprintln!("--- frontdesk status ---\n{status_text}");
    assert!(status.status.success(), "{status_text}{}", String::from_utf8_lossy(&status.stderr));
    assert!(status_text.contains("calls ended") && status_text.contains("1 ("), "{status_text}");
    assert!(status_text.contains("reply latency") && status_text.contains("turns, mean"), "{status_text}");
    let log = d.stop();

    // The caller did say them (the record has them, sealed): they are planted, not absent.
    assert!(talk.transcript().contains("Zebulon"), "{}", talk.transcript());
    for canary in CANARIES {
        assert!(!after.contains(canary), "{canary:?} in the metrics:\n{after}");
        assert!(!status_text.contains(canary), "{canary:?} in `frontdesk status`:\n{status_text}");
        assert!(!log.lines().any(|l| l.contains(canary)), "{canary:?} in the daemon log");
    }
}

#[test]
fn status_names_the_fix_when_metrics_are_off() {
    let config = common::daemon::write_config("status-off", 18690, "", "");
    let out = Command::new(common::frontdesk_bin()).arg("--config").arg(&config).arg("status").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("[metrics]") && err.contains("listen = \"127.0.0.1:9464\""), "{err}");
}
