//! Credentials: one-time codes (activation, the first administrator's setup), passwords
//! (Argon2id), device tokens (stored only as their hash), sessions, the limits on guessing, and
//! the status of devices (retired or lost, told to their open connections at once).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{self, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use ledger::org::{Role, UnitKind};
use sha2::{Digest, Sha256};

use super::{now_secs, random_bytes, random_id, Directory, Principal, Revoked};
use crate::storage::{Device, Person};

/// How long an activation code stays usable.
pub(crate) const ACTIVATION_CODE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long the first administrator's setup link stays usable.
pub(crate) const SETUP_CODE_TTL: Duration = Duration::from_secs(24 * 3600);
/// A retired device may still upload what it holds for this long (a phone comes back into
/// coverage within a day), then it is refused like any unknown device.
pub(crate) const RETIRED_UPLOAD_WINDOW: Duration = Duration::from_secs(24 * 3600);
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
    /// Retired, and its upload window is over.
    Retired,
}

impl Refused {
    pub fn code(self) -> &'static str {
        match self {
            Refused::Unknown => "unknown_device",
            Refused::Expired => "session_expired",
            Refused::Lost => "device_lost",
            Refused::Retired => "device_retired",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refused::Unknown => "此设备尚未激活，或激活已失效，请用激活码重新激活",
            Refused::Expired => "登录已过期，请重新登录",
            Refused::Lost => "此设备已被报告丢失，不再同步；本机数据已清除",
            Refused::Retired => "此设备已停用，不再同步",
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

/// Checks a password against its stored hash (a PHC string) in `memory`, the place's own
/// Argon2 memory, reused from check to check: a check allocates nothing, so the hashes'
/// memory is the places' and no more (freed 19 MiB blocks stayed in each thread's allocator
/// arena: 500 concurrent logins grew the process by 250 MB with only 8 checks run).
pub(super) fn password_matches(password: &str, hash: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Ok(params), Ok(algorithm)) = (Params::try_from(&parsed), Algorithm::try_from(parsed.algorithm)) else { return false };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    // Only hashes this server makes (the default parameters); a larger one is refused rather
    // than given the memory it asks for.
    if params.block_count() > Params::DEFAULT.block_count() {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    memory.resize(params.block_count(), Block::default());
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..]).is_ok()
        && password_hash::Output::new(&out).is_ok_and(|o| o == expected)
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

    /// Counts an attempt on every key, unless one of them is at its limit already. Counted
    /// before the work, so attempts running at once cannot all pass a check made before any of
    /// them failed (60 concurrent wrong passwords were 48 to 60 Argon2 checks with a limit of 5).
    fn try_count(&mut self, keys: &[(String, usize)]) -> bool {
        if keys.iter().any(|(key, max)| self.count(key) >= *max) {
            return false;
        }
        for (key, _) in keys {
            self.add(key);
        }
        true
    }

    /// Takes back an attempt counted by [`Self::try_count`] (it succeeded, or was not tried).
    fn take_back(&mut self, keys: &[(String, usize)]) {
        for (key, _) in keys {
            if let Some(times) = self.by_key.get_mut(key) {
                times.pop_back();
            }
        }
    }
}

/// Argon2 checks running at once. Each holds 19 MiB (the crate's default parameters) and a
/// core for about a tenth of a second; an attempt that finds every place taken is refused at
/// once, not queued, so a flood of logins costs at most this many hashes' memory (200
/// concurrent logins for accounts that do not exist took the server to 5 GB without it).
pub(crate) const MAX_CONCURRENT_HASHES: usize = 4;

/// The places for Argon2 checks ([`MAX_CONCURRENT_HASHES`]), each with its memory, made on
/// first use and kept.
#[derive(Default)]
pub(super) struct HashPlaces {
    taken: AtomicUsize,
    memory: Mutex<Vec<Vec<Block>>>,
}

/// One place and its memory, given back when dropped.
struct HashPlace<'a> {
    places: &'a HashPlaces,
    memory: Vec<Block>,
}

impl HashPlaces {
    fn take(&self) -> Option<HashPlace<'_>> {
        if self.taken.fetch_add(1, Ordering::SeqCst) >= MAX_CONCURRENT_HASHES {
            self.taken.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let memory = self.memory.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
        Some(HashPlace { places: self, memory })
    }
}

