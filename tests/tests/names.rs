//! Names in the council's domain, failover by DNS and HTTPS, with a real authoritative name
//! server (BIND 9, started by the test) taking TSIG-signed dynamic updates from real spoke
//! processes on 127.0.0.2, 127.0.0.3 and 127.0.0.4, a real resolver (hickory's) pointed at it,
//! and a real ACME certificate authority (Pebble) whose DNS-01 checks ask that name server.
//! Readers reach every member on the same two ports (HTTP and HTTPS), as DNS gives no port.

use spokes_core::names::NameBinding;
use spokes_e2e::acme::{Pebble, get_https_by_name, try_get_https};
use spokes_e2e::dns::{DnsServer, get_by_name};
use spokes_e2e::*;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

const ZONE: &str = "spokes.test";

/// A port free on every one of `ips`.
fn common_port(ips: &[IpAddr]) -> u16 {
    loop {
        let port = free_addr().port();
        if ips.iter().all(|ip| TcpListener::bind(SocketAddr::new(*ip, port)).is_ok()) {
            return port;
        }
    }
}

/// Spokes on `ips`, each serving readers on `port` and registering in the zone; with `tls`
/// (a CA and a port), serving HTTPS on that port too with a certificate from the CA.
fn council_spokes(tmp: &std::path::Path, dns: &DnsServer, ips: &[IpAddr], port: u16, tls: Option<(&Pebble, u16)>) -> Vec<SpokeProc> {
    ips.iter()
        .enumerate()
        .map(|(i, ip)| {
            let mut s = SpokeProc::init(&tmp.join(format!("spoke{i}")), &format!("Spoke {i}"));
            s.http = SocketAddr::new(*ip, port);
            let (http, cfg) = (s.http, dns.spoke_config(ZONE, *ip, port, 3));
            let tls = tls.map(|(ca, https_port)| spoke::tls::TlsConfig {
                https: SocketAddr::new(*ip, https_port),
                https_port,
                acme_directory: ca.directory.clone(),
                contact: vec!["mailto:ops@spokes.test".into()],
                acme_root: Some(ca.api_root.clone()),
                renew_before_days: 30,
                challenge_delay_secs: 0,
                relay: true,
            });
            s.configure(|c| {
                c.http = http;
                c.dns = Some(cfg);
                c.tls = tls;
            });
            s
        })
        .collect()
}

fn writer(tmp: &std::path::Path, dir: &str, title: &str, tickets: &[String]) -> std::path::PathBuf {
    let w = tmp.join(dir);
    spokes_ok(&w, PASS, &["init", "--name", title, "--title", title]);
    for t in tickets {
        spokes_ok(&w, PASS, &["spoke", "add", t]);
    }
    w
}

fn wait_for_addresses(dns: &DnsServer, name: &str, want: &[IpAddr], limit: Duration) -> Duration {
    let start = Instant::now();
    let ok = wait_until(limit, || dns.addresses(name) == want);
    assert!(ok, "{name} should resolve to {want:?} within {limit:?}; it resolves to {:?}", dns.addresses(name));
    start.elapsed()
}

