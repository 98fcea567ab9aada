//! Ledgers as files a spreadsheet opens: one table, written as CSV (with a
//! byte-order mark, so Excel reads the Chinese right) or as XLSX (rows stream
//! to a temporary file, so 100,000 visits take little memory; times are real
//! date-times and counts real numbers, so they sort and sum).
//!
//! A small table is built whole and sent (`download`); a long one (every
//! visit of a year) comes a page at a time and leaves as it is written
//! (`stream_download`), so the server's memory does not grow with its rows.

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use tokio::sync::mpsc;

use app::error::ApiError;

/// One cell of a ledger row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
    /// Epoch milliseconds, shown in Beijing time.
    Time(i64),
    /// Minutes, shown as hours to the tenth (`1.5`).
    Hours(i64),
    Empty,
}

pub struct Table {
    /// The sheet's name, and the file's.
    pub title: String,
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

/// Minutes as hours to the tenth: `90` is `1.5`.
fn hours_text(minutes: i64) -> String {
    let tenths = (minutes * 10 + 30).div_euclid(60);
    format!("{}.{}", tenths.div_euclid(10), tenths.rem_euclid(10))
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

/// A cell as a page shows it (the page escapes it; no formula can run).
fn shown_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => text.clone(),
        other => csv_text(other),
    }
}

