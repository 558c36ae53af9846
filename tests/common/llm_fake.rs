//! A recording stand-in for a language model endpoint on 127.0.0.1: it keeps every request
//! body it receives (what left the box) and answers as told, well or badly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// This label to a classification, [`SUMMARY`] to a summary request.
    Label(&'static str),
    Huge,
    NotJson,
    /// Headers, then one byte now and then, never finishing within the budget.
    Drip,
    Status(u16),
    /// 500 on the first request, the label after.
    FailOnce(&'static str),
    /// Server-sent events: the label object in three pieces then `[DONE]`; to a summary
    /// request, [`SUMMARY`] and a newline, then more words for as long as the client reads
    /// (200 chunks at most, no `[DONE]`). `cut_short` counts the streams the client left.
    Stream(&'static str),
}

/// What the stand-in answers a request that offers no label schema (a summary).
pub const SUMMARY: &str = "Wants a school sports form signed by the doctor.";

pub struct Server {
    pub port: u16,
    pub bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    pub connections: Arc<Mutex<usize>>,
    pub cut_short: Arc<Mutex<usize>>,
}

pub fn serve(mode: Mode) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(Mutex::new(0));
    let cut_short = Arc::new(Mutex::new(0));
    let (b, c, cut) = (bodies.clone(), connections.clone(), cut_short.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let n = {
                let mut c = c.lock().unwrap();
                *c += 1;
                *c
            };
            let (b, cut) = (b.clone(), cut.clone());
            std::thread::spawn(move || answer(stream, mode, n, &b, &cut));
        }
    });
    Server { port, bodies, connections, cut_short }
}

fn answer(stream: TcpStream, mode: Mode, n: usize, bodies: &Mutex<Vec<Vec<u8>>>, cut_short: &Mutex<usize>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    bodies.lock().unwrap().push(body.clone());
    let mut out = stream;
    let json =
        |content: &str| serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).to_string();
    let asks_label = body.windows(b"json_schema".len()).any(|w| w == b"json_schema");
    let label = |l: &str| if asks_label { json(&format!("{{\"label\": \"{l}\"}}")) } else { json(SUMMARY) };
    let reply = |out: &mut TcpStream, status: &str, body: &str| {
        let _ = write!(
            out,
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    };
    match mode {
        Mode::Label(l) => reply(&mut out, "200 OK", &label(l)),
        Mode::FailOnce(l) if n > 1 => reply(&mut out, "200 OK", &label(l)),
        Mode::FailOnce(_) => reply(&mut out, "500 Internal Server Error", "{}"),
        Mode::Huge => reply(&mut out, "200 OK", &json(&"x".repeat(200_000))),
        Mode::NotJson => reply(&mut out, "200 OK", "<html>upstream error</html>"),
        Mode::Status(s) => reply(&mut out, &format!("{s} Whatever"), "{}"),
        Mode::Stream(l) => {
            let _ = write!(out, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n");
            let chunk = |s: &str| format!("data: {}\n\n", serde_json::json!({"choices": [{"index": 0, "delta": {"content": s}}]}));
            if asks_label {
                let whole = format!("{{\"label\": \"{l}\"}}");
                let (a, rest) = whole.split_at(4);
                let (b, c) = rest.split_at(rest.len() / 2);
                let _ = write!(out, ": ping\n\n{}{}{}data: [DONE]\n\n", chunk(a), chunk(b), chunk(c));
                return;
            }
            let _ = write!(out, "{}", chunk(&format!("{SUMMARY}\n")));
            for _ in 0..200 {
                // A write fails once the client has closed the connection.
                if out.write_all(chunk(" and so on").as_bytes()).and_then(|_| out.flush()).is_err() {
                    *cut_short.lock().unwrap() += 1;
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Mode::Drip => {
            let _ = write!(out, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n");
            // Until the client hangs up (a write fails), or a bound of 60 s.
            for _ in 0..600 {
                if out.write_all(b" ").and_then(|_| out.flush()).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
