//! A real ACME certificate authority for the tests: Pebble (Debian's `pebble`, Let's
//! Encrypt's test server), started on 127.0.0.1 with its DNS-01 checks asking the test's name
//! server, and an HTTPS client that trusts Pebble's root, as a reader's browser trusts a public
//! one.
//!
//! Debian ships no certificate for Pebble's own API: the test makes one (rcgen), signed by a
//! CA made here too, which the spokes are told to trust for the API (`[tls] acme_root`).

use rustls::pki_types::pem::PemObject;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

/// A running Pebble.
pub struct Pebble {
    /// The ACME directory URL (`https://localhost:PORT/dir`).
    pub directory: String,
    /// The PEM file of the CA that signed Pebble's API certificate (for `acme_root`).
    pub api_root: PathBuf,
    /// Pebble's issuing root, which every certificate it issues chains to: what the test's
    /// HTTPS client trusts. A new one at every (re)start.
    pub roots: Arc<rustls::RootCertStore>,
    dir: PathBuf,
    dns: SocketAddr,
    management: SocketAddr,
    api_roots: Arc<rustls::RootCertStore>,
    child: Child,
}

fn rustls_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Pebble {
    /// Starts Pebble in `dir`, its DNS-01 (and CAA) lookups going to `dns`; waits until its
    /// directory answers and reads its root.
    pub fn start(dir: &Path, dns: SocketAddr) -> Pebble {
        std::fs::create_dir_all(dir).expect("pebble dir");
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Spokes tests: Pebble API CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
        let api_key = rcgen::KeyPair::generate().expect("key");
        let api = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).expect("params").signed_by(&api_key, &ca).expect("API certificate");
        let api_root = dir.join("api-ca.pem");
        std::fs::write(&api_root, ca.pem()).expect("write");
        std::fs::write(dir.join("api.pem"), api.pem()).expect("write");
        std::fs::write(dir.join("api.key"), api_key.serialize_pem()).expect("write");
        let (listen, management) = (crate::free_addr(), crate::free_addr());
        let config = serde_json::json!({"pebble": {
            "listenAddress": listen.to_string(),
            "managementListenAddress": management.to_string(),
            "certificate": dir.join("api.pem"),
            "privateKey": dir.join("api.key"),
            "httpPort": crate::free_addr().port(),
            "tlsPort": crate::free_addr().port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false
        }});
        std::fs::write(dir.join("pebble.json"), serde_json::to_vec_pretty(&config).expect("json")).expect("write");
        let mut api_roots = rustls::RootCertStore::empty();
        api_roots.add(ca.der().clone()).expect("API CA");
        let (child, roots) = spawn(dir, dns, management, &Arc::new(api_roots.clone()));
        Pebble { directory: format!("https://localhost:{}/dir", listen.port()), api_root, roots, dir: dir.into(), dns, management, api_roots: Arc::new(api_roots), child }
    }

    /// Stops Pebble and starts it again at the same address: it forgets every account, order
    /// and certificate, and has a new root (what a CA that lost its state looks like).
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (child, roots) = spawn(&self.dir, self.dns, self.management, &self.api_roots);
        (self.child, self.roots) = (child, roots);
    }
}

/// Where [`spawn`] keeps Pebble's issuing root (PEM), in Pebble's folder.
const ROOT_PEM: &str = "root.pem";

impl Pebble {
    /// A PEM file of Pebble's issuing root (what [`Pebble::roots`] holds), for programs told to
    /// trust it (`SPOKES_EXTRA_ROOTS`).
    pub fn root_pem(&self) -> PathBuf {
        self.dir.join(ROOT_PEM)
    }
}

/// Runs `pebble` with the configuration in `dir` and waits for its root.
fn spawn(dir: &Path, dns: SocketAddr, management: SocketAddr, api_roots: &Arc<rustls::RootCertStore>) -> (Child, Arc<rustls::RootCertStore>) {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("pebble.log")).expect("log");
    let mut child = Command::new("pebble")
        .arg("-config")
        .arg(dir.join("pebble.json"))
        .arg("-dnsserver")
        .arg(dns.to_string())
        // Checks at once, and no nonce refused at random (both are Pebble's test knobs).
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("pebble: {e} (install Debian's pebble package: ./x test does)"));
    let mut root = String::new();
    let up = crate::wait_until(Duration::from_secs(20), || match try_get_https(api_roots, management, "localhost", "/roots/0") {
        Ok((200, _, body)) => {
            root = body;
            true
        }
        _ => false,
    });
    if !up {
        let _ = child.kill();
        panic!("pebble did not start: {}", std::fs::read_to_string(dir.join("pebble.log")).unwrap_or_default());
    }
    std::fs::write(dir.join(ROOT_PEM), &root).expect("write Pebble's root");
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(root.as_bytes()) {
        roots.add(c.expect("Pebble's root, PEM")).expect("Pebble's root");
    }
    assert!(!roots.is_empty(), "Pebble gave no root: {root}");
    (child, Arc::new(roots))
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `path` over HTTPS from `addr` for the host name `host` (sent as SNI and `Host`),
/// trusting only `roots`: what a browser that resolved `host` to `addr`'s IP does. Returns the
/// status, the `Location` header and the body. Panics when the connection or the handshake
/// fails (a certificate not for `host`, or not from `roots`): [`try_get_https`] says why.
pub fn get_https(roots: &Arc<rustls::RootCertStore>, addr: SocketAddr, host: &str, path: &str) -> (u16, Option<String>, String) {
    try_get_https(roots, addr, host, path).unwrap_or_else(|e| panic!("GET https://{host}{path} from {addr}: {e}"))
}

/// [`get_https`], with the failure as an error.
pub fn try_get_https(roots: &Arc<rustls::RootCertStore>, addr: SocketAddr, host: &str, path: &str) -> std::io::Result<(u16, Option<String>, String)> {
    let config = rustls::ClientConfig::builder_with_provider(rustls_provider()).with_safe_default_protocol_versions().map_err(std::io::Error::other)?.with_root_certificates(roots.clone()).with_no_client_auth();
    let server_name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(std::io::Error::other)?;
    let conn = rustls::ClientConnection::new(Arc::new(config), server_name).map_err(std::io::Error::other)?;
    let tcp = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
    let port = addr.port();
    let host_header = if port == 443 { host.to_owned() } else { format!("{host}:{port}") };
    crate::dns::exchange(rustls::StreamOwned::new(conn, tcp), &host_header, path)
}

/// [`get_https`] of `host` at `ip:port`.
pub fn get_https_by_name(roots: &Arc<rustls::RootCertStore>, ip: IpAddr, port: u16, host: &str, path: &str) -> (u16, Option<String>, String) {
    get_https(roots, SocketAddr::new(ip, port), host, path)
}
