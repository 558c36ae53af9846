//! SIP over TLS as a client (`[registration] transport = "tls"`): the box registers with a
//! real kamailio over TLS (its tls module, Debian kamailio-tls-modules), verifying the
//! certificate against the test's CA, the name and a pin; a call to the clinic's address comes
//! back over the box's own connection (RFC 5923 alias: the box has no TLS listener here); a
//! call the box places goes out over TLS. A registrar with a wrong certificate (unknown CA,
//! another name, expired, not the pinned one) or one that speaks only TLS 1.0 is refused with
//! a log line that says which. A registrar that stops answering (kamailio stopped with
//! SIGSTOP: the connection stays open, nothing comes back) is noticed by the keep-alive, and
//! the box registers again on a new connection once it answers. Everything on 127.0.0.1; each
//! step waits for a log line or for a peer to finish.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::daemon::Daemon;
use common::kamailio::Kamailio;
use common::pki::{Pki, fingerprint};

/// The test's certificates: a CA, and the registrar's certificate for localhost/127.0.0.1.
fn pki(name: &str) -> (Pki, PathBuf, PathBuf) {
    let dir = common::scratch(&format!("{name}-pki"));
    let pki = Pki::new(&dir, "ca");
    let (cert, key) = pki.issue("registrar", "DNS:localhost,IP:127.0.0.1", None);
    (pki, cert, key)
}

/// `[registration]` over TLS to 127.0.0.1:`port`, trusting `ca`, checking the name
/// "localhost", pinned to `pin` if given.
fn registration(port: u16, ca: &Path, pin: Option<&str>) -> String {
    let pin = pin.map(|p| format!("tls_pin = [\"{p}\"]\n")).unwrap_or_default();
    format!(
        "[registration]\nregistrar = \"127.0.0.1:{port}\"\ntransport = \"tls\"\ndomain = \"clinic.test\"\nusername = \"frontdesk\"\npassword = \"s3cret-test\"\nexpires = 120\ntls_server_name = \"localhost\"\ntls_ca = \"{}\"\n{pin}",
        ca.display()
    )
}

fn kamailio_with_tls(kport: u16, cert: &Path, key: &Path) -> Kamailio {
    let (tls_port, cert, key) = ((kport + 1).to_string(), cert.display().to_string(), key.display().to_string());
    Kamailio::start_env(kport, kport + 30, &[("TLS_PORT", &tls_port), ("TLS_CERT", &cert), ("TLS_KEY", &key)])
}

#[test]
fn registers_over_tls_and_a_routed_call_comes_back_over_the_same_connection() {
    let (kport, dport) = (19160, 19200);
    let (pki, cert, key) = pki("trunk-tls-register");
    let kam = kamailio_with_tls(kport, &cert, &key);
    let pin = fingerprint(&cert);
    let d = Daemon::start_full("trunk-tls-register", dport, "app = \"echo\"", &registration(kport + 1, &pki.ca(), Some(&pin)));
    d.wait_for("registered", Duration::from_secs(15));

    // A caller dials the clinic at the proxy over UDP; kamailio finds the contact the box
    // registered over TLS and sends the INVITE down the box's connection.
    let (log, kam_log) = kam.call_through(kport, d, &["-sn", "uac", "-d", "1000"]);
    assert!(log.contains("connected to the registrar, its certificate verified") && log.contains("TLSv1_3"), "{log}");
    let registered = kam_log.lines().find(|l| l.contains("REGISTERED frontdesk")).unwrap_or_default();
    assert!(registered.ends_with("over tls") && registered.contains(";transport=tls"), "{kam_log}");
    let lookup = kam_log.lines().find(|l| l.contains("LOOKUP INVITE for frontdesk")).unwrap_or_default();
    assert!(lookup.contains("transport=tls"), "the INVITE went to the TLS contact: {kam_log}");
    assert!(log.contains("incoming call") && log.contains("call ended"), "{log}");
    // One connection served it all: no second TLS connection was opened or accepted.
    assert_eq!(log.matches("connected to the registrar").count(), 1, "{log}");
    assert!(!log.contains("s3cret-test"), "the password must never be logged");
}

#[test]
fn a_call_the_box_places_goes_out_over_tls() {
    let (kport, dport) = (19260, 19300);
    let (pki, cert, key) = pki("trunk-tls-dial");
    let kam = kamailio_with_tls(kport, &cert, &key);
    let mut staff = common::kamailio::staff_answers(kport + 30, "trunk-tls-dial");
    let config = common::daemon::write_config("trunk-tls-dial", dport, "app = \"echo\"", &registration(kport + 1, &pki.ca(), None));
    let out = common::kamailio::dial_staff(&config);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let staff_ok = staff.wait().unwrap().success();
    let kam_log = kam.log.lock().unwrap().clone();
    assert!(out.status.success() && stdout.contains("answered") && stdout.contains("hung up"), "{stdout}\n{stderr}\nkamailio:\n{kam_log}");
    assert!(staff_ok, "the staff UAS did not see the whole call; kamailio:\n{kam_log}\n{stderr}");
    assert!(stderr.contains("connected to the registrar, its certificate verified"), "{stderr}");
    // The INVITE was challenged and authenticated over TLS; our ACK and BYE followed.
    assert!(kam_log.contains("AUTHENTICATED INVITE from frontdesk to staff"), "{kam_log}");
    assert!(kam_log.contains("IN-DIALOG BYE loose-routed"), "{kam_log}");
}

