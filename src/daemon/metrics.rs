//! `[metrics]`: the Prometheus endpoint, on a port of its own so a firewall can give the
//! vendor's monitoring this and nothing else. Off unless `listen` is set.
//!
//! One route, `GET /metrics`, plain text. What it serves is `crate::metrics`, whose labels
//! are closed sets (no caller data can reach them); the store's size and the audit chain's
//! length are looked up at each scrape. HTTP parsing is hyper's (through axum), not ours.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::store::Store;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Where to serve `/metrics`, e.g. "127.0.0.1:9464"; unset: no endpoint.
    pub listen: Option<SocketAddr>,
}

/// Binds `[metrics] listen` now (a port in use stops the start, naming it) and returns the
/// server to spawn.
pub async fn serve(listen: SocketAddr, store: Arc<Store>) -> Result<impl std::future::Future<Output = ()>> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("[metrics] listen = \"{listen}\": cannot listen there (another service on that port?)"))?;
    tracing::info!(%listen, "metrics for monitoring at /metrics (no caller data)");
    let app = axum::Router::new().route("/metrics", axum::routing::get(scrape)).with_state(store);
    Ok(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("the metrics endpoint stopped: {e}");
        }
    })
}

async fn scrape(axum::extract::State(store): axum::extract::State<Arc<Store>>) -> impl axum::response::IntoResponse {
    // SQLite and the file system: off the reactor.
    let text = tokio::task::spawn_blocking(move || {
        let audit_entries = store.audit_head().ok().flatten().map_or(0, |(n, _)| u64::try_from(n).unwrap_or(0));
        crate::metrics::render(&crate::metrics::Scrape { store_bytes: store_bytes(store.data_dir()), audit_entries })
    })
    .await
    .unwrap_or_default();
    ([(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
}

/// The bytes under the data directory: the database, its journal, the recordings.
fn store_bytes(dir: &Path) -> u64 {
    fn walk(dir: &Path, depth: u32) -> u64 {
        let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() && depth < 4 => walk(&e.path(), depth + 1),
                Ok(m) if m.is_file() => m.len(),
                _ => 0,
            })
            .sum()
    }
    walk(dir, 0)
}
