#!/usr/bin/env python3
"""Lint, render, validate and policy-scan every Helm chart under charts/.

For each chart (a directory of charts/ with a Chart.yaml) and each values set (the chart's
defaults, then every ci/*-values.yaml):

1. `helm lint --strict` (helm_python.lint): any error, or any message of warning severity or
   above, fails.
2. Render (helm_python.Chart.render, release "gatehouse" in "gatehouse-system" by default) and
   parse every document of every template.
3. Validate each object: built-in kinds with kubernetes_validate against Kubernetes 1.33
   (strict: unknown fields fail); the CRD kinds of CRD_CHECKS with a structural check of our
   own; any other kind fails. Duplicate objects fail.
4. Write the whole render to one file (cross-resource policies look for PDBs, HPAs,
   NetworkPolicies, ServiceMonitors in the same scanned set), add the release Namespace as the
   cluster has it (tests/charts/context/release-namespace.yaml) unless the chart renders it,
   and run `policy-scan scan -f json`. Every finding fails, except require-image-digest
   warnings when the values set no image digest. Waived findings (suppressed by a
   gatehouse.dev/waivers annotation of the chart, with a reason and an expiry) do not fail and
   are listed.
5. Chart-specific assertions: tests/charts/test_<chart name with "_" for "-">.py, when it
   exists, has `run(harness)`; see test_policy_webhook.py.

Prints one line per (chart, values file); exits 1 naming chart, values file, template and object
of every failure. Runs with Python 3.11, the standard library, helm_python, kubernetes_validate
and PyYAML (tests/charts/requirements.txt).

Environment: POLICY_SCAN (default ../../target/release/policy-scan), GATEHOUSE_BUNDLE (default
../../policies), POLICY_WEBHOOK (default ../../target/release/policy-webhook), all relative to
this script.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import helm_python
import kubernetes_validate
import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the repository from the chart-specific modules
HERE = Path(__file__).resolve().parent
# The chart-specific modules import this one by name, also when it runs as a script.
sys.modules.setdefault("check_charts", sys.modules[__name__])
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
REPO = HERE.parent.parent
KUBE_VERSION = "1.33"
DEFAULT_RELEASE = "gatehouse"
DEFAULT_NAMESPACE = "gatehouse-system"


def tool_path(env: str, default: str) -> Path:
    value = os.environ.get(env)
    return Path(value).resolve() if value else (HERE / default).resolve()


POLICY_SCAN = tool_path("POLICY_SCAN", "../../target/release/policy-scan")
GATEHOUSE_BUNDLE = tool_path("GATEHOUSE_BUNDLE", "../../policies")
POLICY_WEBHOOK = tool_path("POLICY_WEBHOOK", "../../target/release/policy-webhook")

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")
PROM_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


class CheckFailure(Exception):
    """One failed check; the message names what failed."""


# --------------------------------------------------------------------------------------------
# Structural checks of the CRD kinds the charts may render. kubernetes_validate knows only the
# built-in kinds (it raises SchemaNotFoundError for these); a kind in neither fails.


def _require(cond: bool, msg: str, problems: list[str]) -> None:
    if not cond:
        problems.append(msg)


def _is_str(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _check_metadata(obj: dict, problems: list[str], namespaced: bool) -> None:
    meta = obj.get("metadata")
    _require(isinstance(meta, dict), "metadata is not a mapping", problems)
    if not isinstance(meta, dict):
        return
    _require(_is_str(meta.get("name")) and bool(DNS_SUBDOMAIN.match(meta["name"])) and len(meta["name"]) <= 253,
             f"metadata.name {meta.get('name')!r} is not a DNS subdomain", problems)
    if namespaced:
        _require(_is_str(meta.get("namespace")), "metadata.namespace is missing", problems)
    for key in ("labels", "annotations"):
        m = meta.get(key)
        if m is not None:
            _require(isinstance(m, dict) and all(isinstance(v, str) for v in m.values()),
                     f"metadata.{key} must map strings to strings", problems)
    unknown = set(meta) - {"name", "namespace", "labels", "annotations", "finalizers", "ownerReferences"}
    _require(not unknown, f"unexpected metadata fields {sorted(unknown)}", problems)


def _spec(obj: dict, problems: list[str]) -> dict:
    spec = obj.get("spec")
    _require(isinstance(spec, dict), "spec is not a mapping", problems)
    return spec if isinstance(spec, dict) else {}


def _check_top(obj: dict, problems: list[str]) -> None:
    unknown = set(obj) - {"apiVersion", "kind", "metadata", "spec"}
    _require(not unknown, f"unexpected top-level fields {sorted(unknown)}", problems)


def _issuer_ref(ref: Any, problems: list[str], where: str) -> None:
    _require(isinstance(ref, dict) and _is_str(ref.get("name")), f"{where}.issuerRef.name is missing", problems)
    if isinstance(ref, dict):
        _require(ref.get("kind", "Issuer") in ("Issuer", "ClusterIssuer") or ref.get("group", "cert-manager.io") != "cert-manager.io",
                 f"{where}.issuerRef.kind {ref.get('kind')!r} is not Issuer or ClusterIssuer", problems)


def check_certificate(obj: dict) -> list[str]:
    p: list[str] = []
    _check_top(obj, p)
    _check_metadata(obj, p, namespaced=True)
    spec = _spec(obj, p)
    allowed = {"secretName", "commonName", "dnsNames", "ipAddresses", "uris", "emailAddresses", "duration",
               "renewBefore", "usages", "privateKey", "issuerRef", "isCA", "secretTemplate", "subject",
               "revisionHistoryLimit", "keystores", "literalSubject", "nameConstraints", "otherNames",
               "encodeUsagesInRequest", "renewBeforePercentage", "additionalOutputFormats"}
    _require(not (set(spec) - allowed), f"unexpected spec fields {sorted(set(spec) - allowed)}", p)
    _require(_is_str(spec.get("secretName")), "spec.secretName is missing", p)
    _issuer_ref(spec.get("issuerRef"), p, "spec")
    names = spec.get("dnsNames")
    _require(names is None or (isinstance(names, list) and all(_is_str(n) for n in names)), "spec.dnsNames must be a list of strings", p)
    _require(bool(names) or _is_str(spec.get("commonName")), "a Certificate needs dnsNames or a commonName", p)
    for key in ("duration", "renewBefore"):
        if key in spec:
            _require(isinstance(spec[key], str) and bool(GO_DURATION.match(spec[key])), f"spec.{key} {spec[key]!r} is not a duration", p)
    pk = spec.get("privateKey", {})
    _require(isinstance(pk, dict), "spec.privateKey is not a mapping", p)
    if isinstance(pk, dict):
        _require(pk.get("algorithm", "RSA") in ("RSA", "ECDSA", "Ed25519"), f"privateKey.algorithm {pk.get('algorithm')!r}", p)
        _require(pk.get("rotationPolicy", "Never") in ("Never", "Always"), f"privateKey.rotationPolicy {pk.get('rotationPolicy')!r}", p)
    return p


def check_issuer(obj: dict) -> list[str]:
    p: list[str] = []
    _check_top(obj, p)
    _check_metadata(obj, p, namespaced=obj.get("kind") == "Issuer")
    spec = _spec(obj, p)
    kinds = [k for k in ("selfSigned", "ca", "acme", "vault", "venafi") if k in spec]
    _require(len(kinds) == 1, f"an issuer has exactly one of selfSigned, ca, acme, vault, venafi (has {kinds})", p)
    if "ca" in spec:
        _require(isinstance(spec["ca"], dict) and _is_str(spec["ca"].get("secretName")), "spec.ca.secretName is missing", p)
    return p


def _selector(sel: Any, where: str, p: list[str]) -> None:
    _require(isinstance(sel, dict), f"{where} is not a mapping", p)
    if isinstance(sel, dict):
        _require(not (set(sel) - {"matchLabels", "matchExpressions"}), f"{where} has unexpected fields", p)


def check_service_monitor(obj: dict) -> list[str]:
    p: list[str] = []
    _check_top(obj, p)
    _check_metadata(obj, p, namespaced=True)
    spec = _spec(obj, p)
    _selector(spec.get("selector"), "spec.selector", p)
    endpoints = spec.get("endpoints")
    _require(isinstance(endpoints, list) and endpoints, "spec.endpoints is empty", p)
    for i, ep in enumerate(endpoints if isinstance(endpoints, list) else []):
        _require(isinstance(ep, dict) and (_is_str(ep.get("port")) or "targetPort" in ep), f"endpoints[{i}] names no port", p)
        if not isinstance(ep, dict):
            continue
        _require(ep.get("scheme", "http") in ("http", "https"), f"endpoints[{i}].scheme {ep.get('scheme')!r}", p)
        for key in ("interval", "scrapeTimeout"):
            if key in ep:
                _require(bool(PROM_DURATION.match(str(ep[key]))), f"endpoints[{i}].{key} {ep[key]!r} is not a duration", p)
        tls = ep.get("tlsConfig")
        if tls is not None:
            allowed = {"ca", "cert", "keySecret", "serverName", "insecureSkipVerify", "caFile", "certFile", "keyFile"}
            _require(isinstance(tls, dict) and not (set(tls) - allowed), f"endpoints[{i}].tlsConfig has unexpected fields", p)
            ca = tls.get("ca") if isinstance(tls, dict) else None
            if ca is not None:
                sec = ca.get("secret") if isinstance(ca, dict) else None
                _require(isinstance(sec, dict) and _is_str(sec.get("name")) and _is_str(sec.get("key")),
                         f"endpoints[{i}].tlsConfig.ca.secret needs name and key", p)
    ns = spec.get("namespaceSelector")
    if ns is not None:
        _require(isinstance(ns, dict) and not (set(ns) - {"any", "matchNames"}), "spec.namespaceSelector has unexpected fields", p)
    return p


def check_pod_monitor(obj: dict) -> list[str]:
    p: list[str] = []
    _check_top(obj, p)
    _check_metadata(obj, p, namespaced=True)
    spec = _spec(obj, p)
    _selector(spec.get("selector"), "spec.selector", p)
    _require(isinstance(spec.get("podMetricsEndpoints"), list) and spec["podMetricsEndpoints"], "spec.podMetricsEndpoints is empty", p)
    return p


def check_prometheus_rule(obj: dict) -> list[str]:
    p: list[str] = []
    _check_top(obj, p)
    _check_metadata(obj, p, namespaced=True)
    spec = _spec(obj, p)
    groups = spec.get("groups")
    _require(isinstance(groups, list) and groups, "spec.groups is empty", p)
    names = set()
    for gi, group in enumerate(groups if isinstance(groups, list) else []):
        if not isinstance(group, dict):
            p.append(f"groups[{gi}] is not a mapping")
            continue
        _require(_is_str(group.get("name")) and group["name"] not in names, f"groups[{gi}].name missing or duplicated", p)
        names.add(group.get("name"))
        rules = group.get("rules")
        _require(isinstance(rules, list) and rules, f"groups[{gi}].rules is empty", p)
        for ri, rule in enumerate(rules if isinstance(rules, list) else []):
            where = f"groups[{gi}].rules[{ri}]"
            if not isinstance(rule, dict):
                p.append(f"{where} is not a mapping")
                continue
            _require(("alert" in rule) != ("record" in rule), f"{where} needs exactly one of alert and record", p)
            _require(_is_str(rule.get("expr")), f"{where}.expr is missing", p)
            expr = str(rule.get("expr", ""))
            _require(expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"),
                     f"{where}.expr has unbalanced brackets: {expr}", p)
            _require("{{" not in expr and "<no value>" not in expr, f"{where}.expr holds template leftovers: {expr}", p)
            if "for" in rule:
                _require(bool(PROM_DURATION.match(str(rule["for"]))), f"{where}.for {rule['for']!r} is not a duration", p)
            for key in ("labels", "annotations"):
                m = rule.get(key)
                if m is not None:
                    _require(isinstance(m, dict) and all(isinstance(v, str) for v in m.values()), f"{where}.{key} must map strings to strings", p)
                    if key == "labels" and isinstance(m, dict):
                        bad = [k for k in m if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", k)]
                        _require(not bad, f"{where}.labels has names Prometheus refuses: {bad}", p)
            unknown = set(rule) - {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
            _require(not unknown, f"{where} has unexpected fields {sorted(unknown)}", p)
    return p


# (apiVersion, kind) -> structural check. Keep it small and explicit.
def check_rollout(obj: dict) -> list[str]:
    """An Argo Rollout: its pod template validated strictly as a Deployment's would be, and a
    canary strategy with steps, maxUnavailable 0 and an analysis."""
    p: list[str] = []
    _check_top(obj, p)
    _check_metadata(obj, p, namespaced=True)
    spec = _spec(obj, p)
    as_deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": obj.get("metadata", {}),
        "spec": {k: v for k, v in spec.items() if k in ("replicas", "selector", "template", "revisionHistoryLimit")},
    }
    try:
        kubernetes_validate.validate(as_deployment, KUBE_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        p.append(f"the pod template is not valid: {e.message} at {'/'.join(map(str, e.path))}")
    unknown = set(spec) - {"replicas", "selector", "template", "revisionHistoryLimit", "strategy", "minReadySeconds",
                           "progressDeadlineSeconds", "workloadRef"}
    _require(not unknown, f"unexpected spec fields {sorted(unknown)}", p)
    canary = (spec.get("strategy") or {}).get("canary")
    _require(isinstance(canary, dict), "spec.strategy.canary is missing", p)
    if isinstance(canary, dict):
        _require(canary.get("maxUnavailable") == 0, "canary.maxUnavailable is not 0", p)
        _require(isinstance(canary.get("steps"), list) and canary["steps"], "canary.steps is empty", p)
        templates = ((canary.get("analysis") or {}).get("templates")) or []
        _require(bool(templates) and all(_is_str(t.get("templateName")) for t in templates), "canary.analysis names no template", p)
    return p


def check_analysis_template(obj: dict) -> list[str]:
    p: list[str] = []
    _check_top(obj, p)
    _check_metadata(obj, p, namespaced=True)
    metrics = _spec(obj, p).get("metrics")
    _require(isinstance(metrics, list) and metrics, "spec.metrics is empty", p)
    for i, m in enumerate(metrics if isinstance(metrics, list) else []):
        where = f"metrics[{i}]"
        _require(_is_str(m.get("name")) and _is_str(m.get("successCondition")), f"{where} needs a name and a successCondition", p)
        prom = (m.get("provider") or {}).get("prometheus") or {}
        _require(_is_str(prom.get("address")) and _is_str(prom.get("query")), f"{where}.provider.prometheus needs address and query", p)
        query = str(prom.get("query", ""))
        _require(query.count("(") == query.count(")") and query.count("{") == query.count("}"), f"{where}.query has unbalanced brackets", p)
        _require("gatehouse_admission_" in query, f"{where}.query reads none of the webhook's metrics", p)
    return p


CRD_CHECKS: dict[tuple[str, str], Callable[[dict], list[str]]] = {
    ("argoproj.io/v1alpha1", "Rollout"): check_rollout,
    ("argoproj.io/v1alpha1", "AnalysisTemplate"): check_analysis_template,
    ("cert-manager.io/v1", "Certificate"): check_certificate,
    ("cert-manager.io/v1", "Issuer"): check_issuer,
    ("cert-manager.io/v1", "ClusterIssuer"): check_issuer,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): check_service_monitor,
    ("monitoring.coreos.com/v1", "PodMonitor"): check_pod_monitor,
    ("monitoring.coreos.com/v1", "PrometheusRule"): check_prometheus_rule,
}


# --------------------------------------------------------------------------------------------


@dataclass
class Obj:
    template: str
    index: int
    data: dict

    @property
    def kind(self) -> str:
        return str(self.data.get("kind"))

    @property
    def name(self) -> str:
        return str((self.data.get("metadata") or {}).get("name"))

    @property
    def namespace(self) -> str | None:
        return (self.data.get("metadata") or {}).get("namespace")

    def ref(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.data.get('apiVersion')} {self.kind} {ns}{self.name} (template {self.template}, document {self.index})"


@dataclass
class Render:
    chart: str
    values_name: str
    values: dict
    files: dict[str, str]
    objects: list[Obj]
    notes: str


@dataclass
class Harness:
    """What the chart-specific modules get: the chart, its renders, and helpers."""

    chart_dir: Path
    release: str
    namespace: str
    renders: dict[str, Render] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    policy_scan: Path = POLICY_SCAN
    policy_webhook: Path = POLICY_WEBHOOK
    bundle: Path = GATEHOUSE_BUNDLE

    @property
    def chart(self) -> str:
        return self.chart_dir.name

    def values_file(self, name: str) -> dict:
        return load_values(self.chart_dir / name)

    def render(self, values: dict, values_name: str = "(inline values)", namespace: str | None = None) -> Render:
        """Renders the chart; raises helm_python.HelmError when Helm refuses."""
        return render_chart(self.chart_dir, values, values_name, self.release, namespace or self.namespace)

    def check(self, name: str, fn: Callable[[], None]) -> None:
        """Runs one named assertion; a CheckFailure or any exception is recorded as a failure."""
        try:
            fn()
        except CheckFailure as e:
            self.failures.append(f"{self.chart}: {name}: {e}")
        except Exception:  # noqa: BLE001 - report the unexpected with its traceback
            self.failures.append(f"{self.chart}: {name}: unexpected error\n{traceback.format_exc()}")
        else:
            self.passed.append(name)


@contextlib.contextmanager
def go_stderr_filtered():
    """Helm's chart loader logs to the process's standard error from Go ("INFO found symbolic
    link in path": the bundle link of policy-webhook, expected). Capture file descriptor 2
    meanwhile and pass on every other line."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", "replace").splitlines():
                if " INFO found symbolic link in path" not in line:
                    print(line, file=sys.stderr)


