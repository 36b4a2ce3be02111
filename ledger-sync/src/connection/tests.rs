//! Deterministic simulations: peers with real Automerge documents and storage that commits
//! when told, connected by links that can drop, duplicate or cut messages.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ReadDoc, ROOT};
use proptest::prelude::*;

use super::*;

/// A peer: live documents, what its storage holds, and its persisted sync states.
struct Peer {
    name: String,
    storage_id: Option<String>,
    live: BTreeMap<DocumentId, AutoCommit>,
    durable: BTreeMap<DocumentId, AutoCommit>,
    sync_states: HashMap<(Option<String>, DocumentId), Vec<u8>>,
    /// Documents others may not read from this peer (as a server's access rules would say).
    forbidden: BTreeSet<DocumentId>,
    read_only: BTreeSet<DocumentId>,
    may_create: bool,
    /// Persist requests not yet committed (to simulate a crash before commit).
    uncommitted: Vec<(DocumentId, Vec<u8>, u64)>,
    auto_commit: bool,
}

impl Peer {
    fn new(name: &str, may_create: bool) -> Self {
        Self {
            name: name.into(),
            storage_id: Some(format!("{name}-storage")),
            live: BTreeMap::new(),
            durable: BTreeMap::new(),
            sync_states: HashMap::new(),
            forbidden: BTreeSet::new(),
            read_only: BTreeSet::new(),
            may_create,
            uncommitted: Vec::new(),
            auto_commit: true,
        }
    }

    fn local(&self) -> LocalPeer {
        LocalPeer { peer_id: format!("{}-{}", self.name, rand_suffix()), storage_id: self.storage_id.clone() }
    }

    fn create_doc(&mut self) -> DocumentId {
        let id = DocumentId::random();
        let doc = AutoCommit::new().with_actor(ActorId::random());
        self.durable.insert(id, doc.clone());
        self.live.insert(id, doc);
        id
    }

    /// A local edit, saved at once (as the app does).
    fn edit(&mut self, doc: DocumentId, key: &str, value: &str) {
        let d = self.live.get_mut(&doc).unwrap();
        let heads = d.get_heads();
        d.put(ROOT, key, value).unwrap();
        d.commit();
        let bytes = d.save_after(&heads);
        self.durable.get_mut(&doc).unwrap().load_incremental(&bytes).unwrap();
    }

    /// Loses everything not durable, as a killed process does.
    fn crash(&mut self) {
        self.live = self.durable.iter_mut().map(|(id, d)| (*id, d.fork().with_actor(ActorId::random()))).collect();
        self.uncommitted.clear();
    }

    fn commit(&mut self, doc: DocumentId, changes: &[u8]) {
        self.durable.entry(doc).or_insert_with(AutoCommit::new).load_incremental(changes).unwrap();
    }

    fn value(&self, doc: DocumentId, key: &str) -> Option<String> {
        let d = self.live.get(&doc)?;
        d.get(ROOT, key).unwrap().map(|(v, _)| v.to_string().trim_matches('"').to_owned())
    }

    fn heads(&mut self, doc: DocumentId) -> Vec<automerge::ChangeHash> {
        self.live.get_mut(&doc).map(|d| d.get_heads()).unwrap_or_default()
    }
}

fn rand_suffix() -> String {
    DocumentId::random().to_string()[..6].to_owned()
}

impl DocumentHost for Peer {
    fn document(&mut self, doc: &DocumentId, create: bool) -> Option<&mut AutoCommit> {
        if self.forbidden.contains(doc) {
            return None;
        }
        if create && self.may_create && !self.live.contains_key(doc) {
            self.live.insert(*doc, AutoCommit::new().with_actor(ActorId::random()));
            self.durable.insert(*doc, AutoCommit::new());
        }
        self.live.get_mut(doc)
    }

