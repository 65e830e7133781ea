//! The HTTP layer: thin handlers that take a permit, evaluate on the blocking pool within the
//! API server's deadline, and answer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_engine::Class;
use gatehouse_engine::waivers::Date;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::admission::{self, Endpoint, Outcome, Safety};
use crate::generation::Live;
pub use crate::metrics::Metrics;

/// Largest AdmissionReview accepted. The API server caps objects at about 3 MiB; a review holds
/// the object and the old object.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The API server's default webhook timeout, used when a request names none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Time kept back from the API server's deadline to send the answer.
const ANSWER_MARGIN: Duration = Duration::from_millis(250);

pub struct AppState {
    pub live: Arc<Live>,
    pub safety: Safety,
    /// Admits when a request cannot be judged in time (Ignore) rather than denying it (Fail).
    pub fail_open: bool,
    /// Bounds the reviews evaluated at once.
    pub permits: Arc<Semaphore>,
    /// Reviews waiting for a permit, and how many may: past that the webhook is overloaded, and
    /// a review is answered at once by its failure policy rather than queued until its deadline
    /// (which would hold the API server's connections and every queued review's memory).
    waiting: AtomicUsize,
    pub max_waiting: usize,
    pub metrics: Metrics,
    /// Every how many reviews one is evaluated again policy by policy for the timing metrics
    /// (after it is answered); 0 never.
    pub policy_timing_every: u64,
    reviews: AtomicU64,
    /// Checks image signatures, with its caches; made at the first review that needs it, from
    /// the configuration then in force.
    verifier: std::sync::OnceLock<Result<Arc<gatehouse_signatures::Verifier>, String>>,
}

/// Evaluations run at once by default: two per CPU.
pub fn default_max_in_flight() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

impl AppState {
    pub fn new(live: Arc<Live>, safety: Safety, fail_open: bool, max_in_flight: usize) -> AppState {
        AppState {
            live,
            safety,
            fail_open,
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting: max_in_flight.max(1) * 4,
            metrics: Metrics::default(),
            policy_timing_every: 100,
            reviews: AtomicU64::new(0),
            verifier: std::sync::OnceLock::new(),
        }
    }

    /// The verifier, made from `rules`'s registry and cache settings the first time.
    fn verifier(
        &self,
        rules: &gatehouse_signatures::rules::SignatureRules,
    ) -> Result<Arc<gatehouse_signatures::Verifier>, String> {
        self.verifier.get_or_init(|| rules.verifier().map(Arc::new)).clone()
    }

    /// The review with the signature checks of its covered images as `input.images`, within
    /// three quarters of `budget` (the rest is the policies'). A verifier that cannot be made
    /// (no system roots) leaves every covered image unavailable.
    async fn check_signatures(
        &self,
        generation: &crate::generation::Generation,
        mut request: admission::Request,
        budget: Duration,
    ) -> admission::Request {
        let rules = &generation.signatures;
        if rules.is_empty() {
            return request;
        }
        let verifier = self.verifier(rules);
        if let Err(e) = &verifier {
            tracing::error!(error = %e, "cannot check image signatures; covered images count as unavailable");
        }
        if let Some(checks) =
            gatehouse_signatures::rules::check(&verifier, rules, &request.review, budget * 3 / 4).await
        {
            for (verdict, source, elapsed) in &checks.outcomes {
                self.metrics.image_check(verdict, source.name(), *elapsed);
            }
            gatehouse_signatures::rules::attach(&mut request.review, &checks);
        }
        request
    }
}

