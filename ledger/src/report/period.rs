//! The period a supervisor looks at (统计期间): a month, a quarter, a year or a range of days,
//! written in the desk's URL as `2026-11`, `2026-Q4`, `2026` or `2026-11-01..2026-11-30`.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    Month(i32, u32),
    Quarter(i32, u32),
    Year(i32),
    /// Inclusive.
    Range(NaiveDate, NaiveDate),
}

/// The longest custom range: ten years keeps the monthly chart readable and the work bounded.
pub const MAX_RANGE_DAYS: i64 = 3_660;

impl Period {
    /// The month `today` falls in.
    pub fn month_of(today: NaiveDate) -> Self {
        Self::Month(today.year(), today.month())
    }

    /// The first day.
    pub fn from(self) -> NaiveDate {
        match self {
            Self::Month(y, m) => ymd(y, m, 1),
            Self::Quarter(y, q) => ymd(y, q * 3 - 2, 1),
            Self::Year(y) => ymd(y, 1, 1),
            Self::Range(from, _) => from,
        }
    }

    /// The last day.
    pub fn to(self) -> NaiveDate {
        let first_after = |y: i32, m: u32| if m == 12 { ymd(y + 1, 1, 1) } else { ymd(y, m + 1, 1) };
        match self {
            Self::Month(y, m) => first_after(y, m).pred_opt().expect("a day before"),
            Self::Quarter(y, q) => first_after(y, q * 3).pred_opt().expect("a day before"),
            Self::Year(y) => ymd(y, 12, 31),
            Self::Range(_, to) => to,
        }
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        self.from() <= day && day <= self.to()
    }

    /// Reads what [`Period::key`] writes; a clear message for anything else.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = || format!("无法识别的统计期间“{text}”（例：2026、2026-Q4、2026-11、2026-11-01..2026-11-30）");
        let year = |s: &str| s.parse::<i32>().ok().filter(|y| (2000..=2100).contains(y));
        if let Some((from, to)) = text.split_once("..") {
            let day = |s: &str| crate::day::parse(s.trim());
            let (from, to) = (day(from).ok_or_else(bad)?, day(to).ok_or_else(bad)?);
            if to < from {
                return Err("统计期间的结束日期早于开始日期".into());
            }
            if (to - from).num_days() > MAX_RANGE_DAYS {
                return Err("统计期间最长十年".into());
            }
            return Ok(Self::Range(from, to));
        }
        if let Some((y, q)) = text.split_once("-Q") {
            let q = q.parse::<u32>().ok().filter(|q| (1..=4).contains(q)).ok_or_else(bad)?;
            return Ok(Self::Quarter(year(y).ok_or_else(bad)?, q));
        }
        if let Some((y, m)) = text.split_once('-') {
            let m = m.parse::<u32>().ok().filter(|m| (1..=12).contains(m)).ok_or_else(bad)?;
            return Ok(Self::Month(year(y).ok_or_else(bad)?, m));
        }
        Ok(Self::Year(year(text).ok_or_else(bad)?))
    }

    /// The period as the URL keeps it.
    pub fn key(self) -> String {
        match self {
            Self::Month(y, m) => format!("{y}-{m:02}"),
            Self::Quarter(y, q) => format!("{y}-Q{q}"),
            Self::Year(y) => format!("{y}"),
            Self::Range(from, to) => format!("{from}..{to}"),
        }
    }

    /// The period as a person reads it.
    pub fn label(self) -> String {
        match self {
            Self::Month(y, m) => format!("{y}年{m}月"),
            Self::Quarter(y, q) => format!("{y}年第{}季度", ["一", "二", "三", "四"][(q as usize - 1).min(3)]),
            Self::Year(y) => format!("{y}年"),
            Self::Range(from, to) => format!("{from} 至 {to}"),
        }
    }

    /// Every month the period touches, in order (the monthly chart's columns).
    pub fn months(self) -> Vec<(i32, u32)> {
        let (from, to) = (self.from(), self.to());
        let mut out = Vec::new();
        let (mut y, mut m) = (from.year(), from.month());
        while (y, m) <= (to.year(), to.month()) {
            out.push((y, m));
            (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        }
        out
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        crate::day::parse(s).unwrap()
    }

    #[test]
    fn periods_have_their_days_and_round_trip_through_the_url() {
        for (key, from, to) in [
            ("2026-02", "2026-02-01", "2026-02-28"),
            ("2026-12", "2026-12-01", "2026-12-31"),
            ("2026-Q4", "2026-10-01", "2026-12-31"),
            ("2024-Q1", "2024-01-01", "2024-03-31"),
            ("2026", "2026-01-01", "2026-12-31"),
            ("2026-11-05..2026-11-20", "2026-11-05", "2026-11-20"),
        ] {
            let p = Period::parse(key).unwrap();
            assert_eq!((p.from(), p.to()), (day(from), day(to)), "{key}");
            assert_eq!(p.key(), key);
            assert_eq!(Period::parse(&p.key()).unwrap(), p);
        }
        assert_eq!(Period::parse("2026-Q4").unwrap().label(), "2026年第四季度");
        assert_eq!(Period::parse("2026-11").unwrap().label(), "2026年11月");
    }

    #[test]
    fn nonsense_is_refused_with_a_reason() {
        for bad in ["", "x", "2026-13", "2026-Q5", "1900", "2026-11-30..2026-11-01", "2000-01-01..2020-01-01"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert!(Period::parse("2026-11-30..2026-11-01").unwrap_err().contains("早于"));
    }

    #[test]
    fn months_span_year_ends() {
        let p = Period::parse("2025-11-15..2026-02-01").unwrap();
        assert_eq!(p.months(), vec![(2025, 11), (2025, 12), (2026, 1), (2026, 2)]);
        assert!(p.contains(day("2025-11-15")) && !p.contains(day("2025-11-14")));
    }
}
