//! Reading an organisation table from the file an admin uploads (.xlsx or CSV) and writing the
//! template to fill in. What the rows mean is decided in [`ledger::org::import`].

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use ledger::org::import::{columns, Row, HEADERS, MAX_ROWS};
use rust_xlsxwriter::{Format, Workbook};

/// Largest file accepted (a 20,000-person organisation is about 1 MB as .xlsx).
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Largest .xlsx unpacked, all its parts together, as its zip directory declares them (a
/// workbook is XML that compresses about tenfold; a zip bomb declares far more).
pub(crate) const MAX_UNPACKED_BYTES: u64 = 96 * 1024 * 1024;

/// Lines read at most: the header, the most rows an import takes, and one more so the import
/// says there were too many (a file's rows beyond it are never read).
const MAX_LINES: usize = MAX_ROWS + 2;

/// Columns read at most (the template has five; cells further right are not read, so a cell
/// at XFD1048576 asks for nothing).
const MAX_COLUMNS: usize = 32;

/// The rows of an uploaded table: .xlsx (first sheet) when the bytes are a zip, CSV otherwise
/// (UTF-8, with or without BOM, or GB18030, which is how Excel in China saves CSV).
pub fn read_table(bytes: &[u8]) -> Result<Vec<Row>, String> {
    let lines = if bytes.starts_with(b"PK\x03\x04") { xlsx_lines(bytes)? } else { csv_lines(bytes)? };
    let mut lines = lines.into_iter();
    let header = lines.next().ok_or("文件是空的")?;
    let columns = columns(&header)?;
    Ok(lines.enumerate().map(|(i, cells)| Row::from_cells(i + 2, &cells, &columns)).collect())
}

/// The first sheet's rows, streamed cell by cell (calamine's range reader would allocate the
/// whole rectangle the sheet declares: 512 GiB for cells at A1 and XFD1048576). Rows count
/// from the sheet's first used row; at most [`MAX_LINES`] rows of [`MAX_COLUMNS`] cells.
fn xlsx_lines(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let not_xlsx = |e: &dyn std::fmt::Display| format!("不是可读的 .xlsx 文件：{e}");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| not_xlsx(&e))?;
    let mut unpacked = 0u64;
    for i in 0..zip.len() {
        unpacked = unpacked.saturating_add(zip.by_index_raw(i).map_err(|e| not_xlsx(&e))?.size());
    }
    if unpacked > MAX_UNPACKED_BYTES {
        return Err(format!("文件解压后超过 {} MB，不像是组织架构表", MAX_UNPACKED_BYTES / 1024 / 1024));
    }
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| not_xlsx(&e))?;
    let first = book.sheet_names().first().cloned().ok_or("文件中没有工作表")?;
    let mut cells = book.worksheet_cells_reader(&first).map_err(|e| format!("工作表读不出：{e}"))?;
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut first_row = None;
    while let Some(cell) = cells.next_cell().map_err(|e| format!("工作表读不出：{e}"))? {
        let (row, col) = cell.get_position();
        let first = *first_row.get_or_insert(row);
        let Some(line) = row.checked_sub(first).map(|r| r as usize) else { continue };
        if line >= MAX_LINES {
            break;
        }
        let col = col as usize;
        if col >= MAX_COLUMNS {
            continue;
        }
        if lines.len() <= line {
            lines.resize_with(line + 1, Vec::new);
        }
        let cells = &mut lines[line];
        if cells.len() <= col {
            cells.resize(col + 1, String::new());
        }
        cells[col] = calamine::Data::from(cell.get_value().clone()).to_string();
    }
    Ok(lines)
}

fn csv_lines(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text.trim_start_matches('\u{feff}')),
        Err(_) => {
            let (text, _, bad) = encoding_rs::GB18030.decode(bytes);
            if bad {
                return Err("文件既不是 .xlsx，也不是 UTF-8 或 GBK 编码的 CSV".into());
            }
            text
        }
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut lines = Vec::new();
    for (i, record) in reader.records().take(MAX_LINES).enumerate() {
        let record = record.map_err(|e| format!("第 {} 行不是有效的 CSV：{e}", i + 1))?;
        lines.push(record.iter().map(str::to_owned).collect());
    }
    Ok(lines)
}

