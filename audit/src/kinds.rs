//! What the audit lists: every kind an enabled validating policy targets, every kind a policy
//! reads from its inventory, and Namespaces (their labels select the configuration's namespace
//! overrides), resolved through API discovery to the version the cluster prefers.

use std::collections::BTreeSet;

use gatehouse_engine::metadata::IMAGES_DOMAIN;
use gatehouse_engine::{Bundle, Mode};
use kube::Client;
use kube::discovery::{ApiResource, Discovery, Scope, verbs};

/// A kind the audit lists, as discovery resolved it.
#[derive(Debug, Clone)]
pub struct AuditKind {
    pub resource: ApiResource,
    pub namespaced: bool,
    /// False for a kind listed only for the inventory (no policy judges it).
    pub judged: bool,
}

impl AuditKind {
    /// `Deployment (apps/v1)`, as the logs and errors name a kind.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.resource.kind, self.resource.api_version)
    }
}

/// Whether a kind is core/v1 Secret: listing Secrets reads every secret value of the cluster,
/// which the audit does only when asked to (`secrets`).
pub fn is_secret(group: &str, kind: &str) -> bool {
    group.is_empty() && kind == "Secret"
}

/// The (group, kind) pairs to list, and which of them are judged. A `"*"` target cannot be
/// listed (the audit would have to list every kind of the cluster): it is returned apart, so
/// the caller can say that those policies are audited only on the kinds other policies list.
/// Secrets are left out unless `secrets`.
pub fn wanted(bundle: &Bundle, secrets: bool) -> (BTreeSet<(String, String, bool)>, Vec<String>) {
    let mut judged: BTreeSet<(String, String)> = BTreeSet::new();
    let mut read: BTreeSet<(String, String)> = BTreeSet::new();
    let mut wildcard = Vec::new();
    for policy in bundle.enabled_policies() {
        let metadata = &policy.metadata;
        // Image reports are made by `policy-scan images` from trivy's output: no cluster has them.
        if policy.domain == IMAGES_DOMAIN
            || metadata.mode != Mode::Validate
            || metadata.targets.iter().all(|t| t.kinds.is_empty())
        {
            continue;
        }
        for target in &metadata.targets {
            for group in &target.api_groups {
                for kind in &target.kinds {
                    if group == "*" || kind == "*" {
                        wildcard.push(metadata.id.clone());
                    } else {
                        judged.insert((group.clone(), kind.clone()));
                    }
                }
            }
        }
        for target in &metadata.inventory {
            for group in &target.api_groups {
                for kind in &target.kinds {
                    read.insert((group.clone(), kind.clone()));
                }
            }
        }
    }
    read.insert((String::new(), "Namespace".into()));
    if !secrets {
        judged.retain(|(g, k)| !is_secret(g, k));
        read.retain(|(g, k)| !is_secret(g, k));
    }
    wildcard.sort();
    wildcard.dedup();
    let mut all: BTreeSet<(String, String, bool)> = judged.iter().map(|(g, k)| (g.clone(), k.clone(), true)).collect();
    all.extend(read.into_iter().filter(|gk| !judged.contains(gk)).map(|(g, k)| (g, k, false)));
    (all, wildcard)
}

/// The kinds resolved, and those the cluster does not serve or does not let be listed (a CRD
/// that is not installed): named, never silently dropped.
#[derive(Debug, Default)]
pub struct Resolved {
    pub kinds: Vec<AuditKind>,
    pub not_served: Vec<String>,
    /// Policies targeting `"*"`, which the audit cannot list for.
    pub wildcard_policies: Vec<String>,
}

pub async fn resolve_kinds(client: Client, bundle: &Bundle, secrets: bool) -> Result<Resolved, kube::Error> {
    let (wanted, wildcard_policies) = wanted(bundle, secrets);
    let groups: BTreeSet<&str> = wanted.iter().map(|(g, _, _)| g.as_str()).collect();
    let groups: Vec<&str> = groups.into_iter().collect();
    let discovery = Discovery::new(client).filter(&groups).run().await?;
    let mut resolved = Resolved { wildcard_policies, ..Resolved::default() };
    for (group, kind, judged) in wanted {
        let name = if group.is_empty() { kind.clone() } else { format!("{kind}.{group}") };
        match discovery.get(&group).and_then(|g| g.recommended_kind(&kind)) {
            Some((resource, capabilities)) if capabilities.supports_operation(verbs::LIST) => {
                let namespaced = capabilities.scope == Scope::Namespaced;
                resolved.kinds.push(AuditKind { resource, namespaced, judged });
            }
            Some(_) => resolved.not_served.push(format!("{name} (the cluster does not list it)")),
            None => resolved.not_served.push(name),
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundles_kinds_are_listed_and_image_reports_are_not() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        let bundle = Bundle::load(&root, &gatehouse_engine::Config::default()).expect("the bundle loads");
        assert!(
            bundle.policies().iter().any(|p| p.domain == IMAGES_DOMAIN && p.enabled),
            "the bundle has an image policy to leave out"
        );
        let (kinds, wildcard) = wanted(&bundle, false);
        assert!(kinds.contains(&("apps".to_string(), "Deployment".to_string(), true)));
        assert!(
            !kinds.iter().any(|(group, kind, _)| group == "scan.gatehouse.dev" || kind == "ImageReport"),
            "{kinds:?}"
        );
        assert!(wildcard.is_empty(), "{wildcard:?}");
    }
}
