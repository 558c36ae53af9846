//! Line control through the GPIO pins of a C-Media CM108/CM119-style USB sound interface (also
//! SSS1621/1623 and AIOC-style clones): the audio is the interface's ALSA card, and a DAA board's
//! hook relay and ring, loop-current and polarity detectors are wired to its GPIO pins, which
//! the chip exposes as HID reports on `/dev/hidrawN`.
//!
//! The reports (C-Media CM108AH/CM119 datasheets; the layouts direwolf's `cm108.c` and
//! AllStarLink's `chan_simpleusb` use):
//! - output, written as 5 bytes: report number 0, a mode byte (bits 7:6 = 00: "GPIO command"),
//!   the pins' output levels (bit 0 = GPIO1 ... bit 7 = GPIO8), the direction mask (1 = output),
//!   and a byte we leave 0;
//! - input, read as 4 bytes: byte 0 carries the volume buttons and, in bits 7:6, the report's
//!   kind (00: byte 1 holds the GPIO input levels, the only kind read here); byte 1 the levels.
//!   The chip sends one when an input changes; at open we also ask for the current one
//!   (`HIDIOCGINPUT`).
//!
//! [`output_report`] and [`parse_input`] are the only code that touches the report bytes.
//! The line thread calls [`HidGpio::sense`] once per 20 ms frame; it reads whatever reports
//! arrived since, without blocking.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::control::{ControlError, LineControl, Ring, Sense};

/// Bytes of an output report, with its report number.
pub const OUTPUT_REPORT_LEN: usize = 5;
/// Bytes of an input report (these interfaces number no reports).
pub const INPUT_REPORT_LEN: usize = 4;
/// GPIO pins, numbered 1 to 8 as the datasheets and `fxo.*_line` number them.
pub const PINS: std::ops::RangeInclusive<u32> = 1..=8;

/// USB vendors whose sound interfaces carry GPIO in these reports: C-Media, SSS.
pub const VENDORS: [u16; 2] = [0x0d8c, 0x0c76];

/// The output report that sets the pins of `outputs` (a mask) to `levels`, every other pin an
/// input.
pub fn output_report(levels: u8, outputs: u8) -> [u8; OUTPUT_REPORT_LEN] {
    [0, 0, levels & outputs, outputs, 0]
}

/// The GPIO input levels an input report carries, or `None` for a report of another kind (bits
/// 7:6 of its first byte not 00) or a short one.
pub fn parse_input(report: &[u8]) -> Option<u8> {
    match report {
        [mode, levels, ..] if mode & 0xc0 == 0 => Some(*levels),
        _ => None,
    }
}

/// The bit of GPIO pin `pin` (1-8).
fn bit(pin: u32) -> u8 {
    1 << (pin - 1)
}

/// The hook relay and detectors on a CM108-style interface's GPIO pins.
pub struct HidGpio {
    path: PathBuf,
    file: File,
    hook: u8,
    ring: Option<u8>,
    loop_current: Option<u8>,
    polarity: Option<u8>,
    active_low: bool,
    off_hook: bool,
    /// The input levels of the last report, once one came.
    levels: Option<u8>,
    /// Bytes of a report not yet whole (only a byte-stream stand-in splits reports).
    partial: Vec<u8>,
}

/// What a CM108-style line control drives, from `[fxo.NAME]`.
#[derive(Clone, Debug, PartialEq)]
pub struct HidSpec {
    /// The hidraw node; `None`: the one on the same USB device as `card`.
    pub hidraw: Option<PathBuf>,
    /// The card of the line's ALSA device ("1", "Device"), to find the hidraw node by.
    pub card: Option<String>,
    pub hook: u32,
    pub ring: Option<u32>,
    pub loop_current: Option<u32>,
    pub polarity: Option<u32>,
    pub active_low: bool,
}

