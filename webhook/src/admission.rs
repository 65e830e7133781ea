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

    /// The policies the endpoint evaluates: their mode, and their class when it is split.
    pub fn policies(self) -> (Mode, Option<Class>) {
        match self {
            Endpoint::Validate(class) => (Mode::Validate, class),
            Endpoint::Mutate => (Mode::Mutate, None),
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
    /// `allowed`, `denied`, `warned`, `patched`, `exempt`, `error`, `shed` (overloaded) or
    /// `stale` (the inventory it reads is not current).
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

/// Answers at once, by the failure policy, a review that arrives while `queued` others already
/// wait for an evaluator: the webhook sheds what it could not judge in time anyway.
pub fn overloaded(uid: &str, queued: usize, fail_open: bool) -> Outcome {
    let mut outcome = failure(uid, &format!("overloaded: {queued} reviews already wait for an evaluator"), fail_open);
    outcome.decision = "shed";
    outcome
}

/// Answers by the failure policy a review whose policies read the cluster inventory while it is
/// not current (`gap` says why): judging it from objects the cluster may no longer hold, or
/// before they are listed, would decide on a guess.
pub fn inventory_not_current(uid: &str, gap: &str, fail_open: bool) -> Outcome {
    let mut outcome =
        failure(uid, &format!("{gap}; reviews that read it are not judged until it is current"), fail_open);
    outcome.decision = "stale";
    outcome
}

/// The most reasons a deny message names, and its largest size: the API server hands the message
/// to the user (and to its audit log); a workload with hundreds of containers must not make it
/// megabytes long. The count of those left out is said.
pub const MAX_REASONS: usize = 25;
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// The most warnings an answer carries, and the largest one: kubectl prints each on its own line.
pub const MAX_WARNINGS: usize = 25;
pub const MAX_WARNING_BYTES: usize = 1024;

/// `text` cut at a character boundary to at most `max` bytes, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// The reasons of a denial joined, within [`MAX_REASONS`] and [`MAX_MESSAGE_BYTES`].
fn joined_reasons(head: &str, reasons: &[String]) -> String {
    let mut message = head.to_string();
    let mut named = 0;
    for reason in reasons.iter().take(MAX_REASONS) {
        let sep = if named == 0 { "" } else { "; " };
        // Room is kept for the closing count.
        if message.len() + sep.len() + reason.len() > MAX_MESSAGE_BYTES - 64 {
            break;
        }
        message.push_str(sep);
        message.push_str(reason);
        named += 1;
    }
    if named < reasons.len() {
        message.push_str(&format!("; and {} more violations", reasons.len() - named));
    }
    cut(&message, MAX_MESSAGE_BYTES)
}

/// Warnings within [`MAX_WARNINGS`] (the last one counting those left out) and
/// [`MAX_WARNING_BYTES`] each.
fn bounded_warnings(warnings: Vec<String>) -> Vec<String> {
    let total = warnings.len();
    let mut kept: Vec<String> = warnings.into_iter().take(MAX_WARNINGS).map(|w| cut(&w, MAX_WARNING_BYTES)).collect();
    if total > MAX_WARNINGS {
        kept.truncate(MAX_WARNINGS - 1);
        kept.push(format!("gatehouse: and {} more warnings", total - (MAX_WARNINGS - 1)));
    }
    kept
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
    let warnings = bounded_warnings(warnings);
    let subject = format!(
        "{} {}{}",
        review.kind(),
        review.namespace().map(|ns| format!("{ns}/")).unwrap_or_default(),
        if review.name().is_empty() { "(generated name)" } else { review.name() }
    );
    match endpoint {
        Endpoint::Validate(_) if !denied.is_empty() => {
            let reasons: Vec<String> = denied.iter().map(describe).collect();
            let message = joined_reasons(&format!("gatehouse denied {subject}: "), &reasons);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_at_a_character_boundary_and_counted() {
        let text = "é".repeat(2000);
        let short = cut(&text, 101);
        assert!(short.len() <= 101 && short.ends_with("...") && short.is_char_boundary(short.len() - 3));
        assert_eq!(cut("short", 10), "short");
        let reasons: Vec<String> = (0..40).map(|i| format!("[p{i}] fails")).collect();
        let message = joined_reasons("gatehouse denied Deployment a/b: ", &reasons);
        assert!(message.ends_with("; and 15 more violations"), "{message}");
        let warnings = bounded_warnings((0..30).map(|i| format!("w{i}")).collect());
        assert_eq!(warnings.len(), MAX_WARNINGS);
        assert_eq!(warnings[MAX_WARNINGS - 1], "gatehouse: and 6 more warnings");
        assert_eq!(bounded_warnings(vec!["one".into()]), ["one"]);
    }
}
