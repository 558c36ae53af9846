//! `[sip]` and `[registration]`: the SIP line's settings, checked here and turned into the
//! user agent's [`UaConfig`].

use std::time::Duration;

use serde::Deserialize;

use super::digest::Credentials;
use super::register::RegistrationConfig;
use super::sdp::Codec;
use super::ua::{OutboundConfig, UaConfig};
use crate::rtp::settings::RtpSection;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct SipSection {
    /// Address and port to receive SIP on (UDP).
    #[serde(default = "default_sip_listen")]
    pub listen: std::net::SocketAddr,
    /// Address put in Contact and SDP; needed when `listen` is 0.0.0.0.
    pub public_address: Option<std::net::IpAddr>,
    /// Networks (CIDR) that may send us calls: the PBX or trunk. Others get 403.
    #[serde(default = "default_allowed_sources")]
    pub allowed_sources: Vec<String>,
    /// Simultaneous calls on the whole box, SIP and analog lines together (they share the
    /// cores that listen and speak); one more SIP call gets `busy_status`.
    #[serde(default = "default_max_calls")]
    pub max_calls: usize,
    /// 486 (Busy Here) or 503 (Service Unavailable, with Retry-After).
    #[serde(default = "default_busy_status")]
    pub busy_status: u16,
    /// Ring this long before answering (0: answer at once).
    #[serde(default)]
    pub ringing_ms: u64,
    /// Before [answer] existed the app was chosen here; kept only to say where it went.
    #[serde(default)]
    pub app: Option<String>,
    /// Codecs in order of preference: "PCMU", "PCMA".
    #[serde(default = "default_codecs")]
    pub codecs: Vec<String>,
    /// Where calls the box places go (IP:port of the PBX or trunk proxy); default: the
    /// registrar.
    pub outbound_proxy: Option<std::net::SocketAddr>,
    /// SIP over TLS for a PBX or trunk that offers it (`[sip.tls]`).
    pub tls: Option<TlsSection>,
    /// SRTP (SDES keys, so only on calls whose signalling is TLS): "optional" answers an SRTP
    /// offer that came over TLS; "required" refuses calls without it and offers only SRTP;
    /// "off" never uses it.
    #[serde(default)]
    pub media_encryption: MediaEncryption,
}

/// `sip.media_encryption`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaEncryption {
    Required,
    #[default]
    Optional,
    Off,
}

/// `[sip.tls]`: where SIP over TLS is accepted and the certificate the box shows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Address and port, usually 5061.
    pub listen: std::net::SocketAddr,
    /// PEM: the server certificate, then its chain. Renewed files are taken at the next
    /// connection, without a restart.
    pub certificate: std::path::PathBuf,
    /// PEM private key (mode 600, readable by the service user).
    pub key: std::path::PathBuf,
}