/// A table as a page shows it: its title, headers and rows.
pub fn table_view(table: &Table) -> leptos::prelude::AnyView {
    use leptos::prelude::*;
    view! {
        <h3>{table.title.clone()}</h3>
        <table>
            <thead><tr>{table.headers.iter().map(|h| view! { <th>{*h}</th> }).collect_view()}</tr></thead>
            <tbody>
                {table.rows.iter().map(|row| view! {
                    <tr>{row.iter().map(|cell| view! { <td>{shown_text(cell)}</td> }).collect_view()}</tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// A cell as CSV text.
fn csv_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => inert(text),
        Cell::Number(n) => n.to_string(),
        Cell::Time(at) => time_text(*at),
        Cell::Hours(minutes) => hours_text(*minutes),
        Cell::Empty => String::new(),
    }
}

fn csv_failed(e: csv::Error) -> ApiError {
    tracing::error!(error = %e, "csv");
    ApiError::Internal
}

/// A CSV writer that has written the byte-order mark and the headers.
fn csv_writer<W: Write>(mut out: W, headers: &[&str]) -> Result<csv::Writer<W>, ApiError> {
    out.write_all(b"\xEF\xBB\xBF").map_err(|e| csv_failed(e.into()))?;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(headers).map_err(csv_failed)?;
    Ok(writer)
}

fn csv_rows<W: Write>(writer: &mut csv::Writer<W>, rows: &[Vec<Cell>]) -> Result<(), ApiError> {
    for row in rows {
        writer.write_record(row.iter().map(csv_text)).map_err(csv_failed)?;
    }
    Ok(())
}

fn csv(table: &Table) -> Result<Vec<u8>, ApiError> {
    let mut out = csv_writer(Vec::new(), table.headers)?;
    csv_rows(&mut out, &table.rows)?;
    out.into_inner().map_err(|_| ApiError::Internal)
}

/// A workbook of one sheet in constant-memory mode (rows go to a temporary
/// file as they are written), its header row written.
struct Sheet {
    workbook: Workbook,
    formats: Formats,
    /// The next row to write.
    row: u32,
}

/// How times and hours look in a sheet.
struct Formats {
    time: Format,
    hours: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
            hours: Format::new().set_num_format("0.0"),
        }
    }
}

/// Names the sheet and writes its bold, frozen header row.
fn headed(sheet: &mut Worksheet, title: &str, headers: &[&str]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    sheet.set_name(title)?;
    for (col, header) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *header, &bold)?;
        sheet.set_column_width(col as u16, if col == 0 { 17 } else { 12 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Writes `rows` from row `first` on.
fn write_cells(sheet: &mut Worksheet, formats: &Formats, first: u32, rows: &[Vec<Cell>]) -> Result<(), XlsxError> {
    for (r, row) in (first..).zip(rows) {
        for (col, cell) in row.iter().enumerate() {
            let col = col as u16;
            match cell {
                Cell::Text(text) => sheet.write_string(r, col, text)?,
                Cell::Number(n) => sheet.write_number(r, col, *n as f64)?,
                Cell::Time(at) => {
                    let local = ExcelDateTime::from_timestamp(at.div_euclid(1000) + BEIJING_OFFSET_SECS)?;
                    sheet.write_datetime_with_format(r, col, &local, &formats.time)?
                }
                Cell::Hours(minutes) => {
                    sheet.write_number_with_format(r, col, *minutes as f64 / 60.0, &formats.hours)?
                }
                Cell::Empty => sheet,
            };
        }
    }
    Ok(())
}

impl Sheet {
    fn new(title: &str, headers: &[&str]) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        headed(workbook.add_worksheet_with_constant_memory()?, title, headers)?;
        Ok(Sheet {
            workbook,
            formats: Formats::new(),
            row: 1,
        })
    }

    fn write_rows(&mut self, rows: &[Vec<Cell>]) -> Result<(), XlsxError> {
        write_cells(self.workbook.worksheet_from_index(0)?, &self.formats, self.row, rows)?;
        self.row += rows.len() as u32;
        Ok(())
    }
}

fn xlsx(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut sheet = Sheet::new(&table.title, table.headers)?;
    sheet.write_rows(&table.rows)?;
    sheet.workbook.save_to_buffer()
}

/// Several tables as the sheets of one workbook, in order (each table's title
/// names its sheet: at most 31 characters, unique, none of `[]:*?/\`).
fn workbook(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let formats = Formats::new();
    for table in tables {
        let sheet = workbook.add_worksheet();
        headed(sheet, &table.title, table.headers)?;
        write_cells(sheet, &formats, 1, &table.rows)?;
    }
    workbook.save_to_buffer()
}

/// The tables as one XLSX file named `{file}.xlsx`, a sheet each.
pub fn workbook_download(tables: &[Table], file: &str) -> Result<Response, ApiError> {
    let bytes = workbook(tables).map_err(xlsx_failed)?;
    file_response(FileType::Xlsx, file, Body::from(bytes))
}

fn xlsx_failed(e: XlsxError) -> ApiError {
    tracing::error!(error = %e, "xlsx");
    ApiError::Internal
}

/// The table as a download named `{file}.csv` or `{file}.xlsx`.
pub fn download(table: &Table, format: FileType, file: &str) -> Result<Response, ApiError> {
    let bytes = match format {
        FileType::Csv => csv(table)?,
        FileType::Xlsx => xlsx(table).map_err(xlsx_failed)?,
    };
    file_response(format, file, Body::from(bytes))
}

impl FileType {
    fn content_type(self) -> &'static str {
        match self {
            FileType::Csv => "text/csv; charset=utf-8",
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            FileType::Csv => "csv",
            FileType::Xlsx => "xlsx",
        }
    }
}

fn file_response(format: FileType, file: &str, body: Body) -> Result<Response, ApiError> {
    let disposition = format!("attachment; filename=\"{file}.{}\"", format.extension());
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|_| ApiError::Internal)?,
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        body,
    )
        .into_response())
}

/// A long table's rows, a page at a time.
pub trait Pages: Send + 'static {
    /// The next rows; none once every row has come.
    fn next(&mut self) -> impl Future<Output = Result<Vec<Vec<Cell>>, ApiError>> + Send;
}

/// Bytes leave in chunks of about this size.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks written ahead of a slow download before the writer waits for it.
const CHUNKS_AHEAD: usize = 4;

/// What the writing thread writes, handed to the response body in chunks. A
/// download that was cancelled closes the channel, and the next write fails,
/// which stops the writing.
struct ChunkWriter {
    chunks: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        self.chunks
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "download cancelled"))
    }
}

