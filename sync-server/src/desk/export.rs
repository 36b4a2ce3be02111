//! The desk's export (导出): for the node, period and filters, a summary per unit, the problem
//! ledger across units (every field, status dates, days overdue, the follow-up verdict), visits,
//! pledges, survey rounds and the enterprises served, as a real .xlsx. Records are read from the read model one row at a time and
//! the record sheets are written in rust_xlsxwriter's constant-memory mode (each row goes to a
//! temporary file as it is written), so an export holds one row in memory, not the sheet.
//! Residents' contact details (反映人联系方式) are left out: a supervisor's report does not need
//! them (PIPL: no more personal data than the purpose), nor an enterprise's contact person and
//! phone.

use std::collections::{BTreeMap, HashMap};
use std::io::{Seek, Write};

use ledger::pledge::Pledge;
use ledger::problem::{log_kind, Problem, Status};
use ledger::record::Section;
use ledger::report::{self, Figures, ProblemFacts};
use ledger::visit::Visit;
use ledger::RecordId;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::scope::Scope;
use crate::hub::Hub;

fn xlsx(e: XlsxError) -> String {
    format!("export: {e}")
}

fn date_cell(ws: &mut Worksheet, row: u32, col: u16, day: Option<chrono::NaiveDate>, format: &Format) -> Result<(), String> {
    use chrono::Datelike;
    if let Some(d) = day {
        let dt = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).map_err(xlsx)?;
        ws.write_datetime_with_format(row, col, &dt, format).map_err(xlsx)?;
    }
    Ok(())
}

/// A cell holds at most this many characters (Excel's limit; rust_xlsxwriter refuses more).
pub const MAX_CELL_CHARS: usize = 32_767;

/// `text` as a cell can hold it: a longer text (a ledger field can be longer than a cell, if a
/// peer wrote it so) is cut, and says so at its end, so one field never fails a whole export.
pub fn cell_text(text: &str) -> std::borrow::Cow<'_, str> {
    let chars = text.chars().count();
    if chars <= MAX_CELL_CHARS {
        return text.into();
    }
    let marker = format!("……（原文 {chars} 字，超出表格单元格上限，已截断）");
    let keep = MAX_CELL_CHARS - marker.chars().count();
    let mut cut: String = text.chars().take(keep).collect();
    cut.push_str(&marker);
    cut.into()
}

/// Writes the texts of a row that are not empty, each in its column.
fn texts(ws: &mut Worksheet, row: u32, cells: impl IntoIterator<Item = (u16, String)>) -> Result<(), String> {
    for (col, text) in cells {
        if !text.is_empty() {
            ws.write_string(row, col, cell_text(&text)).map_err(xlsx)?;
        }
    }
    Ok(())
}

fn header(ws: &mut Worksheet, name: &str, columns: &[(&str, f64)], bold: &Format) -> Result<(), String> {
    ws.set_name(name).map_err(xlsx)?;
    for (i, (title, width)) in columns.iter().enumerate() {
        ws.set_column_width(i as u16, *width).map_err(xlsx)?;
        ws.write_string_with_format(0, i as u16, *title, bold).map_err(xlsx)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx)?;
    Ok(())
}

/// A problem's 督办意见, one per line: when, who, what.
/// A record's photos and place in two cells at `col`: how many photos, linked to the first (the
/// server shows it to whoever may read the record), every link in a note-free text after it;
/// then the place, linked to the map.
fn media(ws: &mut Worksheet, row: u32, col: u16, photos: &[&ledger::photo::PhotoRef], location: Option<&ledger::photo::Location>, base: &str) -> Result<(), String> {
    if let Some(first) = photos.first() {
        let url = rust_xlsxwriter::Url::new(format!("{base}/api/photos/{}", first.hash)).set_text(format!("{} 张", photos.len()));
        ws.write_url(row, col, url).map_err(xlsx)?;
        let all: Vec<String> = photos.iter().map(|p| format!("{base}/api/photos/{}", p.hash)).collect();
        ws.write_string(row, col + 1, cell_text(&all.join("\n"))).map_err(xlsx)?;
    }
    if let Some(l) = location {
        ws.write_url(row, col + 2, rust_xlsxwriter::Url::new(l.map_link()).set_text(l.label())).map_err(xlsx)?;
    }
    Ok(())
}

fn remarks(p: &Problem) -> String {
    p.supervision.iter().map(|r| format!("{} {}：{}", report::day_of(r.at).map(|d| d.to_string()).unwrap_or_default(), r.by, r.text)).collect::<Vec<_>>().join("\n")
}

/// The day of the last status step into `to` (办结, 回访).
fn stepped_on(p: &Problem, to: &[Status]) -> Option<chrono::NaiveDate> {
    p.log.iter().rev().find(|e| e.kind == log_kind::STATUS && to.iter().any(|s| s.code() == e.to)).and_then(|e| report::day_of(e.at))
}

