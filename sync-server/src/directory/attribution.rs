//! Attribution: every change is by an actor of the device that sent it. An actor is bound to
//! the first device that sends a change of it, for good; the change's `author` field is a
//! claim, never proof.

use automerge::Change;

use super::Directory;

impl Directory {
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

/// The owner the attribution cache records for the public board's actors: no device id is
/// ever this (device ids are hex).
pub(crate) const BOARD_OWNER: &str = "先锋广场";

impl Directory {
    /// Claims `actor` for the public board's change at hand: every change but the skeleton must
    /// be by it, and it is recorded as the board's, so no device can bind it afterwards.
    pub fn claim_for_board(&self, actor: &automerge::ActorId, changes: &[Change]) -> Result<(), String> {
        for change in changes {
            if change.actor_id().to_bytes().iter().all(|b| *b == 0) {
                if self.skeleton.contains(&change.hash()) {
                    continue;
                }
                return Err("the all-zero actor only writes the ledger skeleton".into());
            }
            if change.actor_id() != actor {
                return Err(format!("change {} is not the board's own", change.hash()));
            }
        }
        self.storage.claim_board_actor(actor.to_bytes())?;
        self.actors.lock().unwrap_or_else(|e| e.into_inner()).insert(actor.clone(), BOARD_OWNER.to_owned());
        Ok(())
    }
}
