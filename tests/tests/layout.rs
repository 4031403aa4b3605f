//! The dependency rule of docs/architecture.md, checked on the real build graph: the writer
//! (its library and the `spokes` CLI) pulls in no server, and the app reaches the spoke crate
//! from one module only.

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
    for banned in ["spoke", "axum", "axum-core", "tantivy", "rusqlite", "prometheus-client", "tauri"] {
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
