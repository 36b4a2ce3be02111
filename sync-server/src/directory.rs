//! Who is who: the organisation in memory (rebuilt from storage after every change to it),
//! accounts, devices and their tokens, one-time codes, the actor → device binding, and the
//! news that a device was retired or lost (open connections of it close at once).
//!
//! Everything here may block (SQLite, Argon2): call it from tokio's blocking pool.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use automerge::{ActorId, Change};
use ledger::org::{Grant, Org, Rights, Role, Unit, UnitKind};
use ledger::UnitLedger;
use ledger_sync::DocumentId;
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

use crate::storage::{Device, NewLedger, Person, Storage};

/// How long an activation code stays usable.
pub const ACTIVATION_CODE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long the first administrator's setup link stays usable.
pub const SETUP_CODE_TTL: Duration = Duration::from_secs(24 * 3600);
/// A desktop login lasts the working day.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Failed logins allowed per account, and per address, within [`ATTEMPT_WINDOW`]; activation
/// attempts per address likewise.
pub const MAX_FAILURES_PER_ACCOUNT: usize = 5;
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
pub const ATTEMPT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses and accounts whose failures are remembered at once (the oldest are forgotten).
const MAX_TRACKED: usize = 10_000;

/// The person behind an authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub person: String,
    pub device: String,
    /// Retired: may upload what it has not sent, then erases its data.
    pub retired: bool,
}

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

/// A device retired or lost, told to every open connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub device: String,
    pub status: String,
}

pub struct Directory {
    pub storage: Arc<Storage>,
    org: RwLock<Arc<Org>>,
    /// Each ledger's unit, so a message's rights are found without walking the units.
    ledgers: RwLock<Arc<HashMap<DocumentId, String>>>,
    /// actor → device, as bound in storage (bindings never change, so they are cached).
    actors: Mutex<HashMap<ActorId, String>>,
    skeleton: Vec<automerge::ChangeHash>,
    pub revoked: broadcast::Sender<Revoked>,
    failures: Mutex<Failures>,
}

/// What an import added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    pub units: usize,
    pub people: usize,
    pub grants: usize,
}

/// Why an import added nothing.
#[derive(Debug)]
pub enum ImportError {
    Rows(ledger::org::import::Refused),
    Failed(String),
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the platform has no random source");
    bytes
}

pub fn random_id() -> String {
    random_bytes::<12>().iter().map(|b| format!("{b:02x}")).collect()
}

/// A device token: 32 random bytes. Stored only as its SHA-256 (a token has 256 bits of
/// entropy, so a slow hash adds nothing; passwords get Argon2id).
fn new_token() -> String {
    use base64::Engine;
    format!("pl_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.trim().as_bytes()).to_vec()
}

/// Codes people type: no 0/O, 1/I/L. Ten characters (about 49 bits), shown as XXXX-XXXX-XX.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

fn new_code() -> String {
    let raw: String = random_bytes::<10>().iter().map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char).collect();
    format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..])
}

