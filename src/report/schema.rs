//! JSON Schemas (draft 2020-12) of edgeprobe's JSON outputs, generated from the types the
//! outputs are serialized from, and checked in under `docs/` (`cargo run --example
//! generate_schemas`). The report's `checks` object is described per check id, from the
//! registry: each id's `additional_info` must be `{}` or the shape that check's metadata
//! declares (`CheckMeta::info`), so a check that drifts from its type fails validation.
//! `tests/integration/schema.rs` validates real output of every mode against these files and
//! fails when they differ from what the types generate.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::Verdict;
use super::compact::TargetResult;
use super::fleet::FleetSummary;
use super::json::{CheckJson, Document, Tool};
use crate::checks::all_checks;
use crate::engine::Ports;
use crate::engine::info::fixed_json_schema;

/// The command that rewrites the checked-in schemas and `docs/json-schema.md`'s reference.
pub const REGENERATE: &str = "cargo run --example generate_schemas";

/// One checked-in schema: its path from the repository root, and how to generate it.
pub struct SchemaFile {
    pub path: &'static str,
    pub generate: fn() -> Schema,
}

/// Every schema, as `docs/` holds them.
pub const FILES: &[SchemaFile] = &[
    SchemaFile {
        path: "docs/report.schema.json",
        generate: report_schema,
    },
    SchemaFile {
        path: "docs/target-result.schema.json",
        generate: target_result_schema,
    },
    SchemaFile {
        path: "docs/fleet.schema.json",
        generate: fleet_schema,
    },
];

/// A schema as written to disk: pretty JSON and a newline.
pub fn render(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
}

/// `check --output json` (one gateway, leaf or gateway suite).
pub fn report_schema() -> Schema {
    generator().into_root_schema_for::<Document<'static>>()
}

/// One line of `--output jsonl` (fleet mode, or one gateway), and each of the fleet document's
/// `targets`.
pub fn target_result_schema() -> Schema {
    generator().into_root_schema_for::<TargetResult>()
}

/// `check --targets FILE --output json`.
pub fn fleet_schema() -> Schema {
    generator().into_root_schema_for::<FleetDocumentSchema>()
}

/// `checks`: an object whose keys are the registered check ids, each a [`CheckJson`] whose
/// `additional_info` is `{}` or that check's declared shape.
pub(super) fn checks_by_id(generator: &mut SchemaGenerator) -> Schema {
    let entry = generator.subschema_for::<CheckJson>();
    let empty = generator.subschema_for::<EmptyObject>();
    let mut properties = serde_json::Map::new();
    for check in all_checks() {
        let meta = check.meta();
        let info = meta.info.schema(generator);
        let schema = json_schema!({
            "description": format!("{} (`edgeprobe explain {}`)", meta.title, meta.id),
            "allOf": [entry],
            "properties": {
                "additional_info": { "anyOf": [empty, info] }
            },
        });
        properties.insert(meta.id.to_owned(), schema.to_value());
    }
    json_schema!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// `{}`.
pub(super) struct EmptyObject;

fixed_json_schema!(EmptyObject, "Empty", {
    "type": "object",
    "description": "No data: an empty object.",
    "additionalProperties": false,
});

/// Any object: the generic `additional_info`, narrowed per check id in `checks`.
pub(super) struct AnyObject;

impl JsonSchema for AnyObject {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AnyObject".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object" })
    }
}

// ---- Fleet mode and JSON Lines ----
//
// A line of JSON Lines is a `report::compact::TargetResult`, whose schema is derived from the
// type; the fleet document is written as the run goes, so its shape is declared here, from the
// same types.

/// `check --targets FILE --output json`: written as the run goes, one target per line inside
/// `targets`.
#[allow(dead_code)] // read only by the derive
#[derive(JsonSchema)]
#[schemars(
    rename = "FleetDocument",
    title = "edgeprobe fleet report (check --targets FILE --output json)",
    deny_unknown_fields
)]
struct FleetDocumentSchema {
    /// As in the single-gateway report.
    schema_version: String,
    tool: Tool,
    /// The ports probed on every gateway (`--port`).
    ports: Ports,
    /// One target result per gateway line (and per malformed line), in completion order.
    targets: Vec<TargetResult>,
    summary: FleetSummary,
    /// The worst gateway verdict.
    verdict: Verdict,
    // TO BE a float like every other `_ms` field (report/fleet_json.rs, the network side's).
    /// Wall-clock time of the whole run, in whole milliseconds: an integer here, unlike every
    /// other `_ms` field.
    elapsed_ms: u64,
}

// ---- docs/json-schema.md ----

/// The document whose reference section is generated.
pub const DOC: &str = "docs/json-schema.md";

const BEGIN: &str =
    "<!-- BEGIN GENERATED REFERENCE: `cargo run --example generate_schemas` rewrites this part -->";