/// Example rows under `root` (the admin's node path), for the template.
fn examples(root: &str) -> [[String; 5]; 4] {
    let s = |t: &str| t.to_owned();
    [
        [format!("{root}/新建镇"), s("乡镇"), s(""), s(""), s("")],
        [format!("{root}/新建镇/新建村"), s("村"), s("王小明"), s("wangxiaoming"), s("书记")],
        [format!("{root}/新建镇/新建村"), s(""), s("李小红"), s("lixiaohong"), s("干部")],
        [format!("{root}/新建镇"), s(""), s("赵督查"), s("zhaoducha"), s("督查")],
    ]
}

/// The .xlsx template: the header row, example rows, and a sheet explaining each column.
pub(crate) fn template_xlsx(root: &str) -> Result<Vec<u8>, String> {
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("组织架构").map_err(err)?;
    for (c, header) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *header, &bold).map_err(err)?;
        sheet.set_column_width(c as u16, if c == 0 { 40 } else { 16 }).map_err(err)?;
    }
    for (r, row) in examples(root).iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, cell).map_err(err)?;
        }
    }
    let help = book.add_worksheet();
    help.set_name("说明").map_err(err)?;
    help.set_column_width(0, 100).map_err(err)?;
    for (r, line) in HELP.iter().enumerate() {
        help.write_string(r as u32, 0, *line).map_err(err)?;
    }
    book.save_to_buffer().map_err(err)
}

/// The CSV template (UTF-8 with BOM, so Excel shows the Chinese text).
pub(crate) fn template_csv(root: &str) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let _ = writer.write_record(HEADERS);
    for row in examples(root) {
        let _ = writer.write_record(&row);
    }
    writer.into_inner().unwrap_or_default()
}

const HELP: [&str; 8] = [
    "每行一个单位；可同时写一名人员在该单位的角色。",
    "单位路径：从最上级单位起，用“/”分隔，例如 示范市/示范县/青石镇/青石村。",
    "新单位须写单位类型：市、县（区）、乡镇（街道）、村、社区、企业党支部、部门；已有单位可不写。",
    "上级单位须已存在，或在前面的行中列出。",
    "姓名、登录名、角色：可不写（只建单位）；同一人多个角色写多行，登录名相同。",
    "角色：干部、书记、督查、管理员、先锋办。登录名为 2–40 个字母、数字或 . _ -。",
    "任何一行有误时整表不导入，并逐行说明原因；改正后重新上传即可。",
    "新人员导入后由管理员发放激活码，在手机上激活。",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_templates_read_back_as_their_example_rows() {
        let xlsx = read_table(&template_xlsx("示范市").unwrap()).unwrap();
        let csv = read_table(&template_csv("示范市")).unwrap();
        assert_eq!(xlsx, csv);
        assert_eq!(xlsx.len(), 4);
        assert_eq!((xlsx[1].line, xlsx[1].unit_path.as_str(), xlsx[1].name.as_str(), xlsx[1].role.as_str()), (3, "示范市/新建镇/新建村", "王小明", "书记"));
    }

    #[test]
    fn a_gbk_csv_from_excel_is_read() {
        let text = "单位路径,单位类型,姓名,登录名,角色\r\n示范市/示范县,,张三,zhangsan,督查\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let rows = read_table(&gbk).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].name.as_str(), rows[0].role.as_str()), ("张三", "督查"));
    }

    #[test]
    fn unreadable_files_say_why() {
        assert!(read_table(b"").unwrap_err().contains("空"));
        assert!(read_table(b"PK\x03\x04garbage").unwrap_err().contains(".xlsx"));
        assert!(read_table("姓名,登录名\n".as_bytes()).unwrap_err().contains("缺少列"));
        assert!(read_table(&[0xff, 0xfe, 0x00, 0x81, 0x30]).is_err());
    }
}
