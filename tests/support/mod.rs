//! Helpers shared by the bot tests.
pub mod discord;
pub mod gateway;
