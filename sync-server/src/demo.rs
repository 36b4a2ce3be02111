//! `sync-server --demo`: a demo organisation to try every role with — a city, a county, two
//! townships, two villages and a community, an enterprise party branch, cadres, a secretary, a
//! supervisor and the campaign office (先锋办, with an open plan round) at the county, and an
//! admin at the city. Made once per data directory; on every
//! start with `--demo` each demo account gets a fresh password (desktop roles) or a fresh
//! one-time activation code (phones), printed for the person trying it.

use chrono::Datelike;
use ledger::org::{Role, UnitKind, Write};
use ledger::pledge::Aim;
use ledger::post::PostDraft;
use ledger::record::Section;
use ledger::PledgeDraft;
use ledger_sync::DocumentId;

use crate::directory::{hash_password, random_id, Directory};
use crate::hub::{Hub, Writer};

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
    /// A secretary's password for the desk too (评先评优 推荐), beside their phone's code.
    pub desk_password: Option<String>,
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
    ("office", "吴静", "示范县", Role::Office),
    ("admin", "周敏", "示范市", Role::Admin),
];

fn desktop(role: Role) -> bool {
    matches!(role, Role::Supervisor | Role::Admin | Role::Office)
}

/// What each demo village's and community's board shows at once: posts and pledges the
/// secretary published, so a newcomer scanning its QR code sees a real board.
const POSTS: &[(&str, &str, &str, &str)] = &[
    ("便民服务窗口", "王芳", "代办社保、医保、低保、残疾人证等业务；政策咨询；开具各类证明。", "工作日 8:30–12:00，14:30–17:30"),
    ("矛盾纠纷调解岗", "张伟", "邻里、家庭、土地纠纷的调解；重大矛盾及时上报。", "工作日全天，急事随时电话联系"),
    ("网格服务岗", "刘洋", "入户走访、收集群众诉求、帮办代办，每月走遍网格内每一户。", "每周二、周四入户"),
];
const PLEDGES: &[(&str, &str, &[Aim])] = &[
    ("每周三下午在村委会接待群众，当场能办的当场办，不能当场办的一周内答复。", "王芳", &[Aim::ServiceLead]),
    ("年底前完成村内主干道路灯更换，实现夜间照明全覆盖。", "张伟", &[Aim::LivelihoodAhead]),
    ("群众反映的问题 5 个工作日内回访，回访满意率达到 95% 以上。", "刘洋", &[Aim::ServiceLead, Aim::GovernanceAhead]),
];

/// The demo unit whose board is filled in.
pub const DEMO_BOARD_UNIT: &str = "东风社区";

/// Writes the demo board into the demo community's ledger, as the secretary would: the posts and
/// pledges, published. Made through a device of the secretary's named for what it is (演示数据),
/// retired at once, so the ledger's history says truthfully where these records came from.
fn seed_board(hub: &Hub) -> Result<(), String> {
    let directory = &hub.directory;
    let Some((secretary, _)) = directory.storage.person_by_login("wangfang")? else { return Ok(()) };
    let device = directory.issue_token(&secretary.id, "演示数据", None)?.device;
    let org = directory.org();
    let today = ledger::report::day_of(crate::directory::now_secs() * 1000).unwrap_or_default();
    let due = (today + chrono::Days::new(90)).to_string();
    // One unit's board (东风社区): the other demo ledgers stay empty, as the browser tests and a
    // newcomer's first visit expect them.
    for unit in org.units.values().filter(|u| u.name == DEMO_BOARD_UNIT) {
        let Some(doc) = unit.ledger.as_deref().and_then(|l| DocumentId::parse(l).ok()) else { continue };
        let writer = Writer { write: Write::Everything, name: &secretary.name, device: Some(&device.id) };
        let due = due.clone();
        hub.write_as(doc, writer, move |l| {
            let at = crate::directory::now_secs() * 1000;
            l.upgrade()?;
            // A millisecond apart, so the board lists them in the order written here.
            for (i, (title, holder, duties, hours)) in POSTS.iter().enumerate() {
                let at = at + i as i64;
                let draft = PostDraft { title: (*title).into(), holder: (*holder).into(), duties: (*duties).into(), hours: (*hours).into() };
                let id = l.add_post(&draft.validate().map_err(|e| ledger::LedgerError::Invalid(e.to_string()))?, at)?;
                l.set_published(Section::Posts, &id, true, at)?;
            }
            for (i, (content, by, aims)) in PLEDGES.iter().enumerate() {
                let at = at + i as i64;
                let draft = PledgeDraft { content: (*content).into(), by: (*by).into(), aims: aims.to_vec(), due: due.clone(), public: true, ..Default::default() };
                let id = l.add_pledge(&draft.validate().map_err(|e| ledger::LedgerError::Invalid(e.to_string()))?, at)?;
                l.set_published(Section::Pledges, &id, true, at)?;
            }
            Ok(())
        })
        .map_err(|e| format!("the demo board of {}: {e:?}", unit.name))?;
    }
    directory.set_device_status(&device.id, "retired", None)
}

