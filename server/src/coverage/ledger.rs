//! Ledgers as files a spreadsheet opens: one table, written as CSV (with a
//! byte-order mark, so Excel reads the Chinese right) or as XLSX (rows stream
//! to a temporary file, so 100,000 visits take little memory; times are real
//! date-times and counts real numbers, so they sort and sum).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use app::error::ApiError;

/// One cell of a ledger row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
    /// Epoch milliseconds, shown in Beijing time.
    Time(i64),
    Empty,
}

pub struct Table {
    /// The sheet's name, and the file's.
    pub title: &'static str,
    pub headers: &'static [&'static str],
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Csv,
    Xlsx,
}

const BEIJING_OFFSET_SECS: i64 = 8 * 3600;

fn time_text(at: i64) -> String {
    format!("{} {}", crate::html::date(at), app::outbox::time_of_day(at))
}

/// Text a worker typed, as a spreadsheet cell that stays text: a leading `=`,
/// `+`, `-` or `@` would otherwise make Excel run it as a formula.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn csv(table: &Table) -> Result<Vec<u8>, ApiError> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let failed = |_| ApiError::Internal;
    out.write_record(table.headers).map_err(failed)?;
    for row in &table.rows {
        out.write_record(row.iter().map(|cell| match cell {
            Cell::Text(text) => inert(text),
            Cell::Number(n) => n.to_string(),
            Cell::Time(at) => time_text(*at),
            Cell::Empty => String::new(),
        }))
        .map_err(failed)?;
    }
    out.into_inner().map_err(|_| ApiError::Internal)
}

fn xlsx(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name(table.title)?;
    for (col, header) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *header, &bold)?;
        sheet.set_column_width(col as u16, if col == 0 { 17 } else { 12 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (i, row) in table.rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (col, cell) in row.iter().enumerate() {
            let col = col as u16;
            match cell {
                Cell::Text(text) => sheet.write_string(r, col, text)?,
                Cell::Number(n) => sheet.write_number(r, col, *n as f64)?,
                Cell::Time(at) => {
                    let local = ExcelDateTime::from_timestamp(at.div_euclid(1000) + BEIJING_OFFSET_SECS)?;
                    sheet.write_datetime_with_format(r, col, &local, &time)?
                }
                Cell::Empty => sheet,
            };
        }
    }
    workbook.save_to_buffer()
}

/// The table as a download named `{file}.csv` or `{file}.xlsx`.
pub fn download(table: &Table, format: FileType, file: &str) -> Result<Response, ApiError> {
    let (bytes, content_type, extension) = match format {
        FileType::Csv => (csv(table)?, "text/csv; charset=utf-8", "csv"),
        FileType::Xlsx => (
            xlsx(table).map_err(|e| {
                tracing::error!(error = %e, "xlsx");
                ApiError::Internal
            })?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let disposition = format!("attachment; filename=\"{file}.{extension}\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|_| ApiError::Internal)?,
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            title: "走访台账",
            headers: &["走访时间", "门牌", "次数", "备注"],
            rows: vec![vec![
                Cell::Time(1_764_050_100_000),
                Cell::Text("601".into()),
                Cell::Number(3),
                Cell::Text("含逗号, 和\"引号\"".into()),
            ]],
        }
    }

    #[test]
    fn csv_has_a_bom_and_quotes_what_needs_it() {
        let bytes = csv(&table()).unwrap();
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
        assert_eq!(
            text,
            "走访时间,门牌,次数,备注\n2025-11-25 13:55,601,3,\"含逗号, 和\"\"引号\"\"\"\n"
        );
    }

    #[test]
    fn typed_formulas_stay_text_in_csv() {
        assert_eq!(inert("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(inert("-1+1"), "'-1+1");
        assert_eq!(inert("502"), "502");
    }

    #[test]
    fn xlsx_is_a_zip_with_the_sheet_named() {
        let bytes = xlsx(&table()).unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
