//! `frontdesk bench turns`: turn latency measured on the wire.
//!
//! Listening callers on loopback (`loopback_caller`) call the conversation app of an
//! in-process user agent and ask the clinic's FAQ questions one after the other, as RTP paced at
//! 20 ms. For each turn the latency is the time from the caller's last voiced RTP packet to the
//! first RTP packet of the reply that carries sound: what a caller waits, endpointing included.
//! Where the time goes (endpoint, recognition, synthesis) comes from the records the engine
//! stores.
//!
//! With `--aligned`, the callers wait for each other and ask the same question at the same
//! moment, so every call's turn ends within the same frame: the worst case for a box whose
//! recognition is shared. The latency is then also reported by rank within a turn (the
//! quickest answered caller, the second, ...), which shows whether calls wait for each other.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::config::Config;
use crate::loopback_caller::{Heard, LoopbackCaller};

const QUESTIONS: &[&str] = &["What are your hours?", "Where do I park?", "What is your address?", "What is your fax number?"];
/// The reply is over when the line has been quiet this long (sentence pauses are shorter).
const QUIET_AFTER_REPLY: Duration = Duration::from_millis(1500);

pub fn run(config: &Config, calls: usize, turns: usize, aligned: bool) -> Result<()> {
    println!("# frontdesk bench turns");
    println!();
    let data = std::env::temp_dir().join(format!("frontdesk-bench-turns-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let settings = crate::store::StoreSettings { data_dir: data.join("data"), key_file: data.join("master.key") };
    let store = Arc::new(crate::store::Store::open(&settings, crate::store::Role::Daemon)?);
    let stt = Arc::new(crate::speech::stt::Stt::load(&config.stt_settings())?);
    let voice = Arc::new(crate::speech::tts::Voice::load(&config.tts_settings())?);
    let mut conversation = config.conversation.clone();
    conversation.max_call_s = 3600;
    // The callers time the reply itself: with the hold prompt ("One moment.") on, a late reply
    // would be timed to the hold prompt, and the caller would ask again in the quiet after it.
    // How many turns it would have been said for is counted from the records instead.
    let mut script = config.script();
    script.prompts.hold.clear();
    let shared = Arc::new(crate::call::engine::Shared {
        script: std::sync::RwLock::new(crate::call::flow::Script::new(&script)),
        stt_pool: crate::call::engine::SttPool::start(stt),
        voice: voice.clone(),
        conversation,
        store: Some(store.clone()),
        recording: None,
        prompt_audio: Default::default(),
        closing: Default::default(),
        prompt_cache: None,
        classifier: Default::default(),
    });
    shared.warm()?;
    let questions = Arc::new(questions(config)?);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let cfg = crate::sip::ua::UaConfig {
        outbound: Default::default(),
        listen: "127.0.0.1:0".parse()?,
        public_ip: "127.0.0.1".parse()?,
        allowed_sources: vec!["127.0.0.0/8".into()],
        slots: crate::line::CallSlots::new(calls),
        busy_status: 486,
        ringing: Duration::ZERO,
        codecs: vec![crate::sip::sdp::Codec::Pcmu],
        rtp_ports: (43000, 43999),
        user_agent: "frontdesk-bench".into(),
        registration: None,
        jitter: config.rtp.jitter(),
        tls: None,
        trunk_tls: None,
        media_encryption: Default::default(),
    };
    let app_shared = shared.clone();
    let app: crate::line::Answer = Arc::new(move |leg| {
        crate::call::engine::answer(app_shared.clone(), leg);
    });
    let ua = rt.block_on(crate::sip::ua::UserAgent::bind(cfg, app))?;
    let ua_addr = ua.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = rt.spawn(ua.run(async move {
        let _ = stop_rx.await;
    }));

    let started = Instant::now();
    let together = aligned.then(|| Arc::new(Together::new(calls)));
    let callers: Vec<_> = (0..calls)
        .map(|i| {
            let q = questions.clone();
            let together = together.clone();
            std::thread::spawn(move || {
                let result = caller(i, ua_addr, &q, turns, together.as_deref());
                // A caller that stops lets the others go on without it.
                if let Some(t) = &together {
                    t.leave();
                }
                result
            })
        })
        .collect();
    let mut latencies: Vec<u32> = Vec::new();
    let mut per_call: Vec<Vec<u32>> = Vec::new();
    for c in callers {
        match c.join() {
            Ok(Ok(l)) => {
                latencies.extend_from_slice(&l);
                per_call.push(l);
            }
            Ok(Err(e)) => eprintln!("a caller failed: {e:#}"),
            Err(_) => eprintln!("a caller panicked"),
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let _ = stop_tx.send(());
    let _ = rt.block_on(handle);
    if latencies.is_empty() {
        bail!("no turn was measured");
    }
    latencies.sort_unstable();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    // Where the time went, from the engine's own records of the same turns.
    let mut stages: Vec<crate::record::TurnLatency> = Vec::new();
    for c in store.all()? {
        if let Some(r) = c.record() {
            stages.extend(r.latencies);
        }
    }
    let median = |f: &dyn Fn(&crate::record::TurnLatency) -> u32| {
        let mut v: Vec<u32> = stages.iter().map(f).collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    println!(
        "{calls} simultaneous call(s){}, {} turns in {:.0} s; silence ending a turn: {} ms",
        if aligned { " whose turns end together" } else { "" },
        latencies.len(),
        started.elapsed().as_secs_f64(),
        config.conversation.silence_ms
    );
    println!();
    println!(
        "| calls | turns | p50 on the wire | p95 | median end of turn (silence) | median recognition time | median after the end-of-turn decision (recognition left, reply) |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {calls} | {} | {} ms | {} ms | {} ms | {} ms | {} ms ({} ms, {} ms) |",
        latencies.len(),
        pct(50),
        pct(95),
        median(&|l| l.endpoint_ms),
        median(&|l| l.stt_work_ms),
        median(&|l| l.stt_ms + l.decide_ms + l.tts_ms),
        median(&|l| l.stt_ms),
        median(&|l| l.decide_ms + l.tts_ms)
    );
    let late =
        stages.iter().filter(|l| l.total_ms.saturating_sub(l.endpoint_ms) as u128 > crate::call::engine::HOLD_AFTER.as_millis()).count();
    println!();
    println!(
        "Replies more than {} ms after the end of the turn (a caller hears the hold prompt first): {late} of {}.",
        crate::call::engine::HOLD_AFTER.as_millis(),
        stages.len()
    );
    if aligned && calls > 1 {
        print_by_rank(&per_call);
    }
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// The latency of the quickest caller of each aligned turn, of the second, ...: equal ranks
/// mean the calls did not wait for each other.
fn print_by_rank(per_call: &[Vec<u32>]) {
    let turns = per_call.iter().map(Vec::len).min().unwrap_or(0);
    let mut ranks: Vec<Vec<u32>> = vec![Vec::new(); per_call.len()];
    for t in 0..turns {
        let mut this_turn: Vec<u32> = per_call.iter().map(|l| l[t]).collect();
        this_turn.sort_unstable();
        for (rank, l) in this_turn.into_iter().enumerate() {
            ranks[rank].push(l);
        }
    }
    println!();
    println!("| rank within the turn | turns | p50 on the wire | p95 |");
    println!("|---|---|---|---|");
    for (rank, mut l) in ranks.into_iter().enumerate() {
        if l.is_empty() {
            continue;
        }
        l.sort_unstable();
        let pct = |p: usize| l[(l.len() * p / 100).min(l.len() - 1)];
        println!("| {} | {} | {} ms | {} ms |", rank + 1, l.len(), pct(50), pct(95));
    }
}

/// A meeting point for aligned callers: each waits until every caller still on the line is
/// ready to ask, then all ask at once. A caller that leaves (its call failed) no longer counts,
/// so the others never wait for it forever.
pub(crate) struct Together {
    state: std::sync::Mutex<(usize, usize, u64)>,
    all_here: std::sync::Condvar,
}

impl Together {
    fn new(callers: usize) -> Together {
        // (callers still taking part, callers waiting now, round)
        Together { state: std::sync::Mutex::new((callers, 0, 0)), all_here: std::sync::Condvar::new() }
    }

    /// Waits for the others, at most `limit`; false when they did not all come.
    fn meet(&self, limit: Duration) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let round = s.2;
        s.1 += 1;
        if s.1 >= s.0 {
            (s.1, s.2) = (0, s.2 + 1);
            self.all_here.notify_all();
            return true;
        }
        let (s, timeout) = self.all_here.wait_timeout_while(s, limit, |s| s.2 == round).unwrap_or_else(|p| p.into_inner());
        drop(s);
        !timeout.timed_out()
    }

    fn leave(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 = s.0.saturating_sub(1);
        if s.0 > 0 && s.1 >= s.0 {
            (s.1, s.2) = (0, s.2 + 1);
            self.all_here.notify_all();
        }
    }
}

/// The FAQ questions in our voice without its variation, at 8 kHz: what the callers say.
pub(crate) fn questions(config: &Config) -> Result<Vec<Vec<i16>>> {
    let caller_voice = crate::speech::tts::Voice::load(&config.tts_settings())?.without_variation();
    QUESTIONS
        .iter()
        .map(|q| {
            let a = caller_voice.synthesize(q)?;
            Ok(crate::audio::telephone::to_line_pcm(&a.samples, a.sample_rate)?)
        })
        .collect()
}

/// One caller: dials, then asks `turns` questions, each once the reply to the last is over.
pub(crate) fn caller(index: usize, ua: SocketAddr, questions: &[Vec<i16>], turns: usize, together: Option<&Together>) -> Result<Vec<u32>> {
    let call = LoopbackCaller::dial(&format!("sip:clinic@{ua}"), &format!("bench{index}"))?;
    let give_up = Instant::now() + Duration::from_secs(60 + 30 * turns as u64);
    let mut asked = 0;
    loop {
        match call.wait_reply(QUIET_AFTER_REPLY, give_up.saturating_duration_since(Instant::now())) {
            Heard::Reply(_) if call.latencies().len() >= turns => break,
            Heard::Reply(_) => {
                if let Some(t) = together
                    && !t.meet(give_up.saturating_duration_since(Instant::now()))
                {
                    bail!("the other callers did not come back to ask together");
                }
                call.speak(&questions[asked % questions.len()]);
                asked += 1;
            }
            // The agent ends a call after 40 prompts (the flow's backstop): what was measured
            // until then counts.
            Heard::Ended(_) if !call.latencies().is_empty() => return Ok(call.latencies()),
            Heard::Ended(_) => bail!("the call ended after {asked} questions"),
            Heard::TimedOut => break,
        }
    }
    let latencies = call.latencies();
    call.hang_up(Duration::from_secs(5))?;
    Ok(latencies)
}
