//! Visits (走访记录): home visits, petitions received, enterprise visits, forums.
//!
//! `VisitDraft` is what a form holds (raw text); `validate` turns it into a `ValidVisit` or
//! into field-by-field messages in Chinese. `Visit` is the plain read-only view the UI shows.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::validation::ValidationErrors;
pub use crate::validation::EARLIEST_DATE;
use crate::RecordId;

/// What kind of contact a visit was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VisitKind {
    /// 入户走访
    HomeVisit,
    /// 接访
    Petition,
    /// 下访: going down to where people are, to hear them.
    DownVisit,
    /// 企业走访
    EnterpriseVisit,
    /// 座谈
    Forum,
    /// 征求意见
    Consultation,
    /// 矛盾排查: screening for disputes before they grow.
    DisputeScreening,
    /// 政策宣讲: explaining policy to residents.
    PolicyTalk,
    /// 其他 (always last: figures count unknown kinds here)
    Other,
}

impl VisitKind {
    pub const ALL: [VisitKind; Self::COUNT] =
        [Self::HomeVisit, Self::Petition, Self::DownVisit, Self::EnterpriseVisit, Self::Forum, Self::Consultation, Self::DisputeScreening, Self::PolicyTalk, Self::Other];
    pub const COUNT: usize = 9;

    /// The stable code stored in documents.
    pub fn code(self) -> &'static str {
        match self {
            Self::HomeVisit => "home",
            Self::Petition => "petition",
            Self::DownVisit => "down",
            Self::EnterpriseVisit => "enterprise",
            Self::Forum => "forum",
            Self::Consultation => "consultation",
            Self::DisputeScreening => "disputes",
            Self::PolicyTalk => "policy",
            Self::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::HomeVisit => "入户走访",
            Self::Petition => "接访",
            Self::DownVisit => "下访",
            Self::EnterpriseVisit => "企业走访",
            Self::Forum => "座谈",
            Self::Consultation => "征求意见",
            Self::DisputeScreening => "矛盾排查",
            Self::PolicyTalk => "政策宣讲",
            Self::Other => "其他",
        }
    }
}

/// Upper bounds on field lengths, in characters. Long enough for a real account of a
/// visit, short enough that one record cannot blow up a phone's ledger.
pub const MAX_WHOM: usize = 100;
pub const MAX_PLACE: usize = 200;
pub const MAX_HEARD: usize = 20_000;
pub const MAX_OPINIONS: usize = 10_000;
pub const MAX_FOLLOW_UP: usize = 5_000;

/// A visit as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub id: RecordId,
    /// None when the stored date could not be read (reported as a field problem).
    pub date: Option<NaiveDate>,
    pub kind: VisitKind,
    /// 走访对象: household, person or enterprise.
    pub whom: String,
    pub place: String,
    /// 走访情况: what was heard.
    pub heard: String,
    /// 意见建议
    pub opinions: String,
    pub follow_up_needed: bool,
    /// 跟进事项
    pub follow_up: String,
    /// The served enterprise this visit went to (企业走访), if it is in the ledger.
    pub enterprise_id: Option<RecordId>,
    /// Fields two people set differently offline, kept until someone chooses.
    /// Photos (see [`crate::photo`]), oldest first.
    #[serde(default)]
    pub photos: Vec<crate::photo::PhotoRef>,
    /// Where it was recorded, when the cadre tapped 记录位置.
    #[serde(default)]
    pub location: Option<crate::photo::Location>,
    pub conflicts: Vec<crate::record::Conflict>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
}

impl Visit {
    /// The draft a form starts from when editing this visit.
    pub fn to_draft(&self) -> VisitDraft {
        VisitDraft {
            date: self.date.map(|d| d.to_string()).unwrap_or_default(),
            kind: self.kind,
            whom: self.whom.clone(),
            place: self.place.clone(),
            heard: self.heard.clone(),
            opinions: self.opinions.clone(),
            follow_up_needed: self.follow_up_needed,
            follow_up: self.follow_up.clone(),
            enterprise_id: self.enterprise_id.clone(),
        }
    }
}

/// What a visit form holds, unvalidated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitDraft {
    pub date: String,
    pub kind: VisitKind,
    pub whom: String,
    pub place: String,
    pub heard: String,
    pub opinions: String,
    pub follow_up_needed: bool,
    pub follow_up: String,
    pub enterprise_id: Option<RecordId>,
}

impl VisitDraft {
    /// An empty form dated today.
    pub fn new(today: NaiveDate) -> Self {
        Self {
            date: today.to_string(),
            kind: VisitKind::HomeVisit,
            whom: String::new(),
            place: String::new(),
            heard: String::new(),
            opinions: String::new(),
            follow_up_needed: false,
            follow_up: String::new(),
            enterprise_id: None,
        }
    }