#[test]
fn a_blog_name_resolves_to_its_spokes_over_https_is_refused_to_a_second_writer_and_fails_over_when_a_spoke_dies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dns = DnsServer::start(&tmp.path().join("dns"), &[ZONE]);
    let ca = Pebble::start(&tmp.path().join("pebble"), dns.addr);
    let ips: Vec<IpAddr> = ["127.0.0.2", "127.0.0.3", "127.0.0.4"].iter().map(|s| s.parse().expect("ip")).collect();
    let port = common_port(&ips);
    let https_port = std::iter::repeat_with(|| common_port(&ips)).find(|p| *p != port).expect("a second port");
    let mut members = council_spokes(tmp.path(), &dns, &ips, port, Some((&ca, https_port)));
    let tickets: Vec<String> = members.iter().map(SpokeProc::invite).collect();
    for s in &mut members {
        s.start();
    }
    // Every member is in the council's round robin.
    wait_for_addresses(&dns, ZONE, &ips, Duration::from_secs(20));
    // Every member gets its own certificate for the zone from the CA (DNS-01 through the zone's
    // dynamic updates) and serves HTTPS with it; the challenges leave the zone afterwards.
    for ip in &ips {
        let served = wait_until(Duration::from_secs(90), || try_get_https(&ca.roots, SocketAddr::new(*ip, https_port), ZONE, "/health").is_ok_and(|(code, _, _)| code == 200));
        assert!(served, "{ip} serves HTTPS with a certificate from the CA");
    }
    assert!(wait_until(Duration::from_secs(20), || dns.txt(&format!("_acme-challenge.{ZONE}")).is_empty()), "{:?}", dns.txt(&format!("_acme-challenge.{ZONE}")));
    // Monitoring sees when each certificate ends (to alert well before).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as f64;
    for m in &members {
        let metrics = m.metrics().1;
        let end: f64 = metrics.lines().find_map(|l| l.strip_prefix("spoke_tls_certificate_expiry_timestamp_seconds ")).and_then(|v| v.trim().parse().ok()).unwrap_or_else(|| panic!("{metrics}"));
        assert!(end > now + 30.0 * 86_400.0, "{end}");
    }
    // A client that trusts other roots refuses the certificate: it is checked for real.
    assert!(try_get_https(&std::sync::Arc::new(rustls::RootCertStore::empty()), SocketAddr::new(ips[0], https_port), ZONE, "/health").is_err());

    // Maria publishes three posts to all three spokes and claims "Maria".
    let maria = writer(tmp.path(), "maria", "Maria Writes", &tickets);
    for (i, title) in ["Walking in fog", "A letter to the river", "Notes on bread"].iter().enumerate() {
        let body = format!("Paragraph {i} about {title}, with words that stay.");
        spokes_ok(&maria, PASS, &["new", "--title", title, "--body", &body]);
    }
    spokes_ok(&maria, PASS, &["publish"]);
    let out = spokes_ok(&maria, PASS, &["name", "claim", "Maria"]);
    assert!(out.contains("maria.spokes.test"), "{out}");
    let status: serde_json::Value = serde_json::from_str(&spokes_ok(&maria, PASS, &["status", "--json"])).expect("json");
    assert_eq!(status["name"], "maria.spokes.test");
    let blog_id = status["blog_id"].as_str().expect("blog id").to_owned();
    let slugs: Vec<String> = members[0].json(&format!("/api/v1/blogs/{blog_id}"))["posts"].as_array().expect("posts").iter().map(|p| p["slug"].as_str().expect("slug").to_owned()).collect();
    assert_eq!(slugs.len(), 3);

    // A resolver pointed at the council's name server finds the three spokes...
    let name = format!("maria.{ZONE}");
    wait_for_addresses(&dns, &name, &ips, Duration::from_secs(30));
    // ...and the TXT record that binds the name to the blog, signed by Maria's key.
    let txt = dns.txt(&name);
    assert_eq!(txt.len(), 1, "{txt:?}");
    let (binding, bound_blog, fpr) = NameBinding::from_txt("maria", ZONE, &txt[0]).expect("a Spokes binding");
    let profile = spokes_writer::Profile::open(&maria).expect("profile");
    assert_eq!((bound_blog.to_string(), fpr.clone()), (blog_id.clone(), profile.fingerprint().to_owned()));
    binding.verify(&bound_blog, &profile.certificate().expect("certificate")).expect("the binding verifies with Maria's certificate");

    // A second writer's claim of the same name is refused, in words, with free names.
    let other = writer(tmp.path(), "other", "Another Maria", &[members[0].invite()]);
    spokes_ok(&other, PASS, &["new", "--title", "Hello", "--body", "Hi."]);
    spokes_ok(&other, PASS, &["publish"]);
    let refused = spokes(&other, PASS, &["name", "claim", "maria"]);
    assert_eq!(refused.status.code(), Some(5), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("maria.spokes.test is already another blog's name"), "{said}");
    assert!(said.contains("These are free: maria-writes"), "{said}");
    assert_eq!(NameBinding::from_txt("maria", ZONE, &dns.txt(&name)[0]).expect("binding").1.to_string(), blog_id, "the name still belongs to Maria's blog");
    // A name against the rules is told before any spoke is asked.
    let bad = spokes(&other, PASS, &["name", "claim", "www"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("kept for the council"), "{bad:?}");

    // Every spoke serves the blog by name, over HTTPS: its home, each post, the feed.
    let get = |ip: IpAddr, path: &str| get_https_by_name(&ca.roots, ip, https_port, &name, path);
    let site = format!("https://{name}:{https_port}");
    let read_everything = |ip: IpAddr| {
        let (code, _, home) = get(ip, "/");
        assert_eq!(code, 200, "{ip}: {home}");
        assert!(home.contains("Maria Writes"), "{ip}: {home}");
        for slug in &slugs {
            assert!(home.contains(&format!("href=\"/posts/{slug}\"")), "{ip} links to /posts/{slug}: {home}");
            let (code, _, page) = get(ip, &format!("/posts/{slug}"));
            assert_eq!(code, 200, "{ip} /posts/{slug}: {page}");
            assert!(page.contains("words that stay"), "{ip}: {page}");
        }
        // The name is the address pages, feeds and crawlers are given.
        assert!(home.contains(&format!("<link rel=\"canonical\" href=\"{site}/\">")), "{ip}: {home}");
        let (code, _, feed) = get(ip, "/feed.atom");
        assert_eq!(code, 200);
        let parsed = feed_rs::parser::parse(feed.as_bytes()).expect("an Atom feed");
        assert_eq!(parsed.entries.len(), 3, "{ip}: {feed}");
        assert!(parsed.entries.iter().all(|e| e.links.iter().all(|l| l.href.starts_with(&format!("{site}/posts/")))), "{ip}: {feed}");
        let (_, _, robots) = get(ip, "/robots.txt");
        assert!(robots.contains(&format!("Sitemap: {site}/sitemap.xml")), "{ip}: {robots}");
        let (_, _, map) = get(ip, "/sitemap.xml");
        assert!(map.contains(&format!("<loc>{site}/posts/{}</loc>", slugs[0])), "{ip}: {map}");
        // Plain HTTP for the name goes to HTTPS (the members' health checks stay on HTTP).
        let (code, location, _) = get_by_name(ip, port, &name, &format!("/posts/{}?from=mail", slugs[0]));
        assert_eq!((code, location), (308, Some(format!("{site}/posts/{}?from=mail", slugs[0]))), "{ip}");
        assert_eq!(get_by_name(ip, port, &name, "/health").0, 200, "{ip}");
    };
    for ip in &ips {
        read_everything(*ip);
    }
    // The old address of the blog sends readers to the name, over HTTPS; the spoke's own
    // address (an IP, which no certificate covers) stays on plain HTTP.
    let (code, location, _) = get_by_name(ips[0], port, &ips[0].to_string(), &format!("/b/{blog_id}/posts/{}", slugs[0]));
    assert_eq!((code, location.as_deref()), (308, Some(format!("{site}/posts/{}", slugs[0])).as_deref()));
    // Pictures and the verification bundle stay where they are.
    assert_eq!(get_by_name(ips[0], port, &ips[0].to_string(), &format!("/b/{blog_id}/bundle.json")).0, 200);

    // Spoke 1 dies: within a minute its address leaves the name and the round robin, and the
    // others still serve everything by name.
    members[1].stop();
    let live = vec![ips[0], ips[2]];
    let took = wait_for_addresses(&dns, &name, &live, Duration::from_secs(60));
    wait_for_addresses(&dns, ZONE, &live, Duration::from_secs(10));
    eprintln!("a dead spoke left the records in {took:?}");
    for ip in dns.addresses(&name) {
        read_everything(ip);
    }

    // It comes back: so does its address, and it serves HTTPS again with the certificate it
    // kept (not a new order).
    let kept = std::fs::read(members[1].data.join("tls/certificate.pem")).expect("the certificate is kept in the data folder");
    members[1].start();
    wait_for_addresses(&dns, &name, &ips, Duration::from_secs(60));
    wait_for_addresses(&dns, ZONE, &ips, Duration::from_secs(10));
    assert!(wait_until(Duration::from_secs(20), || try_get_https(&ca.roots, SocketAddr::new(ips[1], https_port), &name, "/").is_ok()), "the returned spoke serves HTTPS");
    read_everything(ips[1]);
    assert_eq!(std::fs::read(members[1].data.join("tls/certificate.pem")).expect("certificate"), kept, "the stored certificate is used again");

    // Maria releases the name: it is gone from the zone, and free for the other writer.
    spokes_ok(&maria, PASS, &["name", "release"]);
    assert!(wait_until(Duration::from_secs(30), || dns.addresses(&name).is_empty() && dns.txt(&name).is_empty()), "{:?}", dns.addresses(&name));
    let out = spokes_ok(&other, PASS, &["name", "claim", "maria"]);
    assert!(out.contains("maria.spokes.test"), "{out}");
    wait_for_addresses(&dns, &name, &ips[..1], Duration::from_secs(30));

    // Its spoke's operator drops that blog while the spoke is stopped: started again, the spoke
    // remembers it was under the name (names-joined.json) and takes itself out.
    let other_blog = spokes_writer::Profile::open(&other).expect("profile").blog_id().to_string();
    members[0].stop();
    members[0].admin(&["blog", "drop", &other_blog, "--reason", "spam"]);
    assert_eq!(dns.addresses(&name), ips[..1].to_vec(), "the name still points at the stopped spoke");
    members[0].start();
    wait_for_addresses(&dns, &name, &[], Duration::from_secs(30));
}

