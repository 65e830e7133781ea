//! Evaluation: one review against the policies that target its kind, with the inventory as
//! `data.inventory`, giving one [`Decision`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::bundle::Bundle;
use crate::inventory::Inventory;
use crate::metadata::{Class, Enforcement, Mode, Severity};
use crate::review::Review;

/// What a policy judges: a Kubernetes review, or one resource of a Terraform plan.
pub trait Subject {
    /// The (group, kind) the policies' targets and the bundle's routes are keyed by.
    fn group(&self) -> &str;
    fn kind(&self) -> &str;
    /// The policy input; cloning it is a reference count.
    fn input(&self) -> regorus::Value;
    /// The input with `parameters` beside it.
    fn input_with(&self, parameters: &regorus::Value) -> regorus::Value;
    /// A field of the judged object by JSON pointer, for the mutation checks.
    fn field(&self, pointer: &str) -> Option<regorus::Value>;
}

impl Subject for Review {
    fn group(&self) -> &str {
        Review::group(self)
    }
    fn kind(&self) -> &str {
        Review::kind(self)
    }
    fn input(&self) -> regorus::Value {
        Review::input(self)
    }
    fn input_with(&self, parameters: &regorus::Value) -> regorus::Value {
        Review::input_with(self, parameters)
    }
    fn field(&self, pointer: &str) -> Option<regorus::Value> {
        self.object_field(pointer)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub policy: String,
    pub severity: Severity,
    pub enforcement: Enforcement,
    pub message: String,
    /// JSON pointer to the offending field; empty for the whole object.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// One RFC 6902 operation proposed by a mutating policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchOperation {
    pub policy: String,
    pub operation: Value,
}

/// A policy that could not be evaluated: never counted as passing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationError {
    pub policy: Option<String>,
    pub message: String,
}

/// One policy evaluated on its own: how long it took and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyTiming {
    pub policy: String,
    pub elapsed: Duration,
    pub violations: usize,
    pub failed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Decision {
    pub violations: Vec<Violation>,
    pub patches: Vec<PatchOperation>,
    pub errors: Vec<EvaluationError>,
    /// How many policies applied to the object.
    pub evaluated: usize,
}

impl Decision {
    fn merge(&mut self, other: Decision) {
        self.violations.extend(other.violations);
        self.patches.extend(other.patches);
        self.errors.extend(other.errors);
        self.evaluated += other.evaluated;
    }

    /// True when nothing denies and nothing failed to evaluate.
    pub fn allowed(&self) -> bool {
        self.errors.is_empty() && !self.violations.iter().any(|v| v.enforcement == Enforcement::Deny)
    }

    pub fn with_enforcement(&self, enforcement: Enforcement) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(move |v| v.enforcement == enforcement)
    }

    /// The merged JSON Patch: parents before children, one operation per path (the first
    /// policy in id order wins).
    pub fn json_patch(&self) -> Vec<Value> {
        let mut ops: Vec<&PatchOperation> = Vec::with_capacity(self.patches.len());
        for p in &self.patches {
            let path = p.operation.get("path");
            if !ops.iter().any(|o| o.operation.get("path") == path) {
                ops.push(p);
            }
        }
        ops.sort_by_key(|p| p.operation.get("path").and_then(Value::as_str).map_or(0, |s| s.matches('/').count()));
        ops.into_iter().map(|p| p.operation.clone()).collect()
    }
}

/// Evaluates reviews against a bundle and one inventory. Preparing one takes a clone of the
/// compiled engine and the inventory's conversion; evaluating with it is then cheap. Clone a
/// prepared evaluator per thread or request.
#[derive(Debug, Clone)]
pub struct Evaluator {
    bundle: Bundle,
    /// The bundle's partition engines with the inventory in: the routes evaluate in these.
    partitions: Vec<regorus::Engine>,
    /// The whole bundle's engine with the inventory in, prepared the first time a policy is
    /// evaluated outside its route (by name, or by a wildcard target).
    whole: Option<regorus::Engine>,
    /// The inventory as `data`, converted once for every engine the evaluator prepares.
    inventory: regorus::Value,
    time_limit: Option<Duration>,
    /// Labels of the inventory's namespaces, for the configuration's namespace overrides.
    namespace_labels: Arc<BTreeMap<String, BTreeMap<String, String>>>,
}

