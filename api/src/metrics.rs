//! `/healthz`, `/readyz` and `/metrics` (Prometheus text format).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;
use crate::connections::{Close, Refused};
use crate::problem::Problem;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) -> requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// (method, route) -> latencies.
    latencies: Mutex<BTreeMap<(String, String), Histogram>>,
    appended: AtomicU64,
    /// Connections open, closed by the server and refused.
    pub connections: windledger_edge::ConnectionCounters,
}

impl Metrics {
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let mut latencies = self.latencies.lock().unwrap_or_else(|p| p.into_inner());
        let h = latencies
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    pub fn appended(&self, events: u64) {
        self.appended.fetch_add(events, Ordering::Relaxed);
    }
}

/// Label values escaped for the text format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub async fn healthz() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

/// Ready when the database answers and every open ledger's projections
/// have applied its head (and none stopped).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut problems = Vec::new();
    match state.store.ledgers().await {
        Err(e) => problems.push(format!("the database is not reachable: {e}")),
        Ok(_) => {
            for runtime in state.ledgers.held() {
                if let Some(b) = runtime.integrity.broken() {
                    problems.push(format!(
                        "ledger {}: its history does not verify at {b}",
                        runtime.id
                    ));
                    continue;
                }
                if let Some(f) = runtime.projections.read(|p| p.failure().cloned()) {
                    problems.push(format!("ledger {}: {f}", runtime.id));
                    continue;
                }
                match runtime.store.head(&runtime.id).await {
                    Ok(head) => {
                        let at = runtime.projections.read(|p| p.position());
                        if at < head.size {
                            problems.push(format!(
                                "ledger {}: the projections are at position {at} of {}",
                                runtime.id, head.size
                            ));
                        }
                    }
                    Err(e) => problems.push(format!("the database is not reachable: {e}")),
                }
            }
        }
    }
    let (status, body) = if problems.is_empty() {
        (StatusCode::OK, json!({ "ready": true }))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "ready": false, "reasons": problems }),
        )
    };
    (status, axum::Json(body)).into_response()
}

