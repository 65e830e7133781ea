//! Writes the reports by server-side apply (one field manager, so a report is replaced whole
//! and no other writer's fields are touched), and deletes the reports this audit no longer
//! writes: a namespace that was deleted, or whose objects are now exempt.

use std::collections::BTreeSet;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::ApiResource;
use kube::{Client, ResourceExt};
use serde_json::Value;

use crate::reports::{MANAGED_BY, REPORT_NAME, ReportFormat};

pub const FIELD_MANAGER: &str = "gatehouse-audit";

fn resource(format: ReportFormat, namespaced: bool) -> ApiResource {
    let api_version = format.api_version();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: api_version.into(),
        kind: format.kind(namespaced).into(),
        plural: format.plural(namespaced).into(),
    }
}

/// What publishing did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Published {
    pub applied: usize,
    pub deleted: usize,
}

#[derive(Debug)]
pub struct PublishError(pub String);

impl std::fmt::Display for PublishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PublishError {}

fn explain(error: kube::Error, format: ReportFormat, namespaced: bool, what: &str) -> PublishError {
    let crd = format!("{}.{}", format.plural(namespaced), format.api_version().split('/').next().unwrap_or_default());
    match error {
        kube::Error::Api(s) if s.code == 404 => {
            PublishError(format!("{what}: the API server does not serve {crd}; install its CRD (404 {})", s.message))
        }
        kube::Error::Api(s) if s.code == 403 => PublishError(format!(
            "{what}: forbidden; the audit's service account needs get, list, patch and delete on {crd}: {}",
            s.message
        )),
        other => PublishError(format!("{what}: {other}")),
    }
}

pub async fn publish(client: &Client, reports: &[Value], format: ReportFormat) -> Result<Published, PublishError> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut published = Published::default();
    let mut namespaces = BTreeSet::new();
    let mut cluster = false;
    for report in reports {
        let namespace = report.pointer("/metadata/namespace").and_then(Value::as_str);
        let namespaced = namespace.is_some();
        let ar = resource(format, namespaced);
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        };
        let what =
            format!("applying {} {}{REPORT_NAME}", ar.kind, namespace.map(|n| format!("{n}/")).unwrap_or_default());
        api.patch(REPORT_NAME, &params, &Patch::Apply(report))
            .await
            .map_err(|e| explain(e, format, namespaced, &what))?;
        published.applied += 1;
        match namespace {
            Some(ns) => {
                namespaces.insert(ns.to_string());
            }
            None => cluster = true,
        }
    }
    let selector = ListParams::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
    let ar = resource(format, true);
    let all: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let listed = all.list(&selector).await.map_err(|e| explain(e, format, true, "listing the reports"))?;
    for stale in listed.items.iter().filter(|r| r.name_any() == REPORT_NAME) {
        let Some(ns) = stale.namespace().filter(|ns| !namespaces.contains(ns)) else { continue };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
        let what = format!("deleting the stale {} {ns}/{REPORT_NAME}", ar.kind);
        match api.delete(REPORT_NAME, &DeleteParams::default()).await {
            Ok(_) => published.deleted += 1,
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(explain(e, format, true, &what)),
        }
    }
    if !cluster {
        let ar = resource(format, false);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        match api.delete(REPORT_NAME, &DeleteParams::default()).await {
            Ok(_) => published.deleted += 1,
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(explain(e, format, false, "deleting the stale cluster report")),
        }
    }
    Ok(published)
}
