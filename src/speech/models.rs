//! Which model files the box loads, and whether they are the ones we tested.
//!
//! A model that is missing, truncated by a full disk, or silently swapped would make the box
//! mishear or fail mid-call; `frontdesk models check` catches that before the daemon starts, and
//! says what to run.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::stt::SttSettings;
use super::tts::TtsSettings;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ok,
    Missing,
    /// The file's digest is not among those recorded for it.
    Mismatch {
        actual: String,
    },
    /// The checksum list has no entry for this file name.
    Unrecorded {
        actual: String,
    },
}

#[derive(Debug, Clone)]
pub struct ModelCheck {
    pub role: &'static str,
    pub path: PathBuf,
    pub status: Status,
    pub fix: String,
}

impl fmt::Display for ModelCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path.display();
        match &self.status {
            Status::Ok => write!(f, "ok        {:<12} {p}", self.role),
            Status::Missing => write!(f, "MISSING   {:<12} {p}\n          fix: {}", self.role, self.fix),
            Status::Mismatch { actual } => {
                write!(f, "MISMATCH  {:<12} {p} (sha256 {actual})\n          fix: {}", self.role, self.fix)
            }
            Status::Unrecorded { actual } => write!(
                f,
                "UNKNOWN   {:<12} {p} (sha256 {actual} is not in the checksum list)\n          fix: add `{actual}  <name>` to the checksum list if this file is intended",
                self.role
            ),
        }
    }
}

/// Parses a `sha256sum` listing: `<hex>  <name>` per line; one name may have several accepted
/// digests (e.g. the x86_64 and aarch64 builds of the ONNX Runtime library).
pub fn read_checksums(path: &Path) -> Result<HashMap<String, Vec<String>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!("cannot read the checksum list {}: {e}; run `make models` or set models.checksums in the config", path.display())
    })?;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (hash, name) =
            line.split_once(char::is_whitespace).ok_or_else(|| format!("{}:{}: expected `<sha256>  <file>`", path.display(), i + 1))?;
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("{}:{}: {hash:?} is not a sha256 digest", path.display(), i + 1));
        }
        map.entry(name.trim().trim_start_matches('*').to_string()).or_default().push(hash);
    }
    Ok(map)
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Checks every model file the speech settings name against the checksum list `sums_path`.
pub fn check(stt: &SttSettings, tts: &TtsSettings, sums_path: &Path) -> Result<Vec<ModelCheck>, String> {
    let sums = read_checksums(sums_path)?;
    let voice = tts.voice.clone();
    let voice_json = PathBuf::from(format!("{}.json", voice.display()));
    let stt_fix = "run `make models` (it downloads Whisper and converts it with `frontdesk models import-ct2`)";
    let files: Vec<(&'static str, PathBuf, &str)> = vec![
        ("stt model", stt.model.clone(), stt_fix),
        ("tts voice", voice, "run `make models` to download the Piper voice"),
        ("voice config", voice_json, "run `make models` to download the Piper voice"),
        ("onnxruntime", tts.onnxruntime.clone(), "run `make models` to unpack ONNX Runtime"),
    ];
    let sums_dir = sums_path.parent().unwrap_or(Path::new("."));
    Ok(files
        .into_iter()
        .map(|(role, path, fix)| {
            let status = check_one(&path, &sums, sums_dir);
            ModelCheck { role, path, status, fix: fix.to_string() }
        })
        .collect())
}

fn check_one(path: &Path, sums: &HashMap<String, Vec<String>>, sums_dir: &Path) -> Status {
    // A symlink such as libonnxruntime.so is checked as the file it points to.
    let real = match std::fs::canonicalize(path) {
        Ok(p) if p.is_file() => p,
        _ => return Status::Missing,
    };
    let actual = match sha256_file(&real) {
        Ok(h) => h,
        Err(_) => return Status::Missing,
    };
    let sums_dir = std::fs::canonicalize(sums_dir).unwrap_or_else(|_| sums_dir.to_path_buf());
    let relative = real.strip_prefix(&sums_dir).ok().map(|p| p.to_string_lossy().into_owned());
    let base = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let expected = relative.as_ref().and_then(|r| sums.get(r)).or_else(|| sums.get(&base));
    match expected {
        Some(list) if list.contains(&actual) => Status::Ok,
        Some(_) => Status::Mismatch { actual },
        None => Status::Unrecorded { actual },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_list_parsing() {
        let dir = std::env::temp_dir().join(format!("frontdesk-sums-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("SHA256SUMS");
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        std::fs::write(&p, format!("# models\n{a}  lib.so\n{b} *lib.so\n\n")).unwrap();
        let m = read_checksums(&p).unwrap();
        assert_eq!(m["lib.so"], vec![a, "b".repeat(64)]);
        std::fs::write(&p, "xyz  lib.so\n").unwrap();
        assert!(read_checksums(&p).unwrap_err().contains(":1:"));
    }

    #[test]
    fn statuses() {
        let dir = std::env::temp_dir().join(format!("frontdesk-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("m.bin");
        std::fs::write(&f, b"model").unwrap();
        let good = sha256_file(&f).unwrap();
        let mut sums = HashMap::new();
        sums.insert("m.bin".to_string(), vec![good.clone()]);
        assert_eq!(check_one(&f, &sums, &dir), Status::Ok);
        std::fs::write(&f, b"modeL").unwrap();
        assert!(matches!(check_one(&f, &sums, &dir), Status::Mismatch { .. }));
        assert_eq!(check_one(&dir.join("none.bin"), &sums, &dir), Status::Missing);
        sums.clear();
        assert!(matches!(check_one(&f, &sums, &dir), Status::Unrecorded { .. }));
    }
}
