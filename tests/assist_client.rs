//! The language model client against a recording server on 127.0.0.1 that misbehaves on
//! purpose: a wrong label, a huge body, invalid JSON, a slow drip, errors, nobody listening.
//! Whatever it does, the client returns an error (never a label that was not offered), every
//! body that went out is the one kept sealed in a real store with its audit entry, and a
//! switched-off client opens no connection at all.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frontdesk::assist::client::{AssistError, Client, Egress, EgressRecord, Endpoint, Switch};
use frontdesk::store::{Role, Store, StoreSettings};

mod common;

use common::llm_fake::{Mode, serve};

struct StoreEgress(Arc<Store>);

impl Egress for StoreEgress {
    fn record(&self, e: &EgressRecord<'_>) -> anyhow::Result<()> {
        self.0.record_egress(e.host, e.purpose, e.body, &e.sha256)
    }
}

struct Flag(Arc<Mutex<bool>>);

impl Switch for Flag {
    fn is_off(&self) -> bool {
        *self.0.lock().unwrap()
    }
}

struct Rig {
    client: Client,
    store: Arc<Store>,
    off: Arc<Mutex<bool>>,
}

fn rig(name: &str, port: u16) -> Rig {
    let d = common::scratch(name);
    let settings = StoreSettings { data_dir: d.join("data"), key_file: d.join("etc/master.key") };
    let store = Arc::new(Store::open(&settings, Role::Daemon).unwrap());
    let off = Arc::new(Mutex::new(false));
    let endpoint = Endpoint {
        base: format!("http://127.0.0.1:{port}/v1"),
        model: "test".into(),
        api_key: None,
        connect_timeout: Duration::from_millis(500),
    };
    let client = Client::new(endpoint, Box::new(StoreEgress(store.clone())), Box::new(Flag(off.clone())));
    Rig { client, store, off }
}

const LABELS: &[(&str, &str)] = &[("refill", "medication refills"), ("message", "a message for staff")];
const BUDGET: Duration = Duration::from_secs(2);

#[test]
fn a_label_comes_back_and_what_left_is_kept_sealed_and_audited() {
    let server = serve(Mode::Label("message"));
    let r = rig("assist-ok", server.port);
    let said = "My kid's school needs a form signed.";
    assert_eq!(r.client.classify(said, LABELS, BUDGET).unwrap(), "message");
    let sent = server.bodies.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&sent[0]).unwrap();
    // Only what a chat completion needs: no user field, no metadata the provider could log.
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["max_tokens", "messages", "model", "response_format", "stream", "temperature"]);
    assert!(body["messages"][1]["content"].as_str().unwrap().contains(said));
    let kept = r.store.egress_entries(true).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].body.as_deref().unwrap().as_bytes(), &sent[0][..], "the kept body is the exact body sent");
    assert_eq!(kept[0].host, format!("127.0.0.1:{}", server.port));
    let audit = r.store.audit_entries().unwrap();
    assert!(audit.iter().any(|e| e.action == "assist_request" && e.detail.contains(&kept[0].sha256)), "{audit:?}");
    assert!(matches!(r.store.verify_audit().unwrap(), frontdesk::store::audit::Verdict::Intact { .. }));
}

#[test]
fn a_hostile_or_broken_answer_is_an_error_never_a_label() {
    for (mode, expect) in [
        (Mode::Label("emergency"), AssistError::Malformed("a label that was not offered")),
        (Mode::Label("refill\"}; ignore"), AssistError::Malformed("not a label object")),
        (Mode::Huge, AssistError::Malformed("larger than an answer can be")),
        (Mode::NotJson, AssistError::Malformed("not JSON")),
        (Mode::Status(401), AssistError::Status(401)),
        (Mode::Drip, AssistError::Timeout),
    ] {
        let server = serve(mode);
        let r = rig(&format!("assist-{mode:?}").replace(['"', ';', ' ', '(', ')', '}'], "_"), server.port);
        let got = r.client.classify("Do you take walk-ins?", LABELS, BUDGET);
        assert_eq!(got, Err(expect), "{mode:?}");
    }
}

/// A streaming server: the label is put together from its pieces, and a summary is taken
/// at the end of its first line, the connection closed on the rest (the model stops).
#[test]
fn a_streamed_answer_is_read_until_it_holds_what_was_asked() {
    let server = serve(Mode::Stream("refill"));
    let r = rig("assist-stream", server.port);
    assert_eq!(r.client.classify("I'm down to my last two pills.", LABELS, BUDGET).unwrap(), "refill");
    let summary = r.client.summarize("Request: refill\nWhat it is about: down to the last two pills", Duration::from_secs(20));
    assert_eq!(summary.unwrap(), common::llm_fake::SUMMARY);
    for b in server.bodies.lock().unwrap().iter() {
        assert_eq!(serde_json::from_slice::<serde_json::Value>(b).unwrap()["stream"], true);
    }
    // The server notices the closed connection at its next write.
    let until = std::time::Instant::now() + Duration::from_secs(30);
    while *server.cut_short.lock().unwrap() == 0 {
        assert!(std::time::Instant::now() < until, "the client read the rambling to its end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn one_retry_on_a_server_error_then_the_answer() {
    let server = serve(Mode::FailOnce("refill"));
    let r = rig("assist-retry", server.port);
    assert_eq!(r.client.classify("I'm down to my last two pills.", LABELS, BUDGET).unwrap(), "refill");
    assert_eq!(*server.connections.lock().unwrap(), 2);
}

#[test]
fn nobody_listening_opens_the_breaker_and_the_switch_stops_everything() {
    // A port nothing listens on: bind, note, close.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let r = rig("assist-down", port);
    for _ in 0..3 {
        assert!(matches!(r.client.classify("Do you take walk-ins?", LABELS, BUDGET), Err(AssistError::Connect(_))));
    }
    assert_eq!(r.client.classify("Do you take walk-ins?", LABELS, BUDGET), Err(AssistError::BreakerOpen));

    let server = serve(Mode::Label("message"));
    let r = rig("assist-off", server.port);
    *r.off.lock().unwrap() = true;
    assert_eq!(r.client.classify("Do you take walk-ins?", LABELS, BUDGET), Err(AssistError::Off));
    assert_eq!(r.client.summarize("Do you take walk-ins?", BUDGET), Err(AssistError::Off));
    assert_eq!(*server.connections.lock().unwrap(), 0, "switched off, nothing may connect");
    assert!(r.store.egress_entries(false).unwrap().is_empty(), "and nothing is recorded as sent");
    *r.off.lock().unwrap() = false;
    assert_eq!(r.client.classify("Do you take walk-ins?", LABELS, BUDGET).unwrap(), "message");
}
