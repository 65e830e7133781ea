//! The policies in force: a generation (bundle, configuration and inventory compiled into one
//! evaluator) that requests read and the reloader replaces atomically. A bundle that fails to
//! load is reported and the last good generation stays in force.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use gatehouse_engine::{Bundle, Evaluator, Inventory};

/// One compiled state of the policies, never changed once built.
#[derive(Debug)]
pub struct Generation {
    /// 1 for the bundle loaded at start, then one more per successful reload.
    pub number: u64,
    pub evaluator: Evaluator,
    /// The inventory revision it was built with (0: none).
    pub inventory_revision: u64,
    pub inventory_objects: usize,
    /// The configuration's signature rules, keys parsed.
    pub signatures: Arc<gatehouse_signatures::rules::SignatureRules>,
    /// Prepared copies of the evaluator, reused from one request to the next.
    idle: Mutex<Vec<Evaluator>>,
}

impl Generation {
    /// An evaluator of this generation for one request: an idle one, or a new copy.
    pub fn checkout(&self) -> Evaluator {
        let idle = crate::lock(&self.idle).pop();
        idle.unwrap_or_else(|| self.evaluator.clone())
    }

    /// Gives an evaluator back for the next request; at most `MAX_IDLE` are kept.
    pub fn checkin(&self, evaluator: Evaluator) {
        let mut idle = crate::lock(&self.idle);
        if idle.len() < MAX_IDLE {
            idle.push(evaluator);
        }
    }
}

const MAX_IDLE: usize = 64;

/// Where the cluster inventory stands, for /readyz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryState {
    /// `--no-cluster`: these policies read an inventory and are evaluated without one.
    Off {
        without: Vec<String>,
    },
    /// Watches started; the first lists have not all completed.
    Syncing {
        pending: Vec<String>,
    },
    Synced {
        kinds: Vec<String>,
        missing: Vec<String>,
    },
    /// A watch failed: those kinds are being listed again, and until they are the inventory may
    /// miss changes (`pending` still wait for their first list).
    Stale {
        failed: Vec<String>,
        pending: Vec<String>,
    },
}

impl InventoryState {
    /// Whether the inventory is what the cluster holds (or there is none to hold).
    pub fn current(&self) -> bool {
        matches!(self, InventoryState::Off { .. } | InventoryState::Synced { .. })
    }

    /// Why reviews that read the inventory are not judged from it, when they are not.
    pub fn gap(&self) -> Option<String> {
        match self {
            InventoryState::Off { .. } | InventoryState::Synced { .. } => None,
            InventoryState::Syncing { pending } => {
                Some(format!("the cluster inventory waits for the first list of {}", pending.join(", ")))
            }
            InventoryState::Stale { failed, .. } => {
                Some(format!("the cluster inventory is stale: {}", failed.join("; ")))
            }
        }
    }
}

/// The outcome of the last reload attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadFailure {
    pub at: SystemTime,
    pub message: String,
}

/// The current generation and what /readyz and /metrics say about it.
#[derive(Debug)]
pub struct Live {
    current: RwLock<Arc<Generation>>,
    status: Mutex<Status>,
    /// Whether the inventory in force is current: read on every review, so kept apart.
    inventory_current: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Clone)]
struct Status {
    bundle_dir: PathBuf,
    inventory: InventoryState,
    last_failure: Option<ReloadFailure>,
    reloads: u64,
    reload_failures: u64,
}

/// What /readyz shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub ready: bool,
    pub detail: Vec<String>,
}

/// Counters for /metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadCounters {
    pub generation: u64,
    pub policies: usize,
    pub reloads: u64,
    pub reload_failures: u64,
    pub failing: bool,
    pub inventory_synced: bool,
    pub inventory_objects: usize,
}

impl Live {
    pub fn new(first: Generation, bundle_dir: &Path, inventory: InventoryState) -> Live {
        Live {
            current: RwLock::new(Arc::new(first)),
            inventory_current: std::sync::atomic::AtomicBool::new(inventory.current()),
            status: Mutex::new(Status {
                bundle_dir: bundle_dir.to_path_buf(),
                inventory,
                last_failure: None,
                reloads: 0,
                reload_failures: 0,
            }),
        }
    }