const END: &str = "<!-- END GENERATED REFERENCE -->";

/// Where the real outputs shown in the doc are kept (written by
/// `EDGEPROBE_WRITE_DOC_EXAMPLES=1 cargo test --test integration schema::`).
pub const EXAMPLES_DIR: &str = "docs/examples";

/// One real output shown in the doc.
pub struct Example {
    /// Under [`EXAMPLES_DIR`].
    pub file: &'static str,
    /// `report`, `target-result` or `fleet`: the schema it validates against.
    pub schema: &'static str,
    /// What was run.
    pub title: &'static str,
}

pub const EXAMPLES: &[Example] = &[
    Example {
        file: "leaf.json",
        schema: "report",
        title: "A leaf device and a healthy gateway: `edgeprobe check --gateway gateway.edgeprobe.test --ca-file root-ca.pem --connection-string '...' --gateway-config top-layer.toml -o json`",
    },
    Example {
        file: "leaf-broken-chain.json",
        schema: "report",
        title: "A gateway that sends only its own certificate, checked with another PKI's root: `edgeprobe check --gateway gateway.edgeprobe.test --ca-file other-root-ca.pem -o json`",
    },
    Example {
        file: "gateway.json",
        schema: "report",
        title: "On a top-layer IoT Edge gateway (IoT Hub skipped): `sudo edgeprobe check --skip iothub-connect-mqtt,iothub-connect-amqp,iothub-connect-https -o json`",
    },
    Example {
        file: "fleet.jsonl",
        schema: "target-result",
        title: "Fleet mode, one line per gateway: `edgeprobe check --targets gateways.txt --ca-file root.pem -o jsonl`",
    },
    Example {
        file: "fleet.json",
        schema: "fleet",
        title: "Fleet mode, one document: `edgeprobe check --targets gateways.txt --ca-file root.pem -o json`",
    },
];

/// `doc` with its generated part (between the markers) rebuilt: the reference from the
/// schemas, and the examples as `read` returns them (the files under [`EXAMPLES_DIR`]).
pub fn with_reference(
    doc: &str,
    read: impl Fn(&str) -> std::io::Result<String>,
) -> Result<String, String> {
    let (head, rest) = doc
        .split_once(BEGIN)
        .ok_or_else(|| format!("{DOC} has no line {BEGIN}"))?;
    let (_, tail) = rest
        .split_once(END)
        .ok_or_else(|| format!("{DOC} has no line {END}"))?;
    let mut examples = String::from(
        "### Examples\n\nReal output, produced by `tests/integration/schema.rs` against `edgeprobe serve`'s simulator and the fixtures on 127.0.0.1 (ephemeral ports shown as the defaults, temporary directories as a device's paths); each validates against its schema.\n\n",
    );
    for example in EXAMPLES {
        let text = read(example.file)
            .map_err(|error| format!("{EXAMPLES_DIR}/{}: {error}", example.file))?;
        let language = if example.file.ends_with(".jsonl") {
            "jsonl"
        } else {
            "json"
        };
        examples.push_str(&format!(
            "<details><summary>{}</summary>\n\n```{language}\n{}\n```\n\n</details>\n\n",
            example.title,
            text.trim_end()
        ));
    }
    Ok(format!(
        "{head}{BEGIN}\n{examples}{}{END}{tail}",
        reference_markdown()
    ))
}

