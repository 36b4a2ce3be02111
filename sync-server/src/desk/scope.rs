//! What a desk request covers: the supervisor's node (or one below it), the period and the
//! filters, read from the query and checked against the person's supervisor roles.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::NaiveDate;
use http_api::desk::PeriodView;
use ledger::org::{Org, Unit};
use ledger::problem::{Category, Urgency};
use ledger::report::{self, Filter, Period};
use ledger_sync::DocumentId;
use serde::Deserialize;

use crate::directory::now_secs;

/// What the desk asks for, as its URL keeps it (`http_api::route::Query` writes it).
#[derive(Debug, Default, Deserialize)]
pub struct Ask {
    pub period: Option<String>,
    pub node: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub urgency: Option<String>,
    pub sort: Option<String>,
    pub overdue: Option<String>,
}

/// The part of the organisation a request covers, and how it is filtered.
pub struct Scope {
    pub org: Arc<Org>,
    pub node: String,
    pub filter: Filter,
    pub today: NaiveDate,
}

/// A refusal before any work: status, code and message.
pub type Refusal = (StatusCode, &'static str, String);

pub fn not_found() -> Refusal {
    (StatusCode::NOT_FOUND, "not_found", "没有这个单位，或不在您督查的范围内".into())
}

fn coded<T>(value: &Option<String>, from_code: impl Fn(&str) -> Option<T>, what: &str) -> Result<Option<T>, Refusal> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => from_code(v).map(Some).ok_or_else(|| (StatusCode::BAD_REQUEST, "invalid", format!("无法识别的{what}“{v}”"))),
    }
}

/// Today in China.
pub fn today() -> NaiveDate {
    report::day_of(now_secs() * 1_000).unwrap_or_default()
}

impl Scope {
    /// The scope of `ask` for `person`: their first node unless one of theirs (or below) is
    /// named; the period this month unless named. `case_rules` are the organisation's time
    /// limits for a 差评's case.
    pub fn of(org: Arc<Org>, person: &str, ask: &Ask, today: NaiveDate, case_rules: ledger::rating::CaseRules) -> Result<Self, Refusal> {
        let nodes = org.supervised_nodes(person);
        let Some(first) = nodes.first() else {
            return Err((StatusCode::FORBIDDEN, "forbidden", "只有督查可以查看督查台".into()));
        };
        let node = match ask.node.as_deref().filter(|n| !n.is_empty()) {
            None => first.id.clone(),
            Some(n) if org.units.contains_key(n) && org.supervises(person, n) => n.to_owned(),
            Some(_) => return Err(not_found()),
        };
        let period = match ask.period.as_deref().filter(|p| !p.is_empty()) {
            None => Period::month_of(today),
            Some(p) => Period::parse(p).map_err(|e| (StatusCode::BAD_REQUEST, "invalid", e))?,
        };
        let filter = Filter {
            period,
            category: coded(&ask.category, Category::from_code, "问题类别")?,
            status: coded(&ask.status, ledger::report::StatusFilter::from_code, "办理状态")?,
            urgency: coded(&ask.urgency, Urgency::from_code, "紧急程度")?,
            case_rules,
        };
        drop(nodes);
        Ok(Self { org, node, filter, today })
    }

    /// The units at or below the node in tree order, with their depth below it.
    pub fn units(&self) -> Vec<(usize, &Unit)> {
        let base = self.org.path(&self.node).len();
        self.org.tree_order().into_iter().filter(|(_, u)| self.org.is_at_or_below(&u.id, &self.node)).map(|(_, u)| (self.org.path(&u.id).len() - base, u)).collect()
    }

    /// The ledgers below the node: (unit, ledger).
    pub fn ledgers(&self) -> Vec<(&Unit, DocumentId)> {
        self.units().into_iter().filter_map(|(_, u)| Some((u, DocumentId::parse(u.ledger.as_deref()?).ok()?))).collect()
    }

    pub fn period_view(&self) -> PeriodView {
        let p = self.filter.period;
        PeriodView { key: p.key(), label: p.label(), from: p.from().to_string(), to: p.to().to_string() }
    }

    /// A unit's path from the root, names joined by " / ".
    pub fn path_of(&self, unit: &str) -> String {
        self.org.path_names(unit).join(" / ")
    }
}
