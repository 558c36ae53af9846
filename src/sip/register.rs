//! Registration as a client (RFC 3261 10): how a PBX learns where to send the clinic's calls.
//!
//! The state machine is driven by the UA task: `poll` says what to send now (a new REGISTER, a
//! retransmission, or nothing), `on_response` takes the registrar's answers. It answers a digest
//! challenge once per nonce (again only when the registrar says the nonce was `stale`), refreshes
//! before the binding expires, and backs off (5 s doubling to 5 min) while the registrar is down
//! or refuses us, so a PBX reboot does not leave the box unreachable nor flood the PBX.
//! The password never appears in logs: `Credentials` redacts it from Debug output.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::digest::{Challenge, Credentials};
use super::message::{Message, param};
use crate::entropy::u32 as rand_u32;

const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
const TIMER_F: Duration = Duration::from_secs(32);
const MIN_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

#[derive(Clone, Debug)]
pub struct RegistrationConfig {
    /// Where REGISTER goes (an IP literal and port: the PBX).
    pub registrar: SocketAddr,
    /// Request-URI of REGISTER, e.g. `sip:pbx.clinic.local` or `sip:127.0.0.1:5070`.
    pub registrar_uri: String,
    /// Our address of record, e.g. `sip:frontdesk@pbx.clinic.local`.
    pub aor: String,
    pub credentials: Credentials,
    pub expires: u32,
    /// Over TLS (a stream): requests are not retransmitted.
    pub reliable: bool,
}

