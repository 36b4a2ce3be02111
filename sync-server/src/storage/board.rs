//! What the public board (先锋广场) keeps outside the ledgers: which actors are the board's,
//! residents' follow-up phone numbers (for the unit's secretary only, never in a document that
//! every cadre's phone holds), and the one-time rating codes already used.

use super::sql::params;
use super::{Result, Storage};

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS board_actors (actor BLOB PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS board_contacts (
        rating TEXT PRIMARY KEY, ledger TEXT NOT NULL, phone TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS board_codes (
        code TEXT PRIMARY KEY, ledger TEXT NOT NULL, used_at INTEGER NOT NULL, rating TEXT) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS device_keys (
        device TEXT PRIMARY KEY REFERENCES devices(id), key BLOB NOT NULL) WITHOUT ROWID;";

/// PostgreSQL counts the public's writes per address, per browser and per browser and target
/// for every process sharing it: one fixed window per key, as [`crate::board`] counts them in
/// memory. Rows older than the longest window (a day) are swept as counting goes on.
pub(super) const POSTGRES_WINDOWS: &str = "
    CREATE TABLE IF NOT EXISTS board_windows (
        kind TEXT COLLATE \"C\" NOT NULL, key TEXT COLLATE \"C\" NOT NULL, started BIGINT NOT NULL, n BIGINT NOT NULL,
        PRIMARY KEY (kind, key));
    CREATE INDEX IF NOT EXISTS board_windows_by_start ON board_windows(started);";

/// One key [`Storage::count_in_windows`] counts an event for.
pub(crate) struct WindowCount {
    pub kind: &'static str,
    pub key: String,
    pub limit: u32,
    /// Seconds.
    pub window: i64,
}

/// The longest window counted (seconds): a row older than it counts nothing.
const LONGEST_WINDOW: i64 = 86_400;

impl Storage {
    /// Counts one event for each of `counts` in one transaction: for each key, in a window of
    /// its seconds starting when the key's first event in it came. When a key has had its limit
    /// in its window, nothing is counted for any of them and its index is returned. Shared by
    /// every process (PostgreSQL only). Rows are locked in the order given (the board gives
    /// address, browser, browser and target, always), so two requests cannot deadlock.
    pub(crate) fn count_in_windows(&self, counts: &[WindowCount], now: i64) -> Result<Option<usize>> {
        if let Some(full) = counts.iter().position(|c| c.limit == 0) {
            return Ok(Some(full));
        }
        let Some(first) = counts.first() else { return Ok(None) };
        let sweep = super::sql::rand_u8() == 0;
        self.write_in_turn(&format!("board {} {}", first.kind, first.key), |db| {
            if sweep {
                db.execute("DELETE FROM board_windows WHERE started < ?1", params![now - LONGEST_WINDOW])?;
            }
            for (i, c) in counts.iter().enumerate() {
                let n = db.query_row(
                    "INSERT INTO board_windows (kind, key, started, n) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (kind, key) DO UPDATE SET
                       n = CASE WHEN board_windows.started <= ?3 - ?4 THEN 1 ELSE board_windows.n + 1 END,
                       started = CASE WHEN board_windows.started <= ?3 - ?4 THEN ?3 ELSE board_windows.started END
                     RETURNING n",
                    params![c.kind, c.key, now, c.window],
                    |r| r.get::<i64>(0),
                )?;
                if n > i64::from(c.limit) {
                    for counted in &counts[..=i] {
                        db.execute("UPDATE board_windows SET n = n - 1 WHERE kind = ?1 AND key = ?2", params![counted.kind, counted.key])?;
                    }
                    return Ok(Some(i));
                }
            }
            Ok(None)
        })
    }

    /// Gives back events [`Self::count_in_windows`] counted that did not happen.
    pub(crate) fn uncount_in_windows(&self, counted: &[(&'static str, String)]) -> Result<()> {
        let Some((kind, key)) = counted.first() else { return Ok(()) };
        self.write_in_turn(&format!("board {kind} {key}"), |db| {
            for (kind, key) in counted {
                db.execute("UPDATE board_windows SET n = n - 1 WHERE kind = ?1 AND key = ?2 AND n > 0", params![kind, key])?;
            }
            Ok(())
        })
    }

    pub(crate) fn claim_board_actor(&self, actor: &[u8]) -> Result<()> {
        self.write(|db| db.execute("INSERT INTO board_actors (actor) VALUES (?1) ON CONFLICT DO NOTHING", params![actor])).map(|_| ())
    }

    pub(crate) fn put_contact(&self, rating: &str, ledger: &str, phone: &str, at: i64) -> Result<()> {
        self.write(|db| {
            db.execute(
                "INSERT INTO board_contacts (rating, ledger, phone, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (rating) DO UPDATE SET ledger = excluded.ledger, phone = excluded.phone, at = excluded.at",
                params![rating, ledger, phone, at],
            )
        })
        .map(|_| ())
    }

    /// The follow-up phone a resident left with a rating of `ledger`.
    pub fn contact(&self, ledger: &str, rating: &str) -> Result<Option<String>> {
        self.read(|db| db.query_opt("SELECT phone FROM board_contacts WHERE rating = ?1 AND ledger = ?2", params![rating, ledger], |r| r.get(0)))
    }

    /// Marks a one-time code used; false when it was already.
    pub(crate) fn use_rating_code(&self, code: &str, ledger: &str, at: i64) -> Result<bool> {
        let n = self.write(|db| db.execute("INSERT INTO board_codes (code, ledger, used_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", params![code, ledger, at]))?;
        Ok(n == 1)
    }

    /// Whether a one-time code was used already.
    pub(crate) fn rating_code_used(&self, code: &str) -> Result<bool> {
        self.read(|db| db.query_opt("SELECT 1 FROM board_codes WHERE code = ?1", params![code], |_| Ok(()))).map(|r| r.is_some())
    }

    /// Gives a code back when the rating it was used for could not be stored.
    pub(crate) fn unuse_rating_code(&self, code: &str) -> Result<()> {
        self.write(|db| db.execute("DELETE FROM board_codes WHERE code = ?1 AND rating IS NULL", params![code])).map(|_| ())
    }

    pub(crate) fn code_rated(&self, code: &str, rating: &str) -> Result<()> {
        self.write(|db| db.execute("UPDATE board_codes SET rating = ?2 WHERE code = ?1", params![code, rating])).map(|_| ())
    }

    /// The key a device signs one-time codes with, made the first time it is asked for.
    pub(crate) fn device_key(&self, device: &str) -> Result<Vec<u8>> {
        self.write(|db| {
            if let Some(key) = db.query_opt("SELECT key FROM device_keys WHERE device = ?1", params![device], |r| r.get(0))? {
                return Ok(key);
            }
            let mut key = vec![0u8; 32];
            getrandom::fill(&mut key).map_err(|e| e.to_string())?;
            db.execute("INSERT INTO device_keys (device, key) VALUES (?1, ?2)", params![device, key])?;
            Ok(key)
        })
    }

    /// A device's signing key, if it was ever given one.
    pub(crate) fn existing_device_key(&self, device: &str) -> Result<Option<Vec<u8>>> {
        self.read(|db| db.query_opt("SELECT key FROM device_keys WHERE device = ?1", params![device], |r| r.get(0)))
    }

    /// A secret of this data directory, made once (keys of residents' case links).
    pub(crate) fn board_secret(&self) -> Result<Vec<u8>> {
        if let Some(hex) = self.setting("board_secret")? {
            if let Some(bytes) = decode_hex(&hex) {
                return Ok(bytes);
            }
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| e.to_string())?;
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        self.write(|db| db.execute("INSERT INTO settings (key, value) VALUES ('board_secret', ?1) ON CONFLICT DO NOTHING", params![hex]))?;
        // Another start may have won the race: use what is stored.
        self.setting("board_secret")?.as_deref().and_then(decode_hex).ok_or_else(|| "board secret unreadable".into())
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    (s.len() % 2 == 0).then_some(())?;
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}
