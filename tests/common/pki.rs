//! Test certificates made by openssl (Debian: openssl): a CA of the test's own, and
//! certificates it issues for the names and the validity a test needs (an expired one, one
//! for another name), each a PEM certificate and key beside the CA in the test's directory.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Pki {
    dir: PathBuf,
    ca: String,
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl (Debian: openssl)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

impl Pki {
    /// A CA called `ca` (its files `ca.pem`, `ca.key` and its database) in `dir`.
    pub fn new(dir: &Path, ca: &str) -> Pki {
        std::fs::create_dir_all(dir.join(format!("{ca}.db"))).unwrap();
        std::fs::write(dir.join(format!("{ca}.db/index")), "").unwrap();
        std::fs::write(dir.join(format!("{ca}.db/serial")), "1000\n").unwrap();
        let subject = format!("/CN=Frontdesk test CA {ca}");
        let (key, pem) = (format!("{ca}.key"), format!("{ca}.pem"));
        openssl(dir, &[&["req", "-x509", "-nodes"][..], &EC, &["-keyout", &key, "-out", &pem, "-days", "2", "-subj", &subject]].concat());
        std::fs::write(
            dir.join(format!("{ca}.cnf")),
            format!(
                "[ca]\ndefault_ca = d\n[d]\ndatabase = {ca}.db/index\nnew_certs_dir = {ca}.db\nserial = {ca}.db/serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n"
            ),
        )
        .unwrap();
        Pki { dir: dir.to_path_buf(), ca: ca.to_string() }
    }

    /// The CA's certificate (PEM), what a client is told to trust.
    pub fn ca(&self) -> PathBuf {
        self.dir.join(format!("{}.pem", self.ca))
    }

    /// Issues `name.pem` and `name.key` for `san` (e.g. "DNS:localhost,IP:127.0.0.1"), valid
    /// for two days from now, or between `dates` (openssl's `YYYYMMDDHHMMSSZ`).
    pub fn issue(&self, name: &str, san: &str, dates: Option<(&str, &str)>) -> (PathBuf, PathBuf) {
        let (key, csr, pem, ext) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
        openssl(&self.dir, &[&["req", "-nodes"][..], &EC, &["-keyout", &key, "-out", &csr, "-subj", &format!("/CN={name}")]].concat());
        std::fs::write(self.dir.join(&ext), format!("[e]\nsubjectAltName = {san}\n")).unwrap();
        let cnf = format!("{}.cnf", self.ca);
        let (cert, cakey) = (format!("{}.pem", self.ca), format!("{}.key", self.ca));
        let mut args = vec!["ca", "-batch", "-config", &cnf, "-cert", &cert, "-keyfile", &cakey, "-in", &csr, "-out", &pem];
        args.extend(["-extfile", &ext, "-extensions", "e", "-notext"]);
        match dates {
            Some((from, until)) => args.extend(["-startdate", from, "-enddate", until]),
            None => args.extend(["-days", "2"]),
        }
        openssl(&self.dir, &args);
        (self.dir.join(pem), self.dir.join(key))
    }
}

/// The certificate's SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it
/// (`AB:CD:...`), what an installer copies into `tls_pin`.
pub fn fingerprint(pem: &Path) -> String {
    let out = openssl(Path::new("."), &["x509", "-noout", "-fingerprint", "-sha256", "-in", pem.to_str().unwrap()]);
    out.trim().rsplit_once('=').map(|(_, v)| v.to_string()).unwrap_or_default()
}
