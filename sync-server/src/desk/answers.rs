//! What the desk's routes answer, built from the read model (figures and lists) or from a
//! ledger (one record with its history), in the types of `http_api::desk`.

use std::collections::BTreeMap;

use http_api::desk::{CaseRow, HistoryLine, List, Overview, OverviewRow, PhotoRow, PledgeRow, PostRow, ProblemRow, RecordView, TaskRow, UnitRef};
use ledger::problem::Category;
use ledger::record::Section;
use ledger::report::{self, Facts, Figures, ProblemSort, Series};
use ledger::{RecordId, UnitLedger};
use ledger_sync::DocumentId;

use super::scope::Scope;
use crate::directory::now_secs;
use crate::hub::Hub;

/// Lists stop at this many rows (the count says how many there were): a page a person reads.
pub const MAX_LIST_ROWS: usize = 2_000;

/// The overview: one row per unit at or below the node with its figures (a node's are the sum
/// below it), freshness, and the chart series.
pub fn overview(hub: &Hub, scope: &Scope, person: &str) -> Result<Overview, String> {
    let mut own: BTreeMap<String, Figures> = BTreeMap::new();
    let mut changed_at: BTreeMap<String, Option<i64>> = BTreeMap::new();
    let mut series = Series::new(&scope.filter);
    for (unit, ledger) in scope.ledgers() {
        let facts = hub.read_model.facts(&ledger)?;
        own.insert(unit.id.clone(), report::unit_figures(facts.facts(), &scope.filter, scope.today));
        series.count(facts.facts(), &scope.filter);
        changed_at.insert(unit.id.clone(), facts.changed_at);
    }
    let totals = report::roll_up(&scope.org, &scope.node, &own);
    let last_sync = hub.storage.unit_last_sync()?;
    let now = now_secs();
    let units_below = report::count_below(&scope.org, &scope.node, changed_at.keys().map(String::as_str));
    let stale = changed_at.keys().map(String::as_str).filter(|u| report::is_stale(last_sync.get(*u).copied(), now));
    let stale_below = report::count_below(&scope.org, &scope.node, stale);
    let rows = scope
        .units()
        .into_iter()
        .map(|(depth, u)| {
            let mut row = OverviewRow::new(u, depth, totals.get(&u.id).cloned().unwrap_or_default());
            row.changed_at = changed_at.get(&u.id).copied().flatten();
            row.last_sync = last_sync.get(&u.id).copied();
            row.stale = row.ledger && report::is_stale(row.last_sync, now);
            row.stale_below = stale_below.get(&u.id).copied().unwrap_or(0);
            row.units = units_below.get(&u.id).copied().unwrap_or(0);
            row
        })
        .collect();
    let unit_ref = |u: &ledger::org::Unit| UnitRef { unit: u.id.clone(), name: u.name.clone() };
    let nodes = scope.org.supervised_nodes(person).into_iter().map(unit_ref).collect();
    let path = scope.org.path(&scope.node).into_iter().rev().filter(|u| scope.org.supervises(person, &u.id)).map(unit_ref).collect();
    Ok(Overview {
        node: scope.node.clone(),
        period: scope.period_view(),
        today: scope.today.to_string(),
        generated_at: now,
        stale_after_days: report::STALE_AFTER_DAYS,
        nodes,
        path,
        rows,
        series,
        categories: Category::ALL.iter().map(|c| c.label().to_owned()).collect(),
        visit_kinds: ledger::VisitKind::ALL.iter().map(|k| k.label().to_owned()).collect(),
    })
}

