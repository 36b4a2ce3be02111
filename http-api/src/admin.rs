//! `/api/admin/…`: the organisation, people, roles, codes, devices, the audit log and import.

use ledger::org::{Grant, Org, Unit};
use serde::{Deserialize, Serialize};

/// A person as the admin sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub login: String,
}

/// `GET /api/admin/org`: what the admin manages.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrgView {
    pub units: Vec<Unit>,
    pub people: Vec<Person>,
    pub grants: Vec<Grant>,
}

impl OrgView {
    pub fn org(&self) -> Org {
        Org { units: self.units.iter().map(|u| (u.id.clone(), u.clone())).collect(), grants: self.grants.iter().cloned().collect() }
    }

    pub fn person_name(&self, id: &str) -> String {
        self.people.iter().find(|p| p.id == id).map(|p| p.name.clone()).unwrap_or_else(|| id.to_owned())
    }
}

/// `POST /api/admin/units`; the answer is the new [`Unit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUnit {
    pub name: String,
    /// A [`ledger::org::UnitKind`] code.
    pub kind: String,
    pub parent: String,
}

/// `POST /api/admin/people`: a person with a first role; the answer is the new [`Person`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPerson {
    pub name: String,
    pub login: String,
    /// For a desktop role; a phone is activated with a code instead.
    #[serde(default)]
    pub password: Option<String>,
    pub unit: String,
    /// A [`ledger::org::Role`] code.
    pub role: String,
}

/// `POST /api/admin/grants`; the answer is [`crate::Done`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGrant {
    pub person: String,
    pub unit: String,
    pub role: String,
}

/// `POST /api/admin/codes` (a phone's activation code; `device` unused) and
/// `POST /api/admin/tokens` (a token for a third-party automerge-repo peer named `device`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForPerson {
    pub person: String,
    #[serde(default)]
    pub device: String,
}

/// `POST /api/admin/codes`' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCode {
    pub code: String,
    pub expires_in_days: u64,
}

/// `POST /api/admin/tokens`' answer: the token, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub device: String,
    pub token: String,
}

/// A device (`GET /api/admin/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: String,
    pub person: String,
    pub name: String,
    /// "phone" (activated with a code), "session" (a desktop login), "token" (a third-party peer).
    pub kind: String,
    /// "active", "retired" (may still upload, then erases) or "lost" (refused).
    pub status: String,
    pub created_at: i64,
    pub last_seen: Option<i64>,
    pub app_version: Option<String>,
    pub expires_at: Option<i64>,
}

impl Device {
    /// What the admin reads for this device: a phone names itself by its browser's
    /// user-agent string, shown as the kind of device and browser ("安卓手机 · 微信").
    pub fn readable_name(&self) -> String {
        readable_device_name(&self.name)
    }
}

/// A device's name as a person reads it. A user-agent string ("Mozilla/5.0 (Linux; Android 14;
/// …) … MicroMessenger/8.0") becomes its system and browser; any other name is kept as given.
/// Hand-written rather than a user-agent parsing crate: the admin needs only these two facts,
/// and the desk's bundle would carry a crate's whole rule table.
pub fn readable_device_name(name: &str) -> String {
    if !name.starts_with("Mozilla/") {
        return name.to_owned();
    }
    let has = |s: &str| name.contains(s);
    let system = if has("HarmonyOS") || has("OpenHarmony") {
        "鸿蒙手机"
    } else if has("iPhone") {
        "iPhone"
    } else if has("iPad") {
        "iPad"
    } else if has("Android") {
        if has("Mobile") {
            "安卓手机"
        } else {
            "安卓平板"
        }
    } else if has("Windows") {
        "Windows 电脑"
    } else if has("Macintosh") || has("Mac OS X") {
        "Mac 电脑"
    } else if has("CrOS") {
        "Chromebook"
    } else if has("Linux") {
        "Linux 电脑"
    } else {
        "未知设备"
    };
    // The most specific first: in-app browsers and Chinese browsers also say Chrome and Safari.
    const BROWSERS: [(&str, &str); 12] = [
        ("MicroMessenger", "微信"),
        ("DingTalk", "钉钉"),
        ("HuaweiBrowser", "华为浏览器"),
        ("MiuiBrowser", "小米浏览器"),
        ("HeyTapBrowser", "OPPO 浏览器"),
        ("VivoBrowser", "vivo 浏览器"),
        ("UCBrowser", "UC 浏览器"),
        ("QQBrowser", "QQ 浏览器"),
        ("Edg", "Edge"),
        ("Firefox/", "Firefox"),
        ("HeadlessChrome", "Chrome（无界面）"),
        ("Chrome/", "Chrome"),
    ];
    let browser = BROWSERS.iter().find(|(mark, _)| has(mark)).map(|(_, label)| *label).or_else(|| has("Safari/").then_some("Safari"));
    match browser {
        Some(b) => format!("{system} · {b}"),
        None => system.to_owned(),
    }
}

/// `POST /api/admin/devices/{id}/{retire|lose}`' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub device: String,
    pub status: String,
}

/// One line of the audit log (`GET /api/admin/audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    pub person: Option<String>,
    pub action: String,
    pub detail: String,
}

/// `POST /api/admin/import`'s answer: what was added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    pub units: usize,
    pub people: usize,
    pub grants: usize,
}

/// A wrong row of an import file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The row's line in the file (the header is line 1).
    pub line: usize,
    pub message: String,
}

/// `POST /api/admin/import` refused (400): nothing was imported; each wrong row's line and
/// reason, the first of them (`total` says how many there were).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRefused {
    pub error: String,
    pub message: String,
    pub rows: Vec<RowError>,
    pub total: usize,
}

#[cfg(test)]
mod tests {
    use super::readable_device_name;

    #[test]
    fn a_user_agent_reads_as_system_and_browser_and_other_names_stay() {
        let cases = [
            ("Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "安卓手机 · Chrome"),
            (
                "Mozilla/5.0 (Linux; Android 12; V2106A Build/SP1A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/86.0.4240.99 XWEB/4317 MMWEBSDK/20220903 Mobile Safari/537.36 MMWEBID/6294 MicroMessenger/8.0.28.2240(0x28001C35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
                "安卓手机 · 微信",
            ),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "iPhone · Safari"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0", "Windows 电脑 · Edge"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", "Linux 电脑 · Chrome（无界面）"),
            ("Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AL00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0 HuaweiBrowser/14.0 Mobile Safari/537.36", "鸿蒙手机 · 华为浏览器"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:126.0) Gecko/20100101 Firefox/126.0", "Mac 电脑 · Firefox"),
            ("Mozilla/5.0", "未知设备"),
            ("钱进的手机", "钱进的手机"),
            ("村务系统", "村务系统"),
        ];
        for (name, want) in cases {
            assert_eq!(readable_device_name(name), want, "{name}");
        }
    }
}

/// `GET /api/admin/settings`, and `POST` to change it (an admin of the whole tree): the
/// organisation's time limits for a 差评's case, in working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// 签收 within this many working days of the rating.
    pub case_acknowledge_days: u32,
    /// 整改, 解释 or 申诉 within this many working days of the rating.
    pub case_answer_days: u32,
    /// The weekdays off (法定节假日) and the weekend days worked (调休上班), as the admin writes
    /// them: dates and `a~b` ranges. Left out of a change, each stays as it was.
    #[serde(default)]
    pub holidays: Option<String>,
    #[serde(default)]
    pub workdays: Option<String>,
    /// Whether this admin may change them.
    #[serde(default)]
    pub may_change: bool,
}
