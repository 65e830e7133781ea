//! trivy as a process: `trivy image --format json` for one image, bounded in time and output,
//! and its report read in trivy's documented JSON format (SchemaVersion 2). What policies get
//! of it leaves out the bulky fields no policy judges (descriptions, references, layers, the
//! image config), and keeps the order of results and vulnerabilities, so that a violation's
//! path is the vulnerability's place in trivy's own report.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const INSTALL_HINT: &str = "https://trivy.dev/latest/getting-started/installation/";

/// The most a report may weigh: an old distribution image with thousands of vulnerabilities
/// writes a few tens of MiB, descriptions included.
const REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// How trivy is run.
#[derive(Debug, Clone)]
pub struct Trivy {
    pub program: PathBuf,
    /// The most one image may take; trivy is given it too (its own default is 5 minutes).
    pub timeout: Duration,
    /// trivy's `--cache-dir`; trivy's own cache (`~/.cache/trivy`) when not given.
    pub cache_dir: Option<PathBuf>,
}

impl Default for Trivy {
    fn default() -> Self {
        Trivy { program: PathBuf::from("trivy"), timeout: Duration::from_secs(300), cache_dir: None }
    }
}

/// Why an image has no report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The program is not on PATH: no image can be scanned.
    Missing,
    /// This image's scan failed, ran out of time, or wrote something that is not a report.
    Failed(String),
}

impl Trivy {
    /// `trivy image --format json --scanners vuln --quiet --timeout <N>s [--cache-dir D] <ref>`.
    pub fn command(&self, reference: &str) -> Command {
        let mut command = Command::new(&self.program);
        command.args(["image", "--format", "json", "--scanners", "vuln", "--quiet", "--timeout"]);
        command.arg(format!("{}s", self.timeout.as_secs().max(1)));
        if let Some(dir) = &self.cache_dir {
            command.arg("--cache-dir").arg(dir);
        }
        command.arg(reference).stdin(Stdio::null());
        command
    }

    /// Scans one image: its report as policies read it.
    pub fn scan(&self, reference: &str) -> Result<Value, Failure> {
        let bounds = crate::process::Bounds { time: self.timeout, output: REPORT_BYTES };
        let output = crate::process::run_bounded(self.command(reference), bounds).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Failure::Missing
            } else {
                Failure::Failed(format!("trivy: {e}"))
            }
        })?;
        if !output.status.success() {
            return Err(Failure::Failed(format!(
                "trivy failed ({}): {}",
                output.status,
                error_lines(&String::from_utf8_lossy(&output.stderr))
            )));
        }
        read_report(&output.stdout).map_err(Failure::Failed)
    }
}

/// The part of trivy's standard error that says what went wrong: from its first error line
/// (trivy logs `... FATAL ...` or `... ERROR ...`), at most six lines.
fn error_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return "it wrote nothing on standard error".into();
    }
    let start =
        lines.iter().position(|l| l.contains("FATAL") || l.contains("ERROR") || l.contains("rror:")).unwrap_or(0);
    lines[start..].iter().copied().take(6).collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Report {
    schema_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    artifact_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
    /// trivy leaves it out when the image has nothing to report on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    results: Option<Vec<Target>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    #[serde(default, rename = "OS", skip_serializing_if = "Option::is_none")]
    os: Option<Value>,
    #[serde(default, rename = "ImageID", skip_serializing_if = "Option::is_none")]
    image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repo_tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repo_digests: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Target {
    target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r#type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vulnerabilities: Option<Vec<Vulnerability>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: String,
    #[serde(default, rename = "VendorIDs", skip_serializing_if = "Option::is_none")]
    vendor_ids: Option<Vec<String>>,
    #[serde(default, rename = "PkgID", skip_serializing_if = "Option::is_none")]
    pkg_id: Option<String>,
    pkg_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pkg_path: Option<String>,
    #[serde(default)]
    installed_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fixed_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity_source: Option<String>,
    #[serde(default, rename = "PrimaryURL", skip_serializing_if = "Option::is_none")]
    primary_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    severity: String,
    #[serde(default, rename = "CweIDs", skip_serializing_if = "Option::is_none")]
    cwe_ids: Option<Vec<String>>,
    #[serde(default, rename = "CVSS", skip_serializing_if = "Option::is_none")]
    cvss: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    published_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified_date: Option<String>,
}

/// Reads what `trivy image --format json` wrote; an error names the field at fault.
pub fn read_report(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "trivy wrote output that is not UTF-8".to_string())?;
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    let report: Report = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            format!("trivy wrote no JSON report ({inner}); its output begins {:?}", begins(text))
        } else if e.path().iter().next().is_none() {
            format!("trivy's report does not read as trivy's JSON format: {inner}")
        } else {
            format!("trivy's report does not read as trivy's JSON format: {}: {inner}", e.path())
        }
    })?;
    if report.schema_version != 2 {
        return Err(format!(
            "trivy wrote a report of SchemaVersion {}; policy-scan reads SchemaVersion 2 (trivy 0.20 and later)",
            report.schema_version
        ));
    }
    serde_json::to_value(report).map_err(|e| format!("trivy's report: {e}"))
}