/// Problems below the node: overdue ones (whenever raised) or those raised in the period.
pub fn problems(hub: &Hub, scope: &Scope, overdue_only: bool, sort: ProblemSort) -> Result<List<ProblemRow>, String> {
    let ledgers = scope.ledgers();
    let mut all = Vec::new();
    for (unit, ledger) in &ledgers {
        let facts = hub.read_model.facts(ledger)?;
        let problems = facts.records.iter().filter_map(|((_, id), f)| match f {
            Facts::Problem(p) => Some((unit.id.as_str(), id, p)),
            _ => None,
        });
        all.extend(report::problem_lines(problems, &scope.filter, overdue_only, scope.today));
    }
    let order: BTreeMap<&str, usize> = scope.units().into_iter().enumerate().map(|(i, (_, u))| (u.id.as_str(), i)).collect();
    report::sort_problem_lines(&mut all, sort, |u| order.get(u).copied().unwrap_or(usize::MAX));
    let total = all.len();
    let ledger_of: BTreeMap<&str, String> = ledgers.iter().map(|(u, l)| (u.id.as_str(), l.to_string())).collect();
    let rows = all
        .into_iter()
        .take(MAX_LIST_ROWS)
        .map(|l| {
            let f = &l.facts;
            ProblemRow {
                unit_path: scope.path_of(&l.unit),
                ledger: ledger_of.get(l.unit.as_str()).cloned(),
                unit: l.unit,
                id: l.id.to_string(),
                title: f.title.clone(),
                category: f.category.label().to_owned(),
                urgency: f.urgency.label().to_owned(),
                urgency_code: f.urgency.code().to_owned(),
                status: f.status.label().to_owned(),
                responsible: f.responsible.clone(),
                raised_on: f.raised_on.map(|d| d.to_string()),
                deadline: f.deadline.map(|d| d.to_string()),
                resolved_on: f.resolved_on.map(|d| d.to_string()),
                days_overdue: l.days_overdue,
                remarks: f.remarks,
                satisfaction: f.satisfaction.map(|s| s.label().to_owned()),
            }
        })
        .collect();
    Ok(List { period: scope.period_view(), today: scope.today.to_string(), total, rows })
}

/// Pledges made in the period below the node, with progress and evaluations.
pub fn pledges(hub: &Hub, scope: &Scope) -> Result<List<PledgeRow>, String> {
    let mut rows = Vec::new();
    let mut total = 0;
    for (unit, ledger) in scope.ledgers() {
        let facts = hub.read_model.facts(&ledger)?;
        let mut here: Vec<(&RecordId, &report::facts::PledgeFacts)> = facts
            .records
            .iter()
            .filter_map(|((_, id), f)| match f {
                Facts::Pledge(p) if !p.deleted && p.made_on.is_some_and(|d| scope.filter.period.contains(d)) => Some((id, p)),
                _ => None,
            })
            .collect();
        here.sort_by(|a, b| (a.1.due, a.0).cmp(&(b.1.due, b.0)));
        total += here.len();
        for (id, p) in here {
            if rows.len() >= MAX_LIST_ROWS {
                break;
            }
            rows.push(PledgeRow {
                unit: unit.id.clone(),
                unit_path: scope.path_of(&unit.id),
                ledger: ledger.to_string(),
                id: id.to_string(),
                content: p.content.clone(),
                by: p.by.clone(),
                public: p.public,
                fulfilled: p.fulfilled,
                due: p.due.map(|d| d.to_string()),
                overdue: p.is_overdue(scope.today),
                progress: p.progress,
                evaluations: p.evaluations,
                evaluations_good: p.evaluations_good,
            });
        }
    }
    Ok(List { period: scope.period_view(), today: scope.today.to_string(), total, rows })
}

/// The posts (设岗定责) of every unit below the node, whenever set up (a post stands until it
/// is removed; the period does not apply), with residents' ratings of each.
pub fn posts(hub: &Hub, scope: &Scope) -> Result<List<PostRow>, String> {
    let mut rows = Vec::new();
    let mut total = 0;
    for (unit, ledger) in scope.ledgers() {
        let facts = hub.read_model.facts(&ledger)?;
        let mut rated: BTreeMap<&RecordId, (usize, usize)> = BTreeMap::new();
        for f in facts.records.values() {
            if let Facts::Rating(r) = f {
                if let (false, ledger::rating::Target::Post, Some(id)) = (r.deleted, r.target, r.target_id.as_ref()) {
                    let counts = rated.entry(id).or_default();
                    counts.0 += 1;
                    counts.1 += usize::from(r.verdict.counts_as_satisfied());
                }
            }
        }
        let mut here: Vec<(&RecordId, &report::facts::PostFacts)> = facts
            .records
            .iter()
            .filter_map(|((_, id), f)| match f {
                Facts::Post(p) if !p.deleted => Some((id, p)),
                _ => None,
            })
            .collect();
        // Published first, then by title, as the board lists them to residents.
        here.sort_by(|a, b| (!a.1.published, &a.1.title, a.0).cmp(&(!b.1.published, &b.1.title, b.0)));
        total += here.len();
        for (id, p) in here {
            if rows.len() >= MAX_LIST_ROWS {
                break;
            }
            let (ratings, ratings_good) = rated.get(id).copied().unwrap_or_default();
            rows.push(PostRow {
                unit: unit.id.clone(),
                unit_path: scope.path_of(&unit.id),
                ledger: ledger.to_string(),
                id: id.to_string(),
                title: p.title.clone(),
                holder: p.holder.clone(),
                published: p.published,
                ratings,
                ratings_good,
            });
        }
    }
    Ok(List { period: scope.period_view(), today: scope.today.to_string(), total, rows })
}

