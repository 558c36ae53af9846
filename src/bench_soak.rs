//! `frontdesk bench start` and `frontdesk bench soak`: how long the real daemon takes from start
//! to READY=1, and whether its memory stays flat over hundreds of calls.
//!
//! Both start this binary as `frontdesk run` on a scratch copy of the config (loopback only,
//! records in a scratch directory; see `bench_memory`). Start-up is timed to the READY=1 that
//! systemd would receive, read from a notify socket of our own. The first start of a scratch
//! directory synthesises every fixed prompt; later ones read them back (`call::prompt_cache`),
//! as a box's restarts do. The soak places short calls (greeting, one question, hang up) in
//! batches and reads VmRSS once each batch has ended: a leak shows as a slope.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench_memory::{Daemon, START_TIMEOUT, free_port, scratch_config, status};
use crate::config::Config;

/// Starts the daemon and times it to READY=1 on its notify socket.
fn start_timed(scratch: &std::path::Path, dir: &std::path::Path) -> Result<(Daemon, Duration)> {
    let sock_path = dir.join("notify.sock");
    let _ = std::fs::remove_file(&sock_path);
    let sock = UnixDatagram::bind(&sock_path)?;
    sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    let started = Instant::now();
    let mut daemon = Daemon::start_env(scratch, dir.to_path_buf(), &[("NOTIFY_SOCKET", sock_path.to_str().context("path")?)])?;
    let mut buf = [0u8; 4096];
    loop {
        if let Ok(n) = sock.recv(&mut buf)
            && String::from_utf8_lossy(&buf[..n]).lines().any(|l| l == "READY=1")
        {
            return Ok((daemon, started.elapsed()));
        }
        if started.elapsed() > START_TIMEOUT {
            bail!("no READY=1 within {START_TIMEOUT:?}");
        }
        daemon.check_alive()?;
    }
}

fn scratch(label: &str, config: &Config) -> Result<(std::path::PathBuf, std::path::PathBuf, u16)> {
    let dir = std::env::temp_dir().join(format!("frontdesk-bench-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let path = scratch_config(config, &dir, port)?;
    Ok((dir, path, port))
}

/// `bench start`: `runs` starts on one scratch directory; the first makes the prompts.
pub fn start(config: &Config, runs: usize) -> Result<()> {
    println!("# frontdesk bench start");
    println!();
    println!("machine: {}", crate::bench::machine_description());
    println!();
    println!("| start | to READY=1 | prompts |");
    println!("|---|---|---|");
    let (dir, path, _) = scratch("start", config)?;
    let mut warm = Vec::new();
    for run in 0..runs.max(2) {
        let (daemon, took) = start_timed(&path, &dir)?;
        let prompts = std::fs::read_dir(dir.join("data/prompts")).map(|d| d.count()).unwrap_or(0);
        let label = if run == 0 { "first (empty state directory)" } else { "again (prompts kept)" };
        println!("| {label} | {:.2} s | {prompts} kept |", took.as_secs_f64());
        if run > 0 {
            warm.push(took);
        }
        // A clean stop: the next start finds what a restart finds.
        daemon.stop_keeping_dir()?;
    }
    warm.sort();
    let median = warm[warm.len() / 2];
    println!();
    println!(
        "target: a restart ready within 5 s: {} (median {:.2} s; page cache warm)",
        if median <= Duration::from_secs(5) { "met" } else { "NOT met" },
        median.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `bench soak`: `calls` short calls, `batch` at a time; VmRSS after each batch.
pub fn soak(config: &Config, calls: usize, batch: usize) -> Result<()> {
    println!("# frontdesk bench soak");
    println!();
    println!("machine: {}", crate::bench::machine_description());
    let questions = crate::bench_turns::questions(config)?;
    let (dir, path, port) = scratch("soak", config)?;
    let (daemon, took) = start_timed(&path, &dir)?;
    let pid = daemon.pid();
    println!("daemon ready after {:.1} s; {calls} calls, {batch} at a time, one question each", took.as_secs_f64());
    println!();
    println!("| calls done | VmRSS (idle after the batch) | RssAnon | threads |");
    println!("|---|---|---|---|");
    let ua: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let questions = std::sync::Arc::new(questions);
    let mut done = 0;
    let mut failed = 0;
    let mut samples: Vec<(usize, u64)> = Vec::new();
    while done < calls {
        let n = batch.min(calls - done);
        let callers: Vec<_> = (0..n)
            .map(|i| {
                let q = questions.clone();
                std::thread::spawn(move || crate::bench_turns::caller(done + i, ua, &q, 1, None))
            })
            .collect();
        for c in callers {
            if !matches!(c.join(), Ok(Ok(_))) {
                failed += 1;
            }
        }
        done += n;
        // The calls' threads end once their records are sealed.
        std::thread::sleep(Duration::from_secs(1));
        let s = status(pid)?;
        samples.push((done, s.rss));
        if samples.len() == 1 || done % (batch * 10) == 0 || done == calls {
            println!("| {done} | {:.0} MiB | {:.0} MiB | {} |", s.rss as f64 / 1024.0, s.anon as f64 / 1024.0, s.threads);
        }
    }
    daemon.stop()?;
    // Growth per 100 calls over the second half (the first calls fill caches and arenas).
    let half = &samples[samples.len() / 2..];
    let (first, last) = (half.first().context("no samples")?, half.last().context("no samples")?);
    let per_100 = if last.0 > first.0 { (last.1 as f64 - first.1 as f64) / 1024.0 * 100.0 / (last.0 - first.0) as f64 } else { 0.0 };
    println!();
    println!("calls that failed: {failed}");
    println!(
        "VmRSS growth over the second half: {per_100:+.1} MiB per 100 calls (flat within 2 MiB: {})",
        if per_100.abs() <= 2.0 { "yes" } else { "NO" }
    );
    Ok(())
}
