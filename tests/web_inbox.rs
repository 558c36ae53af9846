//! The staff web inbox against the real daemon over HTTPS, with a client of our own (rustls,
//! the test's CA, raw HTTP/1.1 so every header is seen as sent): no page without a session;
//! login with a one-time form token; a session id planted before login is worth nothing; the
//! worklist, a call's details and transcript, acknowledging it (the CSRF token and the origin
//! enforced), search, logout; five failed logins lock an account; every response carries the
//! security headers; the canary caller's name and number are in the pages a signed-in account
//! sees, but in no URL and no log line; the audit trail names the account for each read and
//! acknowledgement. Everything on 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::web::{CALLBACK, NAME, PASSWORD, frontdesk};
use tokio_rustls::rustls;

const PORT: u16 = 19443;
const SIP_PORT: u16 = 20150;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    /// The body as it came (a recording is not text).
    bytes: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn cookies(&self) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect()
    }

    /// The value set for cookie `name`, if this reply sets it.
    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies().iter().find_map(|c| c.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_string))
    }

    /// The value of the hidden `csrf` field of the page's (first) form.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

struct Client {
    config: Arc<rustls::ClientConfig>,
    /// Every reply seen, to check the headers of all of them at the end.
    seen: Vec<(String, u16, Vec<(String, String)>)>,
}

impl Client {
    fn new(ca: &Path) -> Client {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let config = Arc::new(rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth());
        Client { config, seen: Vec::new() }
    }

