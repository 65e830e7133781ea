//! The cluster inventory: the kinds the policies declare under `inventory:` (and Namespaces,
//! for the configuration's namespace overrides), listed and watched through kube reflectors
//! with read-only access, and handed to the reloader as snapshots.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use gatehouse_engine::{Bundle, Inventory};
use kube::api::{Api, DynamicObject};
use kube::discovery::{ApiResource, Discovery, verbs};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};

use crate::generation::{InventorySource, InventoryState};
use crate::lock;

/// A kind to watch: its API group ("" for the core group) and kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WatchedKind {
    pub group: String,
    pub kind: String,
}

impl std::fmt::Display for WatchedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() { write!(f, "{}", self.kind) } else { write!(f, "{}.{}", self.kind, self.group) }
    }
}

/// The kinds a bundle needs in its inventory: every enabled policy's `inventory:` entries, and
/// Namespaces when the configuration overrides enforcement by namespace label.
pub fn kinds_needed(bundle: &Bundle) -> BTreeSet<WatchedKind> {
    let mut kinds = BTreeSet::new();
    for policy in bundle.inventory_policies() {
        for target in &policy.metadata.inventory {
            for group in &target.api_groups {
                for kind in &target.kinds {
                    kinds.insert(WatchedKind { group: group.clone(), kind: kind.clone() });
                }
            }
        }
    }
    if !bundle.namespace_overrides().is_empty() {
        kinds.insert(WatchedKind { group: String::new(), kind: "Namespace".into() });
    }
    kinds
}

/// The enabled policies that read an inventory, by id: what `--no-cluster` evaluates without one.
pub fn policies_reading_inventory(bundle: &Bundle) -> Vec<String> {
    bundle.inventory_policies().map(|p| p.metadata.id.clone()).collect()
}

#[derive(Debug)]
struct Watched {
    resource: ApiResource,
    store: Store<DynamicObject>,
    health: Arc<Mutex<Health>>,
}

/// Whether a kind's store holds what the cluster holds.
#[derive(Debug, Clone)]
enum Health {
    /// The first list has not completed; the error of the last attempt, if one failed.
    FirstList(Option<String>),
    /// Listed, and every watch event since applied.
    Current,
    /// The watch failed at `since`: events may have been missed, so the kind is listed again
    /// (after a backoff) and the store is stale until that list completes.
    Failed { since: Instant, error: String, attempts: u32 },
}

/// The reflectors' stores, and a revision that grows with every event they apply.
#[derive(Debug, Clone)]
pub struct ClusterInventory {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    runtime: tokio::runtime::Handle,
    watched: Mutex<Vec<Watched>>,
    missing: Mutex<Vec<WatchedKind>>,
    /// Kinds being looked up in discovery, not yet watched.
    resolving: Mutex<BTreeSet<WatchedKind>>,
    revision: Arc<AtomicU64>,
}

/// What stops the inventory from starting.
#[derive(Debug)]
pub struct ClusterError(pub String);

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClusterError {}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterInventory").field("watched", &lock(&self.watched).len()).finish_non_exhaustive()
    }
}

/// A watched kind as /readyz and the logs name it: `PodDisruptionBudget (policy/v1)`.
fn describe(resource: &ApiResource) -> String {
    format!("{} ({})", resource.kind, resource.api_version)
}

impl ClusterInventory {
    /// Resolves the kinds through API discovery (the preferred version of each group) and starts
    /// one watch per kind on the current runtime. A kind the cluster does not serve (a CRD that
    /// is not installed) is reported and skipped.
    pub async fn start(client: Client, kinds: &BTreeSet<WatchedKind>) -> Result<ClusterInventory, ClusterError> {
        let inventory = ClusterInventory {
            inner: Arc::new(Inner {
                client,
                runtime: tokio::runtime::Handle::current(),
                watched: Mutex::new(Vec::new()),
                missing: Mutex::new(Vec::new()),
                resolving: Mutex::new(BTreeSet::new()),
                revision: Arc::new(AtomicU64::new(1)),
            }),
        };
        inventory.inner.add(kinds.clone()).await?;
        Ok(inventory)
    }

