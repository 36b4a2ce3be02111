//! The organisation the office's and recognition's tests share: city ─ county X ─ township T1 ─
//! villages A, B; city ─ county Y ─ township T2 ─ village C; the offices of both counties, X's
//! supervisor, A's secretary and cadre, B's and C's secretaries and the city's admin, each with
//! a device token.

use std::collections::HashMap;
use std::time::Duration;

use ledger::org::{Role, UnitKind};
use ledger_sync::DocumentId;

use super::{http, Server};

pub struct World {
    pub server: Server,
    pub data: tempfile::TempDir,
    pub ledgers: HashMap<&'static str, DocumentId>,
    pub units: HashMap<&'static str, String>,
    pub tokens: HashMap<&'static str, String>,
    pub people: HashMap<&'static str, String>,
}

pub async fn world() -> World {
    world_with(|_| {}).await
}

/// The same organisation on a server whose state `configure` set (a flag of the binary's).
pub async fn world_with(configure: impl FnOnce(&mut sync_server::AppState)) -> World {
    world_in(tempfile::tempdir().unwrap(), configure).await
}

/// In `data` (a test about SQLite's file makes it with [`super::sqlite_dir`]).
pub async fn world_in(data: tempfile::TempDir, configure: impl FnOnce(&mut sync_server::AppState)) -> World {
    let server = Server::start_configured(data.path(), Duration::from_secs(5), sync_server::ConnectionLimits::default(), configure).await;
    let d = server.state.hub.directory.clone();
    let city = d.org().units.values().find(|u| u.kind == UnitKind::City).unwrap().id.clone();
    let add = |name: &str, kind, parent: &str| d.add_unit(name, kind, Some(parent), None).unwrap();
    let x = add("X县", UnitKind::County, &city);
    let t1 = add("T1镇", UnitKind::Township, &x.id);
    let a = add("A村", UnitKind::Village, &t1.id);
    let b = add("B村", UnitKind::Village, &t1.id);
    let y = add("Y县", UnitKind::County, &city);
    let t2 = add("T2镇", UnitKind::Township, &y.id);
    let c = add("C村", UnitKind::Village, &t2.id);
    let mut tokens = HashMap::new();
    let mut people = HashMap::new();
    for (who, unit, role) in [
        ("office_x", &x.id, Role::Office),
        ("office_y", &y.id, Role::Office),
        ("sup_x", &x.id, Role::Supervisor),
        ("secretary_a", &a.id, Role::Secretary),
        ("cadre_a", &a.id, Role::Cadre),
        ("secretary_b", &b.id, Role::Secretary),
        ("secretary_c", &c.id, Role::Secretary),
        ("admin", &city, Role::Admin),
    ] {
        let person = d.add_person(&format!("{who}名"), who, None, None).unwrap();
        d.grant(&person.id, unit, role, None).unwrap();
        tokens.insert(who, d.issue_token(&person.id, who, None).unwrap().token);
        people.insert(who, person.id);
    }
    let mut ledgers = HashMap::new();
    let mut units = HashMap::new();
    for (name, unit) in [("X县", &x), ("Y县", &y), ("A村", &a), ("B村", &b), ("C村", &c)] {
        units.insert(name, unit.id.clone());
        if let Some(l) = &unit.ledger {
            ledgers.insert(name, DocumentId::parse(l).unwrap());
        }
    }
    World { server, data, ledgers, units, tokens, people }
}

impl World {
    /// `who`'s request (`anonymous`: none), its status and body.
    pub async fn call(&self, who: &str, method: &str, path: &str, body: &str) -> (u16, String) {
        let auth = format!("Bearer {}", self.tokens.get(who).map(String::as_str).unwrap_or("none"));
        let mut headers = vec![("Content-Type", "application/json")];
        if who != "anonymous" {
            headers.push(("Authorization", auth.as_str()));
        }
        let (status, _, body) = http(self.server.addr, method, path, &headers, body).await;
        (status, body)
    }

    /// `who`'s answer, read as exactly a `T`.
    pub async fn exactly<T: serde::Serialize + serde::de::DeserializeOwned>(&self, who: &str, method: &str, path: &str, body: &str) -> T {
        let (status, text) = self.call(who, method, path, body).await;
        assert!((200..300).contains(&status), "{method} {path} as {who}: {status} {text}");
        http_api::exactly::<T>(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }
}
