//! Links the `pengaduan` executable at a fixed address (not position-independent).
//!
//! A position-independent executable is relocated by the dynamic loader at every start:
//! about 60,000 relative relocations, each page of `.data.rel.ro` copied on write, which
//! costs 2 of the 5 ms before an idle cron cycle can even connect (measured: 580 against
//! 180 page faults for `--version`). Shared libraries, the stack and mmap'd memory are
//! still randomized; only the executable's own image sits at a fixed address.
//!
//! It also makes a new or changed file in `migrations/` rebuild the crate: `sqlx::migrate!`
//! embeds them at compile time and cannot tell cargo so itself.

fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=migrations");
}
