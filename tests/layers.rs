//! The rules of ARCHITECTURE.md that a program can check, checked on every `make test`:
//!
//! - which top-level module may import which (`crate::x` anywhere in a module's files);
//! - every `unsafe` carries a `// SAFETY:` note saying why it is sound.
//!
//! A rule broken here is a design decision to take in ARCHITECTURE.md first, then here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What each top-level module may import from the crate. A module not listed may not exist:
/// a new one is placed in the layering here and in ARCHITECTURE.md.
const ALLOWED: &[(&str, &[&str])] = &[
    // Pure DSP and the smallest shared facts: nothing of ours below them.
    ("audio", &[]),
    ("entropy", &[]),
    ("record", &[]),
    // Liveness beats and status phrases: ticked by every line and worker, read by the daemon.
    ("health", &[]),
    // Counters for monitoring, told by whoever knows a fact; closed label sets, no caller data.
    ("metrics", &[]),
    ("logging", &["entropy"]),
    ("wav", &["audio"]),
    // What every line has in common.
    ("line", &["audio"]),
    // Line types: each implements `line`, none knows another, none knows a call or the config.
    ("rtp", &["audio", "line", "entropy", "logging", "health"]),
    ("sip", &["audio", "line", "rtp", "entropy", "logging", "health", "metrics", "tls_files"]),
    ("fxo", &["audio", "line", "entropy", "logging", "health"]),
    // Speech and the store: below the conversation, beside each other.
    ("speech", &["audio", "logging"]),
    // The optional language model: the redactor, the client, the switch. Nothing of calls,
    // lines or config; the daemon builds it from `[assist]`.
    ("assist", &[]),
    ("store", &["audio", "record", "entropy", "logging"]),
    // The conversation: any line, no config file, no line type.
    ("call", &["audio", "line", "speech", "store", "record", "logging", "wav", "entropy", "health", "metrics"]),
    // Staff tools read the store through the config.
    ("staff", &["audio", "assist", "config", "record", "store", "logging", "wav", "entropy"]),
    // TLS certificates from files, reloaded when renewed: for SIP over TLS and the inbox.
    ("tls_files", &[]),
    // The staff web inbox: the staff tools' view of the store, over HTTPS.
    ("web", &["config", "entropy", "record", "staff", "store", "tls_files"]),
    // The config assembles the sections the modules above own.
    ("config", &["assist", "audio", "call", "daemon", "line", "logging", "rtp", "sip", "speech", "store", "record", "fxo", "web"]),
    // The composition root: everything but the command line.
    (
        "daemon",
        &[
            "assist", "audio", "call", "config", "entropy", "fxo", "health", "line", "logging", "metrics", "record", "rtp", "sip",
            "speech", "staff", "store", "wav", "web",
        ],
    ),
    // Test peers and benchmarks drive lines from outside, as a PBX would.
    ("loopback_caller", &["audio", "entropy", "health", "line", "rtp", "sip"]),
    (
        "bench",
        &[
            "audio",
            "call",
            "config",
            "daemon",
            "entropy",
            "fxo",
            "health",
            "line",
            "loopback_caller",
            "logging",
            "record",
            "rtp",
            "sip",
            "speech",
            "store",
            "wav",
        ],
    ),
    // The command line parses and prints; it may call anything.
    ("cli", &["*"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/sip/ua.rs` and `src/sip.rs` are "sip".
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

/// The code of a line, without its comment (a doc comment naming `crate::sip` is no import).
fn code(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// Every `crate::name` and `crate::{a, b}` in `text`, with its line number.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = code(line);
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().last();
            rest = &rest[i + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `frontdesk_crate::` or the like: not ours
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() {
                        out.push((n + 1, name));
                    }
                }
            } else {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    out.push((n + 1, name));
                }
            }
        }
    }
    out
}

fn module_names() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines().filter_map(|l| l.trim().strip_prefix("pub mod ").map(|m| m.trim_end_matches(';').to_string())).collect()
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut broken = Vec::new();
    for module in module_names() {
        // bench_turns and bench_records are benchmarks too.
        let rules = if module.starts_with("bench") { "bench" } else { module.as_str() };
        if !allowed.contains_key(rules) {
            broken.push(format!(
                "src/{module}: a top-level module with no place in the layering (add it to ALLOWED here and to ARCHITECTURE.md)"
            ));
        }
    }
    for file in &files {
        let module = module_of(file);
        // A module's `tests.rs` is its unit tests: they may set up with the config file and
        // the real models the way the daemon does, which the module itself may not.
        if module == "lib" || module == "main" || file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let rules = if module.starts_with("bench") { "bench" } else { module.as_str() };
        let Some(ok) = allowed.get(rules) else { continue };
        let text = std::fs::read_to_string(file).unwrap();
        for (line, name) in crate_paths(&text) {
            let own = name == module || (rules == "bench" && name.starts_with("bench"));
            if !own && !ok.contains(&"*") && !ok.contains(&name.as_str()) {
                broken.push(format!(
                    "{}:{line}: `{module}` imports `crate::{name}`",
                    file.strip_prefix(src().parent().unwrap()).unwrap().display()
                ));
            }
        }
    }
    assert!(broken.is_empty(), "imports against the layering of ARCHITECTURE.md:\n{}", broken.join("\n"));
}

/// The line types are named in one place: the composition root.
#[test]
fn only_the_daemon_names_line_types_among_the_layers_above_them() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut broken = Vec::new();
    for file in &files {
        let module = module_of(file);
        if !matches!(module.as_str(), "call" | "line" | "store" | "speech" | "staff" | "record") {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (line, name) in crate_paths(&text) {
            if matches!(name.as_str(), "sip" | "rtp" | "fxo") {
                broken.push(format!("{}:{line}: `{module}` names the line type `{name}`", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn every_unsafe_says_why_it_is_sound() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut missing = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let c = code(line);
            if !(c.contains("unsafe {") || c.contains("unsafe extern") || c.contains("unsafe impl") || c.contains("unsafe fn")) {
                continue;
            }
            // The note sits on the line or in the few lines just above it.
            let noted = lines[i.saturating_sub(4)..=i].iter().any(|l| l.contains("SAFETY:"));
            if !noted {
                missing.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(missing.is_empty(), "unsafe without a `// SAFETY:` note above it:\n{}", missing.join("\n"));
}

/// The checks themselves: an import against the rules is found, a comment is not an import.
#[test]
fn the_import_scanner_reads_paths_groups_and_skips_comments() {
    let text = "use crate::audio::g711;\nuse crate::{line, store::Store};\n// crate::sip is only named here\nlet x = crate::speech::stt::SAMPLE_RATE; // crate::rtp\n";
    let names: Vec<String> = crate_paths(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["audio", "line", "store", "speech"]);
}
