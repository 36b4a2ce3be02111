//! Rates as people read them (满意率 88.9%): per mille rounded half up, shown with one
//! decimal, the same on the phone and on the supervisor's desk. Truncating showed 8 of 9 as
//! 88.8%.

/// `part` of `whole` in thousandths, rounded half up; None when `whole` is 0.
pub fn per_mille(part: usize, whole: usize) -> Option<usize> {
    (whole > 0).then(|| (part * 2000 + whole) / (2 * whole))
}

/// A per-mille figure as a percentage with one decimal ("88.9%"), or "—" when there is none.
pub fn per_cent(per_mille: Option<usize>) -> String {
    per_mille.map_or_else(|| "—".to_owned(), |p| format!("{}.{}%", p / 10, p % 10))
}

/// `part` of `whole` as a percentage with one decimal.
pub fn per_cent_of(part: usize, whole: usize) -> String {
    per_cent(per_mille(part, whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_up_to_one_decimal() {
        assert_eq!(per_cent_of(8, 9), "88.9%");
        assert_eq!(per_cent_of(2, 3), "66.7%");
        assert_eq!(per_cent_of(1, 3), "33.3%");
        assert_eq!(per_cent_of(1, 8), "12.5%"); // 125 exactly
        assert_eq!(per_cent_of(1, 16), "6.3%"); // 62.5 rounds up
        assert_eq!(per_cent_of(0, 5), "0.0%");
        assert_eq!(per_cent_of(7, 7), "100.0%");
        assert_eq!(per_cent_of(0, 0), "—");
    }
}