fn default_sip_listen() -> std::net::SocketAddr {
    "127.0.0.1:5060".parse().expect("literal address")
}
fn default_allowed_sources() -> Vec<String> {
    vec!["127.0.0.0/8".into(), "::1/128".into()]
}
fn default_max_calls() -> usize {
    4
}
fn default_busy_status() -> u16 {
    486
}
fn default_codecs() -> Vec<String> {
    vec!["PCMU".into(), "PCMA".into()]
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSection {
    /// The registrar (usually the PBX): "192.168.1.10:5060" or "sip:192.168.1.10:5060".
    pub registrar: String,
    /// Domain of our address of record; default: the registrar's host.
    pub domain: Option<String>,
    pub username: String,
    /// Never logged.
    pub password: String,
    /// Seconds the registration is asked to last; refreshed at 80 % of what is granted.
    #[serde(default = "default_expires")]
    pub expires: u32,
    /// "udp" (the default) or "tls": SIP over TLS to the registrar, for registration and for
    /// the calls the box places through it. A `sips:` registrar means "tls".
    #[serde(default)]
    pub transport: TrunkTransport,
    /// The name the registrar's certificate must carry (TLS). Default: `domain`, else the
    /// registrar's IP address (then the certificate needs it as an IP subjectAltName).
    pub tls_server_name: Option<String>,
    /// PEM file of the CA(s) that sign the registrar's certificate (TLS). Default: the
    /// system's trust store (Debian: /etc/ssl/certs, package ca-certificates).
    pub tls_ca: Option<std::path::PathBuf>,
    /// SHA-256 fingerprints of the only certificates the registrar may show (TLS), as
    /// `openssl x509 -noout -fingerprint -sha256` prints them; checked on top of the CA and
    /// the name, so a certificate another CA signed for the same name is still refused.
    #[serde(default)]
    pub tls_pin: Vec<String>,
    /// Seconds the TLS connection to the registrar may be quiet before the box pings it
    /// (CRLFCRLF, RFC 5626); no pong within 10 s and the connection is taken as dead, dropped
    /// and opened again, and the box registers anew on it. Lower it for a NAT or firewall that
    /// forgets quiet connections sooner.
    #[serde(default = "default_keepalive")]
    pub keepalive_s: u32,
}

fn default_keepalive() -> u32 {
    90
}

/// How the box reaches its registrar.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrunkTransport {
    #[default]
    Udp,
    Tls,
}

/// Debug that cannot leak the password into a log line.
impl std::fmt::Debug for RegistrationSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationSection")
            .field("registrar", &self.registrar)
            .field("domain", &self.domain)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("expires", &self.expires)
            .field("transport", &self.transport)
            .field("tls_server_name", &self.tls_server_name)
            .field("tls_ca", &self.tls_ca)
            .field("tls_pin", &self.tls_pin)
            .field("keepalive_s", &self.keepalive_s)
            .finish()
    }
}

fn default_expires() -> u32 {
    300
}

impl RegistrationSection {
    /// host:port of the registrar; only IP literals (the box does no DNS on the call path).
    /// Without a port, 5061 over TLS and 5060 otherwise.
    pub fn registrar_addr(&self) -> Option<std::net::SocketAddr> {
        let hostport = self.registrar.trim().trim_start_matches("sips:").trim_start_matches("sip:");
        let hostport = hostport.split([';', '?']).next().unwrap_or("");
        let port = if self.uses_tls() { 5061 } else { 5060 };
        hostport.parse().ok().or_else(|| {
            hostport
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| std::net::SocketAddr::new(ip, port))
        })
    }

    /// SIP over TLS to the registrar: `transport = "tls"`, a `sips:` registrar, or
    /// `;transport=tls` on it.
    pub fn uses_tls(&self) -> bool {
        let r = self.registrar.trim().to_ascii_lowercase();
        self.transport == TrunkTransport::Tls || r.starts_with("sips:") || r.contains(";transport=tls")
    }

    /// The TLS settings of the trunk, when it uses TLS (checked by `problems` first).
    fn trunk_tls(&self, registrar: std::net::SocketAddr) -> Option<crate::sip::ua::TrunkTls> {
        if !self.uses_tls() {
            return None;
        }
        let server_name = self.tls_server_name.clone().or_else(|| self.domain.clone()).unwrap_or_else(|| registrar.ip().to_string());
        Some(crate::sip::ua::TrunkTls {
            addr: registrar,
            server_name,
            ca: self.tls_ca.clone(),
            pins: self.tls_pin.iter().filter_map(|p| crate::sip::ua::parse_pin(p)).collect(),
            keepalive: std::time::Duration::from_secs(self.keepalive_s.into()),
        })
    }
}

