//! `frontdesk bench memory`: what the real daemon holds resident, idle and with calls up.
//!
//! Starts this binary as `frontdesk run` on a scratch copy of the config (its own data
//! directory and key, SIP and RTP on loopback), waits for its "SIP user agent listening" line,
//! and reads the kernel's accounts of it: `/proc/PID/status` (VmRSS, VmHWM, RssAnon, RssFile)
//! and `/proc/PID/smaps` (resident memory by mapping). Then listening callers on loopback call
//! it at once and ask the FAQ questions of `bench turns`, while the peak is tracked (VmHWM is
//! reset first through `/proc/PID/clear_refs`). Everything is bounded in time and stays on
//! 127.0.0.1; the daemon is stopped with SIGTERM at the end, or killed if the bench fails.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::config::Config;

/// How long start-up (model checks, loading, prompt synthesis, self-test) may take.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(300);
pub(crate) const READY_LINE: &str = "SIP user agent listening";

/// The kernel's figures for one process, in KiB.
#[derive(Debug, Default, Clone, Copy)]
pub struct Status {
    pub rss: u64,
    pub hwm: u64,
    pub anon: u64,
    pub file: u64,
    pub threads: u64,
}

pub fn status(pid: u32) -> Result<Status> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        text.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    Ok(Status { rss: field("VmRSS:"), hwm: field("VmHWM:"), anon: field("RssAnon:"), file: field("RssFile:"), threads: field("Threads:") })
}

/// One mapping of `/proc/PID/smaps`.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub name: String,
    pub size_kib: u64,
    pub rss_kib: u64,
}

pub fn mappings(pid: u32) -> Result<Vec<Mapping>> {
    Ok(parse_smaps(&std::fs::read_to_string(format!("/proc/{pid}/smaps"))?))
}

/// Mappings with their size and resident part; anonymous ones are named `[anon]`.
pub fn parse_smaps(text: &str) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16))
        {
            let name = fields.nth(4).map(str::to_string).unwrap_or_else(|| "[anon]".into());
            out.push(Mapping { name, size_kib: (b - a) / 1024, rss_kib: 0 });
        } else if first == "Rss:"
            && let Some(m) = out.last_mut()
        {
            m.rss_kib = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        }
    }
    out
}

/// Resident memory by kind of mapping: the main heap, large anonymous mappings (model
/// weights, inference buffers: single allocations of 8 MiB and more, or merged runs of them),
/// the rest of the anonymous memory (thread heaps, stacks, small mappings) and each file.
pub fn breakdown(maps: &[Mapping]) -> Vec<(String, u64)> {
    let mut by: std::collections::BTreeMap<String, u64> = Default::default();
    for m in maps {
        let key = match m.name.as_str() {
            "[heap]" => "[heap] (main thread's malloc heap)".to_string(),
            "[anon]" if m.rss_kib >= 8 * 1024 => "anonymous mappings of 8 MiB or more resident".to_string(),
            "[anon]" | "[stack]" => "other anonymous (thread heaps, stacks)".to_string(),
            name if name.starts_with('[') => "other".to_string(),
            name => Path::new(name).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        };
        *by.entry(key).or_default() += m.rss_kib;
    }
    let mut v: Vec<(String, u64)> = by.into_iter().filter(|(_, kib)| *kib >= 1024).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1));
    v
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

/// The daemon under test: a child process whose log is collected.
pub(crate) struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
    dir: PathBuf,
}

impl Daemon {
    pub(crate) fn start(config: &Path, dir: PathBuf) -> Result<Daemon> {
        Daemon::start_env(config, dir, &[])
    }

