//! `frontdesk bench speech`: how fast this box hears and speaks.
//!
//! Timings live here and in BENCHMARKS.md, not in tests: a shared CI machine makes timed
//! assertions flaky, while a benchmark run on the target box tells the truth about it.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::audio::g711::Law;
use crate::config::Config;
use crate::speech::stt::{self, AudioContext, Priming, Stt};
use crate::speech::tts::Voice;

/// Utterances of roughly 2, 3 and 5 seconds as the joe voice speaks them.
const UTTERANCES: &[(&str, &str)] = &[
    ("2 s", "I need to book an appointment."),
    ("3 s", "I would like to reschedule my appointment for Tuesday."),
    ("5 s", "Hi, this is Maria Gonzalez, I need a refill of my lisinopril prescription please."),
];

const SHORT_SENTENCE: &str = "Thank you for calling.";
const PARAGRAPH: &str = "Our office is open Monday to Friday from eight a m to five p m. \
    We are located at four hundred Main Street, suite two hundred. \
    Parking is free in the lot behind the building.";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Peak resident memory of this process so far, from the kernel.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub fn speech(config: &Config, iterations: usize, tts_only: bool) -> Result<()> {
    let t = Instant::now();
    let stt_engine = Stt::load(&config.stt_settings())?;
    let stt_load = t.elapsed();
    let t = Instant::now();
    let voice = Voice::load(&config.tts_settings())?;
    let tts_load = t.elapsed();
    let rss_loaded = peak_rss_mib();

    println!("# frontdesk bench speech");
    println!();
    println!("machine: {}", machine_description());
    println!(
        "stt: {} ({} threads); tts: {} ({} threads); {iterations} iterations, medians",
        stt_engine.model_path().display(),
        config.stt.threads,
        config.tts_settings().voice.display(),
        config.tts.threads
    );
    println!(
        "load: stt {:.0} ms, tts {:.0} ms; peak RSS after loading both: {:.0} MiB",
        ms(stt_load),
        ms(tts_load),
        rss_loaded.unwrap_or(0.0)
    );
    println!();
    if !tts_only {
        speech_to_text(&stt_engine, &voice, iterations)?;
    }
    println!("## Text to speech");
    println!();
    let mut first = Vec::new();
    for _ in 0..iterations {
        let t = Instant::now();
        let mut at = None;
        voice.synthesize_streaming(SHORT_SENTENCE, |_| {
            at.get_or_insert(t.elapsed());
            false
        })?;
        first.push(at.unwrap_or_default());
    }
    let mut first_of_paragraph = Vec::new();
    let mut rtf = Vec::new();
    for _ in 0..iterations {
        let t = Instant::now();
        let mut at = None;
        let mut samples = 0usize;
        voice.synthesize_streaming(PARAGRAPH, |s| {
            at.get_or_insert(t.elapsed());
            samples += s.samples.len();
            true
        })?;
        let total = t.elapsed();
        first_of_paragraph.push(at.unwrap_or_default());
        let audio_s = samples as f64 / voice.sample_rate() as f64;
        rtf.push(Duration::from_secs_f64(total.as_secs_f64() / audio_s));
    }
    println!("| measure | value |");
    println!("|---|---|");
    println!("| first audio, short sentence ({SHORT_SENTENCE:?}) | {:.0} ms |", ms(median(first)));
    println!("| first audio, 3-sentence paragraph | {:.0} ms |", ms(median(first_of_paragraph)));
    println!("| real-time factor, paragraph | {:.3} |", median(rtf).as_secs_f64());
    println!();
    println!("peak RSS at end: {:.0} MiB", peak_rss_mib().unwrap_or(0.0));
    Ok(())
}

