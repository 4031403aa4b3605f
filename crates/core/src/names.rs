//! Names for blogs in a council's DNS zone: `maria.<zone>` (docs/formats.md, "Blog names").
//!
//! A writer picks a *name*, one DNS label. The name is registered in the council's zone by a
//! spoke with a DNS update (RFC 2136) whose prerequisite is that the name is not in use, so the
//! first claim wins. Beside the spokes' addresses the name carries a TXT record that binds it to
//! the blog and its author, signed by the author, so that anybody can check from DNS alone that
//! the name belongs to that key:
//!
//! ```text
//! maria.spokes.example. 60 IN TXT "v=spokes-name1 blog=<blog ID> fpr=<fingerprint>" "sig=<base64 signature>"
//! ```
//!
//! The signature is an OpenPGP detached signature (RFC 9580 §5.2, binary document) by one of
//! the author's signing keys over the *binding text*:
//!
//! ```text
//! spokes name v1
//! name: maria.spokes.example
//! blog: <blog ID, 32 lowercase hex>
//! fingerprint: <certificate fingerprint, uppercase hex>
//! ```
//!
//! The full name (label and zone, lowercase ASCII, no final dot) is signed, so a binding cannot
//! be replayed in another zone.
//!
//! Rules for a name ([`normalize`]): one label of 2 to 63 characters after IDNA (UTS #46)
//! mapping to ASCII; letters, digits and inner hyphens (LDH, RFC 1123 §2.1); not one of the
//! [`RESERVED`] names an operator or a protocol uses.

use crate::doc::BlogId;
use crate::identity::Certificate;
use crate::statement::{StatementError, sign_detached, verify_detached};
use crate::SigningKey;
use data_encoding::BASE64;
use serde::{Deserialize, Serialize};

/// The first line of every binding text.
pub const BINDING_TAG: &str = "spokes name v1";

/// The version tag that starts a binding's TXT record.
pub const TXT_TAG: &str = "v=spokes-name1";

/// Fewest characters of a name (after IDNA mapping).
pub const MIN_NAME: usize = 2;
/// Most characters of a name: one DNS label (RFC 1035 §2.3.4).
pub const MAX_NAME: usize = 63;
/// Most characters of a zone name (RFC 1035 §2.3.4, less room for the label).
pub const MAX_ZONE: usize = 190;
/// Most bytes of one TXT character-string (RFC 1035 §3.3).
pub const MAX_TXT_STRING: usize = 255;
/// Most bytes of a binding's signature (an Ed25519 or RSA-4096 signature packet is well under).
pub const MAX_SIGNATURE: usize = 1024;

/// Names nobody may claim: what mail, name servers, certificates, the council and its operators
/// use, and words a reader could mistake for the council itself.
pub const RESERVED: &[&str] = &[
    "www", "mail", "smtp", "imap", "pop", "mx", "ns", "ns1", "ns2", "ns3", "dns", "ftp", "api", "admin", "administrator",
    "root", "council", "spoke", "spokes", "blog", "blogs", "help", "support", "abuse", "postmaster", "hostmaster",
    "webmaster", "security", "status", "login", "account", "accounts", "static", "assets", "cdn", "relay", "acme",
    "autoconfig", "autodiscover", "localhost", "wpad", "isatap", "test", "example", "invalid", "local",
];

/// Errors of names and their bindings.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty, too short or too long.
    #[error("a name has {MIN_NAME} to {MAX_NAME} letters or digits")]
    Length,
    /// A character a name cannot hold (a dot, a space, punctuation), or a hyphen at an end.
    #[error("a name holds only letters, digits and hyphens inside it")]
    Characters,
    /// IDNA could not map the name to ASCII.
    #[error("the name cannot be written as an internet name")]
    Idna,
    /// One of the [`RESERVED`] names.
    #[error("“{0}” is kept for the council's own use")]
    Reserved(String),
    /// The zone is not a DNS name.
    #[error("the zone `{0}` is not a domain name")]
    Zone(String),
    /// A TXT record or binding text that does not follow the format.
    #[error("malformed name binding: {0}")]
    Malformed(String),
    /// The binding's signature does not verify against the certificate, or is not the
    /// certificate's.
    #[error("the name binding's signature does not verify: {0}")]
    Signature(String),
}