impl Drop for HashPlace<'_> {
    fn drop(&mut self) {
        self.places.memory.lock().unwrap_or_else(|e| e.into_inner()).push(std::mem::take(&mut self.memory));
        self.places.taken.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Why a login or an activation did not succeed, as the person is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Wrong login, password or code: never says which.
    Wrong(&'static str),
    TooMany,
    /// Every place for a password check is taken: try again in a moment.
    Busy,
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

    /// Counts an attempt before any work is done for it; too many within the window: refused.
    /// With several processes on one database the count is the database's, so a guesser
    /// spreading attempts over the processes gets no more of them; one process counts in memory.
    fn attempt(&self, keys: &[(String, usize)]) -> Result<(), AuthError> {
        let counted = if self.storage.is_sqlite() {
            self.failures.lock().unwrap_or_else(|e| e.into_inner()).try_count(keys)
        } else {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
            // Storage failing: refused as too many (no check is run that cannot be counted).
            self.storage.count_attempt(keys, now, ATTEMPT_WINDOW.as_millis() as i64).unwrap_or(false)
        };
        if counted {
            Ok(())
        } else {
            Err(AuthError::TooMany)
        }
    }

    /// The attempt succeeded, or was not tried: it does not count against the keys.
    fn take_back(&self, keys: &[(String, usize)]) {
        if self.storage.is_sqlite() {
            self.failures.lock().unwrap_or_else(|e| e.into_inner()).take_back(keys);
        } else if let Err(e) = self.storage.take_back_attempt(keys) {
            tracing::warn!("a login attempt not taken back: {e}");
        }
    }

    /// A place for an Argon2 check, or `Busy` (and the attempt taken back: nothing was tried).
    fn hash_place(&self, keys: &[(String, usize)]) -> Result<HashPlace<'_>, AuthError> {
        self.hash_places.take().ok_or_else(|| {
            self.take_back(keys);
            AuthError::Busy
        })
    }

    /// Activates a phone with a one-time code: a new device with its token.
    pub fn activate(&self, code: &str, device_name: &str, address: &str) -> Result<NewDevice, AuthError> {
        let keys = [(format!("address:{address}"), MAX_FAILURES_PER_ADDRESS)];
        self.attempt(&keys)?;
        let now = now_secs();
        let Some(Some(person)) = self.storage.use_code(&hash_secret(&normalise_code(code)), "activate", now)? else {
            self.storage.audit(None, "activate_refused", address, now)?;
            return Err(AuthError::Wrong("激活码无效、已使用或已过期"));
        };
        self.take_back(&keys);
        // Read before the name is cut to length: the browser's mark comes late in a user agent.
        let agent: String = device_name.chars().take(512).collect();
        Ok(self.new_device(&person, &http_api::admin::readable_device_name(&agent), "phone", None)?)
    }

    /// The first administrator, with the root of the tree, from the setup code.
    pub fn setup(&self, code: &str, root: &str, name: &str, login: &str, password: &str, address: &str) -> Result<(Person, NewDevice), AuthError> {
        self.org().check_new_unit(root, UnitKind::City, None).map_err(|e| AuthError::Invalid(e.to_string()))?;
        check_password(password).map_err(AuthError::Invalid)?;
        let keys = [(format!("address:{address}"), MAX_FAILURES_PER_ADDRESS)];
        self.attempt(&keys)?;
        if self.storage.use_code(&hash_secret(&normalise_code(code)), "setup", now_secs())? != Some(None) {
            return Err(AuthError::Wrong("设置链接无效、已使用或已过期"));
        }
        self.take_back(&keys);
        let _place = self.hash_place(&[])?;
        let person = self.add_person(name, login, Some(password), None).map_err(AuthError::Invalid)?;
        let unit = self.add_unit(root, UnitKind::City, None, Some(&person.id)).map_err(AuthError::Invalid)?;
        self.grant(&person.id, &unit.id, Role::Admin, Some(&person.id))?;
        let session = self.new_device(&person.id, "桌面浏览器", "session", Some(SESSION_TTL))?;
        Ok((person, session))
    }

    /// A desktop login: a session lasting [`SESSION_TTL`].
    pub fn login(&self, login: &str, password: &str, address: &str) -> Result<NewDevice, AuthError> {
        let keys = [(format!("account:{}", login.trim().to_lowercase()), MAX_FAILURES_PER_ACCOUNT), (format!("address:{address}"), MAX_FAILURES_PER_ADDRESS)];
        self.attempt(&keys)?;
        let mut place = self.hash_place(&keys)?;
        let found = self.storage.person_by_login(login.trim());
        let ok = match &found {
            Ok(Some((_, Some(hash)))) => password_matches(password, hash, &mut place.memory),
            _ => {
                // The same work for an unknown login, so timing does not tell which logins exist.
                let _ = password_matches(password, dummy_hash(), &mut place.memory);
                false
            }
        };
        drop(place);
        let Some((person, _)) = found?.filter(|_| ok) else {
            self.storage.audit(None, "login_refused", &format!("{} from {address}", login.trim()), now_secs())?;
            return Err(AuthError::Wrong("登录名或密码不对"));
        };
        self.take_back(&keys);
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

    /// The person and device behind a token; retired devices still pass (flagged) within
    /// their [`RETIRED_UPLOAD_WINDOW`].
    pub fn authenticate(&self, token: &str) -> Result<(Principal, Device), Result<Refused, String>> {
        let device = self.storage.device_by_token(&hash_secret(token)).map_err(Err)?.ok_or(Ok(Refused::Unknown))?;
        match device.status.as_str() {
            "lost" => return Err(Ok(Refused::Lost)),
            "active" | "retired" => {}
            _ => return Err(Ok(Refused::Unknown)),
        }
        if device.expires_at.is_some_and(|t| t <= now_secs()) {
            return Err(Ok(if device.status == "retired" { Refused::Retired } else { Refused::Expired }));
        }
        let name = self.storage.person(&device.person).map_err(Err)?.map(|p| p.name).unwrap_or_default();
        Ok((Principal { person: device.person.clone(), name, device: device.id.clone(), retired: device.status == "retired" }, device))
    }

    /// Retires a device ("retired": it may upload, then erases) or reports it lost ("lost").
    /// Its open connections close at once.
    pub fn set_device_status(&self, device: &str, status: &str, by: Option<&str>) -> Result<(), String> {
        if !matches!(status, "retired" | "lost") {
            return Err("未知的设备状态".into());
        }
        let now = now_secs();
        let expires_by = (status == "retired").then(|| now + RETIRED_UPLOAD_WINDOW.as_secs() as i64);
        if !self.storage.set_device_status(device, status, expires_by, by, now)? {
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
