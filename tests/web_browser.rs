//! The web inbox in a real browser: Debian's headless Chromium driven through chromedriver
//! (W3C WebDriver over HTTP on 127.0.0.1). A member of staff signs in, sees the worklist with the
//! message, opens the call, marks it handled, and signs out; each page is saved as a screenshot
//! under target/screenshots/web_inbox/. The browser runs with the default JavaScript setting,
//! yet the pages carry no script: every step is a link or a form. Each step waits for the page
//! it leads to (its title), never for a time.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const SIP_PORT: u16 = 20250;
const PORT: u16 = 19444;
const DRIVER_PORT: u16 = 19445;

struct Driver {
    child: Child,
    base: String,
    session: String,
}

impl Driver {
    fn start(profile: &std::path::Path) -> Driver {
        // Debian: chromium-driver (make test installs it).
        let child = common::spawn_until(
            Command::new("chromedriver").arg(format!("--port={DRIVER_PORT}")).stderr(Stdio::null()),
            "started successfully",
        );
        let base = format!("http://127.0.0.1:{DRIVER_PORT}");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // The inbox's certificate is the test CA's; the chain itself is checked in web_inbox.
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
                         "--no-first-run", "--disable-extensions", "--disable-background-networking",
                         format!("--user-data-dir={}", profile.display())],
            },
        }}});
        let mut d = Driver { child, base, session: String::new() };
        let v = d.call("POST", "/session", Some(caps));
        d.session = v["sessionId"].as_str().expect("a WebDriver session").to_string();
        d
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut resp = match body {
            Some(b) => agent.post(&url).header("Content-Type", "application/json").send(b.to_string()),
            None if method == "DELETE" => agent.delete(&url).call(),
            None => agent.get(&url).call(),
        }
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let text = resp.body_mut().read_to_string().unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(v["value"]["error"].is_null(), "WebDriver {method} {path}: {text}");
        v["value"].clone()
    }

    fn at(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    fn go(&self, url: &str) {
        self.call("POST", &self.at("/url"), Some(json!({ "url": url })));
    }

    fn find(&self, css: &str) -> String {
        let v = self.call("POST", &self.at("/element"), Some(json!({"using": "css selector", "value": css})));
        v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("an element id").to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call("POST", &self.at(&format!("/element/{e}/value")), Some(json!({ "text": text })));
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.call("POST", &self.at(&format!("/element/{e}/click")), Some(json!({})));
    }

    fn title(&self) -> String {
        self.call("GET", &self.at("/title"), None).as_str().unwrap_or_default().to_string()
    }

    fn source(&self) -> String {
        self.call("GET", &self.at("/source"), None).as_str().unwrap_or_default().to_string()
    }

    /// Runs `script` in the page (WebDriver's asynchronous script: it answers through its last
    /// argument) and returns what it answered. WebDriver runs it outside the page's CSP, which
    /// still governs what the page itself may load.
    fn run_async(&self, script: &str) -> Value {
        self.call("POST", &self.at("/execute/async"), Some(json!({ "script": script, "args": [] })))
    }

    fn url(&self) -> String {
        self.call("GET", &self.at("/url"), None).as_str().unwrap_or_default().to_string()
    }

    /// Waits until the page's title starts with `title` (the page a step leads to).
    fn wait_title(&self, title: &str) {
        let start = Instant::now();
        while !self.title().starts_with(title) {
            assert!(start.elapsed() < Duration::from_secs(30), "no page titled {title:?}; at {} titled {:?}", self.url(), self.title());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn screenshot(&self, name: &str) {
        use base64::Engine as _;
        let png = self.call("GET", &self.at("/screenshot"), None);
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        let dir = common::repo().join("target/screenshots/web_inbox");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &bytes).unwrap();
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5000, "{name}: a real screenshot");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.call("DELETE", &self.at(""), None)));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn staff_use_the_inbox_in_chromium() {
    let inbox = common::web::inbox("web-browser", SIP_PORT, PORT, &["kim"]);
    let base = format!("https://localhost:{PORT}");
    let browser = Driver::start(&common::scratch("web-browser-profile"));

    // Any page leads to the sign-in page first.
    browser.go(&format!("{base}/"));
    browser.wait_title("Sign in");
    browser.screenshot("1-sign-in");
    browser.type_into("input[name=name]", "kim");
    browser.type_into("input[name=password]", common::web::PASSWORD);
    browser.click("form.login button");

    // The worklist, with the canary caller's message.
    browser.wait_title("Callback worklist");
    let list = browser.source();
    assert!(list.contains(common::web::NAME) && list.contains("(503) 555-0163"), "{list}");
    assert!(!list.contains("<script"), "no script in the pages");
    browser.screenshot("2-worklist");

    // Open the call, mark it handled.
    browser.click("td a[href^='/calls/']");
    browser.wait_title("Call ");
    let call_url = browser.url();
    assert!(
        call_url.trim_start_matches(&base).strip_prefix("/calls/").is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())),
        "{call_url}"
    );
    assert!(browser.source().contains("Please call me about my results"));
    // The recording plays: Chromium loads it under the page's own policy and reads its length.
    let loaded = browser.run_async(
        "const done = arguments[arguments.length - 1]; const a = document.querySelector('audio');\
         a.addEventListener('loadedmetadata', () => done(a.duration));\
         a.addEventListener('error', () => done('error ' + (a.error && a.error.code)));\
         a.preload = 'auto'; a.load();",
    );
    let want = common::web::RECORDED_SAMPLES as f64 / 8000.0;
    assert!(loaded.as_f64().is_some_and(|s| (s - want).abs() < 0.01), "the player loaded {loaded} (want {want} s)");
    browser.screenshot("3-call");
    browser.click("button.primary");
    browser.wait_title("Callback worklist");
    assert!(browser.source().contains("No messages waiting"));
    browser.screenshot("4-worklist-empty");

    // Search finds it, handled by kim.
    browser.go(&format!("{base}/search?outcome=message_taken"));
    browser.wait_title("Search calls");
    assert!(browser.source().contains("handled by web: kim"));
    browser.screenshot("5-search");

    // Sign out: back to the sign-in page, and the worklist is out of reach.
    browser.click("nav form button");
    browser.wait_title("Sign in");
    browser.go(&format!("{base}/"));
    browser.wait_title("Sign in");
    browser.screenshot("6-signed-out");

    drop(browser);
    let log = inbox.daemon.stop();
    assert!(log.contains("web: signed in") && log.contains("web: message acknowledged"), "{log}");
    assert!(!log.contains(common::web::NAME) && !log.contains(common::web::CALLBACK), "{log}");
}
