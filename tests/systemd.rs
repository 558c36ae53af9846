//! The daemon under systemd's notify protocol, checked over a real `NOTIFY_SOCKET` datagram
//! socket as systemd itself would read it: status while starting, READY=1, RELOADING=1 around a
//! reload, watchdog pings that stop when a recognition worker wedges (an injected fault), and
//! at SIGTERM a call told why it ends, hung up, its record sealed, and STOPPING=1.
//!
//! Both daemons run unable to map memory writable and executable (PR_SET_MDWE, what the unit's
//! `MemoryDenyWriteExecute=yes` enforces): start-up, both models and a call work under it.
//!
//! No systemd runs as PID 1 here (see README "systemd"); `make test` also runs the unit file
//! itself through `systemd-analyze verify` and `security --offline`.
//!
//! Every wait is for an event (a datagram, the agent's reply, a BYE, a row); the one time
//! window is the watchdog's own: after the stall is announced, three ping periods pass with no
//! ping, which a slower machine only makes more certain.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::daemon::{Daemon, write_config};
use frontdesk::loopback_caller::{Ending, Heard, LoopbackCaller};

/// What the daemon sent to its notify socket, in order.
struct Notifications {
    got: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Notifications {
    /// Binds `dir/notify.sock` and collects every datagram.
    fn listen(dir: &Path) -> (PathBuf, Notifications) {
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        let got = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let sink = got.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = sock.recv(&mut buf) {
                sink.0.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
                sink.1.notify_all();
            }
        });
        (path, Notifications { got })
    }

    /// The index of the first message at or after `from` that `pred` accepts.
    fn wait(&self, from: usize, timeout: Duration, pred: impl Fn(&str) -> bool) -> Result<usize, String> {
        let deadline = Instant::now() + timeout;
        let mut got = self.got.0.lock().unwrap();
        loop {
            if let Some(i) = got.iter().skip(from).position(|m| pred(m)) {
                return Ok(from + i);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("no such notification within {timeout:?}; got:\n{}", got.join("\n---\n")));
            }
            got = self.got.1.wait_timeout(got, left).unwrap().0;
        }
    }

    fn all(&self) -> Vec<String> {
        self.got.0.lock().unwrap().clone()
    }
}

fn has_line(message: &str, line: &str) -> bool {
    message.lines().any(|l| l == line)
}

fn signal(d: &Daemon, sig: &str) {
    assert!(Command::new("kill").arg(format!("-{sig}")).arg(d.child.id().to_string()).status().unwrap().success());
}

fn uri(port: u16) -> String {
    format!("sip:frontdesk@127.0.0.1:{port}")
}

/// The example clinic, open around the clock, on `port`, with its notify socket.
fn daemon(name: &str, port: u16, env: &[(&str, &str)]) -> (Daemon, Notifications) {
    let config = write_config(name, port, "", "");
    let mut text = std::fs::read_to_string(&config).unwrap();
    for (from, to) in common::ALWAYS_OPEN.iter().chain(std::iter::once(&common::ONE_STT_THREAD)) {
        assert!(text.contains(from), "the example config has no {from:?}");
        text = text.replace(from, to);
    }
    std::fs::write(&config, text).unwrap();
    let (sock, notes) = Notifications::listen(config.parent().unwrap());
    let sock = sock.to_str().unwrap().to_string();
    let mut env: Vec<(&str, &str)> = env.to_vec();
    env.push(("NOTIFY_SOCKET", &sock));
    (Daemon::run_config_no_wx(&config, port, "info", &env), notes)
}

/// Waits for the agent's greeting to play out, then says `text`.
fn after_greeting_say(call: &LoopbackCaller, text: &str, d: &Daemon) {
    match call.wait_reply(Duration::from_millis(800), Duration::from_secs(90)) {
        Heard::Reply(_) => {}
        other => panic!("no greeting: {}\n{}", matches!(other, Heard::Ended(_)), d.log()),
    }
    call.speak_f32(&common::listening::phone(text));
}

