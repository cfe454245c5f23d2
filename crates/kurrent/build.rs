//! Sets `cfg(kurrentdb_server)` when `ROSTER_KURRENTDB_URL` is set at build time: the shared
//! conformance suite (`tests/conformance.rs`) runs only then, and is marked ignored otherwise.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(kurrentdb_server)");
    println!("cargo::rerun-if-env-changed=ROSTER_KURRENTDB_URL");
    if std::env::var_os("ROSTER_KURRENTDB_URL").is_some() {
        println!("cargo::rustc-cfg=kurrentdb_server");
    }
}