impl HidGpio {
    /// Opens the interface, sets the hook pin as an output with the line on hook, and reads
    /// the inputs' levels if the device tells them.
    pub fn open(spec: &HidSpec) -> Result<HidGpio, ControlError> {
        let path = match &spec.hidraw {
            Some(p) => p.clone(),
            None => find_for_card(spec.card.as_deref().unwrap_or(""), Path::new("/sys/class"))?,
        };
        let what = format!("HID GPIO {}", path.display());
        let file =
            std::fs::OpenOptions::new().read(true).write(true).custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC).open(&path).map_err(
                |e| ControlError::Open {
                    what: what.clone(),
                    reason: e.to_string(),
                    fix: match e.kind() {
                        ErrorKind::NotFound => "no such device: `frontdesk line list` shows the hidraw devices; set fxo.hidraw".into(),
                        ErrorKind::PermissionDenied => {
                            "the service user cannot open it: install the package's udev rule (hidraw of C-Media and SSS \
                                                    interfaces to group audio), or add one for this device, and replug it"
                                .into()
                        }
                        _ => "check the interface is plugged in (`frontdesk line list`)".into(),
                    },
                },
            )?;
        match device_info(&file) {
            Ok((vendor, product)) if !VENDORS.contains(&vendor) => tracing::warn!(
                device = %path.display(),
                "HID device {vendor:04x}:{product:04x} is not a C-Media or SSS interface: its GPIO reports may differ"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(device = %path.display(), error = %e, "not a hidraw device: driving it with CM108 reports anyway"),
        }
        let mut hid = HidGpio {
            path,
            file,
            hook: bit(spec.hook),
            ring: spec.ring.map(bit),
            loop_current: spec.loop_current.map(bit),
            polarity: spec.polarity.map(bit),
            active_low: spec.active_low,
            off_hook: false,
            levels: None,
            partial: Vec::new(),
        };
        hid.write_hook().map_err(|e| ControlError::Open {
            what,
            reason: e.to_string(),
            fix: "check the interface (`frontdesk line list`)".into(),
        })?;
        hid.levels = current_input(&hid.file).and_then(|r| parse_input(&r));
        Ok(hid)
    }

    fn write_hook(&mut self) -> std::io::Result<()> {
        let high = self.off_hook != self.active_low;
        let report = output_report(if high { self.hook } else { 0 }, self.hook);
        // A hidraw write is one report, whole or not at all.
        let n = self.file.write(&report)?;
        if n != report.len() {
            return Err(std::io::Error::other(format!("the report was cut after {n} bytes")));
        }
        Ok(())
    }

    fn failed(&self, e: std::io::Error) -> ControlError {
        let reason = match e.raw_os_error() {
            Some(libc::ENODEV) | Some(libc::EIO) => format!("{e}: unplugged, or its driver went away"),
            _ => e.to_string(),
        };
        ControlError::Failed { what: format!("HID GPIO {}", self.path.display()), reason }
    }

    fn active(&self, levels: u8, pin: u8) -> bool {
        (levels & pin != 0) != self.active_low
    }
}

impl LineControl for HidGpio {
    fn set_off_hook(&mut self, off: bool) -> Result<(), ControlError> {
        self.off_hook = off;
        self.write_hook().map_err(|e| self.failed(e))
    }

    /// Reads the reports that came since the last frame. The ring input counts as one pulse
    /// for every frame in which it was active at any moment: a detector that pulses at the
    /// ring frequency and one that holds a level through each burst both make a burst of
    /// frames, and a glitch one frame (which the ring counter ignores).
    fn sense(&mut self, _now_ms: u64) -> Result<Sense, ControlError> {
        let mut ring_seen = false;
        let mut buf = [0u8; 64];
        loop {
            match self.file.read(&mut buf) {
                Ok(0) => return Err(self.failed(std::io::Error::from_raw_os_error(libc::ENODEV))),
                Ok(n) => {
                    self.partial.extend_from_slice(&buf[..n]);
                    let whole = self.partial.len() / INPUT_REPORT_LEN * INPUT_REPORT_LEN;
                    for report in self.partial[..whole].chunks_exact(INPUT_REPORT_LEN) {
                        if let Some(levels) = parse_input(report) {
                            self.levels = Some(levels);
                            ring_seen |= self.ring.is_some_and(|r| self.active(levels, r));
                        }
                    }
                    self.partial.drain(..whole);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.failed(e)),
            }
        }
        let Some(levels) = self.levels else {
            return Ok(Sense { ring: if self.ring.is_some() { Ring::Pulses(0) } else { Ring::Unknown }, ..Sense::default() });
        };
        let level = |pin: Option<u8>| pin.map(|p| self.active(levels, p));
        Ok(Sense {
            ring: match self.ring {
                Some(r) => Ring::Pulses((ring_seen || self.active(levels, r)) as u32),
                None => Ring::Unknown,
            },
            loop_current: level(self.loop_current),
            polarity: level(self.polarity),
        })
    }
}

