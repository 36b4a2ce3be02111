//! Any bytes as a frame: decoding answers a message or an error, never a panic, and what
//! decodes encodes again to something that decodes to the same message.
#![no_main]

use ledger_sync::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::decode(data) {
        let again = Message::decode(&message.encode()).expect("an encoded message decodes");
        assert_eq!(again, message);
    }
});