fn speech_to_text(stt_engine: &Stt, voice: &Voice, iterations: usize) -> Result<()> {
    println!("## Speech to text (Piper audio through 8 kHz mu-law, resampled to 16 kHz)");
    println!();
    // Full and sized contexts primed for medications (the heaviest prompt, as asked "which
    // medication?"); the last timing column is the sized context with the everyday prompt,
    // which most turns use.
    println!("| utterance | audio s | full context ms | sized context ms (frames) | speed-up | sized, everyday words ms | text (sized) |");
    println!("|---|---|---|---|---|---|---|");
    let mut transcriber = stt_engine.transcriber()?;
    let mut rss_first_turn = None;
    for (label, text) in UTTERANCES {
        let audio = voice.synthesize(text)?;
        let phone = crate::audio::telephone::through_g711(&audio.samples, audio.sample_rate, Law::Ulaw)?;
        let input = crate::audio::resample::resample(&phone, crate::audio::telephone::RATE, stt::SAMPLE_RATE)?;
        let seconds = input.len() as f64 / stt::SAMPLE_RATE as f64;
        // One untimed run so both modes start warm; the first sized one is what a call's first
        // turn costs in memory.
        transcriber.transcribe_with(&input, AudioContext::Sized, Priming::Medications)?;
        rss_first_turn.get_or_insert(peak_rss_mib());
        transcriber.transcribe_with(&input, AudioContext::Full, Priming::Medications)?;
        let mut full = Vec::new();
        let mut sized = Vec::new();
        let mut everyday = Vec::new();
        let mut sized_text = String::new();
        let mut frames = 0;
        for _ in 0..iterations {
            full.push(transcriber.transcribe_with(&input, AudioContext::Full, Priming::Medications)?.elapsed);
            everyday.push(transcriber.transcribe_with(&input, AudioContext::Sized, Priming::Everyday)?.elapsed);
            let r = transcriber.transcribe_with(&input, AudioContext::Sized, Priming::Medications)?;
            sized.push(r.elapsed);
            sized_text = r.text;
            frames = r.audio_ctx;
        }
        let (f, s) = (median(full), median(sized));
        println!(
            "| {label} | {seconds:.2} | {:.0} | {:.0} ({frames}) | {:.1}x | {:.0} | {sized_text} |",
            ms(f),
            ms(s),
            f.as_secs_f64() / s.as_secs_f64(),
            ms(median(everyday))
        );
    }
    println!();
    println!(
        "peak RSS after the first sized transcription (both models, one transcriber): {:.0} MiB",
        rss_first_turn.flatten().unwrap_or(0.0)
    );
    println!("peak RSS after full-context runs too: {:.0} MiB", peak_rss_mib().unwrap_or(0.0));
    println!();
    Ok(())
}

pub(crate) fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cpu}, {cores} cores, {}", std::env::consts::ARCH)
}