/// Most records with photos one 通报 prints.
pub const MAX_PHOTO_ROWS: usize = 60;

/// Records below the node holding photos, in the period (visits by their date, problems by the
/// day raised; firms always), newest first: what a printed 通报 may show.
pub fn photos(hub: &Hub, scope: &Scope) -> Result<List<PhotoRow>, String> {
    let mut all = Vec::new();
    for (unit, ledger) in scope.ledgers() {
        for (section, id) in hub.storage.records_with_photos(&ledger.to_string())? {
            let (Some(sec), Some(rid)) = (Section::from_key(&section), RecordId::parse(&id)) else { continue };
            let Some(body) = hub.storage.record_body(&ledger, sec, &rid)? else { continue };
            let (title, day, photos) = match sec {
                Section::Visits => {
                    let Ok(v) = serde_json::from_str::<ledger::Visit>(&body) else { continue };
                    if v.deleted || !v.date.is_some_and(|d| scope.filter.period.contains(d)) {
                        continue;
                    }
                    (v.whom.clone(), v.date, v.photos.iter().map(|p| p.hash.clone()).collect::<Vec<_>>())
                }
                Section::Problems => {
                    let Ok(p) = serde_json::from_str::<ledger::Problem>(&body) else { continue };
                    let raised = report::day_of(p.created_at);
                    if p.deleted || !raised.is_some_and(|d| scope.filter.period.contains(d)) {
                        continue;
                    }
                    (p.title.clone(), raised, p.all_photos().map(|p| p.hash.clone()).collect())
                }
                Section::Enterprises => {
                    let Ok(e) = serde_json::from_str::<ledger::Enterprise>(&body) else { continue };
                    if e.deleted {
                        continue;
                    }
                    (e.name.clone(), None, e.photos.iter().map(|p| p.hash.clone()).collect())
                }
                _ => continue,
            };
            if photos.is_empty() {
                continue;
            }
            all.push(PhotoRow { unit_path: scope.path_of(&unit.id), ledger: ledger.to_string(), section, id, title, day: day.map(|d| d.to_string()), photos });
        }
    }
    all.sort_by(|a, b| (&b.day, &a.unit_path, &a.id).cmp(&(&a.day, &b.unit_path, &b.id)));
    let total = all.len();
    all.truncate(MAX_PHOTO_ROWS);
    Ok(List { period: scope.period_view(), today: scope.today.to_string(), total, rows: all })
}

/// The tasks of every approved 实施方案 below the node, whatever the period (a plan runs its
/// year): overdue first, then open ones by date, then those done. No report is asked of a
/// unit for them; this is read from its ledger.
pub fn tasks(hub: &Hub, scope: &Scope) -> Result<List<TaskRow>, String> {
    let mut all = Vec::new();
    for (unit, ledger) in scope.ledgers() {
        let facts = hub.read_model.facts(&ledger)?;
        for ((_, plan), f) in &facts.records {
            let Facts::Plan(p) = f else { continue };
            if p.deleted {
                continue;
            }
            for t in &p.tasks {
                all.push(TaskRow {
                    unit: unit.id.clone(),
                    unit_path: scope.path_of(&unit.id),
                    ledger: ledger.to_string(),
                    plan: plan.to_string(),
                    plan_title: p.title.clone(),
                    task: t.id.to_string(),
                    what: t.what.clone(),
                    who: t.who.clone(),
                    due: t.due.map(|d| d.to_string()).unwrap_or_default(),
                    done_at: t.done_at,
                    overdue: t.overdue(scope.today),
                });
            }
        }
    }
    all.sort_by(|a, b| (!a.overdue, a.done_at.is_some(), &a.due, &a.unit_path, &a.what).cmp(&(!b.overdue, b.done_at.is_some(), &b.due, &b.unit_path, &b.what)));
    let total = all.len();
    all.truncate(MAX_LIST_ROWS);
    Ok(List { period: scope.period_view(), today: scope.today.to_string(), total, rows: all })
}

