//! A real authoritative name server for the tests: BIND 9 (`named` from Debian's `bind9`),
//! started on 127.0.0.1 with zones that accept dynamic updates (RFC 2136) signed with one TSIG
//! key, and a resolver pointed at it (hickory's, as a reader's system would resolve).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The TSIG key's name.
pub const KEY_NAME: &str = "council";

/// A running `named`.
pub struct DnsServer {
    /// Where it listens (TCP and UDP).
    pub addr: SocketAddr,
    /// The TSIG secret (base64), for the spokes' `[dns]`.
    pub secret: String,
    /// Its folder.
    pub dir: PathBuf,
    child: Child,
}

/// Where `named` is (Debian installs it in /usr/sbin, outside a user's PATH).
fn named() -> PathBuf {
    for p in ["/usr/sbin/named", "/usr/bin/named"] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("BIND 9's `named` is missing: install Debian's bind9 package (./x test does)");
}

impl DnsServer {
    /// Starts `named` in `dir` serving `zones` (for example `spokes.test`), each with an SOA and
    /// an NS record only, updatable with the key. Waits until it answers.
    pub fn start(dir: &Path, zones: &[&str]) -> DnsServer {
        std::fs::create_dir_all(dir).expect("dns dir");
        let addr = crate::free_addr();
        let secret = data_encoding::BASE64.encode(&rand::random::<[u8; 32]>());
        let mut conf = format!(
            "key \"{KEY_NAME}\" {{ algorithm hmac-sha256; secret \"{secret}\"; }};\n\
             options {{ directory \"{d}\"; listen-on port {p} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }}; recursion no; \
             pid-file \"{d}/named.pid\"; session-keyfile \"{d}/session.key\"; dnssec-validation no; notify no; }};\n\
             controls {{ }};\n",
            d = dir.display(),
            p = addr.port()
        );
        for z in zones {
            std::fs::write(dir.join(format!("{z}.zone")), format!("$TTL 30\n@ IN SOA ns.{z}. admin.{z}. 1 60 60 3600 5\n@ IN NS ns.{z}.\nns IN A 127.0.0.1\n")).expect("zone file");
            conf.push_str(&format!("zone \"{z}\" {{ type primary; file \"{d}/{z}.zone\"; allow-update {{ key \"{KEY_NAME}\"; }}; }};\n", d = dir.display()));
        }
        std::fs::write(dir.join("named.conf"), conf).expect("named.conf");
        let log = std::fs::File::create(dir.join("named.log")).expect("log");
        let child = Command::new(named()).args(["-g", "-c"]).arg(dir.join("named.conf")).stdout(Stdio::null()).stderr(log).spawn().expect("named");
        let server = DnsServer { addr, secret, dir: dir.into(), child };
        let up = crate::wait_until(Duration::from_secs(20), || std::fs::read_to_string(dir.join("named.log")).is_ok_and(|l| l.contains("running")));
        assert!(up, "named did not start: {}", std::fs::read_to_string(dir.join("named.log")).unwrap_or_default());
        server
    }

    /// The `[dns]` section for a spoke at `address` whose readers use `reader_port`, checking
    /// its peers every second and taking one out after `fail_after` seconds.
    pub fn spoke_config(&self, zone: &str, address: IpAddr, reader_port: u16, fail_after: u64) -> spoke::dns::DnsConfig {
        spoke::dns::DnsConfig {
            zone: zone.into(),
            server: self.addr,
            tsig_key: KEY_NAME.into(),
            tsig_algorithm: "hmac-sha256".into(),
            tsig_secret: Some(self.secret.clone()),
            tsig_secret_file: None,
            addresses: vec![address],
            reader_port,
            ttl: 5,
            check_interval_secs: 1,
            fail_after_secs: fail_after,
            resolver: Some(self.addr),
        }
    }

    /// A fresh resolver that asks only this server and keeps nothing between lookups.
    pub fn resolver(&self) -> hickory_resolver::TokioResolver {
        use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
        let group = NameServerConfigGroup::from_ips_clear(&[self.addr.ip()], self.addr.port(), true);
        let mut b = hickory_resolver::Resolver::builder_with_config(ResolverConfig::from_parts(None, vec![], group), hickory_resolver::name_server::TokioConnectionProvider::default());
        b.options_mut().cache_size = 0;
        b.options_mut().attempts = 1;
        b.options_mut().timeout = Duration::from_secs(2);
        b.build()
    }

    /// The A records of `name` as a fresh resolver finds them, sorted (none when it does not
    /// exist).
    pub fn addresses(&self, name: &str) -> Vec<IpAddr> {
        let r = self.resolver();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let mut out: Vec<IpAddr> = rt.block_on(r.lookup_ip(format!("{name}."))).map(|l| l.iter().collect()).unwrap_or_default();
        out.sort();
        out
    }

    /// The TXT records of `name`, each as its character-strings.
    pub fn txt(&self, name: &str) -> Vec<Vec<String>> {
        let r = self.resolver();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(r.txt_lookup(format!("{name}.")))
            .map(|l| l.iter().map(|t| t.txt_data().iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect()).collect())
            .unwrap_or_default()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `path` from `ip:port` for the host name `host` (what a browser that resolved `host` to
/// `ip` sends); returns the status, the `Location` header and the body.
pub fn get_by_name(ip: IpAddr, port: u16, host: &str, path: &str) -> (u16, Option<String>, String) {
    let s = std::net::TcpStream::connect_timeout(&SocketAddr::new(ip, port), Duration::from_secs(5)).unwrap_or_else(|e| panic!("connect {ip}:{port}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    exchange(s, &format!("{host}:{port}"), path).unwrap_or_else(|e| panic!("GET {path} from {ip}:{port} for {host}: {e}"))
}

/// Sends `GET path` with `Host: host_header` on `stream` (plain or TLS) and reads the answer
/// until the stream closes: the status, the `Location` header and the body (unchunked).
pub(crate) fn exchange(mut stream: impl std::io::Read + std::io::Write, host_header: &str, path: &str) -> std::io::Result<(u16, Option<String>, String)> {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n")?;
    stream.flush()?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 << 10];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A TLS peer that closes without close_notify, after its whole answer.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => break,
            Err(e) => return Err(e),
        }
    }
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw.get(split + 4..).unwrap_or_default();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let location = head.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.trim().to_owned()));
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    Ok((status, location, String::from_utf8_lossy(&if chunked { unchunk(body) } else { body.to_vec() }).into_owned()))
}

fn unchunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = body.windows(2).position(|w| w == b"\r\n") {
        let Some(n) = std::str::from_utf8(&body[..nl]).ok().and_then(|s| usize::from_str_radix(s.trim(), 16).ok()) else { break };
        let rest = &body[nl + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        body = rest[n..].strip_prefix(b"\r\n").unwrap_or(&rest[n..]);
    }
    out
}
