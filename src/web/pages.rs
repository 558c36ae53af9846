//! The inbox's pages: plain HTML forms (no script), every value from a call escaped, one
//! stylesheet served from the binary. Readable on a phone and on a desktop.

use std::fmt::Write as _;

use axum::response::Html;

use super::sessions::Session;
use crate::config::Config;
use crate::record::Speaker;
use crate::staff::{local, phone, seconds};
use crate::store::{Sealed, StoredCall};

pub const STYLE: &str = include_str!("style.css");

/// A slot's name as a label: "date_of_birth" → "Date of birth".
fn label(key: &str) -> String {
    let words = key.replace('_', " ");
    let mut c = words.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// "1 call", "3 calls".
fn calls_count(n: usize) -> String {
    if n == 1 { "1 call".into() } else { format!("{n} calls") }
}

/// HTML-escaped text.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, session: Option<&Session>, body: &str) -> Html<String> {
    let mut nav = String::new();
    if let Some(s) = session {
        let _ = write!(
            nav,
            "<nav><a href=\"/\">Worklist</a><a href=\"/search\">Search</a><span class=\"who\">{}</span>\
             <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button>Sign out</button></form></nav>",
            esc(&s.user),
            esc(&s.csrf)
        );
    }
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · Frontdesk</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body><header><h1>Frontdesk</h1>{nav}</header>\
         <main><h2>{t}</h2>{body}</main></body></html>",
        t = esc(title)
    ))
}

pub fn message(title: &str, text: &str) -> Html<String> {
    page(title, None, &format!("<p>{}</p><p><a href=\"/\">Back</a></p>", esc(text)))
}

pub fn login(csrf: &str, error: Option<&str>) -> Html<String> {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
    page(
        "Sign in",
        None,
        &format!(
            "{error}<form method=\"post\" action=\"/login\" class=\"card login\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label>Name<input name=\"name\" autocomplete=\"username\" required autofocus></label>\
             <label>Password<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
             <button>Sign in</button></form>",
            esc(csrf)
        ),
    )
}

/// Name and number to call back, from the sealed intake.
fn who(c: &StoredCall) -> (String, String) {
    match &c.intake {
        Sealed::Open(r) => (
            r.slots.get("name").cloned().unwrap_or_else(|| "(no name given)".into()),
            r.slots.get("callback").or(r.caller.as_ref()).map(|p| phone(p)).unwrap_or_else(|| "(no number)".into()),
        ),
        Sealed::Purged => ("(purged)".into(), String::new()),
        Sealed::Damaged => ("(failed its integrity check)".into(), String::new()),
    }
}

fn table(config: &Config, calls: &[StoredCall]) -> String {
    let mut t = String::from(
        "<table><thead><tr><th>#</th><th>When</th><th>Request</th><th>Name</th><th>Call back</th><th>Status</th></tr></thead><tbody>",
    );
    for c in calls {
        let (name, number) = who(c);
        let urgent = c.outcome == "emergency";
        let status = match (&c.acked_by, urgent) {
            (Some(by), _) => format!("handled by {}", esc(by)),
            (None, true) => "<strong>EMERGENCY</strong>".into(),
            (None, false) => esc(&c.outcome.replace('_', " ")),
        };
        let _ = write!(
            t,
            "<tr{cls}><td><a href=\"/calls/{id}\">{id}</a></td><td>{when}</td><td>{req}</td><td><a href=\"/calls/{id}\">{name}</a></td><td>{number}</td><td>{status}</td></tr>",
            cls = if urgent { " class=\"urgent\"" } else { "" },
            id = c.id,
            when = esc(&local(config, &c.started_at)),
            req = esc(&c.intent.as_deref().unwrap_or("-").replace('_', " ")),
            name = esc(&name),
            number = esc(&number),
        );
    }
    t.push_str("</tbody></table>");
    t
}

pub fn worklist(config: &Config, s: &Session, calls: &[StoredCall]) -> Html<String> {
    let body = if calls.is_empty() {
        "<p class=\"empty\">No messages waiting.</p>".to_string()
    } else {
        format!("<p>{} waiting, emergencies first.</p>{}", calls.len(), table(config, calls))
    };
    page("Callback worklist", Some(s), &body)
}

/// A drop-down of `values` (stored words, shown with spaces) with "any" first; the value
/// searched for stays selected, even one the list does not have (typed into the address).
fn select(name: &str, label: &str, selected: &str, values: &[String]) -> String {
    let mut out = format!("<label>{label}<select name=\"{name}\"><option value=\"\">any</option>");
    let mut listed = false;
    for v in values.iter().map(String::as_str).chain((!selected.is_empty() && !values.iter().any(|v| v == selected)).then_some(selected)) {
        let on = if v == selected && !listed { " selected" } else { "" };
        listed |= v == selected;
        let _ = write!(out, "<option value=\"{}\"{on}>{}</option>", esc(v), esc(&v.replace('_', " ")));
    }
    out.push_str("</select></label>");
    out
}

