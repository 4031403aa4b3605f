//! What the HTTP layer reads of a running spoke (`http::SpokeView`).

use super::*;

impl http::SpokeView for Inner {
    fn blogs(&self) -> Vec<Arc<BlogView>> {
        let mut v: Vec<_> = self.views.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        v.sort_by(|a, b| a.settings.title.cmp(&b.settings.title));
        v
    }
    fn blog(&self, id: &BlogId) -> Option<Arc<BlogView>> {
        self.views.read().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn image(&self, id: &BlogId, name: &ImageName) -> Option<Vec<u8>> {
        self.store.image(id, name).ok().flatten()
    }
    fn bundle(&self, id: &BlogId) -> Option<view::AnyBundle> {
        // Only what readers are shown: a suspended blog is held but not served.
        let b = self.store.blog(id).ok()?.filter(|b| b.status == BlogStatus::Active)?;
        if b.format == 2 {
            return self.set_bundle(id).map(view::AnyBundle::V2);
        }
        let statements = self.store.statements(id).ok()?;
        Some(view::AnyBundle::V1(view::Bundle::from_parts(&b.blog_id, &b.certificate, &b.document, &statements)))
    }
    fn search(&self, query: &str, limit: usize) -> Result<Vec<search::Hit>, String> {
        let started = std::time::Instant::now();
        let r = self.search.search(query, limit, &|b| http::SpokeView::blog(self, b)).map_err(|e| e.to_string());
        self.metrics.search_queries.inc();
        self.metrics.search_seconds.observe(started.elapsed().as_secs_f64());
        r
    }
    fn members(&self) -> Vec<council::MemberInfo> {
        self.membership().map(|m| m.members().into_values().collect()).unwrap_or_default()
    }
    fn metrics(&self) -> String {
        self.metrics.encode()
    }
    fn count_response(&self, status: u16) {
        self.metrics.http(status);
    }
    fn generation(&self) -> u64 {
        // The council's entries count too: pages link to the members' reader sites.
        self.generation.load(std::sync::atomic::Ordering::Relaxed).wrapping_add(self.council_entries.load(std::sync::atomic::Ordering::Relaxed).wrapping_mul(1_000_003))
    }
}
