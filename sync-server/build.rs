//! Tells the crate's tests whether they are built optimised (`cfg(optimized)`): a test that
//! waits for the server to fall quiet waits longer in a debug build (`cargo test`), where the
//! same work takes about ten times as long. Never a skip: the same sizes and assertions run in
//! both.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(optimized)");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("OPT_LEVEL").is_ok_and(|level| level != "0") {
        println!("cargo::rustc-cfg=optimized");
    }
}
