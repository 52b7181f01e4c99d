//! Signpost: a chat-ops bot that helps NHS trust communications teams run their
//! public social media safely.
//!
//! Data flows one way:
//! - adapters ([`webhook`]: signed platform webhooks, generic ingest, the
//!   Mastodon poller) turn platform input into [`model::InboundPost`];
//! - the pure core classifies it ([`classify`]) and decides what to do
//!   ([`decide`], with [`hours`] and [`replies`]), taking a clock, doing no I/O;
//! - [`store`] keeps posts, the durable outbox of effects and the
//!   tamper-evident audit log;
//! - [`actions`] carries out a team member's decision through [`platforms`]
//!   (one client per social platform), keeping [`evidence`] first.
//!
//! [`chart`] draws the PNG attached to the supervisors' `/stats` answer.

pub mod actions;
pub mod bot;
pub mod category;
pub mod chart;
pub mod classify;
pub mod cli;
pub mod config;
pub mod decide;
pub mod discord;
pub mod evidence;
pub mod hours;
pub mod model;
pub mod outbox;
pub mod pipeline;
pub mod platforms;
pub mod replies;
pub mod stats;
pub mod store;
pub mod webhook;