def load_values(path: Path) -> dict:
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CheckFailure(f"{path}: values must be a mapping")
    return data


def render_chart(chart_dir: Path, values: dict, values_name: str, release: str, namespace: str) -> Render:
    with go_stderr_filtered():
        chart = helm_python.Chart.load(str(chart_dir))
        files = chart.render(values, name=release, namespace=namespace, is_install=True)
    objects: list[Obj] = []
    notes = ""
    for template, text in sorted(files.items()):
        if template.endswith("NOTES.txt"):
            notes = text
            continue
        if not template.endswith((".yaml", ".yml", ".json")):
            continue
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as e:
            raise CheckFailure(f"{chart_dir.name} {values_name}: template {template} does not render valid YAML: {e}") from e
        for index, doc in enumerate(docs):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise CheckFailure(f"{chart_dir.name} {values_name}: template {template} document {index} is not a mapping")
            objects.append(Obj(template, index, doc))
    return Render(chart_dir.name, values_name, values, files, objects, notes)


def has_digest(values: Any) -> bool:
    """Whether the values set an image digest anywhere (a non-empty key named `digest`)."""
    if isinstance(values, dict):
        return any((k == "digest" and bool(v)) or has_digest(v) for k, v in values.items())
    if isinstance(values, list):
        return any(has_digest(v) for v in values)
    return False


