//! The HTML report as a browser shows it: Debian's headless Chromium renders the report of a real
//! scan; the totals in the rendered DOM are those of the JSON report, and a screenshot is kept
//! as a test artefact (target/test-artifacts/report.png). `scripts/chromium` installs Chromium;
//! without it the test says it is skipped, or fails when GATEHOUSE_REQUIRE_CHROMIUM=1 (CI).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";
/// A browser that has not finished by then is hung: the test fails rather than CI waiting.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn policy_scan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_policy-scan")).current_dir(repo()).args(args).output().expect("runs")
}

/// Runs Chromium headless on `page` with `extra` arguments and a fresh profile; its standard
/// output, or a failure with its standard error. Killed after [`BROWSER_TIMEOUT`].
fn chromium(page: &Path, extra: &[String], scratch: &Path) -> String {
    let profile = tempfile::tempdir_in(scratch).expect("profile dir");
    let stdout_path = scratch.join("chromium.stdout");
    let stderr_path = scratch.join("chromium.stderr");
    let url = format!("file://{}", page.canonicalize().expect("page").display());
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(&url)
        .stdin(Stdio::null())
        // Files, not pipes: a large DOM would fill a pipe nobody reads while we wait.
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish in {BROWSER_TIMEOUT:?}: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}): {stderr}");
    std::fs::read_to_string(&stdout_path).expect("chromium's output")
}

/// The number shown by the element marked `data-total="key"` in the rendered DOM.
fn total(dom: &str, key: &str) -> u64 {
    let marker = format!("data-total=\"{key}\">");
    let start = dom.find(&marker).unwrap_or_else(|| panic!("the DOM has no data-total={key}")) + marker.len();
    let shown = dom[start..].split('<').next().unwrap_or_default();
    shown.trim().parse().unwrap_or_else(|_| panic!("data-total={key} shows {shown:?}"))
}

/// The keys `--baseline` matches findings with: policy, resource and field.
fn keys(report: &Value) -> HashSet<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(|f| {
            let r = &f["resource"];
            format!("{}|{}|{}|{}|{}|{}", f["policy"], r["apiVersion"], r["kind"], r["namespace"], r["name"], f["path"])
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report")).expect("JSON")
}

#[test]
fn chromium_renders_the_html_report_with_the_totals_of_the_json() {
    if !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var("GATEHOUSE_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "{CHROMIUM} is missing and GATEHOUSE_REQUIRE_CHROMIUM=1: run scripts/chromium"
        );
        eprintln!("skipped: chromium not installed ({CHROMIUM}; scripts/chromium installs it)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let waivers = dir.path().join("waivers.yaml");
    std::fs::write(
        &waivers,
        "waivers:\n  - policy: require-probes\n    resource: {name: billing}\n    reason: \"<b>no</b> health endpoint\"\n    expires: 2099-12-31\n",
    )
    .expect("waivers");
    // A file that does not parse: the report is incomplete, and says so.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n").expect("broken");
    // Against the baseline: the host port fixed, running as root new.
    let app = std::fs::read_to_string(repo().join("examples/legacy/app.yaml"))
        .expect("example")
        .replace("              hostPort: 8080\n", "")
        .replace("privileged: true", "privileged: true\n            runAsUser: 0");
    let changed = dir.path().join("app.yaml");
    std::fs::write(&changed, app).expect("app.yaml");
    let baseline = dir.path().join("baseline.json");
    let current = dir.path().join("current.json");
    let now = [
        "examples/shop",
        "examples/legacy/terraform",
        changed.to_str().expect("utf-8"),
        broken.to_str().expect("utf-8"),
    ];
    for (out, paths) in [(&baseline, vec!["examples/"]), (&current, now.to_vec())] {
        let format = format!("json={}", out.display());
        let mut args =
            vec!["scan", "--today", "2025-06-01", "--waivers", waivers.to_str().expect("utf-8"), "--format", &format];
        args.extend(paths);
        let run = policy_scan(&args);
        assert!(out.exists(), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let json = read_json(&current);
    let summary = &json["summary"];
    assert!(summary["errors"].as_u64() > Some(0) && summary["suppressed"].as_u64() > Some(0), "{summary}");

    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").join("test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("target/test-artifacts");
    let page = artifacts.join("report.html");
    let run = policy_scan(&[
        "report",
        current.to_str().expect("utf-8"),
        "--baseline",
        baseline.to_str().expect("utf-8"),
        "--html",
        page.to_str().expect("utf-8"),
        "--generated",
        "2025-06-01 09:00 UTC",
        "--title",
        "Gatehouse examples",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));

    let dom = chromium(&page, &["--dump-dom".to_string()], dir.path());
    assert!(dom.contains("<h1>Gatehouse examples</h1>"), "the page rendered: {}", &dom[..dom.len().min(500)]);
    for key in ["findings", "suppressed", "resources", "errors"] {
        assert_eq!(total(&dom, key), summary[key].as_u64().expect("a count"), "{key}");
    }
    let (before, after) = (keys(&read_json(&baseline)), keys(&json));
    assert_eq!(total(&dom, "new"), after.difference(&before).count() as u64, "new");
    assert_eq!(total(&dom, "fixed"), before.difference(&after).count() as u64, "fixed");
    assert_eq!((total(&dom, "new"), total(&dom, "fixed")), (1, 1));
    assert!(dom.contains("Incomplete report"), "the parse error makes it incomplete");
    assert!(dom.matches("<svg").count() >= 4, "the charts are in the DOM");
    assert!(dom.contains("&lt;b&gt;no&lt;/b&gt; health endpoint"), "the waiver's reason is text");

    let screenshot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&screenshot);
    chromium(
        &page,
        &[format!("--screenshot={}", screenshot.display()), "--window-size=1280,2400".to_string()],
        dir.path(),
    );
    let png = std::fs::read(&screenshot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let (width, height) = (
        u32::from_be_bytes(png[16..20].try_into().expect("width")),
        u32::from_be_bytes(png[20..24].try_into().expect("height")),
    );
    assert_eq!((width, height), (1280, 2400));
    // A blank page compresses to a few kilobytes; the report's text and charts do not.
    assert!(png.len() > 60_000, "the screenshot is {} bytes: is the page blank?", png.len());
    eprintln!("screenshot: {} ({} bytes)", screenshot.display(), png.len());
}