/// How many records each sheet got.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub units: usize,
    pub problems: usize,
    pub visits: usize,
    pub pledges: usize,
    pub surveys: usize,
    pub enterprises: usize,
}

/// What the problem and visit sheets hold of one served enterprise.
#[derive(Default)]
struct FirmCounts {
    difficulties: usize,
    open: usize,
    visits: usize,
}

/// Writes the export for `scope` to `out`.
pub fn write(hub: &Hub, scope: &Scope, photo_base: &str, out: impl Write + Seek + Send) -> Result<Written, String> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let day = Format::new().set_num_format("yyyy-mm-dd");
    let per_cent = Format::new().set_num_format("0.0%");
    let ledgers = scope.ledgers();
    let path_of: BTreeMap<String, String> = ledgers.iter().map(|(u, l)| (l.to_string(), scope.org.path_names(&u.id).join(" / "))).collect();
    let docs: Vec<ledger_sync::DocumentId> = ledgers.iter().map(|(_, l)| *l).collect();
    let mut written = Written::default();
    // By ledger and enterprise: one small entry per firm the exported records name.
    let mut firms: HashMap<(String, RecordId), FirmCounts> = HashMap::new();

    // 单位汇总: one row per unit that keeps a ledger.
    {
        let ws = book.add_worksheet();
        header(
            ws,
            "单位汇总",
            &[
                ("单位", 36.0),
                ("走访", 8.0),
                ("登记问题", 10.0),
                ("待办", 8.0),
                ("办理中", 8.0),
                ("已办结", 8.0),
                ("不予受理", 10.0),
                ("逾期", 8.0),
                ("按期办结率", 12.0),
                ("回访满意率", 12.0),
                ("作出承诺", 10.0),
                ("已兑现", 8.0),
                ("逾期承诺", 10.0),
                ("测评满意率", 12.0),
                ("群众评价", 10.0),
                ("群众评价满意率", 14.0),
                ("未办结差评", 10.0),
                ("逾期差评", 10.0),
            ],
            &bold,
        )?;
        for (i, (unit, ledger)) in ledgers.iter().enumerate() {
            let facts = hub.read_model.facts_passing(ledger)?;
            let f: Figures = report::unit_figures(facts.facts(), &scope.filter, scope.today);
            let row = i as u32 + 1;
            ws.write_string(row, 0, cell_text(&scope.org.path_names(&unit.id).join(" / "))).map_err(xlsx)?;
            let counts = [f.visits(), f.raised, f.pending, f.in_progress, f.resolved, f.rejected, f.overdue];
            for (c, n) in counts.iter().enumerate() {
                ws.write_number(row, c as u16 + 1, *n as f64).map_err(xlsx)?;
            }
            let rate = |ws: &mut Worksheet, col: u16, r: Option<usize>| -> Result<(), String> {
                if let Some(r) = r {
                    ws.write_number_with_format(row, col, r as f64 / 1000.0, &per_cent).map_err(xlsx)?;
                }
                Ok(())
            };
            rate(ws, 8, f.in_time_per_mille())?;
            rate(ws, 9, f.satisfaction_per_mille())?;
            for (c, n) in [f.pledges, f.pledges_fulfilled, f.pledges_overdue].iter().enumerate() {
                ws.write_number(row, c as u16 + 10, *n as f64).map_err(xlsx)?;
            }
            rate(ws, 13, f.survey_per_mille())?;
            ws.write_number(row, 14, f.ratings as f64).map_err(xlsx)?;
            rate(ws, 15, f.ratings_per_mille())?;
            for (c, n) in [f.cases_open, f.cases_overdue].iter().enumerate() {
                ws.write_number(row, c as u16 + 16, *n as f64).map_err(xlsx)?;
            }
            written.units += 1;
        }
    }

    // 问题台账
    {
        let ws = book.add_worksheet_with_constant_memory();
        header(
            ws,
            "问题台账",
            &[
                ("单位", 30.0),
                ("问题", 30.0),
                ("类别", 10.0),
                ("反映人", 8.0),
                ("紧急程度", 10.0),
                ("状态", 10.0),
                ("责任人", 10.0),
                ("登记日期", 12.0),
                ("办结时限", 12.0),
                ("办结日期", 12.0),
                ("回访日期", 12.0),
                ("逾期天数", 10.0),
                ("回访结果", 10.0),
                ("回访意见", 24.0),
                ("办理结果", 30.0),
                ("不予受理理由", 24.0),
                ("督办意见", 40.0),
                ("问题描述", 40.0),
                ("困难类型", 10.0),
                ("照片", 8.0),
                ("照片链接", 30.0),
                ("位置", 30.0),
            ],
            &bold,
        )?;
        let mut row = 0u32;
        hub.storage.each_body(&docs, Section::Problems, |ledger, body| {
            let Ok(p) = serde_json::from_str::<Problem>(body) else { return Ok(()) };
            let facts = ProblemFacts::of(&p);
            if !scope.filter.counts(&facts) {
                return Ok(());
            }
            row += 1;
            if let Some(firm) = &p.enterprise_id {
                let counts = firms.entry((ledger.to_string(), firm.clone())).or_default();
                counts.difficulties += 1;
                counts.open += usize::from(p.status.is_open());
            }
            let unit = path_of.get(&ledger.to_string()).cloned().unwrap_or_default();
            let cells = [
                (0, unit),
                (1, p.title.clone()),
                (2, p.category.label().into()),
                (3, p.raised_by.label().into()),
                (4, p.urgency.label().into()),
                (5, p.status.label().into()),
                (6, p.responsible.clone()),
                (12, p.satisfaction.map(|s| s.label().to_owned()).unwrap_or_default()),
                (13, p.satisfaction_comment.clone()),
                (14, p.result.clone()),
                (15, p.reject_reason.clone()),
                (16, remarks(&p)),
                (17, p.description.clone()),
                (18, p.difficulty.map(|d| d.label().to_owned()).unwrap_or_default()),
            ];
            texts(ws, row, cells)?;
            date_cell(ws, row, 7, facts.raised_on, &day)?;
            date_cell(ws, row, 8, p.deadline, &day)?;
            date_cell(ws, row, 9, facts.resolved_on, &day)?;
            date_cell(ws, row, 10, stepped_on(&p, &[Status::FollowedUp]), &day)?;
            if let Some(d) = facts.days_overdue(scope.today) {
                ws.write_number(row, 11, d as f64).map_err(xlsx)?;
            }
            let photos: Vec<&ledger::photo::PhotoRef> = p.all_photos().collect();
            media(ws, row, 19, &photos, p.location.as_ref(), photo_base)?;
            Ok(())
        })?;
        written.problems = row as usize;
    }

    // 走访记录
    {
        let ws = book.add_worksheet_with_constant_memory();
        header(
            ws,
            "走访记录",
            &[
                ("单位", 30.0),
                ("日期", 12.0),
                ("类型", 10.0),
                ("走访对象", 16.0),
                ("地点", 16.0),
                ("走访情况", 40.0),
                ("意见建议", 30.0),
                ("需跟进", 8.0),
                ("跟进事项", 30.0),
                ("照片", 8.0),
                ("照片链接", 30.0),
                ("位置", 30.0),
            ],
            &bold,
        )?;
        let mut row = 0u32;
        hub.storage.each_body(&docs, Section::Visits, |ledger, body| {
            let Ok(v) = serde_json::from_str::<Visit>(body) else { return Ok(()) };
            if v.deleted || !v.date.is_some_and(|d| scope.filter.period.contains(d)) {
                return Ok(());
            }
            row += 1;
            if let Some(firm) = &v.enterprise_id {
                firms.entry((ledger.to_string(), firm.clone())).or_default().visits += 1;
            }
            let unit = path_of.get(&ledger.to_string()).cloned().unwrap_or_default();
            media(ws, row, 9, &v.photos.iter().collect::<Vec<_>>(), v.location.as_ref(), photo_base)?;
            texts(ws, row, [(0, unit), (2, v.kind.label().into()), (3, v.whom), (4, v.place), (5, v.heard), (6, v.opinions), (8, v.follow_up)])?;
            date_cell(ws, row, 1, v.date, &day)?;
            ws.write_string(row, 7, if v.follow_up_needed { "是" } else { "否" }).map_err(xlsx)?;
            Ok(())
        })?;
        written.visits = row as usize;
    }

    // 承诺
    {
        let ws = book.add_worksheet_with_constant_memory();
        header(
            ws,
            "承诺",
            &[
                ("单位", 30.0),
                ("承诺内容", 40.0),
                ("承诺人", 10.0),
                ("目标", 24.0),
                ("作出日期", 12.0),
                ("兑现期限", 12.0),
                ("公开", 6.0),
                ("已兑现", 8.0),
                ("兑现日期", 12.0),
                ("进展", 6.0),
                ("评议满意", 10.0),
                ("评议", 6.0),
            ],
            &bold,
        )?;
        let mut row = 0u32;
        hub.storage.each_body(&docs, Section::Pledges, |ledger, body| {
            let Ok(p) = serde_json::from_str::<Pledge>(body) else { return Ok(()) };
            let made = report::day_of(p.created_at);
            if p.deleted || !made.is_some_and(|d| scope.filter.period.contains(d)) {
                return Ok(());
            }
            row += 1;
            let unit = path_of.get(&ledger.to_string()).cloned().unwrap_or_default();
            let aims = p.aims.iter().map(|a| a.label()).collect::<Vec<_>>().join("、");
            texts(ws, row, [(0, unit), (1, p.content.clone()), (2, p.by.clone()), (3, aims)])?;
            date_cell(ws, row, 4, made, &day)?;
            date_cell(ws, row, 5, p.due, &day)?;
            ws.write_string(row, 6, if p.public { "是" } else { "否" }).map_err(xlsx)?;
            ws.write_string(row, 7, if p.fulfilled { "是" } else { "否" }).map_err(xlsx)?;
            date_cell(ws, row, 8, p.fulfilled.then(|| report::day_of(p.fulfilled_at)).flatten(), &day)?;
            let (good, all) = p.rating();
            for (col, n) in [(9, p.progress.len()), (10, good), (11, all)] {
                ws.write_number(row, col, n as f64).map_err(xlsx)?;
            }
            Ok(())
        })?;
        written.pledges = row as usize;
    }

    // 测评: each round opened in the period, per unit.
    {
        let ws = book.add_worksheet_with_constant_memory();
        header(
            ws,
            "测评",
            &[
                ("单位", 30.0),
                ("测评名称", 30.0),
                ("开始日期", 12.0),
                ("已结束", 8.0),
                ("问题数", 8.0),
                ("答卷", 8.0),
                ("回答", 8.0),
                ("满意", 8.0),
                ("基本满意", 10.0),
                ("不满意", 8.0),
                ("满意率", 10.0),
            ],
            &bold,
        )?;
        let mut row = 0u32;
        hub.storage.each_body(&docs, Section::Surveys, |ledger, body| {
            let Ok(s) = serde_json::from_str::<ledger::survey::Survey>(body) else { return Ok(()) };
            if s.deleted || !s.opened_on.is_some_and(|d| scope.filter.period.contains(d)) {
                return Ok(());
            }
            row += 1;
            let unit = path_of.get(&ledger.to_string()).cloned().unwrap_or_default();
            let results = ledger::survey::survey_results(&s);
            texts(ws, row, [(0, unit), (1, s.title.clone())])?;
            date_cell(ws, row, 2, s.opened_on, &day)?;
            ws.write_string(row, 3, if s.closed { "是" } else { "否" }).map_err(xlsx)?;
            let answers: usize = results.overall.iter().sum();
            for (col, n) in [(4, s.questions.len()), (5, results.responses), (6, answers), (7, results.overall[0]), (8, results.overall[1]), (9, results.overall[2])] {
                ws.write_number(row, col, n as f64).map_err(xlsx)?;
            }
            if let Some(rate) = results.satisfied_per_mille() {
                ws.write_number_with_format(row, 10, rate as f64 / 1000.0, &per_cent).map_err(xlsx)?;
            }
            Ok(())
        })?;
        written.surveys = row as usize;
    }

    // 服务企业: every enterprise the units serve (a register, not bound to the period), with
    // its difficulties and visits as the sheets above count them.
    {
        let ws = book.add_worksheet_with_constant_memory();
        header(
            ws,
            "服务企业",
            &[("单位", 30.0), ("企业名称", 30.0), ("统一社会信用代码", 22.0), ("所属行业", 14.0), ("地址", 30.0), ("困难", 8.0), ("未解决困难", 12.0), ("走访", 8.0)],
            &bold,
        )?;
        let mut row = 0u32;
        hub.storage.each_body(&docs, Section::Enterprises, |ledger, body| {
            let Ok(e) = serde_json::from_str::<ledger::enterprise::Enterprise>(body) else { return Ok(()) };
            if e.deleted {
                return Ok(());
            }
            row += 1;
            let unit = path_of.get(&ledger.to_string()).cloned().unwrap_or_default();
            let counts = firms.remove(&(ledger.to_string(), e.id.clone())).unwrap_or_default();
            texts(ws, row, [(0, unit), (1, e.name), (2, e.credit_code), (3, e.industry), (4, e.address)])?;
            for (col, n) in [(5, counts.difficulties), (6, counts.open), (7, counts.visits)] {
                ws.write_number(row, col, n as f64).map_err(xlsx)?;
            }
            Ok(())
        })?;
        written.enterprises = row as usize;
    }
    book.save_to_writer(out).map_err(xlsx)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_longer_than_a_cell_is_cut_and_says_so() {
        assert_eq!(cell_text("路灯不亮"), "路灯不亮");
        let exact = "长".repeat(MAX_CELL_CHARS);
        assert_eq!(cell_text(&exact), exact.as_str());
        let cut = cell_text(&"长".repeat(40_000)).into_owned();
        assert_eq!(cut.chars().count(), MAX_CELL_CHARS);
        assert!(cut.starts_with("长长长") && cut.ends_with("……（原文 40000 字，超出表格单元格上限，已截断）"), "{}", &cut[cut.len() - 80..]);
    }
}
