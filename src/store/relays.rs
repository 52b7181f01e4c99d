//! `relays`: a flagged post relayed to the team's Discord channel, and the
//! team's decision on it.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::error::{Result, StoreError};
use super::util::{get, get_opt_time, get_time, ms, stored_enum};
use super::Backend;

stored_enum! {
    /// Where a relay is in its life.
    pub enum RelayState, "relays.state" {
        /// Created; the Discord message is not sent yet.
        Pending => "pending",
        /// The Discord message is up and waiting for the team.
        Open => "open",
        /// Someone took a moderation action.
        Actioned => "actioned",
        /// Someone decided it needs nothing.
        Dismissed => "dismissed",
    }
}

/// Who did something: a team member (Discord user) or the system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    /// Stable id, e.g. a Discord user id, or `system`.
    pub id: String,
    /// Display name at the time.
    pub name: String,
}

impl Actor {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Actor {
            id: id.into(),
            name: name.into(),
        }
    }

    /// Signpost itself.
    pub fn system() -> Self {
        Actor::new("system", "Signpost")
    }
}

/// A relay as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Relay {
    pub id: i64,
    pub post_id: i64,
    pub org: String,
    pub channel_id: Option<String>,
    pub message_id: Option<String>,
    pub state: RelayState,
    pub state_by_id: Option<String>,
    pub state_by_name: Option<String>,
    pub state_at: Option<DateTime<Utc>>,
    pub state_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What [`transition_relay`](super::Store::transition_relay) did.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// This call moved the relay to the new state.
    Applied,
    /// The relay was no longer in the expected state: someone else got there
    /// first. Carries who and when, for "already dismissed by Sam at 10:02".
    AlreadyDone {
        state: RelayState,
        by_id: Option<String>,
        by_name: Option<String>,
        at: Option<DateTime<Utc>>,
        reason: Option<String>,
    },
}

impl Transition {
    pub fn is_applied(&self) -> bool {
        matches!(self, Transition::Applied)
    }
}

pub(crate) const RELAY_COLUMNS: &str =
    "id, post_id, org, channel_id, message_id, state, state_by_id, \
     state_by_name, state_at, state_reason, created_at, updated_at";

pub(crate) fn relay_from_row(row: &AnyRow) -> Result<Relay> {
    let state: String = get(row, "state")?;
    Ok(Relay {
        id: get(row, "id")?,
        post_id: get(row, "post_id")?,
        org: get(row, "org")?,
        channel_id: get(row, "channel_id")?,
        message_id: get(row, "message_id")?,
        state: RelayState::from_column(&state)?,
        state_by_id: get(row, "state_by_id")?,
        state_by_name: get(row, "state_by_name")?,
        state_at: get_opt_time(row, "state_at")?,
        state_reason: get(row, "state_reason")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

pub(crate) async fn create_relay(
    conn: &mut AnyConnection,
    _backend: Backend,
    post_id: i64,
    org: &str,
    channel_id: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(i64, bool)> {
    let inserted = sqlx::query(
        "INSERT INTO relays (post_id, org, channel_id, state, created_at, updated_at, \
         received_at) VALUES ($1, $2, $3, 'pending', $4, $4, \
         (SELECT received_at FROM posts WHERE id = $1)) \
         ON CONFLICT (post_id) DO NOTHING RETURNING id",
    )
    .bind(post_id)
    .bind(org)
    .bind(channel_id)
    .bind(ms(at))
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = inserted {
        return Ok((get(&row, "id")?, true));
    }
    let row = sqlx::query("SELECT id FROM relays WHERE post_id = $1")
        .bind(post_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("relay", post_id))?;
    Ok((get(&row, "id")?, false))
}

pub(crate) async fn set_relay_message(
    conn: &mut AnyConnection,
    _backend: Backend,
    post_id: i64,
    channel_id: &str,
    message_id: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE relays SET channel_id = $2, message_id = $3, updated_at = $4, \
         state = CASE WHEN state = 'pending' THEN 'open' ELSE state END \
         WHERE post_id = $1",
    )
    .bind(post_id)
    .bind(channel_id)
    .bind(message_id)
    .bind(ms(at))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("relay for post", post_id));
    }
    Ok(())
}

pub(crate) async fn get_relay(
    conn: &mut AnyConnection,
    _backend: Backend,
    post_id: i64,
) -> Result<Option<Relay>> {
    let sql = format!("SELECT {RELAY_COLUMNS} FROM relays WHERE post_id = $1");
    sqlx::query(&sql)
        .bind(post_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| relay_from_row(&row))
        .transpose()
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn transition_relay(
    conn: &mut AnyConnection,
    backend: Backend,
    post_id: i64,
    expected: RelayState,
    new: RelayState,
    actor: &Actor,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Transition> {
    // A state can only be observed equal to `expected` after a failed CAS if
    // someone moved it away and back in between; try again then, a few times.
    for _ in 0..3 {
        let done = sqlx::query(
            "UPDATE relays SET state = $3, state_by_id = $4, state_by_name = $5, state_at = $6, \
             state_reason = $7, updated_at = $6 WHERE post_id = $1 AND state = $2",
        )
        .bind(post_id)
        .bind(expected.as_str())
        .bind(new.as_str())
        .bind(actor.id.as_str())
        .bind(actor.name.as_str())
        .bind(ms(at))
        .bind(reason)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(Transition::Applied);
        }
        let relay = get_relay(conn, backend, post_id)
            .await?
            .ok_or_else(|| StoreError::not_found("relay for post", post_id))?;
        if relay.state != expected {
            return Ok(Transition::AlreadyDone {
                state: relay.state,
                by_id: relay.state_by_id,
                by_name: relay.state_by_name,
                at: relay.state_at,
                reason: relay.state_reason,
            });
        }
    }
    Err(StoreError::Conflict(format!(
        "relay for post {post_id} keeps changing state; transition not applied"
    )))
}
