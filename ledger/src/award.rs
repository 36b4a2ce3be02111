//! 评先评优: the campaign office's award rounds (先进集体, 先进个人). The office opens a round;
//! units nominate with their deeds (事迹) and evidence linked from their ledger; opinions come
//! from the bodies the round names (纪检监察, 组织部…); the office marks a shortlist (拟表彰),
//! which is public for a number of working days (公示) while anyone may object; only once the
//! period is over and every objection settled may the office record its decision.
//!
//! The rules of a round, as plain functions of its state and the day: the server keeps the
//! round and applies them.

use chrono::NaiveDate;

use crate::calendar::WorkCalendar;
use crate::codes::coded_enum;

coded_enum! {
    /// What a round commends.
    pub enum AwardKind {
        Collective = ("collective", "先进集体"),
        Individual = ("individual", "先进个人"),
    }
}

coded_enum! {
    /// Where a round stands, by its dates and what the office has done.
    pub enum Stage {
        /// 推荐中: units nominate until the deadline.
        Nominating = ("nominating", "推荐中"),
        /// 审核中: opinions are gathered and the shortlist marked.
        Reviewing = ("reviewing", "审核中"),
        /// 公示中
        Publicity = ("publicity", "公示中"),
        /// 待决定: the period is over.
        Deciding = ("deciding", "公示期满"),
        /// 已表彰
        Decided = ("decided", "已表彰"),
    }
}

pub const DEFAULT_PUBLICITY_DAYS: u32 = 5;
pub const MAX_PUBLICITY_DAYS: u32 = 30;
pub const MAX_QUOTA: u32 = 500;
pub const MAX_TITLE: usize = 100;
pub const MAX_BODIES: usize = 6;
pub const MAX_BODY: usize = 20;
/// 事迹
pub const MAX_DEEDS: usize = 2_000;
/// 简要事迹, the part made public.
pub const MAX_SUMMARY: usize = 300;
pub const MAX_POST: usize = 40;
pub const MAX_EVIDENCE: usize = 30;
pub const MAX_OPINION: usize = 500;
pub const MAX_OBJECTION: usize = 500;
pub const MAX_CONTACT: usize = 40;
pub const MAX_FINDING: usize = 500;

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn required(text: &str, what: &str, max: usize) -> Result<String, String> {
    let text = text.trim();
    match chars(text) {
        0 => Err(format!("请填写{what}")),
        n if n > max => Err(format!("{what}最多 {max} 字（现有 {n} 字）")),
        _ => Ok(text.to_owned()),
    }
}

/// A round as the office opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundDraft<'a> {
    pub title: &'a str,
    pub kind: &'a str,
    pub quota: u32,
    pub nominate_by: &'a str,
    pub publicity_days: Option<u32>,
    pub bodies: &'a [String],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRound {
    pub title: String,
    pub kind: AwardKind,
    pub quota: u32,
    pub nominate_by: NaiveDate,
    pub publicity_days: u32,
    pub bodies: Vec<String>,
}

impl RoundDraft<'_> {
    pub fn validate(&self, today: NaiveDate) -> Result<ValidRound, String> {
        let title = required(self.title, "名称", MAX_TITLE)?;
        let kind = AwardKind::from_code(self.kind.trim()).ok_or("请选择先进集体或先进个人")?;
        if !(1..=MAX_QUOTA).contains(&self.quota) {
            return Err(format!("名额须在 1 到 {MAX_QUOTA} 之间"));
        }
        let nominate_by = crate::day::parse(self.nominate_by.trim()).ok_or("请填写推荐截止日期")?;
        if nominate_by < today {
            return Err("推荐截止日期已过".into());
        }
        let publicity_days = self.publicity_days.unwrap_or(DEFAULT_PUBLICITY_DAYS);
        if !(1..=MAX_PUBLICITY_DAYS).contains(&publicity_days) {
            return Err(format!("公示期须在 1 到 {MAX_PUBLICITY_DAYS} 个工作日之间"));
        }
        let mut bodies: Vec<String> = Vec::new();
        for body in self.bodies.iter().map(|b| b.trim()).filter(|b| !b.is_empty()) {
            if chars(body) > MAX_BODY {
                return Err(format!("征求意见单位名称最多 {MAX_BODY} 字"));
            }
            if !bodies.iter().any(|b| b == body) {
                bodies.push(body.to_owned());
            }
        }
        if bodies.len() > MAX_BODIES {
            return Err(format!("征求意见单位最多 {MAX_BODIES} 个"));
        }
        Ok(ValidRound { title, kind, quota: self.quota, nominate_by, publicity_days, bodies })
    }
}

/// What decides a round's stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundState {
    pub nominate_by: NaiveDate,
    /// The 公示 period (first and last day), once the office started it.
    pub publicity: Option<(NaiveDate, NaiveDate)>,
    pub decided: bool,
}

