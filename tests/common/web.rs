//! A box with the web inbox on for tests: a certificate for localhost from a test CA, one
//! message left by a canary caller (through the conversation, as the daemon stores it), staff
//! accounts, and the daemon running.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::daemon::Daemon;

pub const NAME: &str = "Ozias Threlkeld";
pub const CALLBACK: &str = "5035550163";
pub const CALLER_ID: &str = "+15035550163";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Inbox {
    pub daemon: Daemon,
    pub config: PathBuf,
    /// The test CA's certificate (what a client trusts).
    pub ca: PathBuf,
    pub port: u16,
}

/// `frontdesk --config CONFIG ARGS` with `stdin`; its stdout and stderr.
pub fn frontdesk(config: &Path, args: &[&str], stdin: &str) -> String {
    let out = super::run_frontdesk(config, args, stdin, &[]);
    assert!(out.status.success(), "frontdesk {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// The box, its inbox on 127.0.0.1:`port`, with `accounts` (all with [`PASSWORD`]).
pub fn inbox(name: &str, sip_port: u16, port: u16, accounts: &[&str]) -> Inbox {
    let pki = super::pki::Pki::new(&super::scratch(&format!("{name}-pki")), "ca");
    let (cert, key) = pki.issue("web", "DNS:localhost,IP:127.0.0.1", None);
    let tail = format!("[web]\nlisten = \"127.0.0.1:{port}\"\ncertificate = \"{}\"\nkey = \"{}\"\n", cert.display(), key.display());
    let config = super::daemon::write_config(name, sip_port, "app = \"echo\"", &tail);
    let said = [
        "Can I leave a message for Dr. Patel?",
        &format!("My name is {NAME}."),
        "T. H. R. E. L. K. E. L. D.",
        "Yes.",
        "March third, nineteen fifty.",
        "Yes.",
        "Five oh three, five five five, zero one six three.",
        "Yes.",
        "Please call me about my results.",
        "Yes.",
        "No, thank you.",
    ];
    let sim =
        frontdesk(&config, &["simulate", "--save", "--now", "2026-11-23T11:30:00-05:00", "--caller", CALLER_ID], &(said.join("\n") + "\n"));
    assert!(sim.contains("simulated call stored"), "{sim}");
    for a in accounts {
        assert!(frontdesk(&config, &["staff", "add", a], &format!("{PASSWORD}\n")).contains(&format!("added {a}")));
    }
    let daemon = Daemon::run_config(&config, sip_port, "info");
    daemon.wait_for("web inbox listening", Duration::from_secs(10));
    Inbox { daemon, config, ca: pki.ca(), port }
}
