use super::*;
use crate::org::{Grant, Org, Role, Unit, UnitKind};

/// city名 → A名 (admin "admin" here) → A1名 → a名; city名 → B名 (another county).
fn org() -> Org {
    let mut org = Org::default();
    for (id, kind, parent) in [
        ("city", UnitKind::City, None),
        ("A", UnitKind::County, Some("city")),
        ("A1", UnitKind::Township, Some("A")),
        ("a", UnitKind::Village, Some("A1")),
        ("B", UnitKind::County, Some("city")),
    ] {
        org.units.insert(id.into(), Unit { id: id.into(), name: format!("{id}名"), kind, parent: parent.map(Into::into), ledger: None });
    }
    org.grants.insert(Grant { person: "admin".into(), unit: "A".into(), role: Role::Admin });
    org.grants.insert(Grant { person: "old".into(), unit: "a".into(), role: Role::Cadre });
    org.grants.insert(Grant { person: "far".into(), unit: "B".into(), role: Role::Cadre });
    org
}

fn logins() -> HashMap<String, String> {
    [("oldie", "old"), ("faraway", "far")].into_iter().map(|(l, id)| (l.to_owned(), id.to_owned())).collect()
}

fn row(line: usize, cells: [&str; 5]) -> Row {
    let [unit_path, unit_kind, name, login, role] = cells.map(str::to_owned);
    Row { line, unit_path, unit_kind, name, login, role }
}

fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("new{n}")
    }
}

#[test]
fn units_people_and_roles_are_planned_parents_first() {
    let rows = [
        row(2, ["city名/A名/A2镇", "乡镇", "", "", ""]),
        row(3, ["city名/A名/A2镇/二村", "村", "王一", "wangyi", "干部"]),
        row(4, ["city名/A名/A2镇/二村", "", "", "wangyi", "书记"]),
        row(5, ["city名/A名/A1名/a名", "村", "", "oldie", "secretary"]),
        row(6, ["city名/A名", "", "督查一", "duchayi", "督查"]),
        row(7, ["", "", "", "", ""]),
    ];
    let plan = plan(&org(), "admin", &logins(), &rows, &mut ids()).unwrap();
    let units: Vec<(&str, &str, Option<&str>, UnitKind)> = plan.units.iter().map(|u| (u.id.as_str(), u.name.as_str(), u.parent.as_deref(), u.kind)).collect();
    assert_eq!(units, [("new1", "A2镇", Some("A"), UnitKind::Township), ("new2", "二村", Some("new1"), UnitKind::Village)]);
    let people: Vec<(&str, &str)> = plan.people.iter().map(|p| (p.id.as_str(), p.login.as_str())).collect();
    assert_eq!(people, [("new3", "wangyi"), ("new4", "duchayi")]);
    let grants: Vec<(&str, &str, Role)> = plan.grants.iter().map(|g| (g.person.as_str(), g.unit.as_str(), g.role)).collect();
    assert_eq!(grants, [("new3", "new2", Role::Cadre), ("new3", "new2", Role::Secretary), ("old", "a", Role::Secretary), ("new4", "A", Role::Supervisor)]);
}

