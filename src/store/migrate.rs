//! A tiny embedded migrator.
//!
//! Migrations live in `migrations/<backend>/NNNN_name.sql` and are compiled in
//! with `include_str!`. Applied versions are recorded in `schema_migrations`
//! with the SHA-256 of their SQL; an applied migration whose text has since
//! changed is refused rather than silently skipped. All pending migrations are
//! applied in one transaction that holds the database's write lock (SQLite
//! `BEGIN IMMEDIATE`, PostgreSQL transaction-scoped advisory lock), so two
//! processes starting at once cannot both apply them.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection, Executor, Row};

use super::error::{Result, StoreError};
use super::Backend;

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "cursors",
        sql: include_str!("../../migrations/sqlite/0002_cursors.sql"),
    },
    Migration {
        version: 3,
        name: "evidence",
        sql: include_str!("../../migrations/sqlite/0003_evidence.sql"),
    },
    Migration {
        version: 4,
        name: "digest",
        sql: include_str!("../../migrations/sqlite/0004_digest.sql"),
    },
    Migration {
        version: 5,
        name: "reports",
        sql: include_str!("../../migrations/sqlite/0005_reports.sql"),
    },
    Migration {
        version: 6,
        name: "rollups",
        sql: include_str!("../../migrations/sqlite/0006_rollups.sql"),
    },
    Migration {
        version: 7,
        name: "report_reads",
        sql: include_str!("../../migrations/sqlite/0007_report_reads.sql"),
    },
];

const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "cursors",
        sql: include_str!("../../migrations/postgres/0002_cursors.sql"),
    },
    Migration {
        version: 3,
        name: "evidence",
        sql: include_str!("../../migrations/postgres/0003_evidence.sql"),
    },
    Migration {
        version: 4,
        name: "digest",
        sql: include_str!("../../migrations/postgres/0004_digest.sql"),
    },
    Migration {
        version: 5,
        name: "reports",
        sql: include_str!("../../migrations/postgres/0005_reports.sql"),
    },
    Migration {
        version: 6,
        name: "rollups",
        sql: include_str!("../../migrations/postgres/0006_rollups.sql"),
    },
    Migration {
        version: 7,
        name: "report_reads",
        sql: include_str!("../../migrations/postgres/0007_report_reads.sql"),
    },
];

/// Arbitrary constant identifying Signpost's migration lock.
const PG_MIGRATION_LOCK: i64 = 0x5349_474e_504f_5354; // "SIGNPOST"

pub(crate) fn migrations(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Applies every pending migration; returns the versions applied now.
pub(crate) async fn run(conn: &mut AnyConnection, backend: Backend) -> Result<Vec<i64>> {
    let mut tx = match backend {
        Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => conn.begin().await?,
    };
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    BIGINT PRIMARY KEY,
            name       TEXT   NOT NULL,
            checksum   TEXT   NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .await?;

    let rows = sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *tx)
        .await?;
    let mut applied: Vec<(i64, String)> = Vec::with_capacity(rows.len());
    for row in &rows {
        applied.push((row.try_get("version")?, row.try_get("checksum")?));
    }
    drop(rows);
    let mut applied_now = Vec::new();
    for m in migrations(backend) {
        let sum = checksum(m.sql);
        let recorded = applied
            .iter()
            .find(|(version, _)| *version == m.version)
            .map(|(_, stored)| stored.clone());
        if let Some(stored) = recorded {
            if stored != sum {
                return Err(StoreError::Migration(format!(
                    "migration {:04}_{} was applied with checksum {stored} but the embedded SQL now hashes to {sum}",
                    m.version, m.name
                )));
            }
            continue;
        }
        tx.execute(m.sql).await.map_err(|e| {
            StoreError::Migration(format!("applying {:04}_{}: {e}", m.version, m.name))
        })?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(&sum)
        .bind(chrono::Utc::now().timestamp_millis())
        .execute(&mut *tx)
        .await?;
        applied_now.push(m.version);
    }
    // Migrations newer than this binary knows are tolerated (a rollback of the
    // binary), but worth a warning.
    let known_max = migrations(backend)
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    if let Some(newest) = applied.iter().map(|(version, _)| *version).max() {
        if newest > known_max {
            tracing::warn!(
                newest,
                known_max,
                "database has migrations newer than this build knows"
            );
        }
    }
    tx.commit().await?;
    Ok(applied_now)
}
