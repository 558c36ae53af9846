//! Call recordings (off unless `[recording] enabled = true`): both sides of the call, sealed
//! with the call's recording data key, one file per call beside the database.
//!
//! The file is a sequence of sealed chunks of about a second each, written as the call goes,
//! so a crash loses at most the last second rather than the whole recording, and nothing
//! unsealed ever touches the disk. Each chunk's associated data names the call, the chunk's
//! number, and whether it is the last, so chunks cannot be reordered, dropped, or moved to
//! another call, and a recording cut short (by a crash) is known to be incomplete.
//!
//! Layout: `FDREC1`, then per chunk a little-endian u32 length and the sealed bytes. Chunk
//! plaintext is 8 kHz G.711 µ-law, two channels interleaved (caller, then agent), the
//! telephone's own quality, at half the size of 16-bit samples.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::Store;
use super::crypto::SecretKey;
use crate::audio::g711::{linear_to_ulaw, ulaw_to_linear};

const MAGIC: &[u8; 6] = b"FDREC1";
pub const RATE: u32 = 8000;
/// One second of two-channel µ-law.
const CHUNK_BYTES: usize = 2 * RATE as usize;
/// A chunk longer than this is not one of ours (refuse before allocating it).
const MAX_SEALED_CHUNK: usize = CHUNK_BYTES * 2 + 64;

pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("recordings")
}

pub fn file_name(id: i64) -> String {
    format!("call-{id}.rec")
}

fn chunk_aad(id: i64, index: u32, last: bool) -> Vec<u8> {
    format!("frontdesk recording of call {id} chunk {index}{}", if last { " last" } else { "" }).into_bytes()
}

/// Writes one call's recording as it happens.
pub struct Recorder {
    file: std::fs::File,
    key: SecretKey,
    id: i64,
    next_chunk: u32,
    caller: VecDeque<i16>,
    agent: VecDeque<i16>,
    chunk: Vec<u8>,
}

impl Recorder {
    pub fn create(store: &Store, id: i64) -> Result<Recorder> {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = dir(store.data_dir());
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        super::restrict(&dir, 0o700);
        let key = store.recording_key(id)?;
        let path = dir.join(file_name(id));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(MAGIC)?;
        Ok(Recorder {
            file,
            key,
            id,
            next_chunk: 0,
            caller: VecDeque::new(),
            agent: VecDeque::new(),
            chunk: Vec::with_capacity(CHUNK_BYTES),
        })
    }

    /// What the caller said (one frame as it arrives).
    pub fn caller(&mut self, samples: &[i16]) -> Result<()> {
        self.caller.extend(samples);
        self.pair()
    }

    /// What the caller heard from us (one frame as the line plays it).
    pub fn agent(&mut self, samples: &[i16]) -> Result<()> {
        self.agent.extend(samples);
        self.pair()
    }

    fn pair(&mut self) -> Result<()> {
        while let (Some(c), Some(a)) = (self.caller.front().copied(), self.agent.front().copied()) {
            self.caller.pop_front();
            self.agent.pop_front();
            self.chunk.push(linear_to_ulaw(c));
            self.chunk.push(linear_to_ulaw(a));
            if self.chunk.len() >= CHUNK_BYTES {
                self.write_chunk(false)?;
            }
        }
        Ok(())
    }

    fn write_chunk(&mut self, last: bool) -> Result<()> {
        let sealed = self.key.seal(&chunk_aad(self.id, self.next_chunk, last), &self.chunk);
        self.chunk.clear();
        self.file.write_all(&(sealed.len() as u32).to_le_bytes())?;
        self.file.write_all(&sealed)?;
        self.next_chunk += 1;
        Ok(())
    }

    /// Writes what is left (the shorter side padded with silence) as the last chunk.
    pub fn finish(mut self) -> Result<()> {
        let n = self.caller.len().max(self.agent.len());
        self.caller.resize(n, 0);
        self.agent.resize(n, 0);
        self.pair()?;
        self.write_chunk(true)?;
        self.file.sync_all()?;
        Ok(())
    }
}

/// A recording read back: both sides at 8 kHz.
pub struct Playback {
    pub caller: Vec<i16>,
    pub agent: Vec<i16>,
    /// False when the recording stops before its last chunk (the call was cut by a crash).
    pub complete: bool,
}

/// Opens a recording, checking every chunk. An altered, reordered or foreign chunk is an
/// error: none of the audio is served.
pub fn read(path: &Path, key: &SecretKey, id: i64) -> Result<Playback> {
    let mut data = Vec::new();
    std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?.read_to_end(&mut data)?;
    if !data.starts_with(MAGIC) {
        bail!("{} is not a frontdesk recording", path.display());
    }
    let mut rest = &data[MAGIC.len()..];
    let mut out = Playback { caller: Vec::new(), agent: Vec::new(), complete: false };
    let mut index = 0u32;
    while rest.len() >= 4 {
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        if len > MAX_SEALED_CHUNK || rest.len() < 4 + len {
            break; // a chunk torn by a crash: what came before it stands
        }
        let sealed = &rest[4..4 + len];
        let plain = match key.open(&chunk_aad(id, index, false), sealed) {
            Some(p) => p,
            None => match key.open(&chunk_aad(id, index, true), sealed) {
                Some(p) => {
                    out.complete = true;
                    p
                }
                None => bail!("chunk {index} of the recording of call {id} failed its integrity check: not served"),
            },
        };
        for pair in plain.chunks_exact(2) {
            out.caller.push(ulaw_to_linear(pair[0]));
            out.agent.push(ulaw_to_linear(pair[1]));
        }
        rest = &rest[4 + len..];
        index += 1;
        if out.complete {
            break;
        }
    }
    Ok(out)
}

/// `[recording]`: whole-call recordings, off by default.
#[derive(Debug, serde::Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RecordingSection {
    #[serde(default)]
    pub enabled: bool,
    /// Played before the greeting on every recorded call; callers must be told.
    #[serde(default = "default_recording_announcement")]
    pub announcement: String,
}

impl Default for RecordingSection {
    fn default() -> Self {
        RecordingSection { enabled: false, announcement: default_recording_announcement() }
    }
}

fn default_recording_announcement() -> String {
    "This call is recorded for quality and safety.".into()
}

impl RecordingSection {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        if self.enabled && self.announcement.trim().is_empty() {
            return vec![(
                "announcement",
                "callers must be told the call is recorded: write the announcement, or set enabled = false".into(),
            )];
        }
        Vec::new()
    }
}