/// What a hostile writer or stranger could send on `spokes/name/1`, against a spoke with a
/// council domain: each request is refused with its code, and nothing reaches the zone.
#[test]
fn hostile_name_requests_are_refused_and_change_nothing() {
    use spokes_e2e::hostile::{HostilePeer, hostile_spoke_on};
    use spokes_sync::frame::{Frame, FrameType};
    use spokes_sync::names::{NAME_ALPN, NAME_PROTOCOL, NameOp, NameRequest};
    let tmp = tempfile::tempdir().expect("tmp");
    let dns = DnsServer::start(&tmp.path().join("dns"), &[ZONE]);
    let ip: IpAddr = "127.0.0.2".parse().expect("ip");
    let port = common_port(&[ip]);
    let mut members = council_spokes(tmp.path(), &dns, &[ip], port, None);
    let ticket = members[0].invite();
    members[0].start();
    let w = writer(tmp.path(), "writer", "Ada", &[ticket]);
    spokes_ok(&w, PASS, &["new", "--title", "Hello", "--body", "Hi."]);
    spokes_ok(&w, PASS, &["publish"]);
    let profile = spokes_writer::Profile::open(&w).expect("profile");
    let blog = profile.blog_id().clone();
    let addr = spokes_sync::Ticket::decode(&members[0].invite()).expect("ticket").endpoint_addr().expect("addr");

    let mallory = spokes_core::Identity::generate("Mallory", "pw").expect("identity");
    let mut mallory_key = mallory.unlock("pw").expect("key");
    let signed_by_mallory = NameBinding::sign("ada", ZONE, &blog, profile.fingerprint(), &mut mallory_key).expect("binding");
    let other_zone = NameBinding::sign("ada", "other.test", &blog, profile.fingerprint(), &mut mallory_key).expect("binding");
    let reserved = NameBinding { name: "WWW".into(), ..signed_by_mallory.clone() };
    let request = |op, blog: &spokes_core::BlogId, binding: Option<NameBinding>| Frame::json(FrameType::NameRequest, &NameRequest { protocol: NAME_PROTOCOL, op, blog_id: blog.clone(), binding });
    let wrong_version = Frame::json(FrameType::NameRequest, &serde_json::json!({"protocol": 2, "op": "zone", "blog_id": blog}));
    let cases: Vec<(&str, Frame, &str)> = vec![
        ("not JSON", Frame { typ: FrameType::NameRequest, payload: b"{".to_vec() }, "malformed"),
        ("another frame type", Frame { typ: FrameType::Hello, payload: b"{}".to_vec() }, "malformed"),
        ("a later version", wrong_version, "unsupported-version"),
        ("a claim without a binding", request(NameOp::Claim, &blog, None), "malformed"),
        ("a blog this spoke does not host", request(NameOp::Claim, &spokes_core::BlogId::generate(), Some(signed_by_mallory.clone())), "not-hosted"),
        ("a binding signed by another key", request(NameOp::Claim, &blog, Some(signed_by_mallory.clone())), "bad-signature"),
        ("a release signed by another key", request(NameOp::Release, &blog, Some(signed_by_mallory.clone())), "bad-signature"),
        ("a binding for another zone", request(NameOp::Claim, &blog, Some(other_zone)), "bad-name"),
        ("a reserved name", request(NameOp::Claim, &blog, Some(reserved)), "bad-name"),
    ];
    let peer = HostilePeer::new();
    for (what, frame, code) in cases {
        let answers = peer.session_on(addr.clone(), NAME_ALPN, vec![frame]);
        let refusal = answers.refusal().unwrap_or_else(|| panic!("{what}: no refusal: {answers:?}"));
        assert_eq!(refusal.code.as_str(), code, "{what}: {}", refusal.message);
    }
    assert!(dns.txt(&format!("ada.{ZONE}")).is_empty() && dns.addresses(&format!("ada.{ZONE}")).is_empty(), "nothing reached the zone");

    // A stranger asking again and again is cut off after the hourly allowance (20 requests; the
    // five above that reached the spoke's checks count too); another peer is not.
    let mut codes = Vec::new();
    for _ in 0..20 {
        let a = peer.session_on(addr.clone(), NAME_ALPN, vec![request(NameOp::Claim, &spokes_core::BlogId::generate(), Some(signed_by_mallory.clone()))]);
        codes.push(a.refusal().map(|r| r.code.as_str().to_owned()).unwrap_or_default());
    }
    assert_eq!(codes.last().map(String::as_str), Some("rate-limited"), "{codes:?}");
    let fresh = HostilePeer::new().session_on(addr.clone(), NAME_ALPN, vec![request(NameOp::Zone, &blog, None)]);
    assert_eq!(fresh.frames.first().map(|f| f.typ), Some(FrameType::NameAnswer), "{fresh:?}");

    // A spoke without a council domain says so.
    let mut plain = SpokeProc::init(&tmp.path().join("plain"), "Plain");
    let plain_addr = spokes_sync::Ticket::decode(&plain.invite()).expect("ticket").endpoint_addr().expect("addr");
    plain.start();
    let a = HostilePeer::new().session_on(plain_addr, NAME_ALPN, vec![request(NameOp::Zone, &blog, None)]);
    assert_eq!(a.refusal().map(|r| r.code.as_str().to_owned()).as_deref(), Some("no-names"), "{a:?}");

    // A hostile spoke's answer reaches the writer bounded: a few valid names, not its junk.
    let mut junk: Vec<String> = vec!["<script>".into(), "a b".into(), "x".repeat(5000)];
    junk.extend((0..1000).map(|i| format!("free{i}")));
    // (It answers every request so: the zone is read from any answer.)
    let taken = Frame::json(FrameType::NameAnswer, &serde_json::json!({"protocol": 1, "outcome": "taken", "zone": ZONE, "alternatives": junk}));
    let (hostile_ticket, _rt) = hostile_spoke_on(NAME_ALPN, vec![taken]);
    let victim = writer(tmp.path(), "victim", "Victim", &[hostile_ticket]);
    let out = spokes(&victim, PASS, &["name", "claim", "victim"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{said}");
    assert!(said.contains("These are free: free0, free1, free2\n") && !said.contains("script") && said.len() < 400, "{said}");
}

/// A writer's own domain (in a second zone of the test's name server) is served once its TXT
/// proof is there, and not before, nor with a proof signed by somebody else.
#[test]
fn a_custom_domain_serves_the_blog_after_its_txt_proof_and_not_before() {
    const OWN_ZONE: &str = "maria.test";
    let tmp = tempfile::tempdir().expect("tmp");
    let dns = DnsServer::start(&tmp.path().join("dns"), &[ZONE, OWN_ZONE]);
    let ip: IpAddr = "127.0.0.2".parse().expect("ip");
    let port = common_port(&[ip]);
    let mut members = council_spokes(tmp.path(), &dns, &[ip], port, None);
    let ticket = members[0].invite();
    members[0].start();
    let maria = writer(tmp.path(), "maria", "Maria Writes", &[ticket]);
    spokes_ok(&maria, PASS, &["new", "--title", "Walking in fog", "--body", "Words that stay."]);
    spokes_ok(&maria, PASS, &["publish"]);
    // The domain's CNAME needs the blog's name to point at.
    let first = spokes(&maria, PASS, &["name", "domain", "blog.maria.test"]);
    assert!(!first.status.success() && String::from_utf8_lossy(&first.stderr).contains("claim one first"), "{first:?}");
    spokes_ok(&maria, PASS, &["name", "claim", "maria"]);
    let out = spokes_ok(&maria, PASS, &["name", "domain", "Blog.Maria.Test"]);
    assert!(out.contains("blog.maria.test.  CNAME  maria.spokes.test."), "{out}");
    let proof_line = out.lines().find(|l| l.contains("_spokes.blog.maria.test.  TXT")).expect("the proof to add");
    let proof: Vec<String> = proof_line.split('"').skip(1).step_by(2).map(str::to_owned).collect();
    assert!(proof[0].starts_with("v=spokes-domain1 blog="), "{proof:?}");
    let slug = members[0].json(&format!("/api/v1/blogs/{}", spokes_writer::Profile::open(&maria).expect("profile").blog_id()))["posts"][0]["slug"].as_str().expect("slug").to_owned();

    // The writer's DNS provider (the same name server, second zone, through spoke's own client).
    let own = spoke::dns::Zone::new(dns.spoke_config(OWN_ZONE, ip, port, 3), tmp.path()).expect("zone");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (host, proof_name) = (own.fqdn("blog").expect("name"), own.fqdn("_spokes.blog").expect("name"));
    rt.block_on(own.add_cname(&host, "maria.spokes.test.")).expect("CNAME");
    // The spoke puts the claimed name's addresses in the zone on its own, a moment after the
    // claim: the domain resolves to the blog's spokes through that name once it has.
    wait_for_addresses(&dns, "blog.maria.test", &[ip], Duration::from_secs(30));
    let served = || get_by_name(ip, port, "blog.maria.test", &format!("/posts/{slug}")).0 == 200;
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(!served(), "no proof: not served");

    // A proof signed by somebody else (for the same blog ID) is not enough.
    let mallory = spokes_core::Identity::generate("Mallory", "pw").expect("identity");
    let blog_id = spokes_writer::Profile::open(&maria).expect("profile").blog_id().clone();
    let fake = spokes_core::names::DomainBinding::sign("blog.maria.test", &blog_id, &fpr_of(&proof), &mut mallory.unlock("pw").expect("key")).expect("binding");
    rt.block_on(own.add_txt(&proof_name, &fake.txt(&blog_id, &fpr_of(&proof)))).expect("TXT");
    std::thread::sleep(std::time::Duration::from_secs(4));
    assert!(!served(), "a proof Maria did not sign: not served");

    // Maria's proof: served within seconds, under the domain, with the domain as the canonical address.
    rt.block_on(own.delete_txt(&proof_name)).expect("TXT gone");
    rt.block_on(own.add_txt(&proof_name, &proof)).expect("TXT");
    assert!(wait_until(Duration::from_secs(30), served), "the proven domain is served");
    let (_, _, home) = get_by_name(ip, port, "blog.maria.test", "/");
    assert!(home.contains(&format!("<link rel=\"canonical\" href=\"http://blog.maria.test:{port}/\">")), "{home}");

    // Removed: no longer served.
    spokes_ok(&maria, PASS, &["name", "domain", "--remove"]);
    assert!(wait_until(Duration::from_secs(30), || !served()), "a removed domain is no longer served");
}

/// The fingerprint a proof's first string names.
fn fpr_of(proof: &[String]) -> String {
    proof[0].split("fpr=").nth(1).expect("fpr").to_owned()
}

/// The relay a spoke runs on its HTTPS port (issue 24, "reachable from any network"): a writer
/// with no UDP at all (`SPOKES_RELAY_ONLY=1`: no UDP socket, what a network that blocks UDP
/// leaves) publishes through it, the relay's name (`spoke-ID.ZONE`) found through the council's
/// name server and its certificate from the CA checked for real; the same writer without the
/// relay in its ticket reaches nothing, so the relay is what carried the publish.
/// A writer and then a council member whose networks let no UDP through: the writer
/// publishes through the spoke's relay, and the member (no UDP socket at all) joins the council
/// and takes the blog through the first member's relay, which its council entry names.
#[test]
fn a_writer_whose_network_blocks_udp_publishes_through_the_spokes_relay() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dns = DnsServer::start(&tmp.path().join("dns"), &[ZONE]);
    let ca = Pebble::start(&tmp.path().join("pebble"), dns.addr);
    let (ip, ip_behind): (IpAddr, IpAddr) = ("127.0.0.2".parse().expect("ip"), "127.0.0.3".parse().expect("ip"));
    let port = common_port(&[ip, ip_behind]);
    let https_port = std::iter::repeat_with(|| common_port(&[ip, ip_behind])).find(|p| *p != port).expect("a second port");
    let mut members = council_spokes(tmp.path(), &dns, &[ip, ip_behind], port, Some((&ca, https_port)));
    let root = ca.root_pem();
    let (dns_server, root_file) = (dns.addr.to_string(), root.to_string_lossy().into_owned());
    // Both spokes find relays by the council's name server and trust the test CA's roots.
    let reach = [(spokes_sync::net::DNS_SERVER_ENV, dns_server.as_str()), (spokes_sync::net::EXTRA_ROOTS_ENV, root_file.as_str())];
    let no_udp_spoke = [reach[0], reach[1], (spokes_sync::net::RELAY_ONLY_ENV, "1")];
    members[0].start_as("spoke", &reach);
    let own = format!("spoke-{}.{ZONE}", &members[0].endpoint_id()[..12]);
    assert!(wait_until(Duration::from_secs(60), || try_get_https(&ca.roots, SocketAddr::new(ip, https_port), &own, "/health").is_ok()), "a certificate covering the spoke's own name");
    wait_for_addresses(&dns, &own, &[ip], Duration::from_secs(30));
    // A request to the relay that is no relay handshake is refused, and the site goes on.
    let (code, _, body) = try_get_https(&ca.roots, SocketAddr::new(ip, https_port), &own, "/relay").expect("an answer");
    assert_eq!(code, 400, "{body}");
    assert_eq!(try_get_https(&ca.roots, SocketAddr::new(ip, https_port), &own, "/health").expect("health").0, 200);

    let ticket = members[0].invite();
    let relay = spokes_sync::Ticket::decode(&ticket).expect("ticket").relay;
    assert_eq!(relay.as_deref(), Some(format!("https://{own}:{https_port}/").as_str()), "the ticket names the relay");
    let no_udp: [(&str, &std::ffi::OsStr); 3] = [
        (spokes_sync::net::RELAY_ONLY_ENV, "1".as_ref()),
        (spokes_sync::net::DNS_SERVER_ENV, dns_server.as_ref()),
        (spokes_sync::net::EXTRA_ROOTS_ENV, root.as_os_str()),
    ];
    let accepted = |m: &SpokeProc| -> u64 {
        let (_, text) = m.metrics();
        text.lines().find(|l| l.starts_with("spoke_relay_connections_total{result=\"accepted\"}")).and_then(|l| l.rsplit(' ').next()?.parse().ok()).unwrap_or(0)
    };
    // The spoke's own endpoint is connected to its relay (over loopback) before any writer.
    assert!(wait_until(Duration::from_secs(20), || accepted(&members[0]) >= 1), "the spoke's endpoint holds its home relay connection");
    let before = accepted(&members[0]);

    // Without the relay in the ticket, a writer with no UDP reaches nothing.
    let mut bare = spokes_sync::Ticket::decode(&members[0].invite()).expect("ticket");
    bare.relay = None;
    let stranded = writer(tmp.path(), "stranded", "Stranded", &[bare.encode()]);
    spokes_ok(&stranded, PASS, &["new", "--title", "Unsent", "--body", "Nothing carries this."]);
    let out = spokes_env(&stranded, PASS, &["publish"], &no_udp);
    assert_eq!(out.status.code(), Some(4), "no spoke took it: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // With it, the same writer publishes through the relay.
    let w = writer(tmp.path(), "writer", "Over the relay", &[ticket]);
    spokes_ok(&w, PASS, &["new", "--title", "Through the relay", "--body", "No UDP left this computer."]);
    let out = spokes_env(&w, PASS, &["publish"], &no_udp);
    assert!(out.status.success(), "publish through the relay: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let blog = spokes_writer::Profile::open(&w).expect("profile").blog_id().clone();
    let (code, page) = members[0].get(&format!("/b/{blog}/posts/through-the-relay"));
    assert_eq!(code, 200, "the spoke serves the post: {page}");
    assert!(page.contains("No UDP left this computer."));
    assert!(accepted(&members[0]) > before, "the writer came through the relay");

    // A spoke whose network lets no UDP through (it binds no UDP socket) joins the council:
    // the invite names the first member's relay, and so does its entry in the council log.
    members[1].start_as("spoke", &no_udp_spoke);
    let behind = format!("spoke-{}.{ZONE}", &members[1].endpoint_id()[..12]);
    assert!(wait_until(Duration::from_secs(60), || try_get_https(&ca.roots, SocketAddr::new(ip_behind, https_port), &behind, "/health").is_ok()), "the second spoke's certificate");
    wait_for_addresses(&dns, &behind, &[ip_behind], Duration::from_secs(30));
    let before = accepted(&members[0]);
    let invite = members[0].admin(&["council", "invite"]);
    let joined = members[1].admin_env(&["council", "join", invite.trim()], &no_udp_spoke);
    assert!(joined.contains("Joined"), "{joined}");
    let council = members[0].json("/api/v1/council");
    let listed = |endpoint: &str| council["members"].as_array().and_then(|m| m.iter().find(|m| m["endpoint"] == endpoint)).cloned().unwrap_or_default();
    assert_eq!(listed(&members[0].endpoint_id())["relay"], format!("https://{own}:{https_port}/"), "{council}");
    assert!(wait_until(Duration::from_secs(30), || {
        let c = members[0].json("/api/v1/council");
        c["members"].as_array().is_some_and(|m| m.iter().any(|m| m["endpoint"] == members[1].endpoint_id().as_str() && m["relay"] == format!("https://{behind}:{https_port}/").as_str()))
    }), "the new member's entry names its relay: {}", members[0].json("/api/v1/council"));
    let council = members[0].json("/api/v1/council");
    let entry = council["members"].as_array().and_then(|m| m.iter().find(|m| m["endpoint"] == members[1].endpoint_id().as_str())).cloned().unwrap_or_default();
    assert_eq!(entry["addrs"], serde_json::json!([]), "it has no UDP socket, so no address but its relay: {entry}");
    // Its invites for writers name its relay and no address (nothing listens at one).
    let ticket = spokes_sync::Ticket::decode(members[1].admin_env(&["invite"], &no_udp_spoke).trim()).expect("its invite");
    assert!(ticket.addrs.is_empty(), "{ticket:?}");
    assert_eq!(ticket.relay.as_deref(), Some(format!("https://{behind}:{https_port}/").as_str()));
    // Its council pulls reach the first member through that relay: it holds the blog.
    assert!(
        wait_until(Duration::from_secs(60), || members[1].get(&format!("/b/{blog}/posts/through-the-relay")).0 == 200),
        "the member behind a network without UDP never got the blog: {:?}",
        members[1].get(&format!("/b/{blog}/"))
    );
    assert!(accepted(&members[0]) > before, "the member came through the relay");
}

/// A certificate authority that lost its state (its accounts and its root, as Pebble restarted
/// has): the spoke's stored account is unknown there, so at its next order the spoke makes a
/// new account and gets a certificate under the new root.
#[test]
fn a_spoke_whose_ca_forgot_its_account_makes_a_new_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dns = DnsServer::start(&tmp.path().join("dns"), &[ZONE]);
    let mut ca = Pebble::start(&tmp.path().join("pebble"), dns.addr);
    let ip: IpAddr = "127.0.0.2".parse().expect("ip");
    let port = common_port(&[ip]);
    let https_port = std::iter::repeat_with(|| common_port(&[ip])).find(|p| *p != port).expect("a second port");
    let mut members = council_spokes(tmp.path(), &dns, &[ip], port, Some((&ca, https_port)));
    let https = SocketAddr::new(ip, https_port);
    members[0].start();
    assert!(wait_until(Duration::from_secs(60), || try_get_https(&ca.roots, https, ZONE, "/health").is_ok()), "a first certificate");
    let account = std::fs::read(members[0].data.join("tls/account.json")).expect("the account is kept");

    members[0].stop();
    ca.restart();
    // The stored certificate gone (as at a renewal), the spoke orders one with its stored account.
    std::fs::remove_file(members[0].data.join("tls/certificate.pem")).expect("remove");
    members[0].start();
    assert!(wait_until(Duration::from_secs(60), || try_get_https(&ca.roots, https, ZONE, "/health").is_ok()), "a certificate from the CA that started again");
    assert_ne!(std::fs::read(members[0].data.join("tls/account.json")).expect("account"), account, "a new account was made");
}
