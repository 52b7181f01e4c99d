//! The store's error type.

use sqlx::error::ErrorKind;

/// What can go wrong in the store.
///
/// Callers usually care about three cases: the thing asked for is not there
/// ([`StoreError::NotFound`]), the request clashes with what is stored
/// ([`StoreError::Conflict`], e.g. a job that is no longer running, a foreign
/// key that points nowhere), or the database itself failed
/// ([`StoreError::Database`], worth retrying or alerting on). Messages carry
/// ids, never row contents, so they are safe to log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row matched, e.g. a relay for a post that was never relayed.
    #[error("{what} not found: {key}")]
    NotFound { what: &'static str, key: String },

    /// The request clashes with the stored state or a constraint.
    #[error("conflict: {0}")]
    Conflict(String),

    /// The caller passed something the store cannot accept (e.g. an hours
    /// override that ends before it starts).
    #[error("invalid input: {0}")]
    Invalid(String),

    /// The database URL or options cannot be used.
    #[error("invalid store configuration: {0}")]
    Config(String),

    /// A migration could not be applied, or an applied one has changed.
    #[error("migration failed: {0}")]
    Migration(String),

    /// A stored value could not be read back (unknown name, bad JSON, bad time).
    #[error("corrupt stored value in {column}: {detail}")]
    Corrupt {
        column: &'static str,
        detail: String,
    },

    /// Any other database failure (connection, I/O, timeout, syntax).
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            match db.kind() {
                ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::CheckViolation
                | ErrorKind::NotNullViolation => {
                    return StoreError::Conflict(db.message().to_owned());
                }
                _ => {}
            }
        }
        StoreError::Database(err)
    }
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, key: impl ToString) -> Self {
        StoreError::NotFound {
            what,
            key: key.to_string(),
        }
    }

    pub(crate) fn corrupt(column: &'static str, detail: impl ToString) -> Self {
        StoreError::Corrupt {
            column,
            detail: detail.to_string(),
        }
    }

    /// True for [`StoreError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// True for [`StoreError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict(_))
    }
}

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
