//! Prometheus metrics, served at `/metrics` on the operator's listener (`admin` in
//! config.toml) in the text exposition format (OpenMetrics 1.0, via `prometheus-client`), named
//! by Prometheus's naming guide (base units, `_total` counters, `_info` for build facts).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `spoke_build_info` | info | `version`: the spoke's version |
//! | `spoke_http_requests_total` | counter | `code`: the reader site's response status code (`200`, `404`, …) |
//! | `spoke_http_request_duration_seconds` | histogram | the reader site's response time |
//! | `spoke_sync_sessions_total` | counter | `result` (`ok`, `refused`, `failed`) |
//! | `spoke_image_exchanges_total` | counter | `result` (`ok`, `failed`): writers' picture exchanges (`spokes/images/1`) |
//! | `spoke_refusals_total` | counter | `code` (the refusal's stable code) |
//! | `spoke_council_pulls_total` | counter | `result` (`ok`, `failed`) |
//! | `spoke_search_queries_total` | counter | |
//! | `spoke_bundle_builds_total` | counter | verification bundles made (once per state of a blog, then reused) |
//! | `spoke_council_copies_released_total` | counter | council copies released after they moved to the members placed for them (`[council] copies`) |
//! | `spoke_relay_connections_total` | counter | `result` (`accepted`, `refused`): connections to the relay at `/relay` ([`crate::relay`]) |
//! | `spoke_digest_items_refused_total` | counter | items of upstreams' digests of newest posts that did not check ([`crate::aggregate`]) |
//! | `spoke_search_duration_seconds` | histogram | |
//! | `spoke_blogs` | gauge | `kind` (`hosted`, `mirror`) |
//! | `spoke_council_members` | gauge | |
//! | `spoke_relay_clients` | gauge | relay connections open now |
//! | `spoke_disk_free_bytes` | gauge | |
//! | `spoke_search_posts` | gauge | |
//! | `spoke_digest_items` | gauge | posts in the digest this spoke offers (the council's newest) |
//! | `spoke_tls_certificate_expiry_timestamp_seconds` | gauge | the end of the HTTPS certificate in use (Unix time; absent without one) |

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// The spoke's metrics.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<Labels, Counter>,
    http_request_duration_seconds: Histogram,
    sync_sessions: Family<Labels, Counter>,
    image_exchanges: Family<Labels, Counter>,
    refusals: Family<Labels, Counter>,
    council_pulls: Family<Labels, Counter>,
    /// Search queries answered.
    pub search_queries: Counter,
    /// Search latency, seconds.
    pub search_duration_seconds: Histogram,
    /// Verification bundles made (`/b/{blog}/bundle.json`).
    pub bundle_builds: Counter,
    /// Council copies released after they moved to the members placed for them.
    pub copies_released: Counter,
    /// Relay connections by result (`accepted`, `refused`).
    pub relay_connections: Family<Labels, Counter>,
    /// Relay connections open now.
    pub relay_clients: Gauge,
    blogs: Family<Labels, Gauge>,
    /// Council members.
    pub council_members: Gauge,
    /// Free space on the data folder's file system, bytes.
    pub disk_free_bytes: Gauge,
    /// Posts in the search index.
    pub search_posts: Gauge,
    /// The end of the HTTPS certificate in use, Unix seconds (0: none yet).
    pub tls_certificate_expiry: Gauge,
    /// Posts in the digest this spoke offers.
    pub digest_items: Gauge,
    /// Items of upstreams' digests that did not check.
    pub digest_items_refused: Counter,
}