#[test]
fn systemd_hears_start_reload_and_a_watchdog_that_stops_when_recognition_wedges() {
    const PORT: u16 = 18160;
    let (d, notes) = daemon("systemd-watchdog", PORT, &[("WATCHDOG_USEC", "2000000"), ("FRONTDESK_FAULT", "wedge-recognition")]);

    let ready = notes.wait(0, Duration::from_secs(240), |m| has_line(m, "READY=1")).unwrap();
    let all = notes.all();
    assert!(
        all[..ready].iter().any(|m| m.starts_with("STATUS=verifying and loading the speech models")),
        "start-up says what it is doing: {all:?}"
    );
    assert!(all[ready].contains("STATUS=no calls; sip: listening on 127.0.0.1:18160"), "{:?}", all[ready]);

    // Pings come, every half interval, while nothing is stuck.
    let first = notes.wait(ready, Duration::from_secs(30), |m| has_line(m, "WATCHDOG=1")).unwrap();
    notes.wait(first + 1, Duration::from_secs(30), |m| has_line(m, "WATCHDOG=1")).unwrap();

    // A reload is bracketed: RELOADING=1 with the monotonic time, then READY=1.
    signal(&d, "HUP");
    let reloading = notes.wait(ready + 1, Duration::from_secs(60), |m| has_line(m, "RELOADING=1")).unwrap();
    let msg = &notes.all()[reloading];
    let usec = msg.lines().find_map(|l| l.strip_prefix("MONOTONIC_USEC=")).unwrap_or_else(|| panic!("{msg:?}"));
    assert!(usec.parse::<u64>().unwrap() > 0);
    notes.wait(reloading, Duration::from_secs(120), |m| has_line(m, "READY=1")).unwrap();
    d.wait_for("configuration reloaded", Duration::from_secs(60));

    // A call whose first words go to a recognition worker that never finishes (the fault).
    let call = LoopbackCaller::dial(&uri(PORT), "caller").unwrap();
    after_greeting_say(&call, "I'd like to make an appointment, please.", &d);
    let stalled = notes
        .wait(reloading, Duration::from_secs(120), |m| m.contains("STATUS=stalled: recognition worker"))
        .unwrap_or_else(|e| panic!("{e}\n{}", d.log()));
    assert!(!has_line(&notes.all()[stalled], "WATCHDOG=1"), "the stall's own message pings: {:?}", notes.all()[stalled]);
    // Three ping periods (1 s each) without a ping: systemd would now restart the service.
    std::thread::sleep(Duration::from_secs(3));
    let after: Vec<String> = notes.all()[stalled..].to_vec();
    assert!(!after.iter().any(|m| has_line(m, "WATCHDOG=1")), "pinged after the stall: {after:?}");
    let log = d.log();
    assert!(log.contains("watchdog: recognition worker") && log.contains("has been on one job"), "{log}");
    assert!(log.contains("FRONTDESK_FAULT is set"), "an injected fault is never silent: {log}");
    drop(call);
    d.kill_hard();
}

#[test]
fn sigterm_tells_the_caller_hangs_up_and_seals_the_record() {
    const PORT: u16 = 18260;
    let (d, notes) = daemon("systemd-stop", PORT, &[]);
    notes.wait(0, Duration::from_secs(240), |m| has_line(m, "READY=1")).unwrap();

    let call = LoopbackCaller::dial(&uri(PORT), "caller").unwrap();
    after_greeting_say(&call, "I'd like to make an appointment, please.", &d);
    // The agent's next question: the request is understood and in the record.
    match call.wait_reply(Duration::from_millis(800), Duration::from_secs(120)) {
        Heard::Reply(_) => {}
        _ => panic!("no reply to the request\n{}", d.log()),
    }
    // The status line counts the call and still names the line.
    let in_progress = notes.wait(0, Duration::from_secs(30), |m| m.contains("STATUS=1 call")).unwrap();
    let status = &notes.all()[in_progress];
    assert!(status.contains("STATUS=1 call; sip: listening on 127.0.0.1:18260"), "{status:?}");

    signal(&d, "TERM");
    let goodbye = match call.wait_reply(Duration::from_millis(800), Duration::from_secs(60)) {
        Heard::Reply(a) | Heard::Ended(a) => a,
        Heard::TimedOut => panic!("nothing said after SIGTERM\n{}", d.log()),
    };
    let words = common::listening::transcribe(&goodbye).to_lowercase();
    assert!(words.contains("restarting") && words.contains("call back"), "{words:?}");
    assert_eq!(call.wait_ended(Duration::from_secs(30)), Some(Ending::Agent), "the daemon hangs up with BYE\n{}", d.log());

    let mut d = d;
    let started = Instant::now();
    let status = loop {
        if let Some(s) = d.child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the daemon did not exit\n{}", d.log());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}\n{}", d.log());
    let all = notes.all();
    let stopping = all.iter().find(|m| has_line(m, "STOPPING=1")).unwrap_or_else(|| panic!("{all:?}"));
    assert!(stopping.contains("STATUS=stopping: ending 1 calls"), "{stopping:?}");

    let settings = frontdesk::store::StoreSettings { data_dir: d.dir.join("data"), key_file: d.dir.join("etc/master.key") };
    let store = frontdesk::store::Store::open(&settings, frontdesk::store::Role::Staff).unwrap();
    let calls = store.all().unwrap();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert!(c.ended_at.is_some() && c.outcome != "in_progress", "the record is finished: {} {:?}", c.outcome, c.ended_at);
    assert_eq!(c.intent.as_deref(), Some("new_appointment"));
    let transcript = c.record().unwrap().transcript;
    assert!(transcript.iter().any(|u| u.text.contains("the phone system is restarting")), "{transcript:?}");
    let entries = store.audit_entries().unwrap();
    assert!(entries.iter().any(|e| e.action == "stop"), "the stop is audited");
    assert!(matches!(store.verify_audit().unwrap(), frontdesk::store::audit::Verdict::Intact { .. }), "the audit chain is intact");
}
