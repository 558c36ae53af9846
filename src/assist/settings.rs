//! `[assist]`: the optional language model, off unless the clinic turns it on.

use serde::Deserialize;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct AssistSection {
    /// The master switch. Off: no request is ever made, whatever else this section says.
    pub enabled: bool,
    /// An OpenAI-compatible API: by default a llama-server on this box.
    pub endpoint: String,
    /// The model name sent with each request.
    pub model: String,
    /// An endpoint off this box must be allowed explicitly: what goes there is redacted, kept
    /// sealed and audited, but a clinic decides that it may go at all.
    pub allow_remote: bool,
    /// File holding the API key of a remote endpoint (or a systemd credential name, read from
    /// `$CREDENTIALS_DIRECTORY`). Never the key itself: the config file is not a secret.
    pub api_key_file: String,
    /// Classify what the rules could not, during the call.
    pub classify: bool,
    /// Write staff a one-line summary of each message, after the call.
    pub summarize: bool,
    /// How long a caller may wait for a classification (the filler covers it).
    pub budget_ms: u64,
    pub connect_timeout_ms: u64,
    /// Whole-request limit for summaries, which no caller waits for.
    pub timeout_ms: u64,
    /// Words the redactor keeps besides common English and the built-in clinical words:
    /// the clinic's own terms. Never names of people.
    pub vocabulary: Vec<String>,
}

impl Default for AssistSection {
    fn default() -> Self {
        AssistSection {
            enabled: false,
            endpoint: "http://127.0.0.1:8081/v1".into(),
            model: "local".into(),
            allow_remote: false,
            api_key_file: String::new(),
            classify: true,
            summarize: true,
            budget_ms: 2500,
            connect_timeout_ms: 500,
            timeout_ms: 20_000,
            vocabulary: Vec::new(),
        }
    }
}

impl AssistSection {
    /// Mistakes in `[assist]`, by key. Checked whether or not it is enabled, so that turning
    /// it on later does not meet a surprise.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let endpoint = crate::assist::client::Endpoint {
            base: self.endpoint.clone(),
            model: self.model.clone(),
            api_key: None,
            connect_timeout: std::time::Duration::from_millis(self.connect_timeout_ms),
        };
        let scheme = self.endpoint.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("http") | Some("https") => {}
            _ => out.push(("endpoint", format!("{:?} is not an http:// or https:// address", self.endpoint))),
        }
        if endpoint.host().is_empty() {
            out.push(("endpoint", "no host in the address".into()));
        }
        if !endpoint.is_local() {
            if !self.allow_remote {
                out.push((
                    "endpoint",
                    format!(
                        "{} is not on this box: set allow_remote = true if the clinic has decided that redacted text may go there",
                        endpoint.host()
                    ),
                ));
            }
            if scheme.as_deref() != Some("https") {
                out.push(("endpoint", "an endpoint off this box must use https:// (TLS, verified)".into()));
            }
        }
        if self.budget_ms == 0 || self.budget_ms > 10_000 {
            out.push(("budget_ms", format!("{} ms: a caller waits this long at most; 500 to 10000", self.budget_ms)));
        }
        if self.connect_timeout_ms == 0 || self.connect_timeout_ms > self.budget_ms {
            out.push(("connect_timeout_ms", "must be above 0 and at most budget_ms".into()));
        }
        if self.timeout_ms < self.budget_ms {
            out.push(("timeout_ms", "must be at least budget_ms".into()));
        }
        for w in &self.vocabulary {
            if w.chars().any(|c| c.is_ascii_digit()) {
                out.push(("vocabulary", format!("{w:?}: numbers are always masked; list words only")));
            }
        }
        out
    }

    /// The API key of a remote endpoint: the systemd credential `assist.key` when the unit
    /// passes one, else `api_key_file`, which others must not be able to read.
    pub fn api_key(&self, base_dir: &std::path::Path) -> anyhow::Result<Option<zeroize::Zeroizing<String>>> {
        use anyhow::Context;
        use std::os::unix::fs::PermissionsExt;
        let credential = std::env::var_os("CREDENTIALS_DIRECTORY").map(|d| std::path::Path::new(&d).join("assist.key"));
        let path = match credential.filter(|p| p.is_file()) {
            Some(p) => p,
            None if self.api_key_file.is_empty() => return Ok(None),
            None => base_dir.join(&self.api_key_file),
        };
        let meta = std::fs::metadata(&path).with_context(|| format!("[assist] api_key_file {}: cannot read it", path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            anyhow::bail!("[assist] api_key_file {}: others can read it; chmod 600 it", path.display());
        }
        let key = zeroize::Zeroizing::new(std::fs::read_to_string(&path)?.trim().to_string());
        if key.is_empty() {
            anyhow::bail!("[assist] api_key_file {} is empty", path.display());
        }
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &AssistSection) -> Vec<&'static str> {
        s.problems().into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn the_api_key_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("frontdesk-assist-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        std::fs::write(&file, "sk-test\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = AssistSection { api_key_file: "key".into(), ..Default::default() };
        assert!(s.api_key(&dir).unwrap_err().to_string().contains("chmod 600"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(s.api_key(&dir).unwrap().as_deref().map(String::as_str), Some("sk-test"));
        assert!(AssistSection::default().api_key(&dir).unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_default_is_clean_and_a_remote_endpoint_must_be_allowed_and_tls() {
        assert!(keys(&AssistSection::default()).is_empty());
        let remote = AssistSection { endpoint: "http://api.example.com/v1".into(), ..Default::default() };
        assert_eq!(keys(&remote), ["endpoint", "endpoint"]);
        let allowed = AssistSection { endpoint: "https://api.example.com/v1".into(), allow_remote: true, ..Default::default() };
        assert!(keys(&allowed).is_empty());
        let bad = AssistSection { endpoint: "ftp://x".into(), budget_ms: 0, ..Default::default() };
        assert!(keys(&bad).contains(&"endpoint") && keys(&bad).contains(&"budget_ms"));
    }
}
