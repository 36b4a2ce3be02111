//! Photos and places against the write check: what the app writes passes for the unit's
//! roles and nobody else's; crafted references, places and replacements are refused.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ObjType, ReadDoc, ScalarValue, ROOT};

use super::{check, Sender, NOT_DELETED, NOT_ITS_KIND};
use crate::org::Write;
use crate::photo::{Location, LocationEdit, MediaEdit, PhotoRef, PHOTO_TYPE};
use crate::{ProblemDraft, RecordId, Section, UnitLedger, VisitDraft};

const NAME: &str = "王芳";

fn as_(write: Write) -> Sender<'static> {
    Sender { write, name: NAME }
}

fn photo(n: u8) -> PhotoRef {
    PhotoRef { hash: format!("{n:02x}").repeat(32), mime: PHOTO_TYPE.into(), size: 150_000 + u32::from(n), taken_at: 1_000 + i64::from(n) }
}

fn add(photos: &[PhotoRef]) -> MediaEdit {
    MediaEdit { add: photos.to_vec(), ..Default::default() }
}

/// A server's ledger with a visit and a problem (with one progress step carrying a photo).
fn server() -> (UnitLedger, RecordId, RecordId, RecordId) {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    let mut l = UnitLedger::create(ActorId::random());
    l.set_author(NAME);
    let visit = l.add_visit(&VisitDraft { whom: "王大爷".into(), heard: "水渠堵了".into(), ..VisitDraft::new(today) }.validate(today).unwrap(), 1_000).unwrap();
    let problem = l.add_problem(&ProblemDraft { title: "水渠堵了".into(), ..ProblemDraft::default() }.validate().unwrap(), 1_000).unwrap();
    l.add_problem_progress_with_photos(&problem, "已清淤一半", &[photo(7)], 1_100).unwrap();
    let step = l.problem(&problem).unwrap().log.iter().find(|e| !e.photos.is_empty()).unwrap().id.clone();
    (l, visit, problem, step)
}

fn phone(server: &mut UnitLedger) -> UnitLedger {
    let mut l = UnitLedger::load(&server.save(), ActorId::random()).unwrap();
    l.set_author(NAME);
    l
}

fn new_changes(phone: &mut UnitLedger, server: &UnitLedger) -> Vec<Change> {
    let heads = server.doc().clone().get_heads();
    phone.doc_mut().get_changes(&heads)
}

fn obj_at(d: &AutoCommit, path: &[&str]) -> automerge::ObjId {
    let mut obj = ROOT;
    for key in path {
        obj = d.get(&obj, *key).unwrap().unwrap().1;
    }
    obj
}

fn commit_signed(d: &mut AutoCommit, record: &RecordId, section: Section) {
    let note = crate::record::ChangeNote { summary: "crafted".into(), record: Some((section, record.clone())), by: NAME.into() };
    d.commit_with(CommitOptions::default().with_message(note.encode()));
}

#[test]
fn the_apps_photo_and_place_writes_pass_for_the_unit_and_no_one_else() {
    type Work = fn(&mut UnitLedger, &RecordId, &RecordId, &RecordId);
    let works: Vec<(&str, Work)> = vec![
        ("photos on a visit", |l, v, _, _| l.edit_media(Section::Visits, v, None, &add(&[photo(1), photo(2)]), 2_000).unwrap()),
        ("photos on a problem", |l, _, p, _| l.edit_media(Section::Problems, p, None, &add(&[photo(3)]), 2_000).unwrap()),
        ("a progress step with photos", |l, _, p, _| l.add_problem_progress_with_photos(p, "已疏通", &[photo(4), photo(5)], 2_000).unwrap()),
        ("a photo taken off a progress step", |l, _, p, s| {
            l.edit_media(Section::Problems, p, Some(s), &MediaEdit { remove: vec![photo(7).hash], ..Default::default() }, 2_000).unwrap()
        }),
        ("a place recorded and cleared", |l, v, _, _| {
            let place = Location::from_degrees(26.08, 119.3, 15.0, 2_000).unwrap();
            l.edit_media(Section::Visits, v, None, &MediaEdit { location: LocationEdit::Set(place), ..Default::default() }, 2_000).unwrap();
            l.edit_media(Section::Visits, v, None, &MediaEdit { location: LocationEdit::Clear, ..Default::default() }, 2_100).unwrap();
        }),
        ("photos added then one removed", |l, v, _, _| {
            l.edit_media(Section::Visits, v, None, &add(&[photo(1), photo(2)]), 2_000).unwrap();
            l.edit_media(Section::Visits, v, None, &MediaEdit { remove: vec![photo(1).hash], ..Default::default() }, 2_100).unwrap();
        }),
    ];
    for (what, work) in works {
        let (mut server, visit, problem, step) = server();
        let mut l = phone(&mut server);
        work(&mut l, &visit, &problem, &step);
        let changes = new_changes(&mut l, &server);
        assert!(!changes.is_empty(), "{what}");
        for role in [Write::Cadre, Write::Everything] {
            assert_eq!(check(server.doc(), &changes, as_(role)), Ok(()), "{what} as {role:?}");
        }
        for role in [Write::SupervisionOnly, Write::Board, Write::Office, Write::Nothing] {
            assert!(check(server.doc(), &changes, as_(role)).is_err(), "{what} as {role:?} is refused");
        }
    }
}

