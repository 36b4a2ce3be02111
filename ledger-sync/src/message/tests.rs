use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn doc() -> DocumentId {
    DocumentId::from_bytes(core::array::from_fn(|i| i as u8))
}

fn every_kind() -> Vec<Message> {
    let meta = Some(PeerMetadata { storage_id: Some("storage-1".into()), is_ephemeral: false });
    vec![
        Message::Join { sender_id: "phone".into(), supported_protocol_versions: vec!["1".into()], metadata: meta.clone() },
        Message::Join { sender_id: "phone".into(), supported_protocol_versions: vec![], metadata: None },
        Message::Peer { sender_id: "server".into(), target_id: "phone".into(), selected_protocol_version: "1".into(), metadata: meta },
        Message::Leave { sender_id: "phone".into() },
        Message::Request { sender_id: "a".into(), target_id: "b".into(), document_id: doc(), data: vec![0x42, 1] },
        Message::Sync { sender_id: "a".into(), target_id: "b".into(), document_id: doc(), data: vec![] },
        Message::DocUnavailable { sender_id: "a".into(), target_id: "b".into(), document_id: doc() },
        Message::Ephemeral { sender_id: "a".into(), target_id: "b".into(), document_id: doc(), count: 7, session_id: "s".into(), data: vec![1] },
        Message::Error { message: "坏消息".into() },
        Message::RemoteSubscriptionChange { sender_id: "a".into(), target_id: "b".into(), add: vec!["x".into()], remove: vec![] },
        Message::RemoteHeadsChanged { sender_id: "a".into(), target_id: "b".into(), document_id: doc() },
    ]
}

#[test]
fn every_message_round_trips() {
    for m in every_kind() {
        assert_eq!(Message::decode(&m.encode()), Ok(m.clone()), "{}", m.type_name());
    }
}

#[test]
fn decodes_what_automerge_repo_sends() {
    // automerge-repo 2.5's cbor helper (cbor-x) encoding a sync message with an extra field.
    let bytes = hex("b9000664747970656473796e636873656e646572496467706565722d6a73687461726765744964667365727665726a646f63756d656e744964781a3142686833705539674c585a694e444c3650456131477339666864646174614442010203656578747261b90001666e6573746564820182028103");
    assert_eq!(Message::decode(&bytes), Ok(Message::Sync { sender_id: "peer-js".into(), target_id: "server".into(), document_id: doc(), data: vec![0x42, 1, 2, 3] }));
    let join = hex("b900046474797065646a6f696e6873656e646572496467706565722d6a737819737570706f7274656450726f746f636f6c56657273696f6e73816131686d65746164617461b900026973746f7261676549646473742d316b6973457068656d6572616cf4");
    assert_eq!(
        Message::decode(&join),
        Ok(Message::Join {
            sender_id: "peer-js".into(),
            supported_protocol_versions: vec!["1".into()],
            metadata: Some(PeerMetadata { storage_id: Some("st-1".into()), is_ephemeral: false }),
        })
    );
}

#[test]
fn accepts_typed_array_tags_and_indefinite_maps() {
    let mut e = Encoder::new(Vec::new());
    e.begin_map().unwrap();
    e.str("type").unwrap().str("sync").unwrap();
    e.str("senderId").unwrap().str("a").unwrap();
    e.str("targetId").unwrap().str("b").unwrap();
    e.str("documentId").unwrap().str(&doc().to_string()).unwrap();
    e.str("data").unwrap().tag(Tag::new(64)).unwrap().bytes(&[9, 9]).unwrap();
    e.end().unwrap();
    let m = Message::decode(&e.into_writer()).unwrap();
    assert!(matches!(m, Message::Sync { data, .. } if data == vec![9, 9]));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let sync = Message::Sync { sender_id: "a".into(), target_id: "b".into(), document_id: doc(), data: vec![1, 2, 3] }.encode();
    let mut trailing = sync.clone();
    trailing.push(0);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "empty"),
        (vec![0xff, 0x00, 0x13], "random bytes"),
        (hex("83010203"), "an array"),
        (sync[..sync.len() - 2].to_vec(), "truncated"),
        (trailing, "trailing byte"),
        (Message::Error { message: "x".into() }.encode().into_iter().map(|b| if b == b'e' { b'z' } else { b }).collect(), "unknown type"),
    ];
    for (bytes, what) in cases {
        assert!(Message::decode(&bytes).is_err(), "{what} decoded");
    }
    assert_eq!(Message::decode(&vec![0; MAX_MESSAGE_BYTES + 1]), Err(DecodeError::TooLarge(MAX_MESSAGE_BYTES + 1)));
}

