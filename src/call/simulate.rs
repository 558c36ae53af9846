//! `frontdesk simulate`: a conversation without a phone, for staff trying a config edit and
//! for tests.
//!
//! Caller turns come from standard input, one per line; `<silence 5s>` is a caller who says
//! nothing (a no-input timeout when it lasts at least `conversation.no_input_s`), `<dtmf
//! 03051990#>` is keys pressed, `<hangup>` (or the end of input) hangs up. Each prompt is
//! printed as `AGENT: ...`; the next caller line is read whenever the agent listens; the final
//! record is printed as `RECORD: {json}`.
//!
//! With `--audio`, each caller line is spoken by the configured voice (without its random
//! variation, so runs repeat), taken through 8 kHz
//! G.711 and recognised by the configured Whisper, so what the flow gets is what it would get
//! on a call.

use std::io::{BufRead, Write};
use std::sync::Arc;

use anyhow::Result;

use super::flow::{Action, CallContext, Flow, Input, Script};
use super::script::ScriptConfig;
use crate::record::{CallRecord, now_rfc3339};
use crate::speech::stt::SttSettings;
use crate::speech::tts::TtsSettings;

pub struct Options {
    /// Recognise synthesised speech instead of taking the text as heard.
    pub audio: bool,
    /// The clinic's clock (RFC 3339 or "2026-11-23T10:00-05:00"), for open/closed behaviour.
    pub now: Option<jiff::Timestamp>,
    /// Caller ID to pretend.
    pub caller: Option<String>,
    /// Whether transfers fail (as when nobody picks up).
    pub transfer_fails: bool,
    /// Print `LISTENING` each time the agent waits for the caller (for a program playing the
    /// caller, which answers what it was asked rather than a fixed list).
    pub show_listening: bool,
}

/// What turns caller lines into what the flow hears.
enum Ear {
    Text,
    Audio { voice: Arc<crate::speech::tts::Voice>, stt: Box<crate::speech::stt::Stt> },
}

impl Ear {
    fn hear(&self, line: &str, priming: crate::speech::stt::Priming) -> Result<Input> {
        match self {
            Ear::Text => Ok(Input::Heard { text: line.to_string(), confidence: 1.0 }),
            Ear::Audio { voice, stt } => {
                let spoken = voice.synthesize(line)?;
                let phone = crate::audio::telephone::through_g711(&spoken.samples, spoken.sample_rate, crate::audio::g711::Law::Ulaw)?;
                let wide = crate::audio::resample::resample(&phone, crate::audio::telephone::RATE, crate::speech::stt::SAMPLE_RATE)?;
                let t = stt.transcriber()?.transcribe_turn(&wide, priming)?;
                eprintln!("(heard: {:?}, confidence {:.2})", t.text, t.confidence);
                Ok(Input::Heard { text: t.text, confidence: t.confidence })
            }
        }
    }
}

/// A caller line.
#[derive(Debug, PartialEq)]
enum Line {
    Say(String),
    Silence(f32),
    Keys(String),
    HangUp,
}

fn parse_line(line: &str) -> Line {
    let l = line.trim();
    let tag = l.strip_prefix('<').and_then(|r| r.strip_suffix('>')).map(str::trim);
    match tag {
        Some(t) if t.eq_ignore_ascii_case("hangup") => Line::HangUp,
        Some(t) if t.to_ascii_lowercase().starts_with("silence") => {
            let secs = t[7..].trim().trim_end_matches(['s', 'S']).trim().parse().unwrap_or(0.0);
            Line::Silence(secs)
        }
        Some(t) if t.to_ascii_lowercase().starts_with("dtmf") => Line::Keys(t[4..].trim().to_string()),
        _ => Line::Say(l.to_string()),
    }
}

/// Holds one conversation of `script` with the caller lines of `input`; `stt` and `tts` are
/// used with `opts.audio` only.
pub fn run(
    script: &ScriptConfig,
    stt: &SttSettings,
    tts: &TtsSettings,
    opts: &Options,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<CallRecord> {
    let no_input_s = script.conversation.no_input_s as f32;
    let script = Script::new(script);
    let ear = if opts.audio {
        // The caller speaks with the clinic's voice without its random variation, so a
        // conversation replays the same way every time.
        let voice = Arc::new(crate::speech::tts::Voice::load(tts)?.without_variation());
        let stt = Box::new(crate::speech::stt::Stt::load(stt)?);
        Ear::Audio { voice, stt }
    } else {
        Ear::Text
    };
    let now = opts.now.unwrap_or_else(jiff::Timestamp::now);
    let (open, today) = script.open_at(now);
    let ctx = CallContext { open, today, caller: opts.caller.clone(), dialled: None, started_at: now.to_string() };
    let mut flow = Flow::new(script, ctx);
    let mut actions = flow.start();
    let mut lines = input.lines();
    // A clock for the transcript: each line is taken as two seconds of conversation.
    let mut at_ms: u64 = 0;
    loop {
        let mut listening = false;
        let mut follow_up: Option<Input> = None;
        for action in actions.drain(..) {
            match action {
                Action::Say { text, .. } => {
                    writeln!(out, "AGENT: {text}")?;
                    flow.note_said(at_ms, &text, false);
                }
                Action::Listen(_) => listening = true,
                Action::Transfer(target) => {
                    eprintln!("(transfer to {target}: {})", if opts.transfer_fails { "fails" } else { "answered" });
                    follow_up = Some(Input::TransferResult(if opts.transfer_fails { Err("no answer".into()) } else { Ok(()) }));
                }
                Action::HangUp => {}
                // No classifier in a simulation: the answer is "none".
                Action::Classify { .. } => follow_up = Some(Input::Classified(None)),
            }
        }
        out.flush()?;
        if flow.is_done() {
            break;
        }
        at_ms += 2000;
        let next = if let Some(i) = follow_up {
            i
        } else if listening {
            if opts.show_listening {
                writeln!(out, "LISTENING")?;
                out.flush()?;
            }
            loop {
                match lines.next().transpose()? {
                    None => break Input::CallerHungUp,
                    Some(line) => match parse_line(&line) {
                        Line::HangUp => break Input::CallerHungUp,
                        Line::Keys(k) => break Input::Keys(k),
                        Line::Silence(s) if s >= no_input_s => break Input::NoInput,
                        // A pause shorter than the timeout changes nothing: read on.
                        Line::Silence(_) => continue,
                        Line::Say(text) => break ear.hear(&text, flow.priming())?,
                    },
                }
            }
        } else {
            // The flow neither listens nor ends (it should not happen): do not spin.
            Input::Watchdog
        };
        actions = flow.on_input(at_ms, next);
    }
    let ended = now.checked_add(jiff::SignedDuration::from_millis(at_ms as i64)).map(|t| t.to_string()).unwrap_or_else(|_| now_rfc3339());
    let record = flow.finish_record(ended, at_ms);
    writeln!(out, "RECORD: {}", serde_json::to_string(&record)?)?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_lines() {
        assert_eq!(parse_line("<silence 5s>"), Line::Silence(5.0));
        assert_eq!(parse_line("<silence 2.5 s>"), Line::Silence(2.5));
        assert_eq!(parse_line("<dtmf 03051990#>"), Line::Keys("03051990#".into()));
        assert_eq!(parse_line("<hangup>"), Line::HangUp);
        assert_eq!(parse_line("  I need a refill "), Line::Say("I need a refill".into()));
    }
}