/// Two phones add the first photos of one record offline: each makes the record's photo map,
/// and the merged record shows all of them; a removal on one phone reaches the other.
#[test]
fn first_photos_from_two_phones_both_survive_the_merge() {
    let (mut server, visit, _, _) = server();
    let mut a = phone(&mut server);
    let mut b = phone(&mut server);
    a.edit_media(Section::Visits, &visit, None, &add(&[photo(1), photo(2)]), 2_000).unwrap();
    b.edit_media(Section::Visits, &visit, None, &add(&[photo(3)]), 2_001).unwrap();
    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    let hashes = |l: &UnitLedger| l.visit(&visit).unwrap().photos.into_iter().map(|p| p.hash).collect::<Vec<_>>();
    assert_eq!(hashes(&a), vec![photo(1).hash, photo(2).hash, photo(3).hash]);
    assert_eq!(hashes(&a), hashes(&b));
    // b removes a's photo, which sits in the map that lost the conflict.
    b.edit_media(Section::Visits, &visit, None, &MediaEdit { remove: vec![photo(1).hash], ..Default::default() }, 3_000).unwrap();
    a.merge(&mut b).unwrap();
    assert_eq!(hashes(&a), vec![photo(2).hash, photo(3).hash]);
    assert!(!a.photo_hashes().contains(&photo(1).hash));
    assert!(a.photo_hashes().contains(&photo(7).hash), "the progress step's photo is referenced");
}

#[test]
fn the_tenth_photo_and_photos_on_other_records_are_refused_and_change_nothing() {
    let (mut server, visit, problem, step) = server();
    let mut l = phone(&mut server);
    let nine: Vec<PhotoRef> = (1..=9).map(photo).collect();
    l.edit_media(Section::Visits, &visit, None, &add(&nine), 2_000).unwrap();
    let heads = l.heads();
    assert!(l.edit_media(Section::Visits, &visit, None, &add(&[photo(10)]), 2_100).unwrap_err().to_string().contains("最多 9 张"));
    assert!(l.edit_media(Section::Problems, &problem, Some(&step), &add(&[photo(11)]), 2_100).unwrap_err().to_string().contains("记录进展时"));
    assert!(l.edit_media(Section::Pledges, &visit, None, &add(&[photo(11)]), 2_100).is_err());
    let bad = PhotoRef { mime: "image/png".into(), ..photo(12) };
    assert!(l.edit_media(Section::Problems, &problem, None, &add(&[bad]), 2_100).is_err());
    assert_eq!(l.heads(), heads);
    assert_eq!(l.visit(&visit).unwrap().photos.len(), 9);
}

