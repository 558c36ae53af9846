//! Client side of HTTP Digest authentication (RFC 2617, RFC 7616) as SIP
//! uses it (RFC 3261 section 22) to answer `401`/`407` challenges on
//! REGISTER and INVITE.
//!
//! The module is pure: the caller supplies the client nonce and the nonce
//! count, so responses are reproducible in tests and the SIP layer keeps the
//! per-realm state (nonce reuse, `nc` increments, `stale=true` retries).
//!
//! Only `qop=auth` (or no qop at all, RFC 2069 style) is implemented.
//! `auth-int` would need the message body threaded through; no PBX or trunk
//! Frontdesk talks to insists on it, so a challenge offering only `auth-int`
//! is reported as unsupported rather than answered wrongly.

use std::fmt::{self, Write as _};

use md5::Md5;
use sha2::{Digest as _, Sha256, Sha512_256};
use thiserror::Error;

/// Longest piece of peer-supplied text copied into an error, so a hostile
/// header cannot bloat logs.
const MAX_ERROR_SNIPPET: usize = 64;

/// Why a challenge could not be parsed or answered.
///
/// No variant ever carries the password: errors end up in logs.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DigestError {
    #[error("authentication scheme is {0:?}, not Digest")]
    NotDigest(String),
    #[error("malformed Digest challenge: {0}")]
    Malformed(&'static str),
    #[error("Digest challenge lacks the required {0} parameter")]
    MissingParameter(&'static str),
    #[error("unsupported Digest algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    #[error("server only offers qop {0:?}; only qop=auth is implemented")]
    UnsupportedQop(String),
    #[error("{0} is empty or contains characters that cannot be sent in a SIP header")]
    InvalidInput(&'static str),
}

/// Hash algorithm named by the challenge's `algorithm=` parameter.
///
/// The `-sess` variants differ only in how HA1 is derived (it is bound to
/// the server and client nonces); they are cheap to support, so they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// RFC 2617 says a challenge without `algorithm=` means MD5.
    #[default]
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
    Sha512_256,
    Sha512_256Sess,
}

impl Algorithm {
    /// Accepts the token case-insensitively because servers disagree on
    /// spelling (`MD5`, `md5`, `SHA-256`, `sha-256`).
    pub fn from_token(token: &str) -> Option<Self> {
        const NAMES: [(&str, Algorithm); 6] = [
            ("MD5", Algorithm::Md5),
            ("MD5-sess", Algorithm::Md5Sess),
            ("SHA-256", Algorithm::Sha256),
            ("SHA-256-sess", Algorithm::Sha256Sess),
            ("SHA-512-256", Algorithm::Sha512_256),
            ("SHA-512-256-sess", Algorithm::Sha512_256Sess),
        ];
        NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(token)).map(|&(_, alg)| alg)
    }

    /// Canonical spelling from RFC 7616, echoed in the Authorization header.
    pub fn token(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    pub fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess)
    }

    /// Ranking used by [`Challenge::select`]: RFC 8760 asks a UAC that gets
    /// several challenges to use the strongest algorithm it supports.
    fn strength(self) -> u8 {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => 0,
            Algorithm::Sha256 | Algorithm::Sha256Sess => 1,
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => 2,
        }
    }

    /// Lower-case hex of the digest, as every Digest field requires.
    fn hex(self, data: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(Md5::digest(data.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex::encode(Sha256::digest(data.as_bytes())),
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => hex::encode(Sha512_256::digest(data.as_bytes())),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// A parsed `WWW-Authenticate` / `Proxy-Authenticate` Digest challenge.
///
/// Values are stored unescaped (as they enter the hash) and re-escaped when
/// the Authorization header is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// Lower-cased qop tokens; empty when the server sent no `qop`, which
    /// selects the RFC 2069 response formula.
    pub qop: Vec<String>,
    /// `stale=true` means the password was right but the nonce expired, so
    /// the UA should retry once with the new nonce instead of giving up.
    pub stale: bool,
    /// RFC 7616 username hashing; supported because it costs one hash.
    pub userhash: bool,
}

impl Challenge {
    /// Parses the header value, e.g.
    /// `Digest realm="asterisk", nonce="1a2b", algorithm=MD5, qop="auth"`.
    ///
    /// Unknown parameters (`domain`, `charset`, vendor extensions) are
    /// ignored. An unknown algorithm is an error here rather than at
    /// response time so that a UA holding several challenges can simply keep
    /// the ones that parse (see [`Challenge::select`]).
    pub fn parse(header_value: &str) -> Result<Challenge, DigestError> {
        let trimmed = header_value.trim_start();
        let (scheme, rest) = trimmed.split_once(|c: char| c.is_ascii_whitespace()).unwrap_or((trimmed, ""));
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::NotDigest(snippet(scheme)));
        }

        let mut realm = None;
        let mut nonce = None;
        let mut opaque = None;
        let mut algorithm = None;
        let mut qop = Vec::new();
        let mut stale = false;
        let mut userhash = false;
        for (name, value) in parse_params(rest)? {
            // First occurrence wins: a duplicate is either a server bug or an
            // attempt to smuggle a second value past a filter.
            let name = name.to_ascii_lowercase();
            match name.as_str() {
                "realm" if realm.is_none() => realm = Some(value),
                "nonce" if nonce.is_none() => nonce = Some(value),
                "opaque" if opaque.is_none() => opaque = Some(value),
                "algorithm" if algorithm.is_none() => {
                    algorithm =
                        Some(Algorithm::from_token(value.trim()).ok_or_else(|| DigestError::UnsupportedAlgorithm(snippet(&value)))?);
                }
                "qop" if qop.is_empty() => {
                    qop = value.split(',').map(|t| t.trim().to_ascii_lowercase()).filter(|t| !t.is_empty()).collect();
                }
                "stale" => stale = value.trim().eq_ignore_ascii_case("true"),
                "userhash" => userhash = value.trim().eq_ignore_ascii_case("true"),
                _ => {}
            }
        }

        Ok(Challenge {
            realm: realm.ok_or(DigestError::MissingParameter("realm"))?,
            nonce: nonce.ok_or(DigestError::MissingParameter("nonce"))?,
            opaque,
            algorithm: algorithm.unwrap_or_default(),
            qop,
            stale,
            userhash,
        })
    }

    /// Picks the challenge to answer when a response carries several
    /// (RFC 8760: a server may offer SHA-256 and MD5 side by side). The
    /// strongest answerable one wins; on a tie the first. If none is usable
    /// the first error is returned, so the log says why.
    pub fn select<'a>(header_values: impl IntoIterator<Item = &'a str>) -> Result<Challenge, DigestError> {
        let mut best: Option<Challenge> = None;
        let mut first_error = None;
        for value in header_values {
            match Challenge::parse(value).and_then(|ch| ch.chosen_qop().map(|_| ch)) {
                Ok(ch) => {
                    if best.as_ref().is_none_or(|b| ch.algorithm.strength() > b.algorithm.strength()) {
                        best = Some(ch);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        best.ok_or_else(|| first_error.unwrap_or(DigestError::Malformed("no challenge present")))
    }

    /// `Ok(None)` means the legacy no-qop formula.
    fn chosen_qop(&self) -> Result<Option<&'static str>, DigestError> {
        if self.qop.is_empty() {
            Ok(None)
        } else if self.qop.iter().any(|q| q == "auth") {
            Ok(Some("auth"))
        } else {
            Err(DigestError::UnsupportedQop(snippet(&self.qop.join(","))))
        }
    }
}

/// A SIP account's secret, wrapped so it never reaches logs through `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials { username: username.into(), password: password.into() }
    }

    /// Same as [`authorization`] with this account's username and password.
    pub fn authorization(&self, ch: &Challenge, method: &str, uri: &str, cnonce: &str, nc: u32) -> Result<String, DigestError> {
        authorization(ch, &self.username, &self.password, method, uri, cnonce, nc)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"<redacted>").finish()
    }
}

