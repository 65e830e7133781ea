//! The cluster audit: what already runs, judged by the current bundle.
//!
//! The webhook's elected replica and `policy-scan audit` share every step: [`kinds`] says what to
//! list, [`listing`] lists it page by page, [`evaluate`] judges it with the engine exactly as
//! admission does (the same waivers, the same namespace overrides), and [`reports`] turns the
//! results into OpenReports (or wgpolicyk8s.io) objects bounded in size, which [`publish`]
//! applies. [`lease`] elects the one replica that audits.

pub mod evaluate;
#[cfg(feature = "fake-apiserver")]
pub mod fake_apiserver;
pub mod kinds;
pub mod lease;
pub mod listing;
pub mod publish;
pub mod reports;

pub use evaluate::{Audit, AuditOptions, AuditResult, Outcome, Subject};
pub use kinds::{AuditKind, resolve_kinds};
pub use listing::{ListError, ListOptions, Listed};
pub use reports::{ReportFormat, ReportLimits};

use gatehouse_engine::Bundle;
use kube::Client;
use kube::api::{Api, DynamicObject};

/// One audit of a cluster: the evaluation, and what the listing saw.
#[derive(Debug)]
pub struct ClusterAudit {
    pub audit: Audit,
    /// The kinds listed, as `Deployment (apps/v1)`.
    pub kinds: Vec<String>,
    /// Kinds the policies name that the cluster does not serve (a CRD not installed).
    pub not_served: Vec<String>,
    /// Policies targeting `"*"`: the audit lists no kind for them alone.
    pub wildcard_policies: Vec<String>,
    pub pages: usize,
    pub retries: usize,
    pub restarts: usize,
    /// Every object listed, `managedFields` dropped (`policy-scan audit --snapshot` writes them).
    pub objects: Vec<serde_json::Value>,
}

#[derive(Debug)]
pub enum AuditError {
    Discovery(kube::Error),
    List(ListError),
    Evaluation(String),
}

impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditError::Discovery(e) => write!(f, "API discovery failed: {e}"),
            AuditError::List(e) => write!(f, "{e}; nothing was judged, since a partial list could pass what it missed"),
            AuditError::Evaluation(e) => write!(f, "the bundle could not be prepared: {e}"),
        }
    }
}

impl std::error::Error for AuditError {}

/// Lists what the bundle's policies target and read, then judges it on a blocking thread. A kind
/// that cannot be listed fails the whole audit: a policy reading an incomplete inventory would
/// report violations that are not there, and a missing kind would look compliant.
pub async fn audit_cluster(
    client: Client,
    bundle: &Bundle,
    list: &ListOptions,
    options: &AuditOptions,
) -> Result<ClusterAudit, AuditError> {
    let resolved = resolve_kinds(client.clone(), bundle, options.secrets).await.map_err(AuditError::Discovery)?;
    let mut objects = Vec::new();
    let (mut pages, mut retries, mut restarts) = (0, 0, 0);
    for kind in &resolved.kinds {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &kind.resource);
        let listed = listing::list_all(&api, kind, list).await.map_err(AuditError::List)?;
        pages += listed.pages;
        retries += listed.retries;
        restarts += listed.restarts;
        for object in listed.objects {
            objects.push(serde_json::to_value(&object).map_err(|e| AuditError::Evaluation(e.to_string()))?);
        }
    }
    let bundle = bundle.clone();
    let options = options.clone();
    let (audit, objects) = tokio::task::spawn_blocking(move || {
        let audit = evaluate::evaluate(&bundle, &objects, &options);
        (audit, objects)
    })
    .await
    .map_err(|e| AuditError::Evaluation(format!("the evaluation stopped: {e}")))?;
    let audit = audit.map_err(|e| AuditError::Evaluation(e.to_string()))?;
    Ok(ClusterAudit {
        audit,
        kinds: resolved.kinds.iter().map(AuditKind::describe).collect(),
        not_served: resolved.not_served,
        wildcard_policies: resolved.wildcard_policies,
        pages,
        retries,
        restarts,
        objects,
    })
}
