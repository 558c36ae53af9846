//! The analog line's control plane: the hook relay, and what the line interface senses (ringing,
//! loop current, polarity). Audio is elsewhere ([`super::audio`]); a box may pair any audio
//! device with any of these.
//!
//! Back-ends ([`ControlSpec`], `fxo.control` in the config):
//! - `alsa-mixer`: an ALSA modem codec (AC'97 MC'97, HDA Si3054) whose mixer has the booleans
//!   `Off-hook Switch` and `Caller ID Switch`. It senses nothing: rings are not reported.
//! - `gpio`: a DAA board on the Linux GPIO character device: one output line for the hook
//!   relay, input lines for the ring detector (edges counted, so raw opto pulses are not
//!   missed between frames), loop current and polarity.
//! - `hid`: the same DAA signals on the GPIO pins of a CM108-style USB sound interface, driven
//!   through HID reports on `/dev/hidrawN` ([`super::cm108`]).
//! - `scripted`: the line's events read from a file, at times on the line's sample clock; for
//!   tests, demos and replaying a recorded line with no interface attached.
//!
//! The line thread calls [`LineControl::sense`] once per 20 ms frame and never blocks on it.

use std::path::{Path, PathBuf};

/// What the ring detector saw since the last frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ring {
    /// This interface has no ring detector.
    #[default]
    Unknown,
    /// A debounced "ringing" bit, now.
    Bit(bool),
    /// Raw detector pulses (rising edges) since the last frame.
    Pulses(u32),
}

/// The line as the interface senses it, once per frame. `None`: the interface cannot tell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sense {
    pub ring: Ring,
    /// Loop current flows (off hook), or battery is present (on hook).
    pub loop_current: Option<bool>,
    /// True while the line's polarity is normal, false while reversed.
    pub polarity: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The interface cannot be opened or lacks what the config names; says which and the fix.
    #[error("{what}: {reason}. {fix}")]
    Open { what: String, reason: String, fix: String },
    /// It failed while in use (unplugged, driver gone).
    #[error("{what}: {reason}")]
    Failed { what: String, reason: String },
}

/// A line interface's hook and sensors.
pub trait LineControl: Send {
    /// Closes (true) or opens (false) the line's loop: answering, hanging up, flashing.
    fn set_off_hook(&mut self, off: bool) -> Result<(), ControlError>;
    /// Lets the on-hook audio through so caller ID can be heard (modem codecs' `Caller ID
    /// Switch`); interfaces that always pass it do nothing.
    fn set_cid_path(&mut self, _on: bool) -> Result<(), ControlError> {
        Ok(())
    }
    /// The line's state at `now_ms` on the sample clock. Never blocks.
    fn sense(&mut self, now_ms: u64) -> Result<Sense, ControlError>;
}

/// Which back-end and what it drives, from `[fxo.NAME]`.
#[derive(Clone, Debug, PartialEq)]
pub enum ControlSpec {
    AlsaMixer { card: String },
    Gpio { chip: PathBuf, hook: u32, ring: Option<u32>, loop_current: Option<u32>, polarity: Option<u32>, active_low: bool },
    Scripted { script: PathBuf },
    Hid(super::cm108::HidSpec),
}

/// Opens the back-end `spec` names; the error names the device and the fix.
pub fn open(spec: &ControlSpec) -> Result<Box<dyn LineControl>, ControlError> {
    Ok(match spec {
        ControlSpec::AlsaMixer { card } => Box::new(AlsaMixer::open(card)?),
        ControlSpec::Gpio { chip, hook, ring, loop_current, polarity, active_low } => {
            Box::new(Gpio::open(chip, *hook, *ring, *loop_current, *polarity, *active_low)?)
        }
        ControlSpec::Scripted { script } => Box::new(Scripted::load(script)?),
        ControlSpec::Hid(spec) => Box::new(super::cm108::HidGpio::open(spec)?),
    })
}

// ---------------------------------------------------------------------------------------------
// ALSA modem codec mixer switches

/// The mixer controls of an ALSA modem codec.
pub struct AlsaMixer {
    card: String,
    hctl: alsa::hctl::HCtl,
}

pub const OFF_HOOK_SWITCH: &str = "Off-hook Switch";
pub const CALLER_ID_SWITCH: &str = "Caller ID Switch";

