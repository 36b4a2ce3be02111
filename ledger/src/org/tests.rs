use super::*;

fn unit(id: &str, kind: UnitKind, parent: Option<&str>) -> Unit {
    Unit { id: id.into(), name: format!("{id}名"), kind, parent: parent.map(Into::into), ledger: kind.keeps_ledger().then(|| format!("doc-{id}")) }
}

/// city → county A (township A1 → villages a, b), county B (township B1 → village c).
fn org() -> Org {
    let mut org = Org::default();
    for u in [
        unit("city", UnitKind::City, None),
        unit("A", UnitKind::County, Some("city")),
        unit("A1", UnitKind::Township, Some("A")),
        unit("a", UnitKind::Village, Some("A1")),
        unit("b", UnitKind::Community, Some("A1")),
        unit("B", UnitKind::County, Some("city")),
        unit("B1", UnitKind::Township, Some("B")),
        unit("c", UnitKind::Village, Some("B1")),
    ] {
        org.units.insert(u.id.clone(), u);
    }
    for (person, unit, role) in [
        ("cadre", "a", Role::Cadre),
        ("sec", "a", Role::Secretary),
        ("sup", "A", Role::Supervisor),
        ("admin", "A", Role::Admin),
        ("both", "a", Role::Cadre),
        ("both", "c", Role::Cadre),
    ] {
        org.grants.insert(Grant { person: person.into(), unit: unit.into(), role });
    }
    org
}

#[test]
fn rights_per_role_and_place_in_the_tree() {
    let org = org();
    let all = Rights { read: true, write: Write::Cadre, manage: false };
    assert_eq!(org.ledger_rights("cadre", "a"), all);
    assert_eq!(org.ledger_rights("cadre", "b"), Rights::NONE, "a cadre of a reads no other unit");
    assert_eq!(org.ledger_rights("sec", "a"), Rights { read: true, write: Write::Everything, manage: true });
    let supervise = Rights { read: true, write: Write::SupervisionOnly, manage: false };
    assert_eq!(org.ledger_rights("sup", "a"), supervise);
    assert_eq!(org.ledger_rights("sup", "b"), supervise);
    assert_eq!(org.ledger_rights("sup", "c"), Rights::NONE, "another county's unit");
    assert_eq!(org.ledger_rights("admin", "a"), Rights::NONE, "admins read no ledger");
    assert_eq!(org.ledger_rights("nobody", "a"), Rights::NONE);
    assert_eq!(org.ledger_rights("both", "c"), all);
    let readable: Vec<&str> = org.readable_ledgers("sup").iter().map(|(u, _)| u.id.as_str()).collect();
    assert_eq!(readable, ["a", "b"]);
    assert_eq!(org.readable_ledgers("both").len(), 2);
    assert!(org.may_administer("admin", "b") && org.may_administer("admin", "A"));
    assert!(!org.may_administer("admin", "c") && !org.may_administer("admin", "city") && !org.may_administer("sup", "a"));
}

#[test]
fn a_persons_grants_are_exactly_theirs() {
    let mut org = org();
    // Names that sort next to each other, and one that is a prefix of another.
    org.grants.insert(Grant { person: "cadre2".into(), unit: "c".into(), role: Role::Cadre });
    org.grants.insert(Grant { person: "cadr".into(), unit: "b".into(), role: Role::Admin });
    org.grants.insert(Grant { person: "cadre".into(), unit: "A".into(), role: Role::Supervisor });
    let of = |p: &str| org.grants_of(p).map(|g| (g.unit.clone(), g.role)).collect::<Vec<_>>();
    let grants = |g: &[(&str, Role)]| g.iter().map(|(u, r)| (u.to_string(), *r)).collect::<Vec<_>>();
    assert_eq!(of("cadre"), grants(&[("A", Role::Supervisor), ("a", Role::Cadre)]));
    assert_eq!(of("cadre2"), grants(&[("c", Role::Cadre)]));
    assert_eq!(of("cadr"), grants(&[("b", Role::Admin)]));
    assert_eq!(of("both"), grants(&[("a", Role::Cadre), ("c", Role::Cadre)]));
    assert_eq!(of("nobody"), grants(&[]));
    assert_eq!(of(""), grants(&[]));
}

#[test]
fn a_cadre_holding_a_supervisor_role_too_keeps_a_cadres_write_in_their_own_unit() {
    let mut org = org();
    org.grants.insert(Grant { person: "cadre".into(), unit: "A".into(), role: Role::Supervisor });
    assert_eq!(org.ledger_rights("cadre", "a").write, Write::Cadre);
    assert_eq!(org.ledger_rights("cadre", "b").write, Write::SupervisionOnly);
}

