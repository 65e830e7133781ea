//! What the engine needs to know of Kubernetes kinds without asking an API server.

/// The group of an `apiVersion`: `apps/v1` is `apps`, `v1` is the core group `""`.
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

pub fn version_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or(api_version, |(_, version)| version)
}

/// Cluster-scoped kinds of Kubernetes and of the add-ons the platform ships. Any other kind is
/// taken as namespaced, which is what custom resources mostly are.
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus")
            | ("rbac.authorization.k8s.io", "ClusterRole" | "ClusterRoleBinding")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("apiregistration.k8s.io", "APIService")
            | ("storage.k8s.io", "StorageClass" | "CSIDriver" | "CSINode" | "VolumeAttachment")
            | ("scheduling.k8s.io", "PriorityClass")
            | ("node.k8s.io", "RuntimeClass")
            | ("networking.k8s.io", "IngressClass")
            | (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration"
                    | "MutatingWebhookConfiguration"
                    | "ValidatingAdmissionPolicy"
                    | "ValidatingAdmissionPolicyBinding"
            )
            | ("certificates.k8s.io", "CertificateSigningRequest")
            | ("flowcontrol.apiserver.k8s.io", "FlowSchema" | "PriorityLevelConfiguration")
            | ("gateway.networking.k8s.io", "GatewayClass")
            | ("cert-manager.io", "ClusterIssuer")
            | ("external-secrets.io", "ClusterSecretStore" | "ClusterExternalSecret")
            | ("keda.sh", "ClusterTriggerAuthentication")
            | ("argoproj.io", "ClusterAnalysisTemplate")
            | ("postgresql.cnpg.io", "ClusterImageCatalog")
            | ("openreports.io", "ClusterReport")
            | ("wgpolicyk8s.io", "ClusterPolicyReport")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_scopes() {
        assert_eq!(group_of("apps/v1"), "apps");
        assert_eq!(group_of("v1"), "");
        assert_eq!(version_of("networking.k8s.io/v1"), "v1");
        assert!(is_cluster_scoped("", "Namespace"));
        assert!(!is_cluster_scoped("apps", "Deployment"));
        assert!(!is_cluster_scoped("example.com", "Widget"));
    }
}