    /// Checks every field and reports all problems at once, so the person fixes them in one go.
    pub fn validate(&self, today: NaiveDate) -> Result<ValidVisit, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let date = match crate::day::parse(self.date.trim()) {
            None if self.date.trim().is_empty() => {
                errors.push("date", "请填写走访日期");
                None
            }
            None => {
                errors.push("date", "日期格式应为 年-月-日，例如 2026-03-05");
                None
            }
            Some(d) if d > today => {
                errors.push("date", "走访日期不能晚于今天");
                None
            }
            Some(d) if d < EARLIEST_DATE => {
                errors.push("date", "走访日期不能早于 2000 年");
                None
            }
            Some(d) => Some(d),
        };
        let whom = self.whom.trim();
        if whom.is_empty() {
            errors.push("whom", "请填写走访对象（户主、群众或企业名称）");
        }
        let heard = self.heard.trim();
        if heard.is_empty() {
            errors.push("heard", "请填写走访情况");
        }
        let follow_up = self.follow_up.trim();
        if self.follow_up_needed && follow_up.is_empty() {
            errors.push("follow_up", "需要跟进时，请写明跟进事项");
        }
        for (field, value, max, name) in [
            ("whom", whom, MAX_WHOM, "走访对象"),
            ("place", self.place.trim(), MAX_PLACE, "地点"),
            ("heard", heard, MAX_HEARD, "走访情况"),
            ("opinions", self.opinions.trim(), MAX_OPINIONS, "意见建议"),
            ("follow_up", follow_up, MAX_FOLLOW_UP, "跟进事项"),
        ] {
            errors.max_len(field, name, value, max);
        }
        match date {
            Some(date) if errors.is_empty() => Ok(ValidVisit {
                date,
                kind: self.kind,
                whom: whom.to_owned(),
                place: self.place.trim().to_owned(),
                heard: heard.to_owned(),
                opinions: self.opinions.trim().to_owned(),
                follow_up_needed: self.follow_up_needed,
                // Kept even when follow-up is switched off, so flipping the switch loses no text.
                follow_up: follow_up.to_owned(),
                enterprise_id: self.enterprise_id.clone(),
            }),
            _ => Err(errors),
        }
    }
}

/// A visit that passed validation: the only input the ledger document accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidVisit {
    pub date: NaiveDate,
    pub kind: VisitKind,
    pub whom: String,
    pub place: String,
    pub heard: String,
    pub opinions: String,
    pub follow_up_needed: bool,
    pub follow_up: String,
    pub enterprise_id: Option<RecordId>,
}

/// A stored value of a visit field as a person reads it: what the conflict chooser shows.
pub fn describe_value(field: &str, value: &str) -> String {
    match (field, value) {
        ("kind", code) => VisitKind::from_code(code).map_or(code.to_owned(), |k| k.label().to_owned()),
        ("follow_up_needed", "true") => "需要跟进".to_owned(),
        ("follow_up_needed", _) => "不需跟进".to_owned(),
        (_, "") => "（空）".to_owned(),
        (_, v) => v.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    fn filled() -> VisitDraft {
        VisitDraft { whom: "张大爷家".into(), heard: "反映村口路灯坏了".into(), ..VisitDraft::new(today()) }
    }

    #[test]
    fn a_filled_draft_is_valid_and_trimmed() {
        let mut d = filled();
        d.whom = "  张大爷家 ".into();
        let v = d.validate(today()).unwrap();
        assert_eq!(v.whom, "张大爷家");
        assert_eq!(v.date, today());
    }

    #[test]
    fn empty_draft_reports_every_required_field() {
        let errors = VisitDraft::new(today()).validate(today()).unwrap_err();
        assert!(errors.for_field("whom").is_some());
        assert!(errors.for_field("heard").is_some());
        assert!(errors.for_field("date").is_none());
    }

    #[test]
    fn dates_are_checked() {
        for (date, expect) in [("", "请填写走访日期"), ("2026/11/27", "日期格式"), ("2026-02-30", "日期格式"), ("2026-11-28", "不能晚于今天"), ("1999-12-31", "不能早于")]
        {
            let d = VisitDraft { date: date.into(), ..filled() };
            let e = d.validate(today()).unwrap_err();
            assert!(e.for_field("date").unwrap().contains(expect), "{date}: {e}");
        }
    }

    #[test]
    fn follow_up_needs_a_description() {
        let d = VisitDraft { follow_up_needed: true, ..filled() };
        assert!(d.validate(today()).unwrap_err().for_field("follow_up").is_some());
        let d = VisitDraft { follow_up_needed: true, follow_up: "协调电工".into(), ..filled() };
        assert!(d.validate(today()).is_ok());
    }

    #[test]
    fn lengths_are_counted_in_characters() {
        let d = VisitDraft { whom: "户".repeat(MAX_WHOM), ..filled() };
        assert!(d.validate(today()).is_ok());
        let d = VisitDraft { whom: "户".repeat(MAX_WHOM + 1), ..filled() };
        let e = d.validate(today()).unwrap_err();
        assert!(e.for_field("whom").unwrap().contains("最多 100 字"), "{e}");
    }

    #[test]
    fn kinds_round_trip_through_codes() {
        for k in VisitKind::ALL {
            assert_eq!(VisitKind::from_code(k.code()), Some(k));
        }
        assert_eq!(VisitKind::from_code("nope"), None);
    }
}
