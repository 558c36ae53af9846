//! The SIP user agent. `wire` is the message layer (framing, validation, what to answer to a
//! broken request), kept apart from the state machines in `ua`, as smoltcp keeps its `wire`.

pub mod acl;
pub mod digest;
pub mod leg;
pub mod line;
pub mod message;
pub mod register;
pub mod sdp;
pub mod settings;
pub mod ua;
pub mod uac;
pub mod wire;

/// The methods this user agent handles, for requests' validation and `Allow:` headers.
pub(crate) const METHODS: &[&str] = &["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY", "REFER"];
/// [`METHODS`] as an `Allow:` header value.
pub(crate) const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY, REFER";
