//! The dependency rule of docs/architecture.md, checked on the real build graph: the writer
//! (its library and the `spokes` CLI) pulls in no server (SQLite, which keeps its post list,
//! is a library), and the app reaches the spoke crate from one module only.

use std::path::Path;
use std::process::Command;

/// The crates `cargo tree` lists for `package`'s normal dependencies (host platform).
fn dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(cargo).current_dir(&root).args(["tree", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}"]).output().expect("cargo tree");
    assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next().map(str::to_owned)).collect()
}

#[test]
fn the_writer_pulls_in_no_server() {
    let deps = dependencies("spokes-writer");
    assert!(deps.iter().any(|d| d == "spokes-site"), "the writer renders through spokes-site: {deps:?}");
    // SQLite keeps the post list (profile layout 5): a storage library, not a server.
    for banned in ["spoke", "axum", "axum-core", "tantivy", "prometheus-client", "tauri"] {
        assert!(!deps.iter().any(|d| d == banned), "spokes-writer depends on {banned}");
    }
    let site = dependencies("spokes-site");
    for banned in ["spoke", "spokes-writer", "axum", "axum-core", "tantivy", "rusqlite"] {
        assert!(!site.iter().any(|d| d == banned), "spokes-site depends on {banned}");
    }
}

/// Whether `source` has a path starting with the `spoke` crate (`spoke::…`, not `local_spoke::…`).
fn names_the_spoke_crate(source: &str) -> bool {
    source.match_indices("spoke::").any(|(i, _)| !source[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
}

#[test]
fn the_app_reaches_the_spoke_from_one_module() {
    assert!(names_the_spoke_crate("let x = spoke::start();") && !names_the_spoke_crate("use local_spoke::LocalSpoke;"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-tauri/src");
    let mut reaching = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") && names_the_spoke_crate(&std::fs::read_to_string(&path).unwrap()) {
            reaching.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert_eq!(reaching, vec!["local_spoke.rs".to_owned()], "files of the app that name the spoke crate");
}

/// The codes of the table in docs/formats.md ("Refusal codes"), in order.
fn documented_codes() -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/formats.md")).unwrap();
    let section = text.split("## Refusal codes").nth(1).expect("a Refusal codes section").split("\n## ").next().unwrap_or_default();
    section.lines().filter_map(|l| l.strip_prefix("| `")).filter_map(|l| l.split('`').next()).map(str::to_owned).collect()
}

/// Every code some program sends in an `Error` frame (`RemoteError::new(Code::<Name>, …)` in
/// the sources of the crates that speak the protocols, outside their test modules), as the
/// kebab-case names they are sent as.
fn sent_codes() -> std::collections::BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut codes = std::collections::BTreeSet::new();
    for krate in ["sync", "spoke", "writer"] {
        for entry in std::fs::read_dir(root.join(krate).join("src")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            // Test modules (at the end of each file) send invented codes on purpose.
            let source = source.split("#[cfg(test)]").next().unwrap_or_default();
            for (i, _) in source.match_indices("RemoteError::new(") {
                let rest = &source[i + "RemoteError::new(".len()..];
                let name = rest.strip_prefix("Code::").unwrap_or_else(|| panic!("{}: RemoteError::new without a literal Code: {}", path.display(), &rest[..40.min(rest.len())]));
                let name: String = name.chars().take_while(char::is_ascii_alphanumeric).collect();
                codes.insert(kebab(&name));
            }
        }
    }
    codes
}

/// `NotAMember` as `not-a-member`.
fn kebab(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[test]
fn refusal_codes_are_documented_and_every_code_sent_is_known() {
    use spokes_core::problem::Code;
    let known: Vec<String> = Code::all().filter(|c| c.is_refusal()).map(|c| c.as_str().to_owned()).collect();
    assert_eq!(documented_codes(), known, "docs/formats.md and the refusal codes of spokes_core::problem::Code differ");
    assert_eq!(kebab("NotAMember"), Code::NotAMember.as_str());
    let sent = sent_codes();
    assert!(sent.len() >= 15, "the scan found too few codes: {sent:?}");
    for code in &sent {
        assert!(known.contains(code), "`{code}` is sent but is not a refusal code (Code::is_refusal; peers would record it as `unknown`)");
    }
}