impl Evaluator {
    pub fn new(bundle: &Bundle, inventory: &Inventory) -> Result<Evaluator, EvaluationError> {
        let data = inventory.to_data();
        let partitions = bundle.inner.partitions.iter().map(|p| prepare(p, &data)).collect::<Result<_, _>>()?;
        let namespace_labels = Arc::new(if bundle.namespace_overrides().is_empty() {
            BTreeMap::new()
        } else {
            inventory.namespace_labels()
        });
        Ok(Evaluator {
            bundle: bundle.clone(),
            partitions,
            whole: None,
            inventory: data,
            time_limit: None,
            namespace_labels,
        })
    }

    /// The engine of a partition, or the whole bundle's (`None`), prepared with the inventory.
    fn engine(&mut self, partition: Option<usize>) -> Result<&mut regorus::Engine, EvaluationError> {
        if let Some(i) = partition {
            return Ok(&mut self.partitions[i]);
        }
        let engine = match self.whole.take() {
            Some(engine) => engine,
            None => {
                let mut engine = with_inventory(self.bundle.engine(), &self.inventory)?;
                if let Some(limit) = self.time_limit {
                    set_time_limit(&mut engine, limit);
                }
                engine
            }
        };
        Ok(self.whole.insert(engine))
    }

    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// Bounds each evaluation's wall-clock time; an evaluation that overruns is an error.
    pub fn set_time_limit(&mut self, limit: Duration) {
        self.time_limit = Some(limit);
        for engine in self.partitions.iter_mut().chain(self.whole.as_mut()) {
            set_time_limit(engine, limit);
        }
    }

    /// Evaluates every enabled policy that targets the review's kind, with the enforcement in
    /// force in the review's namespace.
    pub fn evaluate(&mut self, review: &Review) -> Decision {
        let mut decision = self.evaluate_routed(review, None, None);
        self.apply_namespace_overrides(review, &mut decision);
        decision
    }

    /// As [`Evaluator::evaluate`], with only the policies of one mode: the webhook's validating
    /// call runs the validating policies, its mutating call the mutating ones.
    pub fn evaluate_mode(&mut self, review: &Review, mode: Mode) -> Decision {
        self.evaluate_class(review, mode, None)
    }

    /// As [`Evaluator::evaluate_mode`], with only the policies of one class when `class` is given:
    /// the webhook's security and best-practice calls, each with its own failure policy.
    pub fn evaluate_class(&mut self, review: &Review, mode: Mode, class: Option<Class>) -> Decision {
        let mut decision = self.evaluate_routed(review, Some(mode), class);
        self.apply_namespace_overrides(review, &mut decision);
        decision
    }

    /// The configuration's namespace overrides, by the labels of the review's namespace (a
    /// Namespace object's own labels); a namespace not in the inventory matches none.
    fn apply_namespace_overrides(&self, review: &Review, decision: &mut Decision) {
        let overrides = self.bundle.namespace_overrides();
        if overrides.is_empty() || decision.violations.is_empty() {
            return;
        }
        let own;
        let labels = if review.kind() == "Namespace" && review.group().is_empty() {
            own = review.object_value().map(|o| crate::inventory::labels_of(&o)).unwrap_or_default();
            &own
        } else {
            match review.namespace().and_then(|ns| self.namespace_labels.get(ns)) {
                Some(labels) => labels,
                None => return,
            }
        };
        for v in &mut decision.violations {
            if let Some(enforcement) = crate::config::namespace_enforcement(overrides, &v.policy, labels) {
                v.enforcement = enforcement;
            }
        }
    }

    /// Evaluates each applicable policy on its own and times it; for metrics, not decisions.
    pub fn time_policies(&mut self, review: &dyn Subject) -> Vec<PolicyTiming> {
        let inner = Arc::clone(&self.bundle.inner);
        let members = self.bundle.applicable(review.group(), review.kind());
        let partition = inner.routes(review.group(), review.kind()).and_then(|r| r.first()).map(|r| r.partition);
        let Ok(engine) = self.engine(partition) else { return Vec::new() };
        engine.set_input(review.input());
        members
            .into_iter()
            .map(|i| {
                let policy = &inner.policies[i];
                let started = std::time::Instant::now();
                let result = engine.eval_rule(policy.rule.clone());
                let elapsed = started.elapsed();
                let violations = match &result {
                    Ok(v) => v.as_set().map_or(0, |s| s.len()),
                    Err(_) => 0,
                };
                PolicyTiming { policy: policy.metadata.id.clone(), elapsed, violations, failed: result.is_err() }
            })
            .collect()
    }

