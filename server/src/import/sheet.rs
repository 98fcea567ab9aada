//! An uploaded file to a [`Table`]: which format it really is (by its bytes,
//! not its name), which sheet and row hold the header, which column is which
//! field, and the data rows below.
//!
//! Everything a person may upload is bounded before it costs memory: the file
//! size, what its zip would unpack to, the cells kept, the rows. An XLSX is
//! read cell by cell (calamine's dense ranges would allocate rows × columns,
//! and one cell at XFD1048576 makes that billions), and formulas count with
//! the values Excel saved for them: nothing is evaluated.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use calamine::{DataRef, Dimensions, Reader, SheetType, SheetVisible, Xlsx, XlsxError};

use super::cells::text;
use super::fields::Field;
use super::{Cell, Column, Kind, Row, Table};

/// The largest upload (the route's body limit must allow it, plus the
/// multipart framing).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// Data rows per file: a big community in one go, and a transaction that
/// still finishes in seconds.
pub const MAX_ROWS: usize = 60_000;

/// Why a file cannot be read. The messages are for the person who uploaded it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("文件超过 20 MB：请删去无关的工作表，或分成几个文件")]
    TooLarge,
    /// A zip bomb, or more cells than any ledger has.
    #[error("文件解压后内容过多，不像是正常的台账：请只保留要导入的工作表")]
    TooMuchContent,
    #[error("这是旧版 .xls 或网页格式的表格：请用 Excel 或 WPS 打开，另存为 .xlsx 后再上传")]
    OldFormat,
    #[error("文件设置了打开密码：请取消密码后再上传")]
    Encrypted,
    #[error("不是 Excel（.xlsx）或 CSV 文件")]
    NotSpreadsheet,
    #[error("文件已损坏，无法读取：请用 Excel 打开后另存为 .xlsx 再上传")]
    Damaged,
    #[error("无法识别文件的文字编码：请在 Excel 中另存为 .xlsx 或“CSV UTF-8”")]
    Encoding,
    #[error("每个文件最多 60,000 行，请分成几个文件")]
    TooManyRows,
    #[error("没有找到表头：第一行应包含 {} 等列（可下载导入模板对照）", required_headers(*.0))]
    NoHeader(Kind),
    #[error("缺少必填列：{}", .0.join("、"))]
    MissingColumns(Vec<&'static str>),
}

fn required_headers(kind: Kind) -> String {
    kind.required().map(Field::header).collect::<Vec<_>>().join("、")
}

/// What one upload may cost; smaller in tests.
#[derive(Debug, Clone, Copy)]
struct Limits {
    file_bytes: usize,
    /// The zip's entries unpacked, all together.
    unpacked_bytes: u64,
    /// Entries at least this large must not be packed more than `ratio` to 1:
    /// real sheets pack 5–20 to 1, a bomb of zeros 1000 to 1.
    large_entry: u64,
    ratio: u64,
    rows: usize,
    cells: usize,
    text_bytes: usize,
}

const LIMITS: Limits = Limits {
    file_bytes: MAX_FILE_BYTES,
    unpacked_bytes: 200 * 1024 * 1024,
    large_entry: 10 * 1024 * 1024,
    ratio: 100,
    rows: MAX_ROWS,
    // 60,000 rows of 40 columns.
    cells: 2_400_000,
    text_bytes: 64 * 1024 * 1024,
};

/// The header is looked for in the sheet's first rows (titles come above it).
const HEADER_ROWS: u32 = 10;

/// Columns beyond this are ignored: no ledger is this wide.
const MAX_COLUMNS: u32 = 200;

/// Reads an uploaded XLSX or CSV file as a ledger of `kind`: the first visible
/// sheet whose header names the kind's fields. `file_name` names a CSV's table.
pub fn read(bytes: &[u8], file_name: &str, kind: Kind) -> Result<Table, ReadError> {
    read_within(bytes, file_name, kind, &LIMITS)
}

