//! Gridwalk's storage: the one crate that holds SQL or names a database engine.
//! Features call it with plain row types; it runs each query on the embedded
//! SQLite file or on PostgreSQL, chosen at run time from `database_url`.
//!
//! Organised by table group; each module adds its methods to `Store` (pool
//! queries) or `Tx` (inside a write transaction). SQL is written once, in the
//! portable subset both engines share: `$n` placeholders, text UUIDv7 ids,
//! epoch-ms BIGINT times, `ON CONFLICT`, real booleans (`TRUE`/`NOT x`), lists
//! bound as one parameter with `= ANY($n)` (see `engine::sql_for`), integer
//! results `CAST(… AS BIGINT)` where PostgreSQL would infer int4 or numeric.
//! Where the engines truly differ the code says so and why.

pub mod activities;
pub mod audit;
pub mod backup;
pub mod bulk;
pub mod coverage;
pub mod demo;
mod engine;
pub mod households;
mod ids;
pub mod import;
pub mod limits;
pub mod notices;
pub mod ops;
pub mod party;
pub mod party_service;
pub mod photos;
pub mod policies;
pub mod pull;
pub mod requests;
pub mod residents;
pub mod scope;
pub mod serving;
pub mod sessions;
pub mod staff;
pub mod territory;
pub mod visits;

pub use engine::{Engine, Options, Store, Tx, sqlite_file};
pub use ids::Ids;

/// Every storage call fails with sqlx's error; callers log it and answer with
/// a generic message, never the SQL.
pub type Error = sqlx::Error;
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A new record id: UUIDv7 text, as the phones make them.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether an error says "busy, try again": SQLite's lock still held by
/// another writer after `busy_timeout` (SQLITE_BUSY, SQLITE_LOCKED and their
/// extended codes), PostgreSQL's lock wait, deadlock or serialization
/// failure, or no pooled connection free in time. The transaction was rolled
/// back, so the same request may simply be sent again.
pub fn is_busy(err: &Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(e) => {
            let code = e.code().unwrap_or_default();
            if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // Extended codes keep the primary code in the low byte.
                code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
            } else {
                matches!(&*code, "55P03" | "40P01" | "40001")
            }
        }
        _ => false,
    }
}

/// Whether an error is a unique-constraint violation (on either engine), for
/// callers that turn it into a field error.
pub fn is_unique_violation(err: &Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}
