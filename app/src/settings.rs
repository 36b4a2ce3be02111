//! Small settings kept on this device, never records (those live in IndexedDB): who the server
//! said this phone works for, the ledger chosen, whether the phone was retired, the remarks seen.
//!
//! Each is a [`Setting`] of one type, stored in localStorage as JSON; a value that cannot
//! be written (storage full, private mode) or read back is reported on the console rather than
//! silently taken for "not set". Settings written before this module were plain strings:
//! [`upgrade_stored_format`] rewrites them once, so no phone forgets its ledger or that it was
//! retired on the update.
//!
//! The JSON is the browser's own (`JSON.parse`/`JSON.stringify`) rather than serde_json through
//! gloo-storage: for five small value types, serde_json and gloo-storage were 12 KB of the page's
//! bundle as browsers receive it (375.0 → 363.0 KB brotli; issue 28's budget). The stored text
//! is the same.

use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;

use wasm_bindgen::{JsCast, JsValue};

/// A value a setting can hold, as a JavaScript value `JSON.stringify` writes.
pub trait SettingValue: Sized {
    fn to_js(&self) -> JsValue;
    /// None when the stored JSON is not of this type.
    fn from_js(value: &JsValue) -> Option<Self>;
}

impl SettingValue for String {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
    fn from_js(value: &JsValue) -> Option<Self> {
        value.as_string()
    }
}

impl SettingValue for bool {
    fn to_js(&self) -> JsValue {
        JsValue::from_bool(*self)
    }
    fn from_js(value: &JsValue) -> Option<Self> {
        value.as_bool()
    }
}

/// Whole numbers below 2^53 (JSON's numbers are doubles; a photo budget in bytes is far below).
impl SettingValue for u64 {
    fn to_js(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
    fn from_js(value: &JsValue) -> Option<Self> {
        value.as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n < 9_007_199_254_740_992.0).map(|n| n as u64)
    }
}

impl SettingValue for u32 {
    fn to_js(&self) -> JsValue {
        JsValue::from_f64(f64::from(*self))
    }
    fn from_js(value: &JsValue) -> Option<Self> {
        u64::from_js(value).and_then(|n| u32::try_from(n).ok())
    }
}

/// An object of whole numbers (milliseconds) by name.
impl SettingValue for HashMap<String, i64> {
    fn to_js(&self) -> JsValue {
        let object = js_sys::Object::new();
        for (key, at) in self {
            let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &JsValue::from_f64(*at as f64));
        }
        object.into()
    }
    fn from_js(value: &JsValue) -> Option<Self> {
        let object = value.dyn_ref::<js_sys::Object>().filter(|_| !value.is_array())?;
        js_sys::Object::entries(object)
            .iter()
            .map(|entry| {
                let pair: js_sys::Array = entry.unchecked_into();
                let at = pair.get(1).as_f64().filter(|n| n.fract() == 0.0)?;
                Some((pair.get(0).as_string()?, at as i64))
            })
            .collect()
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// One setting: its key and the type of its value.
pub struct Setting<T> {
    key: Cow<'static, str>,
    value: PhantomData<fn() -> T>,
}

impl<T: SettingValue> Setting<T> {
    pub const fn new(key: &'static str) -> Self {
        Self { key: Cow::Borrowed(key), value: PhantomData }
    }

    /// A setting whose key names something (a ledger's remarks seen).
    pub fn named(key: String) -> Self {
        Self { key: Cow::Owned(key), value: PhantomData }
    }

    pub fn get(&self) -> Option<T> {
        let text = storage()?.get_item(&self.key).ok().flatten()?;
        let value = js_sys::JSON::parse(&text).ok().and_then(|v| T::from_js(&v));
        if value.is_none() {
            leptos::logging::warn!("设置 {} 读不出：{text}", self.key);
        }
        value
    }

    /// Writes the value; false (and a console warning) when the browser refused it.
    pub fn set(&self, value: &T) -> bool {
        let written = js_sys::JSON::stringify(&value.to_js())
            .ok()
            .and_then(|text| text.as_string())
            .ok_or_else(|| JsValue::from_str("JSON.stringify"))
            .and_then(|text| storage().ok_or_else(|| JsValue::from_str("无 localStorage"))?.set_item(&self.key, &text));
        match written {
            Ok(()) => true,
            Err(e) => {
                leptos::logging::warn!("设置 {} 存不下：{e:?}", self.key);
                false
            }
        }
    }

    pub fn remove(&self) {
        if let Some(storage) = storage() {
            let _ = storage.remove_item(&self.key);
        }
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
    if let Some(storage) = storage() {
        let _ = storage.clear();
    }
    FORMAT.set(&JSON_FORMAT);
}

/// Rewrites settings stored as plain strings (before settings were JSON) in their JSON form,
/// once. Runs before anything reads a setting.
pub fn upgrade_stored_format() {
    if FORMAT.get().is_some() {
        return;
    }
    let Some(raw) = storage() else { return };
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
        let seen: HashMap<String, i64> = plain
            .split(';')
            .filter_map(|item| {
                let (id, at) = item.split_once('=')?;
                Some((id.to_owned(), at.parse().ok()?))
            })
            .collect();
        return json(&seen.to_js()).unwrap_or_else(|| "{}".into());
    }
    json(&JsValue::from_str(plain)).unwrap_or_default()
}

fn json(value: &JsValue) -> Option<String> {
    js_sys::JSON::stringify(value).ok()?.as_string()
}
