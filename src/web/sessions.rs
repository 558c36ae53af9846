//! Web inbox sessions: random tokens held in memory (a restart signs everyone out), each with
//! its account, its CSRF token and when it was last used; and the one-time tokens of login
//! forms. Nothing here is written to disk or to the log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};

/// The session cookie; `__Host-` makes the browser insist on Secure, Path=/ and no Domain.
pub const COOKIE: &str = "__Host-frontdesk";
/// The login form's double-submitted token.
pub const LOGIN_COOKIE: &str = "__Host-frontdesk-login";
/// Sessions held at most (the oldest goes first), and login tokens outstanding.
const MAX_SESSIONS: usize = 256;
const MAX_LOGIN_TOKENS: usize = 1024;

#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub user: String,
    pub csrf: String,
    started: Instant,
    last_used: Instant,
}

/// The longest a session lasts, in use or not: a working day.
pub const MAX_SESSION: Duration = Duration::from_secs(12 * 3600);

pub struct Sessions {
    idle: Duration,
    live: Mutex<HashMap<String, Session>>,
    login: Mutex<HashMap<String, Instant>>,
}

/// 256 bits from the OS's random source, as hex.
fn token() -> String {
    (0..8).map(|_| format!("{:08x}", crate::entropy::u32())).collect()
}

/// Compares without stopping at the first difference.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Sessions {
    pub fn new(idle: Duration) -> Sessions {
        Sessions { idle, live: Mutex::default(), login: Mutex::default() }
    }

    /// A new session for `user`; its token goes in the cookie.
    pub fn start(&self, user: &str, now: Instant) -> String {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, s| now.duration_since(s.last_used) < self.idle);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live.values().min_by_key(|s| s.last_used).map(|s| s.token.clone())
        {
            live.remove(&oldest);
        }
        let t = token();
        live.insert(t.clone(), Session { token: t.clone(), user: user.to_string(), csrf: token(), started: now, last_used: now });
        t
    }

    /// The session of `token` if it has not expired; using it keeps it alive.
    pub fn get(&self, token: &str, now: Instant) -> Option<Session> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let s = live.get_mut(token)?;
        if now.duration_since(s.last_used) >= self.idle || now.duration_since(s.started) >= MAX_SESSION {
            live.remove(token);
            return None;
        }
        s.last_used = now;
        Some(s.clone())
    }

    pub fn end(&self, token: &str) {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).remove(token);
    }

    /// A one-time token for a login form (valid 10 minutes).
    pub fn login_token(&self) -> String {
        let now = Instant::now();
        let mut m = self.login.lock().unwrap_or_else(|p| p.into_inner());
        m.retain(|_, at| now.duration_since(*at) < Duration::from_secs(600));
        if m.len() >= MAX_LOGIN_TOKENS
            && let Some(oldest) = m.iter().min_by_key(|(_, at)| **at).map(|(t, _)| t.clone())
        {
            m.remove(&oldest);
        }
        let t = token();
        m.insert(t.clone(), now);
        t
    }

    /// Spends a login form's token; false if it was never given or is spent or old.
    pub fn take_login_token(&self, t: &str) -> bool {
        let mut m = self.login.lock().unwrap_or_else(|p| p.into_inner());
        m.remove(t).is_some_and(|at| at.elapsed() < Duration::from_secs(600))
    }
}

/// The value of cookie `name` in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A Set-Cookie value: Secure, HttpOnly, SameSite=Strict, Path=/; `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: u64) -> String {
    format!("{name}={value}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Strict")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_when_idle_and_end_at_logout() {
        let s = Sessions::new(Duration::from_secs(60));
        let now = Instant::now();
        let t = s.start("kim", now);
        assert_eq!(t.len(), 64);
        let got = s.get(&t, now + Duration::from_secs(59)).unwrap();
        assert_eq!(got.user, "kim");
        assert!(s.get(&t, now + Duration::from_secs(118)).is_some(), "use keeps it alive");
        assert!(s.get(&t, now + Duration::from_secs(179)).is_none(), "idle for a minute: gone");
        let t2 = s.start("kim", now);
        assert_ne!(t, t2);
        s.end(&t2);
        assert!(s.get(&t2, now).is_none());
        let long = Sessions::new(MAX_SESSION * 2);
        let t3 = long.start("kim", now);
        assert!(long.get(&t3, now + MAX_SESSION - Duration::from_secs(1)).is_some());
        assert!(long.get(&t3, now + MAX_SESSION).is_none(), "a working day at most, even in use");
        let login = s.login_token();
        assert!(s.take_login_token(&login) && !s.take_login_token(&login), "a login token is spent once");
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