use std::os::unix::fs::OpenOptionsExt;

/// `HIDIOCGRAWINFO`: `_IOR('H', 0x03, struct hidraw_devinfo)`, 8 bytes.
const HIDIOCGRAWINFO: libc::c_ulong = (2 << 30) | (8 << 16) | ((b'H' as libc::c_ulong) << 8) | 0x03;

/// `HIDIOCGINPUT(len)`: `_IOC(_IOC_WRITE|_IOC_READ, 'H', 0x0A, len)` (Linux 5.11).
fn hidiocginput(len: usize) -> libc::c_ulong {
    (3 << 30) | ((len as libc::c_ulong) << 16) | ((b'H' as libc::c_ulong) << 8) | 0x0a
}

/// The USB vendor and product of a hidraw node.
fn device_info(file: &File) -> std::io::Result<(u16, u16)> {
    #[repr(C)]
    struct DevInfo {
        bustype: u32,
        vendor: i16,
        product: i16,
    }
    let mut info = DevInfo { bustype: 0, vendor: 0, product: 0 };
    // SAFETY: the ioctl writes at most size_of::<DevInfo>() (8) bytes into `info`, as its
    // number encodes.
    let r = unsafe { libc::ioctl(file.as_raw_fd(), HIDIOCGRAWINFO as _, &mut info as *mut DevInfo) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((info.vendor as u16, info.product as u16))
}

/// The current input report, asked for with a GET_REPORT (older kernels and stand-ins cannot;
/// then the levels are known from the first report the chip sends).
fn current_input(file: &File) -> Option<[u8; INPUT_REPORT_LEN]> {
    let mut buf = [0u8; INPUT_REPORT_LEN + 1];
    // SAFETY: the ioctl reads and writes at most buf.len() bytes, as its number encodes.
    let r = unsafe { libc::ioctl(file.as_raw_fd(), hidiocginput(buf.len()) as _, buf.as_mut_ptr()) };
    if r < 2 {
        return None;
    }
    // The answer starts with the report number (0).
    let mut report = [0u8; INPUT_REPORT_LEN];
    report.copy_from_slice(&buf[1..]);
    Some(report)
}

/// The hidraw node on the same USB device as ALSA card `card` (its number or id), found in the
/// sysfs tree under `class` (`/sys/class`): the sound card's device is a USB interface, and so
/// is the parent of the hidraw node's HID device; both interfaces' parent is the USB device.
pub fn find_for_card(card: &str, class: &Path) -> Result<PathBuf, ControlError> {
    let none = |reason: String| ControlError::Open {
        what: format!("the HID GPIO of ALSA card {card:?}"),
        reason,
        fix: "set fxo.hidraw to the interface's /dev/hidrawN (`frontdesk line list` shows them)".into(),
    };
    let card_dir = card_dir(card, &class.join("sound")).ok_or_else(|| none("no such sound card".into()))?;
    let usb_device = std::fs::canonicalize(card_dir.join("device"))
        .ok()
        .and_then(|interface| interface.parent().map(Path::to_path_buf))
        .ok_or_else(|| none("the card is not on USB".into()))?;
    let mut nodes: Vec<String> = std::fs::read_dir(class.join("hidraw"))
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    nodes.sort();
    for node in nodes {
        let Ok(hid) = std::fs::canonicalize(class.join("hidraw").join(&node).join("device")) else { continue };
        if hid.parent().and_then(Path::parent) == Some(usb_device.as_path()) {
            return Ok(Path::new("/dev").join(node));
        }
    }
    Err(none(format!("no hidraw device on its USB device ({})", usb_device.display())))
}

/// The number of the sound card on the same USB device as hidraw node `node` ("hidraw0"), if
/// any: what `frontdesk line list` shows an installer.
pub fn card_beside(node: &str, class: &Path) -> Option<u32> {
    let hid = std::fs::canonicalize(class.join("hidraw").join(node).join("device")).ok()?;
    let usb_device = hid.parent()?.parent()?.to_path_buf();
    let mut cards: Vec<(u32, PathBuf)> = std::fs::read_dir(class.join("sound"))
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().strip_prefix("card")?.parse().ok().map(|n| (n, e.path())))
        .collect();
    cards.sort();
    cards
        .into_iter()
        .find(|(_, dir)| std::fs::canonicalize(dir.join("device")).is_ok_and(|i| i.parent() == Some(usb_device.as_path())))
        .map(|(n, _)| n)
}

