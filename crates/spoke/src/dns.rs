//! The council's DNS zone, changed through dynamic updates (RFC 2136) signed with TSIG (RFC 8945),
//! with hickory's client: the round-robin addresses of the council's members at the zone's apex,
//! and each blog name's addresses and signed TXT binding ([`spokes_core::names`]).
//!
//! Every change is one update message whose prerequisites make it safe when several spokes
//! change the zone at once (docs/operators.md, "The council's domain"):
//!
//! | change | prerequisite (RFC 2136 §2.4) | update (§2.5) |
//! |---|---|---|
//! | claim a name | the name is not in use (§2.4.5) | add its TXT binding and this spoke's addresses |
//! | join a name | its TXT RRset is exactly the binding (§2.4.2) | add this spoke's addresses |
//! | release a name | its TXT RRset is exactly the binding | delete every RRset of the name (§2.5.3) |
//! | add / remove an address | none | add it / delete that one RR (§2.5.4) |
//!
//! Updates and queries go over TCP to the zone's primary server ([`DnsConfig::server`]), each
//! with a timeout of [`DNS_TIMEOUT`]; queries ask that server directly (it is authoritative),
//! so they see an update at once.

use hickory_client::client::Client;
use hickory_client::proto::dnssec::rdata::tsig::TsigAlgorithm;
use hickory_client::proto::dnssec::tsig::TSigner;
use hickory_client::proto::op::{Message, MessageType, OpCode, Query, ResponseCode, UpdateMessage};
use hickory_client::proto::rr::rdata::{A, AAAA, TXT};
use hickory_client::proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_client::proto::runtime::TokioRuntimeProvider;
use hickory_client::proto::tcp::TcpClientStream;
use hickory_client::proto::xfer::{DnsHandle, DnsRequest, DnsRequestOptions, DnsResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Longest one update or query may take.
pub const DNS_TIMEOUT: Duration = Duration::from_secs(5);

/// `[dns]` of `config.toml`: the council's domain and how this spoke changes it.
///
/// ```toml
/// [dns]
/// zone = "spokes.example"              # the council's domain; blogs get NAME.spokes.example
/// server = "192.0.2.53:53"             # the zone's primary name server, which takes updates
/// tsig_key = "council"                 # the TSIG key's name, as the name server knows it
/// tsig_algorithm = "hmac-sha256"       # hmac-sha256 (default), hmac-sha384 or hmac-sha512
/// tsig_secret_file = "council.key"     # the key's secret: base64, or BIND's `key { … }` clause
/// addresses = ["203.0.113.5"]          # where readers reach this spoke (A / AAAA records)
/// reader_port = 80                     # the port readers use on every member (health checks)
/// ttl = 60                             # seconds resolvers may keep the records
/// check_interval_secs = 10             # how often the members' health is checked
/// fail_after_secs = 30                 # how long a member fails checks before it is taken out
/// resolver = "192.0.2.53:53"           # where writers' own domains are looked up (default: the system's)
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    /// The council's zone, for example `spokes.example`.
    pub zone: String,
    /// The zone's primary name server (address and port), which accepts TSIG-signed updates.
    pub server: SocketAddr,
    /// The TSIG key's name.
    pub tsig_key: String,
    /// The TSIG algorithm (RFC 8945 §6): `hmac-sha256`, `hmac-sha384` or `hmac-sha512`.
    #[serde(default = "default_algorithm")]
    pub tsig_algorithm: String,
    /// The key's secret in base64 (prefer `tsig_secret_file`, which keeps it out of this file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsig_secret: Option<String>,
    /// A file holding the secret: its base64 alone, or a BIND `key` clause as `tsig-keygen`
    /// writes it. A relative path is relative to the data folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsig_secret_file: Option<PathBuf>,
    /// This spoke's addresses as readers reach it: what its A and AAAA records hold.
    pub addresses: Vec<IpAddr>,
    /// The port readers use on every member; health checks ask `http://ADDRESS:PORT/health`.
    #[serde(default = "default_reader_port")]
    pub reader_port: u16,
    /// TTL of the records written, seconds.
    #[serde(default = "default_ttl")]
    pub ttl: u32,
    /// Seconds between health checks of the members.
    #[serde(default = "default_check_interval")]
    pub check_interval_secs: u64,
    /// Seconds a member must fail every check before its addresses are taken out.
    #[serde(default = "default_fail_after")]
    pub fail_after_secs: u64,
    /// The resolver that looks up writers' own domains and their proofs; none: the system's
    /// (`/etc/resolv.conf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<SocketAddr>,
}