    /// The kinds waiting for their first list, and those whose watch failed (described with
    /// how long ago and why).
    fn gaps(&self) -> (Vec<String>, Vec<String>) {
        let (mut pending, mut failed) = (Vec::new(), Vec::new());
        for w in lock(&self.inner.watched).iter() {
            match &*lock(&w.health) {
                Health::Current => {}
                Health::FirstList(None) => pending.push(describe(&w.resource)),
                Health::FirstList(Some(error)) => {
                    pending.push(format!("{} (the last attempt failed: {error})", describe(&w.resource)))
                }
                Health::Failed { since, error, attempts } => failed.push(format!(
                    "{}: the watch failed {:.1} s ago ({error}); listing again, attempt {attempts}",
                    describe(&w.resource),
                    since.elapsed().as_secs_f64()
                )),
            }
        }
        pending.extend(lock(&self.inner.resolving).iter().map(ToString::to_string));
        (pending, failed)
    }
}

impl Inner {
    fn known(&self, kind: &WatchedKind) -> bool {
        lock(&self.watched).iter().any(|w| w.resource.group == kind.group && w.resource.kind == kind.kind)
            || lock(&self.missing).contains(kind)
    }

    async fn add(&self, kinds: BTreeSet<WatchedKind>) -> Result<(), ClusterError> {
        let result = self.discover_and_watch(&kinds).await;
        let mut resolving = lock(&self.resolving);
        for kind in &kinds {
            resolving.remove(kind);
        }
        result
    }

    async fn discover_and_watch(&self, kinds: &BTreeSet<WatchedKind>) -> Result<(), ClusterError> {
        let groups: BTreeSet<&str> = kinds.iter().map(|k| k.group.as_str()).collect();
        let groups: Vec<&str> = groups.into_iter().collect();
        let discovery = Discovery::new(self.client.clone())
            .filter(&groups)
            .run()
            .await
            .map_err(|e| ClusterError(format!("API discovery failed: {e}")))?;
        for wanted in kinds.iter().filter(|k| !self.known(k)) {
            let found = discovery.get(&wanted.group).and_then(|g| g.recommended_kind(&wanted.kind));
            let Some((resource, capabilities)) = found else {
                tracing::warn!(kind = %wanted, "the cluster does not serve this kind; policies reading it see none");
                lock(&self.missing).push(wanted.clone());
                continue;
            };
            if !capabilities.supports_operation(verbs::LIST) || !capabilities.supports_operation(verbs::WATCH) {
                tracing::warn!(kind = %wanted, "the cluster does not list and watch this kind; policies reading it see none");
                lock(&self.missing).push(wanted.clone());
                continue;
            }
            let watched = watch(self.client.clone(), resource, Arc::clone(&self.revision));
            lock(&self.watched).push(watched);
        }
        Ok(())
    }
}

