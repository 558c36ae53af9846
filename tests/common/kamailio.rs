//! The test registrar and proxy (tests/kamailio/): kamailio started in a process group of
//! its own, its log collected, stopped (and its workers with it) when dropped.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
