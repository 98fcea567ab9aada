//! Spreadsheet import, the reading half: a street office's ledger (台账) — its
//! territory, residents, staff or in-service party members, kept in Excel — becomes a [`Table`] of cells
//! under known [`Field`]s, nothing written yet.
//!
//! Pure on purpose: the upload handler reads the file, shows the person how
//! their column headers were understood ([`Table::columns`]), checks every row
//! with the normalisers in [`cells`] and only then writes, in one transaction.
//! What it refuses goes back as an XLSX they can fix and upload again
//! ([`template::error_report`]).
//!
//! - [`sheet`]: bytes (XLSX or CSV) to a [`Table`], with the limits that keep a
//!   hostile or mistaken upload cheap to refuse.
//! - [`fields`]: each kind's columns, and the many ways people head them.
//! - [`cells`]: one cell to one domain value, or a reason a person can act on.
//! - [`template`]: blank templates to fill in, and the error report.

pub mod apply;
pub mod cells;
pub mod fields;
pub mod footprints;
pub mod layout;
pub mod page;
pub mod plan;
pub mod sheet;
pub mod template;

pub use fields::Field;
pub use sheet::{ReadError, read};

/// What a file holds: one ledger per upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// One row per household; a row without a door number declares a building.
    Territory,
    Residents,
    Staff,
    /// In-service party members registered from their employers (双报到).
    Party,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Territory, Kind::Residents, Kind::Staff, Kind::Party];

    /// The form used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Territory => "territory",
            Kind::Residents => "residents",
            Kind::Staff => "staff",
            Kind::Party => "party",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Territory => "房屋/楼栋台账",
            Kind::Residents => "居民台账",
            Kind::Staff => "工作人员",
            Kind::Party => "在职党员名册",
        }
    }
}

/// One cell as the spreadsheet held it. Kept as read (a number stays a number)
/// so a normaliser can tell "Excel turned this ID number into 1.10105E+17"
/// from a typed text, and the error report can give the row back unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A date-formatted cell, as an Excel serial day in the 1900 system
    /// (1 = 1900-01-01; files in the 1904 system are shifted when read).
    Date(f64),
    Bool(bool),
    /// An error value such as `#N/A` or `#REF!`: a formula that broke.
    Error(String),
}

impl Cell {
    /// Empty, or only spaces: nothing a person wrote.
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(text) => text.chars().all(|c| c.is_whitespace()),
            _ => false,
        }
    }
}

/// A column as found in the header: what the person wrote and how it was
/// understood. `field` is `None` for columns no field claims (listed, ignored).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// 0-based column of the sheet (A = 0).
    pub index: u32,
    /// The header as written (the lower row's text in a two-row header, or the
    /// row above where the lower one says nothing).
    pub header: String,
    pub field: Option<Field>,
}

/// A data row: `cells[i]` is under `Table::columns[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based, as the spreadsheet numbers it, so a person can find the row.
    pub number: u32,
    pub cells: Vec<Cell>,
}

/// A sheet read and understood, before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub kind: Kind,
    /// The sheet the rows came from (a CSV file has one, named "CSV").
    pub sheet: String,
    /// 1-based; the lower row of a two-row header.
    pub header_row: u32,
    pub columns: Vec<Column>,
    /// Non-empty rows below the header, in sheet order.
    pub rows: Vec<Row>,
}

static EMPTY: Cell = Cell::Empty;

impl Table {
    /// The column a field was found in.
    pub fn column(&self, field: Field) -> Option<&Column> {
        self.columns.iter().find(|column| column.field == Some(field))
    }

    /// A row's cell under a field; `Cell::Empty` when the file has no such column.
    pub fn cell<'a>(&'a self, row: &'a Row, field: Field) -> &'a Cell {
        self.columns
            .iter()
            .position(|column| column.field == Some(field))
            .and_then(|i| row.cells.get(i))
            .unwrap_or(&EMPTY)
    }

    /// Columns no field claims: shown so that a misspelt header is noticed
    /// before the import, not after.
    pub fn ignored(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|column| column.field.is_none())
    }
}
