//! A real call to the real daemon with `[assist]` on, the endpoint being a recording stand-in
//! on 127.0.0.1 (a cloud model cannot run here; what matters is what left the box). The caller
//! names herself and asks something no rule understands: the daemon asks the model while the
//! hold prompt plays, the label starts the request, and the one body that left holds the
//! request but not the name, the number or the call. Then `frontdesk assist off` (run while the
//! daemon runs) stops the next call's request before any connection is made, and that call
//! goes as without a model.

use std::process::Command;
use std::time::Duration;

use common::daemon::Daemon;
use common::listening::converse;
use common::llm_fake::{Mode, SUMMARY, serve};
use common::persona::{Persona, Reply, john_smith};

mod common;

/// Greeted, says `request`; hangs up at the next question. What the agent says that asks
/// nothing ("One moment", or a "Sorry" cut short because she was still talking) is heard out.
struct Asks {
    request: &'static str,
    said: bool,
}

impl Persona for Asks {
    fn name(&self) -> &str {
        "a caller with an unforeseen request"
    }

    fn reply(&mut self, agent: &str) -> Reply {
        if self.said {
            return if agent.contains('?') { Reply::HangUp } else { Reply::Silence };
        }
        self.said = true;
        Reply::Say(self.request.into())
    }
}

const REQUEST: &str = "Hi, this is Rose Baker. My kid's school needs a form signed by the doctor before she can play sports.";

/// Whether the first four words of `prompt` are in `transcript`, punctuation and case aside
/// (the caller's recogniser writes "Sorry I didn't" as readily as "Sorry, I didn't").
fn heard(transcript: &str, prompt: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
    };
    let (t, p) = (words(transcript), words(prompt));
    let p = &p[..p.len().min(4)];
    t.windows(p.len()).any(|w| w == p)
}

fn frontdesk(config: &std::path::Path, args: &[&str]) -> String {
    let o = Command::new(common::frontdesk_bin()).arg("--config").arg(config).args(args).output().unwrap();
    assert!(o.status.success(), "frontdesk {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// The daemon of these tests (always open, one recognition thread) with `[assist]` on and
/// its endpoint on 127.0.0.1:`model_port`.
fn launch(name: &str, port: u16, model_port: u16, rust_log: &str) -> Daemon {
    let tail = format!("[assist]\nenabled = true\nendpoint = \"http://127.0.0.1:{model_port}/v1\"\nbudget_ms = 5000\n");
    let mut edits = common::ALWAYS_OPEN.to_vec();
    edits.push(common::ONE_STT_THREAD);
    Daemon::launch_edited(name, port, "app = \"conversation\"", &tail, rust_log, &edits)
}

#[test]
fn an_unforeseen_request_is_classified_by_the_model_and_only_redacted_words_leave() {
    let server = serve(Mode::Label("message"));
    let port = 18560;
    let d = launch("assist-call", port, server.port, "info,frontdesk::call::engine=debug");
    let config = d.dir.join("frontdesk.toml");
    let talk = converse(port, Box::new(Asks { request: REQUEST, said: false }), Duration::from_secs(180));
    eprintln!("{}", talk.transcript());
    d.wait_for("conversation ended", Duration::from_secs(60));

    // What left the box: the words of the request, nothing that names her. If the engine
    // took her pause after her name for the end of a turn, that part was asked about first,
    // then the whole once she went on: the last request holds the whole.
    let bodies = server.bodies.lock().unwrap().clone();
    assert!(!bodies.is_empty() && bodies.len() <= 2, "{} requests\n{}\n--- daemon log ---\n{}", bodies.len(), talk.transcript(), d.log());
    for b in &bodies {
        let body = String::from_utf8(b.clone()).unwrap();
        eprintln!("what left the box: {body}");
        let user = serde_json::from_str::<serde_json::Value>(&body).unwrap()["messages"][1]["content"].as_str().unwrap().to_string();
        for secret in ["Rose", "Baker", "caller@", "127.0.0.1", "Call-ID", "call"] {
            assert!(!user.contains(secret), "{secret:?} left the box: {body}");
        }
        assert!(!body.contains("Rose") && !body.contains("Baker"), "{body}");
    }
    let body = String::from_utf8(bodies.last().unwrap().clone()).unwrap();
    assert!(body.contains("school") && body.contains("form"), "{body}");
    // The label started the request: the agent introduced the message flow.
    let script = common::config().script();
    let intro = &frontdesk::call::flow::Script::new(&script).flows["message"].intro;
    assert!(heard(&talk.transcript(), intro), "{intro:?} not heard:\n{}", talk.transcript());

    // The same body is kept sealed on the box, with its hash in the audit trail.
    let log = frontdesk(&config, &["assist", "log", "--bodies"]);
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bodies.last().unwrap()))
    };
    assert!(log.contains(&sha) && log.contains(&body), "{log}");
    let audit = frontdesk(&config, &["audit", "show", "--last", "50"]);
    assert!(audit.contains("assist_request") && audit.contains(&sha), "{audit}");

    // Switched off while the daemon runs: the next call makes no request at all.
    frontdesk(&config, &["assist", "off"]);
    let before = *server.connections.lock().unwrap();
    let again = converse(port, Box::new(Asks { request: REQUEST, said: false }), Duration::from_secs(180));
    eprintln!("{}", again.transcript());
    let log = d.stop();
    eprintln!("--- daemon log ---\n{log}");
    assert_eq!(*server.connections.lock().unwrap(), before, "a request went out while switched off");
    let not_understood = common::config().script().prompts.not_understood;
    assert!(heard(&again.transcript(), &not_understood), "{not_understood:?} not heard:\n{}", again.transcript());
    let audit = frontdesk(&config, &["audit", "show", "--last", "50"]);
    assert!(audit.contains("assist_off"), "{audit}");
    // And the name stays out of the daemon's log.
    for secret in ["Rose", "Baker"] {
        assert!(!log.lines().any(|l| l.contains(secret)), "{secret:?} in the log");
    }
}

