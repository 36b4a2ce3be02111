//! Importing an organisation from a table (组织架构导入): one row per unit, given by its path
//! from the top of the tree, and optionally a person's role in it. The same table comes from
//! .xlsx or CSV (the server reads the file); this module checks every row against the tree as
//! it stands and as the earlier rows grow it, and either returns everything to add or every
//! row's problem, so nothing is imported when any row is wrong.

use std::collections::{BTreeSet, HashMap};

use super::{check_person, Grant, Org, Role, Unit, UnitKind};

/// The columns, in the template's order.
pub const HEADERS: [&str; 5] = ["单位路径", "单位类型", "姓名", "登录名", "角色"];

/// Most rows one import may carry.
pub const MAX_ROWS: usize = 100_000;
/// Most row problems reported (the first ones; the count says how many in all).
pub const MAX_REPORTED: usize = 200;

/// One row, as read from the file; `line` is its line in the file (the header is line 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    /// "示范市/示范县/青石镇/青石村": names from the top of the tree down.
    pub unit_path: String,
    /// Needed when the unit is new: 市, 县, 乡镇, 村, 社区, 企业党支部, 部门 (or the codes).
    pub unit_kind: String,
    pub name: String,
    pub login: String,
    /// 干部, 书记, 督查, 管理员, 先锋办 (or the codes).
    pub role: String,
}

impl Row {
    /// A row from the cells of a line, matched to [`HEADERS`] by `columns` (header → index).
    pub fn from_cells(line: usize, cells: &[String], columns: &[Option<usize>; 5]) -> Self {
        let cell = |i: usize| columns[i].and_then(|c| cells.get(c)).map(|s| s.trim().to_owned()).unwrap_or_default();
        Row { line, unit_path: cell(0), unit_kind: cell(1), name: cell(2), login: cell(3), role: cell(4) }
    }

    fn is_blank(&self) -> bool {
        self.unit_path.is_empty() && self.unit_kind.is_empty() && self.name.is_empty() && self.login.is_empty() && self.role.is_empty()
    }
}

/// Where each of [`HEADERS`] is in a header row; an error names the missing columns.
pub fn columns(header: &[String]) -> Result<[Option<usize>; 5], String> {
    let mut out = [None; 5];
    for (i, wanted) in HEADERS.iter().enumerate() {
        out[i] = header.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == *wanted);
    }
    let missing: Vec<&str> = HEADERS.iter().zip(out).filter(|(_, c)| c.is_none()).map(|(h, _)| *h).collect();
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(format!("第 1 行缺少列：{}（请使用导入模板）", missing.join("、")))
    }
}

/// A new person the import adds (no password: phones activate with a code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub id: String,
    pub name: String,
    pub login: String,
}

/// Everything an import adds, in an order that can be stored as it is (parents first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// New units, `ledger` left empty (the server gives each grass-roots unit its ledger).
    pub units: Vec<Unit>,
    pub people: Vec<NewPerson>,
    pub grants: Vec<Grant>,
}

/// A row's problem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

/// Why nothing was imported: the first [`MAX_REPORTED`] problems, and how many in all.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refused {
    pub errors: Vec<RowError>,
    pub total: usize,
}

/// A unit kind as people write it in a spreadsheet.
pub fn parse_kind(text: &str) -> Option<UnitKind> {
    UnitKind::from_code(text).or(match text {
        "县" | "区" | "县区" | "县(区)" => Some(UnitKind::County),
        "乡" | "镇" | "街道" | "乡镇" | "乡镇(街道)" => Some(UnitKind::Township),
        "企业" | "企业党组织" | "党支部" => Some(UnitKind::Enterprise),
        _ => None,
    })
}

/// Checks every row and plans the import by `admin`. `logins` are the login names already in
/// use, with their person's id; `new_id` makes ids for new units and people.
pub fn plan(org: &Org, admin: &str, logins: &HashMap<String, String>, rows: &[Row], new_id: &mut impl FnMut() -> String) -> Result<Plan, Refused> {
    let mut planner = Planner::new(org, admin, logins);
    let mut errors = Vec::new();
    let mut rows_seen = 0;
    for row in rows.iter().filter(|r| !r.is_blank()) {
        rows_seen += 1;
        if rows_seen > MAX_ROWS {
            // First, so the reason the whole table is refused is the first thing said.
            errors.insert(0, RowError { line: row.line, message: format!("一次最多导入 {MAX_ROWS} 行") });
            break;
        }
        if let Err(message) = planner.row(row, new_id) {
            errors.push(RowError { line: row.line, message });
        }
    }
    if rows_seen == 0 && errors.is_empty() {
        errors.push(RowError { line: 2, message: "表中没有数据行".into() });
    }
    if errors.is_empty() {
        Ok(planner.plan)
    } else {
        let total = errors.len();
        errors.truncate(MAX_REPORTED);
        Err(Refused { errors, total })
    }
}

/// The tree as the rows so far leave it.
struct Planner<'a> {
    admin: &'a str,
    logins: &'a HashMap<String, String>,
    /// The existing tree plus the units planned so far (levels, names, rights).
    org: Org,
    /// (parent, name) → unit id, for resolving paths without scanning the tree.
    children: HashMap<(Option<String>, String), String>,
    /// Logins of people this import adds → (id, name).
    new_people: HashMap<String, (String, String)>,
    grants: BTreeSet<Grant>,
    plan: Plan,
}