def lint(chart_dir: Path, values: dict, namespace: str) -> list[str]:
    with go_stderr_filtered():
        report = helm_python.lint(str(chart_dir), values, strict=True, namespace=namespace, quiet=False)
    problems = [f"lint error: {e}" for e in report.get("errors") or []]
    for m in report.get("messages") or []:
        if m.get("severity", 0) >= 2:
            problems.append(f"lint {'warning' if m['severity'] == 2 else 'error'} in {m.get('path')}: {m.get('error')}")
    return problems


def validate(render: Render) -> tuple[int, int, list[str]]:
    """Validates every object; returns (built-ins validated, CRD objects checked, problems)."""
    builtins = crds = 0
    problems: list[str] = []
    seen: dict[tuple, Obj] = {}
    for o in render.objects:
        api, kind = o.data.get("apiVersion"), o.data.get("kind")
        if not isinstance(api, str) or not isinstance(kind, str):
            problems.append(f"{o.ref()}: no apiVersion or kind")
            continue
        key = (api.split("/")[0] if "/" in api else "", kind, o.namespace, o.name)
        if key in seen:
            problems.append(f"{o.ref()}: duplicates {seen[key].ref()}")
        seen[key] = o
        if "<no value>" in json.dumps(o.data, default=str):
            problems.append(f"{o.ref()}: holds '<no value>' (a missing value rendered)")
        check = CRD_CHECKS.get((api, kind))
        if check is not None:
            crds += 1
            problems.extend(f"{o.ref()}: {p}" for p in check(o.data))
            continue
        try:
            kubernetes_validate.validate(o.data, KUBE_VERSION, strict=True)
            builtins += 1
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{o.ref()}: kind unknown to Kubernetes {KUBE_VERSION} and not in the CRD allow-list "
                            f"({', '.join(f'{a} {k}' for a, k in CRD_CHECKS)})")
        except kubernetes_validate.ValidationError as e:
            where = "/".join(str(p) for p in e.path)
            problems.append(f"{o.ref()}: invalid for Kubernetes {KUBE_VERSION} at /{where}: {e.message}")
        except Exception as e:  # noqa: BLE001 - a schema problem is a failure too
            problems.append(f"{o.ref()}: cannot validate: {e}")
    return builtins, crds, problems