fn default_algorithm() -> String {
    "hmac-sha256".into()
}
fn default_reader_port() -> u16 {
    80
}
fn default_ttl() -> u32 {
    60
}
fn default_check_interval() -> u64 {
    10
}
fn default_fail_after() -> u64 {
    30
}

/// Errors of the council's zone.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// `[dns]` is not usable: a bad zone, key, algorithm or secret.
    #[error("[dns] in config.toml: {0}")]
    Config(String),
    /// The name server could not be reached, did not answer in time, or its answer did not
    /// verify (a wrong TSIG key).
    #[error("the council's name server could not be reached: {0}")]
    Unreachable(String),
    /// The name server refused the update (a response code other than those the caller
    /// expects, for example `REFUSED` or `NOTAUTH` for a key it does not accept).
    #[error("the council's name server refused: {0}")]
    Refused(String),
}

/// The outcome of an update with a prerequisite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Done.
    Done,
    /// The prerequisite failed (`YXDOMAIN`, `NXRRSET` and the like): nothing changed.
    PrerequisiteFailed,
}

/// The council's zone on its primary name server, with this spoke's TSIG key.
#[derive(Clone)]
pub struct Zone {
    /// The configuration.
    pub config: DnsConfig,
    origin: Name,
    signer: Arc<TSigner>,
}

impl std::fmt::Debug for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zone").field("zone", &self.config.zone).field("server", &self.config.server).finish()
    }
}

/// The base64 secret in `text`: the text alone, or the `secret "…";` of a BIND key clause.
fn secret_of(text: &str) -> Option<Vec<u8>> {
    let s = match text.find("secret") {
        Some(i) => text[i + 6..].split('"').nth(1)?,
        None => text.trim(),
    };
    data_encoding::BASE64.decode(s.trim().as_bytes()).ok().filter(|k| !k.is_empty())
}

impl Zone {
    /// The zone of `config`, reading the TSIG secret (a relative `tsig_secret_file` under
    /// `data_dir`). Errors: [`DnsError::Config`].
    pub fn new(config: DnsConfig, data_dir: &std::path::Path) -> Result<Zone, DnsError> {
        let zone = spokes_core::names::normalize_zone(&config.zone).map_err(|e| DnsError::Config(e.to_string()))?;
        let origin = Name::from_ascii(format!("{zone}.")).map_err(|e| DnsError::Config(format!("zone: {e}")))?;
        let algorithm = match config.tsig_algorithm.to_ascii_lowercase().as_str() {
            "hmac-sha256" => TsigAlgorithm::HmacSha256,
            "hmac-sha384" => TsigAlgorithm::HmacSha384,
            "hmac-sha512" => TsigAlgorithm::HmacSha512,
            other => return Err(DnsError::Config(format!("TSIG algorithm `{other}` is not one of hmac-sha256, hmac-sha384, hmac-sha512"))),
        };
        let text = match (&config.tsig_secret, &config.tsig_secret_file) {
            (Some(s), None) => s.clone(),
            (None, Some(f)) => {
                let path = if f.is_absolute() { f.clone() } else { data_dir.join(f) };
                std::fs::read_to_string(&path).map_err(|e| DnsError::Config(format!("tsig_secret_file {}: {e}", path.display())))?
            }
            _ => return Err(DnsError::Config("give exactly one of tsig_secret and tsig_secret_file".into())),
        };
        let key = secret_of(&text).ok_or_else(|| DnsError::Config("the TSIG secret is not base64".into()))?;
        let key_name = Name::from_ascii(&config.tsig_key).map_err(|e| DnsError::Config(format!("tsig_key: {e}")))?;
        let signer = TSigner::new(key, algorithm, key_name, 300).map_err(|e| DnsError::Config(format!("TSIG: {e}")))?;
        if config.addresses.is_empty() {
            return Err(DnsError::Config("addresses: list where readers reach this spoke".into()));
        }
        let config = DnsConfig { zone, ..config };
        Ok(Zone { config, origin, signer: Arc::new(signer) })
    }

