//! A deterministic generator of realistic, varied Kubernetes workloads and the objects around
//! them (Namespaces, NetworkPolicies, PDBs, HPAs), about half compliant with the whole bundle and
//! half not, so that the benchmark exercises both the violation and the no-violation paths. The
//! test at the end of this file holds the compliant half to that promise as the library grows.

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

/// Where the compliant workloads' images come from: the registry allowed-registries allows.
const ALLOWED_IMAGES: [&str; 4] = [
    "rg.fr-par.scw.cloud/shop/web",
    "rg.fr-par.scw.cloud/shop/api",
    "rg.fr-par.scw.cloud/platform/worker",
    "rg.fr-par.scw.cloud/data/etl",
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

/// One namespace in four is for stateful workloads (isolate-stateful-workloads).
fn stateful_namespace(i: usize) -> bool {
    i % 4 == 3
}

/// One namespace in six has no default-deny NetworkPolicy.
fn has_default_deny(i: usize) -> bool {
    i % 6 != 5
}

/// Every namespace, and the default-deny NetworkPolicy of most of them.
pub fn namespaces() -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..NAMESPACES {
        let ns = namespace(i);
        let class = if stateful_namespace(i) { "stateful" } else { "stateless" };
        out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns,
            "labels": {"environment": "production", "pod-security.kubernetes.io/enforce": "restricted",
                "gatehouse.dev/workload-class": class}}}));
        if has_default_deny(i) {
            out.push(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": ns},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}));
        }
    }
    out
}

/// The namespace of workload `index`: a compliant one lands in a namespace of its class with a
/// default-deny policy, any other anywhere.
fn namespace_for(rng: &mut Rng, index: usize, kind: &str, compliant: bool) -> String {
    if !compliant {
        return namespace(index % NAMESPACES);
    }
    let fitting: Vec<usize> =
        (0..NAMESPACES).filter(|&i| has_default_deny(i) && stateful_namespace(i) == (kind == "StatefulSet")).collect();
    namespace(*rng.pick(&fitting))
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
    let image = if compliant {
        let digest: String = (0..4).map(|_| format!("{:016x}", rng.next())).collect();
        format!("{}:{tag}@sha256:{digest}", rng.pick(&ALLOWED_IMAGES))
    } else {
        format!("{}:{tag}", rng.pick(&IMAGES))
    };
    let mut c = json!({
        "name": name,
        "image": image,
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
    if !init && compliant {
        c["readinessProbe"] = json!({"httpGet": {"path": "/readyz", "port": 8080}, "periodSeconds": 5});
        c["livenessProbe"] = json!({"httpGet": {"path": "/healthz", "port": 8080}, "failureThreshold": 6});
        c["lifecycle"] = json!({"preStop": {"sleep": {"seconds": 5}}});
    } else if !init && (full || rng.chance(50)) {
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

/// One workload object, and whether it was made compliant with the whole bundle (about half are).
pub fn workload(rng: &mut Rng, index: usize) -> (Value, bool) {
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
    let ns = namespace_for(rng, index, kind, compliant);
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
    if compliant {
        let spread = |key: &str| {
            json!({"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": app}}})
        };
        pod_spec["topologySpreadConstraints"] =
            json!([spread("kubernetes.io/hostname"), spread("topology.kubernetes.io/zone")]);
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
    (object, compliant)
}

/// A multi-replica Deployment or StatefulSet, which needs an HPA (require-hpa).
fn scaled(workload: &Value) -> bool {
    matches!(workload["kind"].as_str(), Some("Deployment" | "StatefulSet"))
        && workload["spec"]["replicas"].as_u64() > Some(1)
}

fn pdb(name: &str, ns: &Value) -> Value {
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}}})
}

fn hpa(workload: &Value, max: u64) -> Value {
    let name = &workload["metadata"]["name"];
    json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": workload["metadata"]["namespace"]},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": workload["kind"], "name": name},
            "minReplicas": 2, "maxReplicas": max,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}})
}

fn pod_spec_of(template: Value) -> Value {
    template.get("spec").cloned().unwrap_or(Value::Null)
}

