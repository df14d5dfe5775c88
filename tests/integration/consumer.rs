//! How a consumer reads edgeprobe's fleet output: the fleet document as docs/json-schema.md
//! ("Fleet mode") describes it, and a Prometheus sample looked up by its labels. One module,
//! compiled into the integration tests and (by `#[path]`, from src/report/mod.rs) into the
//! printers' unit tests, so both read the output the same way.

use std::collections::BTreeMap;

use openmetrics_parser::{MetricFamily, PrometheusType, PrometheusValue};
use serde::Deserialize;

/// `check --targets FILE --output json`, with each target read as `Target`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document<Target> {
    pub schema_version: String,
    pub tool: BTreeMap<String, String>,
    pub ports: BTreeMap<String, u16>,
    pub targets: Vec<Target>,
    pub summary: SummaryOut,
    pub verdict: String,
    pub elapsed_ms: u64,
}

/// The fleet document's `summary`: gateways by verdict.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SummaryOut {
    pub total: usize,
    pub ok: usize,
    pub warning: usize,
    pub error: usize,
}

/// The value of the one sample of `family` with exactly these labels (as parsed, so
/// unescaped), if there is one.
pub fn sample(
    family: &MetricFamily<PrometheusType, PrometheusValue>,
    labels: &[(&str, &str)],
) -> Option<f64> {
    let wanted: BTreeMap<&str, &str> = labels.iter().copied().collect();
    let found: Vec<f64> = family
        .iter_samples()
        .filter(|sample| {
            let labelset = sample.get_labelset().expect("labels parse");
            let have: BTreeMap<&str, &str> = labelset
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            have == wanted
        })
        .map(|sample| match &sample.value {
            PrometheusValue::Gauge(number) => number.as_f64(),
            other => panic!("not a gauge: {other:?}"),
        })
        .collect();
    assert!(found.len() <= 1, "duplicate series {labels:?}");
    found.first().copied()
}