    /// Also holds the engine to what a server's write rules need: every change handed over for
    /// checking has its dependencies in the document or before it in the list.
    fn may_write(&mut self, doc: &DocumentId, changes: &[automerge::Change]) -> Result<(), String> {
        if self.read_only.contains(doc) {
            return Err("read only".into());
        }
        let d = self.live.get_mut(doc).ok_or("no document")?;
        let mut earlier = BTreeSet::new();
        for change in changes {
            if let Some(dep) = change.deps().iter().find(|dep| !earlier.contains(*dep) && d.get_change_meta_by_hash(dep).is_none()) {
                return Err(format!("{} handed over before its dependency {dep}", change.hash()));
            }
            earlier.insert(change.hash());
        }
        Ok(())
    }
}

/// Two peers and the connection between them, stepped by hand.
struct Session {
    a: Connection,
    b: Connection,
    to_b: VecDeque<Vec<u8>>,
    to_a: VecDeque<Vec<u8>>,
    /// Frames delivered, both ways, and their bytes.
    frames: usize,
    bytes: usize,
    closed: Option<String>,
}

impl Session {
    /// Connects `client` (initiator) to `server`, restoring persisted sync states and asking to
    /// sync every document the client has.
    fn connect(client: &mut Peer, server: &mut Peer) -> Self {
        let mut s = Session {
            a: Connection::initiate(client.local()),
            b: Connection::accept(server.local()),
            to_b: VecDeque::new(),
            to_a: VecDeque::new(),
            frames: 0,
            bytes: 0,
            closed: None,
        };
        s.pump(client, server);
        s
    }

    /// Handles every pending output on both sides (without delivering frames).
    fn pump(&mut self, client: &mut Peer, server: &mut Peer) {
        loop {
            let mut progressed = false;
            while let Some(o) = self.a.poll_output() {
                progressed = true;
                Self::handle(o, &mut self.a, client, &mut self.to_b, &mut self.closed);
            }
            while let Some(o) = self.b.poll_output() {
                progressed = true;
                Self::handle(o, &mut self.b, server, &mut self.to_a, &mut self.closed);
            }
            if !progressed {
                break;
            }
        }
    }

    fn handle(o: Output, conn: &mut Connection, peer: &mut Peer, outbox: &mut VecDeque<Vec<u8>>, closed: &mut Option<String>) {
        match o {
            Output::Send(frame) => outbox.push_back(frame),
            Output::Load { doc } => conn.process(doc, peer),
            Output::Close { reason } => *closed = Some(reason),
            Output::Connected { remote_storage, .. } => {
                let docs: Vec<DocumentId> = peer.live.keys().copied().collect();
                for doc in &docs {
                    if let Some(state) = peer.sync_states.get(&(remote_storage.clone(), *doc)) {
                        conn.restore_sync_state(*doc, &state.clone());
                    }
                }
                // Remember whose states to save.
                peer.sync_states.insert((None, DocumentId::from_bytes([0; 16])), remote_storage.unwrap_or_default().into_bytes());
                // Initiators (phones) offer everything they hold; servers wait to be asked.
                if conn.initiator {
                    for doc in docs {
                        conn.sync_document(doc);
                    }
                }
            }
            Output::Persist { doc, applied, ticket } => {
                let changes = applied.bytes();
                if peer.auto_commit {
                    peer.commit(doc, &changes);
                    conn.persisted(ticket, peer);
                } else {
                    peer.uncommitted.push((doc, changes, ticket));
                }
            }
            Output::SyncState { doc, state } => {
                let remote = peer.sync_states.get(&(None, DocumentId::from_bytes([0; 16]))).map(|b| String::from_utf8(b.clone()).unwrap());
                peer.sync_states.insert((remote.filter(|s| !s.is_empty()), doc), state);
            }
            Output::Unavailable { .. } | Output::RemoteError { .. } => {}
        }
    }

    /// Commits what `peer` (the server side) was asked to persist, as its storage would.
    fn commit_server(&mut self, server: &mut Peer, client: &mut Peer) {
        for (doc, changes, ticket) in std::mem::take(&mut server.uncommitted) {
            server.commit(doc, &changes);
            self.b.persisted(ticket, server);
        }
        self.pump(client, server);
    }

