use super::*;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Noon in China on `on`, in ms.
fn noon(on: &str) -> i64 {
    day(on).and_hms_opt(4, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn rule(valid_until: Option<&str>) -> Rule {
    Rule {
        id: RecordId::random(),
        name: "村务公开制度".into(),
        number: "青石村〔2025〕1号".into(),
        in_force_from: Some(day("2025-01-01")),
        valid_until: valid_until.map(day),
        basis: "村民委员会组织法".into(),
        replaces: None,
        replaced_by: None,
        changes: Vec::new(),
        conflicts: Vec::new(),
        created_at: 0,
        deleted: false,
    }
}

fn change(to: RuleStatus, on: &str, round: Option<(&RecordId, Cleanup)>) -> RuleChange {
    RuleChange { id: RecordId::random(), at: noon(on), by: "王芳".into(), to, reason: "理由".into(), round: round.map(|(r, d)| (r.clone(), d)) }
}

#[test]
fn a_rule_moves_by_its_changes_and_final_ones_stay_final() {
    let today = day("2027-03-01");
    let mut r = rule(None);
    assert_eq!(r.status(today), RuleStatus::InForce);
    r.changes.push(change(RuleStatus::UnderRevision, "2027-01-10", None));
    assert_eq!(r.status(today), RuleStatus::UnderRevision);
    r.changes.push(change(RuleStatus::Revised, "2027-02-10", None));
    r.changes.push(change(RuleStatus::InForce, "2027-02-20", None));
    assert_eq!(r.status(today), RuleStatus::Revised, "a revised rule does not come back into force");
}

#[test]
fn two_phones_changing_one_rule_at_once_agree_whatever_order_the_changes_arrive() {
    let today = day("2027-03-01");
    let mut r = rule(None);
    let (a, b) = (change(RuleStatus::Repealed, "2027-02-01", None), change(RuleStatus::Revised, "2027-02-01", None));
    r.changes = vec![a.clone(), b.clone()];
    let one = r.status(today);
    r.changes = vec![b, a];
    assert_eq!(r.status(today), one);
    assert!(matches!(one, RuleStatus::Repealed | RuleStatus::Revised));
}

#[test]
fn a_rule_past_its_validity_lapses_unless_already_revised_or_repealed() {
    let mut r = rule(Some("2026-12-31"));
    assert_eq!(r.status(day("2026-12-31")), RuleStatus::InForce);
    assert_eq!(r.status(day("2027-01-01")), RuleStatus::Lapsed);
    r.changes.push(change(RuleStatus::Repealed, "2026-06-01", None));
    assert_eq!(r.status(day("2027-01-01")), RuleStatus::Repealed);
}

#[test]
fn changes_and_decisions_are_checked_with_their_reasons() {
    let today = day("2027-03-01");
    let mut r = rule(None);
    assert!(check_change(&r, RuleStatus::Repealed, "与新规定冲突", today).is_ok());
    assert!(check_change(&r, RuleStatus::Repealed, "  ", today).unwrap_err().for_field("reason").is_some());
    assert!(check_change(&r, RuleStatus::Lapsed, "到期", today).unwrap_err().for_field("status").is_some(), "失效 comes by date");
    assert!(check_decision(&r, Cleanup::Keep, "", today).is_ok(), "kept as it is needs no reason");
    assert!(check_decision(&r, Cleanup::Repeal, "", today).unwrap_err().for_field("reason").is_some());
    r.changes.push(change(RuleStatus::Repealed, "2027-02-01", None));
    assert!(check_change(&r, RuleStatus::InForce, "恢复", today).is_err());
    assert!(check_decision(&r, Cleanup::Keep, "", today).unwrap_err().for_field("status").unwrap().contains("废止"));
}

#[test]
fn a_cleanup_round_counts_the_rules_that_bound_when_it_opened_and_what_was_decided() {
    let round = RecordId::random();
    let (opened, today) = (day("2027-03-01"), day("2027-03-20"));
    let kept = {
        let mut r = rule(None);
        r.changes.push(change(RuleStatus::InForce, "2027-03-05", Some((&round, Cleanup::Keep))));
        r
    };
    let repealed = {
        let mut r = rule(None);
        r.changes.push(change(RuleStatus::Repealed, "2027-03-06", Some((&round, Cleanup::Repeal))));
        r
    };
    let undecided = rule(None);
    let gone_before = {
        let mut r = rule(None);
        r.changes.push(change(RuleStatus::Repealed, "2026-10-01", None));
        r
    };
    let other_round = {
        let mut r = rule(None);
        r.changes.push(change(RuleStatus::UnderRevision, "2027-03-07", Some((&RecordId::random(), Cleanup::Revise))));
        r
    };
    let lapsed = rule(Some("2027-03-10"));
    // Written after the round opened: a new rule, not one to clean up.
    let written_later = Rule { created_at: (opened + chrono::Days::new(2)).and_hms_opt(4, 0, 0).unwrap().and_utc().timestamp_millis(), ..rule(None) };
    let p = CleanupProgress::of(&[kept, repealed.clone(), undecided, gone_before, other_round, lapsed, written_later], &round, opened, today);
    assert_eq!((p.rules, p.decided, p.kept, p.revised, p.repealed, p.past_validity), (5, 2, 1, 0, 1, 1));
    assert!(!p.done());
    assert_eq!(repealed.decision_in(&round).map(|(d, _)| d), Some(Cleanup::Repeal));
    assert_eq!(repealed.status(today), RuleStatus::Repealed);
}