/// `name` as it is registered: trimmed, inner spaces made hyphens, IDNA-mapped (UTS #46, so `Café` is `xn--caf-dma`) and
/// checked against the rules above. Errors: [`NameError::Length`], [`NameError::Characters`],
/// [`NameError::Idna`], [`NameError::Reserved`].
pub fn normalize(name: &str) -> Result<String, NameError> {
    // What a writer types: "Engine Room" is `engine-room`.
    let name = name.split_whitespace().collect::<Vec<_>>().join("-");
    if name.is_empty() {
        return Err(NameError::Length);
    }
    if name.contains(['.', '。', '．', '｡']) {
        return Err(NameError::Characters);
    }
    let ascii = idna::domain_to_ascii_cow(name.as_bytes(), idna::AsciiDenyList::STD3).map_err(|_| NameError::Idna)?.into_owned();
    if !(MIN_NAME..=MAX_NAME).contains(&ascii.len()) {
        return Err(NameError::Length);
    }
    if !ascii.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') || ascii.starts_with('-') || ascii.ends_with('-') {
        return Err(NameError::Characters);
    }
    if RESERVED.contains(&ascii.as_str()) {
        return Err(NameError::Reserved(ascii));
    }
    Ok(ascii)
}

/// `zone` as names are bound under it: lowercase ASCII, no final dot, 1 to [`MAX_ZONE`]
/// characters of LDH labels. Errors: [`NameError::Zone`].
pub fn normalize_zone(zone: &str) -> Result<String, NameError> {
    let z = zone.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = || NameError::Zone(zone.chars().take(64).collect());
    if z.is_empty() || z.len() > MAX_ZONE {
        return Err(bad());
    }
    for label in z.split('.') {
        if label.is_empty() || label.len() > MAX_NAME || label.starts_with('-') || label.ends_with('-') || !label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(bad());
        }
    }
    Ok(z)
}

/// Up to `n` names like `name` to offer when it is taken (`maria-writes`, `maria-blog`,
/// `mariablog`, `maria2`, …), each valid by [`normalize`] and within [`MAX_NAME`].
pub fn alternatives(name: &str, n: usize) -> Vec<String> {
    let stem: String = name.chars().take(MAX_NAME - 7).collect();
    let stem = stem.trim_end_matches('-');
    [format!("{stem}-writes"), format!("{stem}-blog"), format!("{stem}blog"), format!("the-{stem}"), format!("{stem}2"), format!("{stem}3"), format!("{stem}-notes")]
        .into_iter()
        .filter(|c| normalize(c).is_ok())
        .take(n)
        .collect()
}

/// A name bound to a blog and its author: what the blog's signed settings carry (`"name"`) and
/// what its TXT record holds. JSON: `{"name","zone","signature"}` with the signature in base64;
/// the blog ID and fingerprint are the blog's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameBinding {
    /// The label ([`normalize`]d), for example `maria`.
    pub name: String,
    /// The council's zone ([`normalize_zone`]d), for example `spokes.example`.
    pub zone: String,
    /// The detached signature over [`binding_text`], base64 (RFC 4648 §4).
    pub signature: String,
}

/// The bytes the author signs for `name.zone` (see the module documentation).
pub fn binding_text(name: &str, zone: &str, blog: &BlogId, fingerprint: &str) -> String {
    format!("{BINDING_TAG}\nname: {name}.{zone}\nblog: {blog}\nfingerprint: {fingerprint}\n")
}

impl NameBinding {
    /// Binds `name` (checked with [`normalize`]) under `zone` to `blog`, signed with `key`, whose
    /// certificate has `fingerprint`. Errors: the name's and zone's, or
    /// [`NameError::Signature`] when signing fails.
    pub fn sign(name: &str, zone: &str, blog: &BlogId, fingerprint: &str, key: &mut SigningKey) -> Result<NameBinding, NameError> {
        let name = normalize(name)?;
        let zone = normalize_zone(zone)?;
        let sig = sign_detached(key, binding_text(&name, &zone, blog, fingerprint).as_bytes()).map_err(|e: StatementError| NameError::Signature(e.to_string()))?;
        Ok(NameBinding { name, zone, signature: BASE64.encode(&sig) })
    }

    /// The full DNS name, `name.zone` (no final dot).
    pub fn fqdn(&self) -> String {
        format!("{}.{}", self.name, self.zone)
    }

    /// Checks that the binding is well formed and signed by a signing key of `cert` for `blog`.
    /// Errors: [`NameError::Malformed`] and the rules' errors for a bad name or zone,
    /// [`NameError::Signature`].
    pub fn verify(&self, blog: &BlogId, cert: &Certificate) -> Result<(), NameError> {
        if normalize(&self.name)? != self.name || normalize_zone(&self.zone)? != self.zone {
            return Err(NameError::Malformed("the name or zone is not in its one written form".into()));
        }
        let sig = signature_bytes(&self.signature)?;
        let text = binding_text(&self.name, &self.zone, blog, &cert.fingerprint());
        verify_detached(cert, &sig, text.as_bytes()).map(|_| ()).map_err(|e| NameError::Signature(e.to_string()))
    }