    /// Delivers every frame in flight, both ways: one round trip's worth. Returns frames moved.
    fn round(&mut self, client: &mut Peer, server: &mut Peer) -> usize {
        let to_b: Vec<_> = self.to_b.drain(..).collect();
        let to_a: Vec<_> = self.to_a.drain(..).collect();
        let n = to_b.len() + to_a.len();
        for f in to_b {
            self.frames += 1;
            self.bytes += f.len();
            self.b.receive(&f);
        }
        for f in to_a {
            self.frames += 1;
            self.bytes += f.len();
            self.a.receive(&f);
        }
        self.pump(client, server);
        n
    }

    /// Runs rounds until nothing moves; returns how many rounds carried frames.
    fn settle(&mut self, client: &mut Peer, server: &mut Peer) -> usize {
        let mut rounds = 0;
        while self.round(client, server) > 0 {
            rounds += 1;
            assert!(rounds < 100, "sync did not settle: a sync loop");
        }
        rounds
    }
}

fn server() -> Peer {
    Peer::new("server", true)
}

#[test]
fn handshake_then_a_new_document_reaches_the_server() {
    let (mut phone, mut srv) = (Peer::new("phone", false), server());
    let doc = phone.create_doc();
    phone.edit(doc, "visit", "张大爷家");
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    assert!(s.a.is_open() && s.b.is_open());
    assert_eq!(srv.value(doc, "visit").as_deref(), Some("张大爷家"));
    // And it is durable on the server, not only in memory.
    assert_eq!(srv.durable[&doc].get(ROOT, "visit").unwrap().unwrap().0.to_string(), "\"张大爷家\"");
    assert!(s.closed.is_none());
}

#[test]
fn two_phones_offline_edits_converge_through_the_server() {
    let (mut a, mut b, mut srv) = (Peer::new("a", false), Peer::new("b", false), server());
    let doc = a.create_doc();
    a.edit(doc, "title", "路灯");
    let mut s = Session::connect(&mut a, &mut srv);
    s.settle(&mut a, &mut srv);
    // Phone b learns the ledger's id (the server tells it) and starts from an empty copy.
    b.live.insert(doc, AutoCommit::new().with_actor(ActorId::random()));
    b.durable.insert(doc, AutoCommit::new());
    let mut s = Session::connect(&mut b, &mut srv);
    s.settle(&mut b, &mut srv);
    assert_eq!(b.value(doc, "title").as_deref(), Some("路灯"));

    // Both edit offline, concurrently.
    a.edit(doc, "from_a", "A");
    b.edit(doc, "from_b", "B");
    for _ in 0..2 {
        let mut s = Session::connect(&mut a, &mut srv);
        s.settle(&mut a, &mut srv);
        let mut s = Session::connect(&mut b, &mut srv);
        s.settle(&mut b, &mut srv);
    }
    assert_eq!(a.heads(doc), b.heads(doc));
    assert_eq!(a.heads(doc), srv.heads(doc));
    assert_eq!((a.value(doc, "from_b").as_deref(), b.value(doc, "from_a").as_deref()), (Some("B"), Some("A")));
}

#[test]
fn many_documents_share_one_connection_in_a_few_round_trips() {
    let (mut phone, mut srv) = (Peer::new("phone", false), server());
    let docs: Vec<_> = (0..50)
        .map(|i| {
            let d = phone.create_doc();
            phone.edit(d, "n", &i.to_string());
            d
        })
        .collect();
    let mut s = Session::connect(&mut phone, &mut srv);
    let rounds = s.settle(&mut phone, &mut srv);
    for d in &docs {
        assert_eq!(phone.heads(*d), srv.heads(*d));
    }
    // A round is one direction's frames; two make a round trip. The handshake is the first.
    let round_trips = rounds.div_ceil(2);
    assert!(round_trips <= 3, "{round_trips} round trips (handshake included) for 50 documents");
}

/// A sync frame for `doc` carrying `message`, as the remote's engine would send it.
fn sync_frame(doc: DocumentId, message: sync::Message) -> Vec<u8> {
    Message::Sync { sender_id: "phone".into(), target_id: "server".into(), document_id: doc, data: message.encode() }.encode()
}

