//! The daemon as a child process with a config of its own, for tests that talk to it over
//! the network. Its log is collected line by line so tests can wait for and check it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Put at the end of the log when the daemon's stderr closes: it has exited, and waiting for
/// a line any longer is pointless.
const EXITED: &str = "[test: the daemon's stderr closed]\n";

pub struct Daemon {
    pub child: Child,
    pub log: Arc<Mutex<String>>,
    pub sip_port: u16,
    pub dir: PathBuf,
}

impl Daemon {
    /// Starts the daemon with the example config plus `[sip]`/`[announce]` settings.
    pub fn start(name: &str, base_port: u16, sip_extra: &str, announce: &str) -> Daemon {
        Daemon::start_full(name, base_port, sip_extra, &format!("[announce]\n{announce}\n"))
    }

    /// As `start`, with `tail` (whole sections) appended to the config.
    pub fn start_full(name: &str, base_port: u16, sip_extra: &str, tail: &str) -> Daemon {
        Daemon::launch(name, base_port, sip_extra, tail, "info")
    }

    /// As `start_full`, with a log filter of the test's choosing (e.g. debug to see digits).
    pub fn launch(name: &str, base_port: u16, sip_extra: &str, tail: &str, rust_log: &str) -> Daemon {
        Daemon::launch_edited(name, base_port, sip_extra, tail, rust_log, &[])
    }

    /// As `launch`, with settings of the example config changed: each (from, to) replaces text.
    pub fn launch_edited(name: &str, base_port: u16, sip_extra: &str, tail: &str, rust_log: &str, edits: &[(&str, &str)]) -> Daemon {
        let config = write_config(name, base_port, sip_extra, tail);
        let mut text = std::fs::read_to_string(&config).unwrap();
        for (from, to) in edits {
            assert!(text.contains(from), "the example config has no {from:?}");
            text = text.replace(from, to);
        }
        std::fs::write(&config, text).unwrap();
        Daemon::run_config(&config, base_port, rust_log)
    }

    /// Starts the daemon on an existing config (to start it again after a crash, on the same
    /// data).
    pub fn run_config(config: &std::path::Path, base_port: u16, rust_log: &str) -> Daemon {
        Daemon::run_config_env(config, base_port, rust_log, &[])
    }

    /// As `run_config`, with environment variables of the test's (ALSA_CONFIG_PATH).
    pub fn run_config_env(config: &std::path::Path, base_port: u16, rust_log: &str, env: &[(&str, &str)]) -> Daemon {
        Daemon::spawn(config, base_port, rust_log, env, false)
    }

    /// As `run_config_env`, with the process unable to map memory both writable and executable
    /// (the kernel's PR_SET_MDWE, what the unit's `MemoryDenyWriteExecute=yes` enforces with
    /// seccomp): a library that needs a JIT fails here as it would under systemd.
    pub fn run_config_no_wx(config: &std::path::Path, base_port: u16, rust_log: &str, env: &[(&str, &str)]) -> Daemon {
        Daemon::spawn(config, base_port, rust_log, env, true)
    }

