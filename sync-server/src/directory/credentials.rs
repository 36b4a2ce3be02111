//! Credentials: one-time codes (activation, the first administrator's setup), passwords
//! (Argon2id), device tokens (stored only as their hash), sessions, the limits on guessing, and
//! the status of devices (retired or lost, told to their open connections at once).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use ledger::org::{Role, UnitKind};
use sha2::{Digest, Sha256};

use super::{now_secs, random_bytes, random_id, Directory, Principal, Revoked};
use crate::storage::{Device, Person};

/// How long an activation code stays usable.
pub(crate) const ACTIVATION_CODE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long the first administrator's setup link stays usable.
pub(crate) const SETUP_CODE_TTL: Duration = Duration::from_secs(24 * 3600);
/// A desktop login lasts the working day.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Failed logins allowed per account, and per address, within [`ATTEMPT_WINDOW`]; activation
/// attempts per address likewise.
pub(crate) const MAX_FAILURES_PER_ACCOUNT: usize = 5;
pub(crate) const MAX_FAILURES_PER_ADDRESS: usize = 20;
pub(crate) const ATTEMPT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses and accounts whose failures are remembered at once (the oldest are forgotten).
const MAX_TRACKED: usize = 10_000;

/// Why a token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Unknown,
    Expired,
    Lost,
}

impl Refused {
    pub fn code(self) -> &'static str {
        match self {
            Refused::Unknown => "unknown_device",
            Refused::Expired => "session_expired",
            Refused::Lost => "device_lost",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refused::Unknown => "此设备尚未激活，或激活已失效，请用激活码重新激活",
            Refused::Expired => "登录已过期，请重新登录",
            Refused::Lost => "此设备已被报告丢失，不再同步；本机数据已清除",
        }
    }
}

/// A device token: 32 random bytes. Stored only as its SHA-256 (a token has 256 bits of
/// entropy, so a slow hash adds nothing; passwords get Argon2id).
fn new_token() -> String {
    use base64::Engine;
    format!("pl_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

pub(crate) fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.trim().as_bytes()).to_vec()
}

/// Codes people type: no 0/O, 1/I/L. Ten characters (about 49 bits), shown as XXXX-XXXX-XX.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

fn new_code() -> String {
    let raw: String = random_bytes::<10>().iter().map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char).collect();
    format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..])
}

/// A typed code as stored: upper case, dashes and spaces gone.
pub(super) fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Recent failures per key ("account:…", "address:…"): a sliding window, bounded in keys.
/// Written by hand: a dozen lines, where a rate-limiting crate would bring its own clock and
/// store for what is a map of timestamps.
#[derive(Default)]
pub(super) struct Failures {
    by_key: HashMap<String, VecDeque<Instant>>,
    order: VecDeque<String>,
}

impl Failures {
    fn count(&mut self, key: &str) -> usize {
        let Some(times) = self.by_key.get_mut(key) else { return 0 };
        while times.front().is_some_and(|t| t.elapsed() > ATTEMPT_WINDOW) {
            times.pop_front();
        }
        times.len()
    }

    fn add(&mut self, key: &str) {
        if !self.by_key.contains_key(key) {
            if self.by_key.len() >= MAX_TRACKED {
                if let Some(old) = self.order.pop_front() {
                    self.by_key.remove(&old);
                }
            }
            self.order.push_back(key.to_owned());
        }
        self.by_key.entry(key.to_owned()).or_default().push_back(Instant::now());
    }
}

/// Why a login or an activation did not succeed, as the person is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Wrong login, password or code: never says which.
    Wrong(&'static str),
    TooMany,
    Invalid(String),
    Storage(String),
}

impl From<String> for AuthError {
    fn from(e: String) -> Self {
        AuthError::Storage(e)
    }
}

/// A device just made, with the token to give it (shown once, never stored).
pub struct NewDevice {
    pub device: Device,
    pub token: String,
}

impl Directory {
    /// A one-time activation code for a person's phone.
    pub fn issue_activation_code(&self, person: &str, by: Option<&str>) -> Result<String, String> {
        if self.storage.person(person)?.is_none() {
            return Err("没有这个人".into());
        }
        let code = new_code();
        let expires = now_secs() + ACTIVATION_CODE_TTL.as_secs() as i64;
        self.storage.add_code(&hash_secret(&normalise_code(&code)), Some(person), "activate", expires, by, now_secs())?;
        Ok(code)
    }

    /// The first administrator's setup code, made only while nobody exists.
    pub fn issue_setup_code(&self) -> Result<Option<String>, String> {
        if self.storage.people_count()? > 0 {
            return Ok(None);
        }
        let code = new_code();
        let expires = now_secs() + SETUP_CODE_TTL.as_secs() as i64;
        self.storage.add_code(&hash_secret(&normalise_code(&code)), None, "setup", expires, None, now_secs())?;
        Ok(Some(code))
    }

