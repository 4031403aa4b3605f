//! `packaging/install-spoke.sh`, run for real (without systemd, into a temporary prefix and
//! data folder): it installs the binary, creates the spoke, starts it, passes the self-test
//! and prints a council invite; run again, it keeps the spoke it made.

use spokes_e2e::*;
use std::process::Command;

fn install(tmp: &std::path::Path, http: &str, p2p: &str) -> String {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/install-spoke.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(["--binary", bin("spoke").to_str().unwrap(), "--no-systemd", "--name", "Installed spoke", "--http", http, "--p2p", p2p])
        .arg("--prefix")
        .arg(tmp.join("prefix"))
        .arg("--data")
        .arg(tmp.join("data"))
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "install-spoke.sh failed: {said}");
    said
}

fn stop(tmp: &std::path::Path) {
    if let Ok(pid) = std::fs::read_to_string(tmp.join("data/spoke.pid")) {
        let _ = Command::new("kill").arg(pid.trim()).status();
    }
}

#[test]
fn the_install_script_installs_starts_self_tests_and_prints_a_council_invite() {
    let tmp = tempfile::tempdir().unwrap();
    let (http, p2p) = (free_addr().to_string(), free_addr().to_string());
    let said = install(tmp.path(), &http, &p2p);
    let result = std::panic::catch_unwind(|| {
        assert!(tmp.path().join("prefix/bin/spoke").exists());
        for check in ["✓ database", "✓ reader site", "✓ sync endpoint", "✓ council endpoint"] {
            assert!(said.contains(check), "{check} missing: {said}");
        }
        let ticket = said.lines().find(|l| l.starts_with("spokescouncil1")).unwrap_or_else(|| panic!("no council invite: {said}"));
        let t = spoke::council::CouncilTicket::decode(ticket).unwrap();
        assert_eq!(t.member.name, "Installed spoke");
        assert_eq!(t.member.web, format!("http://{http}"));
        let (code, body) = http_get(&format!("http://{http}/health"));
        assert_eq!(code, 200, "{body}");
        // Again: the spoke and its key are kept, and it is restarted.
        let key = std::fs::read(tmp.path().join("data/endpoint.key")).unwrap();
        let again = install(tmp.path(), &http, &p2p);
        assert!(again.contains("Keeping the spoke already in") && again.contains("✓ reader site"), "{again}");
        assert_eq!(std::fs::read(tmp.path().join("data/endpoint.key")).unwrap(), key);
    });
    stop(tmp.path());
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn the_systemd_unit_verifies_without_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/spoke.service")).unwrap();
    // As install-spoke.sh installs it, pointed at the built binary and a temporary data folder.
    let unit = unit.replace("/usr/local/bin/spoke", bin("spoke").to_str().unwrap()).replace("/var/lib/spoke", tmp.path().to_str().unwrap());
    let path = tmp.path().join("spoke.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze").arg("verify").arg(&path).output().expect("systemd-analyze (Debian package systemd; ./x test installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "systemd-analyze verify: {stderr}");

    // Its sandbox as systemd rates it: "OK" or better (an exposure of 4.9 or less of 10).
    let out = Command::new("systemd-analyze").args(["security", "--offline=yes", "--threshold=49"]).arg(&path).output().expect("systemd-analyze");
    let report = String::from_utf8_lossy(&out.stdout);
    let overall = report.lines().find(|l| l.contains("Overall exposure level")).unwrap_or_default();
    assert!(out.status.success() && (overall.contains(" OK") || overall.contains(" SAFE")), "systemd-analyze security: {overall}\n{report}");
}
