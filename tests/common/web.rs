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

/// Samples in the recording [`inbox`] gives call 1: half a second each way.
pub const RECORDED_SAMPLES: usize = 4000;

/// A sealed recording for call 1, written as the daemon writes them: the caller a falling
/// ramp, the agent a rising one (so the channels can be told apart when played back).
fn record_call_one(dir: &Path) {
    use frontdesk::store::{Role, Store, StoreSettings};
    let settings = StoreSettings { data_dir: dir.join("data"), key_file: dir.join("etc/master.key") };
    let store = Store::open(&settings, Role::Daemon).unwrap();
    let mut rec = frontdesk::store::recording::Recorder::create(&store, 1).unwrap();
    for i in 0..RECORDED_SAMPLES / 160 {
        let frame = |sign: i32| -> Vec<i16> { (0..160).map(|k| (sign * ((i * 160 + k) as i32 % 8000)) as i16).collect() };
        rec.caller(&frame(-1)).unwrap();
        rec.agent(&frame(1)).unwrap();
    }
    rec.finish().unwrap();
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
    record_call_one(config.parent().unwrap());
    for a in accounts {
        assert!(frontdesk(&config, &["staff", "add", a], &format!("{PASSWORD}\n")).contains(&format!("added {a}")));
    }
    let daemon = Daemon::run_config(&config, sip_port, "info");
    daemon.wait_for("web inbox listening", Duration::from_secs(10));
    Inbox { daemon, config, ca: pki.ca(), port }
}
