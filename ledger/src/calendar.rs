//! Working days (工作日): Monday to Friday, less the public holidays (法定节假日) and plus the
//! weekend days worked in their place (调休上班). The State Council publishes each year's
//! holidays only in the November before, so no table is built in: the organisation's admin
//! enters them, as dates and ranges (`2027-01-01 2027-02-15~2027-02-21`).

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkCalendar {
    /// Weekdays off.
    #[serde(default)]
    pub holidays: BTreeSet<NaiveDate>,
    /// Saturdays and Sundays worked.
    #[serde(default)]
    pub workdays: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    /// Days of either kind, together: a few years' worth, and a bound on what a deadline's
    /// count walks past.
    pub const MAX_DAYS: usize = 400;
    /// The longest range one entry may name (the Spring Festival's is 8 or 9 days).
    pub const MAX_RANGE: i64 = 31;

    pub fn is_working(&self, day: NaiveDate) -> bool {
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            self.workdays.contains(&day)
        } else {
            !self.holidays.contains(&day)
        }
    }

    /// The day `days` working days after `from`; `from` itself when `days` is 0.
    pub fn after(&self, from: NaiveDate, days: u32) -> NaiveDate {
        let mut day = from;
        let mut left = days;
        while left > 0 {
            let Some(next) = day.succ_opt() else { return day };
            day = next;
            if self.is_working(day) {
                left -= 1;
            }
        }
        day
    }

    /// A calendar from the admin's two texts, each checked: a holiday named alone falls on a
    /// weekday (a range's weekend days are off anyway and dropped), a worked day on a weekend,
    /// in years 2000 to 2099, and no more than [`Self::MAX_DAYS`] in all.
    pub fn parse(holidays: &str, workdays: &str) -> Result<Self, String> {
        let weekend = |d: &NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        let mut calendar = Self::default();
        for (first, last) in parse_ranges(holidays, "放假日期")? {
            if first == last && weekend(&first) {
                return Err(format!("放假日期 {first} 是周末，本就不计为工作日；只需填写放假的周一至周五"));
            }
            calendar.holidays.extend(first.iter_days().take_while(|d| *d <= last).filter(|d| !weekend(d)));
        }
        for (first, last) in parse_ranges(workdays, "调休上班日期")? {
            for d in first.iter_days().take_while(|d| *d <= last) {
                if !weekend(&d) {
                    return Err(format!("调休上班日期 {d} 不是周六或周日"));
                }
                calendar.workdays.insert(d);
            }
        }
        if calendar.holidays.len() + calendar.workdays.len() > Self::MAX_DAYS {
            return Err(format!("日期太多：最多 {} 天", Self::MAX_DAYS));
        }
        Ok(calendar)
    }

    /// Checks a calendar that arrived whole (from storage or the wire) as [`Self::parse`] would.
    pub fn check(self) -> Result<Self, String> {
        Self::parse(&format_days(&self.holidays), &format_days(&self.workdays))
    }
}

/// Dates and `a~b` ranges (also `a至b`; `a-b` would be ambiguous with the dates' own dashes),
/// separated by spaces, commas, 、 or new lines.
fn parse_ranges(text: &str, what: &str) -> Result<Vec<(NaiveDate, NaiveDate)>, String> {
    let date = |s: &str| -> Result<NaiveDate, String> {
        let d = crate::day::parse(s.trim()).ok_or_else(|| format!("{what}中的“{s}”不是日期，应写作 2027-01-01"))?;
        if !(2000..2100).contains(&d.year()) {
            return Err(format!("{what}中的 {d} 不在 2000 到 2099 年之间"));
        }
        Ok(d)
    };
    let entries: Vec<&str> = text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；')).filter(|e| !e.is_empty()).collect();
    if entries.len() > WorkCalendar::MAX_DAYS {
        return Err(format!("日期太多：最多 {} 天", WorkCalendar::MAX_DAYS));
    }
    entries
        .into_iter()
        .map(|entry| {
            let entry = entry.replace(['至', '～'], "~");
            let (first, last) = match entry.split_once('~') {
                Some((a, b)) => (date(a)?, date(b)?),
                None => (date(&entry)?, date(&entry)?),
            };
            if last < first || (last - first).num_days() >= WorkCalendar::MAX_RANGE {
                return Err(format!("{what}中的 {first}~{last} 不是一段 {} 天以内的日期", WorkCalendar::MAX_RANGE));
            }
            Ok((first, last))
        })
        .collect()
}