/// Starts the reflector of one kind. Managed fields are dropped before objects are stored:
/// they are most of an object's size and no policy reads them.
///
/// A watch error (the API server unreachable, a `410 Gone`, a stream cut) may mean missed
/// events, and a resumed watch does not say when it has caught up. So the kind is marked stale
/// at once and listed again from scratch after [`relist_delay`]; the store keeps its objects
/// until the new list is complete and swaps them in whole. (A watch the server merely ends at
/// its timeout is resumed by kube from its resourceVersion, with no error and no list.)
fn watch(client: Client, resource: ApiResource, revision: Arc<AtomicU64>) -> Watched {
    let mut writer = reflector::store::Writer::<DynamicObject>::new(resource.clone());
    let store = writer.as_reader();
    let health = Arc::new(Mutex::new(Health::FirstList(None)));
    let api: Api<DynamicObject> = Api::all_with(client, &resource);
    let kind = describe(&resource);
    let shared = Arc::clone(&health);
    tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            let stream = watcher(api.clone(), watcher::Config::default().any_semantic())
                .modify(|object| object.managed_fields_mut().clear());
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                let event = match event {
                    Ok(event) => event,
                    Err(e) => {
                        let mut health = lock(&shared);
                        failures += 1;
                        *health = match &*health {
                            Health::FirstList(_) => {
                                tracing::warn!(kind = %kind, error = %e, "inventory list failed; retrying");
                                Health::FirstList(Some(e.to_string()))
                            }
                            Health::Current => {
                                tracing::warn!(kind = %kind, error = %e, "inventory watch failed; the kind is stale until it is listed again");
                                Health::Failed { since: Instant::now(), error: e.to_string(), attempts: 1 }
                            }
                            Health::Failed { since, attempts, .. } => {
                                tracing::warn!(kind = %kind, error = %e, attempts = attempts + 1, "inventory list failed again; the kind stays stale");
                                Health::Failed { since: *since, error: e.to_string(), attempts: attempts + 1 }
                            }
                        };
                        break;
                    }
                };
                writer.apply_watcher_event(&event);
                match event {
                    watcher::Event::InitDone => {
                        // The revision first: a reloader that sees the kind current also sees
                        // that the store changed, and builds a generation from it before it
                        // reports the inventory current.
                        revision.fetch_add(1, Ordering::AcqRel);
                        let was = std::mem::replace(&mut *lock(&shared), Health::Current);
                        failures = 0;
                        match was {
                            Health::Failed { since, .. } => tracing::info!(
                                kind = %kind,
                                stale_seconds = since.elapsed().as_secs_f64(),
                                "inventory listed again after a watch failure; current"
                            ),
                            _ => tracing::info!(kind = %kind, "inventory synced"),
                        }
                    }
                    watcher::Event::Init | watcher::Event::InitApply(_) => {}
                    watcher::Event::Apply(_) | watcher::Event::Delete(_) => {
                        revision.fetch_add(1, Ordering::AcqRel);
                    }
                }
            }
            tokio::time::sleep(relist_delay(failures)).await;
        }
    });
    Watched { resource, store, health }
}

/// The wait before listing a kind again after `failures` failed attempts in a row: 0.5 s
/// doubling to 5 s, and up to a quarter more at random so that replicas do not list in step.
/// client-go waits up to 30 s; a webhook that is not ready holds up admission, and a list the
/// API server refuses costs it little.
fn relist_delay(failures: u32) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let base = (500u64 << failures.saturating_sub(1).min(4)).min(5_000);
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    std::time::Duration::from_millis(base + random % (base / 4 + 1))
}

impl InventorySource for ClusterInventory {
    fn revision(&self) -> u64 {
        self.inner.revision.load(Ordering::Acquire)
    }

    /// Starts watching the kinds a reloaded bundle reads and no watch covers yet; until their
    /// first lists complete the inventory is syncing again.
    fn follow(&self, kinds: &BTreeSet<WatchedKind>) {
        let new: BTreeSet<WatchedKind> = kinds.iter().filter(|k| !self.inner.known(k)).cloned().collect();
        if new.is_empty() {
            return;
        }
        lock(&self.inner.resolving).extend(new.iter().cloned());
        let inner = Arc::clone(&self.inner);
        self.inner.runtime.spawn(async move {
            let names: Vec<String> = new.iter().map(ToString::to_string).collect();
            tracing::info!(kinds = %names.join(", "), "watching the kinds the reloaded bundle reads");
            if let Err(e) = inner.add(new).await {
                tracing::error!(error = %e, "cannot watch the kinds the reloaded bundle reads");
            }
        });
    }

    /// Every stored object, with the apiVersion and kind a list response leaves out.
    fn snapshot(&self) -> Inventory {
        let mut inventory = Inventory::new();
        for w in lock(&self.inner.watched).iter() {
            for object in w.store.state() {
                let Ok(mut value) = serde_json::to_value(object.as_ref()) else { continue };
                value["apiVersion"] = serde_json::Value::String(w.resource.api_version.clone());
                value["kind"] = serde_json::Value::String(w.resource.kind.clone());
                inventory.add(&value, "default");
            }
        }
        inventory
    }

    fn state(&self) -> InventoryState {
        let (pending, failed) = self.gaps();
        if !failed.is_empty() {
            InventoryState::Stale { failed, pending }
        } else if !pending.is_empty() {
            InventoryState::Syncing { pending }
        } else {
            InventoryState::Synced {
                kinds: lock(&self.inner.watched).iter().map(|w| describe(&w.resource)).collect(),
                missing: lock(&self.inner.missing).iter().map(ToString::to_string).collect(),
            }
        }
    }
}

