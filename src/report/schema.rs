//! JSON Schemas (draft 2020-12) of edgeprobe's JSON outputs, generated from the types the
//! outputs are serialized from, and checked in under `docs/` (`cargo run --example
//! generate_schemas`). The report's `checks` object is described per check id, from the
//! registry: each id's `additional_info` must be `{}` or the shape that check's metadata
//! declares (`CheckMeta::info`), so a check that drifts from its type fails validation.
//! `tests/integration/schema.rs` validates real output of every mode against these files and
//! fails when they differ from what the types generate.

use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::Verdict;
use super::json::{CheckJson, Document, Tool};
use crate::checks::all_checks;
use crate::engine::info::{CertificatesConfiguredInfo, InfoSchema, info_schema};
use crate::engine::{Milliseconds, Ports, Status};

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
    generator().into_root_schema_for::<TargetResultSchema>()
}

/// `check --targets FILE --output json`.
pub fn fleet_schema() -> Schema {
    generator().into_root_schema_for::<FleetDocumentSchema>()
}

/// The schema of a check's `additional_info`: the one its metadata declares, or for
/// `certificates-configured`, whose typed info lives in a file being split on another branch
/// and whose metadata is still declared the older way, its type named here (TO BE REMOVED
/// when it declares `info` itself).
fn info_schema_of(id: &str, declared: InfoSchema) -> InfoSchema {
    match id {
        "certificates-configured" => info_schema::<CertificatesConfiguredInfo>,
        _ => declared,
    }
}

/// `checks`: an object whose keys are the registered check ids, each a [`CheckJson`] whose
/// `additional_info` is `{}` or that check's declared shape.
pub(super) fn checks_by_id(generator: &mut SchemaGenerator) -> Schema {
    let entry = generator.subschema_for::<CheckJson>();
    let empty = generator.subschema_for::<EmptyObject>();
    let mut properties = serde_json::Map::new();
    for check in all_checks() {
        let meta = check.meta();
        let info = info_schema_of(meta.id, meta.info)(generator);
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

impl JsonSchema for EmptyObject {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Empty".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "description": "No data: an empty object.",
            "additionalProperties": false,
        })
    }
}

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
// MIRRORS, TO BE REPLACED by `#[derive(JsonSchema)]` on `report::compact::TargetResult`,
// `PortResult`, `Problem`, `report::fleet::FleetSummary` and `net::Protocol` themselves (the
// network side's files, being reworked on another branch), with `schemars(schema_with)` for
// the hand-written serializers (`checks` as a map, `elapsed_ms`). The tests validate real output
// against the schema generated from these, so a mirror that drifts from the output fails.

/// One gateway's compact result.
#[allow(dead_code)] // read only by the derive
#[derive(JsonSchema)]
#[schemars(
    rename = "TargetResult",
    title = "edgeprobe target result (a line of --output jsonl)",
    deny_unknown_fields
)]
struct TargetResultSchema {
    /// Line of the targets file (1-based). Absent for a single-gateway run.
    #[serde(default)]
    line: Option<usize>,
    /// The gateway name as listed (for a malformed line: the line's text).
    gateway: String,
    /// The root CA file used: the line's own, else `--ca-file`, else null (system store).
    ca_file: Option<String>,
    verdict: Verdict,
    /// Check id to `result.result`, in run order; empty when the gateway could not be checked
    /// at all.
    checks: BTreeMap<String, Status>,
    /// The checks that raised a warning or an error.
    problems: Vec<ProblemSchema>,
    /// One entry per connect check that applied.
    ports: Vec<PortResultSchema>,
    /// Time spent on this gateway.
    elapsed_ms: Milliseconds,
}

#[allow(dead_code)] // read only by the derive
#[derive(JsonSchema)]
#[schemars(rename = "Problem", deny_unknown_fields)]
struct ProblemSchema {
    /// The check id, or `targets-file` for a malformed line.
    check: String,
    status: Status,
    message: String,
    remedy: Option<String>,
}

#[allow(dead_code)] // read only by the derive
#[derive(JsonSchema)]
#[schemars(rename = "PortResult", deny_unknown_fields)]
struct PortResultSchema {
    protocol: ProtocolSchema,
    port: u16,
    /// The connect check's result.
    status: Status,
    /// Why it failed: `refused`, `connect_timeout`, `handshake_timeout`, `not_tls`,
    /// `tls_alert`, ..., `open_files_limit` when edgeprobe ran out of file descriptors on this
    /// machine; null when it did not.
    error: Option<String>,
    /// TCP connect time, in seconds.
    connect_seconds: Option<f64>,
    /// TLS handshake time, in seconds.
    handshake_seconds: Option<f64>,
    /// OpenSSL's verify return code for the chain this port presented (0 is OK); null when
    /// not verified.
    verify_code: Option<u32>,
    /// The presented certificate's notAfter, in Unix seconds.
    cert_not_after: Option<i64>,
}

#[allow(dead_code)] // read only by the derive
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Protocol")]
enum ProtocolSchema {
    Mqtt,
    Amqp,
    Https,
}

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
    targets: Vec<TargetResultSchema>,
    summary: FleetSummarySchema,
    /// The worst gateway verdict.
    verdict: Verdict,
    /// Wall-clock time of the whole run, in whole milliseconds (an integer here, unlike every
    /// other `_ms` field: TO BE made a float by the fleet printer's owner).
    elapsed_ms: u64,
}

/// Gateways by verdict.
#[allow(dead_code)] // read only by the derive
#[derive(JsonSchema)]
#[schemars(rename = "FleetSummary", deny_unknown_fields)]
struct FleetSummarySchema {
    total: usize,
    ok: usize,
    warning: usize,
    error: usize,
}
