//! The organisation (组织架构): the tree of units, the people in them with a role per unit, and
//! what each person may do with each unit's ledger. The server decides every sync request and
//! every incoming change with [`Org::ledger_rights`]; the phone uses the same tree offline (the
//! people of its units, to assign a problem).
//!
//! A role held at a node reaches down the tree: a supervisor (督查) at a county reads every
//! ledger of the county; an admin at a township manages only the township and below.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// What a person is in a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 干部: reads and writes the unit's ledger.
    Cadre,
    /// 书记: everything a cadre can, plus assigning and closing.
    Secretary,
    /// 督查: reads every ledger at or below the node; writes only supervision remarks (督办意见)
    /// and evaluations (评议).
    Supervisor,
    /// 管理员: manages units, people and devices at or below the node; reads no ledger.
    Admin,
    /// 先锋办: the campaign office at the node. Opens rounds (实施方案, 制度清理) and reviews the
    /// plans, publishes 通报, and sees where each unit below stands in them; reads no ledger.
    Office,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Cadre, Role::Secretary, Role::Supervisor, Role::Admin, Role::Office];

    pub fn code(self) -> &'static str {
        match self {
            Role::Cadre => "cadre",
            Role::Secretary => "secretary",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Office => "office",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code || r.label() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Cadre => "干部",
            Role::Secretary => "书记",
            Role::Supervisor => "督查",
            Role::Admin => "管理员",
            Role::Office => "先锋办",
        }
    }
}

/// What kind of node a unit is. Only the grass-roots kinds keep a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    City,
    County,
    Township,
    Village,
    Community,
    /// 企业党支部
    Enterprise,
    /// 部门
    Department,
}

impl UnitKind {
    pub const ALL: [UnitKind; 7] = [UnitKind::City, UnitKind::County, UnitKind::Township, UnitKind::Village, UnitKind::Community, UnitKind::Enterprise, UnitKind::Department];

    pub fn code(self) -> &'static str {
        match self {
            UnitKind::City => "city",
            UnitKind::County => "county",
            UnitKind::Township => "township",
            UnitKind::Village => "village",
            UnitKind::Community => "community",
            UnitKind::Enterprise => "enterprise",
            UnitKind::Department => "department",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            UnitKind::City => "市",
            UnitKind::County => "县（区）",
            UnitKind::Township => "乡镇（街道）",
            UnitKind::Village => "村",
            UnitKind::Community => "社区",
            UnitKind::Enterprise => "企业党支部",
            UnitKind::Department => "部门",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code || k.label() == code)
    }

    /// Whether units of this kind keep their own ledger (单位台账).
    pub fn keeps_ledger(self) -> bool {
        matches!(self, UnitKind::Village | UnitKind::Community | UnitKind::Enterprise | UnitKind::Department)
    }

    /// Whether a unit of this kind may sit under a unit of `parent` kind.
    pub fn fits_under(self, parent: UnitKind) -> bool {
        use UnitKind::*;
        match self {
            City => false,
            County => parent == City,
            Township => parent == County,
            Village | Community => parent == Township,
            Enterprise | Department => matches!(parent, City | County | Township),
        }
    }
}

/// One node of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<String>,
    /// The ledger document's id (`automerge:` less), for kinds that keep one.
    pub ledger: Option<String>,
}

/// A person's role in one unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    pub person: String,
    pub unit: String,
    pub role: Role,
}

/// What a person may write in a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Write {
    /// The public board (先锋广场) as the server writes for residents: their ratings, their
    /// 留言 as problems, their recheck of an answer; nothing else. Never a person's right, and
    /// first in the order so that no comparison of rights takes it for more than nothing.
    Board,
    /// The campaign office (先锋办) as the server writes for it: the rounds it opens, its
    /// reviews of plans and its 通报; nothing a unit keeps. Never a device's right either.
    Office,
    Nothing,
    /// Only supervision remarks on problems and evaluations of pledges (督查).
    SupervisionOnly,
    /// Everything but assigning a problem already raised and closing one (干部).
    Cadre,
    /// Everything (书记).
    Everything,
}

/// A person's rights on one unit's ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rights {
    pub read: bool,
    pub write: Write,
    /// Assigning problems to people and closing them (书记).
    pub manage: bool,
}

impl Rights {
    pub const NONE: Rights = Rights { read: false, write: Write::Nothing, manage: false };
}

/// The organisation: units by id and who holds which role where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub units: BTreeMap<String, Unit>,
    pub grants: BTreeSet<Grant>,
}

/// Why a unit cannot be added where asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("单位名称不能为空")]
    EmptyName,
    #[error("单位名称过长（最多 60 字）")]
    LongName,
    #[error("上级单位“{0}”不存在")]
    NoParent(String),
    #[error("{kind}不能设在{parent}之下")]
    WrongLevel { kind: &'static str, parent: &'static str },
    #[error("只能有一个最上级单位（市）")]
    SecondRoot,
    #[error("同一上级下已有名为“{0}”的单位")]
    DuplicateName(String),
}