    fn request(&mut self, method: &str, path: &str, cookie: Option<&str>, extra: &[(&str, &str)], form: Option<&str>) -> Reply {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(self.config.clone(), name).unwrap();
        let tcp = TcpStream::connect(("127.0.0.1", PORT)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut s = rustls::StreamOwned::new(conn, tcp);
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost:{PORT}\r\nConnection: close\r\n");
        if let Some(c) = cookie {
            req.push_str(&format!("Cookie: {c}\r\n"));
        }
        for (k, v) in extra {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        match form {
            Some(body) => {
                req.push_str(&format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}", body.len()))
            }
            None => req.push_str("\r\n"),
        }
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        // The server closes after the reply (Connection: close); a missing close_notify is fine.
        if let Err(e) = s.read_to_end(&mut raw) {
            assert!(!raw.is_empty(), "{method} {path}: {e}");
        }
        let bytes = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|at| raw[at + 4..].to_vec()).unwrap_or_default();
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP reply to {method} {path}: {text:?}"));
        let mut lines = head.lines();
        let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> =
            lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
        self.seen.push((format!("{method} {path}"), status, headers.clone()));
        Reply { status, headers, body: body.to_string(), bytes }
    }

    fn get(&mut self, path: &str, cookie: Option<&str>) -> Reply {
        self.request("GET", path, cookie, &[], None)
    }

    fn post(&mut self, path: &str, cookie: Option<&str>, form: &str) -> Reply {
        self.request("POST", path, cookie, &[("Origin", &format!("https://localhost:{PORT}"))], Some(form))
    }

    /// The login page's token, then the login; the reply to the POST.
    fn login(&mut self, name: &str, password: &str, planted: Option<&str>) -> Reply {
        let page = self.get("/login", None);
        assert_eq!(page.status, 200);
        let token = page.cookie("__Host-frontdesk-login").expect("the login form's cookie");
        assert_eq!(page.csrf(), token, "double-submitted");
        let mut cookie = format!("__Host-frontdesk-login={token}");
        if let Some(p) = planted {
            cookie.push_str(&format!("; __Host-frontdesk={p}"));
        }
        let form = format!("csrf={token}&name={name}&password={}", password.replace(' ', "+"));
        self.post("/login", Some(&cookie), &form)
    }
}

#[test]
fn staff_sign_in_read_acknowledge_and_sign_out_over_https() {
    let inbox = common::web::inbox("web", SIP_PORT, PORT, &["kim", "lee"]);
    let (d, config) = (inbox.daemon, inbox.config);
    let accounts = std::fs::read_to_string(config.parent().unwrap().join("data/staff-accounts")).unwrap();
    assert!(accounts.contains("kim:$argon2id$") && !accounts.contains("horse"), "{accounts}");
    let mut c = Client::new(&inbox.ca);

    // No page without a session.
    for path in ["/", "/calls/1", "/search?outcome=message_taken"] {
        let r = c.get(path, None);
        assert_eq!((r.status, r.header("location")), (303, Some("/login")), "{path}");
    }
    let r = c.post("/calls/1/ack", None, "csrf=x");
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));

    // A session id an attacker planted before the login is replaced, and worth nothing.
    let planted = "a".repeat(64);
    let r = c.login("kim", PASSWORD, Some(&planted));
    assert_eq!((r.status, r.header("location")), (303, Some("/")), "{}", r.body);
    let session = r.cookie("__Host-frontdesk").expect("a session cookie");
    assert_ne!(session, planted);
    let set = r.cookies().into_iter().find(|c| c.starts_with("__Host-frontdesk=")).unwrap().to_string();
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    assert_eq!(c.get("/", Some(&format!("__Host-frontdesk={planted}"))).status, 303);
    let me = format!("__Host-frontdesk={session}");

    // The worklist holds the message, with the caller's name and number for staff.
    let list = c.get("/", Some(&me));
    assert_eq!(list.status, 200);
    assert!(list.body.contains(NAME) && list.body.contains("(503) 555-0163") && list.body.contains("1 waiting"), "{}", list.body);
    let id: String = {
        let at = list.body.find("href=\"/calls/").unwrap() + 13;
        list.body[at..].chars().take_while(char::is_ascii_digit).collect()
    };
    // Every link is a page of ours with at most a call number in it.
    for href in list.body.split("href=\"").skip(1).map(|h| h.split('"').next().unwrap()) {
        assert!(
            ["/", "/search", "/style.css"].contains(&href)
                || href.strip_prefix("/calls/").is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())),
            "{href}"
        );
    }

    // One call: details, transcript, and the acknowledgement form.
    let call = c.get(&format!("/calls/{id}"), Some(&me));
    assert_eq!(call.status, 200);
    assert!(call.body.contains(NAME) && call.body.contains("Please call me about my results"), "{}", call.body);
    let csrf = call.csrf();
    // The logout form comes first in the page; the acknowledgement carries the same token.
    assert!(call.body.contains(&format!("action=\"/calls/{id}/ack\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"")));

    // The recording plays in the page, fetched only when played: both sides, as recorded.
    let player = format!("<audio controls preload=\"none\" src=\"/calls/{id}/recording.wav\"></audio>");
    assert!(call.body.contains(&player), "{}", call.body);
    let path = format!("/calls/{id}/recording.wav");
    assert_eq!((c.get(&path, None).status, c.get(&path, None).header("location")), (303, Some("/login")));
    let wav = c.get(&path, Some(&me));
    assert_eq!((wav.status, wav.header("content-type"), wav.header("cache-control")), (200, Some("audio/wav"), Some("no-store")));
    let mut played = hound::WavReader::new(std::io::Cursor::new(&wav.bytes)).unwrap();
    assert_eq!((played.spec().channels, played.spec().sample_rate, played.duration() as usize), (2, 8000, common::web::RECORDED_SAMPLES));
    let samples: Vec<i16> = played.samples::<i16>().map(Result::unwrap).collect();
    let (left, right): (Vec<i16>, Vec<i16>) =
        (samples.iter().step_by(2).copied().collect(), samples.iter().skip(1).step_by(2).copied().collect());
    assert!(left.iter().all(|&s| s <= 0) && right.iter().all(|&s| s >= 0) && right.iter().any(|&s| s > 1000), "caller left, agent right");
    assert_eq!(c.get("/calls/999/recording.wav", Some(&me)).status, 404);

    // The acknowledgement needs the session's token, from our own origin.
    let ack = format!("/calls/{id}/ack");
    assert_eq!(c.post(&ack, Some(&me), "csrf=wrong").status, 403);
    assert_eq!(c.post(&ack, Some(&me), "").status, 422, "no token at all: the form is refused");
    let foreign = c.request("POST", &ack, Some(&me), &[("Origin", "https://evil.example")], Some(&format!("csrf={csrf}")));
    assert_eq!(foreign.status, 403);
    assert!(c.get("/", Some(&me)).body.contains("1 waiting"), "nothing was acknowledged yet");
    let r = c.post(&ack, Some(&me), &format!("csrf={csrf}"));
    assert_eq!((r.status, r.header("location")), (303, Some("/")));
    assert!(c.get("/", Some(&me)).body.contains("No messages waiting"));
    assert!(c.get(&format!("/calls/{id}"), Some(&me)).body.contains("<th>Handled</th><td>by web: kim, "));

    // Search by outcome and date finds it; a bad date is a clear 400.
    let found = c.get("/search?from=2026-11-23&to=2026-11-24&outcome=message_taken&intent=", Some(&me));
    assert!(found.status == 200 && found.body.contains("1 call.") && found.body.contains(NAME), "{}", found.body);
    // Outcome and request are chosen from what the box stores and the script's requests.
    assert!(found.body.contains("<option value=\"message_taken\" selected>message taken</option>"), "{}", found.body);
    assert!(found.body.contains("<option value=\"new_appointment\">new appointment</option>"), "{}", found.body);
    assert!(c.get("/search?from=2026-11-25&to=2026-11-26", Some(&me)).body.contains("0 calls."));
    assert_eq!(c.get("/search?from=yesterday", Some(&me)).status, 400);

    // Logout needs the token too; then the session is gone.
    assert_eq!(c.post("/logout", Some(&me), "csrf=wrong").status, 403);
    let r = c.post("/logout", Some(&me), &format!("csrf={csrf}"));
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    assert_eq!(c.get("/", Some(&me)).status, 303);

    // Five wrong passwords lock lee; then even the right one is refused for a while.
    for i in 1..=5 {
        let r = c.login("lee", "not the password at all", None);
        assert_eq!(r.status, 401, "attempt {i}");
        assert_eq!(r.body.contains("locked"), i == 5, "attempt {i}: {}", r.body);
    }
    let r = c.login("lee", PASSWORD, None);
    assert!(r.status == 401 && r.body.contains("locked"), "{}", r.body);
    // A login form's token is spent once.
    let page = c.get("/login", None);
    let token = page.cookie("__Host-frontdesk-login").unwrap();
    let form = format!("csrf={token}&name=kim&password={}", PASSWORD.replace(' ', "+"));
    let cookie = format!("__Host-frontdesk-login={token}");
    let again = c.post("/login", Some(&cookie), &form);
    assert_eq!(again.status, 303);
    assert_eq!(c.post("/login", Some(&cookie), &form).status, 403);
    // An account removed on the box loses its open sessions at once.
    let kims = format!("__Host-frontdesk={}", again.cookie("__Host-frontdesk").unwrap());
    assert_eq!(c.get("/", Some(&kims)).status, 200);
    frontdesk(&config, &["staff", "remove", "kim"], "");
    assert_eq!(c.get("/", Some(&kims)).status, 303);

    // Every response, whatever it was, carried the security headers.
    for (what, status, headers) in &c.seen {
        let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str()).unwrap_or("");
        assert!(get("content-security-policy").starts_with("default-src 'none'"), "{what} ({status})");
        assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(get("x-frame-options"), "DENY", "{what}");
        assert_eq!(get("referrer-policy"), "same-origin", "{what}");
        assert_eq!(get("cache-control"), "no-store", "{what}");
    }

    let log = d.stop();
    // The log says who did what to which call, never whose call it was.
    assert!(log.contains("web: signed in") && log.contains("web: message acknowledged") && log.contains("locked=true"), "{log}");
    for secret in [NAME, "Ozias", "Threlkeld", CALLBACK, "555-0163", PASSWORD] {
        assert!(!log.contains(secret), "{secret:?} in the log:\n{log}");
    }
    // The audit trail names the account for each read and the acknowledgement.
    let audit = frontdesk(&config, &["audit", "show", "--last", "40"], "");
    for line in [
        "web: kim",
        "login",
        "web worklist",
        &format!("web call {id}: shown"),
        &format!("web call {id} recording"),
        &format!("message {id} handled (web)"),
        "web: lee",
    ] {
        assert!(audit.contains(line), "{line:?} not in the audit trail:\n{audit}");
    }
}
