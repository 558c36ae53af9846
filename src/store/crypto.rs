//! Encryption at rest: the master key, the keys derived from it, and sealed blobs.
//!
//! Every identifying piece of a call (intake, transcript, recording) is sealed with a data key
//! of its own, and that data key is stored wrapped by the master key. Purging a piece destroys
//! its wrapped data key with it (crypto-shredding): a copy of the ciphertext that survived
//! somewhere (a backup, a freed page) can no longer be opened by anyone.
//!
//! The cipher is XChaCha20-Poly1305: its 24-byte nonces can be drawn at random without any
//! chance of reuse, so there is no counter to keep consistent across crashes. The associated
//! data names the call and the kind of blob, so a blob moved to another row fails its tag
//! instead of being served as the wrong patient's record.
//!
//! The master key is 32 random bytes kept as 64 hex digits in a file outside the data
//! directory, readable by its owner only. It never enters the database: the database holds a
//! key check (a sealed constant) so a wrong key is refused at start rather than discovered
//! record by record.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, Generate, Key, KeyInit, Payload};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Format byte at the start of every sealed blob, so the layout can change later.
const SEAL_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
pub const KEY_LEN: usize = 32;

/// 32 secret bytes, wiped from memory when dropped.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn random() -> SecretKey {
        let k = Key::<XChaCha20Poly1305>::generate();
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&k);
        SecretKey(bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<SecretKey> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        (bytes.len() == KEY_LEN).then(|| {
            k.copy_from_slice(bytes);
            SecretKey(k)
        })
    }

    pub fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// A key for one purpose, derived so that no two purposes ever share a key.
    pub fn derive(&self, purpose: &str) -> SecretKey {
        let tag = hmac_sha256(self.bytes(), &[b"frontdesk derive\0", purpose.as_bytes()]);
        SecretKey(Zeroizing::new(tag))
    }

    /// Encrypts `plain`; the result carries its own nonce. `aad` is authenticated, not stored.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(&Key::<XChaCha20Poly1305>::from(*self.bytes()));
        let nonce = chacha20poly1305::XNonce::generate();
        let sealed = cipher.encrypt(&nonce, Payload { msg: plain, aad }).expect("XChaCha20-Poly1305 encrypts any length the store writes");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts a blob made by [`SecretKey::seal`] with the same `aad`; `None` when the blob was
    /// altered, truncated, moved, or sealed with another key.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != SEAL_VERSION {
            return None;
        }
        let cipher = XChaCha20Poly1305::new(&Key::<XChaCha20Poly1305>::from(*self.bytes()));
        let nonce = chacha20poly1305::XNonce::try_from(&sealed[1..1 + NONCE_LEN]).ok()?;
        cipher.decrypt(&nonce, Payload { msg: &sealed[1 + NONCE_LEN..], aad }).ok().map(Zeroizing::new)
    }

    /// A short public name for this key (not a secret: a one-way function of it), so an error
    /// can say which key a database expects without revealing either.
    pub fn key_id(&self) -> String {
        hex::encode(&hmac_sha256(self.bytes(), &[b"frontdesk key id"])[..6])
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.key_id())
    }
}

pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Where the master key comes from: a systemd credential when the service has one
/// (`LoadCredential=master.key:...`), else the configured file.
pub fn key_source(configured: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let credential = Path::new(&dir).join("master.key");
        if credential.is_file() {
            return credential;
        }
    }
    configured.to_path_buf()
}

/// Reads the master key, refusing one that others could read or that is malformed.
pub fn load_master_key(path: &Path) -> Result<SecretKey> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read the master key {}", path.display()))?;
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "the master key {} has mode {mode:04o}: anyone but its owner must be kept out of it. Fix: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    // SAFETY: geteuid takes no arguments and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid && euid != 0 {
        bail!(
            "the master key {} belongs to user id {}, not to the user running frontdesk (id {euid}). Fix: chown it to the service user",
            path.display(),
            meta.uid()
        );
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).with_context(|| format!("cannot read the master key {}", path.display()))?);
    let bytes = Zeroizing::new(hex::decode(text.trim()).unwrap_or_default());
    SecretKey::from_bytes(&bytes).with_context(|| format!("{} is not a frontdesk master key (64 hex digits expected)", path.display()))
}

/// Writes a new master key, readable by its owner only, without ever leaving a readable or
/// half-written file behind. Fails if the file exists: a key is never overwritten.
pub fn create_master_key(path: &Path, owner: Option<(u32, u32)>) -> Result<SecretKey> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let key = SecretKey::random();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the master key {}", path.display()))?;
    let text = Zeroizing::new(format!("{}\n", hex::encode(key.bytes())));
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).with_context(|| format!("cannot give {} to user id {uid}", path.display()))?;
    }
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_blobs_open_only_with_their_key_and_associated_data() {
        let key = SecretKey::random();
        let blob = key.seal(b"call 7 intake", b"Jane Doe 1980-03-05");
        assert!(!blob.windows(4).any(|w| w == b"Jane"));
        assert_eq!(&key.open(b"call 7 intake", &blob).unwrap()[..], b"Jane Doe 1980-03-05");
        assert!(key.open(b"call 8 intake", &blob).is_none(), "moved to another call");
        assert!(SecretKey::random().open(b"call 7 intake", &blob).is_none(), "another key");
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert!(key.open(b"call 7 intake", &bad).is_none(), "byte {i} flipped");
        }
        assert!(key.open(b"call 7 intake", &blob[..blob.len() - 1]).is_none());
        assert!(key.open(b"call 7 intake", &[]).is_none());
    }

    #[test]
    fn two_seals_of_the_same_text_differ() {
        let key = SecretKey::random();
        assert_ne!(key.seal(b"", b"same"), key.seal(b"", b"same"));
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_are_stable() {
        let key = SecretKey::from_bytes(&[7; 32]).unwrap();
        assert_eq!(key.derive("audit").bytes(), key.derive("audit").bytes());
        assert_ne!(key.derive("audit").bytes(), key.derive("wrap").bytes());
        assert_eq!(key.key_id().len(), 12);
    }

    #[test]
    fn a_key_file_is_created_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("frontdesk-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("master.key");
        let made = create_master_key(&path, None).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(load_master_key(&path).unwrap().bytes(), made.bytes());
        assert!(create_master_key(&path, None).is_err(), "never overwritten");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_master_key(&path).unwrap_err().to_string();
        assert!(err.contains("mode 0644") && err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, "not a key\n").unwrap();
        assert!(load_master_key(&path).unwrap_err().to_string().contains("64 hex digits"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