/// The county office's open plan round, due at the end of the coming March as the campaign
/// asks, so a newcomer signing in as `office` (or as a village's secretary) sees it at once.
fn seed_plan_round(hub: &Hub) -> Result<(), String> {
    let Some((office, _)) = hub.directory.storage.person_by_login("office")? else { return Ok(()) };
    let org = hub.directory.org();
    let Some(county) = org.units.values().find(|u| u.name == "示范县") else { return Ok(()) };
    let today = ledger::report::day_of(crate::directory::now_secs() * 1000).unwrap_or_default();
    let march = |year| chrono::NaiveDate::from_ymd_opt(year, 3, 31).expect("a date");
    let deadline = if march(today.year()) >= today { march(today.year()) } else { march(today.year() + 1) };
    let title = format!("{} 年“科学发展当先锋”实施方案", deadline.year());
    crate::office::open(hub, &office.id, "plan", &county.id, &title, &deadline.to_string(), "").map(|_| ()).map_err(|(_, _, m)| format!("the demo plan round: {m}"))
}

/// Seeds the demo organisation if the data directory has none, then gives every demo account
/// a fresh secret.
pub fn seed(hub: &Hub) -> Result<Vec<DemoAccount>, String> {
    let directory: &Directory = &hub.directory;
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
        seed_board(hub)?;
        seed_plan_round(hub)?;
        storage.put_setting("demo", "1")?;
    } else if storage.setting("demo")?.is_none() {
        return Err("这个数据目录已有自己的组织，不能再放入演示组织（--demo 只用于空目录或演示目录）".into());
    }
    let org = directory.org();
    let mut accounts = Vec::new();
    for (login, _, unit_name, role) in PEOPLE {
        let Some((person, _)) = storage.person_by_login(login)? else { continue };
        let unit = org.units.values().find(|u| u.name == *unit_name).map(|u| org.path_names(&u.id).join(" / ")).unwrap_or_default();
        let password = |id: &str| -> Result<String, String> {
            let password = random_id()[..12].to_owned();
            storage.set_password(id, &hash_password(&password)?, None, crate::directory::now_secs())?;
            Ok(password)
        };
        let (secret_kind, secret) = if desktop(*role) { ("password", password(&person.id)?) } else { ("code", directory.issue_activation_code(&person.id, None)?) };
        let desk_password = if *role == Role::Secretary { Some(password(&person.id)?) } else { None };
        accounts.push(DemoAccount { login: login.to_string(), name: person.name, role: *role, unit, secret_kind, secret, desk_password });
    }
    Ok(accounts)
}

/// The accounts as printed at start: one line each, tab-separated after `DEMO` so scripts can
/// read them too.
pub fn describe(accounts: &[DemoAccount], base: &str) -> String {
    let mut out = format!("演示组织已就绪。手机账号：在 {base} 输入激活码；桌面账号：在 {base}/desk 用登录名和密码登录（书记的最后一列是桌面密码，用于评先评优推荐）。\n");
    for a in accounts {
        let what = if a.secret_kind == "password" { "密码" } else { "激活码" };
        let desk = a.desk_password.as_ref().map(|p| format!("\t{p}")).unwrap_or_default();
        out.push_str(&format!("DEMO\t{}\t{}\t{}\t{}\t{what}\t{}{desk}\n", a.login, a.name, a.role.label(), a.unit, a.secret));
    }
    out
}