    pub(crate) fn start_env(config: &Path, dir: PathBuf, env: &[(&str, &str)]) -> Result<Daemon> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start the daemon")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut l = sink.lock().unwrap_or_else(|p| p.into_inner());
                l.push_str(&line);
                l.push('\n');
            }
        });
        Ok(Daemon { child, log, dir })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self.log.lock().unwrap_or_else(|p| p.into_inner()).contains(needle) {
                return Ok(());
            }
            if let Some(exit) = self.child.try_wait()? {
                bail!("the daemon exited ({exit}) before logging {needle:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the daemon did not log {needle:?} within {timeout:?}:\n{}", self.log())
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Resets the kernel's peak (VmHWM) to the current RSS, so the next peak is of what follows.
    fn reset_peak(&self) -> Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").context("cannot reset VmHWM through clear_refs")
    }

    /// An error if the daemon has exited (with its log).
    pub(crate) fn check_alive(&mut self) -> Result<()> {
        if let Some(exit) = self.child.try_wait()? {
            bail!("the daemon exited ({exit}):\n{}", self.log());
        }
        Ok(())
    }

    /// As `stop`, leaving the scratch directory for the next start.
    pub(crate) fn stop_keeping_dir(mut self) -> Result<()> {
        self.dir = PathBuf::new();
        self.stop()
    }

    pub(crate) fn stop(mut self) -> Result<()> {
        let pid = self.pid().to_string();
        Command::new("kill").arg("-TERM").arg(&pid).status()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the daemon did not stop within 20 s of SIGTERM")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A free loopback UDP port (for SIP), and the start of a free range of RTP ports near it.
pub(crate) fn free_port() -> Result<u16> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The config as the daemon under test reads it: paths made absolute, records in `dir`, one
/// SIP line on loopback, the conversation answering every call.
pub(crate) fn scratch_config(config: &Config, dir: &Path, sip_port: u16) -> Result<PathBuf> {
    let text = std::fs::read_to_string(&config.path).with_context(|| format!("cannot read {}", config.path.display()))?;
    let mut table: toml::Table = toml::from_str(&text)?;
    let absolute = |table: &mut toml::Table, section: &str, key: &str| {
        if let Some(toml::Value::Table(s)) = table.get_mut(section)
            && let Some(toml::Value::String(p)) = s.get_mut(key)
        {
            let resolved = config.resolve(Path::new(p.as_str()));
            *p = std::path::absolute(&resolved).unwrap_or(resolved).display().to_string();
        }
    };
    for (section, key) in
        [("speech", "onnxruntime"), ("speech", "espeak_data"), ("stt", "model"), ("tts", "voice"), ("models", "checksums")]
    {
        absolute(&mut table, section, key);
    }
    let section = |pairs: &[(&str, toml::Value)]| toml::Value::Table(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect());
    let s = |v: &str| toml::Value::String(v.to_string());
    table.insert(
        "store".into(),
        section(&[
            ("data_dir", s(&dir.join("data").display().to_string())),
            ("key_file", s(&dir.join("master.key").display().to_string())),
        ]),
    );
    table.insert("sip".into(), section(&[("listen", s(&format!("127.0.0.1:{sip_port}")))]));
    table.remove("registration");
    let rtp_min = 20_000 + (sip_port as i64 % 20_000);
    let mut rtp = match table.remove("rtp") {
        Some(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    rtp.insert("port_min".into(), toml::Value::Integer(rtp_min));
    rtp.insert("port_max".into(), toml::Value::Integer(rtp_min + 199));
    table.insert("rtp".into(), toml::Value::Table(rtp));
    table.insert("answer".into(), section(&[("app", s("conversation"))]));
    table.insert("logging".into(), section(&[("level", s("info")), ("patient_data", toml::Value::Boolean(false))]));
    let path = dir.join("frontdesk.toml");
    std::fs::write(&path, toml::to_string(&table)?)?;
    Ok(path)
}

fn print_state(label: &str, s: &Status) {
    println!("| {label} | {} | {} | {} | {} | {} |", mib(s.rss), mib(s.anon), mib(s.file), mib(s.hwm), s.threads);
}

pub fn run(config: &Config, calls: usize, turns: usize) -> Result<()> {
    println!("# frontdesk bench memory");
    println!();
    println!("machine: {}", crate::bench::machine_description());
    let dir = std::env::temp_dir().join(format!("frontdesk-bench-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let sip_port = free_port()?;
    let scratch = scratch_config(config, &dir, sip_port)?;

    // The callers' questions, in our own voice, made before the daemon starts so their
    // synthesis does not share the cores with its start-up.
    let questions = if calls > 0 { crate::bench_turns::questions(config)? } else { Vec::new() };

    let started = Instant::now();
    let mut daemon = Daemon::start(&scratch, dir)?;
    daemon.wait_for(READY_LINE, START_TIMEOUT)?;
    let ready_after = started.elapsed();
    // Let the threads that start with the line settle.
    std::thread::sleep(Duration::from_secs(2));
    let pid = daemon.pid();
    let idle = status(pid)?;
    let idle_maps = mappings(pid)?;
    println!("daemon ready after {:.1} s (pid {pid}, SIP on 127.0.0.1:{sip_port})", ready_after.as_secs_f64());
    println!();
    println!("| state | VmRSS | RssAnon | RssFile | peak (VmHWM) | threads |");
    println!("|---|---|---|---|---|---|");
    print_state("idle after start-up (peak: start-up)", &idle);

    let mut during = None;
    let mut after = None;
    if calls > 0 {
        daemon.reset_peak()?;
        let ua: SocketAddr = format!("127.0.0.1:{sip_port}").parse()?;
        let questions = Arc::new(questions);
        let max_rss = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let max_threads = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let (max_rss, max_threads, done) = (max_rss.clone(), max_threads.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    if let Ok(s) = status(pid) {
                        max_rss.fetch_max(s.rss, std::sync::atomic::Ordering::Relaxed);
                        max_threads.fetch_max(s.threads, std::sync::atomic::Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let callers: Vec<_> = (0..calls)
            .map(|i| {
                let q = questions.clone();
                std::thread::spawn(move || crate::bench_turns::caller(i, ua, &q, turns, None))
            })
            .collect();
        let mut answered = 0;
        for c in callers {
            match c.join() {
                Ok(Ok(l)) => answered += l.len(),
                Ok(Err(e)) => eprintln!("a caller failed: {e:#}"),
                Err(_) => eprintln!("a caller panicked"),
            }
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = sampler.join();
        let mut d = status(pid)?;
        d.rss = max_rss.load(std::sync::atomic::Ordering::Relaxed).max(d.rss);
        d.threads = max_threads.load(std::sync::atomic::Ordering::Relaxed).max(d.threads);
        print_state(&format!("{calls} calls at once, {answered} turns answered (VmRSS, threads: highest sampled)"), &d);
        during = Some(d);
        // The calls' threads end once their records are sealed.
        std::thread::sleep(Duration::from_secs(3));
        let a = status(pid)?;
        print_state("idle again, 3 s after the calls", &a);
        after = Some(a);
    }
    println!();
    println!("Resident memory by mapping, idle after start-up:");
    println!();
    println!("| mapping | resident |");
    println!("|---|---|");
    for (name, kib) in breakdown(&idle_maps) {
        println!("| {name} | {} |", mib(kib));
    }
    println!();
    println!("Largest anonymous mappings, idle after start-up:");
    println!();
    println!("| size | resident |");
    println!("|---|---|");
    let mut anon: Vec<&Mapping> = idle_maps.iter().filter(|m| m.name == "[anon]" || m.name == "[heap]").collect();
    anon.sort_by(|a, b| b.rss_kib.cmp(&a.rss_kib));
    for m in anon.iter().take(8).filter(|m| m.rss_kib >= 4096) {
        println!("| {} {} | {} |", mib(m.size_kib), if m.name == "[heap]" { "[heap]" } else { "" }, mib(m.rss_kib));
    }
    daemon.stop()?;
    println!();
    let within = |s: &Status, limit_mb: u64| if s.rss * 1024 <= limit_mb * 1_000_000 { "met" } else { "NOT met" };
    println!("target idle at most 300 MB: {} ({} MB)", within(&idle, 300), idle.rss * 1024 / 1_000_000);
    if let Some(d) = during {
        println!("target {calls} calls at most 400 MB: {} ({} MB)", within(&d, 400), d.rss * 1024 / 1_000_000);
    }
    let _ = after;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a8000000 rw-p 00000000 00:00 0                          [heap]
Size:             131072 kB
Rss:               40960 kB
7f0000000000-7f0002000000 rw-p 00000000 00:00 0 
Size:              32768 kB
Rss:               32000 kB
7f0003000000-7f0003100000 rw-p 00000000 00:00 0 
Size:               1024 kB
Rss:                1024 kB
7f0004000000-7f0005000000 r-xp 00001000 fe:00 42                         /opt/lib/libonnxruntime.so.1.31.1
Size:              16384 kB
Rss:               16000 kB
";

    #[test]
    fn smaps_mappings_are_read_and_grouped() {
        let maps = parse_smaps(SMAPS);
        assert_eq!(maps.len(), 4);
        assert_eq!(maps[1].name, "[anon]");
        assert_eq!(maps[1].size_kib, 32768);
        assert_eq!(maps[3].rss_kib, 16000);
        let b = breakdown(&maps);
        assert_eq!(b[0], ("[heap] (main thread's malloc heap)".to_string(), 40960));
        assert_eq!(b[1], ("anonymous mappings of 8 MiB or more resident".to_string(), 32000));
        assert_eq!(b[2], ("libonnxruntime.so.1.31.1".to_string(), 16000));
        assert_eq!(b[3], ("other anonymous (thread heaps, stacks)".to_string(), 1024));
    }
}
