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

/// Builds the test PCM that fails like hardware (`tests/alsa/faulty.c`: an xrun once, the
/// device vanishing) into `dir`, and returns the asoundrc line that loads it. Needs a C
/// compiler and alsa-lib's headers (`make deps-test` installs both).
pub fn faulty_plugin(dir: &Path) -> String {
    let lib = dir.join("libasound_module_pcm_faulty.so");
    let source = super::repo().join("tests/alsa/faulty.c");
    let out = std::process::Command::new("cc")
        .args(["-Wall", "-shared", "-fPIC", "-DPIC", "-o"])
        .arg(&lib)
        .arg(&source)
        .arg("-lasound")
        .output()
        .expect("cc (a C compiler) is needed to build tests/alsa/faulty.c");
    assert!(out.status.success(), "building {}: {}", source.display(), String::from_utf8_lossy(&out.stderr));
    format!("pcm_type.faulty {{ lib \"{}\" }}\n", lib.display())
}

/// A PCM `name` of that plugin: an xrun after `xrun_at` frames, gone after `gone_at` (0:
/// never), what happened written to `dir/NAME.log`.
pub fn faulty_device(name: &str, dir: &Path, xrun_at: u64, gone_at: u64) -> String {
    format!("pcm.{name} {{ type faulty xrun_at {xrun_at} gone_at {gone_at} log \"{}/{name}.log\" }}\n", dir.display())
}
