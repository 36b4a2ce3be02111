//! The phone's addresses (地址): which screen a path names, and the record id in it.
//!
//! A fixed table of paths with at most one `:id`; the page (`app/src/nav.rs`) follows the
//! browser's address with it. Pure, so the table is tested natively.

/// A screen of the phone's ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    VisitList,
    NewVisit,
    VisitDetail,
    EditVisit,
    ProblemList,
    NewProblem,
    ProblemDetail,
    EditProblem,
    EnterpriseList,
    NewEnterprise,
    EnterpriseDetail,
    EditEnterprise,
    PledgeList,
    NewPledge,
    PledgeDetail,
    EditPledge,
    SurveyList,
    NewSurvey,
    SurveyDetail,
    Board,
    NewPost,
    PostDetail,
    EditPost,
    RatingDetail,
    Work,
    NoticeDetail,
    PlanDetail,
    EditPlan,
    RuleList,
    NewRule,
    RuleDetail,
    NotFound,
}

/// Every address, first match wins (a fixed segment before `:id`).
const ROUTES: &[(&str, Screen)] = &[
    ("/", Screen::VisitList),
    ("/visits/new", Screen::NewVisit),
    ("/visits/:id", Screen::VisitDetail),
    ("/visits/:id/edit", Screen::EditVisit),
    ("/problems", Screen::ProblemList),
    ("/problems/new", Screen::NewProblem),
    ("/problems/:id", Screen::ProblemDetail),
    ("/problems/:id/edit", Screen::EditProblem),
    ("/enterprises", Screen::EnterpriseList),
    ("/enterprises/new", Screen::NewEnterprise),
    ("/enterprises/:id", Screen::EnterpriseDetail),
    ("/enterprises/:id/edit", Screen::EditEnterprise),
    ("/pledges", Screen::PledgeList),
    ("/pledges/new", Screen::NewPledge),
    ("/pledges/:id", Screen::PledgeDetail),
    ("/pledges/:id/edit", Screen::EditPledge),
    ("/surveys", Screen::SurveyList),
    ("/surveys/new", Screen::NewSurvey),
    ("/surveys/:id", Screen::SurveyDetail),
    ("/board", Screen::Board),
    ("/board/posts/new", Screen::NewPost),
    ("/board/posts/:id", Screen::PostDetail),
    ("/board/posts/:id/edit", Screen::EditPost),
    ("/board/ratings/:id", Screen::RatingDetail),
    ("/work", Screen::Work),
    ("/work/notices/:id", Screen::NoticeDetail),
    ("/work/plans/:id", Screen::PlanDetail),
    ("/work/plans/:id/edit", Screen::EditPlan),
    ("/work/rules", Screen::RuleList),
    ("/work/rules/new", Screen::NewRule),
    ("/work/rules/:id", Screen::RuleDetail),
];

/// The screen a path names and the `:id` in it (undecoded: record ids are plain ASCII).
pub fn route(path: &str) -> (Screen, Option<String>) {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    for (pattern, screen) in ROUTES {
        if let Some(id) = matches(pattern, path) {
            return (*screen, id);
        }
    }
    (Screen::NotFound, None)
}

/// `Some(id)` when `path` fits `pattern`, its `:id` segment (if any) in the inner option.
fn matches(pattern: &str, path: &str) -> Option<Option<String>> {
    let (mut pattern, mut path) = (pattern.split('/'), path.split('/'));
    let mut id = None;
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return Some(id),
            (Some(":id"), Some(segment)) if !segment.is_empty() => id = Some(segment.to_owned()),
            (Some(fixed), Some(segment)) if fixed == segment => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_address_names_its_screen() {
        assert_eq!(route("/"), (Screen::VisitList, None));
        assert_eq!(route(""), (Screen::VisitList, None));
        assert_eq!(route("/visits/new"), (Screen::NewVisit, None));
        assert_eq!(route("/visits/abc"), (Screen::VisitDetail, Some("abc".into())));
        assert_eq!(route("/visits/abc/edit"), (Screen::EditVisit, Some("abc".into())));
        assert_eq!(route("/problems/"), (Screen::ProblemList, None));
        assert_eq!(route("/board/posts/new"), (Screen::NewPost, None));
        assert_eq!(route("/board/ratings/r1"), (Screen::RatingDetail, Some("r1".into())));
        assert_eq!(route("/work/rules/new"), (Screen::NewRule, None));
        assert_eq!(route("/work/rules/x9"), (Screen::RuleDetail, Some("x9".into())));
        for (pattern, screen) in ROUTES {
            assert_eq!(route(&pattern.replace(":id", "id1")).0, *screen, "{pattern}");
        }
    }

    #[test]
    fn other_addresses_are_not_found() {
        for path in ["/visits", "/visits//edit", "/nope", "/problems/a/b/c", "/work/plans", "/board/posts"] {
            assert_eq!(route(path).0, Screen::NotFound, "{path}");
        }
    }
}