/// `frontdesk bench rtp`: media pacing under load, SIP parse rate, time to answer.
pub fn rtp(seconds: u64, calls: usize) -> Result<()> {
    use std::net::UdpSocket;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{channel, sync_channel};

    use crate::rtp::session::{MediaChannels, MediaParams, MediaSession, MediaSockets};

    println!("# frontdesk bench rtp");
    println!();
    println!("machine: {}", machine_description());
    println!();

    // 1. Pacing of `calls` simultaneous media threads while both cores spin.
    let stop = Arc::new(AtomicBool::new(false));
    let burners: Vec<_> = (0..std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                }
                x
            })
        })
        .collect();
    let mut sessions = Vec::new();
    let mut sinks = Vec::new();
    for i in 0..calls {
        let sink = UdpSocket::bind("127.0.0.1:0")?;
        sink.set_read_timeout(Some(Duration::from_millis(50)))?;
        let sink_addr = sink.local_addr()?;
        let stop_sink = stop.clone();
        sinks.push(std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut n = 0u64;
            while !stop_sink.load(Ordering::Relaxed) {
                if sink.recv_from(&mut buf).is_ok() {
                    n += 1;
                }
            }
            n
        }));
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        let (to_call, _from_media) = sync_channel(50);
        let (_to_media, from_call) = sync_channel(50);
        let (events, _ev) = channel();
        let params = MediaParams {
            law: Law::Ulaw,
            payload_type: 0,
            telephone_event_pt: Some(101),
            remote: Some(sink_addr),
            send: true,
            jitter: Default::default(),
            srtp: None,
        };
        let s = MediaSession::start(
            MediaSockets { rtp: socket, rtcp: None },
            params,
            MediaChannels { to_call, from_call, events },
            format!("bench-rtp-{i}"),
        )?;
        sessions.push((s, _from_media, _to_media, _ev));
    }
    std::thread::sleep(Duration::from_secs(seconds));
    let mut pacing = crate::rtp::pacing::PacingStats::default();
    let mut sent = 0;
    for (s, ..) in sessions {
        let st = s.stop();
        sent += st.packets_sent;
        pacing.merge(&st.pacing);
    }
    stop.store(true, Ordering::Relaxed);
    for b in burners {
        let _ = b.join();
    }
    let received: u64 = sinks.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    println!("## RTP send pacing: {calls} calls for {seconds} s, every core busy with a spinning thread");
    println!();
    println!("| packets sent | received | p50 deviation from 20 ms | p99 | max |");
    println!("|---|---|---|---|---|");
    println!(
        "| {sent} | {received} | {:.3} ms | {:.3} ms | {:.3} ms |",
        pacing.percentile_us(50) as f64 / 1000.0,
        pacing.percentile_us(99) as f64 / 1000.0,
        pacing.max_us() as f64 / 1000.0
    );
    println!();

    // 2. SIP messages parsed and validated per second.
    let invite = sample_invite("bench-1", "127.0.0.1:5062");
    let policy = crate::sip::wire::Policy {
        methods: &["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY", "REFER"],
        supported_options: &[],
        max_message_bytes: 65_535,
    };
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < Duration::from_secs(2) {
        for _ in 0..1000 {
            let ok = crate::sip::wire::parse(invite.as_bytes(), crate::sip::wire::Transport::Udp, &policy).is_ok();
            std::hint::black_box(ok);
        }
        n += 1000;
    }
    println!("## SIP parsing");
    println!();
    println!(
        "INVITE with SDP ({} bytes), framing + validation + rsip parse: {:.0} messages/s on one core",
        invite.len(),
        n as f64 / t.elapsed().as_secs_f64()
    );
    println!();

    // 3. Time from INVITE to 200 OK, no ringing configured.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let (ua_addr, stop_tx, handle) = start_bench_ua(&rt, 64, (41000, 41999))?;
    let peer = UdpSocket::bind("127.0.0.1:0")?;
    peer.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut times = Vec::new();
    let mut buf = [0u8; 4096];
    for i in 0..20 {
        let call_id = format!("bench-answer-{i}");
        let msg = sample_invite(&call_id, &peer.local_addr()?.to_string());
        let t = Instant::now();
        peer.send_to(msg.as_bytes(), ua_addr)?;
        loop {
            let (n, _) = peer.recv_from(&mut buf)?;
            let text = String::from_utf8_lossy(&buf[..n]);
            if text.starts_with("SIP/2.0 200") {
                times.push(t.elapsed());
                let to_tag =
                    text.lines().find(|l| l.starts_with("To:")).and_then(|l| l.split("tag=").nth(1)).unwrap_or("").trim().to_string();
                let local = peer.local_addr()?;
                let ack = format!(
                    "ACK sip:clinic@{ua_addr} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-a{i}\r\nFrom: <sip:bench@{local}>;tag=b{i}\r\nTo: <sip:clinic@{ua_addr}>;tag={to_tag}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                );
                peer.send_to(ack.as_bytes(), ua_addr)?;
                let bye = format!(
                    "BYE sip:clinic@{ua_addr} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-b{i}\r\nFrom: <sip:bench@{local}>;tag=b{i}\r\nTo: <sip:clinic@{ua_addr}>;tag={to_tag}\r\nCall-ID: {call_id}\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                );
                peer.send_to(bye.as_bytes(), ua_addr)?;
                break;
            }
        }
        // Drain the BYE's answer and any retransmissions before the next call.
        peer.set_read_timeout(Some(Duration::from_millis(100)))?;
        while peer.recv_from(&mut buf).is_ok() {}
        peer.set_read_timeout(Some(Duration::from_secs(2)))?;
    }
    // Busy: one call held up, max_calls reached for the UA below, then INVITEs that must be
    // refused at once.
    let _ = stop_tx.send(());
    let _ = rt.block_on(handle);
    let busy = busy_refusal_times(&rt, 50)?;
    let median_answer = median(times.clone());
    times.sort();
    println!("## Time to answer");
    println!();
    println!(
        "INVITE to 200 OK on loopback, no ringing configured, 20 calls: median {:.2} ms, max {:.2} ms",
        ms(median_answer),
        ms(*times.last().unwrap_or(&Duration::ZERO))
    );
    let mut busy_sorted = busy.clone();
    busy_sorted.sort();
    println!(
        "INVITE to 486 Busy Here past max_calls, {} INVITEs back to back: median {:.2} ms, max {:.2} ms",
        busy.len(),
        ms(median(busy)),
        ms(*busy_sorted.last().unwrap_or(&Duration::ZERO))
    );
    Ok(())
}

/// A user agent on a loopback port with the echo app, stopped by the returned sender.
fn start_bench_ua(
    rt: &tokio::runtime::Runtime,
    max_calls: usize,
    rtp_ports: (u16, u16),
) -> Result<(std::net::SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)> {
    let cfg = crate::sip::ua::UaConfig {
        outbound: Default::default(),
        listen: "127.0.0.1:0".parse()?,
        public_ip: "127.0.0.1".parse()?,
        allowed_sources: vec!["127.0.0.0/8".into()],
        slots: crate::line::CallSlots::new(max_calls),
        busy_status: 486,
        ringing: Duration::ZERO,
        codecs: vec![crate::sip::sdp::Codec::Pcmu],
        rtp_ports,
        user_agent: "frontdesk-bench".into(),
        registration: None,
        jitter: Default::default(),
        tls: None,
        trunk_tls: None,
        media_encryption: Default::default(),
    };
    let app: crate::line::Answer = std::sync::Arc::new(crate::call::apps::echo);
    let ua = rt.block_on(crate::sip::ua::UserAgent::bind(cfg, app))?;
    let addr = ua.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = rt.spawn(ua.run(async move {
        let _ = stop_rx.await;
    }));
    Ok((addr, stop_tx, handle))
}

fn busy_refusal_times(rt: &tokio::runtime::Runtime, count: usize) -> Result<Vec<Duration>> {
    use std::net::UdpSocket;
    let (ua_addr, stop_tx, handle) = start_bench_ua(rt, 1, (42000, 42999))?;
    let peer = UdpSocket::bind("127.0.0.1:0")?;
    peer.set_read_timeout(Some(Duration::from_secs(2)))?;
    let local = peer.local_addr()?.to_string();
    let mut buf = [0u8; 4096];
    // The call that fills the box.
    peer.send_to(sample_invite("busy-holder", &local).as_bytes(), ua_addr)?;
    let mut times = Vec::new();
    for i in 0..count {
        let call_id = format!("busy-{i}");
        let t = Instant::now();
        peer.send_to(sample_invite(&call_id, &local).as_bytes(), ua_addr)?;
        loop {
            let (n, _) = peer.recv_from(&mut buf)?;
            let text = String::from_utf8_lossy(&buf[..n]);
            if text.starts_with("SIP/2.0 486") && text.contains(&format!("Call-ID: {call_id}\r\n")) {
                times.push(t.elapsed());
                let to = text.lines().find(|l| l.starts_with("To:")).unwrap_or("To: <sip:clinic@127.0.0.1>").to_string();
                let ack = format!(
                    "ACK sip:clinic@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call_id};rport\r\nFrom: <sip:bench@{local}>;tag=b-{call_id}\r\n{to}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                );
                peer.send_to(ack.as_bytes(), ua_addr)?;
                break;
            }
        }
    }
    let _ = stop_tx.send(());
    let _ = rt.block_on(handle);
    Ok(times)
}

fn sample_invite(call_id: &str, from: &str) -> String {
    let sdp = "v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n";
    format!(
        "INVITE sip:clinic@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK-{call_id};rport\r\nFrom: <sip:bench@{from}>;tag=b-{call_id}\r\nTo: <sip:clinic@127.0.0.1>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:bench@{from}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}
