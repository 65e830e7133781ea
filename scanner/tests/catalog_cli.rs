//! `policy-scan policies` and `policy-scan guidelines`: the bundle listed, and every bullet of the
//! guidelines traced to a policy or to what meets it elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn policy_scan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_policy-scan")).current_dir(repo()).args(args).output().expect("runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_bundle_is_listed_as_a_table_json_and_markdown() {
    let out = policy_scan(&["policies", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let policies = listed["policies"].as_array().expect("policies");
    let ids: Vec<&str> = policies.iter().filter_map(|p| p["id"].as_str()).collect();
    let folders = ["kubernetes", "terraform", "images"]
        .iter()
        .map(|domain| std::fs::read_dir(repo().join("policies").join(domain)).expect("policies").count())
        .sum::<usize>();
    assert_eq!(ids.len(), folders, "one entry per policy folder");
    let pdb = policies.iter().find(|p| p["id"] == "require-pdb").expect("require-pdb");
    assert_eq!(pdb["severity"], "high");
    assert_eq!(pdb["enforcement"], "deny");
    assert_eq!(pdb["guideline"]["bullet"], "No single points of failure");
    assert_eq!(pdb["inventory"][0]["kinds"][0], "PodDisruptionBudget");

    let table = String::from_utf8(policy_scan(&["policies"]).stdout).expect("UTF-8");
    let mut lines = table.lines();
    assert!(lines.next().expect("header").starts_with("POLICY"), "{table}");
    assert!(table.contains("default-security-context") && table.contains("mutate"), "{table}");
    assert_eq!(table.lines().count(), folders + 1);

    let markdown = String::from_utf8(policy_scan(&["policies", "--format", "markdown"]).stdout).expect("UTF-8");
    assert!(markdown.starts_with("| policy | severity |"), "{markdown}");
    assert_eq!(markdown.lines().count(), folders + 2);

    let config = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(
        config.path(),
        "policies:\n  require-pdb: {enforcement: warn}\n  require-probes: {enabled: false}\n",
    )
    .expect("write");
    let configured = policy_scan(&["policies", "--format", "json", "--config", &config.path().display().to_string()]);
    let listed: Value = serde_json::from_slice(&configured.stdout).expect("JSON");
    let find = |id: &str| listed["policies"].as_array().expect("list").iter().find(|p| p["id"] == id).cloned();
    assert_eq!(find("require-pdb").expect("pdb")["enforcement"], "warn");
    assert_eq!(find("require-probes").expect("probes")["enabled"], false);
}

#[test]
fn the_committed_traceability_map_is_complete_and_up_to_date() {
    let out = policy_scan(&["guidelines", "--output", "docs/guidelines.md", "--check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let map = std::fs::read_to_string(repo().join("docs/guidelines.md")).expect("map");
    let guidelines = std::fs::read_to_string(repo().join("docs/infrastructure-guidelines.md")).expect("guidelines");
    for line in guidelines.lines().filter_map(|l| l.strip_prefix("- ")) {
        assert!(map.contains(&format!("| {} |", line.trim())), "{line} is in the map");
    }
    assert!(
        map.contains("`require-pdb` (high, deny; admission and CI)"),
        "policies are named with severity, enforcement and where they are enforced"
    );
    assert!(map.contains("`cluster-auto-upgrade` (medium, deny; CI, Terraform)"), "Terraform policies run in CI only");
    assert!(map.contains("`default-security-context` (medium, deny; mutates at admission)"));
}

#[test]
fn a_bullet_met_by_nothing_or_an_entry_naming_no_bullet_fails_with_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = std::fs::read_to_string(repo().join("docs/guidelines-mapping.yaml")).expect("mapping");
    // Drop the one entry for the quarterly drills; rename another entry's bullet.
    let entry = "  - section: Disaster Recovery\n    bullet: Quarterly disaster recovery drills\n";
    assert!(mapping.contains(entry), "the mapping lists the drills");
    let broken = mapping
        .replace(entry, "  - section: Disaster Recovery\n    bullet: Yearly disaster recovery drills\n")
        .replace("bullet: Automatic service discovery", "bullet: Automatic service discovery (DNS)");
    let file = dir.path().join("mapping.yaml");
    std::fs::write(&file, &broken).expect("write");
    let out = policy_scan(&["guidelines", "--mapping", &file.display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(e.contains("\"Quarterly disaster recovery drills\" is met by no policy"), "{e}");
    assert!(e.contains("infrastructure-guidelines.md:57:3"), "{e}");
    assert!(e.contains("\"Yearly disaster recovery drills\" is not a bullet"), "{e}");
    assert!(e.contains("\"Automatic service discovery (DNS)\" is not a bullet"), "{e}");
    let line = broken.lines().position(|l| l.contains("Yearly")).expect("line") + 1;
    assert!(e.contains(&format!("mapping.yaml:{}:", line - 1)), "the entry's place: {e}");
}

#[test]
fn a_stale_map_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stale = dir.path().join("guidelines.md");
    std::fs::write(&stale, "# an old map\n").expect("write");
    let out = policy_scan(&["guidelines", "--output", &stale.display().to_string(), "--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not up to date"), "{}", stderr(&out));
    let out = policy_scan(&["guidelines", "--output", &stale.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = std::fs::read_to_string(&stale).expect("map");
    assert!(written.starts_with("# Guidelines traceability"), "{written}");
}