fn begins(text: &str) -> String {
    let head: String = text.chars().take(60).collect();
    if head.len() < text.len() { format!("{head}...") } else { head }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = include_str!("../tests/fixtures/trivy/debian-buster.json");
    const DISTROLESS: &str = include_str!("../tests/fixtures/trivy/alpine-distroless.json");

    #[test]
    fn a_report_keeps_what_policies_judge_in_trivys_order() {
        let report = read_report(DEBIAN.as_bytes()).expect("reads");
        let first = &report["Results"][0]["Vulnerabilities"][0];
        assert_eq!(first["VulnerabilityID"], "CVE-2019-18276");
        assert_eq!(first["Status"], "affected");
        assert!(first.get("FixedVersion").is_none(), "no fix: trivy writes none, and none is made up");
        let second = &report["Results"][0]["Vulnerabilities"][1];
        assert_eq!(
            (&second["PkgName"], &second["InstalledVersion"], &second["FixedVersion"], &second["Severity"]),
            (&"libidn2-0".into(), &"2.0.5-1".into(), &"2.0.5-1+deb10u1".into(), &"CRITICAL".into())
        );
        assert_eq!(second["PrimaryURL"], "https://avd.aquasec.com/nvd/cve-2019-18224");
        assert_eq!(second["CVSS"]["nvd"]["V3Score"], 9.8);
        for bulky in ["Description", "References", "Layer", "DataSource", "PkgIdentifier"] {
            assert!(second.get(bulky).is_none(), "{bulky} is left out");
        }
        assert!(report["Metadata"].get("ImageConfig").is_none());
        assert_eq!(report["Metadata"]["OS"]["Family"], "debian");
    }

    #[test]
    fn language_packages_and_missing_optional_fields_read() {
        let report = read_report(DISTROLESS.as_bytes()).expect("reads");
        let go = &report["Results"][1];
        assert_eq!((&go["Class"], &go["Type"]), (&"lang-pkgs".into(), &"gobinary".into()));
        assert_eq!(go["Vulnerabilities"][0]["Severity"], "UNKNOWN");
        assert!(go["Vulnerabilities"][0].get("Title").is_none());
    }

    #[test]
    fn a_clean_image_has_no_results_or_no_vulnerabilities() {
        let none =
            read_report(br#"{"SchemaVersion": 2, "ArtifactName": "scratch-app:1", "ArtifactType": "container_image"}"#);
        assert!(none.expect("reads").get("Results").is_none());
        let clean = read_report(
            br#"{"SchemaVersion": 2, "ArtifactName": "app:1", "Results": [{"Target": "app:1 (alpine 3.20.3)", "Class": "os-pkgs", "Type": "alpine"}]}"#,
        );
        assert!(clean.expect("reads")["Results"][0].get("Vulnerabilities").is_none());
    }

    #[test]
    fn what_is_not_a_report_is_named_with_its_field() {
        let garbage = read_report(b"Need help? Run trivy --help\n").expect_err("not JSON");
        assert!(garbage.starts_with("trivy wrote no JSON report ("), "{garbage}");
        assert!(garbage.ends_with("its output begins \"Need help? Run trivy --help\\n\""), "{garbage}");
        let table = DEBIAN.replace("\"VulnerabilityID\": \"CVE-2019-18224\"", "\"VulnerabilityID\": 18224");
        let e = read_report(table.as_bytes()).expect_err("wrong type");
        assert!(e.starts_with("trivy's report does not read as trivy's JSON format: Results[0].Vulnerabilities[1].VulnerabilityID: invalid type: integer"), "{e}");
        let e = read_report(br#"{"SchemaVersion": 2}"#).expect_err("no artifact");
        assert!(
            e.starts_with("trivy's report does not read as trivy's JSON format: missing field `ArtifactName`"),
            "{e}"
        );
        let e = read_report(br#"{"SchemaVersion": 1, "ArtifactName": "a"}"#).expect_err("old schema");
        assert!(e.contains("SchemaVersion 1; policy-scan reads SchemaVersion 2"), "{e}");
        assert_eq!(read_report(&[0xff, 0xfe]).expect_err("binary"), "trivy wrote output that is not UTF-8");
    }

    #[test]
    fn the_command_is_trivys_json_scan_with_the_cache_only_when_given() {
        let args = |trivy: &Trivy| -> Vec<String> {
            trivy
                .command("registry.example/shop/api:1.4.2")
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let plain = Trivy { timeout: Duration::from_secs(120), ..Trivy::default() };
        assert_eq!(
            args(&plain),
            [
                "image",
                "--format",
                "json",
                "--scanners",
                "vuln",
                "--quiet",
                "--timeout",
                "120s",
                "registry.example/shop/api:1.4.2"
            ]
        );
        let cached = Trivy { cache_dir: Some(PathBuf::from("/ci/trivy-cache")), ..plain };
        assert_eq!(args(&cached)[8..], ["--cache-dir", "/ci/trivy-cache", "registry.example/shop/api:1.4.2"]);
    }

    #[test]
    fn trivys_error_is_quoted_from_its_first_error_line() {
        let stderr = "2024-05-01T10:00:00Z\tINFO\tNeed to update DB\n\n2024-05-01T10:00:01Z\tFATAL\tFatal error\timage scan error: unable to find the specified image \"nope:1\"\n";
        assert_eq!(
            error_lines(stderr),
            "2024-05-01T10:00:01Z\tFATAL\tFatal error\timage scan error: unable to find the specified image \"nope:1\""
        );
        assert_eq!(error_lines(""), "it wrote nothing on standard error");
    }
}