    /// The zone's name, for example `spokes.example` (no final dot).
    pub fn name(&self) -> &str {
        &self.config.zone
    }

    /// `label.zone.` as a DNS name. Errors: [`DnsError::Config`] for a label that is no name.
    pub fn fqdn(&self, label: &str) -> Result<Name, DnsError> {
        Name::from_ascii(label).and_then(|l| l.append_domain(&self.origin)).map_err(|e| DnsError::Config(format!("name `{label}`: {e}")))
    }

    /// The zone's apex, where the members' round-robin addresses are.
    pub fn apex(&self) -> Name {
        self.origin.clone()
    }

    async fn exchange(&self, message: Message, signed: bool) -> Result<DnsResponse, DnsError> {
        let (stream, handle) = TcpClientStream::new(self.config.server, None, Some(DNS_TIMEOUT), TokioRuntimeProvider::new());
        let signer: Option<Arc<dyn hickory_client::proto::op::MessageFinalizer>> = if signed { Some(self.signer.clone()) } else { None };
        let work = async {
            let (client, bg) = Client::with_timeout(stream, handle, DNS_TIMEOUT, signer).await.map_err(|e| DnsError::Unreachable(e.to_string()))?;
            let bg = tokio::spawn(bg);
            let mut answers = client.send(DnsRequest::new(message, DnsRequestOptions::default()));
            let r = answers.next().await;
            bg.abort();
            match r {
                Some(Ok(r)) => Ok(r),
                Some(Err(e)) => Err(DnsError::Unreachable(e.to_string())),
                None => Err(DnsError::Unreachable("no answer".into())),
            }
        };
        tokio::time::timeout(DNS_TIMEOUT * 2, work).await.map_err(|_| DnsError::Unreachable("no answer in time".into()))?
    }

    fn update_message(&self) -> Message {
        let mut zone = Query::new();
        zone.set_name(self.origin.clone()).set_query_class(DNSClass::IN).set_query_type(RecordType::SOA);
        let mut m = Message::new();
        m.set_id(rand::random()).set_message_type(MessageType::Query).set_op_code(OpCode::Update).set_recursion_desired(false);
        m.add_zone(zone);
        m
    }

    async fn update(&self, m: Message) -> Result<Update, DnsError> {
        let r = self.exchange(m, true).await?;
        match r.response_code() {
            ResponseCode::NoError => Ok(Update::Done),
            ResponseCode::YXDomain | ResponseCode::YXRRSet | ResponseCode::NXDomain | ResponseCode::NXRRSet => Ok(Update::PrerequisiteFailed),
            other => Err(DnsError::Refused(other.to_string())),
        }
    }

    fn address_record(&self, name: &Name, ip: IpAddr) -> Record {
        let data = match ip {
            IpAddr::V4(v4) => RData::A(A(v4)),
            IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
        };
        Record::from_rdata(name.clone(), self.config.ttl, data)
    }

    fn txt_record(&self, name: &Name, txt: &[String], ttl: u32) -> Record {
        Record::from_rdata(name.clone(), ttl, RData::TXT(TXT::new(txt.to_vec())))
    }

    /// Claims `name` for the binding `txt`: adds the TXT record and `addrs` if, and only if,
    /// nothing exists at the name ([`Update::PrerequisiteFailed`] when something does).
    pub async fn claim(&self, name: &Name, txt: &[String], addrs: &[IpAddr]) -> Result<Update, DnsError> {
        let mut m = self.update_message();
        let mut not_in_use = Record::update0(name.clone(), 0, RecordType::ANY);
        not_in_use.set_dns_class(DNSClass::NONE);
        m.add_pre_requisite(not_in_use);
        m.add_update(self.txt_record(name, txt, self.config.ttl));
        for ip in addrs {
            m.add_update(self.address_record(name, *ip));
        }
        self.update(m).await
    }

