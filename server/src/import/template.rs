//! The files a person downloads around an import: a template to fill in, and
//! the rows that were refused with their reasons, to fix and upload again.

use std::collections::BTreeMap;

use app::domain::{Gender, IdCardNumber, KeyGroup, RegistrationType, Role};
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError,
};

use super::fields::Field;
use super::sheet::MAX_ROWS;
use super::{Cell, Kind, Row, Table};
use crate::party::Rank;

/// Excel's own fill for a bad cell.
const RED: &str = "#FFC7CE";

/// Columns Excel would otherwise turn into numbers: an 18-digit ID number
/// loses its last digits, 0302 its zero, "3-12" becomes a date.
fn keep_as_text(field: Field) -> bool {
    matches!(field, Field::IdNumber | Field::Door | Field::Phone | Field::WorkPhone)
}

enum Example {
    Text(String),
    Number(f64),
    Date(u16, u8, u8),
}

fn example(kind: Kind, field: Field) -> Result<Example, XlsxError> {
    let text = |s: &str| Example::Text(s.to_owned());
    Ok(match field {
        Field::Community => text("幸福社区"),
        Field::Grid if kind == Kind::Staff => text("第一网格、第二网格"),
        Field::Grid => text("第一网格"),
        Field::Building => text("3号楼"),
        Field::Address => text("幸福路12号"),
        Field::UnitCount => Example::Number(2.0),
        Field::FloorCount => Example::Number(6.0),
        Field::DoorsPerFloor => Example::Number(2.0),
        Field::Unit => Example::Number(1.0),
        Field::Floor => Example::Number(3.0),
        Field::Door => text("302"),
        Field::Name if kind == Kind::Staff => text("王芳"),
        Field::Name if kind == Kind::Party => text("李明"),
        Field::Name => text("张秀英"),
        Field::Gender => text(Gender::Female.label()),
        Field::BirthDate => Example::Date(1956, 4, 12),
        // Born 1956-04-12, a woman (even 17th digit): agrees with the row.
        Field::IdNumber => Example::Text(
            IdCardNumber::with_check_char("11010519560412122")
                .map_err(XlsxError::ParameterError)?
                .as_str()
                .to_owned(),
        ),
        Field::Phone => text("13812345678"),
        Field::RegistrationType => text(RegistrationType::Registered.label()),
        Field::KeyGroups => text("独居老人、低保户"),
        Field::Username => text("wangfang"),
        Field::Role => text(Role::Worker.label()),
        Field::WorkUnit => text("区教育局"),
        Field::PartyOrg => text("区教育局机关党委"),
        Field::Rank => text(Rank::Member.label()),
        Field::WorkPhone => text("0571-87654321"),
        Field::Branch => text("第一党支部"),
        Field::PartyGroup => text("第一党小组"),
        Field::RegisteredOn => Example::Date(2026, 3, 1),
    })
}

/// The values of the fields with a short list of them (none for the others).
fn choices(field: Field) -> Vec<&'static str> {
    match field {
        Field::Gender => Gender::ALL.iter().map(|v| v.label()).collect(),
        Field::RegistrationType => RegistrationType::ALL.iter().map(|v| v.label()).collect(),
        Field::Role => Role::STAFF.iter().map(|v| v.label()).collect(),
        Field::Rank => Rank::ALL.iter().map(|v| v.label()).collect(),
        _ => Vec::new(),
    }
}