impl AppState {
    /// A state serving one bundle without a cluster inventory and without reloads (tests,
    /// benchmarks).
    pub fn for_bundle(
        bundle: &gatehouse_engine::Bundle,
        own_namespace: &str,
        fail_open: bool,
        max_in_flight: usize,
    ) -> Result<AppState, crate::generation::LoadError> {
        let first = crate::generation::build(1, bundle, &gatehouse_engine::Inventory::new(), 0)?;
        let without = crate::cluster::policies_reading_inventory(bundle);
        let live = Live::new(first, bundle.root(), crate::generation::InventoryState::Off { without });
        Ok(AppState::new(Arc::new(live), Safety::new(own_namespace), fail_open, max_in_flight))
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("fail_open", &self.fail_open).finish_non_exhaustive()
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/validate", post(|s, q, b| review(s, q, b, Endpoint::Validate(None))))
        .route("/validate/security", post(|s, q, b| review(s, q, b, Endpoint::Validate(Some(Class::Security)))))
        .route("/validate/practices", post(|s, q, b| review(s, q, b, Endpoint::Validate(Some(Class::Practices)))))
        .route("/mutate", post(|s, q, b| review(s, q, b, Endpoint::Mutate)))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let text = state.metrics.render(&state.live.counters());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// 200 once ready, 503 before; the body says why, one line per part.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let readiness = state.live.readiness();
    let status = if readiness.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut body = String::from(if readiness.ready { "ok\n" } else { "not ready\n" });
    for line in readiness.detail {
        body.push_str(&line);
        body.push('\n');
    }
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
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
    let name = endpoint.name();
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
    let (namespace, object_name, operation, dry_run) = (
        request.review.namespace().unwrap_or("").to_string(),
        request.review.name().to_string(),
        request.review.operation().to_string(),
        request.dry_run,
    );
    let outcome = if state.safety.exempt(request.review.group(), &kind, request.review.namespace()).is_some() {
        admission::exempt(&request.uid)
    } else {
        let budget = deadline(&query);
        judge(&state, request, endpoint, budget).await
    };
    let uid = outcome.response["response"]["uid"].as_str().unwrap_or("");
    if outcome.decision == "denied" {
        let reasons: Vec<String> = outcome.denied.iter().map(|v| format!("{}: {}", v.policy, v.message)).collect();
        tracing::info!(uid, kind = %kind, namespace = %namespace, name = %object_name, operation = %operation, dry_run, reasons = %reasons.join("; "), "denied");
    }
    for v in &outcome.audited {
        tracing::info!(uid, policy = %v.policy, kind = %kind, namespace = %namespace, name = %object_name, dry_run, message = %v.message, "audit");
    }
    for (violations, enforcement) in [(&outcome.denied, "deny"), (&outcome.warned, "warn"), (&outcome.audited, "audit")]
    {
        for v in violations {
            state.metrics.violation(&v.policy, enforcement);
        }
    }
    state.metrics.record(name, outcome.decision, &kind, started.elapsed());
    ([(header::CONTENT_TYPE, "application/json")], outcome.response.to_string()).into_response()
}

/// Evaluates the review again policy by policy, after it was answered and only when a permit is
/// free, for the per-policy timing metrics.
fn time_policies(state: &Arc<AppState>, mut evaluator: gatehouse_engine::Evaluator, request: admission::Request) {
    let Ok(permit) = Arc::clone(&state.permits).try_acquire_owned() else { return };
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        evaluator.set_time_limit(Duration::from_secs(2));
        let timings = evaluator.time_policies(&request.review);
        state.metrics.policy_timings(&timings);
        drop(permit);
    });
}

/// Evaluates on the blocking pool with a permit, and answers by the failure policy when the
/// evaluation would overrun the API server's deadline.
async fn judge(state: &Arc<AppState>, request: admission::Request, endpoint: Endpoint, budget: Duration) -> Outcome {
    let uid = request.uid.clone();
    let started = Instant::now();
    let fail_open = endpoint.fails_open(state.fail_open);
    // One generation judges the review throughout: its signature rules and its policies.
    let generation = state.live.current();
    if let Some(gap) = state.live.inventory_gap() {
        let (mode, class) = endpoint.policies();
        let review = &request.review;
        if generation.evaluator.bundle().reads_inventory(review.group(), review.kind(), mode, class) {
            return admission::inventory_not_current(&uid, &gap, fail_open);
        }
    }
    // The mutating call checks them too, so that pin-image-digests pins what was verified; the
    // validating call that follows finds the verdicts cached.
    let request = state.check_signatures(&generation, request, budget).await;
    let permit = match Arc::clone(&state.permits).try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            let queued = state.waiting.fetch_add(1, Ordering::AcqRel);
            let waited = if queued >= state.max_waiting {
                None
            } else {
                tokio::time::timeout(budget, Arc::clone(&state.permits).acquire_owned()).await.ok().and_then(Result::ok)
            };
            state.waiting.fetch_sub(1, Ordering::AcqRel);
            match waited {
                Some(permit) => permit,
                None if queued >= state.max_waiting => return admission::overloaded(&uid, queued, fail_open),
                None => return admission::failure(&uid, "too many reviews in flight to answer in time", fail_open),
            }
        }
    };
    let remaining = budget.saturating_sub(started.elapsed());
    let mut evaluator = generation.checkout();
    evaluator.set_time_limit(remaining);
    let every = state.policy_timing_every;
    let sample = every > 0 && state.reviews.fetch_add(1, Ordering::Relaxed).is_multiple_of(every);
    let task = tokio::task::spawn_blocking(move || {
        let outcome = admission::decide(&mut evaluator, &request, endpoint, Date::today(), fail_open);
        drop(permit);
        if sample {
            (outcome, Some((evaluator, request)))
        } else {
            generation.checkin(evaluator);
            (outcome, None)
        }
    });
    match tokio::time::timeout(remaining, task).await {
        Ok(Ok((outcome, sampled))) => {
            if let Some((evaluator, request)) = sampled {
                time_policies(state, evaluator, request);
            }
            outcome
        }
        Ok(Err(_)) => admission::failure(&uid, "the evaluation failed unexpectedly", fail_open),
        Err(_) => admission::failure(
            &uid,
            &format!("the evaluation did not finish within {} ms", budget.as_millis()),
            fail_open,
        ),
    }
}
