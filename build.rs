//! Compresses the explain pages (`checks/*.md`, about 145 KB of text) into one DEFLATE blob
//! that `src/checks/mod.rs` embeds and inflates on first use: the release binary has a 5 MiB
//! budget, and the pages are its largest text.

use std::fs;
use std::path::Path;

fn main() {
    discard_unwind_tables();
    println!("cargo:rerun-if-changed=checks");
    let mut pages: Vec<(String, String)> = Vec::new();
    let entries = fs::read_dir("checks").expect("the checks/ directory of explain pages");
    for entry in entries {
        let path = entry.expect("a checks/ entry").path();
        if path.extension().is_some_and(|extension| extension == "md") {
            println!("cargo:rerun-if-changed={}", path.display());
            let id = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .expect("a UTF-8 page name")
                .to_owned();
            let text = fs::read_to_string(&path).expect("a UTF-8 explain page");
            assert!(
                !text.contains('\0'),
                "{} contains a NUL byte",
                path.display()
            );
            pages.push((id, text));
        }
    }
    // Sorted, so the blob is the same on every machine.
    pages.sort();
    let mut blob = String::new();
    for (id, text) in &pages {
        blob.push_str(id);
        blob.push('\n');
        blob.push_str(text);
        blob.push('\0');
    }
    let compressed = miniz_oxide::deflate::compress_to_vec(blob.as_bytes(), 10);
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out).join("explain_pages.deflate"), compressed)
        .expect("the compressed pages are written");
}

/// Leaves the DWARF unwind tables (`.eh_frame`, about 580 KB, plus the 80 KB index the linker
/// builds from them) out of the release binary: with `panic = "abort"` nothing ever unwinds,
/// and the binary is stripped, so all the tables still served was an unsymbolized
/// `RUST_BACKTRACE` (a panic still prints its message and location, then aborts).
/// `-C force-unwind-tables=no` cannot do this: under fat LTO it leaves the binary byte for byte
/// the same (std's bitcode carries the tables), and profile rustflags are unstable. The script
/// only adds a `/DISCARD/` rule to the linker's default layout (`INSERT AFTER`, GNU ld and
/// lld). Debug and test builds unwind panics and keep their tables; only glibc Linux targets
/// (GNU ld through gcc) get it, so scripts/release's musl builds are left as they are.
fn discard_unwind_tables() {
    let release = std::env::var("PROFILE").is_ok_and(|profile| profile == "release");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if !(release && target_os == "linux" && target_env == "gnu") {
        return;
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let script = Path::new(&out).join("discard-unwind-tables.ld");
    fs::write(
        &script,
        "SECTIONS { /DISCARD/ : { *(.eh_frame) } }\nINSERT AFTER .text;\n",
    )
    .expect("the linker script is written");
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
}
