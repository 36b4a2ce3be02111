//! Small settings kept on this device, never records (those live in IndexedDB): who the server
//! said this phone works for, the ledger chosen, whether the phone was retired, the remarks seen.
//!
//! Each is a [`Setting`] of one type, stored as JSON through gloo-storage; a value that cannot
//! be written (storage full, private mode) or read back is reported on the console rather than
//! silently taken for "not set". Settings written before this module were plain strings:
//! [`upgrade_stored_format`] rewrites them once, so no phone forgets its ledger or that it was
//! retired on the update.

use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;

use gloo_storage::errors::StorageError;
use gloo_storage::{LocalStorage, Storage};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// One setting: its key and the type of its value.
pub struct Setting<T> {
    key: Cow<'static, str>,
    value: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Setting<T> {
    pub const fn new(key: &'static str) -> Self {
        Self { key: Cow::Borrowed(key), value: PhantomData }
    }

    /// A setting whose key names something (a ledger's remarks seen).
    pub fn named(key: String) -> Self {
        Self { key: Cow::Owned(key), value: PhantomData }
    }

    pub fn get(&self) -> Option<T> {
        match LocalStorage::get(&self.key) {
            Ok(value) => Some(value),
            Err(StorageError::KeyNotFound(_)) => None,
            Err(e) => {
                leptos::logging::warn!("设置 {} 读不出：{e}", self.key);
                None
            }
        }
    }

    /// Writes the value; false (and a console warning) when the browser refused it.
    pub fn set(&self, value: &T) -> bool {
        match LocalStorage::set(&self.key, value) {
            Ok(()) => true,
            Err(e) => {
                leptos::logging::warn!("设置 {} 存不下：{e}", self.key);
                false
            }
        }
    }

    pub fn remove(&self) {
        LocalStorage::delete(&self.key);
    }
}

/// What `/api/me` last said, as its JSON text (the app opens offline with no prompt).
pub const ME: Setting<String> = Setting::new("pioneer.me");
/// The ledger this phone works in now (one of the person's).
pub const SELECTED_LEDGER: Setting<String> = Setting::new("pioneer.ledger-id");
/// The first ledger this phone ever opened: its data lives under the original storage key.
pub const HOME_LEDGER: Setting<String> = Setting::new("pioneer.home-ledger");
/// Why this phone erased itself, shown above the activation form until it is activated anew.
pub const DEVICE_GONE: Setting<String> = Setting::new("pioneer.device_gone");
/// Set once this phone learns it was retired, so a reload before its last upload is done still
/// takes no new writes.
pub const DEVICE_RETIRED: Setting<bool> = Setting::new("pioneer.device_retired");
/// Whether the browser granted persistent storage (asked once).
pub const PERSISTENCE: Setting<String> = Setting::new("pioneer.persist-requested");
/// This browser's storage id: sync states saved under it survive reloads.
pub const STORAGE_ID: Setting<String> = Setting::new("pioneer.storage-id");
/// The server's storage id at the last sync, to count what is not uploaded while offline.
pub const SERVER_STORAGE: Setting<String> = Setting::new("pioneer.server-storage");

/// How many bytes of photos this phone may keep (`ledger::photo::shelf`).
pub const PHOTO_SPACE: Setting<u64> = Setting::new("pioneer.photo-space");

const REMARKS_SEEN_PREFIX: &str = "pioneer.remarks_seen:";

/// Per problem, the time of the newest 督办意见 shown on this phone, for the ledger stored
/// under `ledger_key`.
pub fn remarks_seen(ledger_key: &str) -> Setting<HashMap<String, i64>> {
    Setting::named(format!("{REMARKS_SEEN_PREFIX}{ledger_key}"))
}

/// Which way settings are stored; absent on a phone whose settings are still plain strings.
const FORMAT: Setting<u32> = Setting::new("pioneer.settings-format");
const JSON_FORMAT: u32 = 2;

/// Erases every setting (a retired or lost phone), keeping the format mark.
pub fn clear_all() {
    LocalStorage::clear();
    FORMAT.set(&JSON_FORMAT);
}

/// Rewrites settings stored as plain strings (before settings were JSON) in their JSON form,
/// once. Runs before anything reads a setting.
pub fn upgrade_stored_format() {
    if FORMAT.get().is_some() {
        return;
    }
    let raw = LocalStorage::raw();
    let keys: Vec<String> = (0..raw.length().unwrap_or(0)).filter_map(|i| raw.key(i).ok().flatten()).filter(|k| k.starts_with("pioneer.")).collect();
    for key in keys {
        let Some(plain) = raw.get_item(&key).ok().flatten() else { continue };
        let upgraded = upgraded(&key, &plain);
        if let Err(e) = raw.set_item(&key, &upgraded) {
            leptos::logging::warn!("设置 {key} 无法升级：{e:?}");
        }
    }
    FORMAT.set(&JSON_FORMAT);
}

/// A setting's plain-string value in its JSON form.
fn upgraded(key: &str, plain: &str) -> String {
    if key == DEVICE_RETIRED.key {
        return "true".into();
    }
    if key.starts_with(REMARKS_SEEN_PREFIX) {
        // "id=ms;id=ms"
        let seen: HashMap<&str, i64> = plain
            .split(';')
            .filter_map(|item| {
                let (id, at) = item.split_once('=')?;
                Some((id, at.parse().ok()?))
            })
            .collect();
        return serde_json::to_string(&seen).unwrap_or_else(|_| "{}".into());
    }
    serde_json::Value::String(plain.to_owned()).to_string()
}
