//! Posts (岗位, 设岗定责): who in a unit is responsible for what, and when they serve. The
//! secretary sets them up and publishes them to the public board (先锋广场), where residents
//! rate each post.

use serde::{Deserialize, Serialize};

use crate::record::Conflict;
use crate::validation::ValidationErrors;
use crate::RecordId;

pub const MAX_TITLE: usize = 40;
pub const MAX_HOLDER: usize = 50;
pub const MAX_DUTIES: usize = 1_000;
pub const MAX_HOURS: usize = 100;

/// A post as the UI and the board show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: RecordId,
    /// 岗位名称, e.g. 便民服务窗口.
    pub title: String,
    /// 责任人: the name residents see.
    pub holder: String,
    /// 岗位职责.
    pub duties: String,
    /// 服务时间, e.g. 工作日 8:30–17:30.
    pub hours: String,
    /// Published on the board (公开), by the secretary.
    pub published: bool,
    pub conflicts: Vec<Conflict>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostDraft {
    pub title: String,
    pub holder: String,
    pub duties: String,
    pub hours: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPost {
    pub title: String,
    pub holder: String,
    pub duties: String,
    pub hours: String,
}

impl PostDraft {
    pub fn validate(&self) -> Result<ValidPost, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let title = e.required("title", &self.title, "请填写岗位名称");
        e.max_len("title", "岗位名称", title, MAX_TITLE);
        let holder = e.required("holder", &self.holder, "请填写责任人");
        e.max_len("holder", "责任人", holder, MAX_HOLDER);
        let duties = e.required("duties", &self.duties, "请写明岗位职责");
        e.max_len("duties", "岗位职责", duties, MAX_DUTIES);
        let hours = self.hours.trim();
        e.max_len("hours", "服务时间", hours, MAX_HOURS);
        e.into_result(|| ValidPost { title: title.to_owned(), holder: holder.to_owned(), duties: duties.to_owned(), hours: hours.to_owned() })
    }
}

impl Post {
    pub fn to_draft(&self) -> PostDraft {
        PostDraft { title: self.title.clone(), holder: self.holder.clone(), duties: self.duties.clone(), hours: self.hours.clone() }
    }

    /// Shown on the public board.
    pub fn is_public(&self) -> bool {
        self.published && !self.deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_needs_a_title_a_holder_and_duties() {
        let e = PostDraft::default().validate().unwrap_err();
        for field in ["title", "holder", "duties"] {
            assert!(e.for_field(field).is_some(), "{field}: {e}");
        }
        assert!(e.for_field("hours").is_none());
        let d = PostDraft { title: " 便民服务窗口 ".into(), holder: "李梅".into(), duties: "代办社保、医保业务".into(), hours: "".into() };
        let v = d.validate().unwrap();
        assert_eq!(v.title, "便民服务窗口");
        let long = PostDraft { title: "岗".repeat(MAX_TITLE + 1), ..d };
        assert!(long.validate().unwrap_err().for_field("title").unwrap().contains(&MAX_TITLE.to_string()));
    }
}
