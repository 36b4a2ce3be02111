//! `sync-server --demo`: a demo organisation to try every role with — a city, a county, two
//! townships, two villages and a community, an enterprise party branch, cadres, a secretary, a
//! supervisor at the county and an admin at the city. Made once per data directory; on every
//! start with `--demo` each demo account gets a fresh password (desktop roles) or a fresh
//! one-time activation code (phones), printed for the person trying it.

use ledger::org::{Role, UnitKind};

use crate::directory::{hash_password, random_id, Directory};

/// One demo account as printed.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub unit: String,
    /// "password" (desktop) or "code" (phone activation).
    pub secret_kind: &'static str,
    pub secret: String,
}

const UNITS: &[(&str, UnitKind, Option<&str>)] = &[
    ("示范市", UnitKind::City, None),
    ("示范县", UnitKind::County, Some("示范市")),
    ("青石镇", UnitKind::Township, Some("示范县")),
    ("柳河镇", UnitKind::Township, Some("示范县")),
    ("青石村", UnitKind::Village, Some("青石镇")),
    ("东风社区", UnitKind::Community, Some("青石镇")),
    ("柳河村", UnitKind::Village, Some("柳河镇")),
    ("恒达机械有限公司党支部", UnitKind::Enterprise, Some("柳河镇")),
];

/// (login, name, unit, role): phones for cadres and secretaries, desktops for the rest.
const PEOPLE: &[(&str, &str, &str, Role)] = &[
    ("zhangwei", "张伟", "青石村", Role::Cadre),
    ("liuyang", "刘洋", "青石村", Role::Cadre),
    ("wangfang", "王芳", "青石村", Role::Secretary),
    ("lina", "李娜", "东风社区", Role::Cadre),
    ("chenjie", "陈杰", "柳河村", Role::Cadre),
    ("zhaolei", "赵磊", "恒达机械有限公司党支部", Role::Cadre),
    ("sunli", "孙丽", "示范县", Role::Supervisor),
    ("admin", "周敏", "示范市", Role::Admin),
];

fn desktop(role: Role) -> bool {
    matches!(role, Role::Supervisor | Role::Admin)
}

/// Seeds the demo organisation if the data directory has none, then gives every demo account
/// a fresh secret.
pub fn seed(directory: &Directory) -> Result<Vec<DemoAccount>, String> {
    let storage = &directory.storage;
    if directory.org().units.is_empty() && storage.people_count()? == 0 {
        let mut ids = std::collections::HashMap::new();
        for (name, kind, parent) in UNITS {
            let parent = parent.map(|p| ids.get(p).cloned().expect("parents come first"));
            let unit = directory.add_unit(name, *kind, parent.as_deref(), None)?;
            ids.insert(*name, unit.id);
        }
        for (login, name, unit, role) in PEOPLE {
            let person = directory.add_person(name, login, None, None)?;
            directory.grant(&person.id, &ids[unit], *role, None)?;
        }
        storage.put_setting("demo", "1")?;
    } else if storage.setting("demo")?.is_none() {
        return Err("这个数据目录已有自己的组织，不能再放入演示组织（--demo 只用于空目录或演示目录）".into());
    }
    let org = directory.org();
    let mut accounts = Vec::new();
    for (login, _, unit_name, role) in PEOPLE {
        let Some((person, _)) = storage.person_by_login(login)? else { continue };
        let unit = org.units.values().find(|u| u.name == *unit_name).map(|u| org.path_names(&u.id).join(" / ")).unwrap_or_default();
        let (secret_kind, secret) = if desktop(*role) {
            let password = random_id()[..12].to_owned();
            storage.set_password(&person.id, &hash_password(&password)?, None, crate::directory::now_secs())?;
            ("password", password)
        } else {
            ("code", directory.issue_activation_code(&person.id, None)?)
        };
        accounts.push(DemoAccount { login: login.to_string(), name: person.name, role: *role, unit, secret_kind, secret });
    }
    Ok(accounts)
}

/// The accounts as printed at start: one line each, tab-separated after `DEMO` so scripts can
/// read them too.
pub fn describe(accounts: &[DemoAccount], base: &str) -> String {
    let mut out = format!("演示组织已就绪。手机账号：在 {base} 输入激活码；桌面账号：在 {base}/desk 用登录名和密码登录。\n");
    for a in accounts {
        let what = if a.secret_kind == "password" { "密码" } else { "激活码" };
        out.push_str(&format!("DEMO\t{}\t{}\t{}\t{}\t{what}\t{}\n", a.login, a.name, a.role.label(), a.unit, a.secret));
    }
    out
}
