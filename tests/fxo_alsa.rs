//! The analog line's audio port on real alsa-lib, with no sound card: the `file` PCM plugin
//! over a `null` slave plays a fixture as the capture and writes what is played to a file
//! (ARCHITECTURE.md, ../shared reference notes A5). It is not paced, so every read here takes
//! exactly the fixture's length and time is the port's sample clock.
//!
//! One test function: alsa-lib reads `ALSA_CONFIG_PATH` once per process, so the devices are
//! all defined before the first is opened.

mod common;

use frontdesk::audio::dtmf::{DtmfDetector, push_keys};
use frontdesk::audio::tones::{Goertzel, power_dbm0, push_tone};
use frontdesk::fxo::audio::{AlsaPort, PortError};

use common::alsa::{file_device as device, read_raw, write_raw};

#[test]
fn the_alsa_port_reads_writes_resamples_and_names_missing_devices() {
    let dir = common::scratch("fxo-alsa");
    let conf = dir.join("asoundrc");
    // And one that takes only three channels at once (three null slaves bound together): no
    // rate in mono or stereo.
    let three = "pcm.line3ch { type multi slaves.a { pcm \"null\" channels 3 } \
                 bindings.0 { slave a channel 0 } bindings.1 { slave a channel 1 } bindings.2 { slave a channel 2 } }\n";
    std::fs::write(&conf, ["line8k", "line48k", "line16k"].map(|n| device(n, &dir)).concat() + three).unwrap();
    // SAFETY: this binary's only test sets it before any thread (alsa-lib's included) reads
    // the environment.
    unsafe { std::env::set_var("ALSA_CONFIG_PATH", common::alsa::config_path(&conf)) };

    // Capture at the line's own rate: DTMF keys on the line are heard, frame for frame.
    let mut keys = vec![0i16; 800];
    push_keys(&mut keys, "159#", -15.0, 60, 60);
    keys.resize(keys.len().div_ceil(160) * 160, 0);
    write_raw(&dir.join("line8k_in.raw"), &keys);
    let mut port = AlsaPort::open("line8k", None).expect("open line8k");
    assert_eq!(port.rate(), 8000, "the line's own rate is taken first");
    let mut d = DtmfDetector::new();
    let mut frame = [0i16; 160];
    let mut heard = String::new();
    let mut captured = Vec::new();
    for _ in 0..keys.len() / 160 {
        port.read_frame(&mut frame).unwrap();
        captured.extend_from_slice(&frame);
        heard.extend(d.push(&frame));
    }
    assert_eq!(captured, keys, "8 kHz capture is the fixture, sample for sample");
    assert_eq!(heard, "159#");
    assert_eq!(port.clock().as_millis() as usize, keys.len() / 8, "time is the sample clock");
    drop(port);

    // A device run at 48 kHz: the line still gets 8 kHz frames with the keys in them.
    let wide: Vec<f32> = keys.iter().map(|&s| s as f32 / 32768.0).collect();
    let wide = frontdesk::audio::resample::resample(&wide, 8000, 48_000).unwrap();
    let wide: Vec<i16> = wide.iter().map(|&x| (x * 32768.0) as i16).collect();
    write_raw(&dir.join("line48k_in.raw"), &wide);
    let mut port = AlsaPort::open("line48k", Some(48_000)).expect("open line48k");
    assert_eq!(port.rate(), 48_000);
    let mut d = DtmfDetector::new();
    let mut heard = String::new();
    for _ in 0..wide.len() / 960 {
        port.read_frame(&mut frame).unwrap();
        heard.extend(d.push(&frame));
    }
    assert_eq!(heard, "159#");

    // Playback at 16 kHz: what the line is given reaches the device, upsampled, at its level.
    let mut tone = Vec::new();
    push_tone(&mut tone, &[1000.0], -10.0, 1000, 8000);
    write_raw(&dir.join("line16k_in.raw"), &[0; 16_000]);
    let mut port = AlsaPort::open("line16k", Some(16_000)).expect("open line16k");
    for f in tone.chunks_exact(160) {
        port.write_frame(f.try_into().unwrap()).unwrap();
    }
    port.drain().unwrap();
    drop(port);
    let out = read_raw(&dir.join("line16k_out.raw"));
    assert_eq!(out.len(), 16_000, "one second at 16 kHz");
    let steady = &out[4000..12_000];
    let mut g = Goertzel::new(1000.0, 16_000);
    steady.iter().for_each(|&s| g.push(s as f32));
    let level = power_dbm0(g.take_power(steady.len()));
    assert!((level + 10.0).abs() < 1.0, "played at {level} dBm0");

    // The installer's inventory lists the line devices with the rates they take.
    let out = std::process::Command::new(common::frontdesk_bin()).args(["line", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for section in ["ALSA sound cards:", "ALSA PCMs", "GPIO chips", "hidraw devices"] {
        assert!(text.contains(section), "{section}: {text}");
    }
    assert!(text.contains("line8k: test line line8k\n    rates: 8000, 16000, 48000, 44100 Hz"), "{text}");

    // A device that does not exist: named, with the fix.
    let err = AlsaPort::open("fxo_missing_card", None).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PortError::Open { .. }), "{err:?}");
    assert!(text.contains("fxo_missing_card") && text.contains("frontdesk line list"), "{text}");

    // A device that takes none of the line's formats: every rate tried is named, and the fix.
    let err = AlsaPort::open("line3ch", None).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PortError::Rates { .. }), "{err:?}");
    assert!(text.contains("\"line3ch\"") && text.contains("[8000, 16000, 48000, 44100]") && text.contains("fxo.rate"), "{text}");
}
