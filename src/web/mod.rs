//! The staff web inbox (`[web]`, off unless configured): the callback worklist, one call's
//! details and transcript, acknowledging a message, and search by date, outcome and request,
//! over HTTPS on the clinic's network, for staff accounts of the box (`frontdesk staff add`).
//!
//! What a clinic's IT contractor will check, and where it is:
//! - HTTPS only (rustls, TLS 1.2/1.3; the certificate reloaded like SIP's when renewed);
//! - every page but the login needs a session: a random 256-bit token in a cookie that is
//!   `Secure; HttpOnly; SameSite=Strict`, made anew at each login (no fixation), expiring after
//!   `session_minutes` without use, gone at logout;
//! - every form that changes something carries the session's CSRF token (the login form a
//!   token of its own, double-submitted), and a POST from another origin is refused;
//! - an account is locked for 15 minutes after 5 failed logins ([`accounts::Lockout`]);
//! - every response carries a strict Content-Security-Policy (nothing but this binary's own
//!   stylesheet and the call's recording, played by the browser's own player; no script at all), `nosniff`, no framing, no referrer to other sites, no caching;
//! - URLs hold call numbers and search terms of the clinic's own vocabulary (dates, outcomes,
//!   requests), never a caller's data; the log says which account did what to which call id,
//!   nothing more; every read and acknowledgement goes to the audit trail as "web: NAME".

pub mod accounts;
mod pages;
mod sessions;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::config::Config;
use crate::store::{Filter, Store};
use sessions::Sessions;

/// `[web]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSection {
    /// Address and port, e.g. "192.168.1.20:8443" (HTTPS).
    pub listen: SocketAddr,
    /// PEM certificate (then its chain) and key, as for `[sip.tls]`.
    pub certificate: PathBuf,
    pub key: PathBuf,
    /// A session ends after this many minutes without a request.
    #[serde(default = "default_session_minutes")]
    pub session_minutes: u64,
}

fn default_session_minutes() -> u64 {
    30
}

impl WebSection {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        for (key, path) in [("certificate", &self.certificate), ("key", &self.key)] {
            if !path.is_file() {
                p.push((key, format!("{}: no such file (PEM); the inbox is served over HTTPS only", path.display())));
            }
        }
        if !(5..=720).contains(&self.session_minutes) {
            p.push(("session_minutes", format!("{}: use 5 to 720", self.session_minutes)));
        }
        p
    }
}

struct App {
    store: Arc<Store>,
    config: Arc<Config>,
    data_dir: PathBuf,
    sessions: Sessions,
    lockout: accounts::Lockout,
    /// Password checks at once (each Argon2id takes 19 MiB and a core's tens of milliseconds).
    checking: tokio::sync::Semaphore,
}

/// Connections served at once; more are closed at once (a clinic has a handful of staff).
const CONNECTIONS: usize = 32;
/// The longest one connection may last, whatever it does (a slow body, an idle keep-alive).
const CONNECTION_LIMIT: Duration = Duration::from_secs(60);
/// The largest request body: the forms are a few hundred bytes.
const BODY_LIMIT: usize = 8 * 1024;

/// Serves the inbox until the listener fails.
pub async fn serve(section: WebSection, config: Arc<Config>, store: Arc<Store>) -> Result<()> {
    let tls = crate::tls_files::Reloading::new(&section.certificate, &section.key, "web")?;
    let listener =
        tokio::net::TcpListener::bind(section.listen).await.with_context(|| format!("web.listen {}: cannot listen", section.listen))?;
    let app = Arc::new(App {
        data_dir: config.store_settings().data_dir,
        store,
        config,
        sessions: Sessions::new(Duration::from_secs(section.session_minutes * 60)),
        lockout: accounts::Lockout::default(),
        checking: tokio::sync::Semaphore::new(2),
    });
    let router = router(app);
    let open = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS));
    tracing::info!(listen = %section.listen, "web inbox listening (HTTPS)");
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors, say: wait rather than spin.
                tracing::warn!("web: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(source = %peer.ip(), limit = CONNECTIONS, "web: too many connections, this one closed");
            continue;
        };
        let acceptor = tls.acceptor();
        let router = router.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return tracing::debug!(source = %peer.ip(), "web: handshake refused: {e}"),
                Err(_) => return,
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            // A slow client cannot hold a connection: its request head within 10 s.
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service);
            let _ = tokio::time::timeout(CONNECTION_LIMIT, conn).await;
        });
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(worklist))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/calls/{id}", get(call))
        .route("/calls/{id}/ack", post(ack))
        .route("/calls/{id}/recording.wav", get(recording))
        .route("/search", get(search))
        .route("/style.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], pages::STYLE) }))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

/// On every response, whatever produced it.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on our
        // own forms, and the origin check could not tell them from a foreign page.
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
        (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
        (header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        (header::HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    r
}

/// The signed-in account, or a redirect to the login page. An account removed with
/// `frontdesk staff remove` loses its sessions at its next request.
fn user(app: &App, headers: &HeaderMap) -> Result<sessions::Session, Response> {
    let session = sessions::cookie(headers, sessions::COOKIE).and_then(|token| app.sessions.get(&token, Instant::now()));
    match session {
        Some(s) if accounts::names(&app.data_dir).is_ok_and(|n| n.contains(&s.user)) => Ok(s),
        Some(s) => {
            app.sessions.end(&s.token);
            Err(Redirect::to("/login").into_response())
        }
        None => Err(Redirect::to("/login").into_response()),
    }
}

/// A POST must come from a page of ours: its Origin, when the browser sends one, is this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin.strip_prefix("https://").is_some_and(|o| o == host)
}

/// The call numbers a page showed, for the audit trail.
fn ids(calls: &[crate::store::StoredCall]) -> String {
    calls.iter().map(|c| c.id.to_string()).collect::<Vec<_>>().join(", ")
}

fn refused(why: &str) -> Response {
    (StatusCode::FORBIDDEN, pages::message("Refused", why)).into_response()
}

/// Runs a store call off the reactor.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::error!("web: {e:#}");
            Err((StatusCode::INTERNAL_SERVER_ERROR, pages::message("Error", "The box could not do that; see its log.")).into_response())
        }
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
    }
}

