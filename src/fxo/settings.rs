//! `[fxo.NAME]`: one analog line per section (a box may have several), checked here and
//! turned into the line's [`FxoConfig`].
//!
//! ```toml
//! [fxo.front]
//! device = "plughw:CARD=Modem,DEV=0"   # the ALSA PCM carrying the line's audio
//! control = "alsa-mixer"               # or "gpio" (chip, hook_line, ring_line...), "hid"
//!                                      # (hidraw, hook_line, ring_line... as GPIO 1-8), "scripted"
//! zone = "us"                          # ringing and call-progress tones: us, uk, eu, de
//! rings = 2                            # answer when this ring ends
//! caller_id = "bell202"                # v23, dtmf, off
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::control::ControlSpec;
use super::line::FxoConfig;
use crate::audio::fsk;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct FxoSection {
    /// The ALSA PCM for capture and playback: "plughw:CARD=Modem,DEV=0", "default", or a
    /// name from asoundrc (`frontdesk line list` shows them).
    pub device: String,
    /// This line's phone number, as `[answer.dialled]` routes it (not dialled by anyone: an
    /// analog line has only one).
    pub number: Option<String>,
    /// The device rate; default: the first of 8000, 16000, 48000, 44100 Hz it takes.
    pub rate: Option<u32>,
    /// What works the hook and senses the line: "alsa-mixer", "gpio", "hid" or "scripted".
    pub control: String,
    /// alsa-mixer: the card with the `Off-hook Switch` ("Modem", "1"); default: `device`'s card.
    pub card: Option<String>,
    /// gpio: the chip ("/dev/gpiochip0") and its line numbers (`gpioinfo` lists them).
    /// hid: the line numbers are the interface's GPIO pins, 1 to 8.
    pub chip: Option<PathBuf>,
    pub hook_line: Option<u32>,
    pub ring_line: Option<u32>,
    pub loop_line: Option<u32>,
    pub polarity_line: Option<u32>,
    /// hid: the interface's `/dev/hidrawN`; default: the one on the same USB device as
    /// `device`'s card.
    pub hidraw: Option<PathBuf>,
    /// gpio, hid: the board's signals are active low.
    #[serde(default)]
    pub active_low: bool,
    /// Where rings come from: "control" (the detector the control senses) or "audio" (the
    /// ringing voltage heard in the on-hook audio: for modem codecs, which sense none).
    /// Default: "audio" for alsa-mixer, "control" otherwise.
    pub ring_from: Option<String>,
    /// scripted: the file of line events (tests, demos, replaying a recorded line).
    pub script: Option<PathBuf>,
    /// Ring cadence and call-progress tones of the country: "us", "uk", "eu", "de".
    #[serde(default = "default_zone")]
    pub zone: String,
    /// Answer when this ring ends (caller ID comes after the first).
    #[serde(default = "default_rings")]
    pub rings: u32,
    /// "bell202" (North America), "v23" (Europe, FSK), "dtmf" (Nordic/NL), or "off".
    #[serde(default = "default_caller_id")]
    pub caller_id: String,
    /// Hook flash for transfers, ms (the PBX's "flash time"; 750 is DAHDI's default).
    #[serde(default = "default_flash_ms")]
    pub flash_ms: u32,
    /// Seconds a transfer may ring before the caller is taken back and a message taken.
    #[serde(default = "default_transfer_timeout")]
    pub transfer_timeout_s: u32,
    /// Hang up after this long with nothing heard and nothing said: the last resort when the
    /// far end's hang-up is not signalled at all.
    #[serde(default = "default_silence_hangup")]
    pub silence_hangup_s: u32,
    /// How long the line's echo lasts, ms (the echo canceller's tail).
    #[serde(default = "default_echo_tail")]
    pub echo_tail_ms: u32,
    /// When the device or control is missing: false refuses to start the daemon; true logs it
    /// and retries every few seconds while the other lines work.
    #[serde(default)]
    pub optional: bool,
}

fn default_zone() -> String {
    "us".into()
}
fn default_rings() -> u32 {
    2
}
fn default_caller_id() -> String {
    "bell202".into()
}
fn default_flash_ms() -> u32 {
    750
}
fn default_transfer_timeout() -> u32 {
    25
}
fn default_silence_hangup() -> u32 {
    60
}
fn default_echo_tail() -> u32 {
    128
}

pub const CONTROLS: [&str; 4] = ["alsa-mixer", "gpio", "hid", "scripted"];
pub const CALLER_ID: [&str; 4] = ["bell202", "v23", "dtmf", "off"];