    /// The generation in force; a request keeps it for its whole evaluation.
    pub fn current(&self) -> Arc<Generation> {
        Arc::clone(&self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        crate::lock(&self.status)
    }

    /// Puts a new generation in force; requests already running finish on the old one.
    pub fn swap(&self, next: Generation, reloaded: bool) {
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
        if reloaded {
            let mut status = self.status();
            status.reloads += 1;
            status.last_failure = None;
        }
    }

    pub fn reload_failed(&self, message: String) {
        let mut status = self.status();
        status.reload_failures += 1;
        status.last_failure = Some(ReloadFailure { at: SystemTime::now(), message });
    }

    pub fn set_inventory(&self, state: InventoryState) {
        let mut status = self.status();
        self.inventory_current.store(state.current(), std::sync::atomic::Ordering::Release);
        status.inventory = state;
    }

    /// Why reviews that read the inventory must not be judged from the generation in force: it
    /// waits for its first lists, or a watch failed and the kind is being listed again.
    pub fn inventory_gap(&self) -> Option<String> {
        if self.inventory_current.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        self.status().inventory.gap()
    }

    pub fn last_failure(&self) -> Option<ReloadFailure> {
        self.status().last_failure.clone()
    }

    /// Ready once a bundle is in force and, with cluster access, the inventory has synced. A
    /// failed reload does not make it unready: the last good generation still answers.
    pub fn readiness(&self) -> Readiness {
        let generation = self.current();
        let status = self.status().clone();
        let policies = generation.evaluator.bundle().enabled_policies().count();
        let mut detail = vec![format!(
            "bundle: generation {} in force, {policies} policies from {}",
            generation.number,
            status.bundle_dir.display()
        )];
        if let Some(failure) = &status.last_failure {
            let ago = failure.at.elapsed().map(|d| d.as_secs()).unwrap_or(0);
            detail.push(format!(
                "bundle: the last reload failed {ago}s ago; generation {} stays in force: {}",
                generation.number,
                failure.message.replace('\n', "; ")
            ));
        }
        let ready = match &status.inventory {
            InventoryState::Off { without } if without.is_empty() => {
                detail.push("inventory: off (--no-cluster); no policy reads one".into());
                true
            }
            InventoryState::Off { without } => {
                detail.push(format!(
                    "inventory: off (--no-cluster); evaluated without inventory: {}",
                    without.join(", ")
                ));
                true
            }
            InventoryState::Syncing { pending } => {
                detail.push(format!("inventory: waiting for the first list of {}", pending.join(", ")));
                false
            }
            InventoryState::Stale { failed, pending } => {
                for kind in failed {
                    detail.push(format!("inventory: stale, not judged from: {kind}"));
                }
                if !pending.is_empty() {
                    detail.push(format!("inventory: waiting for the first list of {}", pending.join(", ")));
                }
                false
            }
            InventoryState::Synced { kinds, missing } => {
                detail.push(format!(
                    "inventory: synced, {} objects of {}",
                    generation.inventory_objects,
                    if kinds.is_empty() { "no kind".to_string() } else { kinds.join(", ") }
                ));
                if !missing.is_empty() {
                    detail.push(format!("inventory: not served by this cluster: {}", missing.join(", ")));
                }
                true
            }
        };
        Readiness { ready, detail }
    }

    pub fn counters(&self) -> ReloadCounters {
        let generation = self.current();
        let status = self.status();
        ReloadCounters {
            generation: generation.number,
            policies: generation.evaluator.bundle().enabled_policies().count(),
            reloads: status.reloads,
            reload_failures: status.reload_failures,
            failing: status.last_failure.is_some(),
            inventory_synced: status.inventory.current(),
            inventory_objects: generation.inventory_objects,
        }
    }
}

/// The bundle directory and configuration file as they are on disk, and the bundle last loaded
/// from them.
#[derive(Debug)]
pub struct BundleSource {
    pub dir: PathBuf,
    pub config: Option<PathBuf>,
    /// Of the files last loaded.
    fingerprint: u64,
    /// Of the files at the last look, to load only what has stopped changing.
    seen: u64,
}

/// Why a bundle could not be loaded, as the operator should read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

impl BundleSource {
    pub fn new(dir: &Path, config: Option<&Path>) -> BundleSource {
        let mut source =
            BundleSource { dir: dir.to_path_buf(), config: config.map(Path::to_path_buf), fingerprint: 0, seen: 0 };
        source.fingerprint = source.current_fingerprint();
        source.seen = source.fingerprint;
        source
    }

    /// A hash of every file's path and content under the bundle directory (following the
    /// symbolic links a mounted ConfigMap is made of) and of the configuration file.
    fn current_fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let mut files: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
        for entry in walkdir::WalkDir::new(&self.dir).follow_links(true).into_iter().flatten() {
            if entry.file_type().is_file() {
                files.insert(entry.path().to_path_buf(), std::fs::read(entry.path()).unwrap_or_default());
            }
        }
        if let Some(config) = &self.config {
            files.insert(config.clone(), std::fs::read(config).unwrap_or_default());
        }
        files.hash(&mut hasher);
        hasher.finish()
    }

    /// True when the files differ from those last loaded and have not changed since the
    /// previous look: a directory still being written (several files, or one file in parts)
    /// is loaded once it has settled.
    pub fn changed(&mut self) -> bool {
        let now = self.current_fingerprint();
        let settled = now == self.seen;
        self.seen = now;
        if settled && now != self.fingerprint {
            self.fingerprint = now;
            return true;
        }
        false
    }

    /// Loads and compiles the configuration and bundle as they are now.
    pub fn load(&mut self) -> Result<Bundle, LoadError> {
        self.fingerprint = self.current_fingerprint();
        self.seen = self.fingerprint;
        Bundle::load_configured(&self.dir, self.config.as_deref()).map_err(|e| LoadError(e.to_string()))
    }
}