async fn login_page(State(app): State<Arc<App>>) -> Response {
    let token = app.sessions.login_token();
    let cookie = sessions::set_cookie(sessions::LOGIN_COOKIE, &token, 600);
    ([(header::SET_COOKIE, cookie)], pages::login(&token, None)).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    csrf: String,
}

async fn login(State(app): State<Arc<App>>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let expected = sessions::cookie(&headers, sessions::LOGIN_COOKIE);
    if !same_origin(&headers) || expected.as_deref() != Some(form.csrf.as_str()) || !app.sessions.take_login_token(&form.csrf) {
        return refused("The login form expired or came from elsewhere. Open the login page again.");
    }
    let again = |why: &str| {
        let token = app.sessions.login_token();
        let cookie = sessions::set_cookie(sessions::LOGIN_COOKIE, &token, 600);
        (StatusCode::UNAUTHORIZED, [(header::SET_COOKIE, cookie)], pages::login(&token, Some(why))).into_response()
    };
    let name = form.name.trim().to_string();
    if !accounts::valid_name(&name) {
        return again("Wrong name or password.");
    }
    // One check at a time per permit, and the lock looked at once the permit is held, so
    // parallel guesses cannot all slip past it.
    let Ok(_permit) = app.checking.acquire().await else { return again("Try again.") };
    let now = Instant::now();
    if app.lockout.locked(&name, now) {
        tracing::warn!(account = %name, "web: login refused, the account is locked");
        return again("Too many failed attempts: this account is locked for 15 minutes.");
    }
    let (dir, n, pw) = (app.data_dir.clone(), name.clone(), form.password);
    let ok = tokio::task::spawn_blocking(move || accounts::verify(&dir, &n, &pw)).await.unwrap_or(false);
    if !ok {
        let locked = app.lockout.failed(&name, now);
        let shown = name.as_str();
        tracing::warn!(account = %shown, locked, "web: failed login");
        let _ = app.store.audit_as(&format!("web: {shown}"), "login_failed", if locked { "account locked" } else { "wrong password" });
        return again(if locked { "Too many failed attempts: this account is locked for 15 minutes." } else { "Wrong name or password." });
    }
    app.lockout.succeeded(&name);
    // A new token at every login: a session id planted before the login is worth nothing.
    if let Some(old) = sessions::cookie(&headers, sessions::COOKIE) {
        app.sessions.end(&old);
    }
    let token = app.sessions.start(&name, now);
    tracing::info!(account = %name, "web: signed in");
    let _ = app.store.audit_as(&format!("web: {name}"), "login", "signed in to the web inbox");
    let mut r = Redirect::to("/").into_response();
    let h = r.headers_mut();
    h.append(header::SET_COOKIE, HeaderValue::from_str(&sessions::set_cookie(sessions::COOKIE, &token, 12 * 3600)).expect("cookie"));
    h.append(header::SET_COOKIE, HeaderValue::from_str(&sessions::set_cookie(sessions::LOGIN_COOKIE, "", 0)).expect("cookie"));
    r
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let s = match user(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !same_origin(&headers) || !sessions::same(&form.csrf, &s.csrf) {
        return refused("That form came from elsewhere.");
    }
    app.sessions.end(&s.token);
    let _ = app.store.audit_as(&format!("web: {}", s.user), "logout", "signed out");
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&sessions::set_cookie(sessions::COOKIE, "", 0)).expect("cookie"));
    r
}