/// Days as the admin reads them back: runs of consecutive days as `a~b`, one entry per line.
pub fn format_days(days: &BTreeSet<NaiveDate>) -> String {
    let mut runs: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for &d in days {
        match runs.last_mut() {
            Some((_, last)) if last.succ_opt() == Some(d) => *last = d,
            _ => runs.push((d, d)),
        }
    }
    runs.iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a}~{b}") }).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        crate::day::parse(s).unwrap()
    }

    #[test]
    fn weekends_only_without_a_calendar() {
        let c = WorkCalendar::default();
        assert_eq!(c.after(day("2026-12-04"), 1), day("2026-12-07"));
        assert_eq!(c.after(day("2026-12-04"), 5), day("2026-12-11"));
        assert_eq!(c.after(day("2026-12-05"), 1), day("2026-12-07"), "a Saturday's rating is due Monday");
        assert_eq!(c.after(day("2026-12-07"), 0), day("2026-12-07"));
    }

    #[test]
    fn holidays_are_skipped_and_worked_weekends_count() {
        // 2027's Spring Festival as the admin would enter it (dates for the test, not the
        // State Council's): off Mon 8 to Fri 12 February, Sunday 7 February worked.
        let c = WorkCalendar::parse("2027-01-01\n2027-02-08~2027-02-12", "2027-02-07").unwrap();
        assert_eq!(c.after(day("2027-02-05"), 1), day("2027-02-07"), "the worked Sunday counts");
        assert_eq!(c.after(day("2027-02-05"), 2), day("2027-02-15"), "the holidays do not");
        assert_eq!(c.after(day("2026-12-31"), 1), day("2027-01-04"), "New Year's Day, then the weekend");
        assert!(!c.is_working(day("2027-02-10")) && c.is_working(day("2027-02-07")) && !c.is_working(day("2027-02-06")));
    }

    #[test]
    fn entries_read_in_every_common_form_and_read_back_as_ranges() {
        let c = WorkCalendar::parse("2027-10-01至2027-10-07，2027-05-03、2027-05-04; 2027-01-01", "2027-09-26 2027-10-09").unwrap();
        // 10-02, 10-03 are a weekend: within a range they are simply days off already.
        assert!(WorkCalendar::parse("2027-10-02", "").is_err(), "a lone weekend holiday is a mistake worth saying");
        assert_eq!(c.workdays.len(), 2);
        assert_eq!(format_days(&c.workdays), "2027-09-26\n2027-10-09");
        assert_eq!(WorkCalendar::parse(&format_days(&c.holidays), &format_days(&c.workdays)).unwrap(), c, "what is shown reads back the same");
    }

    #[test]
    fn bad_entries_are_refused_with_what_is_wrong() {
        for (holidays, workdays, says) in [
            ("2027-13-01", "", "不是日期"),
            ("明天", "", "不是日期"),
            ("2027-02-12~2027-02-08", "", "不是一段"),
            ("2027-01-01~2027-03-01", "", "不是一段"),
            ("1999-01-01", "", "2000 到 2099"),
            ("", "2027-02-08", "不是周六或周日"),
            ("2027-02-06", "", "是周末"),
        ] {
            let e = WorkCalendar::parse(holidays, workdays).unwrap_err();
            assert!(e.contains(says), "{holidays}/{workdays}: {e}");
        }
        let many: Vec<String> = (0..30).map(|m| format!("20{:02}-01-01~20{:02}-01-20", 30 + m, 30 + m)).collect();
        assert!(WorkCalendar::parse(&many.join(" "), "").unwrap_err().contains("日期太多"));
    }
}
