//! The test registrar and proxy (tests/kamailio/): kamailio started in a process group of
//! its own, its log collected, stopped (and its workers with it) when dropped.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::daemon::Daemon;

pub struct Kamailio {
    child: Child,
    pub log: Arc<Mutex<String>>,
}

impl Kamailio {
    /// On UDP `port`, with requests for "staff" going to `staff_port`, challenging with the
    /// digest `algorithm`.
    pub fn start(port: u16, staff_port: u16, algorithm: &str) -> Kamailio {
        Kamailio::start_env(port, staff_port, &[("AUTH_ALGORITHM", algorithm)])
    }

    /// As `start`, with start.sh's environment (TLS_PORT, TLS_CERT, TLS_KEY, ...).
    pub fn start_env(port: u16, staff_port: u16, env: &[(&str, &str)]) -> Kamailio {
        let rundir = super::scratch(&format!("kamailio-{port}"));
        let mut child = Command::new(super::repo().join("tests/kamailio/start.sh"))
            .args([port.to_string(), staff_port.to_string(), rundir.display().to_string()])
            .envs(env.iter().copied())
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kamailio is installed by make test");
        let log = Arc::new(Mutex::new(String::new()));
        for stream in [Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>, Box::new(child.stderr.take().unwrap())] {
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut l = sink.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let k = Kamailio { child, log };
        let start = Instant::now();
        while !k.log.lock().unwrap().contains("FIXTURE READY") {
            assert!(start.elapsed() < Duration::from_secs(20), "kamailio did not start:\n{}", k.log.lock().unwrap());
            std::thread::sleep(Duration::from_millis(50));
        }
        k
    }
}

impl Kamailio {
    /// A sipp caller dials frontdesk at this proxy on UDP `kport` (`scenario`: sipp arguments
    /// choosing the scenario); asserts sipp succeeded, then stops the daemon and returns its
    /// log and kamailio's.
    pub fn call_through(&self, kport: u16, d: Daemon, scenario: &[&str]) -> (String, String) {
        let out = Command::new("sipp")
            .args(scenario)
            .args(["-s", "frontdesk", "-i", "127.0.0.1", "-p", &(kport + 20).to_string(), "-m", "1"])
            .args(["-nostdin", "-timeout", "30", "-timeout_error"])
            .arg(format!("127.0.0.1:{kport}"))
            .current_dir(&d.dir)
            .output()
            .unwrap();
        let log = d.stop();
        let kam_log = self.log.lock().unwrap().clone();
        assert!(
            out.status.success(),
            "sipp: {}\n{}\nkamailio:\n{kam_log}\ndaemon:\n{log}",
            String::from_utf8_lossy(&out.stdout).lines().rev().take(30).collect::<Vec<_>>().join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
        (log, kam_log)
    }
}

/// A sipp UAS standing in for staff on 127.0.0.1:`port` (tests/kamailio/staff_answers.xml):
/// answers one call and waits for its BYE.
pub fn staff_answers(port: u16, name: &str) -> Child {
    let scenario = super::repo().join("tests/kamailio/staff_answers.xml");
    Command::new("sipp")
        .arg("-sf")
        .arg(&scenario)
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m", "1"])
        .args(["-nostdin", "-timeout", "40", "-timeout_error", "-trace_err"])
        .current_dir(super::scratch(&format!("{name}-staff")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `frontdesk dial staff` on `config`: a one-second call to staff through the proxy.
pub fn dial_staff(config: &std::path::Path) -> std::process::Output {
    Command::new(super::frontdesk_bin())
        .arg("--config")
        .arg(config)
        .args(["dial", "staff", "--seconds", "1", "--ring-timeout", "20"])
        .output()
        .unwrap()
}

impl Kamailio {
    /// The process id of the main process, which leads the fixture's process group.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(4) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The workers would keep the port: kill the whole process group.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
        let _ = self.child.wait();
    }
}