#[test]
fn a_registrar_that_stops_answering_is_noticed_and_registered_with_again() {
    let (kport, dport) = (19360, 20350);
    let (pki, cert, key) = pki("trunk-tls-silent");
    let kam = kamailio_with_tls(kport, &cert, &key);
    let reg = registration(kport + 1, &pki.ca(), None) + "keepalive_s = 5\n";
    let d = Daemon::start_full("trunk-tls-silent", dport, "app = \"echo\"", &reg);
    d.wait_for("registered", Duration::from_secs(15));
    // A registrar that answers keeps its connection: the first ping's pong is noted.
    d.wait_for("the registrar answers keep-alives", Duration::from_secs(40));
    // Frozen, kamailio neither closes the connection nor answers on it, as a registrar behind a
    // dead link or a crashed middlebox: only the box's ping can tell.
    let group = format!("-{}", kam.pid());
    assert!(Command::new("kill").args(["-STOP", "--", &group]).status().unwrap().success());
    d.wait_for("did not answer a keep-alive within 10 s", Duration::from_secs(40));
    d.wait_for("the connection to the registrar was lost; registering again", Duration::from_secs(5));
    assert!(Command::new("kill").args(["-CONT", "--", &group]).status().unwrap().success());
    // Registered again, over a second connection.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !d.log().rsplit("registering again").next().unwrap_or("").contains(" INFO registered registrar=") {
        assert!(std::time::Instant::now() < deadline, "not registered again:\n{}", d.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let kam_log = kam.log.lock().unwrap().clone();
    assert!(kam_log.matches("REGISTERED frontdesk").count() >= 2, "{kam_log}");
    let log = d.stop();
    assert_eq!(log.matches("connected to the registrar").count(), 2, "one connection before, one after: {log}");
}

/// `openssl s_server` standing in for a registrar that is wrong in one way; returns once it
/// accepts connections.
fn bad_registrar(port: u16, cert: &Path, key: &Path, extra: &[&str]) -> Child {
    let mut server = Command::new("openssl");
    server.args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-cert"]).arg(cert).arg("-key").arg(key).args(extra);
    common::spawn_until(server.stdin(Stdio::piped()).stderr(Stdio::null()), "ACCEPT")
}

/// The daemon registers to a registrar that fails the check; returns its refusal line and
/// the registration's failure line (at once, not after the REGISTER's 32 s timer).
fn refused(name: &str, dport: u16, port: u16, ca: &Path, pin: Option<&str>, mut server: Child) -> (String, String) {
    let d = Daemon::start_full(name, dport, "app = \"echo\"", &registration(port, ca, pin));
    d.wait_for("registration failed: TLS: ", Duration::from_secs(20));
    let log = d.stop();
    let _ = server.kill();
    let _ = server.wait();
    assert!(!log.contains(" registered "), "{log}");
    let line = |needle: &str| log.lines().find(|l| l.contains(needle)).unwrap_or_default().to_string();
    (line("the registrar refused"), line("registration failed"))
}

#[test]
fn a_registrar_with_a_wrong_certificate_or_old_tls_is_refused_with_the_reason() {
    let (pki, good, good_key) = pki("trunk-tls-refusals");
    let (other_name, other_name_key) = pki.issue("elsewhere", "DNS:pbx.elsewhere.test", None);
    let (expired, expired_key) = pki.issue("expired", "DNS:localhost,IP:127.0.0.1", Some(("20200101000000Z", "20210101000000Z")));
    let stranger = Pki::new(&common::scratch("trunk-tls-refusals-stranger"), "stranger");
    let (unknown_ca, unknown_ca_key) = stranger.issue("registrar", "DNS:localhost,IP:127.0.0.1", None);
    let ca = pki.ca();

    let cases: [(&str, u16, &Path, &Path, Option<String>, &[&str], &str); 5] = [
        ("unknown-ca", 19400, &unknown_ca, &unknown_ca_key, None, &[], "not signed by a CA this box trusts"),
        ("wrong-name", 19500, &other_name, &other_name_key, None, &[], "its certificate is not for \"localhost\""),
        ("expired", 19600, &expired, &expired_key, None, &[], "its certificate has expired"),
        ("not-pinned", 19700, &good, &good_key, Some(fingerprint(&expired)), &[], "not the pinned one"),
        ("tls1.0", 19800, &good, &good_key, None, &["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"], "offers no TLS 1.2 or 1.3"),
    ];
    for (name, dport, cert, key, pin, extra, reason) in cases {
        let port = dport + 61;
        let server = bad_registrar(port, cert, key, extra);
        let (line, failed) = refused(&format!("trunk-tls-{name}"), dport, port, &ca, pin.as_deref(), server);
        assert!(line.contains(reason) && line.contains(&format!("127.0.0.1:{port}")), "{name}: {line:?}");
        assert!(failed.contains(reason) && failed.contains("retry_in_s=5"), "{name}: {failed:?}");
        eprintln!("{name}: {line}");
    }
}