    fn spawn(config: &std::path::Path, base_port: u16, rust_log: &str, env: &[(&str, &str)], no_wx: bool) -> Daemon {
        use std::os::unix::process::CommandExt;
        let dir = config.parent().unwrap().to_path_buf();
        let prompts = data_dir(config).map(|d| d.join("prompts"));
        if let Some(p) = &prompts {
            copy_prompts(&shared_prompts(), p);
        }
        let mut command = Command::new(super::frontdesk_bin());
        command.arg("--config").arg(config).arg("run").envs(env.iter().copied()).env("RUST_LOG", rust_log);
        if no_wx {
            // SAFETY: prctl is async-signal-safe and touches only this (forked) process.
            unsafe {
                command.pre_exec(|| {
                    const PR_SET_MDWE: libc::c_int = 65;
                    const PR_MDWE_REFUSE_EXEC_GAIN: libc::c_ulong = 1;
                    if libc::prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0 {
                        return Err(std::io::Error::other(format!(
                            "PR_SET_MDWE (Linux 6.3+) refused: {}",
                            std::io::Error::last_os_error()
                        )));
                    }
                    Ok(())
                });
            }
        }
        let mut child = command.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
            sink.lock().unwrap().push_str(EXITED);
        });
        let d = Daemon { child, log, sip_port: base_port, dir };
        // Start-up loads, verifies and exercises both models: seconds on a quiet machine, a
        // minute or more on a loaded one. The bound only keeps a broken daemon from hanging
        // the suite.
        d.wait_for("SIP user agent listening", Duration::from_secs(240));
        if let Some(p) = &prompts {
            copy_prompts(p, &shared_prompts());
        }
        d
    }

    pub fn wait_for(&self, needle: &str, timeout: Duration) {
        if let Err(e) = self.try_wait_for(needle, timeout) {
            panic!("{e}");
        }
    }

    pub fn try_wait_for(&self, needle: &str, timeout: Duration) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            let log = self.log.lock().unwrap();
            if log.contains(needle) {
                return Ok(());
            }
            if log.ends_with(EXITED) {
                return Err(format!("the daemon exited without logging {needle:?}; log:\n{log}"));
            }
            drop(log);
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("daemon did not log {needle:?} within {timeout:?}; log:\n{}", self.log.lock().unwrap()))
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGKILL, as a crash or power cut would end it; the whole log.
    pub fn kill_hard(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, wait, and the whole log.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The script's fixed prompts as the suite's daemons have synthesised them, shared between
/// them. Every test daemon has a fresh state directory, and synthesising the 48 prompts there
/// costs each start about 25 s of CPU: over the suite, a quarter of CI's time. A daemon gets
/// the shared prompts in its own `prompts` directory before it starts, as a restarted box finds
/// its own (`call::prompt_cache`: keyed by voice and wording, so a test's edited wording or
/// voice is still synthesised), and what it synthesised is shared once it is ready. The cold
/// start is still tested: by the first daemon of each run, by `packaging/deb/test.sh` and by
/// `frontdesk bench start`.
fn shared_prompts() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("prompt-cache")
}

/// The absolute `data_dir` of a config, if it has one.
fn data_dir(config: &std::path::Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config).ok()?;
    let dir = text.lines().find_map(|l| l.trim().strip_prefix("data_dir = \"")?.strip_suffix('"').map(PathBuf::from))?;
    dir.is_absolute().then_some(dir)
}

/// Copies the prompt files of `from` that `to` lacks; each is written under a name of its own
/// and renamed into place, so a daemon or test reading `to` meanwhile never sees half a file.
fn copy_prompts(from: &std::path::Path, to: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(from) else { return };
    let _ = std::fs::create_dir_all(to);
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().ends_with(".pcm") || to.join(&name).exists() {
            continue;
        }
        let tmp = to.join(format!(".{}.{}-{:?}", name.to_string_lossy(), std::process::id(), std::thread::current().id()));
        if std::fs::copy(e.path(), &tmp).is_ok() {
            let _ = std::fs::rename(&tmp, to.join(&name));
        }
        let _ = std::fs::remove_file(&tmp);
    }
}

/// The example config with models from the repository, `[sip]` on `base_port` plus
/// `sip_extra`, an RTP range of its own and `tail`, in a fresh scratch directory.
pub fn write_config(name: &str, base_port: u16, sip_extra: &str, tail: &str) -> PathBuf {
    let dir = super::scratch(name);
    let models = super::repo().join("models");
    let mut text =
        std::fs::read_to_string(super::example_config_path()).unwrap().replace("\"../models", &format!("\"{}", models.display()));
    if let Some(pos) = text.find("\n[sip]") {
        text.truncate(pos);
    }
    // Call records of a test stay in its scratch directory.
    text = text.replace("data_dir = \"/var/lib/frontdesk\"", &format!("data_dir = \"{}\"", dir.join("data").display()));
    text = text.replace("key_file = \"/etc/frontdesk/master.key\"", &format!("key_file = \"{}\"", dir.join("etc/master.key").display()));
    // `app = "..."` among a test's [sip] lines chooses the app of [answer].
    let mut sip_lines = Vec::new();
    for line in sip_extra.lines() {
        match line.trim().strip_prefix("app = ") {
            Some(app) => text = text.replacen("\napp = \"conversation\"\n", &format!("\napp = {app}\n"), 1),
            None => sip_lines.push(line),
        }
    }
    let sip_extra = sip_lines.join("\n");
    // A test may give its own listen address (IPv6); the default is loopback IPv4.
    let listen = if sip_extra.contains("listen =") { String::new() } else { format!("listen = \"127.0.0.1:{base_port}\"\n") };
    text.push_str(&format!(
        "\n[sip]\n{listen}{sip_extra}\n[rtp]\nport_min = {}\nport_max = {}\n{tail}\n",
        base_port as u32 * 2 % 20000 + 20000,
        base_port as u32 * 2 % 20000 + 20199
    ));
    let config = dir.join("frontdesk.toml");
    std::fs::write(&config, text).unwrap();
    config
}
