//! `admission.k8s.io/v1` AdmissionReview in, AdmissionReview out, over the same engine the
//! scanner uses. Pure functions: the HTTP layer only moves bytes.

use base64::Engine as _;
use gatehouse_engine::waivers::{self, Date};
use gatehouse_engine::{Class, Decision, Enforcement, Evaluator, Mode, Review, Violation};
use serde_json::{Value, json};

/// Which webhook the API server called: validation by every policy, by the security policies
/// only (`/validate/security`, for `failurePolicy: Fail`) or by the others only
/// (`/validate/practices`, for `Ignore`), or mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Validate(Option<Class>),
    Mutate,
}

impl Endpoint {
    /// Whether a review this endpoint cannot judge (timeout, evaluation error, overload) is
    /// admitted: the split endpoints answer as the failure policy they are registered with
    /// (security fails closed, best practices open), the others as `--fail-open` says.
    pub fn fails_open(self, configured: bool) -> bool {
        match self {
            Endpoint::Validate(Some(Class::Security)) => false,
            Endpoint::Validate(Some(Class::Practices)) => true,
            Endpoint::Validate(None) | Endpoint::Mutate => configured,
        }
    }

    /// The endpoint's name in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Validate(None) => "validate",
            Endpoint::Validate(Some(Class::Security)) => "validate_security",
            Endpoint::Validate(Some(Class::Practices)) => "validate_practices",
            Endpoint::Mutate => "mutate",
        }
    }
}

/// What the webhook never judges, whatever the webhook configuration sends it: its own
/// namespace and the objects the control plane needs to heal itself.
#[derive(Debug, Clone)]
pub struct Safety {
    pub exempt_namespaces: Vec<String>,
}

impl Safety {
    pub fn new(own_namespace: &str) -> Self {
        let mut exempt_namespaces: Vec<String> =
            ["kube-system", "kube-node-lease", "kube-public"].iter().map(|s| s.to_string()).collect();
        if !own_namespace.is_empty() && !exempt_namespaces.iter().any(|n| n == own_namespace) {
            exempt_namespaces.push(own_namespace.to_string());
        }
        Safety { exempt_namespaces }
    }

    /// Why a request is let through unjudged, if it is.
    pub fn exempt(&self, group: &str, kind: &str, namespace: Option<&str>) -> Option<String> {
        if let Some(ns) = namespace.filter(|ns| self.exempt_namespaces.iter().any(|e| e == ns)) {
            return Some(format!("namespace {ns} is exempt"));
        }
        let control_plane = matches!(
            (group, kind),
            ("coordination.k8s.io", "Lease")
                | ("" | "events.k8s.io", "Event")
                | ("", "Node" | "Endpoints" | "ComponentStatus")
                | ("discovery.k8s.io", "EndpointSlice")
                | ("authentication.k8s.io", "TokenReview" | "SelfSubjectReview")
                | (
                    "authorization.k8s.io",
                    "SubjectAccessReview"
                        | "SelfSubjectAccessReview"
                        | "LocalSubjectAccessReview"
                        | "SelfSubjectRulesReview"
                )
                | ("certificates.k8s.io", "CertificateSigningRequest")
                | ("admissionregistration.k8s.io", _)
                | ("apiregistration.k8s.io", "APIService")
                | ("flowcontrol.apiserver.k8s.io", _)
        );
        control_plane.then(|| format!("{kind} objects keep the control plane running and are never judged"))
    }
}

/// A request the webhook cannot read: answered with 400 and this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest(pub String);

/// The parts of an AdmissionReview the webhook needs before evaluating.
#[derive(Debug)]
pub struct Request {
    pub uid: String,
    pub dry_run: bool,
    pub review: Review,
}

pub fn parse(body: &[u8]) -> Result<Request, BadRequest> {
    let mut document: Value =
        serde_json::from_slice(body).map_err(|e| BadRequest(format!("the body is not JSON: {e}")))?;
    if document.get("apiVersion").and_then(Value::as_str) != Some("admission.k8s.io/v1")
        || document.get("kind").and_then(Value::as_str) != Some("AdmissionReview")
    {
        return Err(BadRequest("expected an admission.k8s.io/v1 AdmissionReview".into()));
    }
    let Some(Value::Object(mut request)) = document.get_mut("request").map(Value::take) else {
        return Err(BadRequest("the AdmissionReview has no request object".into()));
    };
    let uid = match request.get("uid") {
        Some(Value::String(uid)) if !uid.is_empty() => uid.clone(),
        _ => return Err(BadRequest("the AdmissionReview request has no uid".into())),
    };
    let dry_run = request.get("dryRun").and_then(Value::as_bool).unwrap_or(false);
    // The policies' input is the request as sent; nothing is dropped or added.
    request.entry("dryRun").or_insert(Value::Bool(dry_run));
    let review = Review::from_admission_request(Value::Object(request)).map_err(|e| BadRequest(e.to_string()))?;
    Ok(Request { uid, dry_run, review })
}

/// What one review decided, for the response, the log and the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub allowed: bool,
    /// `allowed`, `denied`, `warned`, `patched`, `exempt` or `error`.
    pub decision: &'static str,
    pub response: Value,
    pub denied: Vec<Violation>,
    pub warned: Vec<Violation>,
    pub audited: Vec<Violation>,
}