async fn worklist(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let s = match user(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (store, actor) = (app.store.clone(), format!("web: {}", s.user));
    let calls = match blocking(move || {
        let calls = store.list(&Filter { worklist: true, ..Filter::default() })?;
        store.audit_as(&actor, "read", &format!("web worklist: {} waiting (calls {})", calls.len(), ids(&calls)))?;
        Ok(calls)
    })
    .await
    {
        Ok(c) => c,
        Err(r) => return r,
    };
    pages::worklist(&app.config, &s, &calls).into_response()
}

async fn call(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let s = match user(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (store, actor) = (app.store.clone(), format!("web: {}", s.user));
    let found = match blocking(move || {
        let c = store.get(id)?;
        let what = match &c {
            None => "no such call",
            Some(c) if crate::staff::damaged_note(c).is_some() => "integrity check failed",
            Some(_) => "shown",
        };
        store.audit_as(&actor, "read", &format!("web call {id}: {what}"))?;
        Ok(c)
    })
    .await
    {
        Ok(c) => c,
        Err(r) => return r,
    };
    tracing::info!(account = %s.user, call = id, "web: call opened");
    match found {
        Some(c) => pages::call(&app.config, &s, &c).into_response(),
        None => (StatusCode::NOT_FOUND, pages::message("Not found", "There is no such call (it may have been purged by retention)."))
            .into_response(),
    }
}

/// The call's recording as a WAV for the page's player (caller left, agent right), opened
/// from its sealed chunks for this request only and never cached; every play is audited
/// under the account. None of it is served when a chunk fails its check.
async fn recording(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let s = match user(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (store, actor) = (app.store.clone(), format!("web: {}", s.user));
    let wav = match blocking(move || {
        let Some(key) = store.existing_recording_key(id)? else {
            store.audit_as(&actor, "play", &format!("web call {id} recording: none"))?;
            return Ok(None);
        };
        let file = crate::store::recording::dir(store.data_dir()).join(crate::store::recording::file_name(id));
        match crate::store::recording::read(&file, &key, id) {
            Ok(playback) => {
                store.audit_as(&actor, "play", &format!("web call {id} recording"))?;
                Ok(Some(crate::staff::stereo_wav(&playback)?))
            }
            Err(e) => {
                store.audit_as(&actor, "play_refused", &format!("web call {id} recording: integrity check failed"))?;
                tracing::error!(call = id, "web: a recording failed its check and was not served: {e:#}");
                Ok(None)
            }
        }
    })
    .await
    {
        Ok(w) => w,
        Err(r) => return r,
    };
    match wav {
        Some(bytes) => {
            tracing::info!(account = %s.user, call = id, "web: recording played");
            ([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, pages::message("Not found", "This call has no recording (not recorded, or purged by retention)."))
            .into_response(),
    }
}

async fn ack(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<i64>, Form(form): Form<CsrfForm>) -> Response {
    let s = match user(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !same_origin(&headers) || !sessions::same(&form.csrf, &s.csrf) {
        tracing::warn!(account = %s.user, call = id, "web: acknowledgement refused (CSRF token)");
        return refused("That form came from elsewhere.");
    }
    let (store, actor) = (app.store.clone(), format!("web: {}", s.user));
    let by = actor.clone();
    let done = match blocking(move || {
        let done = store.ack_by(id, &crate::record::now_rfc3339(), &by)?;
        if done {
            store.audit_as(&actor, "ack", &format!("message {id} handled (web)"))?;
        }
        Ok(done)
    })
    .await
    {
        Ok(d) => d,
        Err(r) => return r,
    };
    tracing::info!(account = %s.user, call = id, done, "web: message acknowledged");
    Redirect::to("/").into_response()
}

#[derive(Deserialize, Default)]
struct SearchQuery {
    from: Option<String>,
    to: Option<String>,
    outcome: Option<String>,
    intent: Option<String>,
}

async fn search(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<SearchQuery>) -> Response {
    let s = match user(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let nonempty = |v: &Option<String>| v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let when = |v: &Option<String>, what| nonempty(v).map(|d| crate::staff::parse_when(&app.config, &d, what)).transpose();
    let filter = match (when(&q.from, "from"), when(&q.to, "to")) {
        (Ok(since), Ok(until)) => Filter { since, until, outcome: nonempty(&q.outcome), intent: nonempty(&q.intent), worklist: false },
        (Err(e), _) | (_, Err(e)) => return (StatusCode::BAD_REQUEST, pages::message("Search", &format!("{e}"))).into_response(),
    };
    let (store, actor) = (app.store.clone(), format!("web: {}", s.user));
    let described = format!("{:?} {:?} {:?} {:?}", filter.since, filter.until, filter.outcome, filter.intent);
    let calls = match blocking(move || {
        let calls = store.list(&filter)?;
        store.audit_as(&actor, "read", &format!("web search {described}: {} calls ({})", calls.len(), ids(&calls)))?;
        Ok(calls)
    })
    .await
    {
        Ok(c) => c,
        Err(r) => return r,
    };
    let shown = [&q.from, &q.to, &q.outcome, &q.intent].map(|v| nonempty(v).unwrap_or_default());
    pages::search(&app.config, &s, &shown, &calls).into_response()
}
