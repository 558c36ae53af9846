//! Counters for the vendor's monitoring (`[metrics]`, Prometheus text on a local port) and
//! `frontdesk status`: how the box is doing, never what a caller said or who called.
//!
//! Every label value comes from a closed set the box defines (an outcome, a request flow of
//! the clinic's own script, a registration state); nothing here takes a number, a name, a
//! transcript or a Call-ID, so none can leak by accident. The parts of the daemon that know
//! a fact tell this module (a call's end, a purge, a request to the language model); what is
//! cheaper to look up than to keep (the store's size, the audit chain's length) is set by the
//! daemon just before each scrape ([`Scrape`]).
//!
//! One registry per process, built on first use. Recording is a few atomic adds: the call
//! engine and the SIP loop report once per call, not per frame.

use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    /// `answered`, `message_taken`, `transferred`... (`record::Outcome`).
    outcome: String,
    /// The request flow of the clinic's script, or `none`.
    intent: String,
}

struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    calls_active: Gauge,
    turn_seconds: Histogram,
    stt_seconds: Histogram,
    tts_seconds: Histogram,
    rtp_received: Counter,
    rtp_lost: Counter,
    rtp_invalid: Counter,
    rtp_jitter_seconds: Histogram,
    registered: Gauge,
    store_bytes: Gauge,
    audit_entries: Gauge,
    purge_runs: Counter,
    assist_requests: Counter,
}

fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| {
        let mut registry = Registry::with_prefix("frontdesk");
        // Replies: 100 ms to 5 s; recognition and synthesis: 10 ms to 2.5 s; jitter: 1-160 ms.
        let replies = || Histogram::new([0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0].into_iter());
        let work = || Histogram::new([0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 2.5].into_iter());
        let m = Metrics {
            calls: Family::default(),
            calls_active: Gauge::default(),
            turn_seconds: replies(),
            stt_seconds: work(),
            tts_seconds: work(),
            rtp_received: Counter::default(),
            rtp_lost: Counter::default(),
            rtp_invalid: Counter::default(),
            rtp_jitter_seconds: Histogram::new([0.001, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16].into_iter()),
            registered: Gauge::default(),
            store_bytes: Gauge::default(),
            audit_entries: Gauge::default(),
            purge_runs: Counter::default(),
            assist_requests: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("calls", "Calls ended, by outcome and request", m.calls.clone());
        registry.register("calls_active", "Conversations in progress", m.calls_active.clone());
        registry.register("turn_latency_seconds", "From the caller's last voice to the reply's first audio", m.turn_seconds.clone());
        registry.register("stt_seconds", "Recognition work per caller turn", m.stt_seconds.clone());
        registry.register("tts_seconds", "From the decision to the reply's first audio", m.tts_seconds.clone());
        registry.register("rtp_packets_received", "RTP packets received on ended calls", m.rtp_received.clone());
        registry.register("rtp_packets_lost", "20 ms frames missing (lost or too late) on ended calls", m.rtp_lost.clone());
        registry.register("rtp_packets_invalid", "RTP packets refused as malformed or foreign", m.rtp_invalid.clone());
        registry.register("rtp_jitter_seconds", "Interarrival jitter of each ended call", m.rtp_jitter_seconds.clone());
        registry.register("sip_registered", "1 while the SIP registration holds, 0 otherwise (absent without one)", m.registered.clone());
        registry.register("store_bytes", "Size of the sealed call store and its recordings", m.store_bytes.clone());
        registry.register("audit_chain_entries", "Entries in the audit trail's hash chain", m.audit_entries.clone());
        registry.register("purge_runs", "Retention purges run", m.purge_runs.clone());
        registry.register("assist_requests", "Requests sent to the optional language model (redacted)", m.assist_requests.clone());
        Metrics { registry, ..m }
    })
}

/// A label value from a closed set: a token of at most 32 letters, digits, '_' or '-', else
/// `other`. The script's flow names pass; anything that could be free text does not.
fn closed(value: &str) -> String {
    let ok = !value.is_empty() && value.len() <= 32 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok { value.to_ascii_lowercase() } else { "other".into() }
}

/// A conversation started.
pub fn call_started() {
    metrics().calls_active.inc();
}

/// One finished turn's timing (milliseconds), as the call record keeps it.
pub struct TurnTiming {
    pub total_ms: u32,
    pub stt_work_ms: u32,
    pub tts_ms: u32,
}

/// A conversation ended: its outcome, the flow it took (or None) and its turns' timings.
pub fn call_ended(outcome: &str, intent: Option<&str>, turns: impl IntoIterator<Item = TurnTiming>) {
    let m = metrics();
    m.calls_active.dec();
    m.calls.get_or_create(&CallLabels { outcome: closed(outcome), intent: intent.map_or("none".into(), closed) }).inc();
    for t in turns {
        m.turn_seconds.observe(f64::from(t.total_ms) / 1000.0);
        m.stt_seconds.observe(f64::from(t.stt_work_ms) / 1000.0);
        m.tts_seconds.observe(f64::from(t.tts_ms) / 1000.0);
    }
}

/// A SIP call's media ended with these counts.
pub fn rtp_call_ended(received: u64, missing: u64, invalid: u64, jitter_ms: f64) {
    let m = metrics();
    m.rtp_received.inc_by(received);
    m.rtp_lost.inc_by(missing);
    m.rtp_invalid.inc_by(invalid);
    m.rtp_jitter_seconds.observe(jitter_ms / 1000.0);
}

