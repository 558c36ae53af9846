//! A persona on the phone: the listening caller (`frontdesk::loopback_caller`) driven by a
//! [`Persona`], for SIP conversation tests.
//!
//! Each turn waits for the agent to finish (quiet after speech), hears the reply with Whisper,
//! asks the persona, and says its answer in our own steady voice through G.711. Nothing here is
//! timed to how long the agent is expected to take, so a slow or busy machine makes the
//! conversation slower, not different.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use frontdesk::audio::resample::{i16_to_f32, resample};
use frontdesk::loopback_caller::{Ending, Heard, LoopbackCaller};
use frontdesk::speech::stt::{Stt, SttSettings};

use super::persona::{Persona, Reply};

/// The agent's reply is over after this much quiet: its pauses between sentences are about
/// half a second.
pub const QUIET: Duration = Duration::from_millis(1200);
/// More agent prompts than any conversation in the tests needs: a persona and an agent stuck
/// asking each other the same thing end here rather than at the overall timeout.
pub const MAX_PROMPTS: usize = 40;

/// A call as both sides had it.
pub struct Conversation {
    /// In order: `agent: ...` (as the caller's recogniser heard it) and `caller: ...`.
    pub lines: Vec<String>,
    /// Who ended the call, or why the conversation failed.
    pub end: Result<Ending, String>,
}

impl Conversation {
    pub fn transcript(&self) -> String {
        self.lines.join("\n")
    }
}

/// `text` in the steady voice as the caller's phone sends it: 8 kHz through mu-law.
pub fn phone(text: &str) -> Vec<f32> {
    let a = super::steady_voice().synthesize(text).unwrap();
    frontdesk::audio::telephone::through_g711(&a.samples, a.sample_rate, frontdesk::audio::g711::Law::Ulaw).unwrap()
}

/// The caller's recogniser: the example config's, on one thread. It runs beside the daemon on
/// the same cores, and whisper.cpp's threads wait for each other by spinning: two of them next to
/// anything else busy take many times longer, one only longer in proportion.
fn ear() -> &'static Stt {
    static S: OnceLock<Stt> = OnceLock::new();
    S.get_or_init(|| {
        Stt::load(&SttSettings { threads: 1, ..super::config().stt_settings() }).unwrap_or_else(|e| panic!("{e} (run `make models`)"))
    })
}

/// What the caller's recogniser makes of 8 kHz agent audio. The quiet that ended the reply is
/// left out but for a fifth of a second: recognition time grows with the audio, and the
/// caller's thinking time is time the agent waits.
pub fn transcribe(audio: &[i16]) -> String {
    let end = audio.iter().rposition(|s| s.unsigned_abs() > 500).map_or(0, |i| (i + 1600).min(audio.len()));
    let narrow: Vec<f32> = audio[..end].iter().map(|&s| i16_to_f32(s)).collect();
    let wide = resample(&narrow, 8000, 16_000).unwrap();
    match ear().transcriber().and_then(|mut t| t.transcribe(&wide)) {
        Ok(t) => t.text.trim().to_string(),
        Err(e) => format!("[not recognised: {e}]"),
    }
}

/// Calls the daemon on 127.0.0.1:`port` and lets `persona` talk to it until either side hangs
/// up, [`MAX_PROMPTS`] agent prompts have been heard, or `limit` passes.
pub fn converse(port: u16, mut persona: Box<dyn Persona>, limit: Duration) -> Conversation {
    let mut lines = vec![format!("({} calls)", persona.name())];
    let call = match LoopbackCaller::dial(&format!("sip:frontdesk@127.0.0.1:{port}"), "caller") {
        Ok(c) => c,
        Err(e) => return Conversation { lines, end: Err(format!("the call was not answered: {e:#}")) },
    };
    let deadline = Instant::now() + limit;
    // What the agent said since the caller last did (a persona may keep silent over a part).
    let mut heard = String::new();
    let mut prompts = 0;
    let end = loop {
        match call.wait_reply(QUIET, deadline.saturating_duration_since(Instant::now())) {
            Heard::TimedOut => break Err(format!("the call was still going after {limit:?}")),
            Heard::Ended(audio) => {
                if audio.iter().any(|s| s.unsigned_abs() > 500) {
                    lines.push(format!("agent: {}", transcribe(&audio)));
                }
                break Ok(call.ending().unwrap_or(Ending::Agent));
            }
            Heard::Reply(audio) => {
                prompts += 1;
                if prompts > MAX_PROMPTS {
                    break Err(format!("more than {MAX_PROMPTS} agent prompts"));
                }
                let text = transcribe(&audio);
                lines.push(format!("agent: {text}"));
                if is_hold_prompt(&text) {
                    // "One moment.": the reply is late (a busy machine) and still to come.
                    continue;
                }
                heard = format!("{heard} {text}").trim().to_string();
                match persona.reply(&heard) {
                    Reply::Say(words) => {
                        lines.push(format!("caller: {words}"));
                        call.speak_f32(&phone(&words));
                    }
                    Reply::Keys(keys) => {
                        lines.push(format!("caller: <keys {keys}>"));
                        if let Err(e) = call.press(&keys) {
                            break Err(format!("{e:#}"));
                        }
                    }
                    Reply::Silence => continue,
                    Reply::HangUp => {
                        lines.push("caller: <hangs up>".into());
                        break call.hang_up(Duration::from_secs(10)).map(|()| Ending::Caller).map_err(|e| format!("{e:#}"));
                    }
                }
                heard.clear();
            }
        }
    };
    Conversation { lines, end }
}

/// Whether the agent said its hold prompt ("One moment.", said when a reply is late), as the
/// caller's recogniser heard it.
fn is_hold_prompt(heard: &str) -> bool {
    let words = |t: &str| t.to_lowercase().chars().filter(|c| c.is_alphanumeric() || *c == ' ').collect::<String>().trim().to_string();
    let hold = words(&super::config().script().prompts.hold);
    !hold.is_empty() && words(heard) == hold
}

/// Waits for agent replies until one ends with a question (an announcement or a sentence
/// synthesised late may come first, apart); everything heard until then, as recognised.
pub fn until_asked(call: &LoopbackCaller, limit: Duration) -> Result<String, String> {
    let deadline = Instant::now() + limit;
    let mut heard = String::new();
    loop {
        match call.wait_reply(QUIET, deadline.saturating_duration_since(Instant::now())) {
            Heard::Reply(audio) => {
                heard = format!("{heard} {}", transcribe(&audio)).trim().to_string();
                if heard.ends_with('?') {
                    return Ok(heard);
                }
            }
            Heard::Ended(_) => return Err(format!("the call ended; the agent had said: {heard:?}")),
            Heard::TimedOut => return Err(format!("no question within {limit:?}; the agent had said: {heard:?}")),
        }
    }
}