fn envelope(uid: &str, response: Value) -> Value {
    let mut response = response;
    response["uid"] = json!(uid);
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})
}

/// Answers without evaluating: the request is exempt.
pub fn exempt(uid: &str) -> Outcome {
    Outcome {
        allowed: true,
        decision: "exempt",
        response: envelope(uid, json!({"allowed": true})),
        denied: Vec::new(),
        warned: Vec::new(),
        audited: Vec::new(),
    }
}

/// Answers a request that could not be judged in time or at all, per the failure action.
pub fn failure(uid: &str, message: &str, fail_open: bool) -> Outcome {
    let response = if fail_open {
        json!({"allowed": true, "warnings": [format!("gatehouse: {message}; admitted by the failure policy")]})
    } else {
        json!({"allowed": false, "status": {"code": 500, "message": format!("gatehouse: {message}")}})
    };
    Outcome {
        allowed: fail_open,
        decision: "error",
        response: envelope(uid, response),
        denied: Vec::new(),
        warned: Vec::new(),
        audited: Vec::new(),
    }
}

fn describe(v: &Violation) -> String {
    let field = if v.path.is_empty() { String::new() } else { format!(" (at {})", v.path) };
    format!("[{}] {}{field}", v.policy, v.message)
}

/// Evaluates a parsed request and builds the AdmissionReview to send back. A review that cannot
/// be judged (an evaluation error or timeout) follows the failure policy (`fail_open`).
pub fn decide(
    evaluator: &mut Evaluator,
    request: &Request,
    endpoint: Endpoint,
    today: Date,
    fail_open: bool,
) -> Outcome {
    let review = &request.review;
    let decision: Decision = match endpoint {
        Endpoint::Validate(class) => evaluator.evaluate_class(review, Mode::Validate, class),
        Endpoint::Mutate => evaluator.evaluate_mode(review, Mode::Mutate),
    };
    let bundle = evaluator.bundle().clone();
    let known = |id: &str| bundle.policy(id).is_some();
    let (waived, waiver_problem) = waivers::in_force_on(review, &known, today);
    let mut warnings: Vec<String> = waiver_problem.into_iter().map(|w| format!("gatehouse: {w}")).collect();
    if !decision.errors.is_empty() {
        let message = decision.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        return failure(&request.uid, &format!("policy evaluation failed: {message}"), fail_open);
    }
    let counts = |v: &&Violation| !waived.contains(&v.policy);
    let denied: Vec<Violation> = decision.with_enforcement(Enforcement::Deny).filter(counts).cloned().collect();
    let audited: Vec<Violation> = decision.with_enforcement(Enforcement::Audit).filter(counts).cloned().collect();
    let warned: Vec<Violation> = decision.with_enforcement(Enforcement::Warn).filter(counts).cloned().collect();
    warnings.extend(warned.iter().map(|v| format!("gatehouse: {}", describe(v))));
    let subject = format!(
        "{} {}{}",
        review.kind(),
        review.namespace().map(|ns| format!("{ns}/")).unwrap_or_default(),
        if review.name().is_empty() { "(generated name)" } else { review.name() }
    );
    match endpoint {
        Endpoint::Validate(_) if !denied.is_empty() => {
            let reasons: Vec<String> = denied.iter().map(describe).collect();
            let message = format!("gatehouse denied {subject}: {}", reasons.join("; "));
            let mut response =
                json!({"allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": message}});
            if !warnings.is_empty() {
                response["warnings"] = json!(warnings);
            }
            Outcome {
                allowed: false,
                decision: "denied",
                response: envelope(&request.uid, response),
                denied,
                warned,
                audited,
            }
        }
        Endpoint::Validate(_) => {
            let mut response = json!({"allowed": true});
            let decided = if warnings.is_empty() { "allowed" } else { "warned" };
            if !warnings.is_empty() {
                response["warnings"] = json!(warnings);
            }
            Outcome {
                allowed: true,
                decision: decided,
                response: envelope(&request.uid, response),
                denied,
                warned,
                audited,
            }
        }
        Endpoint::Mutate => {
            // A policy the object waives for itself does not patch it either.
            let patch: Vec<Value> = decision
                .json_patch()
                .into_iter()
                .filter(|op| {
                    let policy = decision.patches.iter().find(|p| &p.operation == op).map(|p| p.policy.as_str());
                    policy.is_none_or(|p| !waived.iter().any(|w| w == p))
                })
                .collect();
            let mut response = json!({"allowed": true});
            let decided = if patch.is_empty() { "allowed" } else { "patched" };
            if !patch.is_empty() {
                let bytes = serde_json::to_vec(&patch).unwrap_or_default();
                response["patchType"] = json!("JSONPatch");
                response["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
            }
            Outcome {
                allowed: true,
                decision: decided,
                response: envelope(&request.uid, response),
                // The validating call reports violations; counting them here too would double them.
                denied: Vec::new(),
                warned: Vec::new(),
                audited: Vec::new(),
            }
        }
    }
}
