//! One file per page.

pub mod visit_detail;
pub mod visit_form;
pub mod visit_list;
