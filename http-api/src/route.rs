//! Where the supervisor's desk is: the view and its filters, kept in the URL's hash
//! (`#overview?period=2026-Q4&node=…&category=housing`), so a view is a link to share and the
//! back button goes back to the last one.

/// The filters every view of the desk follows (the server's `/api/desk` query).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub period: String,
    pub node: String,
    pub category: String,
    pub status: String,
    pub urgency: String,
    pub sort: String,
}

const KEYS: [&str; 6] = ["period", "node", "category", "status", "urgency", "sort"];

impl Query {
    fn slot(&mut self, key: &str) -> Option<&mut String> {
        Some(match key {
            "period" => &mut self.period,
            "node" => &mut self.node,
            "category" => &mut self.category,
            "status" => &mut self.status,
            "urgency" => &mut self.urgency,
            "sort" => &mut self.sort,
            _ => return None,
        })
    }

    pub fn get(&self, key: &str) -> &str {
        match key {
            "period" => &self.period,
            "node" => &self.node,
            "category" => &self.category,
            "status" => &self.status,
            "urgency" => &self.urgency,
            "sort" => &self.sort,
            _ => "",
        }
    }

    pub fn parse(text: &str) -> Self {
        let mut q = Query::default();
        for pair in text.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if let Some(slot) = q.slot(k) {
                *slot = decode(v);
            }
        }
        q
    }

    /// `period=…&node=…`, the keys set, in a fixed order.
    pub fn encode(&self) -> String {
        KEYS.iter().filter(|k| !self.get(k).is_empty()).map(|k| format!("{k}={}", encode(self.get(k)))).collect::<Vec<_>>().join("&")
    }

    pub fn with(&self, key: &str, value: &str) -> Self {
        let mut q = self.clone();
        if let Some(slot) = q.slot(key) {
            *slot = value.to_owned();
        }
        q
    }
}

/// Percent-encoding of what may appear in a value (ids, codes, dates, `..`).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push(h * 16 + l);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the desk shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Overview,
    /// Every overdue problem below the node.
    Overdue,
    /// The problems raised in the period.
    Problems,
    Pledges,
    /// The units' posts (设岗定责), whenever set up, with their posters.
    Posts,
    /// 差评 and their cases: open ones (whenever rated) and those rated in the period.
    Cases,
    /// The tasks of the units' approved 实施方案, overdue first.
    Tasks,
    /// The printable report (通报) for the period.
    Report,
    /// People's records (实绩): the people below the node.
    Records,
    /// Award rounds (评先评优): the office's, or the secretary's nominations.
    Awards,
    /// One person's record for the period.
    Person {
        id: String,
    },
    Record {
        ledger: String,
        section: String,
        id: String,
    },
}

impl View {
    pub const TABS: [View; 9] = [View::Overview, View::Overdue, View::Problems, View::Pledges, View::Posts, View::Cases, View::Tasks, View::Records, View::Report];

    pub fn slug(&self) -> String {
        match self {
            View::Overview => "overview".into(),
            View::Overdue => "overdue".into(),
            View::Problems => "problems".into(),
            View::Pledges => "pledges".into(),
            View::Posts => "posts".into(),
            View::Cases => "cases".into(),
            View::Tasks => "tasks".into(),
            View::Report => "report".into(),
            View::Records => "records".into(),
            View::Awards => "awards".into(),
            View::Person { id } => format!("person/{}", encode(id)),
            View::Record { ledger, section, id } => format!("record/{ledger}/{section}/{id}"),
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            View::Overview => "总览",
            View::Overdue => "逾期问题",
            View::Problems => "问题清单",
            View::Pledges => "承诺践诺",
            View::Posts => "设岗定责",
            View::Cases => "差评办理",
            View::Tasks => "方案任务",
            View::Report => "通报",
            View::Records => "实绩",
            View::Awards => "评先评优",
            View::Person { .. } => "个人实绩",
            View::Record { .. } => "记录",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub view: View,
    pub query: Query,
}

impl Route {
    /// Reads a hash (`#overview?…`, with or without the `#`); anything else is the overview.
    pub fn parse(hash: &str) -> Self {
        let hash = hash.trim_start_matches('#');
        let (path, query) = hash.split_once('?').unwrap_or((hash, ""));
        let parts: Vec<&str> = path.split('/').collect();
        let view = match parts.as_slice() {
            ["overdue"] => View::Overdue,
            ["problems"] => View::Problems,
            ["pledges"] => View::Pledges,
            ["posts"] => View::Posts,
            ["cases"] => View::Cases,
            ["tasks"] => View::Tasks,
            ["report"] => View::Report,
            ["records"] => View::Records,
            ["awards"] => View::Awards,
            ["person", id] => View::Person { id: decode(id) },
            ["record", ledger, section, id] => View::Record { ledger: decode(ledger), section: decode(section), id: decode(id) },
            _ => View::Overview,
        };
        Self { view, query: Query::parse(query) }
    }

    pub fn hash(&self) -> String {
        let q = self.query.encode();
        if q.is_empty() {
            format!("#{}", self.view.slug())
        } else {
            format!("#{}?{q}", self.view.slug())
        }
    }

    /// Whether a hash is one of the supervisor's views (the admin's tabs are plain words).
    pub fn is_supervisor_hash(hash: &str) -> bool {
        let path = hash.trim_start_matches('#').split('?').next().unwrap_or_default();
        View::TABS.iter().any(|v| v.slug() == path) || path.starts_with("record/") || path.starts_with("person/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_round_trip_through_the_hash() {
        let route = Route { view: View::Overdue, query: Query { period: "2026-11-01..2026-11-30".into(), node: "u 1&x".into(), sort: "urgency".into(), ..Query::default() } };
        let hash = route.hash();
        assert_eq!(hash, "#overdue?period=2026-11-01..2026-11-30&node=u%201%26x&sort=urgency");
        assert_eq!(Route::parse(&hash), route);
        let record = Route { view: View::Record { ledger: "L".into(), section: "problems".into(), id: "p1".into() }, query: Query::default() };
        assert_eq!(Route::parse(&record.hash()), record);
        let person = Route { view: View::Person { id: "p 1".into() }, query: Query { period: "2026".into(), ..Query::default() } };
        assert_eq!(Route::parse(&person.hash()), person);
        assert_eq!(Route::parse("#whatever?x=1&period=2026").view, View::Overview);
        assert_eq!(Route::parse("").query.period, "");
        assert_eq!(Route::parse("#overview?category=%E4%BD%8F").query.category, "住");
    }

    #[test]
    fn admin_tabs_are_not_supervisor_views() {
        assert!(Route::is_supervisor_hash("#overdue?sort=unit") && Route::is_supervisor_hash("#record/a/b/c"));
        assert!(Route::is_supervisor_hash("#cases") && Route::is_supervisor_hash("#posts?node=u1"), "every tab reloads as itself");
        assert!(!Route::is_supervisor_hash("#org") && !Route::is_supervisor_hash("#people"));
    }
}