/// The resource name of a kind, as the API server forms it for the built-in kinds
/// (`NetworkPolicy` -> `networkpolicies`).
pub fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y').filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u'])) {
        format!("{stem}ies")
    } else if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") || lower.ends_with("sh") {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

/// One rule of a printed role.
fn rule(group: &str, resources: &[&str], verbs: &[&str]) -> String {
    let quoted = |items: &[&str]| items.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ");
    format!("  - apiGroups: [\"{group}\"]\n    resources: [{}]\n    verbs: [{}]\n", quoted(resources), quoted(verbs))
}

/// A role (`ClusterRole`, or `Role` in `namespace`) with its binding to the webhook's
/// ServiceAccount.
fn role_and_binding(kind: &str, name: &str, rules: &str, namespace: &str) -> String {
    let rules = if rules.is_empty() { "  []\n" } else { rules };
    let scoped = if kind == "Role" { format!("\n  namespace: {namespace}") } else { String::new() };
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: {kind}
metadata:
  name: {name}{scoped}
  labels:
    app.kubernetes.io/name: gatehouse-webhook
rules:
{rules}---
apiVersion: rbac.authorization.k8s.io/v1
kind: {kind}Binding
metadata:
  name: {name}{scoped}
  labels:
    app.kubernetes.io/name: gatehouse-webhook
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: {kind}
  name: {name}
subjects:
  - kind: ServiceAccount
    name: gatehouse-webhook
    namespace: {namespace}
"
    )
}

/// The read-only access the inventory needs: get, list and watch on exactly the watched kinds.
pub fn rbac(kinds: &BTreeSet<WatchedKind>, namespace: &str) -> String {
    let rules: String = kinds.iter().map(|k| rule(&k.group, &[&plural(&k.kind)], &["get", "list", "watch"])).collect();
    role_and_binding("ClusterRole", "gatehouse-webhook-inventory", &rules, namespace)
}

/// The audit's access: `list` on every kind it lists (what the policies target and read),
/// writing its reports, and its Lease in the webhook's namespace.
pub fn audit_rbac(bundle: &Bundle, format: gatehouse_audit::ReportFormat, secrets: bool, namespace: &str) -> String {
    let (kinds, _) = gatehouse_audit::kinds::wanted(bundle, secrets);
    let mut rules: String = kinds.iter().map(|(group, kind, _)| rule(group, &[&plural(kind)], &["list"])).collect();
    let group = format.api_version().split('/').next().unwrap_or_default();
    rules.push_str(&rule(
        group,
        &[format.plural(true), format.plural(false)],
        &["get", "list", "create", "patch", "delete"],
    ));
    let lease = rule("coordination.k8s.io", &["leases"], &["get", "create", "update"]);
    format!(
        "---\n{}---\n{}",
        role_and_binding("ClusterRole", "gatehouse-webhook-audit", &rules, namespace),
        role_and_binding("Role", "gatehouse-webhook-audit-lease", &lease, namespace)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relisting_backs_off_from_half_a_second_to_five_with_jitter() {
        for (failures, low, high) in
            [(1, 500, 625), (2, 1_000, 1_250), (3, 2_000, 2_500), (5, 5_000, 6_250), (40, 5_000, 6_250)]
        {
            let delays: Vec<u128> = (0..50).map(|_| relist_delay(failures).as_millis()).collect();
            assert!(delays.iter().all(|&d| (low..=high).contains(&d)), "{failures}: {delays:?}");
            assert!(delays.iter().any(|&d| d != delays[0]), "jittered: {delays:?}");
        }
    }

    #[test]
    fn built_in_kinds_pluralise_as_the_api_server_does() {
        for (kind, resource) in [
            ("PodDisruptionBudget", "poddisruptionbudgets"),
            ("NetworkPolicy", "networkpolicies"),
            ("HorizontalPodAutoscaler", "horizontalpodautoscalers"),
            ("Namespace", "namespaces"),
            ("Ingress", "ingresses"),
            ("Gateway", "gateways"),
            ("Service", "services"),
        ] {
            assert_eq!(plural(kind), resource);
        }
    }
}
