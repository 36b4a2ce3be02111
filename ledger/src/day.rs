//! Days written as text (`2027-01-01`): what date fields hold, what forms send and what the
//! admin types for holidays.
//!
//! Written by hand rather than with chrono's `parse_from_str(s, "%Y-%m-%d")` and
//! `format("%Y-%m-%d")`: those carry chrono's whole format-string machinery into both browser
//! bundles (about 5 KB brotli) for one fixed format. [`parse`] accepts exactly what chrono's
//! `%Y-%m-%d` accepts (the tests check it against chrono), so nothing stored or sent reads
//! differently: whitespace before each number, a month or day of one digit, a year of one to
//! four digits, or of any length with a sign.

use chrono::NaiveDate;

/// The day `s` names, read as chrono reads `%Y-%m-%d`; `None` when it names none.
pub fn parse(s: &str) -> Option<NaiveDate> {
    let (year, rest) = year(s.trim_start())?;
    let (month, rest) = digits(rest.strip_prefix('-')?.trim_start(), 2)?;
    let (day, rest) = digits(rest.strip_prefix('-')?.trim_start(), 2)?;
    if !rest.is_empty() {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// `day` written as `%Y-%m-%d` writes it (`2027-01-01`; a year past 9999 or before 0 with its
/// sign): the same text as `NaiveDate`'s `Display`, named here so call sites say the format.
pub fn format(day: NaiveDate) -> String {
    day.to_string()
}

/// `day` as [`format`] writes it, or nothing: how an optional date field is stored and shown.
pub fn format_or_empty(day: Option<NaiveDate>) -> String {
    day.map(format).unwrap_or_default()
}

/// A year: one to four digits, or a sign and any number of them.
fn year(s: &str) -> Option<(i64, &str)> {
    if let Some(rest) = s.strip_prefix('-') {
        let (v, rest) = digits(rest, usize::MAX)?;
        Some((0i64.checked_sub(v)?, rest))
    } else if let Some(rest) = s.strip_prefix('+') {
        digits(rest, usize::MAX)
    } else {
        digits(s, 4)
    }
}

/// One to `max` ASCII digits at the start of `s`, and what follows them.
fn digits(s: &str, max: usize) -> Option<(i64, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let value = s.as_bytes()[..n].iter().try_fold(0i64, |v, b| v.checked_mul(10)?.checked_add(i64::from(b - b'0')))?;
    Some((value, &s[n..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chrono_parse(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    #[test]
    fn reads_what_date_fields_hold_and_refuses_what_is_not_a_day() {
        assert_eq!(parse("2027-01-01"), NaiveDate::from_ymd_opt(2027, 1, 1));
        assert_eq!(parse("2024-02-29"), NaiveDate::from_ymd_opt(2024, 2, 29));
        for bad in ["", "2023-02-29", "2027-13-01", "2027-00-10", "2027-01-32", "2027/01/01", "2027-01-01 ", "20270-01-01", "2027-001-01", "二〇二七-01-01"] {
            assert_eq!(parse(bad), None, "{bad:?}");
            assert_eq!(chrono_parse(bad), None, "chrono agrees on {bad:?}");
        }
    }

    #[test]
    fn reads_the_odd_forms_chrono_reads() {
        for (s, y, m, d) in [(" 2027-1-5", 2027, 1, 5), ("\u{3000}2027-\t01- 05", 2027, 1, 5), ("27-01-01", 27, 1, 1), ("+12027-01-01", 12027, 1, 1), ("-0044-03-15", -44, 3, 15)] {
            assert_eq!(parse(s), NaiveDate::from_ymd_opt(y, m, d), "{s:?}");
            assert_eq!(chrono_parse(s), parse(s), "chrono agrees on {s:?}");
        }
    }

    #[test]
    fn the_years_at_the_edge_of_what_chrono_holds() {
        for s in ["+262142-12-31", "-262143-01-01", "+262143-01-01", "-262144-12-31", "+99999999999999999999-01-01", "-9223372036854775808-01-01"] {
            assert_eq!(parse(s), chrono_parse(s), "{s:?}");
        }
    }

    /// Text made of the pieces a day is written with, so that most of it is nearly a day.
    fn day_like() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("-".to_string()),
            Just("+".to_string()),
            Just(" ".to_string()),
            Just("\u{3000}".to_string()),
            Just("\t".to_string()),
            Just("/".to_string()),
            "[0-9]{1,6}",
            "[0-9a-z年月日]",
        ];
        prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
    }

    /// A day in one of the ways it may be written, or nearly: signs, padding, spaces, a day
    /// past the month's end, something after it.
    fn nearly_a_day() -> impl Strategy<Value = String> {
        let space = prop_oneof![Just(""), Just(""), Just(" "), Just("\u{3000}")];
        let sign = prop_oneof![Just(""), Just(""), Just("+"), Just("-")];
        let tail = prop_oneof![Just(""), Just(""), Just(" "), Just("-"), Just("0")];
        (space.clone(), sign, "[0-9]{1,7}", space.clone(), "[0-9]{1,3}", space, "[0-9]{1,3}", tail)
            .prop_map(|(s1, sign, y, s2, m, s3, d, tail)| format!("{s1}{sign}{y}-{s2}{m}-{s3}{d}{tail}"))
    }

    proptest! {
        #[test]
        fn reads_every_text_exactly_as_chrono_does(s in day_like()) {
            prop_assert_eq!(parse(&s), chrono_parse(&s));
        }

        #[test]
        fn reads_every_nearly_written_day_exactly_as_chrono_does(s in nearly_a_day()) {
            prop_assert_eq!(parse(&s), chrono_parse(&s));
        }

        #[test]
        fn reads_every_written_day_back(days in -100_000_000i64..100_000_000) {
            let Some(day) = NaiveDate::from_num_days_from_ce_opt(days as i32) else { return Ok(()) };
            prop_assert_eq!(format(day), day.format("%Y-%m-%d").to_string());
            prop_assert_eq!(parse(&format(day)), Some(day));
        }
    }
}