/// 差评 below the node: every open case (whenever rated, as an overdue problem is) and those
/// rated in the period; overdue first, then those on appeal (a supervisor decides them), then
/// by deadline.
pub fn cases(hub: &Hub, scope: &Scope) -> Result<List<CaseRow>, String> {
    use ledger::rating::{CaseState, StepKind, Target};
    let mut rows = Vec::new();
    for (unit, ledger) in scope.ledgers() {
        let facts = hub.read_model.facts(&ledger)?;
        let name_of = |target: Target, id: &Option<RecordId>| {
            let key = (Section::from_key(target.code())?, id.clone()?);
            match facts.records.get(&key)? {
                Facts::Post(p) => Some(p.title.clone()),
                Facts::Pledge(p) => Some(p.content.chars().take(30).collect()),
                _ => None,
            }
        };
        for ((_, id), f) in &facts.records {
            let Facts::Rating(r) = f else { continue };
            let Some(case) = r.case(&scope.filter.case_rules).filter(|_| !r.deleted) else { continue };
            let rated_on = report::day_of(r.created_at);
            if case.state.is_settled() && !rated_on.is_some_and(|d| scope.filter.period.contains(d)) {
                continue;
            }
            let appealed = case.state == CaseState::Appealed;
            let appeal = appealed.then(|| r.steps.iter().filter(|s| s.kind == StepKind::Appeal).max_by_key(|s| (s.at, s.id.clone())).map(|s| s.text.clone())).flatten();
            rows.push(CaseRow {
                unit: unit.id.clone(),
                unit_path: scope.path_of(&unit.id),
                ledger: ledger.to_string(),
                id: id.to_string(),
                target: name_of(r.target, &r.target_id).map_or_else(|| r.target.label().to_owned(), |n| format!("{}：{n}", r.target.label())),
                verdict: r.verdict.label().to_owned(),
                comment: r.comment.clone(),
                rated_on: rated_on.map(|d| d.to_string()),
                state: case.state.label().to_owned(),
                appealed,
                due: case.due.map(|d| d.to_string()),
                overdue: case.is_overdue(scope.today),
                appeal,
                answer: case.answer.map(|a| format!("{}：{}", a.kind.label(), a.text)),
                recheck: case.recheck.map(|v| v.label().to_owned()),
            });
        }
    }
    rows.sort_by(|a, b| (!a.overdue, !a.appealed, &a.due, &a.rated_on, &a.id).cmp(&(!b.overdue, !b.appealed, &b.due, &b.rated_on, &b.id)));
    let total = rows.len();
    rows.truncate(MAX_LIST_ROWS);
    Ok(List { period: scope.period_view(), today: scope.today.to_string(), total, rows })
}

/// One record as its document holds it now, with who changed what when. None when the person
/// does not supervise the unit, or it has no such record (answered alike).
pub fn record(hub: &Hub, person: &str, doc: &DocumentId, section: Section, id: &RecordId) -> Result<Option<RecordView>, String> {
    let Some(unit) = hub.directory.unit_of(doc) else { return Ok(None) };
    // The office reads a record too: the evidence a nomination links to (评先评优).
    let org = hub.directory.org();
    if !org.supervises(person, &unit) && !org.is_office_for(person, &unit) {
        return Ok(None);
    }
    let Some(layout) = hub.storage.load(doc)? else { return Ok(None) };
    let mut ledger = UnitLedger::load(&layout.concatenated(), automerge::ActorId::random()).map_err(|e| e.to_string())?;
    let Some(record) = report::facts::read_record(&ledger, section, id) else { return Ok(None) };
    let history = ledger.history(id).into_iter().map(|h| HistoryLine { at: h.at_seconds, by: h.by, summary: h.summary }).collect();
    let org = hub.directory.org();
    let write = hub.directory.rights(person, doc).write;
    let enterprise = match &record {
        report::Record::Problem(p) => p.enterprise_id.as_ref().and_then(|e| ledger.enterprise(e).ok()).map(|e| e.name),
        _ => None,
    };
    Ok(Some(RecordView {
        section: section.key().to_owned(),
        unit_path: org.path_names(&unit).join(" / "),
        unit,
        record: serde_json::to_value(record).map_err(|e| e.to_string())?,
        history,
        may_remark: write >= ledger::org::Write::SupervisionOnly,
        enterprise,
    }))
}
