//! The daemon behind a real registrar and proxy (kamailio, tests/kamailio/): it registers with
//! digest authentication, MD5 and SHA-256, and a call to its address of record, routed by
//! kamailio to the registered contact, reaches it. All on 127.0.0.1.

mod common;

use std::process::Child;
use std::time::Duration;

use common::daemon::Daemon;
use common::kamailio::Kamailio;

fn registration(port: u16, password: &str) -> String {
    format!(
        "[registration]\nregistrar = \"127.0.0.1:{port}\"\ndomain = \"clinic.test\"\nusername = \"frontdesk\"\npassword = \"{password}\"\nexpires = 120\n"
    )
}

fn registers_and_takes_a_routed_call(name: &str, kport: u16, dport: u16, algorithm: &str) {
    let kam = Kamailio::start(kport, kport + 30, algorithm);
    let d = Daemon::start_full(name, dport, "app = \"echo\"", &registration(kport, "s3cret-test"));
    d.wait_for("registered", Duration::from_secs(15));
    // A caller dials the clinic's address at the proxy; kamailio finds our contact.
    let (log, kam_log) = kam.call_through(kport, d, &["-sn", "uac", "-d", "1000"]);
    assert!(kam_log.contains(&format!("algorithm={algorithm}")) || kam_log.contains("AUTH challenge"), "{kam_log}");
    assert!(kam_log.contains("REGISTERED frontdesk"), "{kam_log}");
    assert!(kam_log.contains("LOOKUP INVITE for frontdesk"), "{kam_log}");
    assert!(log.contains("incoming call") && log.contains("call ended"), "{log}");
    assert!(!log.contains("s3cret-test") && !kam_log.is_empty(), "the password must never be logged");
}

#[test]
fn registers_with_md5_digest_and_receives_a_routed_call() {
    registers_and_takes_a_routed_call("kam-md5", 17060, 17160, "MD5");
}

#[test]
fn registers_with_sha256_digest_and_receives_a_routed_call() {
    registers_and_takes_a_routed_call("kam-sha256", 17260, 17360, "SHA-256");
}

#[test]
fn wrong_password_is_reported_and_retried_with_backoff() {
    let kport = 17460;
    let _kam = Kamailio::start(kport, kport + 30, "MD5");
    let d = Daemon::start_full("kam-wrong", 17560, "app = \"echo\"", &registration(kport, "not-the-password"));
    d.wait_for("registration failed", Duration::from_secs(15));
    let log = d.stop();
    assert!(log.contains("refused our credentials") && log.contains("retry_in_s=5"), "{log}");
    assert!(!log.contains("not-the-password"), "{log}");
}

#[test]
fn transfer_through_the_proxy_reports_the_notify_result() {
    let kport = 17660;
    let kam = Kamailio::start(kport, kport + 30, "MD5");
    let tail = format!("{}[transfer]\ntarget = \"sip:staff@clinic.test\"\n", registration(kport, "s3cret-test"));
    let d = Daemon::start_full("kam-refer", 17760, "app = \"transfer\"", &tail);
    d.wait_for("registered", Duration::from_secs(15));
    // The caller reaches us through kamailio; our REFER and BYE go back along its Record-Route.
    let scenario = common::repo().join("tests/kamailio/transferee.xml");
    let (log, kam_log) = kam.call_through(kport, d, &["-sf", scenario.to_str().unwrap()]);
    assert!(log.contains("transfer succeeded"), "{log}");
    assert!(kam_log.contains("REFER"), "our REFER went through the proxy: {kam_log}");
}

/// `frontdesk dial staff` with the registration account: kamailio challenges the INVITE
/// (407), the box answers with digest credentials, kamailio routes it to a sipp UAS standing
/// in for staff (tests/kamailio/staff_answers.xml), which answers; the box hangs up after a
/// second, its ACK and BYE going back through the proxy along the route set.
fn dial_through_the_proxy(name: &str, kport: u16, dport: u16, password: &str) -> (std::process::Output, String, Child) {
    let kam = Kamailio::start(kport, kport + 30, "MD5");
    let staff = common::kamailio::staff_answers(kport + 30, name);
    let config = common::daemon::write_config(name, dport, "app = \"echo\"", &registration(kport, password));
    let out = common::kamailio::dial_staff(&config);
    std::thread::sleep(Duration::from_millis(200));
    let kam_log = kam.log.lock().unwrap().clone();
    (out, kam_log, staff)
}

#[test]
fn places_a_call_through_the_proxy_answering_its_digest_challenge() {
    let (out, kam_log, mut staff) = dial_through_the_proxy("kam-dial", 17860, 17960, "s3cret-test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stdout.contains("answered") && stdout.contains("hung up"), "{stdout}\n{stderr}\nkamailio:\n{kam_log}");
    assert!(kam_log.contains("AUTH challenge INVITE from frontdesk"), "{kam_log}");
    assert!(kam_log.contains("AUTHENTICATED INVITE from frontdesk to staff"), "{kam_log}");
    assert!(stderr.contains("outgoing call answered") && stderr.contains("call ended"), "{stderr}");
    assert!(!stderr.contains("s3cret-test"), "the password must never be logged");
    // The staff UAS saw the whole call: INVITE answered, our ACK, our BYE.
    let status = staff.wait().unwrap();
    assert!(status.success(), "sipp staff UAS failed; kamailio:\n{kam_log}\ndaemon:\n{stderr}");
    // Our ACK and BYE followed the route set back through the proxy.
    assert!(kam_log.contains("IN-DIALOG ACK loose-routed") && kam_log.contains("IN-DIALOG BYE loose-routed"), "{kam_log}");
}

#[test]
fn a_refused_password_fails_the_call_with_the_reason() {
    let (out, kam_log, mut staff) = dial_through_the_proxy("kam-dial-bad", 18060, 18160, "wrong-password");
    let _ = staff.kill();
    let _ = staff.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("failed: 407") && stdout.contains("refused our credentials"), "{stdout}\nkamailio:\n{kam_log}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("wrong-password"));
}
