//! Forward-only schema migrations, one numbered file per change and per backend.
//!
//! The same version and name exist in `migrations/sqlite` and `migrations/postgres`; only the types
//! differ. Each runs once, in the transaction that records it. Versions are numbered per feature
//! branch, so the list may have gaps while branches land: the runner applies every known version
//! that the database has not recorded, in order, rather than only those above the highest.

use crate::conn::{Conn, Dialect};
use crate::StoreError;

/// One migration: its version, its name, and its SQL per backend.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "catalog",
        sqlite: include_str!("../migrations/sqlite/0002_catalog.sql"),
        postgres: include_str!("../migrations/postgres/0002_catalog.sql"),
    },
    Migration {
        version: 3,
        name: "service_desk",
        sqlite: include_str!("../migrations/sqlite/0003_service_desk.sql"),
        postgres: include_str!("../migrations/postgres/0003_service_desk.sql"),
    },
    Migration {
        version: 4,
        name: "catalog_api",
        sqlite: include_str!("../migrations/sqlite/0004_catalog_api.sql"),
        postgres: include_str!("../migrations/postgres/0004_catalog_api.sql"),
    },
    Migration {
        version: 5,
        name: "tenant_data",
        sqlite: include_str!("../migrations/sqlite/0005_tenant_data.sql"),
        postgres: include_str!("../migrations/postgres/0005_tenant_data.sql"),
    },
    Migration {
        version: 6,
        name: "access_requests",
        sqlite: include_str!("../migrations/sqlite/0006_access_requests.sql"),
        postgres: include_str!("../migrations/postgres/0006_access_requests.sql"),
    },
    Migration {
        version: 7,
        name: "task_status",
        sqlite: include_str!("../migrations/sqlite/0007_task_status.sql"),
        postgres: include_str!("../migrations/postgres/0007_task_status.sql"),
    },
    Migration {
        version: 8,
        name: "access_request_status",
        sqlite: include_str!("../migrations/sqlite/0008_access_request_status.sql"),
        postgres: include_str!("../migrations/postgres/0008_access_request_status.sql"),
    },
    Migration {
        version: 9,
        name: "service_desk_tickets",
        sqlite: include_str!("../migrations/sqlite/0009_service_desk_tickets.sql"),
        postgres: include_str!("../migrations/postgres/0009_service_desk_tickets.sql"),
    },
    Migration {
        version: 10,
        name: "installed_integrations",
        sqlite: include_str!("../migrations/sqlite/0010_installed_integrations.sql"),
        postgres: include_str!("../migrations/postgres/0010_installed_integrations.sql"),
    },
    Migration {
        version: 11,
        name: "task_records",
        sqlite: include_str!("../migrations/sqlite/0011_task_records.sql"),
        postgres: include_str!("../migrations/postgres/0011_task_records.sql"),
    },
    Migration {
        version: 12,
        name: "job_vacuum",
        sqlite: include_str!("../migrations/sqlite/0012_job_vacuum.sql"),
        postgres: include_str!("../migrations/postgres/0012_job_vacuum.sql"),
    },
    Migration {
        version: 13,
        name: "sealed_keys",
        sqlite: include_str!("../migrations/sqlite/0013_sealed_keys.sql"),
        postgres: include_str!("../migrations/postgres/0013_sealed_keys.sql"),
    },
    Migration {
        version: 14,
        name: "webhook_token_overlap",
        sqlite: include_str!("../migrations/sqlite/0014_webhook_token_overlap.sql"),
        postgres: include_str!("../migrations/postgres/0014_webhook_token_overlap.sql"),
    },
];

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Splits a migration file into statements: comment lines go first (they may contain `;`), then
/// the text is cut at `;` (no statement in our files has a `;` inside a literal).
fn statements(sql: &str) -> Vec<String> {
    let code: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    code.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Applies every migration newer than the database's version; returns how many ran.
pub(crate) fn run(conn: &mut dyn Conn, now_ms: i64) -> Result<usize, StoreError> {
    conn.execute(
        "create table if not exists schema_migration (version bigint primary key, name text not null, applied bigint not null)",
        &[],
    )?;
    let applied: Vec<i64> = conn
        .query("select version from schema_migration order by version", &[])?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<_, _>>()?;
    if let Some(unknown) = applied
        .iter()
        .find(|v| !MIGRATIONS.iter().any(|m| m.version == **v))
    {
        return Err(StoreError::Unavailable(format!(
            "the database has schema version {unknown}, which this build does not know (its newest is {}); upgrade Gatehouse",
            latest_version()
        )));
    }
    let mut ran = 0;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let sql = match conn.dialect() {
            Dialect::Sqlite => m.sqlite,
            Dialect::Postgres => m.postgres,
        };
        for stmt in statements(sql) {
            conn.execute(&stmt, &[])?;
        }
        conn.execute(
            "insert into schema_migration (version, name, applied) values ($1, $2, $3)",
            &[m.version.into(), m.name.into(), now_ms.into()],
        )?;
        tracing::info!(
            migration.version = m.version,
            migration.name = m.name,
            "applied migration {}",
            m.name
        );
        ran += 1;
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_skip_comments_and_blanks() {
        let got =
            statements("-- a; b\ncreate table a (x int);\n\n-- b\ncreate index i on a (x);\n");
        assert_eq!(
            got,
            vec!["create table a (x int)", "create index i on a (x)"]
        );
    }

    #[test]
    fn versions_increase() {
        for w in MIGRATIONS.windows(2) {
            assert!(
                w[0].version < w[1].version,
                "{} then {}",
                w[0].name,
                w[1].name
            );
        }
    }

    #[test]
    fn backends_have_the_same_tables() {
        for m in MIGRATIONS {
            let tables = |s: &str| -> Vec<String> {
                s.lines()
                    .filter(|l| l.starts_with("create "))
                    .map(|l| l.split('(').next().unwrap_or("").trim().to_owned())
                    .collect()
            };
            assert_eq!(tables(m.sqlite), tables(m.postgres), "migration {}", m.name);
        }
    }
}