impl RoundState {
    pub fn stage(&self, today: NaiveDate) -> Stage {
        match self.publicity {
            _ if self.decided => Stage::Decided,
            Some((_, to)) if today > to => Stage::Deciding,
            Some(_) => Stage::Publicity,
            None if today <= self.nominate_by => Stage::Nominating,
            None => Stage::Reviewing,
        }
    }
}

/// The 公示 period started on `today`: from the first working day on or after it, `days`
/// working days long.
pub fn publicity_period(calendar: &WorkCalendar, today: NaiveDate, days: u32) -> (NaiveDate, NaiveDate) {
    let from = if calendar.is_working(today) { today } else { calendar.after(today, 1) };
    (from, calendar.after(from, days.saturating_sub(1)))
}

/// A unit's nomination as its secretary writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NominationDraft<'a> {
    pub kind: AwardKind,
    /// 职务 (a person's; empty for a collective).
    pub post: &'a str,
    pub deeds: &'a str,
    pub summary: &'a str,
    pub evidence: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNomination {
    pub post: String,
    pub deeds: String,
    pub summary: String,
}

impl NominationDraft<'_> {
    pub fn validate(&self) -> Result<ValidNomination, String> {
        let post = match self.kind {
            AwardKind::Individual => required(self.post, "职务", MAX_POST)?,
            AwardKind::Collective => String::new(),
        };
        let deeds = required(self.deeds, "事迹", MAX_DEEDS)?;
        let summary = required(self.summary, "简要事迹", MAX_SUMMARY)?;
        if looks_like_an_id_or_phone(&summary) {
            return Err("简要事迹将在公示时公开，不能含身份证号或电话号码".into());
        }
        if self.evidence > MAX_EVIDENCE {
            return Err(format!("佐证记录最多选 {MAX_EVIDENCE} 条"));
        }
        Ok(ValidNomination { post, deeds, summary })
    }
}

/// Whether a text holds a run of 11 or more digits (a mobile number has 11, an ID number 17
/// and a check digit or X): what a public page must never show.
pub fn looks_like_an_id_or_phone(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() || ('０'..='９').contains(&c) { run + 1 } else { 0 };
        if run >= 11 {
            return true;
        }
    }
    false
}

/// An opinion from one of the round's bodies, with the day it was given.
pub fn check_opinion(bodies: &[String], body: &str, opinion: &str, given_on: &str, today: NaiveDate) -> Result<(String, NaiveDate), String> {
    if !bodies.iter().any(|b| b == body.trim()) {
        return Err("这一轮没有征求这个单位的意见".into());
    }
    let opinion = required(opinion, "意见", MAX_OPINION)?;
    let day = crate::day::parse(given_on.trim()).ok_or("请填写出具意见的日期")?;
    if day > today {
        return Err("出具意见的日期不能晚于今天".into());
    }
    Ok((opinion, day))
}

/// A nomination may be shortlisted once every body the round names has given its opinion.
pub fn check_shortlist(bodies: &[String], heard_from: &[String], shortlisted: usize, quota: u32) -> Result<(), String> {
    if let Some(missing) = bodies.iter().find(|b| !heard_from.contains(b)) {
        return Err(format!("还没有记录{missing}的意见"));
    }
    if shortlisted as u64 >= u64::from(quota) {
        return Err(format!("拟表彰已满名额（{quota}）"));
    }
    Ok(())
}

/// An objection (异议) as anyone files it: what they object to, and optionally how to reach
/// them (seen by the office only).
pub fn check_objection(text: &str, contact: &str) -> Result<(String, String), String> {
    let text = text.trim();
    if chars(text) < 5 {
        return Err("请写明异议的具体内容（至少 5 个字）".into());
    }
    if chars(text) > MAX_OBJECTION {
        return Err(format!("异议最多 {MAX_OBJECTION} 字"));
    }
    let contact = contact.trim();
    if chars(contact) > MAX_CONTACT {
        return Err(format!("联系方式最多 {MAX_CONTACT} 字"));
    }
    Ok((text.to_owned(), contact.to_owned()))
}

/// How the office examined an objection (核查情况).
pub fn check_finding(finding: &str) -> Result<String, String> {
    required(finding, "核查情况", MAX_FINDING)
}

/// The decision may be recorded only after the 公示 period, with every objection settled.
pub fn check_decision(stage: Stage, unsettled_objections: usize) -> Result<(), String> {
    match stage {
        Stage::Deciding if unsettled_objections == 0 => Ok(()),
        Stage::Deciding => Err(format!("还有 {unsettled_objections} 条异议没有核查办结，不能作出表彰决定")),
        Stage::Publicity => Err("公示期未满，不能作出表彰决定".into()),
        Stage::Decided => Err("这一轮已经作出表彰决定".into()),
        Stage::Nominating | Stage::Reviewing => Err("还没有公示，不能作出表彰决定".into()),
    }
}

#[cfg(test)]
mod tests;