/// What `phone` would say about `doc` to a peer it knows nothing of: its heads and a summary
/// of what it has, no changes.
fn first_message(phone: &mut Peer, doc: DocumentId) -> sync::Message {
    phone.live.get_mut(&doc).unwrap().sync().generate_sync_message(&mut sync::State::new()).unwrap()
}

/// The sync messages among `frames`, decoded.
fn sync_messages(frames: &VecDeque<Vec<u8>>) -> Vec<sync::Message> {
    frames
        .iter()
        .filter_map(|f| match Message::decode(f).unwrap() {
            Message::Sync { data, .. } | Message::Request { data, .. } => Some(sync::Message::decode(&data).unwrap()),
            _ => None,
        })
        .collect()
}

#[test]
fn messages_a_later_one_supersedes_get_one_answer() {
    // Under contention a server's replies lag: by its turn, a phone has answered the last reply
    // again and again. Answering each stale message made the phone answer each answer: a round
    // trip apiece, for nothing (the shared-ledger load benchmark's frames per edit, session 12).
    let (mut phone, mut srv) = (Peer::new("phone", false), server());
    let doc = phone.create_doc();
    phone.edit(doc, "visit", "x");
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    // Another phone's change reaches the server; this phone has not heard of it.
    srv.edit(doc, "problem", "y");
    // Three messages from this phone arrive together, none with changes.
    let mut misjudged = false;
    for _ in 0..3 {
        let m = first_message(&mut phone, doc);
        // The message's bloom filter of the phone's changes says "has it" about one time in a
        // hundred of a change it lacks; the server then rightly sends nothing yet, and the
        // phone asks for it by hash while they settle.
        misjudged |= srv.heads(doc).iter().any(|h| m.have.iter().any(|have| have.bloom.contains_hash(h)));
        s.to_b.push_back(sync_frame(doc, m));
    }
    let frames: Vec<_> = s.to_b.drain(..).collect();
    for f in frames {
        s.b.receive(&f);
    }
    s.pump(&mut phone, &mut srv);
    let answers = sync_messages(&s.to_a);
    assert_eq!(answers.len(), 1, "one answer to three messages");
    assert_eq!(answers[0].heads, srv.heads(doc));
    if !misjudged {
        assert_eq!(answers[0].changes.len(), 1, "the answer carries the change the phone lacks");
    }
    s.settle(&mut phone, &mut srv);
    assert_eq!(phone.value(doc, "problem").as_deref(), Some("y"));
    assert_eq!(phone.heads(doc), srv.heads(doc));
}

#[test]
fn a_change_is_acknowledged_even_when_messages_follow_it() {
    // A message with changes is answered (after the write commits) before the next is applied,
    // whatever follows: the answer is the phone's proof the change is kept.
    let (mut phone, mut srv) = (Peer::new("phone", false), server());
    let doc = phone.create_doc();
    phone.edit(doc, "visit", "x");
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    let before = phone.heads(doc);
    phone.edit(doc, "visit", "改过");
    let edit = phone.heads(doc);
    let change = phone.live.get_mut(&doc).unwrap().get_changes(&before).into_iter().map(|c| c.raw_bytes().to_vec()).collect::<Vec<_>>();
    let carrying = sync::Message { heads: edit.clone(), need: vec![], have: vec![], changes: change.into(), flags: None, version: sync::MessageVersion::V1 };
    // Stale, the change, then a message that already says both sides are at the same heads
    // (which alone would let Automerge answer nothing).
    let stale = sync::Message { heads: before.clone(), ..first_message(&mut phone, doc) };
    let same = sync::Message { heads: edit.clone(), changes: sync::ChunkList::empty(), ..carrying.clone() };
    for m in [stale, carrying, same] {
        s.b.receive(&sync_frame(doc, m));
    }
    s.pump(&mut phone, &mut srv);
    assert_eq!(srv.heads(doc), edit);
    let answers = sync_messages(&s.to_a);
    assert!(answers.iter().any(|a| a.heads == edit), "the change's acknowledgement was sent: {answers:?}");
}