/// A typed code as stored: upper case, dashes and spaces gone.
fn normalise_code(code: &str) -> String {
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
struct Failures {
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
    pub fn open(storage: Arc<Storage>) -> Result<Arc<Self>, String> {
        let org = storage.org()?;
        let (revoked, _) = broadcast::channel(256);
        Ok(Arc::new(Self {
            storage,
            ledgers: RwLock::new(Arc::new(ledger_index(&org))),
            org: RwLock::new(Arc::new(org)),
            actors: Mutex::new(HashMap::new()),
            skeleton: UnitLedger::skeleton_hashes(),
            revoked,
            failures: Mutex::new(Failures::default()),
        }))
    }

    pub fn org(&self) -> Arc<Org> {
        self.org.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn reload(&self) -> Result<(), String> {
        let org = self.storage.org()?;
        let index = ledger_index(&org);
        *self.org.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(org);
        *self.ledgers.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(index);
        Ok(())
    }

    /// The unit whose ledger `doc` is, if it is one.
    pub fn unit_of(&self, doc: &DocumentId) -> Option<String> {
        self.ledgers.read().unwrap_or_else(|e| e.into_inner()).get(doc).cloned()
    }

    /// Adds a unit where the tree allows it; a grass-roots unit gets its ledger. The first one
    /// added to a data directory from before accounts existed adopts that directory's demo
    /// ledger, so nothing typed in it is lost.
    pub fn add_unit(&self, name: &str, kind: UnitKind, parent: Option<&str>, by: Option<&str>) -> Result<Unit, String> {
        self.org().check_new_unit(name, kind, parent).map_err(|e| e.to_string())?;
        let mut unit = Unit { id: random_id(), name: name.trim().to_owned(), kind, parent: parent.map(Into::into), ledger: None };
        let mut adopt = self.adoptable_demo_ledger()?;
        let snapshot = self.give_ledger(&mut unit, &mut adopt);
        self.storage.add_unit(&unit, snapshot.as_ref(), by, now_secs())?;
        self.reload()?;
        Ok(unit)
    }

    /// The demo ledger of a data directory from before accounts existed, while no unit has it.
    fn adoptable_demo_ledger(&self) -> Result<Option<DocumentId>, String> {
        let old = self.storage.setting("demo_ledger")?.and_then(|s| DocumentId::parse(&s).ok());
        Ok(old.filter(|old| self.org().unit_of_ledger(&old.to_string()).is_none()))
    }

    /// Gives a grass-roots unit its ledger (`adopt`, once, else a new one); the new ledger's
    /// first bytes are returned to be stored with the unit.
    fn give_ledger(&self, unit: &mut Unit, adopt: &mut Option<DocumentId>) -> Option<NewLedger> {
        if !unit.kind.keeps_ledger() {
            return None;
        }
        if let Some(old) = adopt.take() {
            unit.ledger = Some(old.to_string());
            return None;
        }
        unit.ledger = Some(DocumentId::random().to_string());
        let mut skeleton = UnitLedger::create(ActorId::random());
        Some(NewLedger { heads: skeleton.heads(), snapshot: skeleton.save() })
    }

    /// Imports a table of units and people (see [`ledger::org::import`]): everything or, when
    /// any row is wrong, nothing, with every wrong row named.
    pub fn import(&self, admin: &str, rows: &[ledger::org::import::Row]) -> Result<ImportCounts, ImportError> {
        let logins: HashMap<String, String> = self.storage.people().map_err(ImportError::Failed)?.into_iter().map(|p| (p.login, p.id)).collect();
        let plan = ledger::org::import::plan(&self.org(), admin, &logins, rows, &mut random_id).map_err(ImportError::Rows)?;
        let mut adopt = self.adoptable_demo_ledger().map_err(ImportError::Failed)?;
        let mut units = Vec::with_capacity(plan.units.len());
        for mut unit in plan.units {
            let snapshot = self.give_ledger(&mut unit, &mut adopt);
            units.push((unit, snapshot));
        }
        let people: Vec<Person> = plan.people.into_iter().map(|p| Person { id: p.id, name: p.name, login: p.login }).collect();
        let counts = ImportCounts { units: units.len(), people: people.len(), grants: plan.grants.len() };
        self.storage.import(&units, &people, &plan.grants, Some(admin), now_secs()).map_err(ImportError::Failed)?;
        self.reload().map_err(ImportError::Failed)?;
        Ok(counts)
    }

    /// Adds a person; a password (desktop roles) is stored as an Argon2id hash.
    pub fn add_person(&self, name: &str, login: &str, password: Option<&str>, by: Option<&str>) -> Result<Person, String> {
        ledger::org::check_person(name, login)?;
        let (name, login) = (name.trim(), login.trim());
        if let Some(p) = password {
            check_password(p)?;
        }
        let hash = password.map(hash_password).transpose()?;
        let person = Person { id: random_id(), name: name.to_owned(), login: login.to_owned() };
        self.storage.add_person(&person, hash.as_deref(), by, now_secs())?;
        Ok(person)
    }

    pub fn grant(&self, person: &str, unit: &str, role: Role, by: Option<&str>) -> Result<(), String> {
        if self.storage.person(person)?.is_none() {
            return Err("没有这个人".into());
        }
        if !self.org().units.contains_key(unit) {
            return Err("没有这个单位".into());
        }
        self.storage.grant(&Grant { person: person.into(), unit: unit.into(), role }, by, now_secs())?;
        self.reload()
    }

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

    /// Rights of `person` on the ledger `doc`; none for a document that is no unit's ledger.
    pub fn rights(&self, person: &str, doc: &DocumentId) -> Rights {
        match self.unit_of(doc) {
            Some(unit) => self.org().ledger_rights(person, &unit),
            None => Rights::NONE,
        }
    }

    /// Checks that every change new to the server was made by an actor of `device` (binding
    /// actors seen for the first time to it). The all-zero actor no device owns may only bring
    /// the ledger skeleton.
    pub fn check_attribution(&self, device: &str, changes: &[Change]) -> Result<(), String> {
        for change in changes {
            let actor = change.actor_id();
            if actor.to_bytes().iter().all(|b| *b == 0) {
                if self.skeleton.contains(&change.hash()) {
                    continue;
                }
                return Err("the all-zero actor only writes the ledger skeleton".into());
            }
            let cached = self.actors.lock().unwrap_or_else(|e| e.into_inner()).get(actor).cloned();
            let owner = match cached {
                Some(owner) => owner,
                None => {
                    let owner = self.storage.bind_actor(actor.to_bytes(), device)?;
                    self.actors.lock().unwrap_or_else(|e| e.into_inner()).insert(actor.clone(), owner.clone());
                    owner
                }
            };
            if owner != device {
                return Err(format!("change {} is by actor {actor}, which belongs to another device", change.hash()));
            }
        }
        Ok(())
    }
}

fn ledger_index(org: &Org) -> HashMap<DocumentId, String> {
    org.units.values().filter_map(|u| Some((DocumentId::parse(u.ledger.as_deref()?).ok()?, u.id.clone()))).collect()
}

pub fn check_password(password: &str) -> Result<(), String> {
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

#[cfg(test)]
mod tests;
