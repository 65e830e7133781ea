//! Lists one kind page by page (`limit` and `continue`), as Gatekeeper's audit does, so a large
//! cluster is never asked for everything in one response.
//!
//! A page that fails with a transient error (a 5xx, a dropped connection) is asked again
//! with the same `continue` token: the pages already read stay, and the next page starts where
//! the failed one would have, so nothing is lost or read twice. A `410 Gone` (the token expired,
//! the snapshot it pointed into is compacted) discards the pages read and lists from the start:
//! mixing two snapshots could list an object twice or miss one. (kube's client already asks
//! again after a 429, 503 or 504 on its own, with its backoff; these attempts come on top.)

use std::time::Duration;

use kube::api::{Api, DynamicObject, ListParams};

use crate::kinds::AuditKind;

#[derive(Debug, Clone)]
pub struct ListOptions {
    /// Objects per page (`limit`).
    pub page_size: u32,
    /// How many times one page is asked again after a transient error, and how many times a
    /// list restarts after a `410 Gone`.
    pub attempts: u32,
    /// The first wait before a page is asked again; it doubles with each attempt.
    pub backoff: Duration,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions { page_size: 500, attempts: 4, backoff: Duration::from_millis(200) }
    }
}

/// One kind's objects, with the listing's own figures.
#[derive(Debug, Default)]
pub struct Listed {
    pub objects: Vec<DynamicObject>,
    /// The resourceVersion of the snapshot the objects come from.
    pub resource_version: String,
    pub pages: usize,
    /// Pages asked again after a transient error.
    pub retries: usize,
    /// Lists started again after a `410 Gone`.
    pub restarts: usize,
}

/// A kind that could not be listed: its name, what failed, and whether retrying may help.
#[derive(Debug)]
pub struct ListError {
    pub kind: String,
    pub message: String,
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "listing {} failed: {}", self.kind, self.message)
    }
}

impl std::error::Error for ListError {}

fn transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => matches!(status.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

fn gone(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 410)
}

fn explain(error: &kube::Error, kind: &AuditKind) -> String {
    match error {
        kube::Error::Api(status) if status.code == 403 => format!(
            "forbidden: the audit's service account needs `list` on {} ({}): {}",
            kind.resource.plural, kind.resource.group, status.message
        ),
        kube::Error::Api(status) => format!("{} {}: {}", status.code, status.reason, status.message),
        other => other.to_string(),
    }
}

/// Lists every object of a kind in the cluster. Objects come with their `apiVersion` and `kind`
/// set (list responses leave them out of the items) and without `managedFields` (most of an
/// object's size, and no policy reads them).
pub async fn list_all(api: &Api<DynamicObject>, kind: &AuditKind, options: &ListOptions) -> Result<Listed, ListError> {
    let fail = |message: String| ListError { kind: kind.describe(), message };
    let mut listed = Listed::default();
    'snapshot: loop {
        listed.objects.clear();
        listed.pages = 0;
        let mut token: Option<String> = None;
        loop {
            let mut params = ListParams::default().limit(options.page_size);
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            let mut attempt = 0;
            let page = loop {
                match api.list(&params).await {
                    Ok(page) => break page,
                    Err(e) if gone(&e) && listed.restarts < options.attempts as usize => {
                        listed.restarts += 1;
                        tracing::info!(kind = %kind.describe(), "the list's continue token expired; listing again from the start");
                        continue 'snapshot;
                    }
                    Err(e) if transient(&e) && attempt < options.attempts => {
                        attempt += 1;
                        listed.retries += 1;
                        let wait = options.backoff * 2u32.saturating_pow(attempt - 1);
                        tracing::warn!(kind = %kind.describe(), attempt, error = %e, "a list page failed; asking again");
                        tokio::time::sleep(wait).await;
                    }
                    Err(e) => return Err(fail(explain(&e, kind))),
                }
            };
            listed.pages += 1;
            if listed.resource_version.is_empty() || token.is_none() {
                listed.resource_version = page.metadata.resource_version.clone().unwrap_or_default();
            }
            for mut object in page.items {
                object.types = Some(kube::api::TypeMeta {
                    api_version: kind.resource.api_version.clone(),
                    kind: kind.resource.kind.clone(),
                });
                object.metadata.managed_fields = None;
                listed.objects.push(object);
            }
            match page.metadata.continue_ {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => return Ok(listed),
            }
        }
    }
}
