//! The retention thread: old records and recordings are purged as `[retention]` says.

use std::sync::{Arc, RwLock};

use crate::store::Store;
use crate::store::retention::RetentionSection;

/// Retention runs at start and then once a day. A failed purge is logged and retried the next
/// day; it never stops the phone being answered.
pub fn start(store: Arc<Store>, policy: Arc<RwLock<RetentionSection>>) {
    let _ = std::thread::Builder::new().name("retention".into()).spawn(move || {
        loop {
            let current = policy.read().unwrap_or_else(|p| p.into_inner()).clone();
            match crate::store::retention::purge(&store, &current, jiff::Timestamp::now()) {
                Ok(report) => {
                    crate::metrics::purge_ran();
                    tracing::info!(%report, "retention purge");
                    if let Ok(Some((entries, head))) = store.audit_head() {
                        tracing::info!(entries, head = %head, "audit trail checkpoint (compare with `frontdesk audit show`)");
                    }
                }
                Err(e) => tracing::error!("retention purge failed: {e:#}"),
            }
            std::thread::sleep(std::time::Duration::from_secs(24 * 3600));
        }
    });
}
