//! A person's record (实绩) on the desk: who may read whose, the record read from their unit's
//! ledger (`ledger::achievement`), with their commendations, and its .xlsx.

use std::collections::HashSet;

use http_api::awards::{Commendation, PersonRecord, PersonRow};
use ledger::achievement::{work_record, WorkRecord, Worker};
use ledger::org::{Org, Role};
use ledger::report::Period;
use ledger::UnitLedger;
use ledger_sync::DocumentId;
use rust_xlsxwriter::{Format, Workbook};

use crate::desk::export::cell_text;
use crate::hub::Hub;

/// The unit whose ledger holds a person's work: where they are a cadre or the secretary.
pub(crate) fn home_unit<'a>(org: &'a Org, person: &str) -> Option<(&'a ledger::org::Unit, Role)> {
    org.grants_of(person).filter(|g| matches!(g.role, Role::Cadre | Role::Secretary)).filter_map(|g| Some((org.units.get(&g.unit)?, g.role))).find(|(u, _)| u.ledger.is_some())
}

pub(crate) fn is_secretary_of(org: &Org, person: &str, unit: &str) -> bool {
    org.grants_of(person).any(|g| g.role == Role::Secretary && g.unit == unit)
}

/// Who reads a unit's people's records: its supervisors and office above, and its secretary.
pub(crate) fn may_read_unit(org: &Org, reader: &str, unit: &str) -> bool {
    org.supervises(reader, unit) || org.is_office_for(reader, unit) || is_secretary_of(org, reader, unit)
}

pub(crate) fn person_row(hub: &Hub, org: &Org, person: &str) -> Result<Option<PersonRow>, String> {
    let Some((unit, role)) = home_unit(org, person) else { return Ok(None) };
    let Some(p) = hub.storage.person(person)? else { return Ok(None) };
    Ok(Some(PersonRow {
        id: p.id,
        name: p.name,
        unit: unit.id.clone(),
        unit_name: unit.name.clone(),
        path: org.path_names(&unit.id).join(" / "),
        role_label: role.label().to_owned(),
    }))
}

/// Everyone whose record `reader` may open, in tree order then by name.
pub(crate) fn people(hub: &Hub, reader: &str) -> Result<Vec<PersonRow>, String> {
    let org = hub.directory.org();
    let mut out = Vec::new();
    for (_, unit) in org.tree_order() {
        if unit.ledger.is_none() || !may_read_unit(&org, reader, &unit.id) {
            continue;
        }
        let mut here: Vec<PersonRow> = Vec::new();
        for (person, role) in org.members(&unit.id) {
            if !matches!(role, Role::Cadre | Role::Secretary) || here.iter().any(|p| p.id == person) {
                continue;
            }
            if let Some(row) = person_row(hub, &org, person)?.filter(|r| r.unit == unit.id) {
                here.push(row);
            }
        }
        here.sort_by(|a, b| a.name.cmp(&b.name));
        out.extend(here);
    }
    Ok(out)
}

/// The unit's ledger as the server has it now.
pub(crate) fn load_ledger(hub: &Hub, doc: &DocumentId) -> Result<Option<UnitLedger>, String> {
    let Some(layout) = hub.storage.load(doc)? else { return Ok(None) };
    UnitLedger::load(&layout.concatenated(), automerge::ActorId::random()).map(Some).map_err(|e| e.to_string())
}

/// A person's record, or the unit's (a collective's) when `person` is None.
pub(crate) fn record_of(hub: &Hub, doc: &DocumentId, person: Option<(&str, &str)>, period: Period) -> Result<WorkRecord, String> {
    let Some(ledger) = load_ledger(hub, doc)? else { return Ok(WorkRecord::default()) };
    let (name, actors) = match person {
        Some((id, name)) => (name, hub.storage.person_actors(id)?.iter().map(|a| automerge::ActorId::from(a.as_slice())).collect::<HashSet<_>>()),
        None => ("", HashSet::new()),
    };
    Ok(work_record(&ledger, &Worker { name, actors: &actors, whole_unit: person.is_none() }, period))
}

