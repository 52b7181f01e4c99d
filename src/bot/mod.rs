//! The Discord gateway bot behind `signpost run`: it registers the slash
//! commands per guild, receives button clicks and modal submits over the
//! gateway and answers them through Discord's REST API.
//!
//! - [`clicks`]: the click core (permission checks, modals, second
//!   confirmation, the action executor, the relay update), independent of
//!   the gateway so tests and benches drive it directly;
//! - [`commands`]: the slash commands: `/signpost status` for the team and
//!   the supervisor commands;
//! - [`gateway`]: the poise/serenity client wiring and the event handler
//!   that turns interactions into [`clicks::Click`]s.
//!
//! Relay messages themselves are posted from the outbox (see
//! `crate::discord`); this module only reacts to the team.

pub mod clicks;
pub mod commands;
pub mod gateway;

pub use clicks::{Click, ClickKind, Clicks, Handled, Member, Outcome};
pub use gateway::{build_client, build_http, Data};
