//! Helpers shared by the bot tests.
pub mod discord;