#[test]
fn every_wrong_row_is_named_and_nothing_is_planned() {
    let rows = [
        row(2, ["city名/A名/A2镇", "乡镇", "", "", ""]),
        row(3, ["city名/A名/无此镇/三村", "村", "", "", ""]),
        row(4, ["city名/B名/B2镇", "乡镇", "", "", ""]),
        row(5, ["city名/A名/A2镇/四村", "县", "", "", ""]),
        row(6, ["city名/A名/A2镇/五村", "", "", "", ""]),
        row(7, ["city名/A名/A2镇/六村", "村庄", "", "", ""]),
        row(8, ["city名/A名/A2镇", "村", "", "", ""]),
        row(9, ["city名/A名/A2镇", "", "张三", "zhangsan", "村长"]),
        row(10, ["city名/A名/A2镇", "", "张三", "", "干部"]),
        row(11, ["city名/A名/A2镇", "", "张三", "zhang san", "干部"]),
        row(12, ["city名/A名/A2镇", "", "", "faraway", "干部"]),
        row(13, ["city名/A名/A2镇", "", "李四", "lisi", "干部"]),
        row(14, ["city名/A名/A2镇", "", "李五", "lisi", "干部"]),
        row(15, ["city名//A2镇", "", "", "", ""]),
        row(16, ["", "村", "", "", ""]),
        row(17, ["city名/A名/A2镇", "乡镇", "", "", ""]),
    ];
    let refused = plan(&org(), "admin", &logins(), &rows, &mut ids()).unwrap_err();
    let lines: Vec<usize> = refused.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16], "{refused:#?}");
    assert_eq!(refused.total, 13);
    let message = |line: usize| refused.errors.iter().find(|e| e.line == line).unwrap().message.clone();
    assert!(message(3).contains("上级单位") && message(3).contains("无此镇"), "{}", message(3));
    assert!(message(4).contains("管理的范围"), "{}", message(4));
    assert!(message(5).contains("不能设在"), "{}", message(5));
    assert!(message(6).contains("缺少单位类型"), "{}", message(6));
    assert!(message(7).contains("村庄"), "{}", message(7));
    assert!(message(8).contains("不符"), "{}", message(8));
    assert!(message(9).contains("村长"), "{}", message(9));
    assert!(message(10).contains("登录名"), "{}", message(10));
    assert!(message(11).contains("登录名"), "{}", message(11));
    assert!(message(12).contains("管理范围以外"), "{}", message(12));
    assert!(message(14).contains("李四"), "{}", message(14));
    assert!(message(15).contains("空的层级"), "{}", message(15));
    assert!(message(16).contains("缺少单位路径"), "{}", message(16));
}

#[test]
fn an_empty_table_and_too_many_problems_are_refused_clearly() {
    let refused = plan(&org(), "admin", &logins(), &[row(2, ["", "", "", "", ""])], &mut ids()).unwrap_err();
    assert_eq!(refused.errors[0].message, "表中没有数据行");
    let rows: Vec<Row> = (0..500).map(|i| row(i + 2, ["city名/B名", "", "", "", ""])).collect();
    let refused = plan(&org(), "admin", &logins(), &rows, &mut ids()).unwrap_err();
    assert_eq!((refused.errors.len(), refused.total), (MAX_REPORTED, 500));
}

#[test]
fn columns_are_found_by_their_header_in_any_order() {
    let header: Vec<String> = ["\u{feff}登录名", "角色", "单位路径", "备注", "姓名", "单位类型"].map(String::from).to_vec();
    let columns = columns(&header).unwrap();
    assert_eq!(columns, [Some(2), Some(5), Some(4), Some(0), Some(1)]);
    let cells: Vec<String> = ["lisi", "干部", "市/县", "x", " 李四 ", "县"].map(String::from).to_vec();
    assert_eq!(Row::from_cells(7, &cells, &columns), row(7, ["市/县", "县", "李四", "lisi", "干部"]));
    let err = columns_missing();
    assert!(err.contains("角色") && err.contains("姓名"), "{err}");
}

fn columns_missing() -> String {
    columns(&["单位路径".to_owned(), "单位类型".to_owned(), "登录名".to_owned()]).unwrap_err()
}

#[test]
fn kinds_as_people_write_them() {
    for (text, kind) in [
        ("县", UnitKind::County),
        ("区", UnitKind::County),
        ("街道", UnitKind::Township),
        ("镇", UnitKind::Township),
        ("社区", UnitKind::Community),
        ("企业党支部", UnitKind::Enterprise),
        ("village", UnitKind::Village),
    ] {
        assert_eq!(parse_kind(text), Some(kind), "{text}");
    }
    assert_eq!(parse_kind("村庄"), None);
}
