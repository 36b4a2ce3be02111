//! One file per page or feature; `parts` holds what they share.

pub mod board;
pub mod enterprise_form;
pub mod enterprises;
pub mod media;
pub mod new_remarks;
pub mod parts;
pub mod plan_form;
pub mod pledge_form;
pub mod pledges;
pub mod posts;
pub mod problem_detail;
pub mod problem_form;
pub mod problem_list;
pub mod rules;
pub mod surveys;
pub mod visit_detail;
pub mod visit_form;
pub mod visit_list;
pub mod work;
pub mod write_once;