    /// Evaluates the validating policies that target one resource of a Terraform plan.
    pub fn evaluate_resource(&mut self, resource: &crate::terraform::Resource) -> Decision {
        self.evaluate_routed(resource, Some(Mode::Validate), None)
    }

    fn evaluate_routed(&mut self, review: &dyn Subject, mode: Option<Mode>, class: Option<Class>) -> Decision {
        let inner = Arc::clone(&self.bundle.inner);
        if let Some(routes) = inner.routes(review.group(), review.kind()) {
            let mut decision = Decision::default();
            for route in routes.iter().filter(|r| mode.is_none_or(|m| m == r.mode) && r.class == class) {
                let part = self.evaluate_route(review, route);
                decision.merge(part);
            }
            return decision;
        }
        let members: Vec<usize> = self
            .bundle
            .applicable(review.group(), review.kind())
            .into_iter()
            .filter(|&i| {
                let metadata = &inner.policies[i].metadata;
                mode.is_none_or(|m| metadata.mode == m) && class.is_none_or(|c| Class::of(&metadata.category) == c)
            })
            .collect();
        if members.is_empty() {
            return Decision::default();
        }
        self.evaluate_each(review, &members, None)
    }

    fn evaluate_route(&mut self, review: &dyn Subject, route: &crate::bundle::Route) -> Decision {
        let input = match &route.parameters {
            Some(parameters) => review.input_with(parameters),
            None => review.input(),
        };
        let engine = &mut self.partitions[route.partition];
        engine.set_input(input);
        match engine.eval_rule(route.rule.clone()) {
            Ok(result) => {
                let mut decision = Decision { evaluated: route.policies.len(), ..Decision::default() };
                self.collect(&result, review, &mut decision);
                decision
            }
            // Out of time: no time is left to evaluate the policies one by one.
            Err(e) if e.to_string().contains("exceeded time limit") => Decision {
                evaluated: route.policies.len(),
                errors: vec![EvaluationError { policy: None, message: "evaluation exceeded its time limit".into() }],
                ..Decision::default()
            },
            // Find out which policy failed; the others still count.
            Err(_) => self.evaluate_each(review, &route.policies, Some(route.partition)),
        }
    }

    /// Evaluates only the given policies (by index in [`Bundle::policies`]), each on its own,
    /// whether or not they are enabled or target the review's kind.
    pub fn evaluate_policies(&mut self, review: &dyn Subject, policies: &[usize]) -> Decision {
        self.evaluate_each(review, policies, None)
    }

    /// Evaluates each of `members` on its own, in a partition that holds them all or the whole
    /// bundle's engine.
    fn evaluate_each(&mut self, review: &dyn Subject, members: &[usize], partition: Option<usize>) -> Decision {
        let mut decision = Decision { evaluated: members.len(), ..Decision::default() };
        let inner = Arc::clone(&self.bundle.inner);
        let engine = match self.engine(partition) {
            Ok(engine) => engine,
            Err(e) => {
                decision.errors.push(e);
                return decision;
            }
        };
        engine.set_input(review.input());
        let mut results = Vec::with_capacity(members.len());
        for &i in members {
            results.push((i, engine.eval_rule(inner.policies[i].rule.clone())));
        }
        for (i, result) in results {
            match result {
                Ok(result) => self.collect(&result, review, &mut decision),
                Err(e) => decision.errors.push(EvaluationError {
                    policy: Some(self.bundle.inner.policies[i].metadata.id.clone()),
                    message: crate::diagnostic::from_regorus_error(
                        &self.bundle.inner.policies[i].rego_file,
                        &e.to_string(),
                    )
                    .to_string(),
                }),
            }
        }
        decision
    }

    fn collect(&self, result: &regorus::Value, review: &dyn Subject, decision: &mut Decision) {
        let policies = &self.bundle.inner.policies;
        let Ok(entries) = result.as_set() else {
            if *result != regorus::Value::Undefined {
                decision.errors.push(EvaluationError { policy: None, message: format!("unexpected result {result}") });
            }
            return;
        };
        for entry in entries.iter() {
            let (Ok(index), item) = (entry[0].as_u64(), &entry[1]) else {
                continue;
            };
            let Some(policy) = usize::try_from(index).ok().and_then(|i| policies.get(i)) else {
                continue;
            };
            let item: Value = serde_json::to_value(item).unwrap_or(Value::Null);
            let id = policy.metadata.id.clone();
            let outcome = match policy.metadata.mode {
                Mode::Validate => read_violation(item).map(|(message, path, details)| {
                    decision.violations.push(Violation {
                        policy: id.clone(),
                        severity: policy.metadata.severity,
                        enforcement: policy.enforcement,
                        message,
                        path,
                        details,
                    });
                }),
                Mode::Mutate => check_patch(&item, review).map(|()| {
                    decision.patches.push(PatchOperation { policy: id.clone(), operation: item });
                }),
            };
            if let Err(message) = outcome {
                decision.errors.push(EvaluationError { policy: Some(id), message });
            }
        }
    }
}