impl AlsaMixer {
    pub fn open(card: &str) -> Result<AlsaMixer, ControlError> {
        let name = if card.contains(':') { card.to_string() } else { format!("hw:{card}") };
        let what = format!("ALSA card {name:?}");
        let hctl = alsa::hctl::HCtl::new(&name, false).map_err(|e| ControlError::Open {
            what: what.clone(),
            reason: e.to_string(),
            fix: "set fxo.card to a card `frontdesk line list` shows (its name or number)".into(),
        })?;
        hctl.load().map_err(|e| ControlError::Open { what: what.clone(), reason: e.to_string(), fix: "check the card's driver".into() })?;
        let mixer = AlsaMixer { card: name, hctl };
        if mixer.switch(OFF_HOOK_SWITCH).is_none() {
            let have: Vec<String> =
                mixer.hctl.elem_iter().filter_map(|e| e.get_id().ok()).filter_map(|id| id.get_name().ok().map(str::to_string)).collect();
            return Err(ControlError::Open {
                what,
                reason: format!(
                    "it has no control {OFF_HOOK_SWITCH:?} (it has: {})",
                    if have.is_empty() { "none".into() } else { have.join(", ") }
                ),
                fix: "this card is not a modem codec: wire the line's hook to GPIO and set fxo.control = \"gpio\"".into(),
            });
        }
        Ok(mixer)
    }

    fn switch(&self, name: &str) -> Option<alsa::hctl::Elem<'_>> {
        let mut id = alsa::ctl::ElemId::new(alsa::ctl::ElemIface::Mixer);
        id.set_name(&std::ffi::CString::new(name).ok()?);
        self.hctl.find_elem(&id)
    }

    fn set(&self, name: &str, on: bool) -> Result<(), ControlError> {
        let failed = |reason: String| ControlError::Failed { what: format!("ALSA card {:?} {name:?}", self.card), reason };
        let Some(elem) = self.switch(name) else {
            return Err(failed("the control is gone".into()));
        };
        let mut value = elem.read().map_err(|e| failed(e.to_string()))?;
        value.set_boolean(0, on).ok_or_else(|| failed("not a switch".into()))?;
        elem.write(&value).map_err(|e| failed(e.to_string()))?;
        Ok(())
    }
}

impl LineControl for AlsaMixer {
    fn set_off_hook(&mut self, off: bool) -> Result<(), ControlError> {
        self.set(OFF_HOOK_SWITCH, off)
    }

    fn set_cid_path(&mut self, on: bool) -> Result<(), ControlError> {
        if self.switch(CALLER_ID_SWITCH).is_some() { self.set(CALLER_ID_SWITCH, on) } else { Ok(()) }
    }

    fn sense(&mut self, _now_ms: u64) -> Result<Sense, ControlError> {
        Ok(Sense::default())
    }
}

// ---------------------------------------------------------------------------------------------
// GPIO character device

/// A DAA board's relay and detectors on GPIO lines of one chip.
pub struct Gpio {
    chip: PathBuf,
    hook: u32,
    outputs: gpiocdev::Request,
    inputs: Option<gpiocdev::Request>,
    ring: Option<u32>,
    loop_current: Option<u32>,
    polarity: Option<u32>,
}

impl Gpio {
    pub fn open(
        chip: &Path,
        hook: u32,
        ring: Option<u32>,
        loop_current: Option<u32>,
        polarity: Option<u32>,
        active_low: bool,
    ) -> Result<Gpio, ControlError> {
        use gpiocdev::line::{EdgeDetection, Value};
        let what = |line: u32| format!("GPIO {} line {line}", chip.display());
        let open_error = |line: u32, e: gpiocdev::Error| {
            let reason = e.to_string();
            let fix = if reason.contains("busy") || reason.contains("Busy") {
                "another program holds the line: stop it (`gpioinfo` names the consumer) or wire another line".to_string()
            } else if !chip.exists() {
                "no such chip: `frontdesk line list` shows the GPIO chips; set fxo.chip".to_string()
            } else {
                "check fxo.chip and the line numbers against `gpioinfo`; the service user needs the `gpio` group".to_string()
            };
            ControlError::Open { what: what(line), reason, fix }
        };
        let mut out = gpiocdev::Request::builder();
        out.on_chip(chip).with_consumer("frontdesk hook").with_line(hook).as_output(Value::Inactive);
        if active_low {
            out.as_active_low();
        }
        let outputs = out.request().map_err(|e| open_error(hook, e))?;
        let wanted: Vec<u32> = [ring, loop_current, polarity].into_iter().flatten().collect();
        let inputs = if wanted.is_empty() {
            None
        } else {
            let mut b = gpiocdev::Request::builder();
            b.on_chip(chip).with_consumer("frontdesk line sense").with_lines(&wanted).as_input();
            if active_low {
                b.as_active_low();
            }
            if let Some(r) = ring {
                b.with_line(r).with_edge_detection(EdgeDetection::RisingEdge);
            }
            Some(b.request().map_err(|e| open_error(wanted[0], e))?)
        };
        Ok(Gpio { chip: chip.to_path_buf(), hook, outputs, inputs, ring, loop_current, polarity })
    }