    /// The TXT record's character-strings for this binding of `blog` by `fingerprint`, each at
    /// most [`MAX_TXT_STRING`] bytes: the tag with the blog and fingerprint, then the signature
    /// in as many `sig=` pieces as it needs (joined in order when read).
    pub fn txt(&self, blog: &BlogId, fingerprint: &str) -> Vec<String> {
        txt_strings(TXT_TAG, blog, fingerprint, &self.signature)
    }

    /// Reads the TXT record of `name.zone` ([`NameBinding::txt`]'s strings, in order): the
    /// binding, the blog ID and the fingerprint it names. The signature is not checked here
    /// ([`NameBinding::verify`] with the blog's certificate does). Errors:
    /// [`NameError::Malformed`].
    pub fn from_txt(name: &str, zone: &str, strings: &[String]) -> Result<(NameBinding, BlogId, String), NameError> {
        let (blog, fpr, signature) = parse_txt(TXT_TAG, strings)?;
        Ok((NameBinding { name: normalize(name)?, zone: normalize_zone(zone)?, signature }, blog, fpr))
    }
}

fn signature_bytes(signature: &str) -> Result<Vec<u8>, NameError> {
    if signature.len() > MAX_SIGNATURE * 4 / 3 + 4 {
        return Err(NameError::Malformed("the signature is too long".into()));
    }
    BASE64.decode(signature.as_bytes()).map_err(|_| NameError::Malformed("the signature is not base64".into()))
}

/// A binding's TXT strings: `"{tag} blog={blog} fpr={fingerprint}"`, then `sig=` pieces.
fn txt_strings(tag: &str, blog: &BlogId, fingerprint: &str, signature: &str) -> Vec<String> {
    let mut out = vec![format!("{tag} blog={blog} fpr={fingerprint}")];
    let piece = MAX_TXT_STRING - 4;
    let mut i = 0;
    while i < signature.len() {
        let end = (i + piece).min(signature.len());
        out.push(format!("sig={}", &signature[i..end]));
        i = end;
    }
    out
}

/// Reads [`txt_strings`]: the blog, the fingerprint and the signature (base64, unchecked).
fn parse_txt(tag: &str, strings: &[String]) -> Result<(BlogId, String, String), NameError> {
    let bad = |m: &str| NameError::Malformed(m.to_owned());
    let first = strings.first().ok_or_else(|| bad("no strings"))?;
    let mut words = first.split(' ');
    if words.next() != Some(tag) {
        return Err(bad("not a Spokes record"));
    }
    let blog = words.next().and_then(|w| w.strip_prefix("blog=")).ok_or_else(|| bad("no blog"))?;
    let blog: BlogId = blog.parse().map_err(|_| bad("bad blog ID"))?;
    let fpr = words.next().and_then(|w| w.strip_prefix("fpr=")).ok_or_else(|| bad("no fingerprint"))?;
    if fpr.is_empty() || fpr.len() > 64 || !fpr.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)) || words.next().is_some() {
        return Err(bad("bad fingerprint"));
    }
    let mut signature = String::new();
    for s in &strings[1..] {
        signature.push_str(s.strip_prefix("sig=").ok_or_else(|| bad("a string is not a signature piece"))?);
        if signature.len() > MAX_SIGNATURE * 2 {
            return Err(bad("the signature is too long"));
        }
    }
    signature_bytes(&signature)?;
    Ok((blog, fpr.to_owned(), signature))
}

/// The first line of a custom domain's binding text.
pub const DOMAIN_TAG: &str = "spokes domain v1";
/// The tag that starts a custom domain's proof (its TXT record at `_spokes.DOMAIN`).
pub const DOMAIN_TXT_TAG: &str = "v=spokes-domain1";
/// The label under which a custom domain's proof is published.
pub const DOMAIN_PROOF_LABEL: &str = "_spokes";

/// `domain` as a custom domain is bound: IDNA-mapped to lowercase ASCII (UTS #46), no final
/// dot, at least two labels, each of 1 to 63 LDH characters, at most 253 in all. Errors:
/// [`NameError::Zone`] (a domain that is no domain name), [`NameError::Idna`].
pub fn normalize_domain(domain: &str) -> Result<String, NameError> {
    let d = domain.trim().trim_end_matches('.');
    let ascii = idna::domain_to_ascii_cow(d.as_bytes(), idna::AsciiDenyList::STD3).map_err(|_| NameError::Idna)?.into_owned();
    if ascii.len() > 253 || ascii.split('.').count() < 2 {
        return Err(NameError::Zone(domain.chars().take(64).collect()));
    }
    normalize_zone(&ascii)
}

