//! What an installer can wire an analog line to on this box: ALSA sound cards and the PCMs
//! alsa-lib knows (with the rates each takes and the mixer switches a modem codec offers for
//! hook and caller ID), GPIO chips, and hidraw devices (CM108-style USB sound interfaces carry
//! their GPIO there). `frontdesk line list` prints it.

use std::fmt::Write as _;
use std::path::Path;

use alsa::{Direction, PCM};

/// Mixer switches of ALSA modem codecs (AC'97 MC'97, HDA Si3054) that work a phone line.
pub const LINE_SWITCHES: [&str; 2] = ["Off-hook Switch", "Caller ID Switch"];

/// The whole inventory as text, section by section; never fails (what cannot be read is said).
pub fn report() -> String {
    let mut out = String::new();
    cards(&mut out);
    pcms(&mut out);
    gpio_chips(&mut out, Path::new("/dev"));
    hidraw(&mut out, Path::new("/sys/class/hidraw"));
    out
}

fn cards(out: &mut String) {
    let _ = writeln!(out, "ALSA sound cards:");
    let mut any = false;
    for card in alsa::card::Iter::new().flatten() {
        any = true;
        let i = card.get_index();
        let name = card.get_name().unwrap_or_default();
        let long = card.get_longname().unwrap_or_default();
        let _ = writeln!(out, "  card {i}: {name} ({long})");
        // The controls by their full names ("Off-hook Switch"), as `fxo.control = "alsa-mixer"`
        // looks them up; the simple mixer API would show "Off-hook".
        let hctl = alsa::hctl::HCtl::new(&format!("hw:{i}"), false).and_then(|h| h.load().map(|()| h));
        match hctl {
            Ok(hctl) => {
                let switches: Vec<String> =
                    hctl.elem_iter().filter_map(|e| e.get_id().ok()).filter_map(|id| id.get_name().ok().map(str::to_string)).collect();
                let line: Vec<&String> = switches.iter().filter(|n| LINE_SWITCHES.contains(&n.as_str())).collect();
                let _ = writeln!(out, "    controls: {}", if switches.is_empty() { "none".into() } else { switches.join(", ") });
                if !line.is_empty() {
                    let _ = writeln!(out, "    line control: {:?} (fxo.control = \"alsa-mixer\")", line);
                }
            }
            Err(e) => {
                let _ = writeln!(out, "    controls: cannot be read ({e})");
            }
        }
    }
    if !any {
        let _ = writeln!(out, "  none (no /dev/snd devices: is the interface plugged in and its driver loaded?)");
    }
}

fn pcms(out: &mut String) {
    let _ = writeln!(out, "ALSA PCMs (use one as fxo.device):");
    let hints = match alsa::device_name::HintIter::new_str(None, "pcm") {
        Ok(h) => h,
        Err(e) => {
            let _ = writeln!(out, "  cannot be listed ({e})");
            return;
        }
    };
    let mut any = false;
    for hint in hints {
        let Some(name) = hint.name else { continue };
        if name == "null" {
            continue;
        }
        any = true;
        let desc = hint.desc.unwrap_or_default().replace('\n', " ");
        let both = hint.direction.is_none();
        let _ = writeln!(out, "  {name}: {desc}{}", if both { "" } else { " (one direction only)" });
        if both {
            let _ = writeln!(out, "    rates: {}", rates(&name));
        }
    }
    if !any {
        let _ = writeln!(out, "  none");
    }
}

/// The rates of `crate::fxo::audio::RATES` the PCM takes for capture, or why it cannot say.
pub fn rates(device: &str) -> String {
    let pcm = match PCM::new(device, Direction::Capture, true) {
        Ok(p) => p,
        Err(e) => return format!("cannot open ({e})"),
    };
    let Ok(hw) = alsa::pcm::HwParams::any(&pcm) else { return "cannot read".into() };
    let ok: Vec<String> = super::audio::RATES.iter().filter(|&&r| hw.test_rate(r).is_ok()).map(|r| format!("{r}")).collect();
    if ok.is_empty() { "none of 8000, 16000, 48000, 44100 Hz".into() } else { format!("{} Hz", ok.join(", ")) }
}

fn gpio_chips(out: &mut String, dev: &Path) {
    let _ = writeln!(out, "GPIO chips (fxo.control = \"gpio\"):");
    let mut chips: Vec<String> = std::fs::read_dir(dev)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("gpiochip")).collect())
        .unwrap_or_default();
    chips.sort();
    if chips.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for chip in chips {
        let label = std::fs::read_to_string(format!("/sys/bus/gpio/devices/{chip}/label"))
            .or_else(|_| std::fs::read_to_string(format!("/sys/class/gpio/{chip}/label")))
            .unwrap_or_default();
        let _ = writeln!(out, "  /dev/{chip} {}", label.trim());
    }
}

fn hidraw(out: &mut String, class: &Path) {
    let _ = writeln!(out, "hidraw devices (CM108-style USB sound interfaces carry their GPIO pins here: fxo.control = \"hid\"):");
    let mut devs: Vec<String> =
        std::fs::read_dir(class).map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
    devs.sort();
    if devs.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for dev in devs {
        let uevent = std::fs::read_to_string(class.join(&dev).join("device/uevent")).unwrap_or_default();
        let field = |k: &str| uevent.lines().find_map(|l| l.strip_prefix(k)).unwrap_or("").to_string();
        let (name, id) = (field("HID_NAME="), field("HID_ID="));
        // HID_ID is bus:vendor:product, each zero-padded hex.
        let vendor = id.split(':').nth(1).map(|v| v.trim_start_matches('0').to_uppercase()).unwrap_or_default();
        let gpio = super::cm108::VENDORS.iter().any(|v| format!("{v:X}") == vendor);
        let card = class.parent().and_then(|c| super::cm108::card_beside(&dev, c));
        let _ = writeln!(
            out,
            "  /dev/{dev}: {name}{}{}",
            if gpio { " (GPIO through HID reports)" } else { "" },
            card.map(|c| format!(", on the USB device of sound card {c}")).unwrap_or_default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidraw_devices_are_named_and_cm108s_recognised() {
        let dir = std::env::temp_dir().join(format!("frontdesk-hidraw-{}", std::process::id()));
        for (n, name, id) in [
            ("hidraw0", "C-Media Electronics Inc. USB Audio Device", "0003:00000D8C:0000013C"),
            ("hidraw1", "Logitech Keyboard", "0003:0000046D:0000C31C"),
        ] {
            std::fs::create_dir_all(dir.join(n).join("device")).unwrap();
            std::fs::write(dir.join(n).join("device/uevent"), format!("HID_ID={id}\nHID_NAME={name}\n")).unwrap();
        }
        let mut out = String::new();
        hidraw(&mut out, &dir);
        assert!(out.contains("/dev/hidraw0: C-Media Electronics Inc. USB Audio Device (GPIO through HID reports)"), "{out}");
        assert!(out.contains("/dev/hidraw1: Logitech Keyboard\n"), "{out}");
        let _ = std::fs::remove_dir_all(&dir);
        let mut none = String::new();
        hidraw(&mut none, Path::new("/nonexistent"));
        assert!(none.ends_with("  none\n"));
    }
}