    fn failed(&self, e: gpiocdev::Error) -> ControlError {
        ControlError::Failed { what: format!("GPIO {}", self.chip.display()), reason: e.to_string() }
    }
}

impl LineControl for Gpio {
    fn set_off_hook(&mut self, off: bool) -> Result<(), ControlError> {
        use gpiocdev::line::Value;
        self.outputs.set_value(self.hook, if off { Value::Active } else { Value::Inactive }).map_err(|e| self.failed(e))
    }

    fn sense(&mut self, _now_ms: u64) -> Result<Sense, ControlError> {
        use gpiocdev::line::Value;
        let Some(inputs) = &self.inputs else { return Ok(Sense::default()) };
        let mut sense = Sense::default();
        if self.ring.is_some() {
            let mut pulses = 0;
            while inputs.has_edge_event().map_err(|e| self.failed(e))? {
                inputs.read_edge_event().map_err(|e| self.failed(e))?;
                pulses += 1;
            }
            sense.ring = Ring::Pulses(pulses);
        }
        let value = |line: Option<u32>| -> Result<Option<bool>, ControlError> {
            line.map(|l| inputs.value(l).map(|v| v == Value::Active).map_err(|e| self.failed(e))).transpose()
        };
        sense.loop_current = value(self.loop_current)?;
        sense.polarity = value(self.polarity)?;
        Ok(sense)
    }
}

// ---------------------------------------------------------------------------------------------
// Scripted

/// The line's events from a file, one per line: `<ms> <what>`, where `<ms>` is the time on the
/// line's sample clock and `<what>` is `ring on`, `ring off`, `pulse`, `loop on`, `loop off`,
/// `polarity normal` or `polarity reversed`. `#` starts a comment. Hook changes are logged.
pub struct Scripted {
    events: std::collections::VecDeque<(u64, Event)>,
    state: Sense,
    /// The hook changes asked for, with the time of the frame before them.
    pub hooks: Vec<(u64, bool)>,
    now_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Ring(bool),
    Pulse,
    Loop(bool),
    Polarity(bool),
}

impl Scripted {
    pub fn load(path: &Path) -> Result<Scripted, ControlError> {
        let text = std::fs::read_to_string(path).map_err(|e| ControlError::Open {
            what: format!("line script {}", path.display()),
            reason: e.to_string(),
            fix: "set fxo.script to a readable file".into(),
        })?;
        Scripted::parse(&text).map_err(|(line, reason)| ControlError::Open {
            what: format!("line script {}:{line}", path.display()),
            reason,
            fix: "write `<ms> ring on|off`, `<ms> pulse`, `<ms> loop on|off` or `<ms> polarity normal|reversed`".into(),
        })
    }