/// The commendations of a person (or, with `person` empty, of the unit as a collective).
pub(crate) fn commendations(hub: &Hub, unit: &str, person: &str) -> Result<Vec<Commendation>, String> {
    let org = hub.directory.org();
    let mut out = Vec::new();
    for n in hub.storage.commended()?.into_iter().filter(|n| n.unit == unit && n.person == person) {
        let Some(round) = hub.storage.award_round(&n.round)? else { continue };
        out.push(commendation(&org, &round, &n));
    }
    Ok(out)
}

pub(crate) fn commendation(org: &Org, round: &crate::storage::AwardRound, n: &crate::storage::Nomination) -> Commendation {
    Commendation {
        round_title: round.title.clone(),
        kind_label: ledger::award::AwardKind::from_code(&round.kind).map(|k| k.label()).unwrap_or_default().to_owned(),
        name: n.name.clone(),
        unit_name: org.units.get(&n.unit).map(|u| u.name.clone()).unwrap_or_default(),
        post: n.post.clone(),
        summary: n.summary.clone(),
        decided_on: ledger::report::day_of(round.decided_at).map(|d| d.to_string()).unwrap_or_default(),
        decision: round.decision.clone(),
    }
}

/// `reader`'s view of `person`'s record for `period`; None when there is no such person or
/// the reader may not read them (answered alike).
pub(crate) fn person_record(hub: &Hub, reader: &str, person: &str, period: Period, period_key: &str) -> Result<Option<PersonRecord>, String> {
    let org = hub.directory.org();
    let Some(row) = person_row(hub, &org, person)? else { return Ok(None) };
    if !may_read_unit(&org, reader, &row.unit) {
        return Ok(None);
    }
    let Some(doc) = crate::office::ledger_of(&org, &row.unit) else { return Ok(None) };
    let record = record_of(hub, &doc, Some((person, &row.name)), period)?;
    let commendations = commendations(hub, &row.unit, person)?;
    Ok(Some(PersonRecord {
        person: row,
        period: period_key.to_owned(),
        from: period.from().to_string(),
        to: period.to().to_string(),
        ledger: doc.to_string(),
        record,
        commendations,
    }))
}

/// The record as a workbook: who, which period, then one row per fact (类别, 日期, 事项, 结果),
/// then the commendations. Never a total or a score.
pub(crate) fn workbook(r: &PersonRecord) -> Result<Vec<u8>, String> {
    let xlsx = |e: rust_xlsxwriter::XlsxError| format!("export: {e}");
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = book.add_worksheet();
    ws.set_name("实绩").map_err(xlsx)?;
    for (col, width) in [(0u16, 12.0), (1, 12.0), (2, 48.0), (3, 40.0)] {
        ws.set_column_width(col, width).map_err(xlsx)?;
    }
    ws.write_string_with_format(0, 0, format!("{}（{}）实绩", r.person.name, r.person.path), &bold).map_err(xlsx)?;
    ws.write_string(1, 0, format!("期间：{} 至 {}", r.from, r.to)).map_err(xlsx)?;
    for (col, title) in ["类别", "日期", "事项", "结果"].iter().enumerate() {
        ws.write_string_with_format(3, col as u16, *title, &bold).map_err(xlsx)?;
    }
    let mut row = 4u32;
    for (heading, lines) in r.record.sections() {
        for line in lines {
            ws.write_string(row, 0, heading).map_err(xlsx)?;
            ws.write_string(row, 1, line.date.map(|d| d.to_string()).unwrap_or_default()).map_err(xlsx)?;
            ws.write_string(row, 2, cell_text(&line.title)).map_err(xlsx)?;
            ws.write_string(row, 3, cell_text(&line.outcome)).map_err(xlsx)?;
            row += 1;
        }
    }
    for c in &r.commendations {
        ws.write_string(row, 0, "表彰").map_err(xlsx)?;
        ws.write_string(row, 1, &c.decided_on).map_err(xlsx)?;
        ws.write_string(row, 2, cell_text(&format!("{}：{}", c.round_title, c.kind_label))).map_err(xlsx)?;
        ws.write_string(row, 3, cell_text(&c.summary)).map_err(xlsx)?;
        row += 1;
    }
    book.save_to_buffer().map_err(xlsx)
}