def context_documents(render: Render, namespace: str) -> list[dict]:
    """The release Namespace as the cluster has it, unless the chart renders it (policies such as
    isolate-stateful-workloads read the workload's Namespace from the inventory)."""
    if any(o.kind == "Namespace" and o.name == namespace for o in render.objects):
        return []
    text = (HERE / "context" / "release-namespace.yaml").read_text().replace("${NAMESPACE}", namespace)
    return [d for d in yaml.safe_load_all(text) if d]


@dataclass
class ScanResult:
    report: dict
    counted: list[dict]
    allowed: list[dict]
    suppressed: list[dict]


def scan(render: Render, namespace: str, workdir: Path, keep: Path | None = None) -> ScanResult:
    docs = [o.data for o in render.objects] + context_documents(render, namespace)
    path = workdir / f"{render.chart}--{Path(render.values_name).stem}.yaml"
    path.write_text("---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs))
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / path.name).write_text(path.read_text())
    proc = subprocess.run(
        [str(POLICY_SCAN), "scan", "--bundle", str(GATEHOUSE_BUNDLE), "-n", namespace, "-f", "json", str(path)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode not in (0, 1):
        raise CheckFailure(f"policy-scan exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise CheckFailure(f"policy-scan printed no JSON ({e}): {proc.stdout[:500]} {proc.stderr[:500]}") from e
    if report.get("errors"):
        raise CheckFailure(f"policy-scan reported errors: {json.dumps(report['errors'])}")
    digest_set = has_digest(render.values)
    counted, allowed, suppressed = [], [], []
    for f in report.get("findings", []):
        if f.get("suppressed"):
            suppressed.append(f)
        elif f.get("policy") == "require-image-digest" and f.get("enforcement") == "warn" and not digest_set:
            allowed.append(f)
        else:
            counted.append(f)
    return ScanResult(report, counted, allowed, suppressed)


def locate(render: Render, resource: dict) -> str:
    for o in render.objects:
        if (o.kind == resource.get("kind") and o.name == resource.get("name")
                and (o.namespace or None) in (resource.get("namespace"), None)):
            return o.ref()
    r = resource
    return f"{r.get('apiVersion')} {r.get('kind')} {r.get('namespace') or ''}/{r.get('name')} (context document)"


def values_sets(chart_dir: Path) -> list[tuple[str, dict]]:
    sets = [("values.yaml", {})]
    for f in sorted((chart_dir / "ci").glob("*-values.yaml")):
        sets.append((f"ci/{f.name}", load_values(f)))
    return sets


def check_chart(chart_dir: Path, args: argparse.Namespace, workdir: Path) -> tuple[list[str], list[str]]:
    """Returns (summary lines, failures)."""
    failures: list[str] = []
    lines: list[str] = []
    harness = Harness(chart_dir, args.release, args.namespace)
    for values_name, values in values_sets(chart_dir):
        where = f"{chart_dir.name} {values_name}"
        try:
            problems = lint(chart_dir, values, args.namespace)
            failures.extend(f"{where}: {p}" for p in problems)
            try:
                render = render_chart(chart_dir, values, values_name, args.release, args.namespace)
            except helm_python.HelmError as e:
                failures.append(f"{where}: render failed: {e}")
                lines.append(f"{where}: RENDER FAILED")
                continue
            harness.renders[values_name] = render
            builtins, crds, problems = validate(render)
            failures.extend(f"{where}: {p}" for p in problems)
            result = scan(render, args.namespace, workdir, Path(args.keep) if args.keep else None)
            for f in result.counted:
                loc = f.get("location") or {}
                failures.append(
                    f"{where}: {locate(render, f.get('resource') or {})}: [{f.get('policy')} {f.get('enforcement')}] "
                    f"{f.get('message')} (at {f.get('path')}, scanned line {loc.get('line')})")
            total = len(result.report.get("findings", []))
            extra = []
            if result.allowed:
                extra.append(f"{len(result.allowed)} allowed: require-image-digest warn, no digest in values")
            if result.suppressed:
                extra.append(f"{len(result.suppressed)} waived: " + ", ".join(
                    f"{s['policy']} on {s['resource']['kind']}/{s['resource']['name']} until {s['suppressed'].get('expires')}"
                    for s in result.suppressed))
            status = "ok" if not (problems or result.counted) else "FAIL"
            lines.append(
                f"{chart_dir.name:<18} {values_name:<34} objects {len(render.objects):>3}  "
                f"validated {builtins:>3} + {crds} CRD  findings {total}"
                + (f" ({'; '.join(extra)})" if extra else "") + f"  {status}")
        except CheckFailure as e:
            failures.append(f"{where}: {e}")
            lines.append(f"{where}: FAILED")
        except Exception:  # noqa: BLE001
            failures.append(f"{where}: unexpected error\n{traceback.format_exc()}")
            lines.append(f"{where}: FAILED")
    module_path = HERE / f"test_{chart_dir.name.replace('-', '_')}.py"
    if module_path.exists() and not args.skip_specific:
        spec = importlib.util.spec_from_file_location(module_path.stem, module_path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_path.stem] = module
        spec.loader.exec_module(module)
        module.run(harness)
        failures.extend(harness.failures)
        lines.append(f"{chart_dir.name:<18} {module_path.name:<34} {len(harness.passed)} assertions passed, "
                     f"{len(harness.failures)} failed")
    return lines, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chart", action="append", help="check only this chart (repeatable)")
    parser.add_argument("--charts-dir", default=str(REPO / "charts"), help="directory of the charts (default: charts/)")
    parser.add_argument("--release", default=DEFAULT_RELEASE)
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE)
    parser.add_argument("--keep", metavar="DIR", help="keep the scanned renders in DIR")
    parser.add_argument("--skip-specific", action="store_true", help="skip the chart-specific assertions")
    args = parser.parse_args(argv)

    for tool, env in ((POLICY_SCAN, "POLICY_SCAN"), (POLICY_WEBHOOK, "POLICY_WEBHOOK")):
        if not tool.is_file():
            print(f"error: {tool} does not exist: build it or set {env}", file=sys.stderr)
            return 2
    if not (GATEHOUSE_BUNDLE / "kubernetes").is_dir():
        print(f"error: {GATEHOUSE_BUNDLE} is not a policy bundle: set GATEHOUSE_BUNDLE", file=sys.stderr)
        return 2
    charts_dir = Path(args.charts_dir).resolve()
    charts = sorted(p.parent for p in charts_dir.glob("*/Chart.yaml"))
    if args.chart:
        unknown = set(args.chart) - {c.name for c in charts}
        if unknown:
            print(f"error: no chart {', '.join(sorted(unknown))} under {charts_dir}", file=sys.stderr)
            return 2
        charts = [c for c in charts if c.name in args.chart]
    if not charts:
        print(f"error: no chart under {charts_dir}", file=sys.stderr)
        return 2
    helm_python.disable_logging()

    all_failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="chart-checks-") as tmp:
        for chart_dir in charts:
            lines, failures = check_chart(chart_dir, args, Path(tmp))
            for line in lines:
                print(line, flush=True)
            all_failures.extend(failures)
    if all_failures:
        print(f"\n{len(all_failures)} failure(s):", file=sys.stderr)
        for f in all_failures:
            print(f"- {f}", file=sys.stderr)
        return 1
    print(f"all charts pass ({', '.join(c.name for c in charts)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
