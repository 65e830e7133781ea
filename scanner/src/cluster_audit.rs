//! `policy-scan audit`: the webhook's background audit run from outside the cluster, through a
//! kubeconfig, with its results in the scanner's report model, so that every output format,
//! `--baseline` and `policy-scan report` work on a cluster as on a repository.

use std::sync::Arc;

use gatehouse_audit::{ClusterAudit, Outcome};
use gatehouse_engine::Bundle;

use crate::report::{ErrorKind, Evaluated, Finding, Location, Report, Resource, ScanError, Suppression};

/// Where a finding of a live object is reported: `cluster/<namespace>/<Kind>/<name>`
/// (`_cluster` for cluster-scoped objects). There is no file; the JSON pointer of the finding
/// names the field.
pub fn location_of(subject: &gatehouse_audit::Subject) -> Location {
    let namespace = subject.namespace.as_deref().unwrap_or("_cluster");
    Location { file: format!("cluster/{namespace}/{}/{}", subject.kind, subject.name), line: 1, column: 1 }
}

fn resource_of(subject: &gatehouse_audit::Subject) -> Resource {
    Resource {
        api_version: subject.api_version.clone(),
        kind: subject.kind.clone(),
        namespace: subject.namespace.clone(),
        name: subject.name.clone(),
    }
}

/// The audit as a scan report: each judged object is an evaluated resource, each violation a
/// finding (suppressed when the object waives the policy in its annotation), each policy that
/// could not be evaluated an error.
pub fn to_report(result: &ClusterAudit, bundle: &Bundle) -> Report {
    let mut report = Report::default();
    report.summary.documents = result.audit.listed;
    report.summary.resources = result.audit.judged.len();
    for judged in &result.audit.judged {
        report.evaluated.push(Evaluated {
            resource: resource_of(&judged.subject),
            location: location_of(&judged.subject),
            policies: judged.policies.clone(),
            rendered: None,
        });
    }
    for r in &result.audit.results {
        let location = location_of(&r.subject);
        let resource = resource_of(&r.subject);
        if r.outcome == Outcome::Error {
            report.errors.push(ScanError {
                kind: ErrorKind::Evaluation,
                message: format!("{resource}: {}", r.message),
                location: Some(location),
                policy: Some(r.policy.clone()),
            });
            continue;
        }
        let metadata = bundle.policy(&r.policy).map(|p| &p.metadata);
        let suppressed = (r.outcome == Outcome::Waived).then(|| Suppression {
            reason: "waived by the object's own gatehouse.dev/waivers annotation".into(),
            expires: String::new(),
            ticket: None,
            waiver: location.clone(),
            annotation: true,
        });
        report.findings.push(Finding {
            policy: r.policy.clone(),
            severity: r.severity,
            enforcement: r.enforcement,
            message: r.message.clone(),
            path: r.path.clone(),
            location,
            exact: false,
            resource,
            remediation: Arc::from(metadata.map_or("", |m| m.remediation.as_str())),
            guideline: metadata.map(|m| Arc::new(m.guideline.clone())),
            suppressed,
            rendered: None,
            image: None,
        });
    }
    report.describe_policies(bundle);
    report
}
