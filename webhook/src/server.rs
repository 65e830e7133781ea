//! The HTTP layer: thin handlers that take a permit, evaluate on the blocking pool within the
//! API server's deadline, and answer.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_engine::Evaluator;
use gatehouse_engine::waivers::Date;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::admission::{self, Endpoint, Outcome, Safety};

/// Largest AdmissionReview accepted. The API server caps objects at about 3 MiB; a review holds
/// the object and the old object.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The API server's default webhook timeout, used when a request names none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Time kept back from the API server's deadline to send the answer.
const ANSWER_MARGIN: Duration = Duration::from_millis(250);

pub struct AppState {
    pub evaluator: Evaluator,
    pub safety: Safety,
    /// Admits when a request cannot be judged in time (Ignore) rather than denying it (Fail).
    pub fail_open: bool,
    /// Bounds the reviews evaluated at once.
    pub permits: Arc<Semaphore>,
    pub metrics: Metrics,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("fail_open", &self.fail_open).finish_non_exhaustive()
    }
}

/// Prometheus counters and a latency histogram with sub-millisecond buckets.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, String), u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

const BUCKETS: [f64; 12] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0];

impl Metrics {
    fn record(&self, endpoint: &str, outcome: &str, kind: &str, elapsed: Duration) {
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((endpoint.to_string(), outcome.to_string(), kind.to_string())).or_default() += 1;
        }
        let seconds = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP gatehouse_admission_requests_total Admission reviews by endpoint, decision and kind.\n# TYPE gatehouse_admission_requests_total counter\n",
        );
        if let Ok(map) = self.requests.lock() {
            for ((endpoint, decision, kind), n) in map.iter() {
                out.push_str(&format!(
                    "gatehouse_admission_requests_total{{endpoint=\"{endpoint}\",decision=\"{decision}\",kind=\"{kind}\"}} {n}\n"
                ));
            }
        }
        out.push_str("# HELP gatehouse_admission_duration_seconds Time to answer an admission review.\n# TYPE gatehouse_admission_duration_seconds histogram\n");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let n = self.latency_buckets[i].load(Ordering::Relaxed);
            out.push_str(&format!("gatehouse_admission_duration_seconds_bucket{{le=\"{bound}\"}} {n}\n"));
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        out.push_str(&format!("gatehouse_admission_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n"));
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        out.push_str(&format!(
            "gatehouse_admission_duration_seconds_sum {sum}\ngatehouse_admission_duration_seconds_count {count}\n"
        ));
        out
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/validate", post(|s, q, b| review(s, q, b, Endpoint::Validate)))
        .route("/mutate", post(|s, q, b| review(s, q, b, Endpoint::Mutate)))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// `?timeout=10s`, as the API server appends it.
fn deadline(query: &BTreeMap<String, String>) -> Duration {
    query
        .get("timeout")
        .and_then(|t| t.strip_suffix('s'))
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs)
        .saturating_sub(ANSWER_MARGIN)
        .max(Duration::from_millis(100))
}

fn bad_request(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], json!({"error": message}).to_string()).into_response()
}

async fn review(
    State(state): State<Arc<AppState>>,
    Query(query): Query<BTreeMap<String, String>>,
    body: Result<Bytes, BytesRejection>,
    endpoint: Endpoint,
) -> Response {
    let started = Instant::now();
    let name = match endpoint {
        Endpoint::Validate => "validate",
        Endpoint::Mutate => "mutate",
    };
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            state.metrics.record(name, "bad_request", "", started.elapsed());
            return bad_request(rejection.status(), &rejection.body_text());
        }
    };
    let request = match admission::parse(&body) {
        Ok(r) => r,
        Err(e) => {
            state.metrics.record(name, "bad_request", "", started.elapsed());
            return bad_request(StatusCode::BAD_REQUEST, &e.0);
        }
    };
    let kind = request.review.kind().to_string();
    let outcome = if state.safety.exempt(request.review.group(), &kind, request.review.namespace()).is_some() {
        admission::exempt(&request.uid)
    } else {
        let budget = deadline(&query);
        judge(&state, request, endpoint, budget).await
    };
    if outcome.decision == "denied" {
        let reasons: Vec<String> = outcome.denied.iter().map(|v| format!("{}: {}", v.policy, v.message)).collect();
        let uid = outcome.response["response"]["uid"].as_str().unwrap_or("");
        tracing::info!(uid, kind = %kind, reasons = %reasons.join("; "), "denied");
    }
    for v in &outcome.audited {
        tracing::info!(policy = %v.policy, kind = %kind, message = %v.message, "audit");
    }
    state.metrics.record(name, outcome.decision, &kind, started.elapsed());
    ([(header::CONTENT_TYPE, "application/json")], outcome.response.to_string()).into_response()
}

/// Evaluates on the blocking pool with a permit, and answers by the failure policy when the
/// evaluation would overrun the API server's deadline.
async fn judge(state: &Arc<AppState>, request: admission::Request, endpoint: Endpoint, budget: Duration) -> Outcome {
    let uid = request.uid.clone();
    let started = Instant::now();
    let Ok(Ok(permit)) = tokio::time::timeout(budget, Arc::clone(&state.permits).acquire_owned()).await else {
        return admission::failure(&uid, "too many reviews in flight to answer in time", state.fail_open);
    };
    let remaining = budget.saturating_sub(started.elapsed());
    let mut evaluator = state.evaluator.clone();
    evaluator.set_time_limit(remaining);
    let fail_open = state.fail_open;
    let task = tokio::task::spawn_blocking(move || {
        let outcome = admission::decide(&mut evaluator, &request, endpoint, Date::today(), fail_open);
        drop(permit);
        outcome
    });
    match tokio::time::timeout(remaining, task).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => admission::failure(&uid, "the evaluation failed unexpectedly", state.fail_open),
        Err(_) => admission::failure(
            &uid,
            &format!("the evaluation did not finish within {} ms", budget.as_millis()),
            state.fail_open,
        ),
    }
}