struct InFlight {
    bytes: Vec<u8>,
    cseq: u32,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationState {
    Unregistered,
    Registered { until: Instant },
    Failed { reason: String },
}

pub struct Registration {
    cfg: RegistrationConfig,
    call_id: String,
    from_tag: String,
    cseq: u32,
    challenge: Option<(Challenge, bool)>,
    answered_nonce: Option<String>,
    nc: u32,
    in_flight: Option<InFlight>,
    next_attempt: Instant,
    failures: u32,
    pub state: RegistrationState,
}

impl Registration {
    pub fn new(cfg: RegistrationConfig, now: Instant) -> Self {
        Registration {
            call_id: format!("reg-{:08x}{:08x}", rand_u32(), rand_u32()),
            from_tag: format!("{:08x}", rand_u32()),
            cseq: 0,
            challenge: None,
            answered_nonce: None,
            nc: 0,
            in_flight: None,
            next_attempt: now,
            failures: 0,
            state: RegistrationState::Unregistered,
            cfg,
        }
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Bytes to send to the registrar now, if any.
    /// `via` is our Via after `SIP/2.0/` (transport and sent-by); over a stream (`reliable`)
    /// nothing is retransmitted (RFC 3261 17.1.2.2), Timer F still gives up.
    pub fn poll(&mut self, now: Instant, via: &str, contact: &str) -> Option<(Vec<u8>, SocketAddr)> {
        if let Some(tx) = &mut self.in_flight {
            if now >= tx.give_up {
                self.in_flight = None;
                self.fail(now, "registrar did not answer".into());
                return None;
            }
            if now >= tx.next && !self.cfg.reliable {
                tx.interval = (tx.interval * 2).min(T2);
                tx.next = now + tx.interval;
                return Some((tx.bytes.clone(), self.cfg.registrar));
            }
            return None;
        }
        if now < self.next_attempt {
            return None;
        }
        self.cseq += 1;
        let bytes = self.register_request(via, contact);
        self.in_flight = Some(InFlight { bytes: bytes.clone(), cseq: self.cseq, next: now + T1, interval: T1, give_up: now + TIMER_F });
        Some((bytes, self.cfg.registrar))
    }

    fn register_request(&mut self, via: &str, contact: &str) -> Vec<u8> {
        let branch = format!("z9hG4bK{:08x}{:08x}", rand_u32(), rand_u32());
        let mut text = format!(
            "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/{via};branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: <{aor}>;tag={tag}\r\nTo: <{aor}>\r\nCall-ID: {cid}\r\nCSeq: {cseq} REGISTER\r\nContact: {contact};expires={exp}\r\nExpires: {exp}\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY, REFER\r\nUser-Agent: frontdesk/{ver}\r\n",
            uri = self.cfg.registrar_uri,
            aor = self.cfg.aor,
            tag = self.from_tag,
            cid = self.call_id,
            cseq = self.cseq,
            exp = self.cfg.expires,
            ver = env!("CARGO_PKG_VERSION"),
        );
        if let Some((ch, proxy)) = &self.challenge {
            self.nc += 1;
            let cnonce = format!("{:08x}{:08x}", rand_u32(), rand_u32());
            match self.cfg.credentials.authorization(ch, "REGISTER", &self.cfg.registrar_uri, &cnonce, self.nc) {
                Ok(value) => {
                    let name = if *proxy { "Proxy-Authorization" } else { "Authorization" };
                    text.push_str(&format!("{name}: {value}\r\n"));
                }
                Err(e) => tracing::warn!("cannot answer the registrar's challenge: {e}"),
            }
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        text.into_bytes()
    }

    /// Takes a response whose Call-ID is ours.
    pub fn on_response(&mut self, resp: &Message, now: Instant) {
        let (cseq, method) = resp.cseq();
        let status = resp.status().unwrap_or(0);
        if method != "REGISTER" || self.in_flight.as_ref().is_none_or(|t| t.cseq != cseq) {
            return;
        }
        if status < 200 {
            if let Some(tx) = &mut self.in_flight {
                tx.next = tx.give_up;
            }
            return;
        }
        self.in_flight = None;
        match status {
            200..=299 => {
                let granted = granted_expiry(resp).unwrap_or(self.cfg.expires).max(10);
                // Refresh well before expiry (RFC 3261 10.2.4 leaves the margin to us).
                let refresh = Duration::from_secs(u64::from(granted)) * 8 / 10;
                self.next_attempt = now + refresh;
                self.failures = 0;
                let was_registered = matches!(self.state, RegistrationState::Registered { .. });
                self.state = RegistrationState::Registered { until: now + Duration::from_secs(granted.into()) };
                self.publish();
                if !was_registered {
                    tracing::info!(registrar = %self.cfg.registrar, expires = granted, "registered");
                } else {
                    tracing::debug!(expires = granted, "registration refreshed");
                }
            }
            401 | 407 => {
                let proxy = status == 407;
                let header = if proxy { "Proxy-Authenticate" } else { "WWW-Authenticate" };
                match Challenge::select(resp.headers_named(header)) {
                    Ok(ch) => {
                        let repeat = self.answered_nonce.as_deref() == Some(ch.nonce.as_str());
                        if repeat && !ch.stale {
                            self.challenge = None;
                            self.fail(now, "registrar refused our credentials (check registration.username and password)".into());
                            return;
                        }
                        self.answered_nonce = Some(ch.nonce.clone());
                        self.nc = 0;
                        self.challenge = Some((ch, proxy));
                        self.next_attempt = now;
                    }
                    Err(e) => self.fail(now, format!("unusable challenge from the registrar: {e}")),
                }
            }
            423 => {
                // Interval Too Brief: take the registrar's minimum.
                if let Some(min) = resp.header("Min-Expires").and_then(|v| v.trim().parse::<u32>().ok()) {
                    self.cfg.expires = min;
                    self.next_attempt = now;
                } else {
                    self.fail(now, "registrar said 423 without Min-Expires".into());
                }
            }
            other => self.fail(now, format!("registrar answered {other}")),
        }
    }

    /// The registrar cannot be reached at all (its TLS connection was refused): the
    /// REGISTER in flight fails now, with the reason, and is tried again after the back-off.
    pub fn unreachable(&mut self, now: Instant, reason: String) {
        if self.in_flight.take().is_some() {
            self.fail(now, reason);
        }
    }

    /// The connection the registration was made over went (RFC 5626 flow failure): the
    /// registrar's binding now points at nothing, so the box registers again at once, on a new
    /// connection; a REGISTER waiting for its answer on the old one has failed.
    pub fn flow_lost(&mut self, now: Instant) {
        let reason = "the connection to the registrar was lost".to_string();
        if self.in_flight.take().is_some() {
            self.fail(now, reason);
        } else if matches!(self.state, RegistrationState::Registered { .. }) {
            tracing::warn!("registration: the connection to the registrar was lost; registering again");
            self.state = RegistrationState::Failed { reason };
            self.next_attempt = now;
            self.publish();
        }
    }

    fn fail(&mut self, now: Instant, reason: String) {
        self.failures += 1;
        let backoff = (MIN_BACKOFF * 2u32.saturating_pow(self.failures.saturating_sub(1).min(10))).min(MAX_BACKOFF);
        self.next_attempt = now + backoff;
        tracing::warn!(retry_in_s = backoff.as_secs(), "registration failed: {reason}");
        self.state = RegistrationState::Failed { reason };
        self.publish();
    }

    /// The registration's state as `systemctl status` shows it (`health::set_status`).
    pub fn publish(&self) {
        let registrar = &self.cfg.registrar_uri;
        let phrase = match &self.state {
            RegistrationState::Unregistered => format!("registering to {registrar}"),
            RegistrationState::Registered { .. } => format!("registered to {registrar}"),
            RegistrationState::Failed { reason } => format!("NOT registered to {registrar}: {reason}"),
        };
        crate::health::set_status("sip", phrase);
        crate::metrics::registered(matches!(self.state, RegistrationState::Registered { .. }));
    }
}

/// The expiry the registrar granted: our Contact's `expires` parameter, else Expires.
fn granted_expiry(resp: &Message) -> Option<u32> {
    resp.headers_named("Contact")
        .flat_map(super::message::split_top_level_commas)
        .find_map(|c| param(c, "expires").and_then(|e| e.parse().ok()))
        .or_else(|| resp.header("Expires").and_then(|e| e.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::StartLine;

    fn cfg() -> RegistrationConfig {
        RegistrationConfig {
            registrar: "127.0.0.1:5070".parse().unwrap(),
            registrar_uri: "sip:127.0.0.1:5070".into(),
            aor: "sip:frontdesk@127.0.0.1".into(),
            credentials: Credentials::new("frontdesk", "s3cret-test"),
            expires: 300,
            reliable: false,
        }
    }

    fn resp(status: u16, cseq: u32, headers: &[(&str, &str)]) -> Message {
        let mut h = vec![("CSeq".to_string(), format!("{cseq} REGISTER")), ("Call-ID".to_string(), "x".to_string())];
        h.extend(headers.iter().map(|(a, b)| (a.to_string(), b.to_string())));
        Message { start: StartLine::Response { status, reason: String::new() }, headers: h, body: vec![] }
    }

    #[test]
    fn challenge_then_success_then_refresh() {
        let now = Instant::now();
        let local = "UDP 127.0.0.1:5060";
        let mut r = Registration::new(cfg(), now);
        let (first, _) = r.poll(now, local, "<sip:frontdesk@127.0.0.1:5060>").unwrap();
        assert!(!String::from_utf8_lossy(&first).contains("Authorization"));
        r.on_response(&resp(401, 1, &[("WWW-Authenticate", "Digest realm=\"127.0.0.1\", nonce=\"n1\", qop=\"auth\"")]), now);
        let (second, _) = r.poll(now, local, "<sip:frontdesk@127.0.0.1:5060>").unwrap();
        let text = String::from_utf8_lossy(&second).to_string();
        assert!(text.contains("Authorization: Digest username=\"frontdesk\""), "{text}");
        assert!(text.contains("CSeq: 2 REGISTER"));
        assert!(!text.contains("s3cret-test"), "the password itself never goes on the wire");
        r.on_response(&resp(200, 2, &[("Contact", "<sip:frontdesk@127.0.0.1:5060>;expires=120")]), now);
        assert!(matches!(r.state, RegistrationState::Registered { .. }));
        assert!(r.poll(now + Duration::from_secs(60), local, "<c>").is_none());
        assert!(r.poll(now + Duration::from_secs(97), local, "<c>").is_some(), "refreshes at 80 % of 120 s");
    }

    #[test]
    fn wrong_password_backs_off_instead_of_looping() {
        let now = Instant::now();
        let local = "UDP 127.0.0.1:5060";
        let mut r = Registration::new(cfg(), now);
        let ch = [("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n1\"")];
        r.poll(now, local, "<c>").unwrap();
        r.on_response(&resp(401, 1, &ch), now);
        r.poll(now, local, "<c>").unwrap();
        r.on_response(&resp(401, 2, &ch), now);
        assert!(matches!(r.state, RegistrationState::Failed { .. }));
        assert!(r.poll(now + Duration::from_secs(4), local, "<c>").is_none());
        assert!(r.poll(now + Duration::from_secs(5), local, "<c>").is_some());
    }

    #[test]
    fn silence_from_the_registrar_retransmits_then_backs_off() {
        let now = Instant::now();
        let local = "UDP 127.0.0.1:5060";
        let mut r = Registration::new(cfg(), now);
        r.poll(now, local, "<c>").unwrap();
        assert!(r.poll(now + Duration::from_millis(600), local, "<c>").is_some(), "Timer E retransmission");
        assert!(r.poll(now + TIMER_F, local, "<c>").is_none());
        assert!(matches!(r.state, RegistrationState::Failed { .. }));
        let mut failures_backoff = Vec::new();
        let mut t = now + TIMER_F;
        for _ in 0..8 {
            let next = r.next_attempt;
            failures_backoff.push((next - t).as_secs());
            t = next;
            r.poll(t, local, "<c>").unwrap();
            r.poll(t + TIMER_F, local, "<c>");
            t += TIMER_F;
        }
        assert_eq!(failures_backoff[0], 5);
        assert!(failures_backoff.windows(2).all(|w| w[1] >= w[0]));
        assert!(*failures_backoff.last().unwrap() <= 300);
    }
}