/// A clone of a prepared engine with the inventory added, prepared again now rather than on
/// the first request.
fn with_inventory(engine: &regorus::Engine, inventory: &regorus::Value) -> Result<regorus::Engine, EvaluationError> {
    let mut engine = engine.clone();
    engine
        .add_data(inventory.clone())
        .map_err(|e| EvaluationError { policy: None, message: format!("inventory: {e}") })?;
    engine.set_input(regorus::Value::new_object());
    engine
        .eval_rule(format!("data.{}.ready", crate::bundle::GENERATED_PACKAGE))
        .map_err(|e| EvaluationError { policy: None, message: e.to_string() })?;
    Ok(engine)
}

/// A partition's engine for an evaluator: with the inventory when its policies read it, else
/// the bundle's prepared engine as it is (adding data would mean preparing it again).
fn prepare(
    partition: &crate::bundle::Partition,
    inventory: &regorus::Value,
) -> Result<regorus::Engine, EvaluationError> {
    if partition.reads_inventory { with_inventory(&partition.engine, inventory) } else { Ok(partition.engine.clone()) }
}

/// Bounds an engine's evaluations by wall-clock time. regorus reads the clock every so many
/// steps: every step cost 6% of the webhook's CPU in clock reads; every 64th (a few
/// microseconds apart) overruns a limit by that much at most.
pub(crate) fn set_time_limit(engine: &mut regorus::Engine, limit: Duration) {
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit,
        check_interval: std::num::NonZeroU32::new(64).unwrap_or(std::num::NonZeroU32::MIN),
    });
}

type ViolationParts = (String, String, Option<Value>);

fn read_violation(item: Value) -> Result<ViolationParts, String> {
    let Value::Object(mut map) = item else {
        return Err(format!("a violation must be an object with a msg, got {item}"));
    };
    let message = match map.remove("msg") {
        Some(Value::String(s)) => s,
        other => {
            return Err(format!("a violation needs a string msg, got {}", other.unwrap_or(Value::Null)));
        }
    };
    let path = match map.remove("path") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(p)) if p.is_empty() || p.starts_with('/') => p,
        Some(other) => {
            return Err(format!("a violation's path must be a JSON pointer, got {other}"));
        }
    };
    Ok((message, path, map.remove("details")))
}

/// A mutating policy may only add what is absent: it never touches a value the user set, but
/// to pin an image reference to a digest (`app:1.4` to `app:1.4@sha256:…`), which names the
/// same image as when it was checked.
fn check_patch(op: &Value, review: &dyn Subject) -> Result<(), String> {
    let existing = op.get("path").and_then(Value::as_str).and_then(|p| review.field(p));
    let existing = existing.and_then(|v| serde_json::to_value(v).ok());
    check_patch_against(op, existing.as_ref())
}