#[test]
fn fields_are_checked() {
    let mut e = Encoder::new(Vec::new());
    e.map(3).unwrap().str("type").unwrap().str("sync").unwrap();
    e.str("senderId").unwrap().str("a").unwrap().str("targetId").unwrap().str("b").unwrap();
    assert_eq!(Message::decode(&e.into_writer()), Err(DecodeError::Missing("documentId")));

    let mut e = Encoder::new(Vec::new());
    e.map(2).unwrap().str("type").unwrap().str("leave").unwrap();
    e.str("senderId").unwrap().str(&"x".repeat(1000)).unwrap();
    assert_eq!(Message::decode(&e.into_writer()), Err(DecodeError::Invalid("senderId")));

    let mut e = Encoder::new(Vec::new());
    e.map(5).unwrap().str("type").unwrap().str("sync").unwrap();
    e.str("senderId").unwrap().str("a").unwrap().str("targetId").unwrap().str("b").unwrap();
    e.str("documentId").unwrap().str("not-a-doc-id").unwrap();
    e.str("data").unwrap().bytes(&[]).unwrap();
    assert_eq!(Message::decode(&e.into_writer()), Err(DecodeError::Invalid("documentId")));
}

#[test]
fn deeply_nested_unknown_fields_do_not_overflow_the_stack() {
    let mut e = Encoder::new(Vec::new());
    e.map(2).unwrap().str("type").unwrap().str("leave").unwrap().str("senderId").unwrap().str("a").unwrap();
    let mut m = e.into_writer();
    // Replace the map header with one that has a third entry: a 100,000-deep nested array.
    m[0] = 0xa3;
    m.extend(hex("6464656570")); // the key "deep"
    m.extend(std::iter::repeat(0x81).take(100_000));
    m.push(0x00);
    assert!(matches!(Message::decode(&m), Ok(Message::Leave { .. })));
}

/// automerge-repo (JS) and samod write a peer's metadata under `peerMetadata`; reading only
/// `metadata` lost a JS peer's storage id, so its sync state was never kept.
#[test]
fn peer_metadata_is_read_and_written_under_automerge_repos_key() {
    let meta = Some(PeerMetadata { storage_id: Some("st-js".into()), is_ephemeral: false });
    let join = Message::Join { sender_id: "peer-js".into(), supported_protocol_versions: vec!["1".into()], metadata: meta.clone() }.encode();
    assert!(join.windows(12).any(|w| w == b"peerMetadata"), "written under another key");
    let mut e = Encoder::new(Vec::new());
    e.map(4).unwrap();
    e.str("type").unwrap().str("join").unwrap();
    e.str("senderId").unwrap().str("peer-js").unwrap();
    e.str("supportedProtocolVersions").unwrap().array(1).unwrap().str("1").unwrap();
    e.str("peerMetadata").unwrap().map(2).unwrap();
    e.str("storageId").unwrap().str("st-js").unwrap();
    e.str("isEphemeral").unwrap().bool(false).unwrap();
    let decoded = Message::decode(&e.into_writer()).unwrap();
    assert_eq!(decoded, Message::Join { sender_id: "peer-js".into(), supported_protocol_versions: vec!["1".into()], metadata: meta });
}