/// `class/cardN` for card number `N` or the card whose `id` is `card`.
fn card_dir(card: &str, sound: &Path) -> Option<PathBuf> {
    if card.parse::<u32>().is_ok() {
        let dir = sound.join(format!("card{card}"));
        return dir.exists().then_some(dir);
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(sound)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("card"))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs.into_iter().find(|d| std::fs::read_to_string(d.join("id")).is_ok_and(|id| id.trim() == card))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_reports_set_only_the_output_pins() {
        assert_eq!(output_report(bit(3), bit(3)), [0, 0, 0x04, 0x04, 0]);
        assert_eq!(output_report(0, bit(3)), [0, 0, 0, 0x04, 0]);
        // A level asked for a pin that is an input is not driven.
        assert_eq!(output_report(0xff, bit(8)), [0, 0, 0x80, 0x80, 0]);
    }

    #[test]
    fn only_gpio_input_reports_are_read() {
        assert_eq!(parse_input(&[0x03, 0x05, 0, 0]), Some(0x05));
        assert_eq!(parse_input(&[0x40, 0x05, 0, 0]), None, "a register report is not GPIO");
        assert_eq!(parse_input(&[0x00]), None);
    }

    #[test]
    fn the_hidraw_node_is_found_beside_the_sound_card() {
        let root = std::env::temp_dir().join(format!("frontdesk-cm108-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let usb = root.join("devices/usb1/1-1");
        let other = root.join("devices/usb1/1-2");
        for d in [usb.join("1-1:1.0/sound/card1"), usb.join("1-1:1.3/0003:0D8C:013C.0001"), other.join("1-2:1.0/0003:046D:C31C.0002")] {
            std::fs::create_dir_all(d).unwrap();
        }
        let class = root.join("class");
        for d in ["sound/card1", "hidraw/hidraw0", "hidraw/hidraw1"] {
            std::fs::create_dir_all(class.join(d)).unwrap();
        }
        std::fs::write(class.join("sound/card1/id"), "Device\n").unwrap();
        std::os::unix::fs::symlink(usb.join("1-1:1.0"), class.join("sound/card1/device")).unwrap();
        std::os::unix::fs::symlink(other.join("1-2:1.0/0003:046D:C31C.0002"), class.join("hidraw/hidraw0/device")).unwrap();
        std::os::unix::fs::symlink(usb.join("1-1:1.3/0003:0D8C:013C.0001"), class.join("hidraw/hidraw1/device")).unwrap();
        assert_eq!(find_for_card("1", &class).unwrap(), Path::new("/dev/hidraw1"));
        assert_eq!(find_for_card("Device", &class).unwrap(), Path::new("/dev/hidraw1"));
        assert_eq!(card_beside("hidraw1", &class), Some(1));
        assert_eq!(card_beside("hidraw0", &class), None);
        let e = find_for_card("Modem", &class).unwrap_err().to_string();
        assert!(e.contains("\"Modem\"") && e.contains("no such sound card") && e.contains("fxo.hidraw"), "{e}");
        std::fs::remove_file(class.join("hidraw/hidraw1/device")).unwrap();
        let e = find_for_card("1", &class).unwrap_err().to_string();
        assert!(e.contains("no hidraw device on its USB device"), "{e}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