impl<'a> Planner<'a> {
    fn new(org: &Org, admin: &'a str, logins: &'a HashMap<String, String>) -> Self {
        let children = org.units.values().map(|u| ((u.parent.clone(), u.name.clone()), u.id.clone())).collect();
        Planner { admin, logins, org: org.clone(), children, new_people: HashMap::new(), grants: org.grants.clone(), plan: Plan::default() }
    }

    fn row(&mut self, row: &Row, new_id: &mut impl FnMut() -> String) -> Result<(), String> {
        // Everything is checked before anything of the row is planned.
        let unit = self.unit(row, new_id)?;
        let person = row.name.len() + row.login.len() + row.role.len() > 0;
        if !person {
            if let Some(new) = unit {
                self.add_unit(new);
            }
            return Ok(());
        }
        let role = Role::from_code(&row.role).ok_or_else(|| {
            if row.role.is_empty() {
                "缺少角色（干部、书记、督查、管理员或先锋办）".to_owned()
            } else {
                format!("未知的角色“{}”", row.role)
            }
        })?;
        if row.login.is_empty() {
            return Err("缺少登录名".into());
        }
        let unit_id = match &unit {
            Some(new) => new.id.clone(),
            None => self.resolve(&row.unit_path)?.expect("resolved above"),
        };
        let person_id = if let Some(id) = self.logins.get(&row.login) {
            if !self.org.may_manage_person(self.admin, id) {
                return Err(format!("登录名“{}”属于你管理范围以外的人员", row.login));
            }
            id.clone()
        } else if let Some((id, name)) = self.new_people.get(&row.login) {
            if !row.name.is_empty() && row.name != *name {
                return Err(format!("登录名“{}”在前面的行中是“{name}”", row.login));
            }
            id.clone()
        } else {
            check_person(&row.name, &row.login)?;
            let id = new_id();
            self.new_people.insert(row.login.clone(), (id.clone(), row.name.clone()));
            self.plan.people.push(NewPerson { id: id.clone(), name: row.name.clone(), login: row.login.clone() });
            id
        };
        if let Some(new) = unit {
            self.add_unit(new);
        }
        let grant = Grant { person: person_id, unit: unit_id, role };
        // Rights are checked against the grants as they stood before the import (an import
        // cannot widen the importing admin's reach), which also keeps each check short.
        if self.grants.insert(grant.clone()) {
            self.plan.grants.push(grant);
        }
        Ok(())
    }

    /// The row's unit: None when it exists (and the admin manages it), the new unit otherwise.
    fn unit(&mut self, row: &Row, new_id: &mut impl FnMut() -> String) -> Result<Option<Unit>, String> {
        let names = split_path(&row.unit_path)?;
        if let Some(id) = self.resolve(&row.unit_path)? {
            let existing = &self.org.units[&id];
            if !row.unit_kind.is_empty() && parse_kind(&row.unit_kind) != Some(existing.kind) {
                return Err(format!("“{}”已是{}，与单位类型“{}”不符", existing.name, existing.kind.label(), row.unit_kind));
            }
            if !self.org.may_administer(self.admin, &id) {
                return Err(format!("“{}”不在你管理的范围内", row.unit_path));
            }
            return Ok(None);
        }
        let (name, above) = names.split_last().expect("a path has a name");
        let parent = if above.is_empty() {
            None
        } else {
            let parent_path = above.join("/");
            Some(self.resolve(&parent_path)?.ok_or_else(|| format!("上级单位“{parent_path}”不存在（上级单位须在前面的行或已有）"))?)
        };
        if row.unit_kind.is_empty() {
            return Err(format!("新单位“{name}”缺少单位类型"));
        }
        let kind = parse_kind(&row.unit_kind).ok_or_else(|| format!("未知的单位类型“{}”", row.unit_kind))?;
        match &parent {
            Some(p) if !self.org.may_administer(self.admin, p) => return Err(format!("“{}”不在你管理的范围内", above.join("/"))),
            None => return Err("只能在已有的单位之下导入".into()),
            _ => {}
        }
        self.org.check_new_unit(name, kind, parent.as_deref()).map_err(|e| e.to_string())?;
        Ok(Some(Unit { id: new_id(), name: (*name).to_owned(), kind, parent, ledger: None }))
    }

    fn add_unit(&mut self, unit: Unit) {
        self.children.insert((unit.parent.clone(), unit.name.clone()), unit.id.clone());
        self.org.units.insert(unit.id.clone(), unit.clone());
        self.plan.units.push(unit);
    }

    /// The unit at `path`, if it exists (or an earlier row adds it).
    fn resolve(&self, path: &str) -> Result<Option<String>, String> {
        let mut at: Option<String> = None;
        for name in split_path(path)? {
            match self.children.get(&(at.clone(), name.to_owned())) {
                Some(id) => at = Some(id.clone()),
                None => return Ok(None),
            }
        }
        Ok(at)
    }
}

fn split_path(path: &str) -> Result<Vec<&str>, String> {
    if path.trim().is_empty() {
        return Err("缺少单位路径".into());
    }
    let names: Vec<&str> = path.split(['/', '／']).map(str::trim).collect();
    if names.iter().any(|n| n.is_empty()) {
        return Err(format!("单位路径“{path}”中有空的层级"));
    }
    Ok(names)
}

#[cfg(test)]
mod tests;