/// Builds a generation from a bundle and an inventory.
pub fn build(number: u64, bundle: &Bundle, inventory: &Inventory, revision: u64) -> Result<Generation, LoadError> {
    let evaluator = Evaluator::new(bundle, inventory).map_err(|e| LoadError(e.to_string()))?;
    let signatures = gatehouse_signatures::rules::SignatureRules::of(bundle).map_err(LoadError)?;
    Ok(Generation {
        number,
        evaluator,
        signatures: Arc::new(signatures),
        inventory_revision: revision,
        inventory_objects: inventory.len(),
        idle: Mutex::new(Vec::new()),
    })
}

/// Objects of other kinds that cross-resource policies read, kept current elsewhere (the
/// cluster's watches) and read by the reloader.
pub trait InventorySource: Send + Sync + std::fmt::Debug {
    /// Grows with every change of the objects.
    fn revision(&self) -> u64;
    fn snapshot(&self) -> Inventory;
    fn state(&self) -> InventoryState;
    /// Keeps these kinds too, from now on (the kinds a reloaded bundle reads).
    fn follow(&self, kinds: &std::collections::BTreeSet<crate::cluster::WatchedKind>);
}

/// Watches the bundle and the inventory and puts a new generation in force when either changes.
#[derive(Debug)]
pub struct Reloader {
    source: BundleSource,
    bundle: Bundle,
    inventory: Option<Arc<dyn InventorySource>>,
    live: Arc<Live>,
}

/// What one look at the sources did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tick {
    Unchanged,
    Reloaded { generation: u64 },
    InventoryRefreshed { revision: u64, objects: usize },
    Failed(String),
}

impl Reloader {
    pub fn new(
        source: BundleSource,
        bundle: Bundle,
        inventory: Option<Arc<dyn InventorySource>>,
        live: Arc<Live>,
    ) -> Reloader {
        Reloader { source, bundle, inventory, live }
    }

    /// Looks at the bundle and the inventory.
    pub fn tick(&mut self) -> Tick {
        self.tick_with(true)
    }

    /// Looks at the inventory, and at the bundle when `check_bundle`: fingerprinting the bundle
    /// reads every file, so it is done less often than the inventory is folded in.
    pub fn tick_with(&mut self, check_bundle: bool) -> Tick {
        let current = self.live.current();
        let mut bundle_changed = false;
        if check_bundle && self.source.changed() {
            match self.source.load() {
                Ok(bundle) => {
                    if let Some(source) = &self.inventory {
                        source.follow(&crate::cluster::kinds_needed(&bundle));
                    }
                    self.bundle = bundle;
                    bundle_changed = true;
                }
                Err(e) => {
                    tracing::error!(error = %e.0, generation = current.number, "policy bundle reload failed; the last good generation stays in force");
                    self.live.reload_failed(e.0.clone());
                    return Tick::Failed(e.0);
                }
            }
        }
        let (inventory, revision, state) = match &self.inventory {
            Some(source) => {
                let state = source.state();
                let revision = source.revision();
                if !bundle_changed && revision == current.inventory_revision {
                    self.live.set_inventory(state);
                    return Tick::Unchanged;
                }
                (source.snapshot(), revision, Some(state))
            }
            None if bundle_changed => (Inventory::new(), 0, None),
            None => return Tick::Unchanged,
        };
        let number = if bundle_changed { current.number + 1 } else { current.number };
        let tick = match build(number, &self.bundle, &inventory, revision) {
            Ok(generation) => {
                let objects = generation.inventory_objects;
                self.live.swap(generation, bundle_changed);
                if bundle_changed {
                    let policies = self.bundle.enabled_policies().count();
                    tracing::info!(generation = number, policies, "policy bundle reloaded");
                    Tick::Reloaded { generation: number }
                } else {
                    Tick::InventoryRefreshed { revision, objects }
                }
            }
            Err(e) => {
                tracing::error!(error = %e.0, "the new generation does not build; the last good one stays in force");
                self.live.reload_failed(e.0.clone());
                Tick::Failed(e.0)
            }
        };
        // Readiness follows the generation in force: a synced inventory counts once it is in.
        if let Some(state) = state {
            self.live.set_inventory(state);
        }
        tick
    }

    /// On a thread of its own until `stop` is set: folds inventory changes in within
    /// [`INVENTORY_INTERVAL`] (objects applied together with the workload that needs them, such
    /// as a PodDisruptionBudget, are then seen quickly) and looks at the bundle every `interval`.
    pub fn spawn(
        mut self,
        interval: std::time::Duration,
        stop: Arc<std::sync::atomic::AtomicBool>,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new().name("gatehouse-reloader".into()).spawn(move || {
            let step = interval.min(INVENTORY_INTERVAL);
            let mut last_bundle_check = std::time::Instant::now();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(step);
                let check_bundle = last_bundle_check.elapsed() >= interval;
                if check_bundle {
                    last_bundle_check = std::time::Instant::now();
                }
                self.tick_with(check_bundle);
            }
        })
    }
}

/// The longest an inventory change waits before it is in force.
pub const INVENTORY_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
