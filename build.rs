//! Compresses the explain pages (`checks/*.md`, about 145 KB of text) into one DEFLATE blob
//! that `src/checks/mod.rs` embeds and inflates on first use: the release binary has a 5 MiB
//! budget, and the pages are its largest text.

use std::fs;
use std::path::Path;

fn main() {
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
