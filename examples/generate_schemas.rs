//! Regenerates the checked-in JSON Schemas (`docs/*.schema.json`) from the types the reports
//! are serialized from, and the generated reference in `docs/json-schema.md` from them:
//! `cargo run --example generate_schemas`. `tests/integration/schema.rs` fails while either is
//! out of date.

mod exit_status;

use std::path::Path;

fn main() -> std::process::ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let result = (|| -> std::io::Result<()> {
        for file in edgeprobe::report::schema::FILES {
            std::fs::write(
                root.join(file.path),
                edgeprobe::report::schema::render(&(file.generate)()),
            )?;
            println!("wrote {}", file.path);
        }
        let doc = root.join(edgeprobe::report::schema::DOC);
        let current = std::fs::read_to_string(&doc)?;
        let examples = root.join(edgeprobe::report::schema::EXAMPLES_DIR);
        let updated = edgeprobe::report::schema::with_reference(&current, |name| {
            std::fs::read_to_string(examples.join(name))
        })
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))?;
        std::fs::write(&doc, updated)?;
        println!("wrote {}", edgeprobe::report::schema::DOC);
        Ok(())
    })();
    exit_status::exit_status("generate_schemas", result)
}