pub fn search(config: &Config, s: &Session, shown: &[String; 4], calls: &[StoredCall]) -> Html<String> {
    let [from, to] = [&shown[0], &shown[1]].map(|v| esc(v));
    let mut outcomes: Vec<String> = crate::record::Outcome::ALL.iter().map(|o| o.as_str().to_string()).collect();
    outcomes.push("in_progress".into());
    let requests = config.request_names();
    let body = format!(
        "<form method=\"get\" action=\"/search\" class=\"card search\">\
         <label>From<input type=\"date\" name=\"from\" value=\"{from}\"></label><label>To<input type=\"date\" name=\"to\" value=\"{to}\"></label>\
         {}{}<button>Search</button></form>\
         <p>{}.</p>{}",
        select("outcome", "Outcome", &shown[2], &outcomes),
        select("intent", "Request", &shown[3], &requests),
        calls_count(calls.len()),
        table(config, calls)
    );
    page("Search calls", Some(s), &body)
}

pub fn call(config: &Config, s: &Session, c: &StoredCall) -> Html<String> {
    let mut b = String::new();
    if let Some(why) = crate::staff::damaged_note(c) {
        let _ = write!(b, "<p class=\"error\">{}</p>", esc(&why));
        return page(&format!("Call {}", c.id), Some(s), &b);
    }
    let row = |b: &mut String, k: &str, v: &str| {
        let _ = write!(b, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    };
    b.push_str("<table class=\"details\">");
    row(&mut b, "Started", &format!("{} ({})", local(config, &c.started_at), config.hours.time_zone));
    row(&mut b, "Length", &seconds(c.duration_ms));
    row(&mut b, "Outcome", &c.outcome.replace('_', " "));
    if let Some(by) = &c.acked_by {
        row(&mut b, "Handled", &format!("by {by}, {}", local(config, c.acked_at.as_deref().unwrap_or(""))));
    }
    match &c.intake {
        Sealed::Open(r) => {
            row(&mut b, "Request", r.intent.as_deref().unwrap_or("-"));
            row(&mut b, "Caller ID", &r.caller.as_deref().map(phone).unwrap_or_else(|| "(withheld)".into()));
            row(&mut b, "Confirmed", if r.confirmed { "yes, the caller confirmed the read-back" } else { "no" });
            if let Some(s) = &r.summary {
                row(&mut b, "Summary", &format!("{s} {}", crate::staff::MODEL_WORDS));
            }
            for (k, v) in &r.slots {
                row(&mut b, &label(k), &if k == "callback" { phone(v) } else { v.clone() });
            }
            for (k, why) in &r.missing {
                row(&mut b, &label(k), crate::record::missing_reason(why));
            }
            if let Some(f) = &r.red_flag {
                row(&mut b, "Red flag", f);
            }
        }
        _ => row(&mut b, "Details", "(purged by retention)"),
    }
    b.push_str("</table>");
    if c.acked_by.is_none() {
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/calls/{}/ack\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button class=\"primary\">Mark handled</button></form>",
            c.id,
            esc(&s.csrf)
        );
    }
    if c.has_recording {
        // preload="none": the audio is fetched (and the play audited) only when staff press play.
        let _ = write!(
            b,
            "<h3>Recording</h3><audio controls preload=\"none\" src=\"/calls/{}/recording.wav\"></audio><p class=\"note\">The caller on the left, Frontdesk on the right.</p>",
            c.id
        );
    }
    b.push_str("<h3>Transcript</h3>");
    match &c.transcript {
        Sealed::Open(t) => {
            b.push_str("<ol class=\"transcript\">");
            for u in t {
                let (cls, who) = match u.speaker {
                    Speaker::Agent => ("agent", "Frontdesk"),
                    Speaker::Caller => ("caller", "Caller"),
                };
                let _ = write!(
                    b,
                    "<li class=\"{cls}\"><span class=\"at\">{}:{:02}</span> <span class=\"who\">{who}</span> {}</li>",
                    u.at_ms / 60_000,
                    u.at_ms / 1000 % 60,
                    esc(&u.text)
                );
            }
            b.push_str("</ol>");
        }
        _ => b.push_str("<p>(purged by retention)</p>"),
    }
    page(&format!("Call {}", c.id), Some(s), &b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_from_a_call_cannot_become_markup() {
        assert_eq!(
            super::esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