#[test]
fn a_reconnect_with_nothing_new_costs_well_under_a_kilobyte() {
    let (mut phone, mut srv) = (Peer::new("phone", false), server());
    let doc = phone.create_doc();
    for i in 0..2_000 {
        phone.edit(doc, &format!("k{}", i % 50), &i.to_string());
    }
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    let first = s.bytes;
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    assert!(s.bytes < 1024, "reconnect cost {} bytes (first sync {first})", s.bytes);
    // Without persisted states, the same reconnect costs far more.
    phone.sync_states.clear();
    srv.sync_states.clear();
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    assert!(s.bytes > 1024, "fresh-state reconnect cost only {} bytes", s.bytes);
}

#[test]
fn nothing_is_acknowledged_before_it_is_durable() {
    let (mut phone, mut srv) = (Peer::new("phone", false), server());
    let doc = phone.create_doc();
    phone.edit(doc, "visit", "一条记录");
    srv.auto_commit = false;
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    // The server holds the change in memory, asked storage to write it, and said nothing back
    // about this document yet.
    assert_eq!(srv.uncommitted.len(), 1);
    assert_eq!(s.b.pending_writes(), 1);
    assert_ne!(phone.sync_states.get(&(srv.storage_id.clone(), doc)).map(|s| sync::State::decode(s).unwrap().shared_heads), Some(phone.heads(doc)));
    // The server dies before the write commits: the change is gone from the server...
    srv.crash();
    srv.auto_commit = true;
    assert_eq!(srv.value(doc, "visit"), None);
    // ...but the phone never heard it was kept, so the next connection sends it again.
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    assert_eq!(srv.value(doc, "visit").as_deref(), Some("一条记录"));
    assert_eq!(srv.heads(doc), phone.heads(doc));
}

#[test]
fn replies_resume_once_storage_commits() {
    let (mut phone, mut srv) = (Peer::new("phone", false), server());
    let doc = phone.create_doc();
    phone.edit(doc, "visit", "x");
    srv.auto_commit = false;
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    s.commit_server(&mut srv, &mut phone);
    s.settle(&mut phone, &mut srv);
    assert_eq!(srv.heads(doc), phone.heads(doc));
    assert_eq!(s.b.pending_writes(), 0);
}