/// Builds the `Authorization` / `Proxy-Authorization` header value.
///
/// `cnonce` must be fresh and unpredictable per nonce (the caller owns the
/// RNG); `nc` counts requests made with the same server nonce, starting at 1.
/// The cnonce is sent whenever it enters the hash: with a qop, and with a
/// `-sess` algorithm even without qop, since the server cannot compute HA1
/// without it.
pub fn authorization(
    ch: &Challenge,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
    nc: u32,
) -> Result<String, DigestError> {
    let qop = ch.chosen_qop()?;
    let alg = ch.algorithm;
    let uses_cnonce = qop.is_some() || alg.is_session();

    // Everything echoed into the header must be free of control characters,
    // or a CR/LF from a hostile challenge or bad config would inject headers.
    check_header_safe("username", username)?;
    check_header_safe("uri", uri)?;
    check_header_safe("realm", &ch.realm)?;
    check_header_safe("nonce", &ch.nonce)?;
    if let Some(opaque) = &ch.opaque {
        check_header_safe("opaque", opaque)?;
    }
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(DigestError::InvalidInput("method"));
    }
    if uses_cnonce && (cnonce.is_empty() || check_header_safe("cnonce", cnonce).is_err()) {
        return Err(DigestError::InvalidInput("cnonce"));
    }

    let nc_text = format!("{nc:08x}");
    let mut ha1 = alg.hex(&format!("{username}:{}:{password}", ch.realm));
    if alg.is_session() {
        ha1 = alg.hex(&format!("{ha1}:{}:{cnonce}", ch.nonce));
    }
    let ha2 = alg.hex(&format!("{method}:{uri}"));
    let response = match qop {
        Some(qop) => alg.hex(&format!("{ha1}:{}:{nc_text}:{cnonce}:{qop}:{ha2}", ch.nonce)),
        None => alg.hex(&format!("{ha1}:{}:{ha2}", ch.nonce)),
    };

    let sent_username = if ch.userhash { alg.hex(&format!("{username}:{}", ch.realm)) } else { username.to_owned() };

    let mut out = String::with_capacity(256);
    let _ = write!(
        out,
        "Digest username={}, realm={}, nonce={}, uri={}, response=\"{response}\", algorithm={alg}",
        quote(&sent_username),
        quote(&ch.realm),
        quote(&ch.nonce),
        quote(uri),
    );
    if let Some(qop) = qop {
        let _ = write!(out, ", qop={qop}, nc={nc_text}");
    }
    if uses_cnonce {
        let _ = write!(out, ", cnonce={}", quote(cnonce));
    }
    if let Some(opaque) = &ch.opaque {
        let _ = write!(out, ", opaque={}", quote(opaque));
    }
    if ch.userhash {
        out.push_str(", userhash=true");
    }
    Ok(out)
}

