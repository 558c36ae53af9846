//! Analog-line devices with no sound card: alsa-lib's `file` PCM plugin over a `null` slave
//! plays a raw fixture (S16_LE mono) as the capture and writes what is played to a file. It is
//! not paced; a test reads exactly the fixture's length, or lets the call set the pace.

use std::path::Path;

/// asoundrc text for a device `name` whose capture is `{dir}/{name}_in.raw` and whose playback
/// goes to `{dir}/{name}_out.raw`.
pub fn file_device(name: &str, dir: &Path) -> String {
    format!(
        "pcm.{name}_cap {{ type file slave.pcm \"null\" infile \"{d}/{name}_in.raw\" file \"{d}/{name}_capcopy.raw\" format \"raw\" }}\n\
         pcm.{name}_play {{ type file slave.pcm \"null\" file \"{d}/{name}_out.raw\" format \"raw\" }}\n\
         pcm.{name} {{ type asym capture.pcm \"{name}_cap\" playback.pcm \"{name}_play\" hint.description \"test line {name}\" }}\n",
        d = dir.display()
    )
}

/// ALSA_CONFIG_PATH for alsa-lib's own configuration plus `asoundrc`.
pub fn config_path(asoundrc: &Path) -> String {
    format!("/usr/share/alsa/alsa.conf:{}", asoundrc.display())
}

pub fn write_raw(path: &Path, samples: &[i16]) {
    std::fs::write(path, samples.iter().flat_map(|s| s.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
}

pub fn read_raw(path: &Path) -> Vec<i16> {
    std::fs::read(path).unwrap().chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}