#[test]
fn a_forbidden_document_answers_exactly_like_a_missing_one() {
    let answer = |forbid: bool| {
        let (mut phone, mut srv) = (Peer::new("phone", false), Peer::new("server", false));
        let doc = phone.create_doc();
        phone.edit(doc, "k", "v");
        if forbid {
            srv.live.insert(doc, phone.live[&doc].clone());
            srv.forbidden.insert(doc);
        }
        let mut s = Session::connect(&mut phone, &mut srv);
        s.round(&mut phone, &mut srv); // join arrives; peer goes back
        s.round(&mut phone, &mut srv); // peer arrives; request goes out
        s.round(&mut phone, &mut srv); // request arrives; the answer goes back
        let frames: Vec<Message> = s.to_a.iter().map(|f| Message::decode(f).unwrap()).collect();
        frames
            .into_iter()
            .map(|m| match m {
                Message::DocUnavailable { document_id, .. } => format!("unavailable {}", document_id == doc),
                other => other.type_name().to_owned(),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(answer(true), answer(false));
    assert_eq!(answer(false), vec!["unavailable true".to_owned()]);
}

/// The runtime asks the engine which documents a connection syncs (to announce other peers'
/// commits); a made-up id answered as unavailable must not stay among them, or a peer naming
/// thousands of ids would grow that list for as long as it stays connected.
#[test]
fn a_document_answered_as_unavailable_is_not_synced_on_the_connection() {
    let (mut phone, mut srv) = (Peer::new("phone", false), Peer::new("server", false));
    let known = phone.create_doc();
    phone.edit(known, "k", "v");
    srv.live.insert(known, phone.live[&known].clone());
    let made_up = phone.create_doc(); // the server has no such document and may not create it
    phone.edit(made_up, "k", "v");
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    assert!(s.b.syncs(&known), "the document both have is synced");
    assert!(!s.b.syncs(&made_up), "the made-up id stays on the connection");
    assert_eq!(s.b.synced_documents(), vec![known]);
    // A sync state restored from an earlier connection alone is not a document synced now.
    let mut fresh = Connection::accept(srv.local());
    fresh.restore_sync_state(made_up, &automerge::sync::State::new().encode());
    assert!(!fresh.syncs(&made_up));
}

#[test]
fn a_refused_write_closes_the_connection_and_changes_nothing() {
    let (mut phone, mut srv) = (Peer::new("phone", false), server());
    let doc = phone.create_doc();
    phone.edit(doc, "k", "v1");
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    let before = srv.heads(doc);
    srv.read_only.insert(doc);
    phone.edit(doc, "k", "v2");
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    assert!(s.closed.as_deref().unwrap_or_default().contains("not allowed"), "{:?}", s.closed);
    assert_eq!(srv.heads(doc), before);
    assert_eq!(srv.value(doc, "k").as_deref(), Some("v1"));
}

/// A phone synced once makes the changes `edit` commits, and sends all of them but the first
/// (as when the server's bloom filter falsely says it has that one). What builds on the first
/// waits, unchecked and unapplied; the answer asks for the first; once it comes, everything is
/// checked, applied in order and made durable.
fn first_change_left_out_waits_then_applies(edit: impl FnOnce(&mut AutoCommit)) {
    let (mut phone, mut srv) = (Peer::new("phone", false), server());
    let doc = phone.create_doc();
    phone.edit(doc, "visit", "x");
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    let before = srv.heads(doc);
    let d = phone.live.get_mut(&doc).unwrap();
    edit(d);
    let all = d.get_changes(&before);
    let left_out = all[0].hash();
    let rest = all[1..].iter().map(|c| c.raw_bytes().to_vec()).collect::<Vec<_>>();
    let heads = d.get_heads();
    let bytes = d.save_after(&before);
    phone.durable.get_mut(&doc).unwrap().load_incremental(&bytes).unwrap();

    let without_first = sync::Message { heads: heads.clone(), need: vec![], have: vec![], changes: rest.into(), flags: None, version: sync::MessageVersion::V1 };
    s.b.receive(&sync_frame(doc, without_first));
    s.pump(&mut phone, &mut srv);
    assert!(s.closed.is_none(), "{:?}", s.closed);
    assert_eq!(srv.heads(doc), before, "nothing applied before its dependency");
    assert_eq!(s.b.waiting_shares().iter().map(|(_, w)| w.changes).collect::<Vec<_>>(), vec![all.len() - 1]);
    let answers = sync_messages(&s.to_a);
    assert_eq!(answers.last().map(|a| a.need.clone()), Some(vec![left_out]), "the answer asks for the change left out");

    s.settle(&mut phone, &mut srv);
    assert!(s.closed.is_none(), "{:?}", s.closed);
    assert_eq!(srv.heads(doc), heads);
    assert!(s.b.waiting_shares().is_empty());
    assert_eq!(srv.durable.get_mut(&doc).unwrap().get_heads(), heads, "all are durable");
}

/// The phone's bloom filter of what we have said yes to a change we lack (about one in a
/// hundred), so the phone sent only what builds on it. That change names an object the
/// server's document does not have: it waits, and the answer asks for its dependency.
#[test]
fn a_change_sent_without_its_dependency_waits_and_its_dependency_is_asked_for() {
    first_change_left_out_waits_then_applies(|d| {
        let post = d.put_object(ROOT, "post", automerge::ObjType::Map).unwrap();
        d.commit();
        d.put(&post, "published", true).unwrap();
        d.commit();
    });
}

/// A phone's offline edits are one chain, and the bloom filter's false positive may fall on
/// one of the first: everything after it waits. Two thousand of them wait until the one left
/// out comes (with a limit of 1,000 waiting changes this closed the connection, and every retry
/// met the same false positive).
#[test]
fn a_long_chain_sent_without_its_first_change_waits_whole_until_that_change_comes() {
    first_change_left_out_waits_then_applies(|d| {
        for i in 0..2_001 {
            d.put(ROOT, format!("k{}", i % 16), i).unwrap();
            d.commit();
        }
    });
}

#[test]
fn bad_frames_get_an_error_and_a_close() {
    for frame in [vec![0xff, 0x00], Message::Sync { sender_id: "x".into(), target_id: "y".into(), document_id: DocumentId::random(), data: vec![1] }.encode()] {
        let srv = server();
        let mut c = Connection::accept(srv.local());
        c.receive(&frame);
        let out: Vec<Output> = std::iter::from_fn(|| c.poll_output()).collect();
        assert!(matches!(&out[0], Output::Send(f) if matches!(Message::decode(f), Ok(Message::Error { .. }))), "{out:?}");
        assert!(matches!(out[1], Output::Close { .. }));
        assert!(c.is_closed());
    }
    // Invalid automerge bytes inside a well-formed message, after the handshake.
    let (mut phone, mut srv) = (Peer::new("phone", false), server());
    let mut s = Session::connect(&mut phone, &mut srv);
    s.settle(&mut phone, &mut srv);
    let bad = Message::Request { sender_id: "p".into(), target_id: "s".into(), document_id: DocumentId::random(), data: vec![0x42, 0xff, 0xff] };
    s.b.receive(&bad.encode());
    s.pump(&mut phone, &mut srv);
    assert!(s.closed.is_some());
    assert!(srv.live.is_empty(), "a bad request created a document");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Random edits on three phones, random cuts (messages in flight lost), duplicated and
    /// reordered frames, server crashes: once the links are healthy again, everyone ends with
    /// identical heads, and no healthy session loops (`settle` bounds its rounds).
    #[test]
    fn random_edits_and_faults_converge(
        script in proptest::collection::vec((0usize..3, 0u8..5, 0usize..6), 1..60),
        dup_every in 2usize..7,
    ) {
        let mut phones: Vec<Peer> = (0..3).map(|i| Peer::new(&format!("p{i}"), false)).collect();
        let mut srv = server();
        let doc = phones[0].create_doc();
        phones[0].edit(doc, "start", "0");
        let mut s = Session::connect(&mut phones[0], &mut srv);
        s.settle(&mut phones[0], &mut srv);
        for p in phones.iter_mut().skip(1) {
            let copy = srv.durable[&doc].clone();
            p.durable.insert(doc, copy.clone());
            p.live.insert(doc, copy.with_actor(ActorId::random()));
        }
        let mut frame_no = 0usize;
        for (step, (who, action, rounds)) in script.into_iter().enumerate() {
            let phone = &mut phones[who];
            match action {
                0 | 1 => phone.edit(doc, &format!("k{}", step % 5), &format!("{who}-{step}")),
                2 => {
                    // A connection that is cut after `rounds` round trips; what is in flight is lost.
                    let mut s = Session::connect(phone, &mut srv);
                    for _ in 0..rounds {
                        // Duplicate some frames in flight: a confused proxy or a retry.
                        frame_no += 1;
                        if frame_no % dup_every == 0 {
                            if let Some(f) = s.to_b.back().cloned() { s.to_b.push_back(f); }
                        }
                        s.round(phone, &mut srv);
                    }
                }
                4 => {
                    // A link that delivers what is in flight out of order, then is cut.
                    let mut s = Session::connect(phone, &mut srv);
                    for _ in 0..rounds {
                        s.to_b.make_contiguous().reverse();
                        s.to_a.make_contiguous().reverse();
                        s.round(phone, &mut srv);
                    }
                }
                _ => {
                    // The server is killed with writes uncommitted.
                    srv.auto_commit = false;
                    let mut s = Session::connect(phone, &mut srv);
                    for _ in 0..rounds { s.round(phone, &mut srv); }
                    srv.crash();
                    srv.auto_commit = true;
                }
            }
        }
        // Healthy links: everyone syncs until quiet, twice round so edits flow both ways.
        for _ in 0..2 {
            for p in phones.iter_mut() {
                let mut s = Session::connect(p, &mut srv);
                s.settle(p, &mut srv);
            }
        }
        let server_heads = srv.heads(doc);
        for p in phones.iter_mut() {
            prop_assert_eq!(p.heads(doc), server_heads.clone());
        }
    }
}