/// A long table as a download, written while it is sent: the first page is
/// read before answering (so a failing database is still an error page),
/// the rest as the writing goes on, on a blocking thread. CSV leaves row by
/// row; XLSX, a zip written at the end, leaves as it is compressed, its rows
/// kept meanwhile in the constant-memory sheet's temporary file. Either way
/// the server holds a page of rows and a few chunks, however long the table.
/// A failure once the answer has begun cuts the download short (the browser
/// reports it as failed) and is logged.
pub async fn stream_download(
    title: &'static str,
    headers: &'static [&'static str],
    mut pages: impl Pages,
    format: FileType,
    file: &str,
) -> Result<Response, ApiError> {
    let first = pages.next().await?;
    let (sender, mut receiver) = mpsc::channel::<io::Result<Bytes>>(CHUNKS_AHEAD);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            chunks: sender.clone(),
            buffer: Vec::with_capacity(CHUNK_BYTES),
        };
        let mut next = || runtime.block_on(pages.next());
        let written = match format {
            FileType::Csv => write_csv(&mut out, headers, first, &mut next),
            FileType::Xlsx => write_xlsx(&mut out, title, headers, first, &mut next),
        };
        if let Err(e) = written.and_then(|()| out.flush().map_err(|_| ApiError::Internal)) {
            tracing::warn!(error = %e, title, "ledger download cut short");
            let _ = sender.blocking_send(Err(io::Error::other("the ledger could not be written")));
        }
    });
    let chunks = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    file_response(format, file, Body::from_stream(chunks))
}

type NextPage<'a> = dyn FnMut() -> Result<Vec<Vec<Cell>>, ApiError> + 'a;

fn write_csv(
    out: &mut ChunkWriter,
    headers: &[&str],
    first: Vec<Vec<Cell>>,
    next: &mut NextPage<'_>,
) -> Result<(), ApiError> {
    let mut writer = csv_writer(out, headers)?;
    let mut rows = first;
    while !rows.is_empty() {
        csv_rows(&mut writer, &rows)?;
        // Each page leaves as soon as it is written.
        writer.flush().map_err(|e| csv_failed(e.into()))?;
        rows = next()?;
    }
    writer.flush().map_err(|e| csv_failed(e.into()))
}

fn write_xlsx(
    out: &mut ChunkWriter,
    title: &str,
    headers: &[&str],
    first: Vec<Vec<Cell>>,
    next: &mut NextPage<'_>,
) -> Result<(), ApiError> {
    let mut sheet = Sheet::new(title, headers).map_err(xlsx_failed)?;
    let mut rows = first;
    while !rows.is_empty() {
        sheet.write_rows(&rows).map_err(xlsx_failed)?;
        rows = next()?;
    }
    sheet.workbook.save_to_writer(out).map_err(xlsx_failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            title: "走访台账".into(),
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

    /// Pages handed out one by one.
    struct Fixed(std::collections::VecDeque<Vec<Vec<Cell>>>);

    impl Pages for Fixed {
        async fn next(&mut self) -> Result<Vec<Vec<Cell>>, ApiError> {
            Ok(self.0.pop_front().unwrap_or_default())
        }
    }

    /// Every part of an XLSX file but its creation time.
    fn parts(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut parts = Vec::new();
        for i in 0..zip.len() {
            let mut part = zip.by_index(i).unwrap();
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut part, &mut content).unwrap();
            let name = part.name().unwrap().into_owned();
            if name != "docProps/core.xml" {
                parts.push((name, content));
            }
        }
        parts
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_streamed_ledger_is_the_file_built_whole() {
        let rows: Vec<Vec<Cell>> = (0..2_500)
            .map(|i| {
                vec![
                    Cell::Time(1_764_050_100_000 - i * 60_000),
                    Cell::Text(format!("{}号楼", i % 40)),
                    Cell::Number(i),
                    if i % 7 == 0 {
                        Cell::Empty
                    } else {
                        Cell::Text(format!("备注 {i}, \"引号\" =1+{i}"))
                    },
                ]
            })
            .collect();
        let whole = Table {
            title: "走访台账".into(),
            headers: &["走访时间", "楼栋", "次数", "备注"],
            rows: rows.clone(),
        };
        for format in [FileType::Csv, FileType::Xlsx] {
            let pages = Fixed(rows.chunks(1_000).map(<[_]>::to_vec).collect());
            let response = stream_download("走访台账", whole.headers, pages, format, "ledger")
                .await
                .unwrap();
            assert_eq!(
                response.headers()[header::CONTENT_DISPOSITION],
                format!("attachment; filename=\"ledger.{}\"", format.extension())
            );
            let streamed = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            match format {
                FileType::Csv => assert_eq!(streamed, csv(&whole).unwrap()),
                FileType::Xlsx => assert_eq!(parts(&streamed), parts(&xlsx(&whole).unwrap())),
            }
        }
    }
}