#[test]
fn rights_of_a_person_with_roles_in_many_units_are_those_of_each_unit() {
    // One person with a role almost everywhere, checked against the rule read off every grant:
    // the lookup goes by the unit's path, so it must find exactly what a walk of all grants finds.
    let mut org = org();
    for (unit, role) in [("a", Role::Cadre), ("b", Role::Secretary), ("B1", Role::Supervisor), ("A", Role::Admin), ("city", Role::Cadre), ("c", Role::Admin)] {
        org.grants.insert(Grant { person: "many".into(), unit: unit.into(), role });
    }
    // A neighbour in the ordered set, so a range that ran past the person would show.
    org.grants.insert(Grant { person: "manz".into(), unit: "c".into(), role: Role::Secretary });
    let by_every_grant = |person: &str, unit: &str| {
        let mut rights = Rights::NONE;
        for g in org.grants.iter().filter(|g| g.person == person) {
            let here = g.unit == unit && org.units.contains_key(unit);
            match g.role {
                Role::Cadre if here => rights = Rights { read: true, write: rights.write.max(Write::Cadre), ..rights },
                Role::Secretary if here => rights = Rights { read: true, write: Write::Everything, manage: true },
                Role::Supervisor if org.is_at_or_below(unit, &g.unit) => rights = Rights { read: true, write: rights.write.max(Write::SupervisionOnly), ..rights },
                _ => {}
            }
        }
        rights
    };
    for person in ["many", "manz", "cadre", "sec", "sup", "admin", "both", "nobody"] {
        for unit in ["city", "A", "A1", "a", "b", "B", "B1", "c", "gone"] {
            assert_eq!(org.ledger_rights(person, unit), by_every_grant(person, unit), "{person} in {unit}");
        }
    }
    assert_eq!(org.ledger_rights("many", "c").write, Write::SupervisionOnly, "supervisor above, admin at the unit");
    assert_eq!(org.ledger_rights("many", "b"), Rights { read: true, write: Write::Everything, manage: true });
    assert_eq!(org.ledger_rights("many", "A1"), Rights::NONE, "a cadre of the city is no cadre of a township below it");
}

#[test]
fn new_units_must_fit_the_tree() {
    let org = org();
    assert_eq!(org.check_new_unit("新村", UnitKind::Village, Some("A1")), Ok(()));
    assert_eq!(org.check_new_unit("  ", UnitKind::Village, Some("A1")), Err(OrgError::EmptyName));
    assert_eq!(org.check_new_unit("新村", UnitKind::Village, Some("A")), Err(OrgError::WrongLevel { kind: "村", parent: "县（区）" }));
    assert_eq!(org.check_new_unit("a名", UnitKind::Village, Some("A1")), Err(OrgError::DuplicateName("a名".into())));
    assert_eq!(org.check_new_unit("x", UnitKind::Village, Some("nope")), Err(OrgError::NoParent("nope".into())));
    assert_eq!(org.check_new_unit("第二个市", UnitKind::City, None), Err(OrgError::SecondRoot));
    assert_eq!(Org::default().check_new_unit("某市", UnitKind::City, None), Ok(()));
    assert_eq!(org.path_names("c"), ["city名", "B名", "B1名", "c名"]);
}

#[test]
fn a_cycle_in_bad_data_ends() {
    let mut org = org();
    org.units.get_mut("city").unwrap().parent = Some("a".into());
    assert!(org.path("a").len() <= org.units.len() + 1);
    assert!(!org.is_at_or_below("a", "B"));
}

#[test]
fn codes_round_trip() {
    for r in Role::ALL {
        assert_eq!(Role::from_code(r.code()), Some(r));
        assert_eq!(Role::from_code(r.label()), Some(r));
    }
    for k in UnitKind::ALL {
        assert_eq!(UnitKind::from_code(k.code()), Some(k));
    }
}

#[test]
fn the_tree_lists_parents_before_children_siblings_by_name() {
    let mut org = Org::default();
    for (id, name, kind, parent) in [
        ("v2", "二村", UnitKind::Village, Some("t")),
        ("c", "县", UnitKind::County, Some("not-here")),
        ("t", "镇", UnitKind::Township, Some("c")),
        ("v1", "一村", UnitKind::Village, Some("t")),
    ] {
        org.units.insert(id.into(), Unit { id: id.into(), name: name.into(), kind, parent: parent.map(Into::into), ledger: None });
    }
    let order: Vec<(usize, &str)> = org.tree_order().into_iter().map(|(d, u)| (d, u.id.as_str())).collect();
    assert_eq!(order, [(0, "c"), (1, "t"), (2, "v1"), (2, "v2")], "a unit whose parent is not shown is a top");
}

#[test]
fn supervised_nodes_are_the_highest_of_a_persons_supervisor_roles() {
    let mut org = org();
    org.grants.insert(Grant { person: "sup".into(), unit: "A1".into(), role: Role::Supervisor });
    org.grants.insert(Grant { person: "sup".into(), unit: "c".into(), role: Role::Supervisor });
    let nodes: Vec<&str> = org.supervised_nodes("sup").iter().map(|u| u.id.as_str()).collect();
    assert_eq!(nodes, ["A", "c"], "A1 lies below A");
    assert!(org.supervises("sup", "b") && org.supervises("sup", "c") && !org.supervises("sup", "B1"));
    assert!(org.supervised_nodes("cadre").is_empty() && !org.supervises("admin", "a"), "admins and cadres supervise nothing");
}
