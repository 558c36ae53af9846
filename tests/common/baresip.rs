//! baresip (Debian `baresip`) as a caller for tests: started on a config directory made from
//! tests/baresip/, driven over its ctrl_tcp module (JSON commands and events in netstrings).
//! Its microphone is a WAV (module aufile); what it hears is recorded by module sndfile.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// baresip's SIP port (UDP and TCP; its TLS listener takes the next one), RTP range and
/// control port.
#[derive(Clone, Copy)]
pub struct Ports {
    pub sip: u16,
    pub rtp: &'static str,
    pub ctrl: u16,
}

/// The newest `*-dec.wav` sndfile wrote in `dir`: what baresip heard.
pub fn recording(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).find(|p| p.to_string_lossy().ends_with("-dec.wav"))
}

/// baresip with its stdout and stderr (including the `-s` SIP trace) in a file.
pub struct Baresip {
    pub child: Child,
    pub output: PathBuf,
}

impl Baresip {
    /// Starts baresip on `config_dir`; it quits by itself after `quit_after_s`.
    pub fn start(config_dir: &Path, quit_after_s: u32) -> Baresip {
        let output = config_dir.join("baresip.out");
        let file = std::fs::File::create(&output).unwrap();
        let child = Command::new("baresip")
            // IPv4 only, SIP trace on, this config directory, quit after a while whatever happens.
            .args(["-4", "-s", "-t", &quit_after_s.to_string(), "-f"])
            .arg(config_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start baresip ({e}): install baresip (make test does)"));
        Baresip { child, output }
    }

    pub fn output(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.output).unwrap_or_default()).into_owned()
    }

    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits up to `timeout` for baresip to exit on its own; kills it otherwise.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.exited() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client of baresip's ctrl_tcp module: `{"command":..,"params":..,"token":..}` out, responses
/// (`"response":true` with our token) and events (`"event":true`, `"type":..`) in, each JSON
/// object framed as a netstring (`LEN:JSON,`).
pub struct Ctrl {
    stream: TcpStream,
    received: Arc<Mutex<Vec<Value>>>,
    next_token: u32,
}

impl Ctrl {
    pub fn connect(baresip: &mut Baresip, ctrl_port: u16, timeout: Duration) -> Result<Ctrl, String> {
        let start = Instant::now();
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", ctrl_port)) {
                Ok(s) => break s,
                Err(e) => {
                    if baresip.exited() {
                        return Err("baresip exited before its ctrl_tcp port opened".into());
                    }
                    if start.elapsed() > timeout {
                        return Err(format!("cannot connect to baresip's ctrl_tcp on 127.0.0.1:{ctrl_port}: {e}"));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        };
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        let mut reader = stream.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf: Vec<u8> = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = reader.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(colon) = buf.iter().position(|&b| b == b':') {
                    let Some(len) = std::str::from_utf8(&buf[..colon]).ok().and_then(|s| s.parse::<usize>().ok()) else {
                        return;
                    };
                    if buf.len() < colon + 1 + len + 1 {
                        break;
                    }
                    let v = serde_json::from_slice::<Value>(&buf[colon + 1..colon + 1 + len])
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&buf[colon + 1..colon + 1 + len]).into_owned()));
                    sink.lock().unwrap().push(v);
                    buf.drain(..colon + 1 + len + 1);
                }
            }
        });
        Ok(Ctrl { stream, received, next_token: 0 })
    }

    /// Sends a long command (as typed after `/` in baresip's menu) and waits for its response.
    pub fn command(&mut self, command: &str, params: &str) -> Result<(), String> {
        self.next_token += 1;
        let token = format!("t{}", self.next_token);
        let json = serde_json::json!({ "command": command, "params": params, "token": token }).to_string();
        self.stream.write_all(format!("{}:{json},", json.len()).as_bytes()).map_err(|e| format!("ctrl_tcp write of {command:?}: {e}"))?;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            let found = self.received.lock().unwrap().iter().find(|v| v["response"] == true && v["token"] == token.as_str()).cloned();
            if let Some(v) = found {
                return if v["ok"] == true { Ok(()) } else { Err(format!("baresip refused /{command} {params}: {v}")) };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("no response from baresip to /{command} {params}"))
    }

    /// Waits for an event of `kind` (CALL_ESTABLISHED, CALL_CLOSED, ...).
    pub fn wait_event(&self, kind: &str, timeout: Duration) -> Result<Value, String> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            let found = self.received.lock().unwrap().iter().find(|v| v["event"] == true && v["type"] == kind).cloned();
            if let Some(v) = found {
                return Ok(v);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("baresip reported no {kind} within {timeout:?}; it reported:\n{}", self.transcript()))
    }

    pub fn transcript(&self) -> String {
        self.received.lock().unwrap().iter().map(|v| v.to_string()).collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Ctrl {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// Fails (never skips) when baresip or the modules this test needs are missing.
pub fn require_baresip() {
    match Command::new("baresip").arg("-h").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("baresip not found: install baresip (make test does)"),
        Err(e) => panic!("cannot run baresip ({e}): install baresip (make test does)"),
        Ok(_) => {}
    }
    for m in ["g711", "aufile", "sndfile", "account", "menu", "ctrl_tcp"] {
        let p = Path::new("/usr/lib/baresip/modules").join(format!("{m}.so"));
        assert!(p.exists(), "{} is missing: install baresip (make test does)", p.display());
    }
}

/// baresip's config directory from tests/baresip/, with ports and paths filled in.
pub fn baresip_config(dir: &Path, ports: Ports, audio: &Path, rec_dir: &Path) -> PathBuf {
    let conf = dir.join("baresip");
    std::fs::create_dir_all(&conf).unwrap();
    let templates = super::repo().join("tests/baresip");
    let config = std::fs::read_to_string(templates.join("config"))
        .unwrap()
        .replace("@SIP_PORT@", &ports.sip.to_string())
        .replace("@CTRL_PORT@", &ports.ctrl.to_string())
        .replace("@RTP_PORTS@", ports.rtp)
        .replace("@AUDIO@", audio.to_str().unwrap())
        .replace("@REC_DIR@", rec_dir.to_str().unwrap());
    assert!(!config.lines().any(|l| !l.starts_with('#') && l.contains('@')), "unfilled placeholder in tests/baresip/config:\n{config}");
    std::fs::write(conf.join("config"), config).unwrap();
    std::fs::copy(templates.join("accounts"), conf.join("accounts")).unwrap();
    std::fs::write(conf.join("contacts"), "").unwrap();
    conf
}