fn label(k: &str, v: &str) -> Labels {
    vec![(k.to_owned(), v.to_owned())]
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("spoke");
        let m = Metrics {
            registry: Registry::default(),
            http_requests: Family::default(),
            http_request_duration_seconds: Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            sync_sessions: Family::default(),
            image_exchanges: Family::default(),
            refusals: Family::default(),
            council_pulls: Family::default(),
            search_queries: Counter::default(),
            search_duration_seconds: Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0]),
            bundle_builds: Counter::default(),
            copies_released: Counter::default(),
            relay_connections: Family::default(),
            relay_clients: Gauge::default(),
            blogs: Family::default(),
            council_members: Gauge::default(),
            disk_free_bytes: Gauge::default(),
            search_posts: Gauge::default(),
            tls_certificate_expiry: Gauge::default(),
            digest_items: Gauge::default(),
            digest_items_refused: Counter::default(),
        };
        registry.register("build", "The spoke's build", Info::new(vec![("version".to_owned(), env!("CARGO_PKG_VERSION").to_owned())]));
        registry.register("http_requests", "Reader site responses by status code", m.http_requests.clone());
        registry.register("http_request_duration_seconds", "Reader site response time in seconds", m.http_request_duration_seconds.clone());
        registry.register("sync_sessions", "Sync sessions by result", m.sync_sessions.clone());
        registry.register("image_exchanges", "Picture exchanges by result", m.image_exchanges.clone());
        registry.register("refusals", "Refused sessions and exchanges by code", m.refusals.clone());
        registry.register("council_pulls", "Council exchanges with upstreams by result", m.council_pulls.clone());
        registry.register("search_queries", "Search queries answered", m.search_queries.clone());
        registry.register("search_duration_seconds", "Search latency in seconds", m.search_duration_seconds.clone());
        registry.register("bundle_builds", "Verification bundles made", m.bundle_builds.clone());
        registry.register("council_copies_released", "Council copies released after they moved to the members placed for them", m.copies_released.clone());
        registry.register("relay_connections", "Connections to the relay by result", m.relay_connections.clone());
        registry.register("relay_clients", "Relay connections open now", m.relay_clients.clone());
        registry.register("blogs", "Blogs held, by kind", m.blogs.clone());
        registry.register("council_members", "Members of this spoke's council", m.council_members.clone());
        registry.register("disk_free_bytes", "Free bytes on the data folder's file system", m.disk_free_bytes.clone());
        registry.register("search_posts", "Posts in the search index", m.search_posts.clone());
        registry.register("tls_certificate_expiry_timestamp_seconds", "When the HTTPS certificate in use ends, Unix seconds (0: none yet)", m.tls_certificate_expiry.clone());
        registry.register("digest_items", "Posts in the digest of the council's newest posts this spoke offers", m.digest_items.clone());
        registry.register("digest_items_refused", "Items of upstreams' digests that did not check", m.digest_items_refused.clone());
        Metrics { registry, ..m }
    }

    /// Counts a reader-site response with this status code, made in `seconds`.
    pub fn http(&self, status: u16, seconds: f64) {
        self.http_requests.get_or_create(&label("code", &status.to_string())).inc();
        self.http_request_duration_seconds.observe(seconds);
    }

    /// Counts a sync session: `ok`, `refused` or `failed`.
    pub fn sync(&self, result: &str) {
        self.sync_sessions.get_or_create(&label("result", result)).inc();
    }

    /// Counts a picture exchange: `ok` or `failed`.
    pub fn image_exchange(&self, result: &str) {
        self.image_exchanges.get_or_create(&label("result", result)).inc();
    }

    /// Counts a refusal with its code.
    pub fn refusal(&self, code: spokes_core::problem::Code) {
        self.refusals.get_or_create(&label("code", code.as_str())).inc();
    }

    /// Counts a council exchange: `ok` or `failed`.
    pub fn council_pull(&self, result: &str) {
        self.council_pulls.get_or_create(&label("result", result)).inc();
    }

    /// Sets the blog counts.
    pub fn set_blogs(&self, hosted: i64, mirror: i64) {
        self.blogs.get_or_create(&label("kind", "hosted")).set(hosted);
        self.blogs.get_or_create(&label("kind", "mirror")).set(mirror);
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_in_the_exposition() {
        let m = Metrics::new();
        m.http(200, 0.002);
        m.http(404, 0.001);
        m.http(404, 0.003);
        m.refusal(spokes_core::problem::Code::BadSignature);
        m.set_blogs(3, 7);
        m.image_exchange("ok");
        let text = m.encode();
        assert!(text.contains("spoke_image_exchanges_total{result=\"ok\"} 1"), "{text}");
        assert!(text.contains("spoke_http_requests_total{code=\"404\"} 2"), "{text}");
        assert!(text.contains("spoke_http_request_duration_seconds_count 3"), "{text}");
        assert!(text.contains("spoke_http_request_duration_seconds_bucket{le=\"0.0025\"} 2"), "{text}");
        assert!(text.contains(&format!("spoke_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))), "{text}");
        assert!(text.contains("spoke_refusals_total{code=\"bad-signature\"} 1"), "{text}");
        assert!(text.contains("spoke_blogs{kind=\"mirror\"} 7"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