/// `/metrics`: for a caller on this machine, or one sending the metrics
/// token when one is set (`serve --metrics-token`; see
/// [`AppState::may_read_metrics`]). Its figures (requests per route and
/// status, the ledgers' positions, the database's state) are an operator's,
/// not the public's.
pub async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|p| p.0);
    if !state.may_read_metrics(peer, request.headers()) {
        return Problem::forbidden(
            "the metrics are served to callers on the server's machine, or with the metrics token (serve --metrics-token) as a bearer token",
        )
        .into_response();
    }
    let mut out = String::new();
    let m = &state.metrics;
    out.push_str(
        "# HELP windledger_http_requests_total HTTP requests by method, route and status.\n",
    );
    out.push_str("# TYPE windledger_http_requests_total counter\n");
    for ((method, route, status), n) in m.requests.lock().unwrap_or_else(|p| p.into_inner()).iter()
    {
        let _ = writeln!(
            out,
            "windledger_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
            label(method),
            label(route)
        );
    }
    out.push_str("# HELP windledger_http_request_duration_seconds HTTP request latency.\n");
    out.push_str("# TYPE windledger_http_request_duration_seconds histogram\n");
    for ((method, route), h) in m.latencies.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let labels = format!("method=\"{}\",route=\"{}\"", label(method), label(route));
        for (bound, n) in BUCKETS.iter().zip(h.counts) {
            let _ = writeln!(
                out,
                "windledger_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "windledger_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(
            out,
            "windledger_http_request_duration_seconds_sum{{{labels}}} {}",
            h.sum
        );
        let _ = writeln!(
            out,
            "windledger_http_request_duration_seconds_count{{{labels}}} {}",
            h.count
        );
    }
    out.push_str(
        "# HELP windledger_events_appended_total Events appended by this server's commands.\n",
    );
    out.push_str("# TYPE windledger_events_appended_total counter\n");
    let _ = writeln!(
        out,
        "windledger_events_appended_total {}",
        m.appended.load(Ordering::Relaxed)
    );
    let c = &m.connections;
    out.push_str("# HELP windledger_http_connections Connections open.\n");
    out.push_str("# TYPE windledger_http_connections gauge\n");
    let _ = writeln!(out, "windledger_http_connections {}", c.open());
    out.push_str("# HELP windledger_http_connections_closed_total Connections the server closed, by the limit they reached (or evicted: gave their place to a new one at a bound).\n");
    out.push_str("# TYPE windledger_http_connections_closed_total counter\n");
    for why in Close::ALL {
        let _ = writeln!(
            out,
            "windledger_http_connections_closed_total{{reason=\"{}\"}} {}",
            why.label(),
            c.closed(why)
        );
    }
    out.push_str("# HELP windledger_http_connections_refused_total New connections answered 503 and closed: every connection of their address, or of the server, was running a request.\n");
    out.push_str("# TYPE windledger_http_connections_refused_total counter\n");
    for why in [Refused::Address, Refused::Server] {
        let _ = writeln!(
            out,
            "windledger_http_connections_refused_total{{bound=\"{}\"}} {}",
            why.label(),
            c.refused(why)
        );
    }
    out.push_str("# HELP windledger_database_up Whether the database answers (0 while calls fail at once).\n");
    out.push_str("# TYPE windledger_database_up gauge\n");
    let _ = writeln!(
        out,
        "windledger_database_up {}",
        u8::from(state.store.available())
    );
    out.push_str("# HELP windledger_ledger_intact Whether the ledger's history verifies (0 once a break is found: writes and signatures stop).\n");
    out.push_str("# TYPE windledger_ledger_intact gauge\n");
    out.push_str("# HELP windledger_verified_position Last position whose chain and governance the server verified, per ledger.\n");
    out.push_str("# TYPE windledger_verified_position gauge\n");
    for runtime in state.ledgers.held() {
        let ledger = label(runtime.id.as_str());
        let _ = writeln!(
            out,
            "windledger_ledger_intact{{ledger=\"{ledger}\"}} {}",
            u8::from(runtime.integrity.broken().is_none())
        );
        let _ = writeln!(
            out,
            "windledger_verified_position{{ledger=\"{ledger}\"}} {}",
            runtime.integrity.head().size
        );
    }
    out.push_str("# HELP windledger_projection_lag_events Events recorded but not yet applied to the projections, per ledger.\n");
    out.push_str("# TYPE windledger_projection_lag_events gauge\n");
    out.push_str("# HELP windledger_projection_position Last position applied to every projection, per ledger.\n");
    out.push_str("# TYPE windledger_projection_position gauge\n");
    for runtime in state.ledgers.held() {
        let at = runtime.projections.read(|p| p.position());
        let ledger = label(runtime.id.as_str());
        let _ = writeln!(
            out,
            "windledger_projection_position{{ledger=\"{ledger}\"}} {at}"
        );
        if let Ok(head) = runtime.store.head(&runtime.id).await {
            let _ = writeln!(
                out,
                "windledger_projection_lag_events{{ledger=\"{ledger}\"}} {}",
                head.size.saturating_sub(at)
            );
        }
    }
    ledger_figures(&mut out, &state.ledgers);
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// The ledgers held: the budget, what the open ones are charged, and each
/// ledger's requests, appends, openings and releases (a ledger's counts
/// stay after it is released; only ledgers that exist have a line).
fn ledger_figures(out: &mut String, ledgers: &windledger_app::ledgers::Ledgers) {
    let figures = ledgers.figures();
    let open = figures.iter().filter(|f| f.charged_bytes.is_some()).count();
    let resting = figures.iter().filter(|f| f.resting).count();
    let charged: u64 = figures.iter().filter_map(|f| f.charged_bytes).sum();
    let gauges = [
        (
            "windledger_ledgers_open",
            "Ledgers whose read models are held now.",
            open as u64,
        ),
        (
            "windledger_ledgers_resting",
            "Open ledgers whose governance state (the integrity check's replay) is at rest: their next write rebuilds it.",
            resting as u64,
        ),
        (
            "windledger_ledgers_known",
            "Ledgers asked for since the server started, open or released.",
            figures.len() as u64,
        ),
        (
            "windledger_ledger_budget_bytes",
            "The memory the open ledgers' read models may hold (serve --ledger-memory-mib).",
            ledgers.budget(),
        ),
        (
            "windledger_ledgers_charged_bytes",
            "What the open ledgers are charged against the budget (an estimate: events applied times a measured cost per event).",
            charged,
        ),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    type Figure = fn(&windledger_app::ledgers::LedgerFigures) -> Option<u64>;
    let per_ledger: [(&str, &str, &str, Figure); 7] = [
        (
            "windledger_ledger_requests_total",
            "counter",
            "Requests answered under the ledger's paths (the API's and the pages'), per ledger the server holds.",
            |f| Some(f.requests),
        ),
        (
            "windledger_ledger_events_appended_total",
            "counter",
            "Events appended by the server's commands (the API's and the pages'), per ledger.",
            |f| Some(f.appended),
        ),
        (
            "windledger_ledger_openings_total",
            "counter",
            "Times the ledger's read models were built (its first request, and each after a release), per ledger.",
            |f| Some(f.openings),
        ),
        (
            "windledger_ledger_releases_total",
            "counter",
            "Times the ledger's read models were released over the memory budget, per ledger.",
            |f| Some(f.releases),
        ),
        (
            "windledger_ledger_governance_rests_total",
            "counter",
            "Times the ledger's governance state was put to rest over the memory budget, per ledger.",
            |f| Some(f.rests),
        ),
        (
            "windledger_ledger_governance_rebuilds_total",
            "counter",
            "Times the ledger's governance state was rebuilt from the database for a new event after a rest, per ledger.",
            |f| Some(f.rebuilds),
        ),
        (
            "windledger_ledger_charged_bytes",
            "gauge",
            "What the open ledger is charged against the memory budget, per open ledger.",
            |f| f.charged_bytes,
        ),
    ];
    for (name, kind, help, value) in per_ledger {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for f in &figures {
            if let Some(v) = value(f) {
                let _ = writeln!(out, "{name}{{ledger=\"{}\"}} {v}", label(f.id.as_str()));
            }
        }
    }
}