fn read_within(bytes: &[u8], file_name: &str, kind: Kind, limits: &Limits) -> Result<Table, ReadError> {
    if bytes.len() > limits.file_bytes {
        return Err(ReadError::TooLarge);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes, kind, limits);
    }
    // An OLE compound file: an .xls (or WPS .et), or an XLSX with a password,
    // which Office stores encrypted inside such a file.
    if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        let encryption_info: Vec<u8> = "EncryptionInfo".encode_utf16().flat_map(u16::to_le_bytes).collect();
        if bytes.windows(encryption_info.len()).any(|w| w == encryption_info) {
            return Err(ReadError::Encrypted);
        }
        return Err(ReadError::OldFormat);
    }
    if !looks_like_text(bytes) {
        return Err(ReadError::NotSpreadsheet);
    }
    let text = decode(bytes)?;
    // Many systems "export to Excel" as an HTML or XML table named .xls.
    if text.trim_start().starts_with('<') {
        return Err(ReadError::OldFormat);
    }
    read_csv(&text, file_name, kind, limits)
}

/// No control characters but white space: CSV in any encoding we read
/// (UTF-8, GB18030) passes, images and other binaries do not.
fn looks_like_text(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| *b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | b'\x0B' | b'\x0C'))
}

/// UTF-8 (with or without a byte-order mark) or else GB18030, a superset of
/// the GBK that Chinese Excel writes a plain "CSV" in.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors { Err(ReadError::Encoding) } else { Ok(text) }
}

fn read_csv(text: &str, file_name: &str, kind: Kind, limits: &Limits) -> Result<Table, ReadError> {
    // Excel saves "Text (tab delimited)" too; a header line tells which.
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.matches('\t').count() > first_line.matches(',').count() {
        b'\t'
    } else {
        b','
    };
    let mut records = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut grid = Grid::default();
    'rows: for (row, record) in records.records().enumerate() {
        let record = record.map_err(|_| ReadError::Damaged)?;
        for (col, field) in record.iter().enumerate() {
            // ="0123" is how some systems keep an ID number text in a CSV.
            let field = field
                .strip_prefix("=\"")
                .and_then(|f| f.strip_suffix('"'))
                .unwrap_or(field);
            if !grid.put(row as u32, col as u32, Cell::Text(field.to_owned()), limits)? {
                break 'rows;
            }
        }
    }
    let sheet = if file_name.is_empty() { "CSV" } else { file_name };
    grid.table(kind, sheet, limits)
}

/// Refuses a zip that would unpack to far more than any ledger, from its
/// central directory alone: the zip crate then stops any entry that unpacks
/// beyond its declared size, so the declared sizes are the real bound.
fn check_zip(bytes: &[u8], limits: &Limits) -> Result<(), ReadError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ReadError::Damaged)?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|_| ReadError::Damaged)?;
        let size = entry.size();
        total = total.saturating_add(size);
        let absurd = size >= limits.large_entry && size / entry.compressed_size().max(1) > limits.ratio;
        if total > limits.unpacked_bytes || absurd {
            return Err(ReadError::TooMuchContent);
        }
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8], kind: Kind, limits: &Limits) -> Result<Table, ReadError> {
    check_zip(bytes, limits)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| match e {
        XlsxError::Password => ReadError::Encrypted,
        _ => ReadError::Damaged,
    })?;
    // Days from 1900-01-01 to 1904-01-01 in Excel's count: a Mac's old files.
    let shift = if book.has_1904_epoch() { 1462.0 } else { 0.0 };
    let sheets: Vec<String> = book
        .sheets_metadata()
        .iter()
        .filter(|s| s.visible == SheetVisible::Visible && s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect();
    let mut missing = None;
    for name in sheets {
        let mut grid = Grid::default();
        let mut cells = book.worksheet_cells_reader(&name).map_err(|_| ReadError::Damaged)?;
        while let Some(cell) = cells.next_cell().map_err(|_| ReadError::Damaged)? {
            let (row, col) = cell.get_position();
            if !grid.put(row, col, convert(cell.get_value(), shift), limits)? {
                break;
            }
        }
        drop(cells);
        let merged = book.merge_cells_by_sheet_name(&name).map_err(|_| ReadError::Damaged)?;
        grid.fill_merged(&merged, limits)?;
        match grid.table(kind, &name, limits) {
            Err(ReadError::NoHeader(_)) => {}
            Err(e @ ReadError::MissingColumns(_)) => {
                missing.get_or_insert(e);
            }
            found => return found,
        }
    }
    Err(missing.unwrap_or(ReadError::NoHeader(kind)))
}