/// The bytes the author signs for the custom domain `domain`:
/// `spokes domain v1\ndomain: DOMAIN\nblog: ID\nfingerprint: FPR\n`.
pub fn domain_text(domain: &str, blog: &BlogId, fingerprint: &str) -> String {
    format!("{DOMAIN_TAG}\ndomain: {domain}\nblog: {blog}\nfingerprint: {fingerprint}\n")
}

/// A domain the writer owns, bound to the blog and signed by its author: carried in the blog's
/// signed settings (`"domain"`) and proven by the same binding in a TXT record at
/// `_spokes.DOMAIN`, which only the domain's owner can publish. Spokes serve the blog under the
/// domain once the proof is there. JSON: `{"domain","signature"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainBinding {
    /// The domain ([`normalize_domain`]d), for example `blog.maria.example`.
    pub domain: String,
    /// The detached signature over [`domain_text`], base64.
    pub signature: String,
}

impl DomainBinding {
    /// Binds `domain` to `blog`, signed with `key` (of the certificate with `fingerprint`).
    /// Errors: [`normalize_domain`]'s, [`NameError::Signature`].
    pub fn sign(domain: &str, blog: &BlogId, fingerprint: &str, key: &mut SigningKey) -> Result<DomainBinding, NameError> {
        let domain = normalize_domain(domain)?;
        let sig = sign_detached(key, domain_text(&domain, blog, fingerprint).as_bytes()).map_err(|e| NameError::Signature(e.to_string()))?;
        Ok(DomainBinding { domain, signature: BASE64.encode(&sig) })
    }

    /// Checks that the binding is well formed and signed by a signing key of `cert` for `blog`.
    pub fn verify(&self, blog: &BlogId, cert: &Certificate) -> Result<(), NameError> {
        if normalize_domain(&self.domain)? != self.domain {
            return Err(NameError::Malformed("the domain is not in its one written form".into()));
        }
        let sig = signature_bytes(&self.signature)?;
        verify_detached(cert, &sig, domain_text(&self.domain, blog, &cert.fingerprint()).as_bytes()).map(|_| ()).map_err(|e| NameError::Signature(e.to_string()))
    }

    /// Where the proof goes: `_spokes.DOMAIN`.
    pub fn proof_name(&self) -> String {
        format!("{DOMAIN_PROOF_LABEL}.{}", self.domain)
    }

    /// The proof's TXT strings (as [`NameBinding::txt`], tagged [`DOMAIN_TXT_TAG`]).
    pub fn txt(&self, blog: &BlogId, fingerprint: &str) -> Vec<String> {
        txt_strings(DOMAIN_TXT_TAG, blog, fingerprint, &self.signature)
    }

