//! Regenerates the checked-in man pages in `man/` from the CLI definition:
//! `cargo run --example generate_man`.

mod exit_status;

use std::path::Path;

fn main() -> std::process::ExitCode {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let result = std::fs::create_dir_all(&directory).and_then(|()| {
        for (name, page) in edgeprobe::manpages::render_all()? {
            std::fs::write(directory.join(&name), page)?;
            println!("wrote man/{name}");
        }
        Ok(())
    });
    exit_status::exit_status("generate_man", result)
}
