//! SRTP end to end with a real peer: baresip (Debian baresip, its srtp module) calls the
//! daemon over SIP/TLS with SRTP mandatory (SDES keys in the SDP, which only TLS carries). The
//! daemon's announce app plays a sentence in our own voice; baresip decrypts what it receives
//! and records it, and the project's Whisper must find the sentence in that recording. A call in
//! the clear to a box that requires SRTP is refused with 488 and the reason. Everything on
//! 127.0.0.1; the test waits for baresip's call events and the daemon's log lines.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::baresip::{Baresip, Ctrl, Ports, baresip_config, recording, require_baresip};
use common::daemon::Daemon;

const SIP_PORT: u16 = 19900;
const TLS_PORT: u16 = 19901;
const BARESIP: Ports = Ports { sip: 19910, rtp: "36400-36499", ctrl: 19915 };
const SENTENCE: &str = "Your prescription for the blue inhaler is ready at the front desk.";
const KEY_WORDS: &[&str] = &["prescription", "inhaler", "ready", "front", "desk"];

#[test]
fn baresip_over_tls_hears_the_announcement_through_srtp() {
    require_baresip();
    assert!(std::path::Path::new("/usr/lib/baresip/modules/srtp.so").exists(), "baresip's srtp module is missing (make test installs it)");
    let scratch = common::scratch("srtp-certs");
    let pki = common::pki::Pki::new(&scratch, "ca");
    let (cert, key) = pki.issue("sip", "DNS:localhost,IP:127.0.0.1", None);

    // The announcement, in our own voice.
    let announcement = scratch.join("announcement.wav");
    common::say(SENTENCE, &announcement);

    let sip = format!(
        "app = \"announce\"\nmedia_encryption = \"required\"\n[sip.tls]\nlisten = \"127.0.0.1:{TLS_PORT}\"\ncertificate = \"{}\"\nkey = \"{}\"",
        cert.display(),
        key.display()
    );
    let d = Daemon::start("srtp", SIP_PORT, &sip, &format!("play = \"{}\"\nrecord_seconds = 1", announcement.display()));
    d.wait_for("SIP over TLS listening", Duration::from_secs(10));

    // baresip: a TLS account with SRTP mandatory, trusting our CA; silence as its microphone.
    let silence = d.dir.join("silence.wav");
    frontdesk::wav::write_mono_i16(&silence, &vec![0.0f32; 8000 * 30], 8000).unwrap();
    let rec_dir = d.dir.join("rec");
    std::fs::create_dir_all(&rec_dir).unwrap();
    let conf = baresip_config(&d.dir, BARESIP, &silence, &rec_dir);
    let mut config = std::fs::read_to_string(conf.join("config")).unwrap();
    config.push_str(&format!("module\t\t\tsrtp.so\nsip_cafile\t\t{}\n", pki.ca().display()));
    std::fs::write(conf.join("config"), config).unwrap();
    std::fs::write(
        conf.join("accounts"),
        "<sip:caller@127.0.0.1;transport=tls>;regint=0;pubint=0;mwi=no;audio_codecs=pcmu;answermode=manual;mediaenc=srtp-mand\n",
    )
    .unwrap();

    let mut baresip = Baresip::start(&conf, 60);
    let call = (|| -> Result<(), String> {
        let mut ctrl = Ctrl::connect(&mut baresip, BARESIP.ctrl, Duration::from_secs(10))?;
        ctrl.command("dial", &format!("sip:announce@127.0.0.1:{TLS_PORT};transport=tls"))?;
        ctrl.wait_event("CALL_ESTABLISHED", Duration::from_secs(20))?;
        // The announce app plays the sentence, listens a second, and hangs up.
        ctrl.wait_event("CALL_CLOSED", Duration::from_secs(45))?;
        ctrl.command("quit", "")?;
        Ok(())
    })();
    baresip.wait_exit(Duration::from_secs(5));
    let bout = baresip.output();
    let ended = d.try_wait_for("call ended", Duration::from_secs(10));
    let log = d.stop();
    let context = || format!("\n--- baresip output ---\n{bout}\n--- daemon log ---\n{log}");
    if let Err(e) = call.and(ended) {
        panic!("{e}{}", context());
    }

    // Keys went only over TLS, and both sides agreed on SRTP.
    assert!(bout.contains(&format!("INVITE sip:announce@127.0.0.1:{TLS_PORT};transport=tls")), "{}", context());
    assert!(
        bout.matches("RTP/SAVP").count() >= 2 && bout.matches("a=crypto:").count() >= 2,
        "SRTP in the offer and the answer{}",
        context()
    );
    let incoming = log.lines().find(|l| l.contains("incoming call")).unwrap_or_default();
    assert!(incoming.contains("srtp=\"AES_CM_128_HMAC_SHA1_") || incoming.contains("srtp=\"AEAD_AES_128_GCM"), "{}", context());
    let ended = log.lines().find(|l| l.contains("call ended")).unwrap_or_default();
    let field = |k: &str| -> u64 {
        ended.split_whitespace().find_map(|kv| kv.strip_prefix(&format!("{k}="))).and_then(|v| v.parse().ok()).unwrap_or(u64::MAX)
    };
    assert!(field("rtp_received") >= 100 && field("rtp_received") != u64::MAX, "baresip's SRTP decrypted here: {ended}{}", context());
    assert_eq!(field("rtp_invalid"), 0, "every packet authenticated: {ended}{}", context());

    // What baresip decrypted is the sentence.
    let heard_path = recording(&rec_dir).unwrap_or_else(|| panic!("baresip recorded nothing{}", context()));
    let heard = frontdesk::wav::read_mono(&heard_path, 60).unwrap();
    let wide = frontdesk::audio::resample::resample(&heard.samples, heard.sample_rate, 16_000).unwrap();
    let transcript = common::stt().transcriber().unwrap().transcribe(&wide).unwrap();
    let words: String = transcript.text.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    // By prefix: "inhaler is ready" is as often heard "inhalers ready".
    let missing: Vec<&str> = KEY_WORDS.iter().copied().filter(|w| !words.split_whitespace().any(|x| x.starts_with(*w))).collect();
    assert!(missing.is_empty(), "baresip heard {:?}, lacking {missing:?}{}", transcript.text, context());
    eprintln!("baresip heard through SRTP: {:?}", transcript.text);
}

#[test]
fn a_box_that_requires_srtp_refuses_a_call_in_the_clear() {
    let port = 20050;
    let d = Daemon::start("srtp-required", port, "app = \"echo\"\nmedia_encryption = \"required\"", "");
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let local = s.local_addr().unwrap();
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let invite = format!(
        "INVITE sip:frontdesk@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-clear;rport\r\nFrom: <sip:t@127.0.0.1>;tag=a\r\nTo: <sip:frontdesk@127.0.0.1>\r\nCall-ID: srtp-clear\r\nCSeq: 1 INVITE\r\nContact: <sip:t@{local}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    s.send_to(invite.as_bytes(), ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 4096];
    let final_response = loop {
        let n = s.recv(&mut buf).expect("an answer to the INVITE");
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        if !text.starts_with("SIP/2.0 1") {
            break text;
        }
    };
    let log = d.stop();
    assert!(final_response.starts_with("SIP/2.0 488"), "{final_response}");
    assert!(final_response.contains("Warning: 399 frontdesk \"SRTP over TLS is required"), "{final_response}");
    assert!(log.contains("media_encryption is \"required\"") && !log.contains("incoming call"), "{log}");
}
