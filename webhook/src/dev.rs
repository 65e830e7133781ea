//! `policy-webhook --dev`: a self-signed certificate for a local cluster, and the webhook
//! configurations that point the cluster's API server at this process.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine as _;

#[derive(Debug)]
pub struct DevCertificate {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Base64 of the PEM certificate, as a webhook configuration's `caBundle` wants it.
    pub ca_bundle: String,
}

/// Writes a self-signed certificate for `hosts` (DNS names or IP addresses) into `dir`.
pub fn certificate(dir: &Path, hosts: &[String]) -> Result<DevCertificate> {
    let generated = rcgen::generate_simple_self_signed(hosts.to_vec()).context("cannot generate a certificate")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let pem = generated.cert.pem();
    std::fs::write(&cert, &pem).with_context(|| format!("cannot write {}", cert.display()))?;
    std::fs::write(&key, generated.signing_key.serialize_pem())
        .with_context(|| format!("cannot write {}", key.display()))?;
    Ok(DevCertificate { cert, key, ca_bundle: base64::engine::general_purpose::STANDARD.encode(pem) })
}

/// The ValidatingWebhookConfiguration and MutatingWebhookConfiguration for a local cluster:
/// workloads in every namespace but the system ones, failurePolicy Ignore (a development webhook
/// that stops must not lock the cluster), 5 s timeout.
pub fn webhook_configurations(base_url: &str, ca_bundle: &str) -> String {
    let base_url = base_url.trim_end_matches('/');
    let webhook = |kind: &str, path: &str, name: &str| {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1
kind: {kind}
metadata:
  name: gatehouse-dev
webhooks:
  - name: {name}.gatehouse.dev
    clientConfig:
      url: {base_url}/{path}
      caBundle: {ca_bundle}
    rules:
      - apiGroups: [\"\"]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [pods, replicationcontrollers]
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments, statefulsets, daemonsets, replicasets]
      - apiGroups: [batch]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [jobs, cronjobs]
    namespaceSelector:
      matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values: [kube-system, kube-node-lease, kube-public, gatehouse-system]
    failurePolicy: Ignore
    sideEffects: None
    admissionReviewVersions: [v1]
    timeoutSeconds: 5
"
        )
    };
    format!(
        "{}---\n{}",
        webhook("ValidatingWebhookConfiguration", "validate", "validate"),
        webhook("MutatingWebhookConfiguration", "mutate", "mutate")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_engine::yaml::{Limits, parse_documents};

    #[test]
    fn the_certificate_loads_and_the_configurations_point_at_the_webhook() {
        let dir = std::env::temp_dir().join(format!("gatehouse-dev-test-{}", std::process::id()));
        let dev = certificate(&dir, &["localhost".into(), "127.0.0.1".into()]).expect("certificate");
        assert!(crate::tls::server_config(&dev.cert, &dev.key).is_ok());
        let yaml = webhook_configurations("https://127.0.0.1:8443/", &dev.ca_bundle);
        let documents = parse_documents(&yaml, &Limits::default()).expect("YAML");
        let configs: Vec<serde_json::Value> =
            documents.into_iter().filter_map(|d| d.root.map(|r| r.to_json())).collect();
        assert_eq!(configs.len(), 2);
        assert_eq!(configs[0]["kind"], "ValidatingWebhookConfiguration");
        assert_eq!(configs[1]["kind"], "MutatingWebhookConfiguration");
        let webhook = &configs[0]["webhooks"][0];
        assert_eq!(webhook["clientConfig"]["url"], "https://127.0.0.1:8443/validate");
        assert_eq!(webhook["clientConfig"]["caBundle"], dev.ca_bundle.as_str());
        let excluded = &webhook["namespaceSelector"]["matchExpressions"][0]["values"];
        assert!(excluded.as_array().expect("values").iter().any(|v| v == "kube-system"));
        assert_eq!(configs[1]["webhooks"][0]["clientConfig"]["url"], "https://127.0.0.1:8443/mutate");
        let _ = std::fs::remove_dir_all(dir);
    }
}