/// The objects around the workloads: the namespaces, and for the compliant workloads and most
/// of the others a PDB, and for multi-replica ones an HPA.
pub fn surroundings(rng: &mut Rng, workloads: &[(Value, bool)]) -> Vec<Value> {
    let mut out = namespaces();
    for (w, compliant) in workloads {
        let Some(name) = w["metadata"]["name"].as_str() else { continue };
        if *compliant || rng.chance(70) {
            out.push(pdb(name, &w["metadata"]["namespace"]));
        }
        if (*compliant && scaled(w)) || (w["kind"] == "Deployment" && rng.chance(30)) {
            out.push(hpa(w, 10));
        }
    }
    out
}

/// The objects around one workload in a repository: its Service, ServiceAccount and ConfigMap,
/// and most of the time a PDB and an HPA.
pub fn companions(rng: &mut Rng, workload: &Value, compliant: bool) -> Vec<Value> {
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
    if compliant || rng.chance(70) {
        out.push(pdb(name, &ns));
    }
    if (compliant && scaled(workload)) || (workload["kind"] == "Deployment" && rng.chance(40)) {
        out.push(hpa(workload, 8));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_engine::{Bundle, Config, Evaluator, Inventory, Review};

    fn bundle() -> Bundle {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        Bundle::load(&root, &Config::default()).expect("the repository's bundle loads")
    }

    /// Every object of `judged` evaluated with `all` as inventory: (compliant, policies violated).
    fn judge(judged: &[(Value, bool)], all: &[Value]) -> Vec<(String, bool, Vec<String>)> {
        let mut inventory = Inventory::new();
        for object in all {
            inventory.add(object, "default");
        }
        let mut evaluator = Evaluator::new(&bundle(), &inventory).expect("evaluator");
        judged
            .iter()
            .map(|(object, compliant)| {
                let review = Review::from_object(object.clone(), "default").expect("a Kubernetes object");
                let decision = evaluator.evaluate_mode(&review, gatehouse_engine::Mode::Validate);
                assert!(decision.errors.is_empty(), "{:?}", decision.errors);
                let mut policies: Vec<String> = decision.violations.iter().map(|v| v.policy.clone()).collect();
                policies.dedup();
                (format!("{} {}", object["kind"], object["metadata"]["name"]), *compliant, policies)
            })
            .collect()
    }

    fn assert_halves(results: &[(String, bool, Vec<String>)]) {
        let failing: Vec<_> =
            results.iter().filter(|(_, compliant, policies)| *compliant && !policies.is_empty()).collect();
        assert!(failing.is_empty(), "compliant objects with violations: {failing:?}");
        let others: Vec<_> = results.iter().filter(|(_, compliant, _)| !compliant).collect();
        let violating = others.iter().filter(|(_, _, policies)| !policies.is_empty()).count();
        assert!(others.len() > results.len() / 4, "{} of {} objects are non-compliant", others.len(), results.len());
        assert!(
            violating * 10 >= others.len() * 9,
            "only {violating} of {} non-compliant objects violate a policy",
            others.len()
        );
    }

    #[test]
    fn the_compliant_workloads_pass_the_whole_bundle_among_their_surroundings() {
        let mut rng = Rng::new(7);
        let workloads: Vec<(Value, bool)> = (0..300).map(|i| workload(&mut rng, i)).collect();
        let mut all = surroundings(&mut rng, &workloads);
        all.extend(workloads.iter().map(|(w, _)| w.clone()));
        assert_halves(&judge(&workloads, &all));
    }

    #[test]
    fn the_scan_corpus_groups_of_compliant_workloads_pass_the_whole_bundle() {
        let mut rng = Rng::new(11);
        let mut all = namespaces();
        let (mut workloads, mut around) = (Vec::new(), Vec::new());
        for i in 0..200 {
            let (w, compliant) = workload(&mut rng, i);
            let companions = companions(&mut rng, &w, compliant);
            around.extend(companions.iter().map(|c| (c.clone(), compliant)));
            all.extend(companions);
            all.push(w.clone());
            workloads.push((w, compliant));
        }
        assert_halves(&judge(&workloads, &all));
        let failing: Vec<_> = judge(&around, &all)
            .into_iter()
            .filter(|(_, compliant, policies)| *compliant && !policies.is_empty())
            .collect();
        assert!(failing.is_empty(), "companions of compliant workloads with violations: {failing:?}");
    }
}
