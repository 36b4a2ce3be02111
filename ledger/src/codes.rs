//! Closed lists of choices (categories, statuses, ratings) stored in documents as stable ASCII
//! codes and shown by their Chinese labels. One macro writes the code/label table for each.

/// Declares an enum whose variants each have a stored code and a Chinese label, with `ALL`,
/// `code`, `from_code` and `label`.
macro_rules! coded_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in documents.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// What a person reads.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum! {
    /// 满意度: how residents (or evaluators) rate a problem's handling, a pledge or a survey question.
    pub enum Satisfaction {
        Satisfied = ("satisfied", "满意"),
        Basic = ("basic", "基本满意"),
        Dissatisfied = ("dissatisfied", "不满意"),
    }
}

impl Satisfaction {
    /// Counted as satisfied in a satisfaction rate (满意率 = 满意 + 基本满意).
    pub fn counts_as_satisfied(self) -> bool {
        !matches!(self, Self::Dissatisfied)
    }
}

coded_enum! {
    /// 好差评: a resident's verdict on a post, a pledge or one piece of work, in the five levels
    /// of the government-service rating scheme. Nothing is pre-selected on the board.
    pub enum Verdict {
        VerySatisfied = ("very_satisfied", "非常满意"),
        Satisfied = ("satisfied", "满意"),
        Basic = ("basic", "基本满意"),
        Dissatisfied = ("dissatisfied", "不满意"),
        VeryDissatisfied = ("very_dissatisfied", "非常不满意"),
    }
}

impl Verdict {
    /// A 差评: it opens a case the unit must answer.
    pub fn is_bad(self) -> bool {
        matches!(self, Self::Dissatisfied | Self::VeryDissatisfied)
    }

    /// Counted as satisfied in a satisfaction rate, like [`Satisfaction::counts_as_satisfied`].
    pub fn counts_as_satisfied(self) -> bool {
        !self.is_bad()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_none() {
        for s in Satisfaction::ALL {
            assert_eq!(Satisfaction::from_code(s.code()), Some(*s));
        }
        assert_eq!(Satisfaction::from_code("SATISFIED"), None);
        assert_eq!(Satisfaction::from_code(""), None);
    }
}
