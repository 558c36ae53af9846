//! Callers with a mind of their own, for conversation tests: each answers what the agent
//! actually asked (not a fixed list of lines), the way a kind of caller would. The same
//! persona drives `frontdesk simulate --audio` (tests/personas.rs) and a SIP call through the
//! listening caller (tests/conversation_sip.rs).

/// What a caller does after the agent has finished talking.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Says these words.
    Say(String),
    /// Presses these keys (RFC 4733 over SIP, `<dtmf ...>` in simulate).
    Keys(String),
    /// Says nothing until the agent speaks again (or the call ends).
    Silence,
    /// Hangs up.
    HangUp,
}

/// A caller that listens: `agent` is everything the agent said since the caller last spoke
/// (on a call, as the caller's own recogniser heard it; in simulate, the agent's text).
pub trait Persona: Send {
    fn name(&self) -> &str;
    fn reply(&mut self, agent: &str) -> Reply;
}
