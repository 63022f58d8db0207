//! The inventory: `mrhost sync` takes every source over the whole plan into a destination
//! (SQLite, PostgreSQL, Parquet) in one run and keeps its history; `mrhost diff` and
//! `mrhost query --from` read it back.
//!
//! - [`schema`]: tables, typed columns, ids, content hashes, tags, references.
//! - [`buffer`]: one unit's resources between fetch and commit (memory, then a file).
//! - [`store`]: destinations and what each does; [`sqlite`], [`postgres`], [`parquet`].
//! - [`sync`]: one plan, one scheduler, one writer; [`dispatch`]: the order units start in
//!   (slowest region first).
//! - [`diff`]: what changed between two syncs, field by field.

pub mod buffer;
mod checkpoint;
pub mod diff;
pub mod dispatch;
pub mod parquet;
mod pg_tls;
pub mod postgres;
pub mod progress;
pub mod schema;
pub mod sqlite;
pub mod store;
pub mod sync;

pub use store::{Destination, Store};

/// What a store was doing, for its error: text given as it stands, or a closure that makes
/// it, called only when there is an error (the writer's per-row calls must not format a
/// message each time: that was 1.7 % of a 1,000-account sync's CPU).
pub(crate) trait What {
    fn text(self) -> String;
}

impl What for &str {
    fn text(self) -> String {
        self.to_string()
    }
}

impl<F: FnOnce() -> String> What for F {
    fn text(self) -> String {
        self()
    }
}

/// What can go wrong reading or writing an inventory.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The destination cannot be opened or written.
    #[error("inventory {0}")]
    Destination(String),
    /// A table in the destination that mrhost did not create.
    #[error("{0}")]
    Foreign(String),
    /// A request that does not fit the stored inventory (unknown sync, bad time).
    #[error("{0}")]
    Invalid(String),
    /// SQL given by the user failed.
    #[error("{0}")]
    Query(String),
    #[error("{what}: {source}")]
    Sqlite {
        what: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{what}: {source}")]
    Postgres {
        what: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("{what}: {source}")]
    Parquet {
        what: String,
        #[source]
        source: ::parquet::errors::ParquetError,
    },
    #[error("{what}: {source}")]
    Arrow {
        what: String,
        #[source]
        source: arrow_schema::ArrowError,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}
