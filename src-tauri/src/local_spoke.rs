//! The embedded local spoke, which the app runs while the writer has chosen no spoke: the one
//! module of the app that reaches the `spoke` crate (see docs/architecture.md).

use spokes_core::problem::Code;
use crate::{UiError, ui_err};
use spokes_writer::SpokeTarget;
use std::path::Path;

/// The embedded local spoke.
pub struct LocalSpoke {
    /// Reader site base URL, for example `http://127.0.0.1:41234`.
    pub url: String,
    /// How to publish to it.
    pub target: SpokeTarget,
    _running: spoke::RunningSpoke,
}

/// Starts the embedded local spoke in `<profile>/local-spoke` on 127.0.0.1 ports.
pub async fn start_local_spoke(dir: &Path) -> Result<LocalSpoke, UiError> {
    let data = dir.join("local-spoke");
    let fail = |e: spoke::SpokeError| ui_err(Code::LocalSpoke, format!("The built-in spoke could not start: {e}")).with_detail(e.to_string());
    if spoke::load(&data).is_err() {
        let config = spoke::config::Config { name: "This computer".into(), ..Default::default() };
        spoke::init(&data, &config).map_err(fail)?;
    }
    let any = "127.0.0.1:0".parse().ok();
    let running = spoke::start(&data, spoke::Overrides { http: any, p2p: any, no_admin: true, replicate_interval_secs: Some(3600), ..Default::default() }).await.map_err(fail)?;
    let ticket = running.invite(1).map_err(fail)?;
    let target = SpokeTarget { endpoint: ticket.endpoint.clone(), addrs: ticket.addrs.clone(), token: ticket.token.clone(), name: Some("This computer".into()), relay: None };
    Ok(LocalSpoke { url: format!("http://{}", running.http_addr), target, _running: running })
}