/// The SIP registration's state changed.
pub fn registered(holds: bool) {
    metrics().registered.set(i64::from(holds));
}

/// A retention purge ran.
pub fn purge_ran() {
    metrics().purge_runs.inc();
}

/// A request left for the language model.
pub fn assist_request() {
    metrics().assist_requests.inc();
}

/// What the daemon looks up at each scrape.
pub struct Scrape {
    pub store_bytes: u64,
    pub audit_entries: u64,
}

/// The Prometheus text exposition of everything, with `scrape` filled in.
pub fn render(scrape: &Scrape) -> String {
    let m = metrics();
    m.store_bytes.set(i64::try_from(scrape.store_bytes).unwrap_or(i64::MAX));
    m.audit_entries.set(i64::try_from(scrape.audit_entries).unwrap_or(i64::MAX));
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &m.registry);
    out
}

/// `frontdesk status`: the exposition read back into a few lines for a person at a terminal.
pub fn summary(exposition: &str) -> String {
    // name{labels} value, comments skipped.
    let samples: Vec<(&str, &str, f64)> = exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            Some((name, labels, value.parse().ok()?))
        })
        .collect();
    let one = |name: &str| samples.iter().find(|(n, _, _)| *n == name).map(|s| s.2);
    let label = |labels: &str, key: &str| -> String {
        labels
            .split(',')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=\"")).map(|v| v.trim_end_matches('"').to_string()))
            .unwrap_or_default()
    };
    let mut by_outcome: std::collections::BTreeMap<String, f64> = Default::default();
    let mut by_intent: std::collections::BTreeMap<String, f64> = Default::default();
    for (_, labels, v) in samples.iter().filter(|(n, _, _)| *n == "frontdesk_calls_total") {
        *by_outcome.entry(label(labels, "outcome")).or_default() += v;
        *by_intent.entry(label(labels, "intent")).or_default() += v;
    }
    let list = |m: &std::collections::BTreeMap<String, f64>| m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
    let ended: f64 = by_outcome.values().sum();
    let mut out = String::new();
    let mut line = |what: &str, value: String| out.push_str(&format!("{what:<22}{value}\n"));
    line("calls in progress", format!("{}", one("frontdesk_calls_active").unwrap_or(0.0)));
    line("calls ended", if ended > 0.0 { format!("{ended} ({})", list(&by_outcome)) } else { "0".into() });
    if ended > 0.0 {
        line("  by request", list(&by_intent));
    }
    let turns = one("frontdesk_turn_latency_seconds_count").unwrap_or(0.0);
    if turns > 0.0 {
        // The median's bucket: the first upper bound holding half the turns.
        let p50 = samples
            .iter()
            .filter(|(n, _, _)| *n == "frontdesk_turn_latency_seconds_bucket")
            .find(|(_, _, c)| *c >= turns / 2.0)
            .map(|(_, l, _)| label(l, "le"))
            .unwrap_or_default();
        let mean = one("frontdesk_turn_latency_seconds_sum").unwrap_or(0.0) / turns;
        line("reply latency", format!("{turns} turns, mean {:.0} ms, median at most {p50} s", mean * 1000.0));
    } else {
        line("reply latency", "no turns yet".into());
    }
    line(
        "RTP (ended calls)",
        format!(
            "{} packets received, {} lost or late, {} refused",
            one("frontdesk_rtp_packets_received_total").unwrap_or(0.0),
            one("frontdesk_rtp_packets_lost_total").unwrap_or(0.0),
            one("frontdesk_rtp_packets_invalid_total").unwrap_or(0.0)
        ),
    );
    line(
        "SIP registration",
        match one("frontdesk_sip_registered") {
            Some(v) if v > 0.0 => "registered".into(),
            Some(_) => "NOT registered".into(),
            None => "none configured, or not tried yet".into(),
        },
    );
    line("store", format!("{:.1} MB", one("frontdesk_store_bytes").unwrap_or(0.0) / 1e6));
    line("audit chain", format!("{} entries", one("frontdesk_audit_chain_entries").unwrap_or(0.0)));
    line("retention purges", format!("{}", one("frontdesk_purge_runs_total").unwrap_or(0.0)));
    line("language model", format!("{} requests (redacted)", one("frontdesk_assist_requests_total").unwrap_or(0.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_never_becomes_a_label() {
        assert_eq!(closed("refill"), "refill");
        assert_eq!(closed("new_appointment"), "new_appointment");
        assert_eq!(closed("John Smith"), "other");
        assert_eq!(closed("+15551234567"), "other");
        assert_eq!(closed(""), "other");
    }

    #[test]
    fn a_call_shows_in_the_exposition() {
        call_started();
        call_ended("answered", Some("faq-hours"), [TurnTiming { total_ms: 380, stt_work_ms: 150, tts_ms: 20 }]);
        let text = render(&Scrape { store_bytes: 4096, audit_entries: 7 });
        assert!(text.contains("frontdesk_calls_total{outcome=\"answered\",intent=\"faq-hours\"}"), "{text}");
        assert!(text.contains("frontdesk_store_bytes 4096"), "{text}");
        assert!(text.contains("frontdesk_turn_latency_seconds_bucket{le=\"0.4\"}"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        let summary = summary(&text);
        assert!(summary.contains("by request") && summary.contains("faq-hours"), "{summary}");
        assert!(summary.contains("audit chain           7 entries"), "{summary}");
    }
}