/// Whether `value` is `existing`, a reference without a digest, pinned to a sha256 digest.
fn pins_a_digest(existing: Option<&Value>, value: Option<&Value>) -> bool {
    let (Some(Value::String(existing)), Some(Value::String(value))) = (existing, value) else { return false };
    let Some(digest) = value.strip_prefix(existing.as_str()).and_then(|rest| rest.strip_prefix("@sha256:")) else {
        return false;
    };
    !existing.contains('@')
        && digest.len() == 64
        && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_patch_against(op: &Value, existing: Option<&Value>) -> Result<(), String> {
    let kind = op.get("op").and_then(Value::as_str);
    let path = op.get("path").and_then(Value::as_str);
    if kind == Some("replace") && path.is_some_and(|p| p.ends_with("/image")) {
        return if pins_a_digest(existing, op.get("value")) {
            Ok(())
        } else {
            Err(format!("a replace may only pin an image reference to a sha256 digest, got {op}"))
        };
    }
    let (Some("add"), Some(path)) = (kind, path) else {
        return Err(format!(
            "a mutating policy may only emit add operations with a path (or pin an image to a digest), got {op}"
        ));
    };
    if op.get("value").is_none() {
        return Err(format!("an add operation needs a value: {op}"));
    }
    if !path.starts_with('/') {
        return Err(format!("patch path {path:?} is not a JSON pointer"));
    }
    // An explicit null is unset, as the API server reads it.
    if let Some(existing) = existing.filter(|v| !v.is_null())
        && !path.ends_with("/-")
    {
        return Err(format!("patch would overwrite {path} = {existing}, a value the user set"));
    }
    Ok(())
}

/// Judges `items` on `threads` threads, each with its own clone of the prepared evaluator; the
/// decisions come back in the items' order. The scanner and the audit judge their sets so.
pub fn evaluate_in_parallel<T: Sync>(
    evaluator: &Evaluator,
    reviews: &[T],
    threads: usize,
    judge: impl Fn(&mut Evaluator, &T) -> Decision + Sync,
) -> Vec<Decision> {
    let chunk = reviews.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = reviews
            .chunks(chunk)
            .map(|part| {
                let mut evaluator = evaluator.clone();
                let judge = &judge;
                (part.len(), scope.spawn(move || part.iter().map(|r| judge(&mut evaluator, r)).collect::<Vec<_>>()))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(len, handle)| {
                // A panic is a bug; every review of the chunk is then an error, never a pass.
                handle.join().unwrap_or_else(|_| {
                    let error = EvaluationError { policy: None, message: "the evaluation panicked".into() };
                    vec![Decision { errors: vec![error], ..Decision::default() }; len]
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn violations_need_a_message_and_a_pointer() {
        assert!(read_violation(json!({"msg": "m", "path": "/spec"})).is_ok());
        assert!(read_violation(json!({"msg": "m"})).is_ok());
        assert!(read_violation(json!({"path": "/spec"})).expect_err("no msg").contains("string msg"));
        assert!(read_violation(json!({"msg": "m", "path": "spec"})).expect_err("bad").contains("JSON pointer"));
        assert!(read_violation(json!("m")).is_err());
    }

    #[test]
    fn patches_only_add_what_is_absent() {
        let review = |object: Value| {
            let mut o = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
            o["spec"] = object;
            Review::from_object(o, "default").expect("object")
        };
        let set = review(json!({"a": 1}));
        assert!(check_patch(&json!({"op": "add", "path": "/spec/b", "value": 2}), &set).is_ok());
        assert!(check_patch(&json!({"op": "add", "path": "/spec/a", "value": 2}), &set).is_err());
        assert!(check_patch(&json!({"op": "replace", "path": "/spec/b", "value": 2}), &set).is_err());
        let with_null = review(json!({"a": null}));
        assert!(check_patch(&json!({"op": "add", "path": "/spec/a", "value": 2}), &with_null).is_ok());
        // The one replace: an image reference pinned to a sha256 digest, the rest kept.
        let pod = review(json!({"containers": [{"name": "c", "image": "r/app:1.4"}]}));
        let pin = |value: String| json!({"op": "replace", "path": "/spec/containers/0/image", "value": value});
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert!(check_patch(&pin(format!("r/app:1.4@sha256:{hex}")), &pod).is_ok());
        for other in [format!("r/app:1.5@sha256:{hex}"), format!("r/app:1.4@sha256:{}", &hex[1..]), "evil/app:1".into()]
        {
            assert!(check_patch(&pin(other.clone()), &pod).is_err(), "{other}");
        }
        let pinned = review(json!({"containers": [{"name": "c", "image": format!("r/app@sha256:{hex}")}]}));
        assert!(check_patch(&pin(format!("r/app@sha256:{hex}@sha256:{hex}")), &pinned).is_err());
    }

    #[test]
    fn the_merged_patch_puts_parents_first_and_keeps_one_op_per_path() {
        let op = |path: &str, v: i32| PatchOperation {
            policy: "p".into(),
            operation: json!({"op": "add", "path": path, "value": v}),
        };
        let d = Decision { patches: vec![op("/a/b", 1), op("/a", 2), op("/a/b", 3)], ..Decision::default() };
        assert_eq!(
            d.json_patch(),
            vec![json!({"op": "add", "path": "/a", "value": 2}), json!({"op": "add", "path": "/a/b", "value": 1})]
        );
    }
}
