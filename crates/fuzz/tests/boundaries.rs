//! One fuzz target per boundary the hostile-peers issue names: frame decoding, statement
//! parsing (and sealed drafts), certificate merging, ticket and pairing-code parsing,
//! archive reading, and loading peer documents through the expansion check. Each runs for
//! `SPOKES_FUZZ_SECS` seconds (see the crate docs); a case fails if the code under test
//! panics or breaks the property the target states.

use spokes_core::problem::Code;
use proptest::test_runner::TestCaseError;
use spokes_core::{BlogDoc, BlogSettings, Certificate, Identity, Post, SignedStatement, Statement};
use spokes_fuzz::{fuzz, seeds};
use std::sync::OnceLock;

/// A real author: identity, blog document with two posts, and a signed statement.
struct Author {
    cert: Certificate,
    blog_id: spokes_core::BlogId,
    doc: Vec<u8>,
    increment: Vec<u8>,
    signed: SignedStatement,
    sealed: Vec<u8>,
}

fn author() -> &'static Author {
    static A: OnceLock<Author> = OnceLock::new();
    A.get_or_init(|| {
        let id = Identity::generate("Ada <ada@example.org>", "pw").expect("identity");
        let mut key = id.unlock_device("pw", None).expect("key");
        let cert = id.certificate();
        let (blog_id, mut doc) = BlogDoc::create_blog(&cert.fingerprint(), &BlogSettings { title: "Notes".into(), ..Default::default() });
        doc.put_post(&Post::new("First", "One *two* three.")).expect("post");
        doc.commit("first");
        let before = doc.heads();
        doc.put_post(&Post::new("Second", "Four.")).expect("post");
        doc.commit("second");
        let increment = doc.automerge().save_after(&before);
        let signed = Statement::new(blog_id.clone(), &doc.heads()).sign(&mut key).expect("sign");
        let sealed = spokes_core::seal::seal(b"drafts", &cert, &mut key).expect("seal");
        Author { cert, blog_id, doc: doc.save(), increment, signed, sealed }
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn frame_bytes(rt: &tokio::runtime::Runtime, frames: &[spokes_sync::Frame]) -> Vec<u8> {
    rt.block_on(async {
        let mut out = Vec::new();
        for f in frames {
            spokes_sync::frame::write_frame(&mut out, f).await.expect("write");
        }
        out
    })
}

/// Frames as they arrive from a peer: read one after another until the bytes end or a
/// frame is refused; each payload parsed as what its type says. Property: no panic, and a
/// frame read is never longer than the limit or than the bytes sent.
#[test]
fn frames() {
    use spokes_sync::frame::{Frame, FrameType, MAX_FRAME_LEN, read_frame};
    let rt = runtime();
    let a = author();
    let hello = Frame::json(FrameType::Hello, &spokes_sync::Hello::new(a.blog_id.clone(), None));
    let error = Frame::json(FrameType::Error, &spokes_sync::RemoteError::new(Code::Quota, "too large"));
    let statements = Frame::json(FrameType::Statements, &vec![a.signed.clone()]);
    let fresh = vec![
        ("hello-certificate-statements", frame_bytes(&rt, &[hello.clone(), Frame { typ: FrameType::Certificate, payload: a.cert.to_armored() }, statements])),
        ("hello-sync-done", frame_bytes(&rt, &[hello, Frame { typ: FrameType::SyncMessage, payload: a.increment.clone() }, Frame::json(FrameType::Done, &serde_json::json!({"heads": []}))])),
        ("error", frame_bytes(&rt, &[error])),
    ];
    fuzz("frames", seeds("frames", fresh), |bytes| {
        rt.block_on(async {
            let mut r = bytes;
            while let Ok(f) = read_frame(&mut r).await {
                if f.payload.len() > MAX_FRAME_LEN as usize || f.payload.len() > bytes.len() {
                    return Err(TestCaseError::fail(format!("a frame of {} bytes from {} sent", f.payload.len(), bytes.len())));
                }
                match f.typ {
                    FrameType::Hello => {
                        if let Ok(h) = f.parse_json::<spokes_sync::Hello>() {
                            let _ = h.parsed_heads();
                        }
                    }
                    FrameType::Statements => {
                        let _ = f.parse_json::<Vec<SignedStatement>>();
                    }
                    FrameType::Error => {
                        let e = spokes_sync::refusal_from_peer(&f);
                        if e.message.chars().count() > spokes_sync::session::MAX_PEER_MESSAGE_CHARS + 1 {
                            return Err(TestCaseError::fail("an unbounded refusal message"));
                        }
                    }
                    FrameType::SyncMessage => {
                        if let Ok(m) = automerge::sync::Message::decode(&f.payload) {
                            let mut budget = spokes_core::expansion::ExpansionBudget::new();
                            for c in m.changes.iter() {
                                let _ = budget.check(c);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Ok(())
        })
    });
}

/// Statement text, detached signatures over a real statement, and sealed drafts, as a peer
/// sends them. Property: no panic; a signature that verifies has a canonical form that
/// verifies too.
#[test]
fn statements() {
    let a = author();
    let fresh = vec![("statement", a.signed.statement.as_bytes().to_vec()), ("signature", a.signed.signature.clone()), ("sealed-drafts", a.sealed.clone())];
    fuzz("statements", seeds("statements", fresh), |bytes| {
        let _ = Statement::parse(bytes);
        let s = SignedStatement { statement: a.signed.statement.clone(), signature: bytes.to_vec() };
        let _ = s.issuer();
        if let Ok(v) = s.verify(&a.cert, &a.blog_id) {
            let c = s.canonical(v.signer()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            c.verify(&a.cert, &a.blog_id).map_err(|e| TestCaseError::fail(format!("the canonical form does not verify: {e}")))?;
        }
        if let Ok(text) = std::str::from_utf8(bytes) {
            let s = SignedStatement { statement: text.to_owned(), signature: a.signed.signature.clone() };
            let _ = s.verify(&a.cert, &a.blog_id);
        }
        let _ = spokes_core::seal::check_sealer(bytes, &a.cert);
        Ok(())
    });
}

/// Certificates from peers, binary and armored, merged into the author's. Property: no
/// panic; what is kept is within the size limit; a merge never changes the fingerprint.
#[test]
fn certificates() {
    let a = author();
    let fresh = vec![("binary", a.cert.to_bytes()), ("armored", a.cert.to_armored())];
    fuzz("certificates", seeds("certificates", fresh), |bytes| {
        if let Ok(c) = Certificate::from_bytes(bytes) {
            if c.to_bytes().len() > spokes_core::identity::MAX_CERTIFICATE_BYTES {
                return Err(TestCaseError::fail("kept a certificate over the limit"));
            }
            let _ = c.user_id();
            let _ = c.devices();
            let mut mine = a.cert.clone();
            mine.merge(&c);
            if mine.fingerprint() != a.cert.fingerprint() {
                return Err(TestCaseError::fail("a merge changed the fingerprint"));
            }
        }
        Ok(())
    });
}

/// Writer tickets, council tickets and pairing codes, as pasted or scanned, and their JSON
/// bodies encoded as each kind. Property: no panic; a decoded ticket's reader site is an
/// http(s) address.
#[test]
fn tickets() {
    let key = iroh::SecretKey::from_bytes(&[7; 32]);
    let ticket = spokes_sync::ticket::Ticket { v: 1, endpoint: key.public().to_string(), addrs: vec!["127.0.0.1:7001".parse().expect("addr")], token: Some("ab12".into()), name: Some("Spoke".into()), web: Some("https://spoke.example".into()), relay: Some("https://spoke-0123456789ab.spoke.example/".into()) };
    let pairing = spokes_writer::pairing::PairingCode { v: 1, endpoint: key.public().to_string(), addrs: vec!["127.0.0.1:7002".parse().expect("addr")], secret: "00112233445566778899aabbccddeeff".into() };
    let member = spoke::council::MemberInfo { endpoint: key.public().to_string(), addrs: vec!["127.0.0.1:7003".into()], web: "https://spoke.example".into(), name: "Spoke".into(), relay: None };
    let council = spoke::council::CouncilTicket { v: 1, council: "00".repeat(32), member, token: "cd34".into() };
    let fresh = vec![
        ("ticket", ticket.encode().into_bytes()),
        ("ticket-json", serde_json::to_vec(&ticket).expect("json")),
        ("pairing", pairing.encode().into_bytes()),
        ("pairing-json", serde_json::to_vec(&pairing).expect("json")),
        ("council", council.encode().into_bytes()),
        ("council-json", serde_json::to_vec(&council).expect("json")),
    ];
    let b32 = |b: &[u8]| data_encoding::BASE32_NOPAD.encode(b).to_ascii_lowercase();
    fuzz("tickets", seeds("tickets", fresh), |bytes| {
        let text = String::from_utf8_lossy(bytes);
        for s in [text.to_string(), format!("spokes1{}", b32(bytes)), format!("spokespair1{}", b32(bytes)), format!("spokescouncil1{}", b32(bytes))] {
            if let Ok(t) = spokes_sync::ticket::Ticket::decode(&s) {
                if t.web.as_deref().is_some_and(|w| spokes_core::web::reader_url(w).is_none()) {
                    return Err(TestCaseError::fail(format!("a ticket kept the reader site {:?}", t.web)));
                }
                let _ = t.endpoint_addr();
            }
            let _ = spokes_writer::pairing::PairingCode::decode(&s);
            let _ = spoke::council::CouncilTicket::decode(&s);
        }
        Ok(())
    });
}

/// Export archives as a restore reads them: the fuzzed bytes are the archive's tar stream,
/// gzipped into a file. Property: no panic; what is read verified.
#[test]
fn archives() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().expect("tmp");
    let p = spokes_writer::Profile::create(&tmp.path().join("p"), "Ada", "pw", &BlogSettings { title: "Notes".into(), ..Default::default() }).expect("profile");
    p.new_post("First", "One *two*.", &[]).expect("post");
    let mut key = p.unlock("pw").expect("key");
    let p = p;
    p.publish_local(&mut key, None).expect("publish");
    let gz = p.export_archive_into(&tmp.path().join("out")).expect("export");
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&gz).expect("archive")).read_to_end(&mut tar).expect("gunzip");
    let file = tmp.path().join("fuzzed.tar.gz");
    fuzz("archives", seeds("archives", vec![("export.tar", tar)]), |bytes| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        std::fs::write(&file, gz.finish().map_err(|e| TestCaseError::fail(e.to_string()))?).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let Ok(a) = spokes_writer::archive::read_archive(&file) {
            let _ = a.blog.posts();
            if a.manifest.fingerprint != a.certificate.fingerprint() {
                return Err(TestCaseError::fail("an archive of one author read with another's certificate"));
            }
        }
        Ok(())
    });
}

/// Documents and changes from peers, through the expansion check and then Automerge, as a
/// session takes them. Property: no panic; what passes the check loads within its budget.
#[test]
fn documents() {
    let a = author();
    let fresh = vec![("document", a.doc.clone()), ("increment", a.increment.clone()), ("bomb", spokes_core::expansion::compressed_change_bomb(1 << 20))];
    fuzz("documents", seeds("documents", fresh), |bytes| {
        let mut budget = spokes_core::expansion::ExpansionBudget::new();
        if budget.check(bytes).is_ok()
            && let Ok(doc) = BlogDoc::load(bytes)
        {
            let _ = doc.blog_id();
            let _ = doc.settings();
            for p in doc.posts() {
                if !spokes_core::doc::is_slug(&p.slug) {
                    return Err(TestCaseError::fail(format!("a post read with the slug {:?}", p.slug)));
                }
            }
        }
        Ok(())
    });
}

/// The signed manifest of documents per post and its parts as peers send them: headers,
/// leaves, stored manifests (JSON) and post documents. Property: whatever parses has exactly
/// one byte form (it is written back as it came), and nothing panics.
#[test]
fn manifests() {
    use spokes_core::manifest::{Header, Manifest, SiteSettings, leaf_bytes, parse_leaf};
    let a = author();
    let settings = SiteSettings { owner: a.cert.fingerprint(), ..Default::default() };
    let mut m = Manifest::new(a.blog_id.clone(), &settings).next_revision();
    let mut post = spokes_core::postdoc::PostDoc::create(&a.blog_id, "0123456789abcdef", automerge::ActorId::random());
    post.write(&spokes_core::postdoc::PostContent { title: "T".into(), body: "B".into(), tags: vec![] }, 1).expect("write");
    let date = chrono::DateTime::parse_from_rfc3339("2026-03-01T08:00:00+01:00").expect("date");
    m.put_post("0123456789abcdef", "first", date, date, &post.heads());
    let mut gone = m.next_revision();
    gone.forget("0123456789abcdef");
    let header = gone.header().to_bytes();
    let stored = serde_json::json!({"statement": String::from_utf8_lossy(&header), "signature": "00", "settings": String::from_utf8_lossy(&gone.settings), "leaves": gone.leaves().iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect::<Vec<_>>()});
    let fresh = vec![("header", header.clone()), ("leaf-post", m.leaves()[0].clone()), ("leaf-gone", gone.leaves()[0].clone()), ("stored.json", serde_json::to_vec(&stored).expect("json")), ("post-doc", post.save())];
    fuzz("manifests", seeds("manifests", fresh), |bytes| {
        if let Ok(h) = Header::parse(bytes)
            && h.to_bytes() != bytes
        {
            return Err(TestCaseError::fail("a header parsed from bytes it does not write back"));
        }
        if let Ok((id, entry)) = parse_leaf(bytes)
            && leaf_bytes(&id, &entry) != bytes
        {
            return Err(TestCaseError::fail("a leaf parsed from bytes it does not write back"));
        }
        if let Ok(s) = serde_json::from_slice::<spokes_sync::set::StoredManifest>(bytes) {
            let _ = s.open(&a.cert, &a.blog_id);
        }
        // The bytes as the leaves of the header signed above.
        let leaves: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        let _ = Manifest::from_parts(&gone.header(), gone.settings.clone(), &leaves);
        if let Ok(mut d) = spokes_core::postdoc::PostDoc::load(bytes, &a.blog_id, "0123456789abcdef") {
            let _ = d.check_covered(&[]);
            let _ = d.content();
        }
        Ok(())
    });
}

/// A council member's digest of newest posts (`spokes_sync::council::digest`), as an upstream
/// sends it. Property: nothing panics, and whatever checks out is a post the writer signed,
/// with the words the writer wrote.
#[test]
fn digests() {
    use spokes_core::manifest::{Manifest, SiteSettings};
    use spokes_sync::council::digest::{self, Checked, Digest};
    let id = Identity::generate("Ada <ada@example.org>", "pw").expect("identity");
    let (blog_id, salt) = spokes_core::BlogId::bound_to(&id.fingerprint());
    let settings = SiteSettings { owner: id.fingerprint(), blog_id_salt: salt, ..Default::default() };
    let mut m = Manifest::new(blog_id.clone(), &settings).next_revision();
    let mut post = spokes_core::postdoc::PostDoc::create(&blog_id, "0123456789abcdef", automerge::ActorId::random());
    post.write(&spokes_core::postdoc::PostContent { title: "Tide tables".into(), body: "The spring tide.".into(), tags: vec![] }, 1).expect("write");
    let date = chrono::DateTime::parse_from_rfc3339("2026-03-01T08:00:00+01:00").expect("date");
    m.put_post("0123456789abcdef", "tide-tables", date, date, &post.heads());
    let signed = spokes_sync::set::SignedManifest::sign(m, &mut id.unlock("pw").expect("key")).expect("sign");
    let item = digest::own_item(&signed, "0123456789abcdef", &post.save()).expect("item");
    let d = Digest { format: 1, same: false, certificates: [(id.fingerprint(), data_encoding::BASE64.encode(&id.certificate().to_bytes()))].into(), items: vec![item], headers: vec![] };
    let json = serde_json::to_vec(&d).expect("json");
    let now = 1_900_000_000;
    assert_eq!(digest::check_digest(d, &|_| None, &Checked::new(), now).expect("checks").items.len(), 1, "the seed checks out");
    fuzz("digests", seeds("digests", vec![("digest.json", json)]), |bytes| {
        let Ok(d) = serde_json::from_slice::<Digest>(bytes) else { return Ok(()) };
        let Ok(r) = digest::check_digest(d, &|_| None, &Checked::new(), now) else { return Ok(()) };
        for c in r.items {
            if c.item.blog_id != blog_id || c.post.title != "Tide tables" || c.post.body != "The spring tide." || c.post.slug != "tide-tables" {
                return Err(TestCaseError::fail(format!("an item that is not what the writer signed checked out: {:?}", c.post)));
            }
        }
        Ok(())
    });
}
