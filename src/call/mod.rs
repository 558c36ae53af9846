//! The conversation: the clinic's script (`script`), what callers' words mean (`understand`),
//! the dialog (`flow`), the per-call engine on a line (`engine`), the record it leaves
//! (`record`), and `simulate` for trying it all without a phone.

pub mod apps;
pub mod endpoint;
pub mod engine;
pub mod flow;
pub mod prompt_cache;
pub mod script;
pub mod simulate;
pub mod understand;