impl Org {
    /// The unit and every unit above it, nearest first.
    pub fn path(&self, unit: &str) -> Vec<&Unit> {
        let mut out = Vec::new();
        let mut at = self.units.get(unit);
        while let Some(u) = at {
            if out.len() > self.units.len() {
                break; // a cycle in bad data must not loop for ever
            }
            out.push(u);
            at = u.parent.as_deref().and_then(|p| self.units.get(p));
        }
        out
    }

    /// Whether `unit` is `node` or lies below it.
    pub fn is_at_or_below(&self, unit: &str, node: &str) -> bool {
        self.path(unit).iter().any(|u| u.id == node)
    }

    /// Every unit at or below `node`, the node first.
    pub fn subtree(&self, node: &str) -> Vec<&Unit> {
        self.units.values().filter(|u| self.is_at_or_below(&u.id, node)).collect()
    }

    /// Checks that a unit may be added (its parent exists and is of a fitting level, its name
    /// is unique among its siblings).
    pub fn check_new_unit(&self, name: &str, kind: UnitKind, parent: Option<&str>) -> Result<(), OrgError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(OrgError::EmptyName);
        }
        if name.chars().count() > 60 {
            return Err(OrgError::LongName);
        }
        match parent {
            None if kind == UnitKind::City && self.units.values().all(|u| u.parent.is_some()) => {}
            None => return Err(if self.units.is_empty() { OrgError::WrongLevel { kind: kind.label(), parent: "最上级" } } else { OrgError::SecondRoot }),
            Some(p) => {
                let parent = self.units.get(p).ok_or_else(|| OrgError::NoParent(p.to_owned()))?;
                if !kind.fits_under(parent.kind) {
                    return Err(OrgError::WrongLevel { kind: kind.label(), parent: parent.kind.label() });
                }
            }
        }
        if self.units.values().any(|u| u.parent.as_deref() == parent && u.name == name) {
            return Err(OrgError::DuplicateName(name.to_owned()));
        }
        Ok(())
    }

    /// The unit whose ledger this is.
    pub fn unit_of_ledger(&self, ledger: &str) -> Option<&Unit> {
        self.units.values().find(|u| u.ledger.as_deref() == Some(ledger))
    }

    /// A person's rights on a unit's ledger: the widest of every role they hold that reaches
    /// the unit. Admins manage the organisation, not its ledgers, and read none.
    /// The person's grants: a range of the ordered set (grants sort by person first), so
    /// rights checked on every sync message cost log(grants), not a walk of all of them.
    pub fn grants_of<'a>(&'a self, person: &'a str) -> impl Iterator<Item = &'a Grant> + 'a {
        let first = Grant { person: person.to_string(), unit: String::new(), role: Role::Cadre };
        self.grants.range(first..).take_while(move |g| g.person == person)
    }

    /// The person's grants at one unit (a narrower range of the same set).
    fn grants_at<'a>(&'a self, person: &'a str, unit: &'a str) -> impl Iterator<Item = &'a Grant> + 'a {
        let first = Grant { person: person.to_string(), unit: unit.to_string(), role: Role::Cadre };
        self.grants.range(first..).take_while(move |g| g.person == person && g.unit == unit)
    }

    /// What `person` may do in the ledger of `unit`: their grants at the unit and at each unit
    /// above it, each a range of the grant set. Checked on every sync message, so it costs the
    /// depth of the tree, not the number of units the person holds a role in (the load
    /// benchmark's one device holds a role in each of 1,000 villages).
    pub fn ledger_rights(&self, person: &str, unit: &str) -> Rights {
        let mut rights = Rights::NONE;
        for (depth, at) in self.path(unit).into_iter().enumerate() {
            for grant in self.grants_at(person, &at.id) {
                match grant.role {
                    Role::Cadre | Role::Secretary if depth == 0 => {
                        rights.read = true;
                        let secretary = grant.role == Role::Secretary;
                        rights.write = rights.write.max(if secretary { Write::Everything } else { Write::Cadre });
                        rights.manage |= secretary;
                    }
                    Role::Supervisor => {
                        rights.read = true;
                        rights.write = rights.write.max(Write::SupervisionOnly);
                    }
                    _ => {}
                }
            }
        }
        rights
    }

    /// Whether `person` may manage `unit` (an admin at it or above it).
    pub fn may_administer(&self, person: &str, unit: &str) -> bool {
        self.grants_of(person).any(|g| g.role == Role::Admin && self.is_at_or_below(unit, &g.unit))
    }

    /// Whether `admin` manages `person`: every unit the person holds a role in is within reach
    /// (a person with no role yet is managed by any admin).
    pub fn may_manage_person(&self, admin: &str, person: &str) -> bool {
        self.grants_of(person).all(|g| self.may_administer(admin, &g.unit))
    }

    /// The ledgers `person` may read, with the unit and the rights, in tree order by name.
    pub fn readable_ledgers(&self, person: &str) -> Vec<(&Unit, Rights)> {
        let mut out: Vec<(&Unit, Rights)> = self.units.values().filter(|u| u.ledger.is_some()).map(|u| (u, self.ledger_rights(person, &u.id))).filter(|(_, r)| r.read).collect();
        crate::order::sort_by(&mut out, |a, b| self.path_names(&a.0.id).cmp(&self.path_names(&b.0.id)));
        out
    }

    /// The names from the top of the tree down to `unit` ("某市 / 某县 / 某镇 / 某村").
    pub fn path_names(&self, unit: &str) -> Vec<&str> {
        let mut names: Vec<&str> = self.path(unit).iter().map(|u| u.name.as_str()).collect();
        names.reverse();
        names
    }

    /// The nodes `person` supervises (督查), highest first: those not below another of theirs.
    pub fn supervised_nodes(&self, person: &str) -> Vec<&Unit> {
        let nodes: Vec<&str> = self.grants_of(person).filter(|g| g.role == Role::Supervisor).map(|g| g.unit.as_str()).collect();
        let mut out: Vec<&Unit> = nodes.iter().filter(|n| !nodes.iter().any(|other| other != *n && self.is_at_or_below(n, other))).filter_map(|n| self.units.get(*n)).collect();
        crate::order::sort_by_key(&mut out, |u| (self.path(&u.id).len(), u.name.clone()));
        out.dedup_by(|a, b| a.id == b.id);
        out
    }

    /// The nodes where `person` is the campaign office (先锋办), highest first.
    pub fn office_nodes(&self, person: &str) -> Vec<&Unit> {
        let nodes: Vec<&str> = self.grants_of(person).filter(|g| g.role == Role::Office).map(|g| g.unit.as_str()).collect();
        let mut out: Vec<&Unit> = nodes.iter().filter(|n| !nodes.iter().any(|other| other != *n && self.is_at_or_below(n, other))).filter_map(|n| self.units.get(*n)).collect();
        crate::order::sort_by_key(&mut out, |u| (self.path(&u.id).len(), u.name.clone()));
        out.dedup_by(|a, b| a.id == b.id);
        out
    }

    /// Whether `person` is the office for `unit` (it is at or below one of their office nodes).
    pub fn is_office_for(&self, person: &str, unit: &str) -> bool {
        self.grants_of(person).any(|g| g.role == Role::Office && self.is_at_or_below(unit, &g.unit))
    }

    /// Whether `person` supervises `unit` (it is at or below one of their nodes).
    pub fn supervises(&self, person: &str, unit: &str) -> bool {
        self.grants_of(person).any(|g| g.role == Role::Supervisor && self.is_at_or_below(unit, &g.unit))
    }

    /// Every unit in tree order (parents before children, siblings by name) with its depth.
    pub fn tree_order(&self) -> Vec<(usize, &Unit)> {
        let mut children: BTreeMap<Option<&str>, Vec<&Unit>> = BTreeMap::new();
        for u in self.units.values() {
            // A parent not in the organisation (bad data) makes the unit a top.
            let parent = u.parent.as_deref().filter(|p| self.units.contains_key(*p));
            children.entry(parent).or_default().push(u);
        }
        for list in children.values_mut() {
            crate::order::sort_by(list, |a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        }
        let mut out = Vec::new();
        let mut stack: Vec<(usize, &Unit)> = children.get(&None).map(|tops| tops.iter().rev().map(|u| (0, *u)).collect()).unwrap_or_default();
        while let Some((depth, unit)) = stack.pop() {
            if out.len() >= self.units.len() {
                break; // a cycle in bad data must not loop for ever
            }
            out.push((depth, unit));
            if let Some(kids) = children.get(&Some(unit.id.as_str())) {
                stack.extend(kids.iter().rev().map(|u| (depth + 1, *u)));
            }
        }
        out
    }

    /// People holding a role in `unit` itself (to assign a problem to), with their role.
    pub fn members(&self, unit: &str) -> Vec<(&str, Role)> {
        self.grants.iter().filter(|g| g.unit == unit).map(|g| (g.person.as_str(), g.role)).collect()
    }
}

/// Checks a new person's name and login name (the login: 2–40 letters, digits or `. _ -`).
pub fn check_person(name: &str, login: &str) -> Result<(), String> {
    let (name, login) = (name.trim(), login.trim());
    if name.is_empty() || name.chars().count() > 50 {
        return Err("姓名不能为空，最多 50 字".into());
    }
    if login.len() < 2 || login.len() > 40 || !login.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err("登录名为 2–40 个字母、数字或 . _ -".into());
    }
    Ok(())
}

pub mod import;

#[cfg(test)]
mod tests;