fn convert(value: &DataRef<'_>, shift: f64) -> Cell {
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::Int(n) => Cell::Number(*n as f64),
        DataRef::Float(n) => Cell::Number(*n),
        DataRef::String(text) | DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => Cell::Text(text.clone()),
        DataRef::SharedString(text) => Cell::Text((*text).to_owned()),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(at) if at.is_datetime() => Cell::Date(at.as_f64() + shift),
        DataRef::DateTime(duration) => Cell::Number(duration.as_f64()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

/// A header as the person wrote it (only trimmed), to show them back.
fn written(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => text.trim().to_owned(),
        cell => text(cell),
    }
}

/// A sheet's non-empty cells by 0-based row, each row's by column.
#[derive(Debug, Default)]
struct Grid {
    rows: BTreeMap<u32, Vec<(u32, Cell)>>,
    /// The sheet has more rows than a file may: reading stopped.
    truncated: bool,
    cells: usize,
    text_bytes: usize,
}

impl Grid {
    /// Keeps a non-empty cell; `false` once the sheet has more rows than any
    /// allowed file (titles and header included), so reading can stop.
    fn put(&mut self, row: u32, col: u32, cell: Cell, limits: &Limits) -> Result<bool, ReadError> {
        if cell.is_empty() || col >= MAX_COLUMNS {
            return Ok(true);
        }
        if !self.rows.contains_key(&row) && self.rows.len() >= limits.rows + HEADER_ROWS as usize {
            self.truncated = true;
            return Ok(false);
        }
        self.cells += 1;
        if let Cell::Text(text) | Cell::Error(text) = &cell {
            self.text_bytes += text.len();
        }
        if self.cells > limits.cells || self.text_bytes > limits.text_bytes {
            return Err(ReadError::TooMuchContent);
        }
        let cells = self.rows.entry(row).or_default();
        match cells.binary_search_by_key(&col, |(c, _)| *c) {
            Ok(i) => cells[i].1 = cell,
            Err(i) => cells.insert(i, (col, cell)),
        }
        Ok(true)
    }

    fn get(&self, row: u32, col: u32) -> Option<&Cell> {
        let cells = self.rows.get(&row)?;
        cells.binary_search_by_key(&col, |(c, _)| *c).ok().map(|i| &cells[i].1)
    }

    /// A merged cell's value belongs to every cell it covers: a group title
    /// over its sub-headers, a 楼栋 merged down over its households. Only
    /// rows with content of their own receive it, so merging adds no rows.
    fn fill_merged(&mut self, regions: &[Dimensions], limits: &Limits) -> Result<(), ReadError> {
        // Bounds the work of many overlapping regions, not only the cells kept.
        let mut work = 0usize;
        for region in regions {
            let (top, left) = region.start;
            let Some(value) = self.get(top, left).cloned() else {
                continue;
            };
            let rows: Vec<u32> = self.rows.range(top..=region.end.0).map(|(row, _)| *row).collect();
            for row in rows {
                for col in left..=region.end.1.min(MAX_COLUMNS - 1) {
                    work += 1;
                    if work > limits.cells {
                        return Err(ReadError::TooMuchContent);
                    }
                    if self.get(row, col).is_none() {
                        self.put(row, col, value.clone(), limits)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The header among the first rows that names the most fields, at least
    /// two of them required: a title row above it names none, and a data row
    /// names none either.
    fn header(&self, kind: Kind) -> Option<(u32, Vec<Column>)> {
        let needed = kind.required().count().min(2);
        let mut best: Option<(usize, u32, Vec<Column>)> = None;
        for &row in self.rows.range(..HEADER_ROWS).map(|(row, _)| row) {
            let columns = self.header_columns(kind, row);
            let found = columns.iter().filter(|c| c.field.is_some()).count();
            let required = kind
                .required()
                .filter(|f| columns.iter().any(|c| c.field == Some(*f)))
                .count();
            if required >= needed && best.as_ref().is_none_or(|(most, ..)| found > *most) {
                best = Some((found, row, columns));
            }
        }
        best.map(|(_, row, columns)| (row, columns))
    }

    /// The columns if `row` is the header. A two-row header ("住址" merged over
    /// 楼栋, 单元, 门牌号) is read through its lower row; where that names no
    /// field, the row above may (a 姓名 not merged down).
    fn header_columns(&self, kind: Kind, row: u32) -> Vec<Column> {
        let above = row.checked_sub(1);
        let indexes: BTreeSet<u32> = [Some(row), above]
            .into_iter()
            .flatten()
            .filter_map(|r| self.rows.get(&r))
            .flat_map(|cells| cells.iter().map(|(col, _)| *col))
            .collect();
        let mut columns: Vec<Column> = Vec::new();
        for index in indexes {
            let lower = self.get(row, index).map(written).unwrap_or_default();
            let upper = above.and_then(|r| self.get(r, index)).map(written).unwrap_or_default();
            let (header, field) = match (kind.field_for(&lower), kind.field_for(&upper)) {
                (Some(field), _) => (lower, Some(field)),
                (None, Some(field)) => (upper, Some(field)),
                (None, None) => (lower, None),
            };
            if header.is_empty() {
                continue;
            }
            // Two columns for one field (联系电话 and 手机): the first counts,
            // the other is listed as ignored.
            let field = field.filter(|f| !columns.iter().any(|c| c.field == Some(*f)));
            columns.push(Column { index, header, field });
        }
        columns
    }

    fn table(&self, kind: Kind, sheet: &str, limits: &Limits) -> Result<Table, ReadError> {
        let (header_row, columns) = self.header(kind).ok_or(ReadError::NoHeader(kind))?;
        let missing: Vec<&'static str> = kind
            .required()
            .filter(|f| !columns.iter().any(|c| c.field == Some(*f)))
            .map(Field::header)
            .collect();
        if !missing.is_empty() {
            return Err(ReadError::MissingColumns(missing));
        }
        if self.truncated {
            return Err(ReadError::TooManyRows);
        }
        let mut rows = Vec::new();
        for &row in self.rows.range(header_row + 1..).map(|(row, _)| row) {
            let cells: Vec<Cell> = columns
                .iter()
                .map(|c| self.get(row, c.index).cloned().unwrap_or(Cell::Empty))
                .collect();
            // A row with content only under unnamed columns is no data row.
            if cells.iter().all(Cell::is_empty) {
                continue;
            }
            if rows.len() == limits.rows {
                return Err(ReadError::TooManyRows);
            }
            rows.push(Row { number: row + 1, cells });
        }
        Ok(Table {
            kind,
            sheet: sheet.to_owned(),
            header_row: header_row + 1,
            columns,
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook, Worksheet, XlsxError};

    use super::*;
    use crate::import::cells;

    fn xlsx(build: impl FnOnce(&mut Workbook) -> Result<(), XlsxError>) -> Vec<u8> {
        let mut workbook = Workbook::new();
        build(&mut workbook).unwrap();
        workbook.save_to_buffer().unwrap()
    }

    fn write_row(sheet: &mut Worksheet, row: u32, values: &[&str]) -> Result<(), XlsxError> {
        for (col, value) in values.iter().enumerate() {
            sheet.write_string(row, col as u16, *value)?;
        }
        Ok(())
    }

    fn headers(table: &Table) -> Vec<(&str, Option<Field>)> {
        table.columns.iter().map(|c| (c.header.as_str(), c.field)).collect()
    }

    #[test]
    fn header_aliases_in_any_order() {
        let bytes = xlsx(|book| {
            let sheet = book.add_worksheet();
            write_row(
                sheet,
                0,
                &["联系方式", "门牌", "备注", "居民姓名", "楼号", "公民身份号码（18位）*"],
            )?;
            write_row(
                sheet,
                1,
                &[
                    "13812345678",
                    "３０２",
                    "老党员",
                    "李四",
                    "３号楼",
                    "11010519491231002X",
                ],
            )?;
            Ok(())
        });
        let table = read(&bytes, "居民.xlsx", Kind::Residents).unwrap();
        assert_eq!(table.header_row, 1);
        assert_eq!(
            headers(&table),
            [
                ("联系方式", Some(Field::Phone)),
                ("门牌", Some(Field::Door)),
                ("备注", None),
                ("居民姓名", Some(Field::Name)),
                ("楼号", Some(Field::Building)),
                ("公民身份号码（18位）*", Some(Field::IdNumber)),
            ]
        );
        assert_eq!(table.ignored().map(|c| c.header.as_str()).collect::<Vec<_>>(), ["备注"]);
        let row = &table.rows[0];
        assert_eq!(row.number, 2);
        // Full-width digits, as a Chinese input method types them.
        assert_eq!(cells::door_number(table.cell(row, Field::Door)), Ok(Some("302".into())));
        assert_eq!(cells::text(table.cell(row, Field::Building)), "3号楼");
        assert_eq!(table.cell(row, Field::Gender), &Cell::Empty);
    }

    #[test]
    fn two_row_header_under_merged_titles() {
        let bytes = xlsx(|book| {
            let sheet = book.add_worksheet();
            let plain = Format::new();
            sheet.merge_range(0, 0, 0, 5, "幸福社区居民台账（2026年）", &plain)?;
            sheet.merge_range(1, 0, 2, 0, "姓名", &plain)?;
            sheet.merge_range(1, 1, 2, 1, "身份证号", &plain)?;
            sheet.merge_range(1, 2, 1, 4, "住址", &plain)?;
            write_row(sheet, 2, &["", "", "楼栋", "单元", "门牌号"])?;
            // 姓名 written once in the upper row, not merged down.
            sheet.write_string(1, 5, "性别")?;
            write_row(sheet, 3, &["张三", "", "", "1", "101", "男"])?;
            write_row(sheet, 4, &["李四", "", "", "1", "102", "女"])?;
            // One building merged down over its households.
            sheet.merge_range(3, 2, 4, 2, "3号楼", &plain)?;
            Ok(())
        });
        let table = read(&bytes, "台账.xlsx", Kind::Residents).unwrap();
        assert_eq!(table.header_row, 3);
        assert_eq!(
            headers(&table),
            [
                ("姓名", Some(Field::Name)),
                ("身份证号", Some(Field::IdNumber)),
                ("楼栋", Some(Field::Building)),
                ("单元", Some(Field::Unit)),
                ("门牌号", Some(Field::Door)),
                ("性别", Some(Field::Gender)),
            ]
        );
        assert_eq!(table.rows.len(), 2);
        for (row, name) in table.rows.iter().zip(["张三", "李四"]) {
            assert_eq!(cells::text(table.cell(row, Field::Name)), name);
            assert_eq!(cells::text(table.cell(row, Field::Building)), "3号楼");
        }
        assert_eq!(
            cells::gender(table.cell(&table.rows[0], Field::Gender)),
            Ok(Some(app::domain::Gender::Male))
        );
        assert_eq!(
            cells::gender(table.cell(&table.rows[1], Field::Gender)),
            Ok(Some(app::domain::Gender::Female))
        );
    }

    #[test]
    fn hidden_sheets_and_unrelated_sheets_are_skipped() {
        let bytes = xlsx(|book| {
            let hidden = book.add_worksheet().set_name("旧数据")?;
            write_row(hidden, 0, &["用户名", "姓名", "角色"])?;
            write_row(hidden, 1, &["old", "旧人", "网格员"])?;
            hidden.set_hidden(true);
            let notes = book.add_worksheet().set_name("说明")?;
            write_row(notes, 0, &["请按模板填写"])?;
            let staff = book.add_worksheet().set_name("人员")?;
            write_row(staff, 0, &["账号", "姓名", "角色", "网格"])?;
            write_row(staff, 1, &["wangfang", "王芳", "专职网格员", "第一网格，第二网格"])?;
            staff.set_active(true);
            Ok(())
        });
        let table = read(&bytes, "人员.xlsx", Kind::Staff).unwrap();
        assert_eq!(table.sheet, "人员");
        let row = &table.rows[0];
        assert_eq!(
            cells::role(table.cell(row, Field::Role)),
            Ok(Some(app::domain::Role::Worker))
        );
        assert_eq!(
            cells::names_list(table.cell(row, Field::Grid)),
            Ok(vec!["第一网格".to_owned(), "第二网格".to_owned()])
        );
    }

    #[test]
    fn empty_rows_are_dropped_and_rows_keep_their_numbers() {
        let bytes = xlsx(|book| {
            let sheet = book.add_worksheet();
            write_row(sheet, 0, &["社区", "网格", "楼栋", "门牌号"])?;
            write_row(sheet, 1, &["幸福社区", "第一网格", "1号楼", "101"])?;
            write_row(sheet, 2, &[" ", "", "　"])?;
            write_row(sheet, 4, &["幸福社区", "第一网格", "1号楼"])?;
            for row in 5..40 {
                write_row(sheet, row, &["", " "])?;
            }
            sheet.write_string(40, 9, "表格外的批注")?;
            Ok(())
        });
        let table = read(&bytes, "楼栋.xlsx", Kind::Territory).unwrap();
        assert_eq!(table.rows.iter().map(|r| r.number).collect::<Vec<_>>(), [2, 5]);
        // No door number: the row declares a building.
        assert_eq!(cells::door_number(table.cell(&table.rows[1], Field::Door)), Ok(None));
    }

    #[test]
    fn numbers_dates_and_formulas_as_excel_saved_them() {
        let bytes = xlsx(|book| {
            let sheet = book.add_worksheet();
            let date = Format::new().set_num_format("yyyy/m/d");
            write_row(sheet, 0, &["姓名", "楼栋", "门牌号", "身份证号", "出生日期", "单元"])?;
            write_row(sheet, 1, &["张三", "1号楼"])?;
            sheet.write_number(1, 2, 302)?;
            sheet.write_number(1, 3, 110105194912310021_f64)?;
            sheet.write_datetime_with_format(1, 4, &ExcelDateTime::from_ymd(1985, 3, 12)?, &date)?;
            sheet.write_formula(1, 5, Formula::new("=1+2").set_result("3"))?;
            write_row(sheet, 2, &["李四", "1号楼", "", "", "1985年3月12日"])?;
            sheet.write_formula(2, 2, Formula::new("=\"30\"&\"3\"").set_result("303"))?;
            Ok(())
        });
        let table = read(&bytes, "居民.xlsx", Kind::Residents).unwrap();
        let (first, second) = (&table.rows[0], &table.rows[1]);
        assert!(
            cells::id_number(table.cell(first, Field::IdNumber))
                .unwrap_err()
                .contains("末几位已丢失")
        );
        let born = app::domain::CivilDate::new(1985, 3, 12);
        assert!(matches!(table.cell(first, Field::BirthDate), Cell::Date(_)));
        assert_eq!(cells::date(table.cell(first, Field::BirthDate)), Ok(born));
        assert_eq!(cells::date(table.cell(second, Field::BirthDate)), Ok(born));
        assert_eq!(
            cells::door_number(table.cell(first, Field::Door)),
            Ok(Some("302".into()))
        );
        // Formulas count with the value Excel saved for them.
        assert_eq!(
            cells::positive_integer(table.cell(first, Field::Unit), "单元", 1..=20),
            Ok(Some(3))
        );
        assert_eq!(
            cells::door_number(table.cell(second, Field::Door)),
            Ok(Some("303".into()))
        );
    }

    #[test]
    fn a_cell_far_away_costs_nothing() {
        let bytes = xlsx(|book| {
            let sheet = book.add_worksheet();
            write_row(sheet, 0, &["用户名", "姓名", "角色"])?;
            write_row(sheet, 1, &["wangfang", "王芳", "网格员"])?;
            sheet.write_string(1_048_575, 16_383, "x")?;
            Ok(())
        });
        let table = read(&bytes, "人员.xlsx", Kind::Staff).unwrap();
        assert_eq!(table.rows.len(), 1);
    }

    #[test]
    fn csv_in_utf8_gbk_and_tabs() {
        let text = "姓名,身份证号,楼栋,门牌号\n王五,=\"11010519491231002X\",2号楼,201\n,,,\n";
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let tabs = text.replace(',', "\t");
        for bytes in [with_bom, gbk.into_owned(), tabs.into_bytes()] {
            let table = read(&bytes, "居民.csv", Kind::Residents).unwrap();
            assert_eq!(table.sheet, "居民.csv");
            assert_eq!(table.rows.len(), 1);
            let row = &table.rows[0];
            assert_eq!(row.number, 2);
            assert_eq!(cells::text(table.cell(row, Field::Name)), "王五");
            assert!(cells::id_number(table.cell(row, Field::IdNumber)).unwrap().is_some());
        }
    }

    #[test]
    fn files_that_are_not_ledgers() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(read(png, "台账.xlsx", Kind::Residents), Err(ReadError::NotSpreadsheet));
        let xls = [b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".as_slice(), &[0; 512]].concat();
        assert_eq!(read(&xls, "台账.xls", Kind::Residents), Err(ReadError::OldFormat));
        assert!(ReadError::OldFormat.to_string().contains("另存为 .xlsx"));
        let encrypted: Vec<u8> = [
            xls.clone(),
            "EncryptionInfo".encode_utf16().flat_map(u16::to_le_bytes).collect(),
        ]
        .concat();
        assert_eq!(
            read(&encrypted, "台账.xlsx", Kind::Residents),
            Err(ReadError::Encrypted)
        );
        let html = "<html><table><tr><td>姓名</td></tr></table></html>";
        assert_eq!(
            read(html.as_bytes(), "导出.xls", Kind::Residents),
            Err(ReadError::OldFormat)
        );
        assert_eq!(
            read(b"PK\x03\x04 not really", "台账.xlsx", Kind::Residents),
            Err(ReadError::Damaged)
        );
        // Neither UTF-8 nor GB18030 (0xFF starts no character in either).
        assert_eq!(read(b"\xFF,\xFF\n", "a.csv", Kind::Staff), Err(ReadError::Encoding));
        let limits = Limits {
            file_bytes: 10,
            ..LIMITS
        };
        assert_eq!(
            read_within(b"0123456789ab", "a.csv", Kind::Staff, &limits),
            Err(ReadError::TooLarge)
        );
    }

    fn zip_of_zeros(size: usize) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        for _ in 0..size / chunk.len() {
            zip.write_all(&chunk).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_bombs_are_refused_before_unpacking() {
        let bomb = zip_of_zeros(2 * 1024 * 1024);
        assert!(bomb.len() < 20 * 1024, "{} bytes", bomb.len());
        let small = Limits {
            unpacked_bytes: 1024 * 1024,
            large_entry: 64 * 1024,
            ..LIMITS
        };
        assert_eq!(
            read_within(&bomb, "a.xlsx", Kind::Residents, &small),
            Err(ReadError::TooMuchContent)
        );
        let roomy = Limits {
            unpacked_bytes: u64::MAX,
            ..small
        };
        assert_eq!(
            read_within(&bomb, "a.xlsx", Kind::Residents, &roomy),
            Err(ReadError::TooMuchContent)
        );
        // Under both rules the file is opened (and found not to be a workbook).
        let lenient = Limits {
            ratio: u64::MAX,
            ..roomy
        };
        assert_eq!(
            read_within(&bomb, "a.xlsx", Kind::Residents, &lenient),
            Err(ReadError::Damaged)
        );
        // The real limits: an 11 MB entry packed 1000 to 1.
        let bomb = zip_of_zeros(11 * 1024 * 1024);
        assert_eq!(read(&bomb, "a.xlsx", Kind::Residents), Err(ReadError::TooMuchContent));
    }

    #[test]
    fn too_many_rows() {
        let csv = |rows: usize| {
            let mut text = String::from("用户名,姓名,角色\n");
            for i in 0..rows {
                text.push_str(&format!("user{i},人{i},网格员\n"));
            }
            text
        };
        let limits = Limits { rows: 5, ..LIMITS };
        assert_eq!(
            read_within(csv(5).as_bytes(), "a.csv", Kind::Staff, &limits)
                .unwrap()
                .rows
                .len(),
            5
        );
        assert_eq!(
            read_within(csv(6).as_bytes(), "a.csv", Kind::Staff, &limits),
            Err(ReadError::TooManyRows)
        );
        // Reading stops early rather than holding a huge sheet.
        assert_eq!(
            read_within(csv(100).as_bytes(), "a.csv", Kind::Staff, &limits),
            Err(ReadError::TooManyRows)
        );
        assert_eq!(
            ReadError::TooManyRows.to_string(),
            "每个文件最多 60,000 行，请分成几个文件"
        );
    }

    #[test]
    fn headers_not_found_or_incomplete() {
        let notes = "本表为2025年走访记录\n张三,李四\n";
        let error = read(notes.as_bytes(), "a.csv", Kind::Residents).unwrap_err();
        assert_eq!(error, ReadError::NoHeader(Kind::Residents));
        assert_eq!(
            error.to_string(),
            "没有找到表头：第一行应包含 姓名、楼栋、门牌号 等列（可下载导入模板对照）"
        );
        let partial = "姓名,楼栋,身份证号\n张三,1号楼,\n";
        let error = read(partial.as_bytes(), "a.csv", Kind::Residents).unwrap_err();
        assert_eq!(error, ReadError::MissingColumns(vec!["门牌号"]));
        assert_eq!(error.to_string(), "缺少必填列：门牌号");
    }
}
