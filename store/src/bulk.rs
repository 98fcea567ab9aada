//! Rows written in bulk: multi-row `INSERT`s inside one transaction, for the
//! demo and benchmark generator and for spreadsheet imports, whose thousands
//! of buildings, households and residents would otherwise take a statement
//! each.

use crate::engine::{MAX_BINDS, insert_values_sql, on_tx};
use crate::{Result, Tx};

/// A value bound into a bulk insert.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Text(&'a str),
    OptionalText(Option<&'a str>),
    Int(i64),
    OptionalInt(Option<i64>),
    Bool(bool),
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(value: &'a String) -> Self {
        Value::Text(value)
    }
}

impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(value: &'a Option<String>) -> Self {
        Value::OptionalText(value.as_deref())
    }
}

impl From<&Option<i64>> for Value<'_> {
    fn from(value: &Option<i64>) -> Self {
        Value::OptionalInt(*value)
    }
}

impl From<&i64> for Value<'_> {
    fn from(value: &i64) -> Self {
        Value::Int(*value)
    }
}

impl From<&bool> for Value<'_> {
    fn from(value: &bool) -> Self {
        Value::Bool(*value)
    }
}

/// A row of one table, written by `Tx::insert_bulk`.
pub trait BulkRow {
    const TABLE: &'static str;
    const COLUMNS: &'static [&'static str];
    /// The row's values, in `COLUMNS` order.
    fn values(&self) -> Vec<Value<'_>>;
}

/// Declares row structs whose field names are their table's column names, so
/// the two cannot drift apart. Columns left out take their defaults.
macro_rules! bulk_rows {
    ($($(#[$meta:meta])* $name:ident => $table:literal { $($field:ident: $ty:ty),* $(,)? })*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $(pub $field: $ty),*
        }

        impl BulkRow for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            fn values(&self) -> Vec<Value<'_>> {
                vec![$(Value::from(&self.$field)),*]
            }
        }
    )*};
}

bulk_rows! {
    StreetRow => "streets" { id: String, name: String }
    CommunityRow => "communities" { id: String, street_id: String, name: String }
    GridRow => "grids" { id: String, community_id: String, name: String }
    UserRow => "users" {
        id: String,
        username: String,
        display_name: String,
        role: String,
        community_id: Option<String>,
        password_hash: String,
        created_at: i64,
    }
    UserGridRow => "user_grids" { user_id: String, grid_id: String }
    BuildingRow => "buildings" {
        id: String,
        grid_id: String,
        number: i64,
        name: String,
        address: String,
        units: i64,
        floors: i64,
        doors_per_floor: i64,
        footprint: String,
    }
    HouseholdRow => "households" {
        id: String,
        building_id: String,
        unit: i64,
        floor: i64,
        door_number: String,
        created_at: i64,
        updated_at: i64,
    }
    /// A resident living there (`moved_out` takes its default, false).
    ResidentRow => "residents" {
        id: String,
        household_id: String,
        name: String,
        gender: String,
        birth_date: String,
        id_number: Option<String>,
        phone: Option<String>,
        registration_type: String,
        created_at: i64,
        updated_at: i64,
    }
    ResidentTagRow => "resident_tags" { resident_id: String, tag: String }
    VisitRow => "visits" {
        id: String,
        household_id: String,
        worker_id: String,
        visited_at: i64,
        visit_type: String,
        outcome: String,
        notes: String,
        created_at: i64,
    }
    /// A request somewhere on its road (the codes and `submitter_key`
    /// take their defaults, none).
    RequestRow => "requests" {
        id: String,
        source: String,
        community_id: String,
        grid_id: Option<String>,
        household_id: Option<String>,
        place: String,
        category: String,
        text: String,
        status: String,
        first_contact: Option<String>,
        created_by: Option<String>,
        created_at: i64,
        respond_due: i64,
        resolve_due: i64,
        responded_at: Option<i64>,
        assignee_id: Option<String>,
        assignee_unit: Option<String>,
        resolved_at: Option<i64>,
        resolution: Option<String>,
        followed_up_at: Option<i64>,
        closed_at: Option<i64>,
        satisfaction: Option<String>,
        reopen_count: i64,
        merged_into: Option<String>,
        decline_reason: Option<String>,
        updated_at: i64,
    }
    RequestEventRow => "request_events" {
        id: String,
        request_id: String,
        at: i64,
        user_id: Option<String>,
        action: String,
        from_status: Option<String>,
        to_status: String,
        note: String,
    }
    /// A notice as its author left it (`status`: `draft`, `published` or
    /// `withdrawn`; see `notices::NoticeRow` for reading one back).
    NoticeRow => "notices" {
        id: String,
        community_id: String,
        category: String,
        title: String,
        body: String,
        status: String,
        pinned: bool,
        published_at: Option<i64>,
        created_by: String,
        created_at: i64,
        updated_at: i64,
    }
    /// One line of a notice's history: the text as it stood at that step.
    NoticeRevisionRow => "notice_revisions" {
        id: String,
        notice_id: String,
        action: String,
        title: String,
        body: String,
        category: String,
        user_id: String,
        at: i64,
    }
    /// A file listed on a notice, already stored under its hash.
    NoticeAttachmentRow => "notice_attachments" {
        notice_id: String,
        hash: String,
        kind: String,
        name: String,
        bytes: i64,
        added_by: String,
        added_at: i64,
    }
}

impl Tx {
    /// Inserts the rows with as few statements as the bind limit allows.
    pub async fn insert_bulk<R: BulkRow>(&mut self, rows: &[R]) -> Result<()> {
        for chunk in rows.chunks(MAX_BINDS / R::COLUMNS.len()) {
            let sql = insert_values_sql(self.engine(), R::TABLE, R::COLUMNS, chunk.len());
            let values: Vec<Value<'_>> = chunk.iter().flat_map(BulkRow::values).collect();
            on_tx!(self, |c| {
                // Not kept as a prepared statement: each text is used about once.
                let mut query = sqlx::query(&sql).persistent(false);
                for value in &values {
                    query = match *value {
                        Value::Text(v) => query.bind(v),
                        Value::OptionalText(v) => query.bind(v),
                        Value::Int(v) => query.bind(v),
                        Value::OptionalInt(v) => query.bind(v),
                        Value::Bool(v) => query.bind(v),
                    };
                }
                query.execute(&mut *c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_columns() {
        let row = UserGridRow {
            user_id: "u".into(),
            grid_id: "g".into(),
        };
        assert!(matches!(row.values()[..], [Value::Text("u"), Value::Text("g")]));
    }
}
