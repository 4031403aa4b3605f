//! Web addresses that come from peers (council members, tickets, blog documents) and become
//! links readers or writers may follow.

/// `web` as a link people may follow: an absolute `http` or `https` URL with a host and no
/// user name or password (parsed as the WHATWG URL Standard, RFC 3986 schemes), returned in
/// its parsed form. `None` for anything else (`javascript:`, `data:`, `file:`, relative or
/// unparseable addresses), which a peer may send and Spokes never links to.
pub fn reader_url(web: &str) -> Option<String> {
    let u = url::Url::parse(web.trim()).ok()?;
    let ok = matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) && u.username().is_empty() && u.password().is_none();
    ok.then(|| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_addresses_become_links() {
        assert_eq!(reader_url("https://spoke.example").as_deref(), Some("https://spoke.example/"));
        assert_eq!(reader_url(" http://127.0.0.1:8080/x ").as_deref(), Some("http://127.0.0.1:8080/x"));
        for bad in ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>", "file:///etc/passwd", "//spoke.example", "/b/x", "https://user:pw@spoke.example", "", "http://"] {
            assert_eq!(reader_url(bad), None, "{bad}");
        }
    }
}