/// The model's endpoint down: the caller is told "not understood" as without a model, the
/// log says why without her words, and the call goes on. Then `[assist]` is pointed at a
/// server that answers and the daemon reloaded (SIGHUP): the next call's request is asked.
#[test]
fn an_unreachable_model_changes_nothing_and_a_reload_points_it_elsewhere() {
    // A port nobody listens on: taken, then let go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let port = 18580;
    let d = launch("assist-reload", port, closed, "info");
    let config = d.dir.join("frontdesk.toml");
    let down = converse(port, Box::new(Asks { request: REQUEST, said: false }), Duration::from_secs(180));
    eprintln!("{}", down.transcript());
    d.wait_for("conversation ended", Duration::from_secs(60));
    let not_understood = common::config().script().prompts.not_understood;
    assert!(heard(&down.transcript(), &not_understood), "{not_understood:?} not heard:\n{}", down.transcript());
    d.wait_for("language model: no answer, the call goes on without it", Duration::from_secs(10));

    let server = serve(Mode::Label("message"));
    let text =
        std::fs::read_to_string(&config).unwrap().replace(&format!("127.0.0.1:{closed}/v1"), &format!("127.0.0.1:{}/v1", server.port));
    std::fs::write(&config, text).unwrap();
    let _ = Command::new("kill").arg("-HUP").arg(d.child.id().to_string()).status();
    d.wait_for("configuration reloaded", Duration::from_secs(60));
    let up = converse(port, Box::new(Asks { request: REQUEST, said: false }), Duration::from_secs(180));
    eprintln!("{}", up.transcript());
    let log = d.stop();
    let bodies = server.bodies.lock().unwrap().clone();
    assert!(!bodies.is_empty(), "no request after the reload\n{}\n--- daemon log ---\n{log}", up.transcript());
    let script = common::config().script();
    let intro = &frontdesk::call::flow::Script::new(&script).flows["message"].intro;
    assert!(heard(&up.transcript(), intro), "{intro:?} not heard:\n{}", up.transcript());
    for secret in ["Rose", "Baker"] {
        assert!(!log.lines().any(|l| l.contains(secret)), "{secret:?} in the log");
    }
}

/// A whole message, then its summary: after the call, the model is asked for one line for
/// staff. What it is shown is the kind of request and what the message is about, with nothing
/// that identifies the caller (name, spelling, date of birth, callback number, caller ID);
/// the line comes back sealed with the record, and staff see it marked as the model's words.
#[test]
fn a_message_gets_a_summary_for_staff_made_from_its_redacted_details_only() {
    let server = serve(Mode::Label("message"));
    let port = 18600;
    let d = launch("assist-summary", port, server.port, "info");
    let config = d.dir.join("frontdesk.toml");
    let mut caller =
        john_smith("a caller leaving a message", "Hi. My kid's school needs a form signed by the doctor before she can play sports.");
    caller.trusting = true;
    let talk = converse(port, Box::new(caller), Duration::from_secs(300));
    eprintln!("{}", talk.transcript());
    d.wait_for("conversation ended", Duration::from_secs(60));
    d.wait_for("summary of the message stored", Duration::from_secs(60));
    let log = d.stop();

    let bodies: Vec<String> = server.bodies.lock().unwrap().iter().map(|b| String::from_utf8(b.clone()).unwrap()).collect();
    let summaries: Vec<&String> = bodies.iter().filter(|b| !b.contains("json_schema")).collect();
    assert_eq!(summaries.len(), 1, "{bodies:#?}\n--- daemon log ---\n{log}");
    let body = summaries[0];
    eprintln!("what left the box for the summary: {body}");
    let user = serde_json::from_str::<serde_json::Value>(body).unwrap()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(user.contains("school") && user.contains("form"), "the message's content is what is summarised: {user}");
    for secret in ["John", "Smith", "S M I", "617", "555", "0199", "1980", "March", "nineteen", "eighty", "127.0.0.1"] {
        assert!(!body.contains(secret), "{secret:?} left the box: {body}");
    }
    // The caller ID of the test's caller is the word "caller" (which the system prompt uses).
    assert!(!user.contains("caller"), "{user}");

    let shown = frontdesk(&config, &["calls", "show", "1"]);
    assert!(shown.contains(SUMMARY) && shown.contains(frontdesk::staff::MODEL_WORDS), "{shown}");
    assert!(shown.contains("John Smith"), "the details are there beside it: {shown}");
    let waiting = frontdesk(&config, &["messages"]);
    assert!(waiting.contains(SUMMARY), "{waiting}");
    // Kept sealed like every request that left, and out of the log.
    let egress = frontdesk(&config, &["assist", "log", "--bodies"]);
    assert!(egress.contains("summarize") && egress.contains("school"), "{egress}");
    assert!(!log.contains(SUMMARY), "the summary is in the daemon's log");
}