/// Splits `name=value, name="quoted, value"` lists. Bare tokens without `=`
/// are skipped rather than rejected, since some servers append flags.
fn parse_params(input: &str) -> Result<Vec<(String, String)>, DigestError> {
    let mut params = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(|&c| c == ',' || c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(params);
        }
        let mut name = String::new();
        while let Some(c) = chars.next_if(|&c| c != '=' && c != ',' && !c.is_whitespace()) {
            name.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        if name.is_empty() {
            return Err(DigestError::Malformed("parameter without a name"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    None => return Err(DigestError::Malformed("unterminated quoted string")),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => return Err(DigestError::Malformed("unterminated quoted string")),
                    },
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|&c| c != ',' && !c.is_whitespace()) {
                value.push(c);
            }
        }
        params.push((name, value));
    }
}

fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn check_header_safe(field: &'static str, value: &str) -> Result<(), DigestError> {
    if value.chars().any(char::is_control) { Err(DigestError::InvalidInput(field)) } else { Ok(()) }
}

/// RFC 3261 `token` characters, which is what a SIP method must be.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

fn snippet(text: &str) -> String {
    text.chars().take(MAX_ERROR_SNIPPET).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7616_CHALLENGE_TAIL: &str = r#"realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    /// Pulls `name="value"` or `name=value` out of a generated header.
    fn field<'a>(header: &'a str, name: &str) -> Option<&'a str> {
        let start = header.find(&format!(" {name}="))? + name.len() + 2;
        let rest = &header[start..];
        if let Some(rest) = rest.strip_prefix('"') {
            rest.find('"').map(|end| &rest[..end])
        } else {
            Some(rest.split(',').next().unwrap_or(rest))
        }
    }

    #[test]
    fn rfc2617_section_3_5_example() {
        let ch = Challenge::parse(
            r#"Digest
                 realm="testrealm@host.com",
                 qop="auth,auth-int",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        assert_eq!(ch.algorithm, Algorithm::Md5);
        assert_eq!(ch.qop, vec!["auth", "auth-int"]);
        let header = authorization(&ch, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b", 1).unwrap();
        assert_eq!(
            header,
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
             response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, qop=auth, \
             nc=00000001, cnonce=\"0a4f113b\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
        );
    }

    #[test]
    fn rfc7616_section_3_9_1_md5() {
        let ch = Challenge::parse(&format!("Digest {RFC7616_CHALLENGE_TAIL}, algorithm=MD5")).unwrap();
        let header = authorization(&ch, "Mufasa", "Circle of Life", "GET", "/dir/index.html", RFC7616_CNONCE, 1).unwrap();
        assert_eq!(field(&header, "response"), Some("8ca523f5e9506fed4657c9700eebdbec"));
        assert_eq!(field(&header, "algorithm"), Some("MD5"));
        assert_eq!(field(&header, "qop"), Some("auth"));
        assert_eq!(field(&header, "nc"), Some("00000001"));
        assert_eq!(field(&header, "cnonce"), Some(RFC7616_CNONCE));
        assert_eq!(field(&header, "opaque"), Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"));
    }

    #[test]
    fn rfc7616_section_3_9_1_sha256() {
        let ch = Challenge::parse(&format!("Digest {RFC7616_CHALLENGE_TAIL}, algorithm=SHA-256")).unwrap();
        assert_eq!(ch.algorithm, Algorithm::Sha256);
        let header = authorization(&ch, "Mufasa", "Circle of Life", "GET", "/dir/index.html", RFC7616_CNONCE, 1).unwrap();
        assert_eq!(field(&header, "response"), Some("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"));
        assert_eq!(field(&header, "algorithm"), Some("SHA-256"));
    }

    #[test]
    fn no_qop_uses_rfc2069_formula_and_omits_cnonce() {
        // RFC 2069's inputs; expected value computed independently with
        // Python's hashlib (the RFC's printed response is known to be wrong).
        let ch = Challenge::parse(
            r#"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        assert!(ch.qop.is_empty());
        let header = authorization(&ch, "Mufasa", "CircleOfLife", "GET", "/dir/index.html", "ignored", 7).unwrap();
        assert_eq!(field(&header, "response"), Some("1949323746fe6a43ef61f9606e7febea"));
        assert!(!header.contains("qop="));
        assert!(!header.contains("nc="));
        assert!(!header.contains("cnonce="));
    }

    #[test]
    fn sip_register_challenge_from_asterisk() {
        let ch = Challenge::parse(
            r#"Digest realm="asterisk",nonce="1700000000/0123456789abcdef0123456789abcdef",opaque="5f2c1a7b3d9e4f60",algorithm=md5,qop="auth""#,
        )
        .unwrap();
        let creds = Credentials::new("6001", "s3cret-pw");
        let header = creds.authorization(&ch, "REGISTER", "sip:127.0.0.1", "abcdef01", 2).unwrap();
        assert_eq!(field(&header, "nc"), Some("00000002"));
        assert_eq!(field(&header, "uri"), Some("sip:127.0.0.1"));
        // Independently computed with Python's hashlib.
        assert_eq!(field(&header, "response"), Some("8538271ed570904bba74ee2fdaa6ad9f"));
    }

    #[test]
    fn session_algorithms_and_sha512_256() {
        // Expected values computed independently with Python's hashlib.
        let cases = [
            ("MD5-sess", "e145f825effa67c697d24fea2a1857bf"),
            ("SHA-256-sess", "89206feef9b44e3cbb44d03f052b97ecf708ffdc7e8b75b89cbdc8a2f9941885"),
            ("SHA-512-256", "bc611699fb34c2b7bb30bced9720fbbcf216432ed1d233ac1eefdfdbbaf50b0f"),
        ];
        for (alg, expected) in cases {
            let ch = Challenge::parse(&format!(r#"Digest realm="sip.example", nonce="abc123", qop=auth, algorithm={alg}"#)).unwrap();
            let header = authorization(&ch, "alice", "pw", "INVITE", "sip:bob@127.0.0.1", "c0ffee", 1).unwrap();
            assert_eq!(field(&header, "response"), Some(expected), "{alg}");
            assert_eq!(field(&header, "algorithm"), Some(alg));
        }
    }

    #[test]
    fn session_algorithm_without_qop_still_sends_cnonce() {
        let ch = Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=MD5-sess"#).unwrap();
        let header = authorization(&ch, "u", "p", "REGISTER", "sip:r", "cn", 1).unwrap();
        assert_eq!(field(&header, "cnonce"), Some("cn"));
        assert!(!header.contains("qop="));
        assert_eq!(authorization(&ch, "u", "p", "REGISTER", "sip:r", "", 1), Err(DigestError::InvalidInput("cnonce")));
    }

    #[test]
    fn parse_accepts_any_order_unquoted_values_and_mixed_case() {
        let ch = Challenge::parse(r#"digest ALGORITHM="sha-256" , Stale=TRUE,QOP=auth,  OPAQUE="x,y\"z", Nonce=abc/def==, REALM="a, b""#)
            .unwrap();
        assert_eq!(ch.algorithm, Algorithm::Sha256);
        assert!(ch.stale);
        assert_eq!(ch.qop, vec!["auth"]);
        assert_eq!(ch.opaque.as_deref(), Some("x,y\"z"));
        assert_eq!(ch.nonce, "abc/def==");
        assert_eq!(ch.realm, "a, b");

        // Escapes are re-applied on output.
        let header = authorization(&ch, "a\"b", "p", "INVITE", "sip:x", "c", 1).unwrap();
        assert!(header.contains(r#"username="a\"b""#), "{header}");
        assert!(header.contains(r#"opaque="x,y\"z""#), "{header}");
        assert!(header.contains(r#"realm="a, b""#), "{header}");
    }

    #[test]
    fn parse_ignores_unknown_params_and_bare_tokens() {
        let ch = Challenge::parse(r#"Digest realm="r", domain="sip:r", charset=UTF-8, weird, nonce="n", stale=false"#).unwrap();
        assert_eq!(ch.realm, "r");
        assert_eq!(ch.nonce, "n");
        assert!(!ch.stale);
        assert_eq!(ch.opaque, None);
    }

    #[test]
    fn qop_preference_and_auth_int_only() {
        let both = Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-int, auth""#).unwrap();
        let header = authorization(&both, "u", "p", "INVITE", "sip:x", "c", 1).unwrap();
        assert_eq!(field(&header, "qop"), Some("auth"));

        let int_only = Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-int""#).unwrap();
        assert_eq!(authorization(&int_only, "u", "p", "INVITE", "sip:x", "c", 1), Err(DigestError::UnsupportedQop("auth-int".into())));
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Challenge::parse(r#"Basic realm="r""#), Err(DigestError::NotDigest("Basic".into())));
        assert_eq!(Challenge::parse(r#"Digest nonce="n""#), Err(DigestError::MissingParameter("realm")));
        assert_eq!(Challenge::parse(r#"Digest realm="r""#), Err(DigestError::MissingParameter("nonce")));
        assert_eq!(Challenge::parse("Digest"), Err(DigestError::MissingParameter("realm")));
        assert_eq!(Challenge::parse(""), Err(DigestError::NotDigest(String::new())));
        assert_eq!(Challenge::parse(r#"Digest realm="r, nonce=n"#), Err(DigestError::Malformed("unterminated quoted string")));
        assert_eq!(
            Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=SHA-1"#),
            Err(DigestError::UnsupportedAlgorithm("SHA-1".into()))
        );
        assert_eq!(Challenge::parse(r#"Digest realm="r", ="x""#), Err(DigestError::Malformed("parameter without a name")));
    }

    #[test]
    fn rejects_header_injection() {
        let ch = Challenge::parse(r#"Digest realm="r", nonce="n", qop=auth"#).unwrap();
        assert_eq!(authorization(&ch, "u\r\nVia: x", "p", "INVITE", "sip:x", "c", 1), Err(DigestError::InvalidInput("username")));
        assert_eq!(authorization(&ch, "u", "p", "INVITE", "sip:x\n", "c", 1), Err(DigestError::InvalidInput("uri")));
        assert_eq!(authorization(&ch, "u", "p", "IN VITE", "sip:x", "c", 1), Err(DigestError::InvalidInput("method")));
        let bad_nonce = Challenge::parse("Digest realm=\"r\", nonce=\"a\rb\"").unwrap();
        assert_eq!(authorization(&bad_nonce, "u", "p", "INVITE", "sip:x", "c", 1), Err(DigestError::InvalidInput("nonce")));
    }

    #[test]
    fn password_never_leaks() {
        let password = "hunter2-SECRET";
        let creds = Credentials::new("6001", password);
        let debug = format!("{creds:?}");
        assert!(debug.contains("6001"));
        assert!(!debug.contains(password), "{debug}");

        let ch = Challenge::parse(r#"Digest realm="r", nonce="n", qop=auth"#).unwrap();
        let header = creds.authorization(&ch, "INVITE", "sip:x", "c", 1).unwrap();
        assert!(!header.contains(password));
        let err = creds.authorization(&ch, "BAD METHOD", "sip:x", "c", 1).unwrap_err();
        assert!(!err.to_string().contains(password));
        assert!(!format!("{err:?}").contains(password));
    }

    #[test]
    fn userhash_hides_the_username() {
        let ch = Challenge::parse(r#"Digest realm="r", nonce="n", qop=auth, algorithm=SHA-256, userhash=true"#).unwrap();
        let header = authorization(&ch, "alice", "p", "REGISTER", "sip:r", "c", 1).unwrap();
        assert_eq!(field(&header, "username"), Some(Algorithm::Sha256.hex("alice:r").as_str()));
        assert!(header.ends_with(", userhash=true"));
        assert!(!header.contains("alice"));
    }

    #[test]
    fn select_prefers_strongest_usable_challenge() {
        let md5 = r#"Digest realm="r", nonce="n1", qop=auth, algorithm=MD5"#;
        let sha = r#"Digest realm="r", nonce="n2", qop=auth, algorithm=SHA-256"#;
        let unknown = r#"Digest realm="r", nonce="n3", algorithm=SHA-1"#;
        let int_only = r#"Digest realm="r", nonce="n4", qop=auth-int, algorithm=SHA-512-256"#;
        let ch = Challenge::select([unknown, md5, int_only, sha]).unwrap();
        assert_eq!(ch.nonce, "n2");
        assert_eq!(Challenge::select([md5]).unwrap().nonce, "n1");
        assert_eq!(Challenge::select([unknown]), Err(DigestError::UnsupportedAlgorithm("SHA-1".into())));
        assert!(Challenge::select([]).is_err());
    }

    #[test]
    fn nc_is_eight_lowercase_hex_digits() {
        let ch = Challenge::parse(r#"Digest realm="r", nonce="n", qop=auth"#).unwrap();
        let header = authorization(&ch, "u", "p", "INVITE", "sip:x", "c", 0xABCDEF).unwrap();
        assert_eq!(field(&header, "nc"), Some("00abcdef"));
        let header = authorization(&ch, "u", "p", "INVITE", "sip:x", "c", u32::MAX).unwrap();
        assert_eq!(field(&header, "nc"), Some("ffffffff"));
    }

    /// Small deterministic generator so the robustness test needs no crate.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn random_and_truncated_input_never_panics() {
        let seeds = [
            format!("Digest {RFC7616_CHALLENGE_TAIL}, algorithm=SHA-256, stale=true, userhash=true"),
            r#"Digest realm="a\"b", nonce=xyz, qop="auth,auth-int", algorithm=MD5-sess"#.to_owned(),
        ];
        let alphabet: Vec<char> = "Digest realm=nonce\"\\,= \t\r\nqopauth-intMD5SHA256ésš€\u{0}".chars().collect();
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let exercise = |input: &str| {
            if let Ok(ch) = Challenge::parse(input) {
                let _ = authorization(&ch, "u", "p", "INVITE", "sip:x", "c", 1);
            }
        };
        for seed in &seeds {
            for (i, _) in seed.char_indices() {
                exercise(&seed[..i]);
                exercise(&seed[i..]);
            }
        }
        for _ in 0..5000 {
            let mut s: String = seeds[rng.below(seeds.len())].clone();
            for _ in 0..rng.below(6) {
                let mut chars: Vec<char> = s.chars().collect();
                let pos = rng.below(chars.len() + 1);
                match rng.below(3) {
                    0 if pos < chars.len() => {
                        chars.remove(pos);
                    }
                    _ => chars.insert(pos, alphabet[rng.below(alphabet.len())]),
                }
                s = chars.into_iter().collect();
            }
            exercise(&s);
            let random: String = (0..rng.below(80)).map(|_| alphabet[rng.below(alphabet.len())]).collect();
            exercise(&random);
        }
    }
}
