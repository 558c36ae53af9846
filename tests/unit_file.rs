//! The systemd unit as shipped (`systemd/frontdesk.service`), checked by systemd's own tools
//! and against what the daemon does:
//!
//! - `systemd-analyze verify` finds nothing (with the binary at the path the package installs it
//!   to replaced by the one just built, since verify checks that it exists);
//! - `systemd-analyze security --offline=true` rates its exposure at most 2.0;
//! - the time the unit gives a stop covers the daemon's polite goodbye to each call, the
//!   watchdog interval leaves room for the daemon's stall limit, and LimitRTPRIO covers the
//!   media threads' priority.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn unit_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/frontdesk.service")
}

fn unit() -> String {
    std::fs::read_to_string(unit_path()).unwrap()
}

/// The value of `key=` in the unit (the last one, as systemd reads it).
fn setting(key: &str) -> String {
    let prefix = format!("{key}=");
    unit().lines().filter_map(|l| l.strip_prefix(&prefix)).last().unwrap_or_else(|| panic!("the unit has no {key}=")).to_string()
}

fn seconds(value: &str) -> u64 {
    value.trim_end_matches('s').parse().unwrap_or_else(|_| panic!("{value:?} is not a number of seconds"))
}

/// The unit with the installed binary's path replaced by the built one, in a scratch directory.
fn unit_with_built_binary(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("frontdesk-unit-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("frontdesk.service");
    std::fs::write(&path, unit().replace("/usr/bin/frontdesk", env!("CARGO_BIN_EXE_frontdesk"))).unwrap();
    path
}

fn analyze(args: &[&str]) -> std::process::Output {
    Command::new("systemd-analyze")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("systemd-analyze: {e} (scripts/install-deps.sh test installs the systemd package)"))
}

#[test]
fn systemd_analyze_verify_finds_nothing() {
    let unit = unit_with_built_binary("verify");
    let out = analyze(&["verify", unit.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify:\n{said}");
}

#[test]
fn exposure_is_at_most_2_0() {
    let unit = unit_with_built_binary("security");
    let out = analyze(&["security", "--offline=true", "--threshold=20", unit.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    let level: f32 = text
        .lines()
        .find_map(|l| l.split("Overall exposure level for frontdesk.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure in:\n{text}"));
    println!("systemd-analyze security: exposure {level}");
    assert!(level <= 2.0 && out.status.success(), "exposure {level} is over 2.0:\n{text}");
}

#[test]
fn the_unit_gives_the_daemon_the_time_and_limits_it_relies_on() {
    // A stop: every call hears the closing prompt within CLOSING_GRACE, then records are sealed.
    let stop = seconds(&setting("TimeoutStopSec"));
    assert!(stop >= frontdesk::daemon::CLOSING_GRACE.as_secs() + 10, "TimeoutStopSec={stop} leaves no time after the goodbyes");
    // The watchdog: pinged every half interval, so the interval must be well above that.
    let watchdog = seconds(&setting("WatchdogSec"));
    assert!((10..=120).contains(&watchdog), "WatchdogSec={watchdog}");
    // Real-time priority comes from the limit alone (no capabilities are granted).
    let rtprio: i32 = setting("LimitRTPRIO").parse().unwrap();
    assert!(rtprio >= frontdesk::line::clock::RT_PRIORITY);
    assert_eq!(setting("CapabilityBoundingSet"), "", "the service holds no capabilities");
    assert_eq!(setting("RestrictRealtime"), "no", "the media threads need SCHED_FIFO");
    assert_eq!(setting("Type"), "notify");
}

#[test]
fn the_daemon_knows_which_networks_the_unit_allows() {
    let mut unit_allows: Vec<String> = Vec::new();
    for token in setting("IPAddressAllow").split_whitespace() {
        match token {
            "localhost" => unit_allows.extend(["127.0.0.0/8".into(), "::1/128".into()]),
            "link-local" => unit_allows.extend(["169.254.0.0/16".into(), "fe80::/10".into()]),
            "multicast" => unit_allows.extend(["224.0.0.0/4".into(), "ff00::/8".into()]),
            other => unit_allows.push(other.to_string()),
        }
    }
    let mut known: Vec<String> = frontdesk::daemon::systemd::UNIT_ALLOWED.iter().map(|s| s.to_string()).collect();
    unit_allows.sort();
    known.sort();
    assert_eq!(unit_allows, known, "systemd/frontdesk.service and daemon::systemd::UNIT_ALLOWED differ");
    assert_eq!(setting("IPAddressDeny"), "any");
}

#[test]
fn unit_network_adds_exactly_the_public_peers_of_the_config() {
    let config = common::daemon::write_config(
        "unit-network",
        18360,
        "allowed_sources = [\"192.168.1.0/24\", \"198.51.100.0/28\"]\noutbound_proxy = \"203.0.113.7:5060\"",
        "[registration]\nregistrar = \"203.0.113.10:5060\"\nusername = \"frontdesk\"\npassword = \"secret\"\n",
    );
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .arg("--config")
            .arg(&config)
            .args(["unit", "network"])
            .args(extra)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (ok, text, err) = run(&["--also", "192.0.2.0/24", "--also", "10.1.2.3"]);
    assert!(ok, "{err}");
    let allow: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("IPAddressAllow=")).collect();
    assert_eq!(allow, vec!["198.51.100.0/28 203.0.113.7 203.0.113.10 192.0.2.0/24"], "{text}");
    assert!(text.contains("[Service]") && text.contains("203.0.113.10: [registration] registrar"), "{text}");
    assert!(!text.contains("password") && !text.contains("secret"));
    // The drop-in is a unit file systemd reads: verify it beside the unit.
    let dir = unit_with_built_binary("network").parent().unwrap().join("frontdesk.service.d");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("network.conf"), &text).unwrap();
    let out = analyze(&["verify", dir.parent().unwrap().join("frontdesk.service").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let (ok, _, err) = run(&["--also", "not-a-network"]);
    assert!(!ok && err.contains("not-a-network"), "{err}");
}
