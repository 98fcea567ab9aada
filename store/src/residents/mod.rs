//! Residents (`residents`, `resident_tags`, `resident_field_clock`,
//! `resident_history`): what the pages read, and the write rules' queries.

mod read;
mod write;

pub(crate) use read::resident_columns;
pub use read::{ConflictRow, ResidentRow};
pub use write::{Column, FieldClock, HistoryEntry, NewResident, PhotoSet, ResidentState};
