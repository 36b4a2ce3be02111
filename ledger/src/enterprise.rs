//! Enterprises a unit serves (服务企业), identified by their unified social credit code.
//! Their difficulties are problems linked to the firm (`Problem::enterprise_id`), the help given
//! is those problems' progress log, and the outcome is their 办理结果; visits to a firm are
//! visits with `enterprise_id` set.

use serde::{Deserialize, Serialize};

use crate::record::Conflict;
use crate::validation::ValidationErrors;
use crate::RecordId;

/// The 31 characters a credit code may use, in value order (GB 32100-2015 leaves out I, O, S,
/// V and Z so they cannot be misread).
const CODE_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weight of each of the first 17 positions: 3^(i-1) mod 31.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Why a credit code was refused, in words a cadre can check against the licence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("统一社会信用代码应为 18 位，现有 {0} 位")]
    Length(usize),
    #[error("第 {position} 位“{found}”不是信用代码可用的字符（不含 I、O、S、V、Z）")]
    Character { position: usize, found: char },
    #[error("第 3 至 8 位应为行政区划代码（数字）")]
    Region,
    #[error("校验位不符：最后一位应为“{expected}”，请核对营业执照")]
    CheckCharacter { expected: char },
}

/// Checks a unified social credit code (统一社会信用代码) as GB 32100-2015 defines it and returns
/// it normalized (trimmed, upper case, inner spaces removed).
pub fn check_credit_code(raw: &str) -> Result<String, CreditCodeError> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(CreditCodeError::Length(chars.len()));
    }
    let mut values = [0u32; 18];
    for (i, c) in chars.iter().enumerate() {
        let value = u8::try_from(*c).ok().and_then(|b| CODE_CHARS.iter().position(|x| *x == b));
        match value {
            Some(v) => values[i] = v as u32,
            None => return Err(CreditCodeError::Character { position: i + 1, found: *c }),
        }
    }
    if !chars[2..8].iter().all(char::is_ascii_digit) {
        return Err(CreditCodeError::Region);
    }
    let sum: u32 = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    if values[17] != check {
        return Err(CreditCodeError::CheckCharacter { expected: CODE_CHARS[check as usize] as char });
    }
    Ok(code)
}

pub const MAX_NAME: usize = 100;
pub const MAX_INDUSTRY: usize = 50;
pub const MAX_CONTACT: usize = 50;
pub const MAX_PHONE: usize = 20;
pub const MAX_ADDRESS: usize = 200;

/// An enterprise as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enterprise {
    pub id: RecordId,
    pub name: String,
    /// 统一社会信用代码, checked when entered.
    pub credit_code: String,
    /// 所属行业
    pub industry: String,
    /// 联系人 and their phone.
    pub contact: String,
    pub phone: String,
    pub address: String,
    /// Photos (see [`crate::photo`]), oldest first.
    #[serde(default)]
    pub photos: Vec<crate::photo::PhotoRef>,
    /// Where it was recorded, when the cadre tapped 记录位置.
    #[serde(default)]
    pub location: Option<crate::photo::Location>,
    pub conflicts: Vec<Conflict>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
}

impl Enterprise {
    pub fn to_draft(&self) -> EnterpriseDraft {
        EnterpriseDraft {
            name: self.name.clone(),
            credit_code: self.credit_code.clone(),
            industry: self.industry.clone(),
            contact: self.contact.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
        }
    }
}

/// What an enterprise form holds, unvalidated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseDraft {
    pub name: String,
    pub credit_code: String,
    pub industry: String,
    pub contact: String,
    pub phone: String,
    pub address: String,
}

impl EnterpriseDraft {
    pub fn validate(&self) -> Result<ValidEnterprise, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let name = e.required("name", &self.name, "请填写企业名称");
        e.max_len("name", "企业名称", name, MAX_NAME);
        let credit_code = if self.credit_code.trim().is_empty() {
            e.push("credit_code", "请填写统一社会信用代码（营业执照上的 18 位代码）");
            String::new()
        } else {
            check_credit_code(&self.credit_code).unwrap_or_else(|why| {
                e.push("credit_code", why.to_string());
                String::new()
            })
        };
        let industry = self.industry.trim();
        e.max_len("industry", "所属行业", industry, MAX_INDUSTRY);
        let contact = self.contact.trim();
        e.max_len("contact", "联系人", contact, MAX_CONTACT);
        let phone = self.phone.trim();
        if !phone.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c)) || phone.chars().count() > MAX_PHONE {
            e.push("phone", "联系电话只能包含数字、空格、+ 和 -，最多 20 位");
        }
        let address = self.address.trim();
        e.max_len("address", "地址", address, MAX_ADDRESS);
        e.into_result(|| ValidEnterprise {
            name: name.to_owned(),
            credit_code,
            industry: industry.to_owned(),
            contact: contact.to_owned(),
            phone: phone.to_owned(),
            address: address.to_owned(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidEnterprise {
    pub name: String,
    pub credit_code: String,
    pub industry: String,
    pub contact: String,
    pub phone: String,
    pub address: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_pass_and_are_normalized() {
        for code in ["91350100M000100Y43", "91110000802100433B", "91440300708461136T", "9111000071093123XX"] {
            assert_eq!(check_credit_code(code).as_deref(), Ok(code));
        }
        assert_eq!(check_credit_code(" 91350100m000100y43 ").as_deref(), Ok("91350100M000100Y43"));
        assert_eq!(check_credit_code("913501 00M000 100Y43").as_deref(), Ok("91350100M000100Y43"));
    }

    #[test]
    fn wrong_codes_say_what_is_wrong() {
        assert_eq!(check_credit_code("91350100M000100Y4"), Err(CreditCodeError::Length(17)));
        assert_eq!(check_credit_code("91350100M000100Y42"), Err(CreditCodeError::CheckCharacter { expected: '3' }));
        assert_eq!(check_credit_code("91350100M0001O0Y43"), Err(CreditCodeError::Character { position: 14, found: 'O' }));
        assert_eq!(check_credit_code("9135010０M000100Y43"), Err(CreditCodeError::Character { position: 8, found: '０' }));
        assert_eq!(check_credit_code("913A0100M000100Y43"), Err(CreditCodeError::Region));
        // Every single-character typo in a valid code is caught by the check character.
        let valid: Vec<u8> = b"91440300708461136T".to_vec();
        for pos in 0..17 {
            for c in CODE_CHARS {
                if *c == valid[pos] {
                    continue;
                }
                let mut typo = valid.clone();
                typo[pos] = *c;
                assert!(check_credit_code(std::str::from_utf8(&typo).unwrap()).is_err(), "{}", String::from_utf8_lossy(&typo));
            }
        }
    }

    #[test]
    fn drafts_report_every_problem() {
        let e = EnterpriseDraft::default().validate().unwrap_err();
        assert!(e.for_field("name").is_some());
        assert!(e.for_field("credit_code").unwrap().contains("18 位"));
        let d = EnterpriseDraft { name: "闽兴机械".into(), credit_code: "91350100M000100Y42".into(), phone: "abc".into(), ..Default::default() };
        let e = d.validate().unwrap_err();
        assert!(e.for_field("credit_code").unwrap().contains("校验位"));
        assert!(e.for_field("phone").is_some());
        let d = EnterpriseDraft { name: "闽兴机械".into(), credit_code: "91350100m000100y43".into(), phone: "0591-8888 6666".into(), ..Default::default() };
        assert_eq!(d.validate().unwrap().credit_code, "91350100M000100Y43");
    }
}