/// An XLSX to fill in: sheet "导入" with the kind's headers (required ones
/// marked `*`) and one example row, sheet "可选值" with what may be written.
pub fn template(kind: Kind) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let sheet = workbook.add_worksheet();
    sheet.set_name("导入")?;
    for (col, spec) in kind.fields().iter().enumerate() {
        let col = col as u16;
        let header = spec.field.header();
        let header = if spec.required {
            format!("{header}*")
        } else {
            header.to_owned()
        };
        sheet.set_column_width(col, if spec.field == Field::IdNumber { 21 } else { 12 })?;
        sheet.write_string_with_format(0, col, &header, &bold)?;
        match example(kind, spec.field)? {
            Example::Text(value) if keep_as_text(spec.field) => {
                sheet.set_column_format(col, &text)?;
                sheet.write_string_with_format(1, col, &value, &text)?;
            }
            Example::Text(value) => {
                sheet.write_string(1, col, &value)?;
            }
            Example::Number(n) => {
                sheet.write_number(1, col, n)?;
            }
            Example::Date(y, m, d) => {
                sheet.set_column_format(col, &date)?;
                sheet.write_datetime_with_format(1, col, &ExcelDateTime::from_ymd(y, m, d)?, &date)?;
            }
        }
        let values = choices(spec.field);
        if !values.is_empty() {
            // A drop-down that warns rather than refuses: the importer also
            // accepts variants (男性, 专职网格员).
            let validation = DataValidation::new()
                .allow_list_strings(&values)?
                .set_error_style(DataValidationErrorStyle::Warning);
            sheet.add_data_validation(1, col, MAX_ROWS as u32, col, &validation)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    allowed_values(workbook.add_worksheet(), kind)?;
    workbook.save_to_buffer()
}

/// The second sheet: one column per list of values, and notes.
fn allowed_values(sheet: &mut Worksheet, kind: Kind) -> Result<(), XlsxError> {
    sheet.set_name("可选值")?;
    let mut lists: Vec<(&str, Vec<&str>)> = Vec::new();
    match kind {
        Kind::Territory => lists.push((
            "说明",
            vec![
                "每行一户；没有门牌号的行只登记楼栋",
                "楼层可不填：由门牌号推出（302 → 3层）",
                "单元数、层数、每层户数填数字，如 2、6、2",
            ],
        )),
        Kind::Residents => {
            lists.push(("性别", choices(Field::Gender)));
            lists.push(("户籍类型", choices(Field::RegistrationType)));
            lists.push((
                "重点人群（可填多个，用、分隔）",
                KeyGroup::ALL.iter().map(|v| v.label()).collect(),
            ));
            lists.push((
                "出生日期的写法",
                vec!["1956-04-12", "1956/4/12", "1956.4.12", "1956年4月12日", "19560412"],
            ));
            lists.push((
                "说明",
                vec!["身份证号一列请设为“文本”格式", "有身份证号时，性别和出生日期可不填"],
            ));
        }
        Kind::Staff => {
            lists.push(("角色", choices(Field::Role)));
            lists.push(("说明", vec!["负责多个网格时用、分隔"]));
        }
        Kind::Party => {
            lists.push(("职级类别", choices(Field::Rank)));
            lists.push((
                "说明",
                vec![
                    "每行一名在职党员（双报到）；居民党员请在党员名册中从居民信息登记",
                    "工作电话填手机号，或带区号的固定电话（如 0571-87654321）",
                    "同一社区中姓名、工作单位、工作电话相同的视为同一人，再次导入时更新",
                    "报到日期可不填：按导入当天",
                ],
            ));
        }
    }
    let bold = Format::new().set_bold();
    for (col, (title, values)) in lists.iter().enumerate() {
        let col = col as u16;
        sheet.set_column_width(col, 24)?;
        sheet.write_string_with_format(0, col, *title, &bold)?;
        for (row, value) in values.iter().enumerate() {
            sheet.write_string(row as u32 + 1, col, *value)?;
        }
    }
    Ok(())
}

/// The refused rows as uploaded (headers as written, text kept as text), each
/// with a first column "错误" saying what to change, and the row's number in
/// the uploaded file. Each error is `(row number, column header, reason)`;
/// the cells it names are filled red. Fixed and uploaded again, the report
/// reads like the original (the two added columns are ignored).
pub fn error_report(table: &Table, errors: &[(u32, String, String)]) -> Result<Vec<u8>, XlsxError> {
    let mut by_row: BTreeMap<u32, Vec<&(u32, String, String)>> = BTreeMap::new();
    for error in errors {
        by_row.entry(error.0).or_default().push(error);
    }
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let red_date = date.clone().set_background_color(RED);
    // Per column: as read, and filled red where an error names it.
    let formats: Vec<(Format, Format)> = table
        .columns
        .iter()
        .map(|column| {
            let base = if column.field.is_some_and(keep_as_text) {
                Format::new().set_num_format("@")
            } else {
                Format::new()
            };
            (base.clone(), base.set_background_color(RED))
        })
        .collect();
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name("错误")?;
    sheet.write_string_with_format(0, 0, "错误", &bold)?;
    sheet.set_column_width(0, 40)?;
    sheet.write_string_with_format(0, 1, "行号", &bold)?;
    for (i, (column, (base, _))) in table.columns.iter().zip(&formats).enumerate() {
        let col = i as u16 + 2;
        // Typed into later, these cells stay text too.
        sheet.set_column_format(col, base)?;
        sheet.set_column_width(col, if column.field == Some(Field::IdNumber) { 21 } else { 12 })?;
        sheet.write_string_with_format(0, col, &column.header, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let rows: BTreeMap<u32, &Row> = table.rows.iter().map(|row| (row.number, row)).collect();
    for (r, (number, errors)) in by_row.iter().enumerate() {
        let r = r as u32 + 1;
        let reasons: Vec<String> = errors
            .iter()
            .map(|(_, column, reason)| {
                if column.is_empty() {
                    reason.clone()
                } else {
                    format!("{column}：{reason}")
                }
            })
            .collect();
        sheet.write_string_with_format(r, 0, reasons.join("；"), &wrap)?;
        sheet.write_number(r, 1, f64::from(*number))?;
        // An error on a row that is not a data row (a duplicate reported on
        // the header, say) keeps its line, without cells.
        let Some(row) = rows.get(number) else {
            continue;
        };
        for (i, ((column, cell), (base, red))) in table.columns.iter().zip(&row.cells).zip(&formats).enumerate() {
            let col = i as u16 + 2;
            let named = errors
                .iter()
                .any(|(_, name, _)| *name == column.header || column.field.is_some_and(|f| f.header() == name));
            let format = match (cell, named) {
                (Cell::Date(_), true) => &red_date,
                (Cell::Date(_), false) => &date,
                (_, true) => red,
                (_, false) => base,
            };
            match cell {
                Cell::Empty if named => sheet.write_blank(r, col, format)?,
                Cell::Empty => sheet,
                Cell::Text(text) | Cell::Error(text) => sheet.write_string_with_format(r, col, text, format)?,
                Cell::Number(n) | Cell::Date(n) => sheet.write_number_with_format(r, col, *n, format)?,
                Cell::Bool(b) => sheet.write_boolean_with_format(r, col, *b, format)?,
            };
        }
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use app::domain::CivilDate;
    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::import::{cells, read};

    #[test]
    fn a_template_reads_back_as_its_example_row() {
        for kind in Kind::ALL {
            let table = read(&template(kind).unwrap(), "模板.xlsx", kind).unwrap();
            assert_eq!(table.sheet, "导入");
            assert_eq!(table.rows.len(), 1, "{kind:?}");
            assert!(table.ignored().next().is_none(), "{kind:?}");
            for spec in kind.fields() {
                let cell = table.cell(&table.rows[0], spec.field);
                assert!(!cell.is_empty(), "{kind:?} {:?}", spec.field);
            }
        }
        let table = read(&template(Kind::Residents).unwrap(), "模板.xlsx", Kind::Residents).unwrap();
        let row = &table.rows[0];
        let id = cells::id_number(table.cell(row, Field::IdNumber)).unwrap().unwrap();
        let born = cells::date(table.cell(row, Field::BirthDate)).unwrap().unwrap();
        assert_eq!(CivilDate::parse(&id.birth_date()), Some(born));
        assert_eq!(cells::gender(table.cell(row, Field::Gender)), Ok(Some(id.gender())));
        assert_eq!(cells::tags(table.cell(row, Field::KeyGroups)).unwrap().len(), 2);
        assert!(cells::phone(table.cell(row, Field::Phone)).unwrap().is_some());
        assert_eq!(table.column(Field::Name).unwrap().header, "姓名*");
    }

    fn sheet_rows(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        book.worksheet_range(name)
            .unwrap()
            .rows()
            .map(<[Data]>::to_vec)
            .collect()
    }

    #[test]
    fn the_template_lists_the_allowed_values() {
        let rows = sheet_rows(&template(Kind::Residents).unwrap(), "可选值");
        let column = |title: &str| -> Vec<String> {
            let col = rows[0].iter().position(|d| d.to_string().starts_with(title)).unwrap();
            rows[1..]
                .iter()
                .map(|r| r[col].to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        assert_eq!(column("性别"), ["男", "女"]);
        assert_eq!(column("户籍类型"), ["户籍", "常住", "流动", "租户"]);
        assert_eq!(column("重点人群").len(), KeyGroup::ALL.len());
        assert!(column("出生日期").contains(&"1956年4月12日".to_owned()));
        let rows = sheet_rows(&template(Kind::Staff).unwrap(), "可选值");
        assert_eq!(
            rows[1..].iter().map(|r| r[0].to_string()).collect::<Vec<_>>(),
            ["管理员", "网格长", "网格员"]
        );
    }

    #[test]
    fn the_error_report_gives_back_only_the_refused_rows() {
        let csv = "姓名,身份证号,楼栋,门牌号,备注\n张三,110105194912310021,1号楼,101,\n李四,11010519491231002X,1号楼,102,=1+1\n王五,,1号楼,,\n";
        let table = read(csv.as_bytes(), "居民.csv", Kind::Residents).unwrap();
        let errors = vec![
            (2, "身份证号".to_owned(), "身份证号校验位不正确，请核对".to_owned()),
            (4, "门牌号".to_owned(), "请填写门牌号".to_owned()),
            (4, String::new(), "与第 2 行重复".to_owned()),
        ];
        let bytes = error_report(&table, &errors).unwrap();
        let rows = sheet_rows(&bytes, "错误");
        let text = |row: &[Data]| row.iter().map(Data::to_string).collect::<Vec<_>>();
        assert_eq!(
            text(&rows[0]),
            ["错误", "行号", "姓名", "身份证号", "楼栋", "门牌号", "备注"]
        );
        assert_eq!(rows.len(), 3);
        assert_eq!(
            text(&rows[1]),
            [
                "身份证号：身份证号校验位不正确，请核对",
                "2",
                "张三",
                "110105194912310021",
                "1号楼",
                "101",
                ""
            ]
        );
        // The ID number stayed text: all 18 digits.
        assert_eq!(rows[1][3], Data::String("110105194912310021".into()));
        assert_eq!(text(&rows[2])[..2], ["门牌号：请填写门牌号；与第 2 行重复", "4"]);
        // Fixed and uploaded again, the report reads like the original.
        let again = read(&bytes, "错误.xlsx", Kind::Residents).unwrap();
        assert_eq!(again.rows.len(), 2);
        assert_eq!(
            again.cell(&again.rows[0], Field::IdNumber),
            &Cell::Text("110105194912310021".into())
        );
        assert_eq!(
            again.ignored().map(|c| c.header.as_str()).collect::<Vec<_>>(),
            ["错误", "行号", "备注"]
        );
    }
}