    fn limited(&self, keys: &[(String, usize)]) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter().any(|(key, max)| failures.count(key) >= *max)
    }

    fn failed(&self, keys: &[(String, usize)]) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for (key, _) in keys {
            failures.add(key);
        }
    }

    /// Activates a phone with a one-time code: a new device with its token.
    pub fn activate(&self, code: &str, device_name: &str, address: &str) -> Result<NewDevice, AuthError> {
        let keys = [(format!("address:{address}"), MAX_FAILURES_PER_ADDRESS)];
        if self.limited(&keys) {
            return Err(AuthError::TooMany);
        }
        let now = now_secs();
        let Some(Some(person)) = self.storage.use_code(&hash_secret(&normalise_code(code)), "activate", now)? else {
            self.failed(&keys);
            self.storage.audit(None, "activate_refused", address, now)?;
            return Err(AuthError::Wrong("激活码无效、已使用或已过期"));
        };
        Ok(self.new_device(&person, device_name, "phone", None)?)
    }

    /// The first administrator, with the root of the tree, from the setup code.
    pub fn setup(&self, code: &str, root: &str, name: &str, login: &str, password: &str, address: &str) -> Result<(Person, NewDevice), AuthError> {
        let keys = [(format!("address:{address}"), MAX_FAILURES_PER_ADDRESS)];
        if self.limited(&keys) {
            return Err(AuthError::TooMany);
        }
        self.org().check_new_unit(root, UnitKind::City, None).map_err(|e| AuthError::Invalid(e.to_string()))?;
        check_password(password).map_err(AuthError::Invalid)?;
        if self.storage.use_code(&hash_secret(&normalise_code(code)), "setup", now_secs())? != Some(None) {
            self.failed(&keys);
            return Err(AuthError::Wrong("设置链接无效、已使用或已过期"));
        }
        let person = self.add_person(name, login, Some(password), None).map_err(AuthError::Invalid)?;
        let unit = self.add_unit(root, UnitKind::City, None, Some(&person.id)).map_err(AuthError::Invalid)?;
        self.grant(&person.id, &unit.id, Role::Admin, Some(&person.id))?;
        let session = self.new_device(&person.id, "桌面浏览器", "session", Some(SESSION_TTL))?;
        Ok((person, session))
    }

    /// A desktop login: a session lasting [`SESSION_TTL`].
    pub fn login(&self, login: &str, password: &str, address: &str) -> Result<NewDevice, AuthError> {
        let keys = [(format!("account:{}", login.trim().to_lowercase()), MAX_FAILURES_PER_ACCOUNT), (format!("address:{address}"), MAX_FAILURES_PER_ADDRESS)];
        if self.limited(&keys) {
            return Err(AuthError::TooMany);
        }
        let found = self.storage.person_by_login(login.trim())?;
        let ok = match &found {
            Some((_, Some(hash))) => password_matches(password, hash),
            _ => {
                // The same work for an unknown login, so timing does not tell which logins exist.
                let _ = password_matches(password, dummy_hash());
                false
            }
        };
        let Some((person, _)) = found.filter(|_| ok) else {
            self.failed(&keys);
            self.storage.audit(None, "login_refused", &format!("{} from {address}", login.trim()), now_secs())?;
            return Err(AuthError::Wrong("登录名或密码不对"));
        };
        Ok(self.new_device(&person.id, "桌面浏览器", "session", Some(SESSION_TTL))?)
    }

    /// A device for a third-party automerge-repo peer (`issue-token`, the admin page).
    pub fn issue_token(&self, person: &str, device_name: &str, by: Option<&str>) -> Result<NewDevice, String> {
        if self.storage.person(person)?.is_none() {
            return Err("没有这个人".into());
        }
        let device = self.new_device(person, device_name, "token", None)?;
        self.storage.audit(by, "issue_token", &device.device.id, now_secs())?;
        Ok(device)
    }

    fn new_device(&self, person: &str, name: &str, kind: &str, ttl: Option<Duration>) -> Result<NewDevice, String> {
        let now = now_secs();
        let name: String = name.trim().chars().take(60).collect();
        let device = Device {
            id: random_id(),
            person: person.into(),
            name: if name.is_empty() { "手机".into() } else { name },
            kind: kind.into(),
            status: "active".into(),
            created_at: now,
            last_seen: None,
            app_version: None,
            expires_at: ttl.map(|t| now + t.as_secs() as i64),
        };
        let token = new_token();
        self.storage.add_device(&device, &hash_secret(&token), now)?;
        Ok(NewDevice { device, token })
    }

    /// The person and device behind a token; retired devices still pass (flagged).
    pub fn authenticate(&self, token: &str) -> Result<(Principal, Device), Result<Refused, String>> {
        let device = self.storage.device_by_token(&hash_secret(token)).map_err(Err)?.ok_or(Ok(Refused::Unknown))?;
        match device.status.as_str() {
            "lost" => return Err(Ok(Refused::Lost)),
            "active" | "retired" => {}
            _ => return Err(Ok(Refused::Unknown)),
        }
        if device.expires_at.is_some_and(|t| t <= now_secs()) {
            return Err(Ok(Refused::Expired));
        }
        Ok((Principal { person: device.person.clone(), device: device.id.clone(), retired: device.status == "retired" }, device))
    }

    /// Retires a device ("retired": it may upload, then erases) or reports it lost ("lost").
    /// Its open connections close at once.
    pub fn set_device_status(&self, device: &str, status: &str, by: Option<&str>) -> Result<(), String> {
        if !matches!(status, "retired" | "lost") {
            return Err("未知的设备状态".into());
        }
        if !self.storage.set_device_status(device, status, by, now_secs())? {
            return Err("没有这台设备".into());
        }
        let _ = self.revoked.send(Revoked { device: device.into(), status: status.into() });
        Ok(())
    }
}

pub(crate) fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if !(8..=128).contains(&n) {
        return Err("密码为 8–128 个字符".into());
    }
    Ok(())
}

/// An Argon2id hash of a random password nobody has, verified against for unknown logins.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_id()).unwrap_or_default())
}
