//! Conversions shared by the store's tables.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};

use super::error::{Result, StoreError};

/// A time as stored: milliseconds since the Unix epoch, UTC.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn time_from_ms(column: &'static str, v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::corrupt(column, v))
}

/// Reads a column, naming it in the error.
pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &'static str) -> Result<T>
where
    T: Decode<'r, Any> + Type<Any>,
{
    row.try_get(column)
        .map_err(|e| StoreError::corrupt(column, e))
}

pub(crate) fn get_time(row: &AnyRow, column: &'static str) -> Result<DateTime<Utc>> {
    time_from_ms(column, get::<i64>(row, column)?)
}

pub(crate) fn get_opt_time(row: &AnyRow, column: &'static str) -> Result<Option<DateTime<Utc>>> {
    get::<Option<i64>>(row, column)?
        .map(|v| time_from_ms(column, v))
        .transpose()
}

/// Reads a non-negative count into a `u32`, saturating.
pub(crate) fn get_u32(row: &AnyRow, column: &'static str) -> Result<u32> {
    let v: i64 = get(row, column)?;
    Ok(u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}

/// Reads a 0/1 flag.
pub(crate) fn get_flag(row: &AnyRow, column: &'static str) -> Result<bool> {
    Ok(get::<i64>(row, column)? != 0)
}

/// Parses a stored snake_case name into a serde enum such as `Platform`.
pub(crate) fn parse_name<T: DeserializeOwned>(column: &'static str, name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| StoreError::corrupt(column, format!("unknown name `{name}`")))
}

/// Parses stored JSON text.
pub(crate) fn parse_json<T: DeserializeOwned>(column: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(column, e))
}

/// `$from, $from+1, …` for `n` placeholders, comma separated.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Bound-parameter markers for a multi-row statement, handed out in the
/// order they appear in the SQL (which must be the order values are bound).
///
/// PostgreSQL gets `$1, $2, …`. SQLite gets anonymous `?`: SQLite keeps
/// numbered and named parameters in a list that `sqlite3_bind_parameter_name`
/// (which sqlx calls for every value it binds) walks from the start, so
/// binding the values of a statement with `$N` markers costs time quadratic
/// in their number, and a few hundred of them dominated a batch's writes.
#[derive(Debug)]
pub(crate) struct Params {
    anonymous: bool,
    next: usize,
}

impl Params {
    /// Markers for statements on `conn`.
    pub(crate) fn for_conn(conn: &sqlx::AnyConnection) -> Params {
        Params {
            anonymous: conn.backend_name().eq_ignore_ascii_case("sqlite"),
            next: 0,
        }
    }

    #[cfg(test)]
    pub(crate) fn numbered() -> Params {
        Params {
            anonymous: false,
            next: 0,
        }
    }

    #[cfg(test)]
    pub(crate) fn anonymous() -> Params {
        Params {
            anonymous: true,
            next: 0,
        }
    }

    /// The next marker.
    pub(crate) fn next(&mut self) -> String {
        self.next += 1;
        if self.anonymous {
            "?".to_owned()
        } else {
            format!("${}", self.next)
        }
    }

    /// `n` markers, comma separated.
    pub(crate) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.next()).collect::<Vec<_>>().join(", ")
    }

    /// `(…), (…)`: `rows` rows of `cols` markers.
    pub(crate) fn rows(&mut self, rows: usize, cols: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(cols)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Defines a string-backed enum stored by its snake_case name.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident, $column:literal {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The name stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// Parses a stored name.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            pub(crate) fn from_column(name: &str) -> $crate::store::error::Result<Self> {
                Self::parse(name).ok_or_else(|| {
                    $crate::store::error::StoreError::corrupt($column, format!("unknown name `{name}`"))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use stored_enum;