impl SipSection {
    /// (key, what is wrong) for each value the user agent cannot use.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if !(1..=64).contains(&self.max_calls) {
            p.push(("max_calls", format!("{}: use 1 to 64", self.max_calls)));
        }
        if !matches!(self.busy_status, 486 | 503) {
            p.push(("busy_status", format!("{}: use 486 or 503", self.busy_status)));
        }
        if self.codecs.is_empty() || self.codecs.iter().any(|c| Codec::from_name(c).is_none()) {
            let names: Vec<&str> = Codec::ALL.iter().map(|c| c.encoding_name()).collect();
            p.push(("codecs", format!("{:?}: list one or more of {names:?}", self.codecs)));
        }
        for src in &self.allowed_sources {
            if super::acl::Cidr::parse(src).is_none() {
                p.push(("allowed_sources", format!("{src:?} is not an address or CIDR network such as 192.168.1.0/24")));
            }
        }
        if self.listen.ip().is_unspecified() && self.public_address.is_none() {
            p.push(("public_address", "needed when sip.listen is 0.0.0.0 or [::]: the address peers should send to".into()));
        }
        if let Some(t) = &self.tls {
            if t.listen == self.listen {
                p.push(("tls.listen", format!("{}: the same address as sip.listen; TLS needs a port of its own (5061)", t.listen)));
            }
            for (key, path) in [("tls.certificate", &t.certificate), ("tls.key", &t.key)] {
                if !path.is_file() {
                    p.push((key, format!("{}: no such file (PEM)", path.display())));
                }
            }
        }
        if self.app.is_some() {
            p.push(("app", "moved: which app answers is chosen in [answer] (app = \"...\", per line in lines, per dialled number in [answer.dialled]); move this line there".into()));
        }
        p
    }

    /// The user agent's settings: this section with `[rtp]` and `[registration]`.
    pub fn ua_config(&self, rtp: &RtpSection, registration: Option<&RegistrationSection>) -> UaConfig {
        let registrar = registration.and_then(|r| Some((r, r.registrar_addr()?)));
        let aor_host = |r: &RegistrationSection, registrar| r.domain.clone().unwrap_or_else(|| host_of(registrar));
        UaConfig {
            listen: self.listen,
            public_ip: self.public_address.unwrap_or(self.listen.ip()),
            allowed_sources: self.allowed_sources.clone(),
            slots: crate::line::CallSlots::new(self.max_calls),
            busy_status: self.busy_status,
            ringing: Duration::from_millis(self.ringing_ms),
            // Checked by `problems`: every name is one of ours.
            codecs: self.codecs.iter().filter_map(|c| Codec::from_name(c)).collect(),
            rtp_ports: (rtp.port_min, rtp.port_max),
            jitter: rtp.jitter(),
            tls: self.tls.as_ref().map(|t| crate::sip::ua::TlsListen {
                listen: t.listen,
                certificate: t.certificate.clone(),
                key: t.key.clone(),
            }),
            user_agent: format!("frontdesk/{}", env!("CARGO_PKG_VERSION")),
            outbound: OutboundConfig {
                proxy: self.outbound_proxy.or(registrar.map(|(_, a)| a)),
                from_uri: registrar.map(|(r, a)| format!("sip:{}@{}", r.username, aor_host(r, a))),
                credentials: registration.map(|r| Credentials::new(r.username.clone(), r.password.clone())),
            },
            trunk_tls: registrar.and_then(|(r, a)| r.trunk_tls(a)),
            media_encryption: self.media_encryption,
            registration: registrar.map(|(r, a)| RegistrationConfig {
                registrar: a,
                registrar_uri: if r.uses_tls() { format!("sip:{a};transport=tls") } else { format!("sip:{a}") },
                aor: format!("sip:{}@{}", r.username, aor_host(r, a)),
                credentials: Credentials::new(r.username.clone(), r.password.clone()),
                expires: r.expires,
                reliable: r.uses_tls(),
            }),
        }
    }
}

