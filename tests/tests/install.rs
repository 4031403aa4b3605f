//! `packaging/install-spoke.sh`, run for real (without systemd, into a temporary prefix and
//! data folder): it installs the binary, creates the spoke, starts it, passes the self-test
//! and prints a council invite; run again, it keeps the spoke it made.

use spokes_e2e::*;
use std::process::Command;

fn install(tmp: &std::path::Path, http: &str, p2p: &str) -> String {
    install_as(tmp, "Installed spoke", http, p2p, &[])
}

fn install_as(tmp: &std::path::Path, name: &str, http: &str, p2p: &str, more: &[&str]) -> String {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/install-spoke.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(["--binary", bin("spoke").to_str().unwrap(), "--no-systemd", "--name", name, "--http", http, "--p2p", p2p])
        .args(more)
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

/// The join script of the council issue: a second spoke installed with `--join` and the first
/// spoke's council invite installs, self-tests, joins, and the inviting spoke records it as
/// ready (its self-test passed) and, in a council of one, admits it.
#[test]
fn a_spoke_installed_with_join_reaches_ready_on_the_inviting_spoke() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    let (http1, p2p1, http2, p2p2) = (free_addr().to_string(), free_addr().to_string(), free_addr().to_string(), free_addr().to_string());
    let result = std::panic::catch_unwind(|| {
        let said = install_as(&first, "Inviting spoke", &http1, &p2p1, &[]);
        let invite = said.lines().find(|l| l.starts_with("spokescouncil1")).unwrap_or_else(|| panic!("no council invite: {said}")).to_owned();
        let said = install_as(&second, "Joining spoke", &http2, &p2p2, &["--join", &invite]);
        assert!(said.contains("✓ council endpoint") && said.contains("Joined the council"), "{said}");
        assert!(!said.contains("spokescouncil1"), "a joining install prints no invite of its own: {said}");
        let second_id = spoke::load(&second.join("data")).unwrap().0.public().to_string();
        let spoke_cmd = |data: &std::path::Path, args: &[&str]| {
            let out = Command::new(bin("spoke")).arg("--data").arg(data).args(args).output().unwrap();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        let status: serde_json::Value = serde_json::from_str(&spoke_cmd(&first.join("data"), &["council", "members", "--json"])).unwrap();
        let ready = &status["ready"][&second_id];
        assert_eq!(ready["ready"], true, "{status}");
        assert_eq!(ready["version"].as_str(), Some(env!("CARGO_PKG_VERSION")));
        assert!(ready["checks"].as_array().unwrap().iter().any(|c| c["check"] == "council endpoint" && c["ok"] == true), "{ready}");
        assert!(status["members"].as_array().unwrap().iter().any(|m| m["endpoint"] == second_id.as_str()), "{status}");
        // The joining spoke knows it too, and so does the public log.
        assert!(spoke_cmd(&second.join("data"), &["council", "members"]).contains("2 members"));
        let (code, log) = http_get(&format!("http://{http1}/council"));
        assert_eq!(code, 200, "{log}");
        assert!(log.contains(&second_id), "{log}");
    });
    stop(&first);
    stop(&second);
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
