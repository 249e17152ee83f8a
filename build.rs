//! Makes a new or changed file in `migrations/` rebuild the crate: `sqlx::migrate!` embeds
//! them at compile time and cannot tell cargo so itself.
//!
//! The executable keeps the platform's hardening (position-independent, full RELRO):
//! `tests/it/hardening.rs` checks it.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=migrations");
}