impl RegistrationSection {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if self.registrar_addr().is_none() {
            p.push((
                "registrar",
                format!("{:?}: give the registrar as an IP address and port, e.g. \"192.168.1.10:5060\"", self.registrar),
            ));
        }
        if self.username.is_empty() {
            p.push(("username", "must not be empty".into()));
        }
        if !(60..=86_400).contains(&self.expires) {
            p.push(("expires", format!("{}: use 60 to 86400 seconds", self.expires)));
        }
        let tls = self.uses_tls();
        if !(5..=3600).contains(&self.keepalive_s) {
            p.push(("keepalive_s", format!("{}: use 5 to 3600 seconds", self.keepalive_s)));
        }
        for (key, set) in [
            ("tls_server_name", self.tls_server_name.is_some()),
            ("tls_ca", self.tls_ca.is_some()),
            ("tls_pin", !self.tls_pin.is_empty()),
            ("keepalive_s", self.keepalive_s != default_keepalive()),
        ] {
            if set && !tls {
                p.push((key, "only used over TLS: add transport = \"tls\" (and the registrar's TLS port, usually 5061)".into()));
            }
        }
        if let Some(name) = &self.tls_server_name
            && crate::sip::ua::server_name(name).is_none()
        {
            p.push(("tls_server_name", format!("{name:?} is not a host name or IP address")));
        }
        if let Some(ca) = &self.tls_ca
            && !ca.is_file()
        {
            p.push(("tls_ca", format!("{}: no such file (PEM, the CA certificates that sign the registrar's)", ca.display())));
        }
        for pin in &self.tls_pin {
            if crate::sip::ua::parse_pin(pin).is_none() {
                p.push(("tls_pin", format!("{pin:?}: give a SHA-256 fingerprint, 64 hex digits (colons allowed), as `openssl x509 -noout -fingerprint -sha256 -in pbx.pem` prints it")));
            }
        }
        p
    }
}

/// The host part of a SIP URI for an address (IPv6 in brackets).
fn host_of(addr: std::net::SocketAddr) -> String {
    match addr.ip() {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(extra: &str) -> RegistrationSection {
        toml::from_str(&format!("registrar = \"192.0.2.10\"\nusername = \"frontdesk\"\npassword = \"p\"\n{extra}")).unwrap()
    }

    fn keys(r: &RegistrationSection) -> Vec<&'static str> {
        r.problems().into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn tls_to_the_registrar_defaults_to_port_5061_and_checks_its_settings() {
        let udp = section("");
        assert!(!udp.uses_tls());
        assert_eq!(udp.registrar_addr().unwrap().port(), 5060);
        let tls = section("transport = \"tls\"\ndomain = \"pbx.clinic.local\"");
        assert_eq!(tls.registrar_addr().unwrap().port(), 5061);
        let trunk = tls.trunk_tls(tls.registrar_addr().unwrap()).unwrap();
        assert_eq!(trunk.server_name, "pbx.clinic.local", "the domain is the name checked by default");
        assert!(section("").trunk_tls("192.0.2.10:5060".parse().unwrap()).is_none());
        let mut sips = section("");
        sips.registrar = "sips:192.0.2.10".into();
        assert!(sips.uses_tls() && sips.registrar_addr().unwrap().port() == 5061);

        assert_eq!(keys(&section("tls_pin = [\"AB:CD\"]")), ["tls_pin", "tls_pin"], "not over TLS, and not a fingerprint");
        assert_eq!(keys(&section("transport = \"tls\"\ntls_ca = \"/nonexistent/ca.pem\"")), ["tls_ca"]);
        assert_eq!(keys(&section("keepalive_s = 30")), ["keepalive_s"], "only used over TLS");
        assert_eq!(keys(&section("transport = \"tls\"\nkeepalive_s = 1")), ["keepalive_s"]);
        assert_eq!(keys(&section("transport = \"tls\"\ntls_server_name = \"not a name\"")), ["tls_server_name"]);
        assert!(
            toml::from_str::<RegistrationSection>("registrar = \"x\"\nusername = \"u\"\npassword = \"p\"\ntransport = \"tcp\"").is_err()
        );
    }
}
