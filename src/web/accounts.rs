//! Staff accounts of the web inbox: local to the box, one per person, so every read and
//! acknowledgement in the audit trail names who did it.
//!
//! A file in the data directory (`staff-accounts`, mode 600, owned by the service user), one
//! line per account: `NAME:PHC`, where PHC is an Argon2id hash in the PHC string format (the
//! RustCrypto `argon2` crate's defaults: 19 MiB, 2 passes). Passwords are never stored or
//! logged. Repeated failures lock an account for a while ([`Lockout`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Failed logins in a row that lock an account.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

pub fn file(data_dir: &Path) -> PathBuf {
    data_dir.join("staff-accounts")
}

/// Names are what the audit trail shows: letters, digits, `.`, `_`, `-`.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn read(path: &Path) -> Result<Vec<(String, String)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(text.lines().filter_map(|l| l.split_once(':')).map(|(n, h)| (n.to_string(), h.to_string())).collect())
}

fn write(path: &Path, accounts: &[(String, String)]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("new");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    for (n, h) in accounts {
        writeln!(f, "{n}:{h}")?;
    }
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// 16 bytes from the OS's random source.
fn salt() -> Result<SaltString> {
    let bytes: Vec<u8> = (0..4).flat_map(|_| crate::entropy::u32().to_be_bytes()).collect();
    SaltString::encode_b64(&bytes).map_err(|e| anyhow::anyhow!("cannot make a salt: {e}"))
}

/// Adds `name`, or sets its password when it exists. Returns true when it was new.
pub fn set(data_dir: &Path, name: &str, password: &str) -> Result<bool> {
    if !valid_name(name) {
        bail!("{name:?}: an account name is 1 to 32 letters, digits, '.', '_' or '-'");
    }
    if password.chars().count() < MIN_PASSWORD {
        bail!("the password must have at least {MIN_PASSWORD} characters");
    }
    let salt = salt()?;
    let hash = argon2::Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("cannot hash: {e}"))?;
    let path = file(data_dir);
    let mut accounts = read(&path)?;
    let new = !accounts.iter().any(|(n, _)| n == name);
    accounts.retain(|(n, _)| n != name);
    accounts.push((name.to_string(), hash.to_string()));
    write(&path, &accounts)?;
    Ok(new)
}

pub fn remove(data_dir: &Path, name: &str) -> Result<bool> {
    let path = file(data_dir);
    let mut accounts = read(&path)?;
    let before = accounts.len();
    accounts.retain(|(n, _)| n != name);
    if accounts.len() == before {
        return Ok(false);
    }
    write(&path, &accounts)?;
    Ok(true)
}

pub fn names(data_dir: &Path) -> Result<Vec<String>> {
    Ok(read(&file(data_dir))?.into_iter().map(|(n, _)| n).collect())
}

/// Whether `password` is `name`'s. The file is read each time, so an account added or removed
/// with `frontdesk staff` counts at once. An unknown name costs a hash as well, so the time
/// taken does not tell which names exist.
pub fn verify(data_dir: &Path, name: &str, password: &str) -> bool {
    // The hash of a password nobody knows, checked for names that do not exist.
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let decoy = DECOY.get_or_init(|| {
        let Ok(salt) = salt() else { return String::new() };
        argon2::Argon2::default().hash_password(salt.as_str().as_bytes(), &salt).map(|h| h.to_string()).unwrap_or_default()
    });
    let accounts = read(&file(data_dir)).unwrap_or_default();
    let stored = accounts.iter().find(|(n, _)| n == name).map(|(_, h)| h.as_str());
    let Ok(hash) = PasswordHash::new(stored.unwrap_or(decoy)) else { return false };
    let ok = argon2::Argon2::default().verify_password(password.as_bytes(), &hash).is_ok();
    ok && stored.is_some()
}

/// Failed logins per account name; a name with [`MAX_FAILURES`] in a row is locked for
/// [`LOCKOUT`], whatever password comes next.
#[derive(Default)]
pub struct Lockout(Mutex<HashMap<String, (u32, Option<Instant>)>>);

impl Lockout {
    pub fn locked(&self, name: &str, now: Instant) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match m.get(name) {
            Some((_, Some(until))) if now < *until => true,
            Some((_, Some(_))) => {
                m.remove(name);
                false
            }
            _ => false,
        }
    }

    /// Counts a failure; true when it locked the account.
    pub fn failed(&self, name: &str, now: Instant) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: names are checked (`valid_name`, 32 bytes) before they get here, and past
        // 10 000 only locks still running are kept.
        if m.len() > 10_000 {
            m.retain(|_, (_, until)| until.is_some_and(|u| now < u));
        }
        let e = m.entry(name.to_string()).or_default();
        e.0 += 1;
        if e.0 >= MAX_FAILURES && e.1.is_none() {
            e.1 = Some(now + LOCKOUT);
            return true;
        }
        false
    }

    pub fn succeeded(&self, name: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_hash_passwords_and_check_them() {
        let dir = std::env::temp_dir().join(format!("frontdesk-accounts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(set(&dir, "nurse.kim", "correct horse battery").unwrap());
        assert!(!set(&dir, "nurse.kim", "correct horse battery staple").unwrap(), "a new password for the same account");
        assert!(set(&dir, "bad name", "long enough password").is_err());
        assert!(set(&dir, "short", "tooshort").is_err());
        let text = std::fs::read_to_string(file(&dir)).unwrap();
        assert!(text.starts_with("nurse.kim:$argon2id$") && !text.contains("horse"), "{text}");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(file(&dir)).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(verify(&dir, "nurse.kim", "correct horse battery staple"));
        assert!(!verify(&dir, "nurse.kim", "correct horse battery"));
        assert!(!verify(&dir, "nobody", "correct horse battery staple"));
        assert!(remove(&dir, "nurse.kim").unwrap());
        assert!(!verify(&dir, "nurse.kim", "correct horse battery staple"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn five_failures_lock_an_account_for_a_while() {
        let l = Lockout::default();
        let now = Instant::now();
        for i in 1..MAX_FAILURES {
            assert!(!l.failed("kim", now), "failure {i}");
        }
        assert!(l.failed("kim", now));
        assert!(l.locked("kim", now + Duration::from_secs(60)));
        assert!(!l.locked("lee", now));
        assert!(!l.locked("kim", now + LOCKOUT + Duration::from_secs(1)));
    }
}
