//! The local path for real: llama.cpp's server (the pinned xllamacpp wheel, started by
//! `scripts/llm-server.py`) with SmolLM2-135M-Instruct on 127.0.0.1, asked to classify the
//! unforeseen requests of `tests/data/assist/unforeseen.txt` (worded so that no keyword rule
//! catches them) after the redactor. Accuracy and latency are printed (`--nocapture`) for
//! BENCHMARKS.md; the test holds the pipeline to working end to end: every answer is one of
//! the offered labels, and the model does better than chance.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use frontdesk::assist::client::{Client, Egress, EgressRecord, Endpoint, Switch};
use frontdesk::assist::redact::Captured;

mod common;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The model measured: the pinned one, or another GGUF named by `FRONTDESK_TEST_LLM` (how a
/// candidate is measured on the same set before it is pinned).
fn model() -> std::path::PathBuf {
    std::env::var_os("FRONTDESK_TEST_LLM").map_or_else(|| common::repo().join("models/SmolLM2-135M-Instruct.Q4_1.gguf"), Into::into)
}

fn start_server(port: u16) -> Server {
    let repo = common::repo();
    let python = repo.join("models/llm-server/bin/python");
    let model = model();
    assert!(python.exists() && model.exists(), "no local language model: run `models/fetch.sh assist` (make test does)");
    let mut child = Command::new(python)
        .arg(repo.join("scripts/llm-server.py"))
        .args(["--model", model.to_str().unwrap(), "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the server to say it listens (its own line), then for /health to be "ok".
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let said = lines.by_ref().map_while(Result::ok).find(|l| l.contains("listening on"));
    assert!(said.is_some(), "the local model server did not start");
    let server = Server(child);
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        if health(port) {
            return server;
        }
        assert!(Instant::now() < until, "the local model server never reported healthy");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn health(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if write!(s, "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200") && out.contains("ok")
}

struct Kept(std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>);
impl Egress for Kept {
    fn record(&self, e: &EgressRecord<'_>) -> anyhow::Result<()> {
        self.0.lock().unwrap().push(e.body.to_vec());
        Ok(())
    }
}
struct On;
impl Switch for On {
    fn is_off(&self) -> bool {
        false
    }
}

#[test]
fn the_local_model_sorts_unforeseen_requests_into_the_offered_labels() {
    let port = 18470;
    let _server = start_server(port);
    let kept = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let endpoint = Endpoint {
        base: format!("http://127.0.0.1:{port}/v1"),
        model: "local".into(),
        api_key: None,
        connect_timeout: Duration::from_secs(1),
    };
    assert!(endpoint.is_local());
    let client = Client::new(endpoint, Box::new(Kept(kept.clone())), Box::new(On));
    let redactor = common::config().redactor();
    let text = std::fs::read_to_string(common::repo().join("tests/data/assist/unforeseen.txt")).unwrap();
    let cases: Vec<(&str, &str)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once('\t').expect("LABEL<TAB>UTTERANCE"))
        .collect();
    assert!(cases.len() >= 30);
    let labels = frontdesk::assist::REQUEST_LABELS;
    let (mut right, mut answered, mut withheld) = (0, 0, 0);
    let mut ms: Vec<u128> = Vec::new();
    let mut confusion: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for (want, said) in &cases {
        let Some(sent) = redactor.redact(said, &Captured::default()).text().map(str::to_string) else {
            withheld += 1;
            continue;
        };
        let started = Instant::now();
        // Generous: this measures, it does not time; a loaded CI machine must not fail it.
        let got = client.classify(&sent, labels, Duration::from_secs(30));
        ms.push(started.elapsed().as_millis());
        let got = got.unwrap_or_else(|e| panic!("{said:?}: {e}"));
        assert!(got == "none" || labels.iter().any(|(l, _)| *l == got), "{got}");
        answered += 1;
        if got == *want {
            right += 1;
        }
        *confusion.entry((want.to_string(), got)).or_default() += 1;
    }
    ms.sort();
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{}, 2 threads: {right}/{answered} right ({:.0} %), {withheld} withheld by the redactor; latency p50 {} ms, p95 {} ms, max {} ms",
        model().file_name().unwrap().to_string_lossy(),
        100.0 * right as f64 / answered as f64,
        pct(0.5),
        pct(0.95),
        ms.last().unwrap()
    );
    for ((want, got), n) in &confusion {
        println!("  {want:>16} -> {got:<16} {n}");
    }
    assert_eq!(answered, cases.len() - withheld);
    assert_eq!(kept.lock().unwrap().len(), answered, "every request was recorded before it went");
    // Accuracy is reported, not held: SmolLM2-135M, the one small instruct model found on
    // PyPI, scores about chance (one in eight) on this set (BENCHMARKS.md). The conversation
    // must not act on its labels until a better model is pinned.

    // Summaries for staff, as the daemon asks for them after a message's call: the request
    // the summary thread builds from a record's details, then the one line that comes back.
    let mut ms: Vec<u128> = Vec::new();
    for (want, said) in cases.iter().take(8) {
        let mut record = frontdesk::record::CallRecord::new("2026-12-07T10:00:00Z".into(), None, None, false);
        record.intent = Some(want.to_string());
        record.slots.insert("name".into(), "Rose Baker".into());
        record.slots.insert("reason".into(), said.to_string());
        let Some(asked) = frontdesk::daemon::assist::summary_request(&redactor, &record) else { continue };
        let started = Instant::now();
        let line = client.summarize(&asked, Duration::from_secs(60)).unwrap_or_else(|e| panic!("{said:?}: {e}"));
        ms.push(started.elapsed().as_millis());
        println!("  summary of {said:?}: {line:?}");
        assert!(!line.trim().is_empty() && !line.contains('\n') && line.chars().count() <= 200, "{line:?}");
    }
    assert!(ms.len() >= 6, "most messages could be summarised: {}", ms.len());
    ms.sort();
    println!("summaries: {} asked; latency p50 {} ms, max {} ms", ms.len(), ms[ms.len() / 2], ms.last().unwrap());
}
