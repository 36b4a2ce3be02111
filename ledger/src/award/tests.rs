use chrono::NaiveDate;

use super::*;
use crate::calendar::WorkCalendar;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn draft<'a>(bodies: &'a [String]) -> RoundDraft<'a> {
    RoundDraft { title: "2026 年度先进个人", kind: "individual", quota: 2, nominate_by: "2026-12-10", publicity_days: None, bodies }
}

#[test]
fn a_round_is_checked_as_opened() {
    let bodies = vec!["县纪委监委".to_owned(), " 县委组织部 ".to_owned(), "县纪委监委".to_owned(), "".to_owned()];
    let today = day("2026-12-04");
    let valid = draft(&bodies).validate(today).unwrap();
    assert_eq!(valid.bodies, ["县纪委监委", "县委组织部"], "trimmed, blanks and repeats dropped");
    assert_eq!((valid.kind, valid.publicity_days), (AwardKind::Individual, DEFAULT_PUBLICITY_DAYS));

    let refused = |d: RoundDraft<'_>| d.validate(today).unwrap_err();
    assert_eq!(refused(RoundDraft { title: " ", ..draft(&bodies) }), "请填写名称");
    assert_eq!(refused(RoundDraft { kind: "team", ..draft(&bodies) }), "请选择先进集体或先进个人");
    assert_eq!(refused(RoundDraft { quota: 0, ..draft(&bodies) }), "名额须在 1 到 500 之间");
    assert_eq!(refused(RoundDraft { nominate_by: "2026-12-03", ..draft(&bodies) }), "推荐截止日期已过");
    assert_eq!(refused(RoundDraft { nominate_by: "下周", ..draft(&bodies) }), "请填写推荐截止日期");
    assert_eq!(refused(RoundDraft { publicity_days: Some(0), ..draft(&bodies) }), "公示期须在 1 到 30 个工作日之间");
    let many: Vec<String> = (0..7).map(|i| format!("单位{i}")).collect();
    assert_eq!(refused(draft(&many)), "征求意见单位最多 6 个");
}

#[test]
fn stages_follow_the_dates_and_the_office() {
    let mut s = RoundState { nominate_by: day("2026-12-10"), publicity: None, decided: false };
    assert_eq!(s.stage(day("2026-12-10")), Stage::Nominating, "the deadline day is still for nominating");
    assert_eq!(s.stage(day("2026-12-11")), Stage::Reviewing);
    s.publicity = Some((day("2026-12-14"), day("2026-12-18")));
    assert_eq!(s.stage(day("2026-12-18")), Stage::Publicity);
    assert_eq!(s.stage(day("2026-12-19")), Stage::Deciding);
    s.decided = true;
    assert_eq!(s.stage(day("2026-12-19")), Stage::Decided);
}

#[test]
fn publicity_counts_working_days() {
    let plain = WorkCalendar::default();
    // Friday 2026-12-04: five working days end on Thursday.
    assert_eq!(publicity_period(&plain, day("2026-12-04"), 5), (day("2026-12-04"), day("2026-12-10")));
    // Started on a Saturday: from Monday.
    assert_eq!(publicity_period(&plain, day("2026-12-05"), 5), (day("2026-12-07"), day("2026-12-11")));
    // A holiday inside the period lengthens it.
    let holidays = WorkCalendar::parse("2026-12-08", "").unwrap();
    assert_eq!(publicity_period(&holidays, day("2026-12-07"), 5), (day("2026-12-07"), day("2026-12-14")));
    assert_eq!(publicity_period(&plain, day("2026-12-07"), 1), (day("2026-12-07"), day("2026-12-07")));
}

#[test]
fn nominations_opinions_objections_and_findings_are_checked() {
    let n = NominationDraft { kind: AwardKind::Individual, post: "网格员", deeds: "走遍全村", summary: "走遍全村", evidence: 3 };
    assert_eq!(n.validate().unwrap().post, "网格员");
    assert_eq!(NominationDraft { post: "", ..n.clone() }.validate().unwrap_err(), "请填写职务");
    assert_eq!(NominationDraft { kind: AwardKind::Collective, post: "", ..n.clone() }.validate().unwrap().post, "", "a collective has no post");
    let long = "事".repeat(MAX_DEEDS + 1);
    assert_eq!(NominationDraft { deeds: &long, ..n.clone() }.validate().unwrap_err(), "事迹最多 2000 字（现有 2001 字）");
    let long = "事".repeat(MAX_SUMMARY + 1);
    assert_eq!(NominationDraft { summary: &long, ..n.clone() }.validate().unwrap_err(), "简要事迹最多 300 字（现有 301 字）");
    assert_eq!(NominationDraft { evidence: 31, ..n.clone() }.validate().unwrap_err(), "佐证记录最多选 30 条");
    let public_refusal = "简要事迹将在公示时公开，不能含身份证号或电话号码";
    assert_eq!(NominationDraft { summary: "联系电话 13800138000", ..n.clone() }.validate().unwrap_err(), public_refusal);
    assert_eq!(NominationDraft { summary: "身份证 35010219800101123X", ..n.clone() }.validate().unwrap_err(), public_refusal);
    assert_eq!(NominationDraft { summary: "电话１３８００１３８０００", ..n.clone() }.validate().unwrap_err(), public_refusal, "full-width digits too");
    assert!(NominationDraft { summary: "2026 年走访 1200 户，解决问题 35 件", ..n.clone() }.validate().is_ok(), "years and counts are not numbers to hide");
    assert!(NominationDraft { deeds: "联系电话 13800138000", ..n.clone() }.validate().is_ok(), "the full 事迹 stays with the office");

    let bodies = vec!["县纪委监委".to_owned(), "县委组织部".to_owned()];
    let today = day("2026-12-11");
    assert_eq!(check_opinion(&bodies, "县纪委监委", " 无反映 ", "2026-12-11", today).unwrap(), ("无反映".to_owned(), today));
    assert_eq!(check_opinion(&bodies, "县公安局", "无", "2026-12-11", today).unwrap_err(), "这一轮没有征求这个单位的意见");
    assert_eq!(check_opinion(&bodies, "县委组织部", "同意", "2026-12-12", today).unwrap_err(), "出具意见的日期不能晚于今天");

    assert_eq!(check_shortlist(&bodies, &bodies[..1], 0, 2).unwrap_err(), "还没有记录县委组织部的意见");
    assert!(check_shortlist(&bodies, &bodies, 1, 2).is_ok());
    assert_eq!(check_shortlist(&bodies, &bodies, 2, 2).unwrap_err(), "拟表彰已满名额（2）");

    assert_eq!(check_objection("不好", "").unwrap_err(), "请写明异议的具体内容（至少 5 个字）");
    assert_eq!(check_objection(" 该同志走访记录不实 ", " 138 ").unwrap(), ("该同志走访记录不实".to_owned(), "138".to_owned()));
    assert_eq!(check_finding("  ").unwrap_err(), "请填写核查情况");
}

#[test]
fn the_decision_waits_for_the_period_and_every_objection() {
    assert_eq!(check_decision(Stage::Publicity, 0).unwrap_err(), "公示期未满，不能作出表彰决定");
    assert_eq!(check_decision(Stage::Deciding, 1).unwrap_err(), "还有 1 条异议没有核查办结，不能作出表彰决定");
    assert!(check_decision(Stage::Deciding, 0).is_ok());
    assert_eq!(check_decision(Stage::Decided, 0).unwrap_err(), "这一轮已经作出表彰决定");
    assert_eq!(check_decision(Stage::Reviewing, 0).unwrap_err(), "还没有公示，不能作出表彰决定");
}