    /// Adds `addrs` to `name` if its TXT record is exactly `txt` (the name is bound to the blog
    /// this spoke holds); [`Update::PrerequisiteFailed`] when it is not.
    pub async fn join(&self, name: &Name, txt: &[String], addrs: &[IpAddr]) -> Result<Update, DnsError> {
        let mut m = self.update_message();
        m.add_pre_requisite(self.txt_record(name, txt, 0));
        for ip in addrs {
            m.add_update(self.address_record(name, *ip));
        }
        self.update(m).await
    }

    /// Deletes every record of `name` if its TXT record is exactly `txt`.
    pub async fn release(&self, name: &Name, txt: &[String]) -> Result<Update, DnsError> {
        let mut m = self.update_message();
        m.add_pre_requisite(self.txt_record(name, txt, 0));
        let mut all = Record::update0(name.clone(), 0, RecordType::ANY);
        all.set_dns_class(DNSClass::ANY);
        m.add_update(all);
        self.update(m).await
    }

    /// Adds `ip` to each of `names` (no prerequisite: for the apex).
    pub async fn add_address(&self, names: &[Name], ip: IpAddr) -> Result<(), DnsError> {
        let mut m = self.update_message();
        for n in names {
            m.add_update(self.address_record(n, ip));
        }
        self.update(m).await.map(|_| ())
    }

    /// Deletes the record of `ip` from each of `names`, in one update (a name without it is
    /// left as it is).
    pub async fn remove_address(&self, names: &[Name], ip: IpAddr) -> Result<(), DnsError> {
        if names.is_empty() {
            return Ok(());
        }
        let mut m = self.update_message();
        for n in names {
            let mut r = self.address_record(n, ip);
            r.set_dns_class(DNSClass::NONE);
            r.set_ttl(0);
            m.add_update(r);
        }
        self.update(m).await.map(|_| ())
    }

    async fn query(&self, name: &Name, kind: RecordType) -> Result<Vec<Record>, DnsError> {
        let mut m = Message::new();
        m.set_id(rand::random()).set_message_type(MessageType::Query).set_op_code(OpCode::Query).set_recursion_desired(false);
        m.add_query(Query::query(name.clone(), kind));
        let r = self.exchange(m, false).await?;
        match r.response_code() {
            ResponseCode::NoError | ResponseCode::NXDomain => Ok(r.answers().iter().filter(|a| a.record_type() == kind && a.name() == name).cloned().collect()),
            other => Err(DnsError::Refused(other.to_string())),
        }
    }

