use super::*;

#[test]
fn a_case_key_opens_only_its_own_case() {
    let board = Board::new(vec![7; 32], &BoardLimits::default(), None, None);
    let doc = DocumentId::random();
    let (a, b) = (RecordId::random(), RecordId::random());
    let key = board.case_key(&doc, &a);
    assert_eq!(key.len(), 32);
    assert!(board.case_key_matches(&doc, &a, &key));
    assert!(!board.case_key_matches(&doc, &b, &key));
    assert!(!board.case_key_matches(&DocumentId::random(), &a, &key));
    assert!(!board.case_key_matches(&doc, &a, &key[..31]));
    let other = Board::new(vec![8; 32], &BoardLimits::default(), None, None);
    assert!(!other.case_key_matches(&doc, &a, &key), "another data directory's key");
}

#[test]
fn a_question_needs_a_line_and_keeps_its_bounds() {
    let ok = AskForm { title: " 三号楼路灯不亮 ".into(), detail: "晚上看不见路".into(), phone: "13800138000".into() };
    let draft = ok.validate().unwrap();
    assert_eq!((draft.title.as_str(), draft.raised_by, draft.contact.as_str()), ("三号楼路灯不亮", RaisedBy::Message, "13800138000"));
    assert!(AskForm::default().validate().is_err());
    assert!(AskForm { title: "灯".repeat(MAX_QUESTION_TITLE + 1), ..Default::default() }.validate().is_err());
    assert!(AskForm { title: "灯".into(), detail: "长".repeat(MAX_QUESTION_DETAIL + 1), ..Default::default() }.validate().is_err());
    assert!(AskForm { title: "灯".into(), phone: "abc".into(), ..Default::default() }.validate().is_err());
}

#[test]
fn pages_escape_what_residents_and_cadres_wrote() {
    let f = pages::Filled { errors: vec!["<b>".into()], verdict: "", comment: "</textarea><script>alert(1)</script>", phone: "\"><script>" };
    let page = pages::rate_form("<单位>", "<img src=x onerror=alert(1)>", "/b/u/rate/post/x", &f);
    assert!(!page.contains("<script>"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(!page.contains("<单位>"));
    assert!(!page.contains(" checked"), "nothing is pre-selected");
}
