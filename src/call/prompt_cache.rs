//! The script's fixed prompts kept on disk between starts, so a restart (an update, a power
//! cut, the watchdog) is ready in seconds instead of synthesising every prompt again.
//!
//! One file per prompt in the state directory (`<data_dir>/prompts/<key>.pcm`: 8 kHz 16-bit
//! little-endian samples), the key a SHA-256 of the voice's identity (`Voice::identity`) and the
//! text, so a new voice, pace or wording is synthesised anew. The prompts are the clinic's own
//! words, never a caller's (read-backs are not fixed prompts and are never kept). A file that
//! cannot be read or written is synthesised instead: the cache only saves time.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The prompts directory of one voice.
pub struct PromptCache {
    dir: PathBuf,
    voice: String,
}

impl PromptCache {
    pub fn new(dir: &Path, voice_identity: String) -> PromptCache {
        PromptCache { dir: dir.to_path_buf(), voice: voice_identity }
    }

    fn path(&self, text: &str) -> PathBuf {
        let mut h = Sha256::new();
        h.update(self.voice.as_bytes());
        h.update([0u8]);
        h.update(text.as_bytes());
        self.dir.join(format!("{}.pcm", hex::encode(h.finalize())))
    }

    /// The prompt's audio as kept, if it is.
    pub fn load(&self, text: &str) -> Option<Vec<i16>> {
        let bytes = std::fs::read(self.path(text)).ok()?;
        if bytes.is_empty() || bytes.len() % 2 != 0 {
            return None;
        }
        Some(bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect())
    }

    /// Keeps the prompt's audio (written whole, then renamed into place, so a crash leaves no
    /// half file under the real name).
    pub fn store(&self, text: &str, audio: &[i16]) {
        let path = self.path(text);
        let tmp = path.with_extension("partial");
        let bytes: Vec<u8> = audio.iter().flat_map(|s| s.to_le_bytes()).collect();
        let written =
            std::fs::create_dir_all(&self.dir).and_then(|_| std::fs::write(&tmp, &bytes)).and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::debug!(dir = %self.dir.display(), "cannot keep a prompt for the next start: {e}");
        }
    }

    /// Removes every kept prompt but those of `texts` (after a start or a reload: old wording and
    /// old voices do not pile up).
    pub fn keep_only(&self, texts: &[String]) {
        let keep: std::collections::HashSet<PathBuf> = texts.iter().map(|t| self.path(t)).collect();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if !keep.contains(&p) && p.extension().is_some_and(|x| x == "pcm" || x == "partial") {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_round_trip_and_are_keyed_by_voice_and_text() {
        let dir = std::env::temp_dir().join(format!("frontdesk-prompt-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = PromptCache::new(&dir, "voice a".into());
        let b = PromptCache::new(&dir, "voice b".into());
        assert_eq!(a.load("Hello."), None);
        a.store("Hello.", &[1, -2, i16::MAX, i16::MIN]);
        assert_eq!(a.load("Hello."), Some(vec![1, -2, i16::MAX, i16::MIN]));
        assert_eq!(b.load("Hello."), None, "another voice's audio is not this one's");
        assert_eq!(a.load("Hello!"), None);
        a.store("Bye.", &[3]);
        a.keep_only(&["Bye.".to_string()]);
        assert_eq!(a.load("Hello."), None);
        assert_eq!(a.load("Bye."), Some(vec![3]));
        std::fs::write(a.path("Odd."), [1u8, 2, 3]).unwrap();
        assert_eq!(a.load("Odd."), None, "a damaged file is synthesised again");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
