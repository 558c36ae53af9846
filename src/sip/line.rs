//! The SIP user agent as a [`Line`]: the daemon starts it like any other source of calls.

use crate::line::{Answer, Line, LineFuture};

use super::ua::{UaConfig, UserAgent};

/// A SIP line: the user agent of `[sip]` (and `[registration]`).
pub struct SipLine {
    pub config: UaConfig,
}

impl Line for SipLine {
    fn kind(&self) -> &'static str {
        "sip"
    }

    fn start(self: Box<Self>, answer: Answer, stop: LineFuture<()>) -> LineFuture<anyhow::Result<LineFuture<()>>> {
        Box::pin(async move {
            let listen = self.config.listen;
            let ua = UserAgent::bind(self.config, answer).await.map_err(|e| {
                let fix = match e.kind() {
                    std::io::ErrorKind::AddrInUse => "another program (or another frontdesk) holds the port: stop it or change sip.listen",
                    std::io::ErrorKind::AddrNotAvailable => {
                        "the address is not one of this box's: set sip.listen to this box's address or 0.0.0.0 with sip.public_address"
                    }
                    std::io::ErrorKind::PermissionDenied => "ports below 1024 need CAP_NET_BIND_SERVICE: use 5060 or grant the capability",
                    _ => "check sip.listen",
                };
                anyhow::anyhow!("cannot listen for SIP on {listen}: {e}; {fix}")
            })?;
            ua.publish_status();
            let serve: LineFuture<()> = Box::pin(ua.run(stop));
            Ok(serve)
        })
    }
}
