//! The `policy-webhook` binary as an operator runs it: JSON logs with one line per denied
//! request, `--no-cluster` naming the policies evaluated without inventory, SIGTERM, the
//! RBAC it prints, and a clear error without cluster access.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bundle() -> gatehouse_engine::Bundle {
    gatehouse_engine::Bundle::load(&repo().join("policies"), &gatehouse_engine::Config::default()).expect("bundle")
}

/// The policies that declare an inventory, as the webhook lists them.
fn policies_reading_inventory() -> String {
    bundle().inventory_policies().map(|p| p.metadata.id.clone()).collect::<Vec<_>>().join(", ")
}

fn webhook() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_policy-webhook"));
    command.current_dir(repo()).env_remove("RUST_LOG");
    command
}

/// Plain HTTP/1.1 with `Connection: close`: status and body.
fn http(address: &str, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("HTTP answer");
    (head[9..12].parse().expect("status"), body.to_string())
}

/// Log lines as they come, parsed: every line must be one JSON object.
fn json_lines(child: &mut Child) -> mpsc::Receiver<Value> {
    let stderr = child.stderr.take().expect("stderr");
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let line = line.expect("line");
            let value: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
            if send.send(value).is_err() {
                break;
            }
        }
    });
    receive
}

fn next_matching(lines: &mpsc::Receiver<Value>, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
    loop {
        let line = lines.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("no log line {what}"));
        if matches(&line) {
            return line;
        }
    }
}

#[test]
fn json_logs_no_cluster_readiness_and_sigterm() {
    let mut child = webhook()
        .args(["--no-cluster", "--insecure-http", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("policy-webhook starts");
    let lines = json_lines(&mut child);
    let without = next_matching(&lines, "naming the policies without inventory", |l| l["policies"].as_str().is_some());
    assert_eq!(without["level"], "WARN");
    let reading = policies_reading_inventory();
    assert!(reading.contains("require-pdb") && reading.contains("require-default-deny-networkpolicy"), "{reading}");
    assert_eq!(without["policies"], reading.as_str());
    let listening = next_matching(&lines, "with the address", |l| l["address"].as_str().is_some());
    let address = listening["address"].as_str().expect("address").to_string();

    let (status, readiness) = http(&address, "GET", "/readyz", b"");
    assert_eq!(status, 200, "{readiness}");
    assert!(readiness.contains(&format!("evaluated without inventory: {reading}")), "{readiness}");

    let capture: Value = serde_json::from_str(
        &std::fs::read_to_string(
            repo().join("tests/fixtures/admission-review/kube-apiserver-v1.32/validate-CREATE-Deployment-1.json"),
        )
        .expect("fixture"),
    )
    .expect("JSON");
    let body = serde_json::to_vec(&capture["body"]).expect("bytes");
    let (status, answer) = http(&address, "POST", "/validate?timeout=10s", &body);
    assert_eq!(status, 200, "{answer}");
    let uid = capture["body"]["request"]["uid"].as_str().expect("uid");
    let denied = next_matching(&lines, "for the denied request", |l| l["message"] == "denied");
    assert_eq!(denied["uid"], uid);
    assert_eq!(denied["kind"], "Deployment");
    assert!(denied["reasons"].as_str().expect("reasons").contains("require-probes"), "{denied}");

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    next_matching(&lines, "saying it stopped", |l| l["message"] == "stopped");
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status}");
}

#[test]
fn without_cluster_access_it_says_to_use_no_cluster() {
    let home = tempfile::tempdir().expect("home");
    let output = webhook()
        .args(["--insecure-http", "--listen", "127.0.0.1:0"])
        .env("HOME", home.path())
        .env("KUBECONFIG", home.path().join("missing-kubeconfig"))
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no cluster access"), "{stderr}");
    assert!(stderr.contains("--no-cluster"), "{stderr}");
}

#[test]
fn the_printed_rbac_grants_read_only_access_to_the_inventory_kinds() {
    let output = webhook().args(["--print-rbac", "--namespace", "gatehouse"]).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let documents = gatehouse_engine::yaml::parse_documents(&text, &Default::default()).expect("YAML");
    let role = documents[0].root.as_ref().expect("ClusterRole").to_json();
    assert_eq!(role["kind"], "ClusterRole");
    let mut granted: Vec<String> = role["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            assert_eq!(r["verbs"], serde_json::json!(["get", "list", "watch"]));
            format!("{}/{}", r["apiGroups"][0].as_str().expect("group"), r["resources"][0].as_str().expect("resource"))
        })
        .collect();
    granted.sort();
    for resource in [
        "autoscaling/horizontalpodautoscalers",
        "networking.k8s.io/networkpolicies",
        "policy/poddisruptionbudgets",
        "keda.sh/scaledobjects",
        "/serviceaccounts",
    ] {
        assert!(granted.iter().any(|g| g == resource), "{resource} in {granted:?}");
    }
    let mut declared = std::collections::BTreeSet::new();
    for policy in bundle().inventory_policies() {
        for target in &policy.metadata.inventory {
            for group in &target.api_groups {
                for kind in &target.kinds {
                    declared.insert((group.clone(), kind.clone()));
                }
            }
        }
    }
    assert_eq!(granted.len(), declared.len(), "one rule per declared kind, nothing more: {granted:?}");
    assert!(!granted.iter().any(|g| g.ends_with("/secrets")), "never Secrets");
    let binding = documents[1].root.as_ref().expect("binding").to_json();
    assert_eq!(binding["subjects"][0]["namespace"], "gatehouse");
}
