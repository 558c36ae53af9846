//! `frontdesk bench turns`: turn latency measured on the wire.
//!
//! Callers made of a SIP socket and an RTP socket on loopback call the conversation app of an
//! in-process user agent and ask the clinic's FAQ questions one after the other, as RTP paced at
//! 20 ms. For each turn the latency is the time from the caller's last voiced RTP packet to the
//! first RTP packet of the reply that carries sound: what a caller waits, endpointing included.
//! Where the time goes (endpoint, recognition, synthesis) comes from the records the engine
//! stores.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::audio::g711::Law;
use crate::config::Config;
use crate::line::FRAME_SAMPLES;
use crate::rtp::packet::{RtpHeader, RtpPacket};

const QUESTIONS: &[&str] = &["What are your hours?", "Where do I park?", "What is your address?", "What is your fax number?"];
/// The reply is over when the line has been quiet this long (sentence pauses are shorter).
const QUIET_AFTER_REPLY: Duration = Duration::from_millis(1500);

pub fn run(config: &Config, calls: usize, turns: usize) -> Result<()> {
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
    let shared = Arc::new(crate::call::engine::Shared {
        script: std::sync::RwLock::new(crate::call::flow::Script::from_config(config)),
        stt_pool: crate::call::engine::SttPool::start(stt),
        voice: voice.clone(),
        conversation,
        store: Some(store.clone()),
        recording: None,
        prompt_audio: Default::default(),
    });
    shared.warm()?;
    let caller_voice = crate::speech::tts::Voice::load(&config.tts_settings())?.without_variation();
    let questions: Vec<Vec<i16>> = QUESTIONS
        .iter()
        .map(|q| {
            let a = caller_voice.synthesize(q)?;
            let narrow = crate::audio::resample::resample(&a.samples, a.sample_rate, 8000)?;
            Ok(narrow.iter().map(|&x| crate::audio::resample::f32_to_i16(x)).collect())
        })
        .collect::<Result<_>>()?;
    let questions = Arc::new(questions);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let cfg = crate::sip::ua::UaConfig {
        outbound: Default::default(),
        listen: "127.0.0.1:0".parse()?,
        public_ip: "127.0.0.1".parse()?,
        allowed_sources: vec!["127.0.0.0/8".into()],
        max_calls: calls,
        busy_status: 486,
        ringing: Duration::ZERO,
        codecs: vec![crate::sip::sdp::Codec::Pcmu],
        rtp_ports: (43000, 43999),
        user_agent: "frontdesk-bench".into(),
        log_secret: vec![7],
        registration: None,
        jitter: config.rtp.jitter(),
    };
    let app_shared = shared.clone();
    let app: crate::sip::ua::AppFactory = Arc::new(move |leg| crate::call::engine::answer(app_shared.clone(), leg));
    let ua = rt.block_on(crate::sip::ua::UserAgent::bind(cfg, app))?;
    let ua_addr = ua.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = rt.spawn(ua.run(async move {
        let _ = stop_rx.await;
    }));

    let started = Instant::now();
    let callers: Vec<_> = (0..calls)
        .map(|i| {
            let q = questions.clone();
            std::thread::spawn(move || caller(i, ua_addr, &q, turns))
        })
        .collect();
    let mut latencies: Vec<u32> = Vec::new();
    for c in callers {
        match c.join() {
            Ok(Ok(mut l)) => latencies.append(&mut l),
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
    let mut stages: Vec<crate::call::record::TurnLatency> = Vec::new();
    for c in store.all()? {
        if let Some(r) = c.record() {
            stages.extend(r.latencies);
        }
    }
    let median = |f: &dyn Fn(&crate::call::record::TurnLatency) -> u32| {
        let mut v: Vec<u32> = stages.iter().map(f).collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    println!(
        "{calls} simultaneous call(s), {} turns in {:.0} s; silence ending a turn: {} ms",
        latencies.len(),
        started.elapsed().as_secs_f64(),
        config.conversation.silence_ms
    );
    println!();
    println!("| calls | turns | p50 on the wire | p95 | median end of turn (silence) | median recognition time | median after the end-of-turn decision (recognition left, reply) |");
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
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// One caller: INVITE, then `turns` questions, each sent once the reply to the last is over.
fn caller(index: usize, ua: SocketAddr, questions: &[Vec<i16>], turns: usize) -> Result<Vec<u32>> {
    let sip = UdpSocket::bind("127.0.0.1:0")?;
    sip.set_read_timeout(Some(Duration::from_secs(5)))?;
    let rtp = UdpSocket::bind("127.0.0.1:0")?;
    rtp.set_read_timeout(Some(Duration::from_millis(5)))?;
    let local = sip.local_addr()?;
    let rtp_port = rtp.local_addr()?.port();
    let call_id = format!("bench-turns-{index}-{}", std::process::id());
    let sdp = format!("v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n");
    let invite = format!(
        "INVITE sip:clinic@{ua} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call_id};rport\r\nFrom: <sip:bench@{local}>;tag=t-{call_id}\r\nTo: <sip:clinic@{ua}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:bench@{local}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    sip.send_to(invite.as_bytes(), ua)?;
    let mut buf = [0u8; 4096];
    let (to_tag, remote_rtp) = loop {
        let (n, _) = sip.recv_from(&mut buf).context("no answer to the INVITE")?;
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        if text.starts_with("SIP/2.0 200") {
            let tag = text.lines().find(|l| l.starts_with("To:")).and_then(|l| l.split("tag=").nth(1)).unwrap_or("").trim().to_string();
            let port: u16 = text.lines().find_map(|l| l.strip_prefix("m=audio ")).and_then(|l| l.split_whitespace().next()).and_then(|p| p.parse().ok()).context("no m=audio in the answer")?;
            break (tag, SocketAddr::new("127.0.0.1".parse()?, port));
        }
        if text.starts_with("SIP/2.0 4") || text.starts_with("SIP/2.0 5") {
            bail!("call refused: {}", text.lines().next().unwrap_or(""));
        }
    };
    let ack = format!("ACK sip:clinic@{ua} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-ack-{call_id}\r\nFrom: <sip:bench@{local}>;tag=t-{call_id}\r\nTo: <sip:clinic@{ua}>;tag={to_tag}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    sip.send_to(ack.as_bytes(), ua)?;

    let mut seq: u16 = 1;
    let mut ts: u32 = 0;
    let ssrc = 0x0bec_0000 + index as u32;
    let start = Instant::now();
    let mut tick: u64 = 0;
    let mut out = [0u8; 12 + FRAME_SAMPLES];
    let mut payload = [0u8; FRAME_SAMPLES];
    let mut last_sound = Instant::now();
    let mut heard_reply = false;
    let mut speaking: Option<(usize, usize)> = None; // (question, sample offset)
    let mut last_voiced_sent: Option<Instant> = None;
    let mut latencies = Vec::new();
    let mut asked = 0;
    let give_up = Instant::now() + Duration::from_secs(60 + 30 * turns as u64);
    while latencies.len() < turns && Instant::now() < give_up {
        // Our 20 ms: a slice of the question being asked, else silence.
        let mut frame = [0i16; FRAME_SAMPLES];
        if let Some((q, off)) = speaking {
            let audio = &questions[q];
            let end = (off + FRAME_SAMPLES).min(audio.len());
            frame[..end - off].copy_from_slice(&audio[off..end]);
            if frame.iter().any(|s| s.unsigned_abs() > 1000) {
                last_voiced_sent = Some(Instant::now());
            }
            speaking = if end >= audio.len() { None } else { Some((q, end)) };
        }
        Law::Ulaw.encode(&frame, &mut payload);
        let header = RtpHeader { marker: tick == 0, payload_type: 0, sequence: seq, timestamp: ts, ssrc };
        let n = crate::rtp::packet::build(&header, &payload, &mut out)?;
        rtp.send_to(&out[..n], remote_rtp)?;
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(FRAME_SAMPLES as u32);
        // Everything the box sent meanwhile.
        let deadline = start + Duration::from_millis(20 * (tick + 1));
        while Instant::now() < deadline {
            let Ok((n, _)) = rtp.recv_from(&mut buf) else { continue };
            let Ok(pkt) = RtpPacket::new_checked(&buf[..n]) else { continue };
            let mut pcm = [0i16; FRAME_SAMPLES];
            let len = pkt.payload().len().min(FRAME_SAMPLES);
            Law::Ulaw.decode(&pkt.payload()[..len], &mut pcm[..len]);
            if pcm.iter().any(|s| s.unsigned_abs() > 500) {
                let now = Instant::now();
                if speaking.is_none()
                    && let Some(sent) = last_voiced_sent.take()
                {
                    latencies.push(now.duration_since(sent).as_millis() as u32);
                }
                last_sound = now;
                heard_reply = true;
            }
        }
        tick += 1;
        // The reply is over: ask the next question.
        if speaking.is_none() && last_voiced_sent.is_none() && heard_reply && last_sound.elapsed() >= QUIET_AFTER_REPLY {
            speaking = Some((asked % questions.len(), 0));
            asked += 1;
            heard_reply = false;
        }
    }
    let bye = format!("BYE sip:clinic@{ua} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-bye-{call_id}\r\nFrom: <sip:bench@{local}>;tag=t-{call_id}\r\nTo: <sip:clinic@{ua}>;tag={to_tag}\r\nCall-ID: {call_id}\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    sip.send_to(bye.as_bytes(), ua)?;
    Ok(latencies)
}
