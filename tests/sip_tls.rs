//! SIP over TLS into the real daemon (`[sip.tls]`), with a certificate made here by openssl
//! for 127.0.0.1 and a client of our own on rustls (Debian's sipp has no TLS): a call set up
//! and ended over one TLS connection, whose dialog stays on TLS (Contact `transport=tls`); an
//! old TLS version refused with a log line; a client that never finishes its handshake cut
//! off; one address opening too many connections refused. Everything on 127.0.0.1; each step
//! waits for an answer, a close or a log line.

mod common;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::daemon::Daemon;
use tokio_rustls::rustls;

/// A CA (`ca.pem`) and a server certificate for localhost and 127.0.0.1 (`sip.pem`,
/// `sip.key`), in `dir`.
fn certificates(dir: &Path) {
    common::pki::Pki::new(dir, "ca").issue("sip", "DNS:localhost,IP:127.0.0.1", None);
}

/// A TLS client trusting only the test CA.
fn connect(dir: &Path, port: u16) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(dir.join("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

/// Reads one SIP message (head and Content-Length body) from the stream.
fn read_message(s: &mut impl Read) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).expect("a SIP message");
        assert!(n == 1, "the connection closed: {}", String::from_utf8_lossy(&buf));
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let len: usize =
        head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())).unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

/// Reads messages until a final response (>= 200) to `method`.
fn final_response(s: &mut impl Read, method: &str) -> String {
    loop {
        let m = read_message(s);
        let status: u16 = m.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        if status >= 200 && m.contains(&format!(" {method}\r\n")) {
            return m;
        }
    }
}

fn header<'a>(msg: &'a str, name: &str) -> &'a str {
    msg.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap_or("")
}

#[test]
fn a_call_over_tls_stays_on_tls_and_bad_clients_are_refused() {
    let port = 17060;
    let tls_port = 17061;
    let dir = std::env::temp_dir().join(format!("frontdesk-tls-certs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    certificates(&dir);
    let sip = format!(
        "app = \"echo\"\n[sip.tls]\nlisten = \"127.0.0.1:{tls_port}\"\ncertificate = \"{}\"\nkey = \"{}\"",
        dir.join("sip.pem").display(),
        dir.join("sip.key").display()
    );
    let d = Daemon::start("tls", port, &sip, "");
    d.wait_for("SIP over TLS listening", Duration::from_secs(10));

    // OPTIONS, then a whole call, on one connection.
    let mut s = connect(&dir, tls_port);
    let local = s.sock.local_addr().unwrap();
    let via = |branch: &str| format!("Via: SIP/2.0/TLS {local};branch=z9hG4bK-{branch};rport");
    let options = format!(
        "OPTIONS sips:frontdesk@127.0.0.1:{tls_port} SIP/2.0\r\n{}\r\nFrom: <sips:tester@localhost>;tag=t1\r\nTo: <sips:frontdesk@127.0.0.1>\r\nCall-ID: tls-options\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        via("opt")
    );
    s.write_all(options.as_bytes()).unwrap();
    let answer = final_response(&mut s, "OPTIONS");
    assert!(answer.starts_with("SIP/2.0 200"), "{answer}");
    let version = s.conn.protocol_version();
    assert!(matches!(version, Some(rustls::ProtocolVersion::TLSv1_3)), "{version:?}");

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        rtp.local_addr().unwrap().port()
    );
    let invite = format!(
        "INVITE sips:frontdesk@127.0.0.1:{tls_port} SIP/2.0\r\n{}\r\nFrom: <sips:tester@localhost>;tag=t2\r\nTo: <sips:frontdesk@127.0.0.1>\r\nCall-ID: tls-call\r\nCSeq: 1 INVITE\r\nContact: <sip:tester@{local};transport=tls>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        via("inv"),
        sdp.len()
    );
    s.write_all(invite.as_bytes()).unwrap();
    let ok = final_response(&mut s, "INVITE");
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    let contact = header(&ok, "Contact");
    assert!(contact.contains(&format!(":{tls_port};transport=tls")), "the dialog must stay on TLS: {contact}");
    let to = header(&ok, "To").to_string();
    // ACK and BYE in the dialog: our To tag, the call's From, each its CSeq.
    let in_dialog = |method: &str, cseq: u32, branch: &str| {
        format!(
            "{method} sips:frontdesk@127.0.0.1:{tls_port} SIP/2.0\r\n{}\r\nFrom: <sips:tester@localhost>;tag=t2\r\nTo: {to}\r\nCall-ID: tls-call\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            via(branch)
        )
    };
    s.write_all(in_dialog("ACK", 1, "ack").as_bytes()).unwrap();
    d.wait_for("incoming call", Duration::from_secs(10));
    s.write_all(in_dialog("BYE", 2, "bye").as_bytes()).unwrap();
    let bye_ok = final_response(&mut s, "BYE");
    assert!(bye_ok.starts_with("SIP/2.0 200"), "{bye_ok}");
    d.wait_for("call ended", Duration::from_secs(10));

    // TLS 1.1 offered: refused in the handshake, and the log says so.
    let old = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{tls_port}"), "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!old.status.success(), "TLS 1.1 must be refused: {}", String::from_utf8_lossy(&old.stdout));
    d.wait_for("sip.tls: handshake refused", Duration::from_secs(10));

    // A client that connects and says nothing is cut off after the handshake limit.
    let mut idle = TcpStream::connect(("127.0.0.1", tls_port)).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut b = [0u8; 16];
    assert!(matches!(idle.read(&mut b), Ok(0) | Err(_)), "an idle connection must be closed");
    d.wait_for("no handshake in time", Duration::from_secs(10));

    // One address holding many connections: past the limit, the next is closed at once.
    let held: Vec<TcpStream> = (0..10).map(|_| TcpStream::connect(("127.0.0.1", tls_port)).unwrap()).collect();
    d.wait_for("too many connections", Duration::from_secs(20));
    drop(held);
    let log = d.stop();
    assert!(!log.contains("panicked"), "{log}");
}