/// Field tables for every schema: each document's top level, the per-check `additional_info`
/// types, then every type they use, in the order they are first used.
pub fn reference_markdown() -> String {
    let schemas: Vec<serde_json::Value> = FILES
        .iter()
        .map(|file| (file.generate)().to_value())
        .collect();
    let mut definitions = serde_json::Map::new();
    for schema in &schemas {
        if let Some(defs) = schema.get("$defs").and_then(serde_json::Value::as_object) {
            for (name, definition) in defs {
                definitions
                    .entry(name.clone())
                    .or_insert_with(|| definition.clone());
            }
        }
    }
    let mut out = String::new();
    let mut order: Vec<String> = Vec::new();
    for (file, schema) in FILES.iter().zip(&schemas) {
        let title = schema["title"].as_str().unwrap_or(file.path);
        out.push_str(&format!(
            "### {title}\n\nSchema: [`{}`]({}).\n\n",
            file.path,
            file_name(file.path)
        ));
        out.push_str(&object_table(schema, &mut order));
        if let Some(checks) = schema
            .pointer("/properties/checks/properties")
            .and_then(serde_json::Value::as_object)
        {
            out.push_str("\n`additional_info` of each check (`{}` when it has none, and always for a skipped check):\n\n| check id | `additional_info` |\n| --- | --- |\n");
            for (id, check) in checks {
                let info = check
                    .pointer("/properties/additional_info/anyOf/1")
                    .map(|info| type_of(info, &mut order))
                    .unwrap_or_default();
                out.push_str(&format!("| `{id}` | {info} |\n"));
            }
        }
        out.push('\n');
    }
    let mut index = 0;
    while index < order.len() {
        let name = order[index].clone();
        index += 1;
        let Some(definition) = definitions.get(&name) else {
            continue;
        };
        out.push_str(&format!("#### {name}\n\n"));
        if let Some(description) = definition
            .get("description")
            .and_then(serde_json::Value::as_str)
        {
            out.push_str(&one_line(description));
            out.push_str("\n\n");
        }
        out.push_str(&definition_body(definition, &mut order));
        out.push('\n');
    }
    out
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// `| field | type | meaning |` for an object schema's properties.
fn object_table(schema: &serde_json::Value, order: &mut Vec<String>) -> String {
    let Some(properties) = schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
    else {
        return String::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(serde_json::Value::as_array)
        .map(|names| names.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    let mut out = String::from("| field | type | meaning |\n| --- | --- | --- |\n");
    for (name, property) in properties {
        let kind = if name == "checks" && property.pointer("/properties").is_some() {
            "object: check id to [CheckResult](#checkresult)".to_owned()
        } else {
            type_of(property, order)
        };
        let optional = if required.contains(&name.as_str()) {
            ""
        } else {
            " (may be absent)"
        };
        let meaning = property
            .get("description")
            .and_then(serde_json::Value::as_str)
            .map(one_line)
            .unwrap_or_default();
        out.push_str(&format!("| `{name}` | {kind}{optional} | {meaning} |\n"));
    }
    out
}

/// A definition: its field table, or its alternatives.
fn definition_body(definition: &serde_json::Value, order: &mut Vec<String>) -> String {
    if definition.get("properties").is_some() {
        return object_table(definition, order);
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(alternatives) = definition
            .get(keyword)
            .and_then(serde_json::Value::as_array)
        {
            let mut out = String::from("One of:\n\n");
            for alternative in alternatives {
                let description = alternative
                    .get("description")
                    .and_then(serde_json::Value::as_str)
                    .map(|text| format!(": {}", one_line(text)))
                    .unwrap_or_default();
                if alternative.get("properties").is_some() {
                    out.push_str(&format!("- an object{description}\n\n"));
                    for line in object_table(alternative, order).lines() {
                        out.push_str(&format!("  {line}\n"));
                    }
                    out.push('\n');
                } else {
                    out.push_str(&format!("- {}{description}\n", type_of(alternative, order)));
                }
            }
            return out;
        }
    }
    format!("{}\n", type_of(definition, order))
}

/// A short type: `string`, `integer or null`, `array of [Validity](#validity)`, `` `ok` | `error` ``.
fn type_of(schema: &serde_json::Value, order: &mut Vec<String>) -> String {
    if schema.as_bool() == Some(true) {
        return "any".to_owned();
    }
    if let Some(reference) = schema.get("$ref").and_then(serde_json::Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference).to_owned();
        if !order.contains(&name) {
            order.push(name.clone());
        }
        return format!("[{name}](#{})", name.to_lowercase());
    }
    if let Some(value) = schema.get("const") {
        return format!("`{value}`");
    }
    if let Some(values) = schema.get("enum").and_then(serde_json::Value::as_array) {
        return values
            .iter()
            .map(|value| match value.as_str() {
                Some(text) => format!("`{text}`"),
                None => format!("`{value}`"),
            })
            .collect::<Vec<_>>()
            .join(" \\| ");
    }
    for keyword in ["anyOf", "oneOf"] {
        if let Some(alternatives) = schema.get(keyword).and_then(serde_json::Value::as_array) {
            return alternatives
                .iter()
                .map(|alternative| type_of(alternative, order))
                .collect::<Vec<_>>()
                .join(" or ");
        }
    }
    let names: Vec<&str> = match schema.get("type") {
        Some(serde_json::Value::String(name)) => vec![name.as_str()],
        Some(serde_json::Value::Array(names)) => {
            names.iter().filter_map(serde_json::Value::as_str).collect()
        }
        _ => Vec::new(),
    };
    let described: Vec<String> = names
        .iter()
        .map(|name| match *name {
            "array" => format!(
                "array of {}",
                schema
                    .get("items")
                    .map(|items| type_of(items, order))
                    .unwrap_or_else(|| "any".to_owned())
            ),
            "object" => match schema.get("additionalProperties") {
                Some(values) if values.is_object() => {
                    format!("object of {}", type_of(values, order))
                }
                _ => "object".to_owned(),
            },
            "string" => match schema.get("format").and_then(serde_json::Value::as_str) {
                Some(format) => format!("string ({format})"),
                None => "string".to_owned(),
            },
            other => other.to_owned(),
        })
        .collect();
    if described.is_empty() {
        "any".to_owned()
    } else {
        described.join(" or ")
    }
}