    /// The A and AAAA addresses of `name`.
    pub async fn addresses(&self, name: &Name) -> Result<Vec<IpAddr>, DnsError> {
        let mut out: Vec<IpAddr> = Vec::new();
        for kind in [RecordType::A, RecordType::AAAA] {
            for r in self.query(name, kind).await? {
                match r.data() {
                    RData::A(a) => out.push(IpAddr::V4(a.0)),
                    RData::AAAA(a) => out.push(IpAddr::V6(a.0)),
                    _ => {}
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// A resolver for names outside the zone (writers' own domains): `resolver`, else the
    /// system's. Errors: [`DnsError::Config`] when the system has none.
    pub fn resolver(&self) -> Result<hickory_resolver::TokioResolver, DnsError> {
        use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
        use hickory_resolver::name_server::TokioConnectionProvider;
        let mut b = match self.config.resolver {
            Some(a) => hickory_resolver::Resolver::builder_with_config(ResolverConfig::from_parts(None, vec![], NameServerConfigGroup::from_ips_clear(&[a.ip()], a.port(), true)), TokioConnectionProvider::default()),
            None => hickory_resolver::Resolver::builder_tokio().map_err(|e| DnsError::Config(format!("no resolver: {e}")))?,
        };
        b.options_mut().timeout = DNS_TIMEOUT;
        Ok(b.build())
    }

    /// Adds a TXT record of `txt` at `name` (a name of this zone).
    pub async fn add_txt(&self, name: &Name, txt: &[String]) -> Result<(), DnsError> {
        let mut m = self.update_message();
        m.add_update(self.txt_record(name, txt, self.config.ttl));
        self.update(m).await.map(|_| ())
    }

    /// Adds a CNAME record at `name` pointing to `target` (a fully qualified name).
    pub async fn add_cname(&self, name: &Name, target: &str) -> Result<(), DnsError> {
        let target = Name::from_ascii(target).map_err(|e| DnsError::Config(format!("`{target}`: {e}")))?;
        let mut m = self.update_message();
        m.add_update(Record::from_rdata(name.clone(), self.config.ttl, RData::CNAME(hickory_client::proto::rr::rdata::CNAME(target))));
        self.update(m).await.map(|_| ())
    }

    /// Deletes the TXT records at `name`.
    pub async fn delete_txt(&self, name: &Name) -> Result<(), DnsError> {
        let mut m = self.update_message();
        let mut r = Record::update0(name.clone(), 0, RecordType::TXT);
        r.set_dns_class(DNSClass::ANY);
        m.add_update(r);
        self.update(m).await.map(|_| ())
    }

    /// Deletes the one TXT record of `txt` at `name` (RFC 2136 §2.5.4), leaving any other.
    pub async fn delete_txt_value(&self, name: &Name, txt: &[String]) -> Result<(), DnsError> {
        let mut m = self.update_message();
        let mut r = self.txt_record(name, txt, 0);
        r.set_dns_class(DNSClass::NONE);
        m.add_update(r);
        self.update(m).await.map(|_| ())
    }

    /// The character-strings of the TXT records of `name`, one list per record (at most 16
    /// records, each string at most 255 bytes, as DNS carries them; strings that are not
    /// UTF-8 are skipped).
    pub async fn txt(&self, name: &Name) -> Result<Vec<Vec<String>>, DnsError> {
        Ok(self
            .query(name, RecordType::TXT)
            .await?
            .iter()
            .take(16)
            .filter_map(|r| match r.data() {
                RData::TXT(t) => t.txt_data().iter().map(|s| String::from_utf8(s.to_vec()).ok()).collect::<Option<Vec<String>>>(),
                _ => None,
            })
            .collect())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn the_secret_is_read_from_base64_or_a_bind_key_clause() {
        assert_eq!(secret_of("c2VjcmV0\n"), Some(b"secret".to_vec()));
        assert_eq!(secret_of("key \"council\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0\";\n};\n"), Some(b"secret".to_vec()));
        assert_eq!(secret_of("not base64 !"), None);
        assert_eq!(secret_of(""), None);
    }

    /// A `[dns]` for `zone` with this spoke at `address` (no server runs there).
    pub(crate) fn config(zone: &str, address: &str) -> DnsConfig {
        DnsConfig {
            zone: zone.into(),
            server: "127.0.0.1:53".parse().expect("addr"),
            tsig_key: "council".into(),
            tsig_algorithm: default_algorithm(),
            tsig_secret: Some("c2VjcmV0".into()),
            tsig_secret_file: None,
            addresses: vec![address.parse().expect("ip")],
            reader_port: 80,
            ttl: 60,
            check_interval_secs: 10,
            fail_after_secs: 30,
            resolver: None,
        }
    }

    #[test]
    fn a_zone_needs_a_valid_name_key_and_addresses() {
        let ok = config("Spokes.Example.", "192.0.2.1");
        let dir = std::env::temp_dir();
        let z = Zone::new(ok.clone(), &dir).expect("zone");
        assert_eq!(z.name(), "spokes.example");
        assert_eq!(z.fqdn("maria").expect("name").to_ascii(), "maria.spokes.example.");
        for bad in [
            DnsConfig { zone: "spo kes".into(), ..ok.clone() },
            DnsConfig { tsig_algorithm: "hmac-md5".into(), ..ok.clone() },
            DnsConfig { tsig_secret: Some("???".into()), ..ok.clone() },
            DnsConfig { tsig_secret: None, ..ok.clone() },
            DnsConfig { tsig_secret_file: Some("/nonexistent/key".into()), tsig_secret: None, ..ok.clone() },
            DnsConfig { addresses: vec![], ..ok.clone() },
        ] {
            assert!(matches!(Zone::new(bad, &dir), Err(DnsError::Config(_))));
        }
    }
}
