//! What Signpost says in Discord, as data: relay messages, their buttons and
//! their state updates, and the handover digest ([`digest`]), built as
//! Discord API JSON by pure functions; and the workers that post them from
//! the outbox ([`delivery`] for relays, [`handover`] for digests). The bot
//! (the gateway and REST adapter) sends these payloads; it does not build
//! them. Keeping them pure lets tests check every payload against Discord's
//! OpenAPI spec and against the limits the spec leaves out.

pub mod delivery;
pub mod digest;
pub mod handover;
pub mod limits;
pub mod relay;

pub use relay::{custom_id, parse_custom_id, relay_message, ActionDone, AuthorSummary, RelayView};
