//! The CM108-style HID GPIO line control (`fxo.control = "hid"`) against a stand-in for its
//! `/dev/hidrawN` (a raw pseudo-terminal; see `common::pty`): the exact reports that work the
//! hook relay, the inputs read from the chip's reports, rings counted from them, reports of
//! another kind ignored, and an unplugged interface reported as a line fault.

mod common;

use std::time::{Duration, Instant};

use common::pty::FakeHid;
use frontdesk::fxo::cm108::{HidGpio, HidSpec};
use frontdesk::fxo::control::{LineControl, Ring, Sense};
use frontdesk::fxo::ring::{RingCounter, RingEvent, zone};

/// GPIO1 ring detector, GPIO2 loop current / battery, GPIO3 the hook relay, GPIO4 polarity.
fn spec(path: &std::path::Path, active_low: bool) -> HidSpec {
    HidSpec { hidraw: Some(path.to_path_buf()), card: None, hook: 3, ring: Some(1), loop_current: Some(2), polarity: Some(4), active_low }
}

/// An input report of the GPIO kind with the volume buttons released (bits 0-1 set).
fn levels(gpio: u8) -> [u8; 4] {
    [0x03, gpio, 0, 0]
}

/// Runs frames (20 ms apart on the line's clock) until `done` holds for a frame's reading;
/// each frame's ring pulses drive `rings`. Waits for the reports to arrive, not for a time.
struct Frames {
    now: u64,
    rings: RingCounter,
    events: Vec<RingEvent>,
    /// Frames whose reading showed ringing.
    ringing_frames: usize,
}

impl Frames {
    fn run(&mut self, hid: &mut HidGpio, done: impl Fn(&Sense, &Frames) -> bool) -> Sense {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.now += 20;
            let s = hid.sense(self.now).unwrap();
            let Ring::Pulses(n) = s.ring else { panic!("a wired ring detector reports pulses: {s:?}") };
            self.ringing_frames += (n > 0) as usize;
            let events = &mut self.events;
            for _ in 0..n {
                self.rings.pulse(self.now, &mut |e| events.push(e));
            }
            self.rings.tick(self.now, &mut |e| events.push(e));
            if done(&s, self) {
                return s;
            }
            assert!(Instant::now() < deadline, "not reached after {} frames: last {s:?}, events {:?}", self.now / 20, self.events);
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Opens the control on a new stand-in and works the hook: opening makes GPIO3 the only
/// output, on hook (low, or high on an active-low board); then off hook and on hook again.
fn opened(active_low: bool) -> (FakeHid, HidGpio) {
    let mut chip = FakeHid::new();
    let mut hid = HidGpio::open(&spec(&chip.path, active_low)).unwrap();
    let (on_hook, off_hook) = if active_low { (0x04, 0x00) } else { (0x00, 0x04) };
    assert_eq!(chip.next_output(), [0, 0, on_hook, 0x04, 0]);
    hid.set_off_hook(true).unwrap();
    assert_eq!(chip.next_output(), [0, 0, off_hook, 0x04, 0]);
    hid.set_off_hook(false).unwrap();
    assert_eq!(chip.next_output(), [0, 0, on_hook, 0x04, 0]);
    assert!(chip.no_output());
    (chip, hid)
}

#[test]
fn a_cm108_line_works_the_hook_and_senses_the_line_through_hid_reports() {
    let (mut chip, mut hid) = opened(false);

    // No report yet (this stand-in cannot answer GET_REPORT): the levels are not known.
    let s = hid.sense(0).unwrap();
    assert_eq!((s.ring, s.loop_current, s.polarity), (Ring::Pulses(0), None, None));

    let mut frames = Frames { now: 0, rings: RingCounter::new(zone("us").unwrap(), 1), events: Vec::new(), ringing_frames: 0 };
    // Battery present, polarity normal.
    chip.send(&levels(0b1010));
    let s = frames.run(&mut hid, |s, _| s.loop_current.is_some());
    assert_eq!((s.loop_current, s.polarity), (Some(true), Some(true)));

    // A ring: the detector held active through a 2 s burst (100 frames once it is seen),
    // then released. The counter sees one ring and, told to answer after one, answers.
    chip.send(&levels(0b1011));
    frames.run(&mut hid, |s, _| s.ring == Ring::Pulses(1));
    frames.run(&mut hid, |_, f| f.ringing_frames >= 100);
    assert_eq!(frames.events, [RingEvent::Started(1)]);
    chip.send(&levels(0b1010));
    frames.run(&mut hid, |_, f| f.events.contains(&RingEvent::Answer));
    assert_eq!(frames.events, [RingEvent::Started(1), RingEvent::Ended(1), RingEvent::Answer]);

    // A report of another kind (bits 7:6 of its first byte set) is not GPIO levels and is
    // ignored, though its second byte would read as ringing with the polarity normal; the
    // report after it reverses the polarity.
    let ringing_before = frames.ringing_frames;
    chip.send(&[0x40, 0xff, 0, 0]);
    chip.send(&levels(0b0010));
    let s = frames.run(&mut hid, |s, _| s.polarity == Some(false));
    assert_eq!(s.loop_current, Some(true));
    assert_eq!(frames.ringing_frames, ringing_before, "the register report was read as ringing");

    // Unplugged: the next reading is a fault that says so.
    let path = chip.path.display().to_string();
    let _device_side = chip.unplug();
    let deadline = Instant::now() + Duration::from_secs(30);
    let e = loop {
        match hid.sense(frames.now) {
            Err(e) => break e.to_string(),
            Ok(_) => assert!(Instant::now() < deadline, "an unplugged interface still reads"),
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(e.contains(&format!("HID GPIO {path}")) && e.contains("unplugged"), "{e}");
}

#[test]
fn an_active_low_board_gets_inverted_levels() {
    let (mut chip, mut hid) = opened(true);
    // All inputs high: nothing active; the ring and loop pins low: ringing, battery present.
    chip.send(&levels(0xff));
    chip.wait_delivered();
    let s = hid.sense(20).unwrap();
    assert_eq!((s.ring, s.loop_current, s.polarity), (Ring::Pulses(0), Some(false), Some(false)));
    chip.send(&levels(0xfc));
    chip.wait_delivered();
    let s = hid.sense(40).unwrap();
    assert_eq!((s.ring, s.loop_current, s.polarity), (Ring::Pulses(1), Some(true), Some(false)));
}

#[test]
fn a_missing_interface_is_named_with_the_fix() {
    let e = HidGpio::open(&spec(std::path::Path::new("/dev/hidraw-none"), false)).err().unwrap().to_string();
    assert!(e.contains("/dev/hidraw-none") && e.contains("frontdesk line list") && e.contains("fxo.hidraw"), "{e}");
}