    /// Parses a script; the error is the line number and what is wrong with it.
    pub fn parse(text: &str) -> Result<Scripted, (usize, String)> {
        let mut events = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let at: u64 = words[0].parse().map_err(|_| (i + 1, format!("{:?} is not a time in ms", words[0])))?;
            let event = match words[1..] {
                ["ring", "on"] => Event::Ring(true),
                ["ring", "off"] => Event::Ring(false),
                ["pulse"] => Event::Pulse,
                ["loop", "on"] => Event::Loop(true),
                ["loop", "off"] => Event::Loop(false),
                ["polarity", "normal"] => Event::Polarity(true),
                ["polarity", "reversed"] => Event::Polarity(false),
                _ => return Err((i + 1, format!("{:?} is not an event", words[1..].join(" ")))),
            };
            events.push((at, event));
        }
        events.sort_by_key(|(at, _)| *at);
        let has = |f: fn(&Event) -> bool| events.iter().any(|(_, e)| f(e));
        let state = Sense {
            ring: if has(|e| matches!(e, Event::Ring(_))) {
                Ring::Bit(false)
            } else if has(|e| *e == Event::Pulse) {
                Ring::Pulses(0)
            } else {
                Ring::Unknown
            },
            loop_current: has(|e| matches!(e, Event::Loop(_))).then_some(true),
            polarity: has(|e| matches!(e, Event::Polarity(_))).then_some(true),
        };
        Ok(Scripted { events: events.into(), state, hooks: Vec::new(), now_ms: 0 })
    }
}

impl LineControl for Scripted {
    fn set_off_hook(&mut self, off: bool) -> Result<(), ControlError> {
        tracing::info!(at_ms = self.now_ms, "scripted line: {}", if off { "off hook" } else { "on hook" });
        self.hooks.push((self.now_ms, off));
        Ok(())
    }

    fn sense(&mut self, now_ms: u64) -> Result<Sense, ControlError> {
        self.now_ms = now_ms;
        if let Ring::Pulses(_) = self.state.ring {
            self.state.ring = Ring::Pulses(0);
        }
        while let Some(&(at, event)) = self.events.front() {
            if at > now_ms {
                break;
            }
            self.events.pop_front();
            match event {
                Event::Ring(on) => self.state.ring = Ring::Bit(on),
                Event::Pulse => {
                    let n = if let Ring::Pulses(n) = self.state.ring { n } else { 0 };
                    self.state.ring = Ring::Pulses(n + 1);
                }
                Event::Loop(on) => self.state.loop_current = Some(on),
                Event::Polarity(normal) => self.state.polarity = Some(normal),
            }
        }
        Ok(self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_plays_its_events_on_the_sample_clock() {
        let mut s = Scripted::parse("# a call\n0 ring on\n2000 ring off\n9000 loop off  # far end gone\n").unwrap();
        assert_eq!(s.sense(0).unwrap().ring, Ring::Bit(true));
        assert_eq!(s.sense(1980).unwrap(), Sense { ring: Ring::Bit(true), loop_current: Some(true), polarity: None });
        assert_eq!(s.sense(2000).unwrap().ring, Ring::Bit(false));
        s.set_off_hook(true).unwrap();
        assert_eq!(s.sense(9020).unwrap().loop_current, Some(false));
        assert_eq!(s.hooks, vec![(2000, true)]);
    }

    #[test]
    fn pulses_are_counted_per_frame() {
        let mut s = Scripted::parse("10 pulse\n15 pulse\n50 pulse\n").unwrap();
        assert_eq!(s.sense(0).unwrap().ring, Ring::Pulses(0));
        assert_eq!(s.sense(20).unwrap().ring, Ring::Pulses(2));
        assert_eq!(s.sense(40).unwrap().ring, Ring::Pulses(0));
        assert_eq!(s.sense(60).unwrap().ring, Ring::Pulses(1));
    }

    #[test]
    fn a_bad_script_line_is_located() {
        assert_eq!(Scripted::parse("0 ring on\n\nsoon ring off").err().unwrap().0, 3);
        assert!(Scripted::parse("0 ring loud").err().unwrap().1.contains("ring loud"));
    }

    #[test]
    fn missing_interfaces_are_named_with_the_fix() {
        let e = open(&ControlSpec::AlsaMixer { card: "NoSuchModem".into() }).err().unwrap().to_string();
        assert!(e.contains("\"hw:NoSuchModem\"") && e.contains("frontdesk line list"), "{e}");
        let e = open(&ControlSpec::Gpio {
            chip: "/dev/gpiochip-none".into(),
            hook: 17,
            ring: Some(27),
            loop_current: None,
            polarity: None,
            active_low: false,
        })
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("/dev/gpiochip-none line 17") && e.contains("fxo.chip"), "{e}");
        let e = open(&ControlSpec::Scripted { script: "/nonexistent/line.script".into() }).err().unwrap().to_string();
        assert!(e.contains("/nonexistent/line.script") && e.contains("fxo.script"), "{e}");
    }
}