impl FxoSection {
    /// (key, what is wrong) for each value the line cannot use.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if self.device.trim().is_empty() {
            p.push(("device", "name the ALSA PCM (`frontdesk line list` shows them)".into()));
        }
        if let Some(rate) = self.rate
            && !(8000..=192_000).contains(&rate)
        {
            p.push(("rate", format!("{rate}: use a rate the device offers, 8000 to 192000 Hz")));
        }
        match self.control.as_str() {
            "alsa-mixer" => {
                if self.card.is_none() && card_of(&self.device).is_none() {
                    p.push(("card", format!("the card of {:?} cannot be told: set card = \"Modem\" (its name or number)", self.device)));
                }
            }
            "gpio" => {
                if self.chip.is_none() {
                    p.push(("chip", "gpio needs the chip, e.g. \"/dev/gpiochip0\"".into()));
                }
                if self.hook_line.is_none() {
                    p.push(("hook_line", "gpio needs the line that drives the hook relay".into()));
                }
            }
            "hid" => {
                if self.hook_line.is_none() {
                    p.push(("hook_line", "hid needs the GPIO pin (1-8) that drives the hook relay".into()));
                }
                let pins = [
                    ("hook_line", self.hook_line),
                    ("ring_line", self.ring_line),
                    ("loop_line", self.loop_line),
                    ("polarity_line", self.polarity_line),
                ];
                for (key, pin) in pins {
                    if let Some(pin) = pin
                        && !super::cm108::PINS.contains(&pin)
                    {
                        p.push((key, format!("{pin}: the interface's GPIO pins are numbered 1 to 8")));
                    }
                }
                for (key, pin) in &pins[1..] {
                    if pin.is_some() && *pin == self.hook_line {
                        p.push((key, format!("{}: this pin already drives the hook relay", pin.unwrap_or(0))));
                    }
                }
                if self.hidraw.is_none() && card_of(&self.device).is_none() {
                    p.push(("hidraw", format!("the card of {:?} cannot be told: set hidraw = \"/dev/hidraw0\"", self.device)));
                }
            }
            "scripted" => {
                if self.script.is_none() {
                    p.push(("script", "scripted needs the file of line events".into()));
                }
            }
            other => p.push(("control", format!("{other:?}: use one of {}", CONTROLS.join(", ")))),
        }
        if let Some(from) = &self.ring_from
            && from != "control"
            && from != "audio"
        {
            p.push(("ring_from", format!("{from:?}: use \"control\" or \"audio\"")));
        }
        if super::ring::zone(&self.zone).is_none() || super::progress::tone_zone(&self.zone).is_none() {
            let zones: Vec<&str> = super::ring::ZONES.iter().map(|z| z.name).collect();
            p.push(("zone", format!("{:?}: use one of {}", self.zone, zones.join(", "))));
        }
        if !(1..=10).contains(&self.rings) {
            p.push(("rings", format!("{}: use 1 to 10", self.rings)));
        }
        if !CALLER_ID.contains(&self.caller_id.as_str()) {
            p.push(("caller_id", format!("{:?}: use one of {}", self.caller_id, CALLER_ID.join(", "))));
        }
        if !(50..=2000).contains(&self.flash_ms) {
            p.push(("flash_ms", format!("{}: use 50 to 2000 ms (the PBX's flash time)", self.flash_ms)));
        }
        if !(5..=120).contains(&self.transfer_timeout_s) {
            p.push(("transfer_timeout_s", format!("{}: use 5 to 120 s", self.transfer_timeout_s)));
        }
        if !(10..=3600).contains(&self.silence_hangup_s) {
            p.push(("silence_hangup_s", format!("{}: use 10 to 3600 s", self.silence_hangup_s)));
        }
        if !(16..=512).contains(&self.echo_tail_ms) {
            p.push(("echo_tail_ms", format!("{}: use 16 to 512 ms", self.echo_tail_ms)));
        }
        p
    }

    /// The line's settings; `resolve` makes a relative path the config file's directory's.
    /// Call only on a section without [`problems`](Self::problems).
    pub fn line_config(&self, name: &str, resolve: impl Fn(&Path) -> PathBuf) -> FxoConfig {
        let control = match self.control.as_str() {
            "gpio" => ControlSpec::Gpio {
                chip: resolve(self.chip.as_deref().unwrap_or(Path::new("/dev/gpiochip0"))),
                hook: self.hook_line.unwrap_or(0),
                ring: self.ring_line,
                loop_current: self.loop_line,
                polarity: self.polarity_line,
                active_low: self.active_low,
            },
            "hid" => ControlSpec::Hid(super::cm108::HidSpec {
                hidraw: self.hidraw.as_deref().map(&resolve),
                card: card_of(&self.device),
                hook: self.hook_line.unwrap_or(1),
                ring: self.ring_line,
                loop_current: self.loop_line,
                polarity: self.polarity_line,
                active_low: self.active_low,
            }),
            "scripted" => ControlSpec::Scripted { script: resolve(self.script.as_deref().unwrap_or(Path::new("line.script"))) },
            _ => ControlSpec::AlsaMixer { card: self.card.clone().or_else(|| card_of(&self.device)).unwrap_or_default() },
        };
        FxoConfig {
            name: name.to_string(),
            device: self.device.clone(),
            number: self.number.clone(),
            rate: self.rate,
            control,
            zone: super::ring::zone(&self.zone).unwrap_or(super::ring::ZONES[0]),
            tones: super::progress::tone_zone(&self.zone).unwrap_or(&super::progress::TONE_ZONES[0]),
            rings: self.rings,
            fsk: match self.caller_id.as_str() {
                "v23" => Some(fsk::V23),
                "bell202" => Some(fsk::BELL202),
                _ => None,
            },
            caller_id: self.caller_id != "off",
            ring_from_audio: self.ring_from.as_deref().unwrap_or(if self.control == "alsa-mixer" { "audio" } else { "control" }) == "audio",
            flash_ms: self.flash_ms,
            transfer_timeout_ms: self.transfer_timeout_s as u64 * 1000,
            silence_hangup_ms: self.silence_hangup_s as u64 * 1000,
            echo_tail_ms: self.echo_tail_ms,
            optional: self.optional,
        }
    }
}

/// The card in an ALSA device name: "plughw:CARD=Modem,DEV=0" → "Modem", "hw:1,0" → "1".
pub fn card_of(device: &str) -> Option<String> {
    let (_, args) = device.split_once(':')?;
    let first = args.split(',').next()?;
    let card = first.strip_prefix("CARD=").unwrap_or(first);
    (!card.is_empty() && !card.contains('=')).then(|| card.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_is_read_from_the_device_name() {
        assert_eq!(card_of("plughw:CARD=Modem,DEV=0").as_deref(), Some("Modem"));
        assert_eq!(card_of("hw:1,0").as_deref(), Some("1"));
        assert_eq!(card_of("default"), None);
        assert_eq!(card_of("plughw:DEV=0"), None);
    }
}