/// Crafted changes: each is refused with its reason.
#[test]
fn crafted_references_and_places_are_refused() {
    type Craft = fn(&mut AutoCommit, &RecordId, &RecordId, &RecordId);
    let crafts: Vec<(&str, Section, Craft, &str)> = vec![
        (
            "a key that is no hash",
            Section::Visits,
            |d, v, _, _| {
                let record = obj_at(d, &["visits", v.as_str()]);
                let photos = d.put_object(&record, "photos", ObjType::Map).unwrap();
                d.put_object(&photos, "../../etc/passwd", ObjType::Map).unwrap();
            },
            NOT_ITS_KIND,
        ),
        (
            "another type",
            Section::Visits,
            |d, v, _, _| {
                let record = obj_at(d, &["visits", v.as_str()]);
                let photos = d.put_object(&record, "photos", ObjType::Map).unwrap();
                let p = d.put_object(&photos, photo(1).hash.as_str(), ObjType::Map).unwrap();
                d.put(&p, "type", "text/html").unwrap();
            },
            NOT_ITS_KIND,
        ),
        (
            "a size past the bound",
            Section::Visits,
            |d, v, _, _| {
                let record = obj_at(d, &["visits", v.as_str()]);
                let photos = d.put_object(&record, "photos", ObjType::Map).unwrap();
                let p = d.put_object(&photos, photo(1).hash.as_str(), ObjType::Map).unwrap();
                d.put(&p, "size", ScalarValue::Int(1 << 40)).unwrap();
            },
            NOT_ITS_KIND,
        ),
        (
            "bytes in the ledger",
            Section::Visits,
            |d, v, _, _| {
                let record = obj_at(d, &["visits", v.as_str()]);
                let photos = d.put_object(&record, "photos", ObjType::Map).unwrap();
                let p = d.put_object(&photos, photo(1).hash.as_str(), ObjType::Map).unwrap();
                d.put(&p, "bytes", ScalarValue::Bytes(vec![0xff, 0xd8])).unwrap();
            },
            NOT_ITS_KIND,
        ),
        (
            "the progress step's photos replaced",
            Section::Problems,
            |d, _, p, s| {
                let entry = obj_at(d, &["problems", p.as_str(), "log", s.as_str()]);
                d.put_object(&entry, "photos", ObjType::Map).unwrap();
            },
            NOT_ITS_KIND,
        ),
        (
            "a photo added to an old progress step",
            Section::Problems,
            |d, _, p, s| {
                let photos = obj_at(d, &["problems", p.as_str(), "log", s.as_str(), "photos"]);
                d.put_object(&photos, photo(2).hash.as_str(), ObjType::Map).unwrap();
            },
            super::ENTRY_ONLY_ADDED,
        ),
        (
            "a record's photo map deleted",
            Section::Problems,
            |d, _, p, _| {
                let record = obj_at(d, &["problems", p.as_str()]);
                let photos = d.put_object(&record, "photos", ObjType::Map).unwrap();
                d.put_object(&photos, photo(2).hash.as_str(), ObjType::Map).unwrap();
                commit_signed(d, p, Section::Problems);
                d.delete(&record, "photos").unwrap();
            },
            NOT_DELETED,
        ),
        (
            "a latitude past the pole",
            Section::Visits,
            |d, v, _, _| {
                let record = obj_at(d, &["visits", v.as_str()]);
                let place = d.put_object(&record, "location", ObjType::Map).unwrap();
                d.put(&place, "lat", ScalarValue::Int(95_000_000)).unwrap();
            },
            NOT_ITS_KIND,
        ),
        (
            "a place with a street address",
            Section::Visits,
            |d, v, _, _| {
                let record = obj_at(d, &["visits", v.as_str()]);
                let place = d.put_object(&record, "location", ObjType::Map).unwrap();
                d.put(&place, "address", "三组").unwrap();
            },
            NOT_ITS_KIND,
        ),
        (
            "a map inside a place",
            Section::Problems,
            |d, _, p, _| {
                let record = obj_at(d, &["problems", p.as_str()]);
                let place = d.put_object(&record, "location", ObjType::Map).unwrap();
                d.put_object(&place, "deep", ObjType::Map).unwrap();
            },
            NOT_ITS_KIND,
        ),
    ];
    for (what, section, craft, why) in crafts {
        let (mut server, visit, problem, step) = server();
        let mut l = phone(&mut server);
        let d = l.doc_mut();
        craft(d, &visit, &problem, &step);
        let record = if section == Section::Visits { &visit } else { &problem };
        commit_signed(d, record, section);
        let changes = new_changes(&mut l, &server);
        let verdict = check(server.doc(), &changes, as_(Write::Everything));
        assert!(verdict.as_ref().is_err_and(|e| e.starts_with(why)), "{what}: {verdict:?}");
    }
}