    /// Reads a proof found at `_spokes.DOMAIN`: the binding, the blog and the fingerprint it
    /// names (the signature unchecked). Errors: [`NameError::Malformed`].
    pub fn from_txt(domain: &str, strings: &[String]) -> Result<(DomainBinding, BlogId, String), NameError> {
        let (blog, fpr, signature) = parse_txt(DOMAIN_TXT_TAG, strings)?;
        Ok((DomainBinding { domain: normalize_domain(domain)?, signature }, blog, fpr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;

    #[test]
    fn names_follow_the_rules_and_are_written_one_way() {
        assert_eq!(normalize(" Maria ").as_deref(), Ok("maria"));
        assert_eq!(normalize("Café").as_deref(), Ok("xn--caf-dma"));
        assert_eq!(normalize("anna-lena2").as_deref(), Ok("anna-lena2"));
        assert_eq!(normalize(""), Err(NameError::Length));
        assert_eq!(normalize("a"), Err(NameError::Length));
        assert_eq!(normalize(&"a".repeat(64)), Err(NameError::Length));
        assert_eq!(normalize("maria.evil"), Err(NameError::Characters));
        assert_eq!(normalize(" Maria  Writes ").as_deref(), Ok("maria-writes"));
        assert_eq!(normalize("-maria"), Err(NameError::Characters));
        assert_eq!(normalize("maria-"), Err(NameError::Characters));
        assert!(normalize("ma_ria").is_err());
        assert!(normalize("ma/ria").is_err());
        assert_eq!(normalize("WWW"), Err(NameError::Reserved("www".into())));
        assert_eq!(normalize("_acme-challenge").map_err(|_| ()), Err(()));
        assert_eq!(normalize_zone("Spokes.Example.").as_deref(), Ok("spokes.example"));
        assert!(normalize_zone("spokes..example").is_err());
        assert!(normalize_zone("").is_err());
        assert!(normalize_zone("spo kes.example").is_err());
    }

    #[test]
    fn a_custom_domain_binding_verifies_only_for_its_domain_blog_and_key() {
        let id = Identity::generate("Maria", "pass").expect("identity");
        let cert = id.certificate();
        let blog = BlogId::generate();
        let mut key = id.unlock("pass").expect("key");
        let b = DomainBinding::sign("Blog.Maria.Example.", &blog, &cert.fingerprint(), &mut key).expect("sign");
        assert_eq!((b.domain.as_str(), b.proof_name().as_str()), ("blog.maria.example", "_spokes.blog.maria.example"));
        b.verify(&blog, &cert).expect("verifies");
        assert!(matches!(b.verify(&BlogId::generate(), &cert), Err(NameError::Signature(_))));
        assert!(matches!(DomainBinding { domain: "evil.example".into(), ..b.clone() }.verify(&blog, &cert), Err(NameError::Signature(_))));
        let txt = b.txt(&blog, &cert.fingerprint());
        assert_eq!(DomainBinding::from_txt("blog.maria.example", &txt).expect("reads"), (b.clone(), blog.clone(), cert.fingerprint()));
        // A council name's record is no domain proof, and the other way round.
        assert!(DomainBinding::from_txt("blog.maria.example", &NameBinding { name: "maria".into(), zone: "s.example".into(), signature: b.signature.clone() }.txt(&blog, &cert.fingerprint())).is_err());
        assert!(NameBinding::from_txt("maria", "s.example", &txt).is_err());
        for bad in ["", "example", "bad domain.example", "a..b", &format!("{}.example", "a".repeat(64))] {
            assert!(normalize_domain(bad).is_err(), "{bad}");
        }
        assert_eq!(normalize_domain("www.Café.example").as_deref(), Ok("www.xn--caf-dma.example"));
    }

    #[test]
    fn a_taken_name_gets_valid_alternatives() {
        let alt = alternatives("maria", 3);
        assert_eq!(alt, vec!["maria-writes", "maria-blog", "mariablog"]);
        for a in alternatives(&"m".repeat(63), 5) {
            assert!(normalize(&a).is_ok(), "{a}");
        }
    }

    #[test]
    fn a_binding_verifies_for_its_blog_and_key_only_and_survives_its_txt_record() {
        let id = Identity::generate("Maria", "pass").expect("identity");
        let other = Identity::generate("Mallory", "pass").expect("identity");
        let cert = id.certificate();
        let blog = BlogId::generate();
        let mut key = id.unlock("pass").expect("key");
        let b = NameBinding::sign("Maria", "spokes.example.", &blog, &cert.fingerprint(), &mut key).expect("sign");
        assert_eq!(b.fqdn(), "maria.spokes.example");
        b.verify(&blog, &cert).expect("verifies");
        assert!(matches!(b.verify(&BlogId::generate(), &cert), Err(NameError::Signature(_))));
        assert!(matches!(b.verify(&blog, &other.certificate()), Err(NameError::Signature(_))));
        let moved = NameBinding { zone: "other.example".into(), ..b.clone() };
        assert!(matches!(moved.verify(&blog, &cert), Err(NameError::Signature(_))));

        let txt = b.txt(&blog, &cert.fingerprint());
        assert!(txt.iter().all(|s| s.len() <= MAX_TXT_STRING));
        let (back, back_blog, fpr) = NameBinding::from_txt("maria", "spokes.example", &txt).expect("reads");
        assert_eq!((back, back_blog, fpr), (b.clone(), blog.clone(), cert.fingerprint()));

        // What a hostile name server or writer could put there.
        for bad in [vec![], vec!["v=spf1 -all".to_owned()], vec![format!("{TXT_TAG} blog=xyz fpr=AB")], vec![format!("{TXT_TAG} blog={blog} fpr=<script>")], vec![txt[0].clone(), "nosig".into()], vec![txt[0].clone(), format!("sig={}", "A".repeat(5000))], vec![txt[0].clone(), "sig=***".into()]] {
            assert!(matches!(NameBinding::from_txt("maria", "spokes.example", &bad), Err(NameError::Malformed(_))), "{bad:?}");
        }
    }
}
