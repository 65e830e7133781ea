//! `policy-scan audit` against an API server on loopback, reached through a kubeconfig as a
//! user reaches a cluster.

use std::path::{Path, PathBuf};
use std::process::Output;

use gatehouse_audit::fake_apiserver::{FakeApiServer, Fault, Served};
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cluster() -> FakeApiServer {
    let server = FakeApiServer::new(vec![
        Served::new("v1", "Namespace", "namespaces", false),
        Served::new("apps/v1", "Deployment", "deployments", true),
        Served::new("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
    ]);
    server.add(json!({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": "shop", "labels": {"environment": "production"}}}));
    let deployment = |name: &str, annotations: Value| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop", "annotations": annotations},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}},
        })
    };
    server.add(deployment("web", json!({})));
    server.add(deployment(
        "legacy",
        json!({"gatehouse.dev/waivers": "- policy: require-probes\n  reason: retired at the end of the quarter\n  expires: 2099-01-01\n"}),
    ));
    server
}

/// The openAPIV3Schema of an OpenReports kind, from the CRDs the webhook chart ships.
fn openreports_schema(kind: &str) -> Value {
    let path = repo().join("charts/policy-webhook/crds/openreports.yaml");
    let text = std::fs::read_to_string(&path).expect("the chart's OpenReports CRDs");
    let documents = gatehouse_engine::yaml::parse_documents(&text, &gatehouse_engine::yaml::Limits::default())
        .expect("the CRDs parse");
    let crd = documents
        .iter()
        .filter_map(|d| d.root.as_ref().map(|n| n.to_json()))
        .find(|crd| crd["spec"]["names"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no CRD for {kind} in {}", path.display()));
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

fn kubeconfig(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\nusers:\n- name: fake\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n"
    );
    std::fs::write(&path, text).expect("kubeconfig");
    path
}

async fn policy_scan(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_policy-scan"))
            .args(&args)
            .env_remove("KUBECONFIG")
            .current_dir(repo())
            .output()
            .expect("policy-scan runs")
    })
    .await
    .expect("joined")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audits_a_cluster_into_the_scan_formats_and_policy_reports() {
    let server = cluster();
    let url = server.start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = kubeconfig(dir.path(), &url);
    let reports = dir.path().join("reports.json");
    let out = policy_scan(args(&[
        "audit",
        "--kubeconfig",
        config.to_str().expect("utf-8"),
        "--format",
        "json",
        "--format",
        &format!("openreports={}", reports.display()),
        "--page-size",
        "1",
    ]))
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "violations of denying policies fail the run: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(json["summary"]["resources"], 3, "two Deployments and the Namespace: {json}");
    let findings = json["findings"].as_array().expect("findings");
    let probes: Vec<&Value> = findings.iter().filter(|f| f["policy"] == "require-probes").collect();
    let web = probes.iter().find(|f| f["resource"]["name"] == "web").expect("web's probe finding");
    assert_eq!(web["location"]["file"], "cluster/shop/Deployment/web");
    assert!(web["suppressed"].is_null());
    assert_eq!(web["guideline"]["section"], "Deployment Strategy");
    let legacy = probes.iter().find(|f| f["resource"]["name"] == "legacy").expect("legacy's probe finding");
    assert!(legacy["suppressed"]["annotation"] == true, "the object's own waiver suppresses it: {legacy}");
    assert!(
        stderr.contains("note: the cluster does not serve") && stderr.contains("HorizontalPodAutoscaler.autoscaling"),
        "{stderr}"
    );
    let pages = server.log().iter().filter(|l| l.starts_with("GET /apis/apps/v1/deployments")).count();
    assert_eq!(pages, 2, "--page-size 1 lists the two Deployments one page each");

    let list: Value = serde_json::from_str(&std::fs::read_to_string(&reports).expect("reports written")).expect("JSON");
    assert_eq!(list["kind"], "List");
    let shop = list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|r| r["metadata"]["namespace"] == "shop"))
        .expect("shop");
    assert_eq!(shop["kind"], "Report");
    for item in list["items"].as_array().into_iter().flatten() {
        let kind = item["kind"].as_str().unwrap_or_default();
        let schema = openreports_schema(kind);
        let validator = jsonschema::validator_for(&schema).expect("the CRD schema compiles");
        let errors: Vec<String> =
            validator.iter_errors(item).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "the {kind} the audit writes is invalid for the chart's CRD: {errors:?}");
    }
    let counted = findings.iter().filter(|f| f["resource"]["namespace"] == "shop" && f["suppressed"].is_null()).count();
    assert_eq!(shop["summary"]["fail"], json!(counted), "the report and the JSON agree");
    assert_eq!(shop["summary"]["skip"], json!(findings.iter().filter(|f| !f["suppressed"].is_null()).count()));

    // The audit's JSON is a report `policy-scan report` reads like a scan's.
    let audit_json = dir.path().join("audit.json");
    std::fs::write(&audit_json, &out.stdout).expect("written");
    let html = dir.path().join("audit.html");
    let out =
        policy_scan(args(&["report", audit_json.to_str().expect("utf-8"), "--html", html.to_str().expect("utf-8")]))
            .await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    let counting = findings.iter().filter(|f| f["suppressed"].is_null()).count();
    assert!(page.contains(&format!("data-total=\"findings\">{counting}<")), "the page's total is the audit's");
    // Paths may break after each `/` on screen.
    let text = page.replace("<wbr>", "");
    assert!(text.contains("cluster/shop/Deployment/web"), "findings are located in the cluster");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_the_audit_may_not_list_is_an_error_not_a_pass() {
    let server = cluster();
    server.inject(Fault::new("GET /apis/policy/v1/poddisruptionbudgets", 0, 403));
    let url = server.start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = kubeconfig(dir.path(), &url);
    let out = policy_scan(args(&["audit", "--kubeconfig", config.to_str().expect("utf-8"), "--format", "json"])).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("listing PodDisruptionBudget (policy/v1) failed: forbidden"), "{stderr}");
    assert!(out.stdout.is_empty(), "no report of a partial audit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_cluster_or_unreadable_kubeconfig_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let config = kubeconfig(dir.path(), &url);
    let out = policy_scan(args(&["audit", "--kubeconfig", config.to_str().expect("utf-8"), "--timeout", "2"])).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("API discovery failed"), "{stderr}");

    let missing = dir.path().join("nope");
    let out = policy_scan(args(&["audit", "--kubeconfig", missing.to_str().expect("utf-8")])).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("cannot read the kubeconfig") && stderr.contains("nope"), "{stderr}");
}
