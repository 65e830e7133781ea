//! Builds throw-away policy bundles for tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const POLICY_YAML: &str = "id: ID
title: A test policy
description: Used by the engine's tests.
severity: high
category: testing
guideline:
  section: High Availability
  bullet: All services deployed with redundancy
targets:
  - apiGroups: [apps]
    kinds: [Deployment]
remediation: Fix it.
";

pub struct TempBundle {
    pub dir: tempfile::TempDir,
}

impl TempBundle {
    pub fn new() -> Self {
        TempBundle { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, relative: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, content).expect("write");
        path
    }

    /// A complete policy folder: metadata (with `extra` appended), Rego, a test and two samples.
    pub fn policy(&self, id: &str, rego: &str, extra: &str) -> &Self {
        let dir = format!("kubernetes/{id}");
        self.file(&format!("{dir}/policy.yaml"), &(POLICY_YAML.replace("ID", id) + extra));
        self.file(&format!("{dir}/policy.rego"), rego);
        self
    }
}

/// A minimal valid policy: Deployments need a `team` label.
pub fn team_label_rego(package: &str) -> String {
    format!(
        "package {package}\n\nviolation contains {{\"msg\": msg, \"path\": \"/metadata/labels\"}} if {{\n\tnot input.review.object.metadata.labels.team\n\tmsg := \"no team label\"\n}}\n"
    )
}

pub fn deployment(name: &str, labels: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop", "labels": labels},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "app", "image": "app:1"}]}}}
    })
}
