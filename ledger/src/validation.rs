//! Field-by-field validation messages, and the checks every record's draft shares.

use chrono::NaiveDate;

/// Records dated before this are typing mistakes, not campaign records.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!(),
};
/// Deadlines and due dates further out than this are typing mistakes too.
pub const LATEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2100, 12, 31) {
    Some(d) => d,
    None => panic!(),
};

/// Per-field messages, in the order the form shows its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<(&'static str, String)>);

impl ValidationErrors {
    pub(crate) fn push(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every message, in the form's order.
    pub fn messages(&self) -> Vec<String> {
        self.0.iter().map(|(_, m)| m.clone()).collect()
    }

    /// The first message for a field, for showing under its input.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    /// A required text field, trimmed; reports when it is empty.
    pub(crate) fn required<'a>(&mut self, field: &'static str, value: &'a str, message: &str) -> &'a str {
        let value = value.trim();
        if value.is_empty() {
            self.push(field, message);
        }
        value
    }

    /// Reports a value longer than `max` characters (counted as characters, not bytes).
    pub(crate) fn max_len(&mut self, field: &'static str, name: &str, value: &str, max: usize) {
        let len = value.chars().count();
        if len > max {
            self.push(field, format!("{name}最多 {max} 字，现有 {len} 字"));
        }
    }

    /// An optional date; a present one must be a real date between 2000 and 2100.
    pub(crate) fn optional_date(&mut self, field: &'static str, name: &str, value: &str) -> Option<NaiveDate> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        match crate::day::parse(value) {
            Some(d) if (EARLIEST_DATE..=LATEST_DATE).contains(&d) => Some(d),
            Some(_) => {
                self.push(field, format!("{name}应在 2000 年到 2100 年之间"));
                None
            }
            None => {
                self.push(field, format!("{name}格式应为 年-月-日，例如 2026-03-05"));
                None
            }
        }
    }

    pub(crate) fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let messages: Vec<&str> = self.0.iter().map(|(_, m)| m.as_str()).collect();
        f.write_str(&messages.join("；"))
    }
}

impl std::error::Error for ValidationErrors {}
