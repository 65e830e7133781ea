//! A deterministic generator of realistic, varied Kubernetes workloads and the objects around
//! them (PDBs, HPAs, NetworkPolicies), some compliant and some not, so that the benchmark
//! exercises both the violation and the no-violation paths.

use serde_json::{Value, json};

/// xorshift64*: deterministic across machines and runs, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const KINDS: [(&str, &str, u64); 7] = [
    ("apps/v1", "Deployment", 40),
    ("apps/v1", "StatefulSet", 12),
    ("apps/v1", "DaemonSet", 8),
    ("v1", "Pod", 10),
    ("batch/v1", "Job", 10),
    ("batch/v1", "CronJob", 10),
    ("apps/v1", "ReplicaSet", 10),
];

const IMAGES: [&str; 6] = [
    "registry.example/shop/web",
    "registry.example/shop/api",
    "ghcr.io/acme/worker",
    "registry.example/platform/envoy",
    "docker.io/library/nginx",
    "registry.example/data/etl",
];

pub const NAMESPACES: usize = 24;

pub fn namespace(i: usize) -> String {
    format!("team-{i:02}")
}

fn probe(rng: &mut Rng) -> Value {
    if rng.chance(50) {
        json!({"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "failureThreshold": 3})
    } else {
        json!({"tcpSocket": {"port": 8080}, "initialDelaySeconds": 5})
    }
}

fn container(rng: &mut Rng, name: String, compliant: bool, init: bool) -> Value {
    let tag = format!("{}.{}.{}", rng.below(4), rng.below(20), rng.below(10));
    let mut c = json!({
        "name": name,
        "image": format!("{}:{tag}", rng.pick(&IMAGES)),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
        ],
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, {"name": "config", "mountPath": "/etc/app", "readOnly": true}],
    });
    let full = compliant || rng.chance(70);
    if full || rng.chance(50) {
        c["resources"] = json!({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}});
    }
    if !init && (full || rng.chance(50)) {
        c["readinessProbe"] = probe(rng);
        c["livenessProbe"] = probe(rng);
    }
    if full || rng.chance(40) {
        c["securityContext"] = json!({
            "runAsNonRoot": true, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}
        });
    } else if rng.chance(30) {
        c["securityContext"] = json!({"privileged": true});
        c["ports"][0]["hostPort"] = json!(8080);
    }
    c
}

/// One workload object. About half are compliant with the whole bundle.
pub fn workload(rng: &mut Rng, index: usize) -> Value {
    let roll = rng.below(100);
    let mut acc = 0;
    let (api_version, kind) = KINDS
        .iter()
        .find(|(_, _, weight)| {
            acc += weight;
            roll < acc
        })
        .map_or(("apps/v1", "Deployment"), |(a, k, _)| (*a, *k));
    let compliant = rng.chance(50);
    let app = format!("app-{index}");
    let ns = namespace(index % NAMESPACES);
    let labels = json!({"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "shop", "team": ns});
    let containers: Vec<Value> =
        (0..1 + rng.below(3)).map(|i| container(rng, format!("c{i}"), compliant, false)).collect();
    let init: Vec<Value> = (0..rng.below(2)).map(|i| container(rng, format!("init{i}"), compliant, true)).collect();
    let mut pod_spec = json!({
        "serviceAccountName": app,
        "automountServiceAccountToken": false,
        "containers": containers,
        "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "config", "configMap": {"name": app}}],
        "terminationGracePeriodSeconds": 30,
    });
    if !init.is_empty() {
        pod_spec["initContainers"] = Value::Array(init);
    }
    if compliant || rng.chance(60) {
        pod_spec["securityContext"] =
            json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}, "fsGroup": 2000});
    }
    if !compliant && rng.chance(10) {
        pod_spec["hostNetwork"] = json!(true);
        if let Some(volumes) = pod_spec["volumes"].as_array_mut() {
            volumes.push(json!({"name": "host", "hostPath": {"path": "/var/run"}}));
        }
    }
    if matches!(kind, "Job" | "CronJob") {
        pod_spec["restartPolicy"] = json!("OnFailure");
    }
    let template = json!({"metadata": {"labels": labels}, "spec": pod_spec});
    let metadata = json!({
        "name": app, "namespace": ns, "labels": labels,
        "annotations": {"gatehouse.dev/owner": "team@example.com", "deployment.kubernetes.io/revision": "3"}
    });
    let replicas = if compliant || rng.chance(50) { 2 + rng.below(4) } else { 1 };
    let selector = json!({"matchLabels": {"app.kubernetes.io/name": app}});
    let spec = match kind {
        "Pod" => pod_spec_of(template),
        "Deployment" => json!({"replicas": replicas, "selector": selector, "template": template,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}}),
        "ReplicaSet" => json!({"replicas": replicas, "selector": selector, "template": template}),
        "StatefulSet" => json!({"replicas": replicas, "selector": selector, "serviceName": app, "template": template}),
        "DaemonSet" => json!({"selector": selector, "template": template}),
        "Job" => json!({"backoffLimit": 3, "template": template}),
        _ => json!({"schedule": "*/15 * * * *", "jobTemplate": {"spec": {"template": template}}}),
    };
    let mut object = json!({"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec});
    if kind == "Pod" {
        object["metadata"]["labels"] = labels;
    }
    object
}

fn pod_spec_of(template: Value) -> Value {
    template.get("spec").cloned().unwrap_or(Value::Null)
}

/// The objects around the workloads: per namespace a default-deny NetworkPolicy (most of them),
/// and for most multi-replica workloads a PDB and some HPAs.
pub fn surroundings(rng: &mut Rng, workloads: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..NAMESPACES {
        let ns = namespace(i);
        out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns,
            "labels": {"environment": "production", "pod-security.kubernetes.io/enforce": "restricted"}}}));
        if i % 6 != 5 {
            out.push(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": ns},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}));
        }
    }
    for w in workloads {
        let Some(name) = w["metadata"]["name"].as_str() else { continue };
        let ns = w["metadata"]["namespace"].clone();
        if rng.chance(70) {
            out.push(json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}}}));
        }
        if w["kind"] == "Deployment" && rng.chance(30) {
            out.push(json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": 2, "maxReplicas": 10,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}}));
        }
    }
    out
}

/// The objects around one workload in a repository: its Service, ServiceAccount and ConfigMap,
/// and most of the time a PDB and an HPA.
pub fn companions(rng: &mut Rng, workload: &Value) -> Vec<Value> {
    let Some(name) = workload["metadata"]["name"].as_str() else { return Vec::new() };
    let ns = workload["metadata"]["namespace"].clone();
    let labels = json!({"app.kubernetes.io/name": name});
    let mut out = vec![
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns},
            "automountServiceAccountToken": false}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns},
            "data": {"LOG_LEVEL": "info", "FEATURES": "a,b,c", "config.yaml": "server:\n  port: 8080\n"}}),
    ];
    if rng.chance(70) {
        out.push(json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": ns},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}}}));
    }
    if workload["kind"] == "Deployment" && rng.chance(40) {
        out.push(json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name, "namespace": ns},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}, "minReplicas": 2, "maxReplicas": 8,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}}));
    }
    out
}
