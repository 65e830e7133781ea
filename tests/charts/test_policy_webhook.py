"""Assertions specific to charts/policy-webhook, run by check_charts.py (`run(harness)`).

Each assertion is named and recorded on its own; a failure says what was expected and what the
render holds. Renders come from the harness (the chart's defaults and ci/*-values.yaml) or are
made here with inline values.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from check_charts import CheckFailure, Harness, Obj, Render  # type: ignore[import-not-found]

PATHS = {"security": "/validate/security", "practices": "/validate/practices", "mutate": "/mutate"}
BUNDLE_MOUNT = "/etc/gatehouse/policies"
CONFIG_MOUNT = "/etc/gatehouse/config"


def fail(msg: str) -> None:
    raise CheckFailure(msg)


def expect(cond: bool, msg: str) -> None:
    if not cond:
        fail(msg)


def one(render: Render, kind: str, name_suffix: str = "") -> Obj:
    # The workload is a Deployment, or the Argo Rollout that takes its place (rollout.enabled).
    kinds = {"Deployment", "Rollout"} if kind == "Deployment" else {kind}
    found = [o for o in render.objects if o.kind in kinds and o.name.endswith(name_suffix)]
    expect(len(found) == 1, f"{render.values_name}: expected one {kind}{' *' + name_suffix if name_suffix else ''}, "
                            f"found {[o.name for o in found]}")
    return found[0]


def all_of(render: Render, kind: str) -> list[Obj]:
    return [o for o in render.objects if o.kind == kind]


def webhooks(render: Render) -> list[tuple[Obj, dict]]:
    out = []
    for o in render.objects:
        if o.kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            for w in o.data.get("webhooks") or []:
                out.append((o, w))
    return out


def webhook_class(name: str) -> str:
    prefix = name.split(".", 1)[0]
    expect(prefix in PATHS, f"webhook {name!r} is none of security.*, practices.*, mutate.*")
    return prefix


def plural(kind: str) -> str:
    """As the API server (and policy-webhook --print-rbac) forms it."""
    lower = kind.lower()
    if lower.endswith("y") and not lower[:-1].endswith(("a", "e", "i", "o", "u")):
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    return lower + "s"


def bundle_policies(bundle: Path, extra: dict | None = None) -> dict[str, dict]:
    """id -> parsed policy.yaml of the bundle (and of values' bundle.extraPolicies)."""
    out = {}
    for f in sorted((bundle / "kubernetes").glob("*/policy.yaml")):
        meta = yaml.safe_load(f.read_text())
        out[meta["id"]] = meta
    for pid, p in (extra or {}).items():
        out[pid] = yaml.safe_load(p["metadata"])
    return out


def expected_rules(policies: dict[str, dict]) -> dict[str, set[tuple[str, str]]]:
    """class -> {(group, resource)} the policies it serves target."""
    out: dict[str, set[tuple[str, str]]] = {c: set() for c in PATHS}
    for meta in policies.values():
        mode = meta.get("mode", "validate")
        cls = "mutate" if mode == "mutate" else ("security" if meta.get("category") == "security" else "practices")
        for t in meta.get("targets") or []:
            for g in t.get("apiGroups") or []:
                for k in t.get("kinds") or []:
                    out[cls].add((g, plural(k)))
    return out


def run_tool(cmd: list[str], what: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        fail(f"{what}: `{' '.join(cmd)}` exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def rendered_config(render: Render) -> str:
    cm = one(render, "ConfigMap", "-config")
    return cm.data["data"]["gatehouse.yaml"]


def materialize_bundle(render: Render, root: Path) -> Path:
    """Writes the bundle ConfigMap as the kubelet mounts it: every key of the volume's items at
    its path. Checks that the items and the ConfigMap's keys match one to one."""
    cm = one(render, "ConfigMap", "-policies")
    dep = one(render, "Deployment")
    volumes = {v["name"]: v for v in dep.data["spec"]["template"]["spec"]["volumes"]}
    vol = volumes.get("policies") or fail("the Deployment has no volume named policies")
    expect(vol["configMap"]["name"] == cm.name, f"volume policies mounts ConfigMap {vol['configMap']['name']!r}, the bundle is {cm.name!r}")
    items = vol["configMap"].get("items") or fail("volume policies has no items: the keys would not go back to their paths")
    keys = [i["key"] for i in items]
    data = cm.data.get("data") or {}
    expect(len(keys) == len(set(keys)), "volume policies lists a key twice")
    expect(set(keys) == set(data), f"volume items and ConfigMap keys differ: only in items {sorted(set(keys) - set(data))}, "
                                   f"only in the ConfigMap {sorted(set(data) - set(keys))}")
    for item in items:
        target = root / item["path"]
        expect(not item["path"].startswith("/") and ".." not in item["path"].split("/"), f"item path {item['path']!r} escapes the mount")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(data[item["key"]])
    return root


def kubelet_layout(files: dict[str, str], mount: Path) -> None:
    """Writes files as the kubelet mounts a ConfigMap volume: the data in a timestamped hidden
    directory, a `..data` link to it, and each top-level entry a link through `..data`."""
    stamp = mount / "..2026_01_01_00_00_00.000000001"
    for rel, content in files.items():
        target = stamp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    (mount / "..data").symlink_to(stamp.name)
    for top in sorted({rel.split("/")[0] for rel in files}):
        (mount / top).symlink_to(f"..data/{top}")


def bundle_files(render: Render) -> dict[str, str]:
    cm = one(render, "ConfigMap", "-policies")
    dep = one(render, "Deployment")
    vol = [v for v in dep.data["spec"]["template"]["spec"]["volumes"] if v["name"] == "policies"][0]
    return {i["path"]: cm.data["data"][i["key"]] for i in vol["configMap"]["items"]}


def https(port: int, server_name: str, ca_pem: str, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    """One HTTPS request to 127.0.0.1:port, verifying the certificate for server_name."""
    ctx = ssl.create_default_context(cadata=ca_pem)
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.sock = ctx.wrap_socket(sock, server_hostname=server_name)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def pod_review(namespace: str) -> bytes:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "smoke", "namespace": namespace},
           "spec": {"containers": [{"name": "smoke", "image": "nginx:latest", "securityContext": {"privileged": True}}]}}
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "0f5c1c2e-0000-4000-8000-000000000001", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"}, "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "requestResource": {"group": "", "version": "v1", "resource": "pods"}, "name": "smoke", "namespace": namespace,
        "operation": "CREATE", "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": pod, "oldObject": None, "dryRun": True, "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}}
    return json.dumps(review).encode()


def parse_rbac_rules(text: str, suffix: str = "-inventory") -> list[dict]:
    docs = [d for d in yaml.safe_load_all(text) if d]
    roles = [d for d in docs if d.get("kind") == "ClusterRole" and d["metadata"]["name"].endswith(suffix)]
    expect(len(roles) == 1, f"policy-webhook --print-rbac printed {len(roles)} ClusterRoles named *{suffix}")
    return roles[0].get("rules") or []


# --------------------------------------------------------------------------------------------


def run(h: Harness) -> None:
    renders = h.renders
    gen = renders.get("ci/generated-cert-values.yaml")
    default = renders.get("values.yaml")
    if gen is None or default is None:
        h.failures.append(f"{h.chart}: the defaults or ci/generated-cert-values.yaml did not render; chart-specific checks skipped")
        return
    bundle = h.bundle

    # -- clientConfig of every webhook points at the rendered Service, on a path the webhook serves.
    def client_configs() -> None:
        for r in renders.values():
            svc = one(r, "Service")
            ports = {p["port"] for p in svc.data["spec"]["ports"]}
            hooks = webhooks(r)
            expect(hooks, f"{r.values_name}: no webhook rendered")
            for cfg, w in hooks:
                s = (w.get("clientConfig") or {}).get("service") or fail(f"{r.values_name}: {cfg.kind} webhook {w['name']} has no clientConfig.service")
                expect(s.get("name") == svc.name and s.get("namespace") == svc.namespace,
                       f"{r.values_name}: {cfg.kind} webhook {w['name']} calls {s.get('namespace')}/{s.get('name')}, the Service is {svc.namespace}/{svc.name}")
                expect(s.get("port") in ports, f"{r.values_name}: webhook {w['name']} calls port {s.get('port')}, the Service has {sorted(ports)}")
                expect(s.get("path") in PATHS.values(), f"{r.values_name}: webhook {w['name']} calls path {s.get('path')!r}, not one of {sorted(PATHS.values())}")
                expect(s.get("path") == PATHS[webhook_class(w["name"])], f"{r.values_name}: webhook {w['name']} calls {s.get('path')}, expected {PATHS[webhook_class(w['name'])]}")
                expect("url" not in w["clientConfig"], f"{r.values_name}: webhook {w['name']} has a url as well as a service")
            # and the Service reaches the pods' serving port
            dep = one(r, "Deployment")
            container_ports = {p["name"]: p["containerPort"] for c in dep.data["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
            for p in svc.data["spec"]["ports"]:
                tp = p.get("targetPort")
                expect(tp in container_ports or tp in container_ports.values(), f"{r.values_name}: Service port {p['port']} targets {tp!r}, the pod serves {container_ports}")
            labels = dep.data["spec"]["template"]["metadata"]["labels"]
            expect(all(labels.get(k) == v for k, v in svc.data["spec"]["selector"].items()), f"{r.values_name}: the Service selector {svc.data['spec']['selector']} misses the pods' labels")
    h.check("webhook clientConfigs point at the Service and a served path", client_configs)

    # -- the three webhooks are registered, with their failure policies.
    def failure_policies() -> None:
        for r in renders.values():
            by_class = {webhook_class(w["name"]): (cfg, w) for cfg, w in webhooks(r)}
            expect(set(by_class) == {"security", "practices", "mutate"}, f"{r.values_name}: webhooks {sorted(by_class)}, expected security, practices and mutate")
            expect(by_class["security"][0].kind == "ValidatingWebhookConfiguration" and by_class["practices"][0].kind == "ValidatingWebhookConfiguration",
                   f"{r.values_name}: security and practices must be validating webhooks")
            expect(by_class["mutate"][0].kind == "MutatingWebhookConfiguration", f"{r.values_name}: mutate must be a mutating webhook")
            expect(by_class["security"][1]["failurePolicy"] == "Fail", f"{r.values_name}: security webhook failurePolicy is {by_class['security'][1]['failurePolicy']}, expected Fail")
            expect(by_class["practices"][1]["failurePolicy"] == "Ignore", f"{r.values_name}: practices webhook failurePolicy is {by_class['practices'][1]['failurePolicy']}, expected Ignore")
            expect(by_class["mutate"][1]["failurePolicy"] == "Ignore", f"{r.values_name}: mutate webhook failurePolicy is {by_class['mutate'][1]['failurePolicy']}, expected Ignore")
            expect(by_class["mutate"][1].get("reinvocationPolicy") == "IfNeeded", f"{r.values_name}: mutate webhook reinvocationPolicy is not IfNeeded")
            for cfg, w in webhooks(r):
                expect(w.get("sideEffects") == "None", f"{r.values_name}: {w['name']} sideEffects {w.get('sideEffects')!r}")
                expect(w.get("admissionReviewVersions") == ["v1"], f"{r.values_name}: {w['name']} admissionReviewVersions {w.get('admissionReviewVersions')}")
                t = w.get("timeoutSeconds")
                expect(isinstance(t, int) and 1 <= t <= 30, f"{r.values_name}: {w['name']} timeoutSeconds {t!r}")
        for _, w in webhooks(default):
            expect(w["timeoutSeconds"] == 5, f"values.yaml: {w['name']} timeoutSeconds {w['timeoutSeconds']}, the default is 5")
    h.check("failurePolicy Fail for security, Ignore for practices and mutate; v1, no side effects", failure_policies)

    # -- no webhook is sent the release namespace or kube-system.
    def namespace_selectors() -> None:
        for r in renders.values():
            for cfg, w in webhooks(r):
                exprs = (w.get("namespaceSelector") or {}).get("matchExpressions") or []
                excluded = set()
                for e in exprs:
                    if e.get("key") == "kubernetes.io/metadata.name" and e.get("operator") == "NotIn":
                        excluded |= set(e.get("values") or [])
                missing = {h.namespace, "kube-system"} - excluded
                expect(not missing, f"{r.values_name}: webhook {w['name']} namespaceSelector does not exclude {sorted(missing)} (excludes {sorted(excluded)})")
        # and with another release namespace, that one is excluded
        other = h.render({}, "values.yaml (namespace policy-system)", namespace="policy-system")
        for cfg, w in webhooks(other):
            vals = [v for e in w["namespaceSelector"]["matchExpressions"] if e["key"] == "kubernetes.io/metadata.name" for v in e["values"]]
            expect("policy-system" in vals, f"release in policy-system: webhook {w['name']} does not exclude it ({vals})")
    h.check("namespaceSelector excludes the release namespace and kube-system", namespace_selectors)

    # -- the rules cover exactly the targets of the policies each webhook serves.
    def rules_cover_targets() -> None:
        for r in renders.values():
            extra = ((r.values.get("bundle") or {}).get("extraPolicies")) or {}
            expected = expected_rules(bundle_policies(bundle, extra))
            for cfg, w in webhooks(r):
                cls = webhook_class(w["name"])
                got = set()
                for rule in w.get("rules") or []:
                    ops = set(rule.get("operations") or [])
                    expect(ops == {"CREATE", "UPDATE"}, f"{r.values_name}: {w['name']} rule {rule} has operations {sorted(ops)}, expected CREATE and UPDATE (no policy judges DELETE)")
                    for g in rule.get("apiGroups") or []:
                        for res in rule.get("resources") or []:
                            got.add((g, res))
                missing, stray = expected[cls] - got, got - expected[cls]
                expect(not missing, f"{r.values_name}: {w['name']} rules miss targets of its policies: {sorted(missing)}")
                expect(not stray, f"{r.values_name}: {w['name']} rules send resources no policy of it targets: {sorted(stray)}")
    h.check("webhook rules cover exactly the targets of the bundle's policies", rules_cover_targets)

    # -- matchConditions are there by default and go away with the switch.
    def match_conditions() -> None:
        for _, w in webhooks(default):
            names = [c["name"] for c in w.get("matchConditions") or []]
            expect("not-from-nodes" in names, f"values.yaml: {w['name']} has no not-from-nodes matchCondition ({names})")
        off = h.render({"webhooks": {"matchConditions": {"enabled": False}}}, "webhooks.matchConditions.enabled=false")
        for _, w in webhooks(off):
            expect("matchConditions" not in w, f"matchConditions.enabled=false: {w['name']} still has matchConditions")
    h.check("matchConditions by default, none when switched off", match_conditions)

    # -- generated certificates: the caBundle is the CA that signed the Secret's certificate.
    def generated_ca() -> None:
        secret = one(gen, "Secret")
        expect(secret.data.get("type") == "kubernetes.io/tls", f"the generated Secret has type {secret.data.get('type')!r}")
        data = {k: base64.b64decode(v) for k, v in secret.data["data"].items()}
        expect({"tls.crt", "tls.key", "ca.crt"} <= set(data), f"the generated Secret holds {sorted(data)}")
        dep = one(gen, "Deployment")
        tls_vol = [v for v in dep.data["spec"]["template"]["spec"]["volumes"] if v["name"] == "tls"][0]
        expect(tls_vol["secret"]["secretName"] == secret.name, f"the Deployment mounts Secret {tls_vol['secret']['secretName']}, the chart made {secret.name}")
        bundles = {w["name"]: w["clientConfig"].get("caBundle") for _, w in webhooks(gen)}
        expect(all(bundles.values()), f"webhooks without a caBundle: {[n for n, b in bundles.items() if not b]}")
        expect(len(set(bundles.values())) == 1, "the webhooks carry different caBundles: the CA was generated more than once")
        ca_pem = base64.b64decode(next(iter(bundles.values())))
        expect(ca_pem == data["ca.crt"], "the caBundle is not the Secret's ca.crt")
        svc = one(gen, "Service")
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            (t / "ca.pem").write_bytes(ca_pem)
            (t / "tls.crt").write_bytes(data["tls.crt"])
            (t / "tls.key").write_bytes(data["tls.key"])
            out = run_tool(["openssl", "verify", "-CAfile", str(t / "ca.pem"), "-purpose", "sslserver", str(t / "tls.crt")], "openssl verify")
            expect(out.strip().endswith(": OK"), f"openssl verify: {out}")
            text = run_tool(["openssl", "x509", "-in", str(t / "tls.crt"), "-noout", "-ext", "subjectAltName"], "openssl x509")
            sans = set(re.findall(r"DNS:([^,\s]+)", text))
            want = {svc.name, f"{svc.name}.{h.namespace}", f"{svc.name}.{h.namespace}.svc", f"{svc.name}.{h.namespace}.svc.cluster.local"}
            expect(want <= sans, f"the certificate's DNS names {sorted(sans)} miss {sorted(want - sans)}")
            cert_pub = run_tool(["openssl", "x509", "-in", str(t / "tls.crt"), "-noout", "-pubkey"], "openssl x509 -pubkey")
            key_pub = run_tool(["openssl", "pkey", "-in", str(t / "tls.key"), "-pubout"], "openssl pkey")
            expect(cert_pub == key_pub, "tls.key is not the key of tls.crt")
            ca_text = run_tool(["openssl", "x509", "-in", str(t / "ca.pem"), "-noout", "-text"], "openssl x509 -text")
            expect("CA:TRUE" in ca_text, "the caBundle certificate is not a CA")
    h.check("generated mode: caBundle is the CA that signed the Secret's tls.crt (openssl verify)", generated_ca)

    # -- cert-manager mode: inject-ca-from on both configurations, naming the serving Certificate; no caBundle.
    def cert_manager_mode() -> None:
        for name in ("values.yaml", "ci/cert-manager-values.yaml"):
            r = renders[name]
            dep = one(r, "Deployment")
            secret_name = [v for v in dep.data["spec"]["template"]["spec"]["volumes"] if v["name"] == "tls"][0]["secret"]["secretName"]
            certs = {o.name: o for o in all_of(r, "Certificate") if o.data["spec"].get("secretName") == secret_name}
            expect(len(certs) == 1, f"{name}: {len(certs)} Certificates write the mounted Secret {secret_name}")
            cert = next(iter(certs.values()))
            for cfg in [o for o in r.objects if o.kind.endswith("WebhookConfiguration")]:
                ann = (cfg.data["metadata"].get("annotations") or {}).get("cert-manager.io/inject-ca-from")
                expect(ann == f"{cert.namespace}/{cert.name}", f"{name}: {cfg.kind} inject-ca-from is {ann!r}, expected {cert.namespace}/{cert.name}")
            for _, w in webhooks(r):
                expect("caBundle" not in w["clientConfig"], f"{name}: webhook {w['name']} has a caBundle although cainjector writes it")
            expect(not all_of(r, "Secret"), f"{name}: the chart renders a Secret in cert-manager mode")
            ref = cert.data["spec"]["issuerRef"]
            issuers = {(o.kind, o.name) for o in r.objects if o.kind in ("Issuer", "ClusterIssuer")}
            if name == "values.yaml":
                expect((ref.get("kind", "Issuer"), ref["name"]) in issuers, f"{name}: the serving Certificate's issuer {ref} is not rendered ({issuers})")
            else:
                expect(ref.get("kind") == "ClusterIssuer" and not issuers, f"{name}: a user issuerRef must be used as is, with no chart issuer ({ref}, {issuers})")
        for cfg in [o for o in gen.objects if o.kind.endswith("WebhookConfiguration")]:
            expect("cert-manager.io/inject-ca-from" not in (cfg.data["metadata"].get("annotations") or {}), f"generated mode: {cfg.kind} still carries inject-ca-from")
        expect(not all_of(gen, "Certificate") and not all_of(gen, "Issuer"), "generated mode renders cert-manager objects")
    h.check("cert-manager mode: inject-ca-from on both configurations, no caBundle", cert_manager_mode)

    # -- provided mode: the user's Secret and caBundle.
    def provided_mode() -> None:
        ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
        r = h.render({"certificates": {"mode": "provided", "provided": {"secretName": "my-webhook-tls", "caBundle": ca}}}, "certificates.mode=provided")
        expect(not all_of(r, "Secret") and not all_of(r, "Certificate"), "provided mode renders a Secret or Certificate")
        for _, w in webhooks(r):
            expect(w["clientConfig"].get("caBundle") == ca, f"provided mode: {w['name']} caBundle is not the given one")
        dep = one(r, "Deployment")
        vol = [v for v in dep.data["spec"]["template"]["spec"]["volumes"] if v["name"] == "tls"][0]
        expect(vol["secret"]["secretName"] == "my-webhook-tls", f"provided mode mounts {vol['secret']['secretName']}")
        try:
            h.render({"certificates": {"mode": "provided"}}, "provided without a secret")
        except Exception as e:  # noqa: BLE001
            expect("is required with certificates.mode=provided" in str(e), f"provided mode without a secret fails with an unclear message: {e}")
        else:
            fail("provided mode without secretName rendered")
    h.check("provided mode: the given Secret and caBundle", provided_mode)

    # -- The OpenReports CRDs the chart ships (crds/) are valid CRDs of Kubernetes 1.33; the
    # audit's reports are validated against their schemas by scanner/tests/audit_cli.rs.
    def report_crds() -> None:
        import kubernetes_validate  # noqa: PLC0415 - the harness's dependency
        path = Path(__file__).resolve().parents[2] / "charts/policy-webhook/crds/openreports.yaml"
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        kinds = sorted(d["spec"]["names"]["kind"] for d in docs)
        expect(kinds == ["ClusterReport", "Report"], f"{path}: CRDs for {kinds}")
        for d in docs:
            try:
                kubernetes_validate.validate(d, "1.33", strict=True)
            except kubernetes_validate.ValidationError as e:
                fail(f"{path}: {d['metadata']['name']} is not a valid CRD at /{'/'.join(str(p) for p in e.path)}: {e.message}")
            expect(d["spec"]["group"] == "openreports.io" and d["spec"]["versions"][0]["name"] == "v1alpha1",
                   f"{path}: {d['metadata']['name']} is not openreports.io/v1alpha1")
    h.check("the OpenReports CRDs the audit writes are valid CRDs", report_crds)

    # -- ClusterRole rules are exactly what policy-webhook --print-rbac prints.
    def rbac_matches_binary() -> None:
        for r in renders.values():
            role = one(r, "ClusterRole", "-inventory")
            for rule in role.data["rules"]:
                expect(set(rule["verbs"]) <= {"get", "list", "watch"}, f"{r.values_name}: ClusterRole rule {rule} grants more than get/list/watch")
            with tempfile.TemporaryDirectory() as tmp:
                tree = materialize_bundle(r, Path(tmp) / "policies")
                config = Path(tmp) / "gatehouse.yaml"
                config.write_text(rendered_config(r))
                # The repository's bundle when the chart ships it unchanged (what the brief names);
                # the mounted tree when values add policies of their own.
                source = bundle if not ((r.values.get("bundle") or {}).get("extraPolicies")) else tree
                cmd = [str(h.policy_webhook), "--print-rbac", "--no-cluster", "--bundle", str(source), "--namespace", h.namespace]
                if r.values.get("config"):
                    cmd += ["--config", str(config)]
                printed = run_tool(cmd, "policy-webhook --print-rbac")
                want = parse_rbac_rules(printed)
                audit = r.values.get("audit", {}).get("enabled", True) is not False
                if audit:
                    fmt = (r.values.get("audit") or {}).get("reportFormat", "openreports")
                    audit_cmd = cmd + ["--audit-interval", "300", "--audit-report-format", fmt]
                    if (r.values.get("audit") or {}).get("secrets"):
                        audit_cmd.append("--audit-secrets")
                    want_audit = parse_rbac_rules(run_tool(audit_cmd, "policy-webhook --print-rbac --audit-interval"), "-audit")
            expect(role.data["rules"] == want, f"{r.values_name}: ClusterRole rules differ from `{' '.join(cmd)}`:\n"
                                               f"  chart:  {json.dumps(role.data['rules'])}\n  binary: {json.dumps(want)}")
            if audit:
                audit_role = one(r, "ClusterRole", "-audit")
                expect(audit_role.data["rules"] == want_audit,
                       f"{r.values_name}: the audit ClusterRole differs from `{' '.join(audit_cmd)}`:\n"
                       f"  chart:  {json.dumps(audit_role.data['rules'])}\n  binary: {json.dumps(want_audit)}")
                secrets = [rule for rule in audit_role.data["rules"] if rule["apiGroups"] == [""] and "secrets" in rule["resources"]]
                expect(bool(secrets) == bool((r.values.get("audit") or {}).get("secrets")),
                       f"{r.values_name}: the audit may list Secrets only with audit.secrets: {secrets}")
                writes = [rule for rule in audit_role.data["rules"] if set(rule["verbs"]) - {"list"}]
                expect(len(writes) == 1 and writes[0]["apiGroups"][0] in ("openreports.io", "wgpolicyk8s.io"),
                       f"{r.values_name}: the audit may write only its reports: {writes}")
                lease = one(r, "Role", "-audit-lease")
                expect(lease.data["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]}],
                       f"{r.values_name}: the audit's Role grants {lease.data['rules']}")
                args = one(r, "Deployment").data["spec"]["template"]["spec"]["containers"][0]["args"]
                expect(any(a.startswith("--audit-interval=") for a in args), f"{r.values_name}: the webhook is not started with --audit-interval: {args}")
            else:
                expect(not [o for o in r.objects if o.name.endswith("-audit")], f"{r.values_name}: audit.enabled=false still renders audit RBAC")
            binding = one(r, "ClusterRoleBinding", "-inventory")
            sa = one(r, "ServiceAccount")
            expect(binding.data["roleRef"]["name"] == role.name, f"{r.values_name}: the binding refers to {binding.data['roleRef']['name']}")
            expect(binding.data["subjects"] == [{"kind": "ServiceAccount", "name": sa.name, "namespace": h.namespace}],
                   f"{r.values_name}: the binding's subjects {binding.data['subjects']} are not the chart's ServiceAccount")
            dep = one(r, "Deployment")
            expect(dep.data["spec"]["template"]["spec"]["serviceAccountName"] == sa.name, f"{r.values_name}: the pods do not run as {sa.name}")
    h.check("ClusterRole rules equal policy-webhook --print-rbac", rbac_matches_binary)

    # -- the bundle ConfigMap: every policy.rego/policy.yaml and lib file, byte for byte; no test, no sample.
    def bundle_configmap() -> None:
        expected: dict[str, bytes] = {}
        for f in sorted(bundle.rglob("*")):
            rel = f.relative_to(bundle).as_posix()
            if not f.is_file():
                continue
            if re.fullmatch(r"kubernetes/[^/]+/policy\.(rego|yaml)", rel) or (re.fullmatch(r"lib/[^/]+\.rego", rel) and not rel.endswith("_test.rego")):
                expected[rel] = f.read_bytes()
        expect(len([k for k in expected if k.endswith("policy.rego")]) >= 38, f"the bundle {bundle} holds {len(expected)} files: is GATEHOUSE_BUNDLE right?")
        for name in ("values.yaml", "ci/digest-values.yaml"):
            r = renders[name]
            with tempfile.TemporaryDirectory() as tmp:
                tree = materialize_bundle(r, Path(tmp) / "policies")
                got = {f.relative_to(tree).as_posix(): f.read_bytes() for f in tree.rglob("*") if f.is_file()}
                bad = [k for k in got if k.endswith("_test.rego") or "/samples/" in k]
                expect(not bad, f"{name}: the bundle ConfigMap ships tests or samples: {bad}")
                expect(set(got) == set(expected), f"{name}: bundle files differ: missing {sorted(set(expected) - set(got))}, extra {sorted(set(got) - set(expected))}")
                differ = [k for k in expected if got[k] != expected[k]]
                expect(not differ, f"{name}: these files differ from the bundle's: {differ}")
                # the tree mounted where the Deployment says loads as a bundle
                run_tool([str(h.policy_scan), "policies", str(tree)], "policy-scan policies on the mounted bundle")
            dep = one(r, "Deployment")
            c = dep.data["spec"]["template"]["spec"]["containers"][0]
            mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
            expect(mounts.get("policies") == BUNDLE_MOUNT and f"--bundle={BUNDLE_MOUNT}" in c["args"],
                   f"{name}: the bundle is mounted at {mounts.get('policies')} and the args are {c['args']}")
            expect(mounts.get("config") == CONFIG_MOUNT and f"--config={CONFIG_MOUNT}/gatehouse.yaml" in c["args"],
                   f"{name}: the config is mounted at {mounts.get('config')} and the args are {c['args']}")
            env = {e["name"]: e for e in c.get("env", [])}
            expect(env.get("POD_NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace",
                   f"{name}: POD_NAMESPACE does not come from the downward API")
            size = sum(len(k) + len(v.encode()) for k, v in one(r, "ConfigMap", "-policies").data["data"].items())
            expect(size < 1024 * 1024, f"{name}: the bundle ConfigMap holds {size} bytes, above 1 MiB")
    h.check("bundle ConfigMap holds every policy.rego/policy.yaml and lib file, no tests or samples, and loads", bundle_configmap)

    # -- an oversized bundle fails with a clear message.
    def bundle_limit() -> None:
        try:
            h.render({"bundle": {"maxBytes": 1000}}, "bundle.maxBytes=1000")
        except Exception as e:  # noqa: BLE001
            expect("above bundle.maxBytes" in str(e), f"an oversized bundle fails with an unclear message: {e}")
        else:
            fail("a bundle above bundle.maxBytes rendered")
    h.check("a bundle above bundle.maxBytes fails to render, saying why", bundle_limit)

    # -- custom configuration: loads against the mounted bundle, and rolls the pods.
    def custom_config() -> None:
        r = renders.get("ci/custom-config-values.yaml") or fail("ci/custom-config-values.yaml did not render")
        text = rendered_config(r)
        expect(yaml.safe_load(text) == {k: v for k, v in r.values["config"].items() if v}, "the rendered gatehouse.yaml is not values.config")
        with tempfile.TemporaryDirectory() as tmp:
            tree = materialize_bundle(r, Path(tmp) / "policies")
            expect((tree / "kubernetes/require-team-annotation/policy.rego").is_file(), "bundle.extraPolicies is not in the bundle")
            config = Path(tmp) / "gatehouse.yaml"
            config.write_text(text)
            run_tool([str(h.policy_scan), "policies", str(tree), "--config", str(config)], "policy-scan policies --config on the rendered configuration")
        extra_rules = [w for _, w in webhooks(r) if webhook_class(w["name"]) == "practices"][0]["rules"]
        expect(any("" in rule["apiGroups"] and "services" in rule["resources"] for rule in extra_rules), "the extra policy's Service target is not in the practices webhook rules")
        def checksum(rr: Render) -> str:
            return one(rr, "Deployment").data["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        expect(checksum(r) != checksum(default), "a new configuration does not change the pods' checksum/config annotation")
        expect(checksum(renders["ci/digest-values.yaml"]) == checksum(default), "checksum/config changes though the configuration did not")
    h.check("custom configuration loads against the mounted bundle and rolls the pods", custom_config)

    # -- image signatures: the rules reach gatehouse.yaml, load, and open egress to the registries.
    def image_signatures() -> None:
        r = renders.get("ci/signatures-values.yaml") or fail("ci/signatures-values.yaml did not render")
        text = rendered_config(r)
        rendered = yaml.safe_load(text)["imageVerification"]
        expected = dict(r.values["config"]["imageVerification"], credentials="/etc/gatehouse/registry/config.json")
        expect(rendered == expected, f"the rendered imageVerification is not values.config's with the pull secret's file: {rendered}")
        pod = one(r, "Deployment").data["spec"]["template"]["spec"]
        volume = [v for v in pod["volumes"] if v["name"] == "registry-credentials"]
        expect(volume and volume[0]["secret"]["secretName"] == "registry-pull", f"the pull secret is not mounted: {pod['volumes']}")
        expect(not [v for v in one(default, "Deployment").data["spec"]["template"]["spec"]["volumes"] if v["name"] == "registry-credentials"], "a pull secret volume without imageVerificationPullSecret")
        with tempfile.TemporaryDirectory() as tmp:
            tree = materialize_bundle(r, Path(tmp) / "policies")
            config = Path(tmp) / "gatehouse.yaml"
            config.write_text(text)
            run_tool([str(h.policy_scan), "policies", str(tree), "--config", str(config)], "policy-scan policies --config with imageVerification")
        egress = one(r, "NetworkPolicy", "-registry-egress").data["spec"]["egress"]
        expect(egress == [{"ports": [{"protocol": "TCP", "port": 443}], "to": [{"ipBlock": {"cidr": "51.159.0.0/16"}}]}], f"registry egress: {egress}")
        expect(not [o for o in all_of(default, "NetworkPolicy") if o.name.endswith("-registry-egress")], "registry egress rendered without signature rules")
    h.check("image signature rules reach the configuration and open egress to the registries", image_signatures)

    # -- the schema is closed: an unknown key fails, at the top and nested.
    def closed_schema() -> None:
        for values, what in (({"bogus": 1}, "bogus"), ({"webhooks": {"security": {"failurePolicy": "Fail", "bogus": 1}}}, "bogus"),
                             ({"webhooks": {"timeoutSeconds": 31}}, "timeoutSeconds"), ({"image": {"tag": "latest"}}, "tag"),
                             ({"replicaCount": 1}, "replicaCount"), ({"webhooks": {"security": {"failurePolicy": "Sometimes"}}}, "failurePolicy")):
            try:
                h.render(values, f"schema probe {values}")
            except Exception as e:  # noqa: BLE001
                expect(what in str(e), f"values {values} fail, but the message does not name {what!r}: {e}")
            else:
                fail(f"values {values} rendered: the schema lets them through")
        schema = json.loads((h.chart_dir / "values.schema.json").read_text())
        open_objects: list[str] = []

        def walk(node: Any, where: str) -> None:
            if isinstance(node, dict):
                if node.get("type") == "object" and "properties" in node and node.get("additionalProperties") is not False:
                    open_objects.append(where)
                if node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node and where != "/properties/global":
                    if where.split("/")[-1] != "parameters":
                        open_objects.append(where)
                for k, v in node.items():
                    walk(v, f"{where}/{k}")
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{where}/{i}")
        walk(schema, "")
        expect(not open_objects, f"values.schema.json has open objects: {open_objects}")
    h.check("values.schema.json is closed: unknown keys and bad values fail", closed_schema)

    # -- every value is documented: each leaf key of values.yaml has a comment and a README row.
    def documented_values() -> None:
        values_text = (h.chart_dir / "values.yaml").read_text()
        readme = (h.chart_dir / "README.md").read_text()
        lines = values_text.splitlines()
        stack: list[tuple[int, str]] = []
        undocumented, missing_rows = [], []
        skip_deeper_than: int | None = None
        for i, line in enumerate(lines):
            m = re.match(r"^(\s*)([A-Za-z0-9_.-]+):(.*)$", line)
            if not m or line.lstrip().startswith("#"):
                continue
            indent, key, rest = len(m.group(1)), m.group(2), m.group(3).strip()
            if skip_deeper_than is not None:
                if indent > skip_deeper_than:
                    continue  # inside the default mapping of a documented value
                skip_deeper_than = None
            while stack and stack[-1][0] >= indent:
                stack.pop()
            path = ".".join([k for _, k in stack] + [key])
            j = i - 1
            while j >= 0 and lines[j].strip().startswith("#") and not lines[j].strip().startswith("# --"):
                j -= 1
            documented = j >= 0 and lines[j].strip().startswith("# --")
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            has_children = rest == "" and (len(nxt) - len(nxt.lstrip())) > indent and not nxt.lstrip().startswith("- ")
            if has_children and not documented:
                stack.append((indent, key))  # a group of values
                continue
            if has_children:
                skip_deeper_than = indent  # a key with a "# --" comment is one value, even a mapping
            if not documented:
                undocumented.append(path)
            if f"`{path}`" not in readme:
                missing_rows.append(path)
        expect(not undocumented, f"values without a '# --' comment: {undocumented}")
        expect(not missing_rows, f"values missing from the README's table: {missing_rows}")
    h.check("every value has a '# --' comment and a README row", documented_values)

    # -- the digest render is clean and pins the image.
    def digest_render() -> None:
        r = renders["ci/digest-values.yaml"]
        image = one(r, "Deployment").data["spec"]["template"]["spec"]["containers"][0]["image"]
        expect(re.fullmatch(r"rg\.fr-par\.scw\.cloud/gatehouse/policy-webhook:0\.1\.0@sha256:[a-f0-9]{64}", image) is not None, f"digest render image is {image}")
        image = one(default, "Deployment").data["spec"]["template"]["spec"]["containers"][0]["image"]
        expect(image == "rg.fr-par.scw.cloud/gatehouse/policy-webhook:0.1.0", f"default image is {image}, expected the appVersion tag")
    h.check("image.digest pins repository:tag@digest; the default tag is appVersion", digest_render)

    # -- workload shape the brief asks for (beyond what the policies check).
    def workload_shape() -> None:
        dep = one(default, "Deployment").data
        spec, pod = dep["spec"], dep["spec"]["template"]["spec"]
        c = pod["containers"][0]
        expect(spec["replicas"] == 3, f"replicas {spec['replicas']}")
        expect(spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}, f"strategy {spec['strategy']}")
        keys = {t["topologyKey"] for t in pod.get("topologySpreadConstraints", [])}
        expect(keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}, f"spread over {keys}")
        r, l = c["readinessProbe"], c["livenessProbe"]
        expect(r["httpGet"]["path"] == "/readyz" and r["httpGet"]["scheme"] == "HTTPS", f"readinessProbe {r}")
        expect(l["httpGet"]["path"] == "/healthz" and l["httpGet"]["scheme"] == "HTTPS", f"livenessProbe {l}")
        expect(r != l, "readiness and liveness probes are identical")
        sc, psc = c["securityContext"], pod["securityContext"]
        expect(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 65532 and psc.get("runAsGroup") == 65532
               and psc.get("seccompProfile") == {"type": "RuntimeDefault"}, f"pod securityContext {psc}")
        expect(sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True
               and sc.get("capabilities") == {"drop": ["ALL"]}, f"container securityContext {sc}")
        expect(pod.get("automountServiceAccountToken") is True, "the pods do not mount their token: the inventory needs it")
        expect(pod["terminationGracePeriodSeconds"] > c["lifecycle"]["preStop"]["sleep"]["seconds"], "the preStop sleep eats the whole grace period")
        expect({"cpu", "memory"} <= set(c["resources"]["requests"]) and "memory" in c["resources"]["limits"], f"resources {c['resources']}")
        hpa = one(default, "HorizontalPodAutoscaler").data["spec"]
        expect(hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"], f"HPA bounds {hpa['minReplicas']}..{hpa['maxReplicas']}")
        ha = one(renders["ci/ha-values.yaml"], "Deployment").data["spec"]
        expect(ha["replicas"] == 5, f"ci/ha-values.yaml renders {ha['replicas']} replicas")
        nps = all_of(default, "NetworkPolicy")
        deny = [n for n in nps if n.data["spec"]["podSelector"] == {} and set(n.data["spec"]["policyTypes"]) == {"Ingress", "Egress"}
                and not n.data["spec"].get("ingress") and not n.data["spec"].get("egress")]
        expect(len(deny) == 1, f"expected one default-deny NetworkPolicy, found {[n.name for n in deny]}")
        dns = [n for n in nps if any(p.get("port") == 53 for e in n.data["spec"].get("egress", []) for p in e.get("ports", []))]
        expect(dns and {p["protocol"] for e in dns[0].data["spec"]["egress"] for p in e["ports"]} == {"UDP", "TCP"}, "no DNS egress on UDP and TCP 53")
        ha_np = [n for n in all_of(renders["ci/ha-values.yaml"], "NetworkPolicy") if n.name.endswith("apiserver-ingress")][0]
        cidrs = [p["ipBlock"]["cidr"] for rule in ha_np.data["spec"]["ingress"] for p in rule.get("from", [])]
        expect(cidrs == ["10.0.0.0/24", "172.16.0.10/32"], f"ci/ha-values.yaml API server ingress from {cidrs}")
    h.check("Deployment, HPA and NetworkPolicies have the shape the chart promises", workload_shape)

    # -- rollout.enabled: an Argo Rollout with the Deployment's pods, a canary analysed on the
    # webhook's own metrics, the HPA scaling the Rollout.
    def rollout() -> None:
        r = renders.get("ci/rollout-values.yaml") or fail("ci/rollout-values.yaml did not render")
        expect(not [o for o in r.objects if o.kind == "Deployment"], "rollout.enabled still renders a Deployment")
        ro = [o for o in r.objects if o.kind == "Rollout"]
        expect(len(ro) == 1, f"expected one Rollout, found {[o.name for o in ro]}")
        spec = ro[0].data["spec"]
        dep = one(default, "Deployment").data["spec"]
        expect(spec["template"]["spec"]["containers"] == dep["template"]["spec"]["containers"],
               "the Rollout's containers differ from the Deployment's")
        canary = spec["strategy"]["canary"]
        template = canary["analysis"]["templates"][0]["templateName"]
        analysis = one(r, "AnalysisTemplate").data
        expect(analysis["metadata"]["name"] == template, f"the canary names analysis {template}, the chart made {analysis['metadata']['name']}")
        queries = " ".join(m["provider"]["prometheus"]["query"] for m in analysis["spec"]["metrics"])
        expect("gatehouse_admission_requests_total" in queries and "gatehouse_admission_duration_seconds_bucket" in queries,
               "the analysis does not read the webhook's error and latency metrics")
        target = one(r, "HorizontalPodAutoscaler").data["spec"]["scaleTargetRef"]
        expect(target == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": ro[0].name}, f"the HPA scales {target}")
    h.check("rollout.enabled: a Rollout canary analysed on the webhook's metrics", rollout)

    # -- monitoring: ServiceMonitor over HTTPS with the CA, alerts on real metric names.
    def monitoring() -> None:
        r = renders["ci/monitoring-values.yaml"]
        sm = one(r, "ServiceMonitor").data
        svc = one(r, "Service")
        ep = sm["spec"]["endpoints"][0]
        expect(ep["scheme"] == "https" and ep["port"] == svc.data["spec"]["ports"][0]["name"], f"ServiceMonitor endpoint {ep}")
        expect(ep["tlsConfig"]["serverName"] == f"{svc.name}.{h.namespace}.svc" and ep["tlsConfig"]["ca"]["secret"]["key"] == "ca.crt", f"tlsConfig {ep['tlsConfig']}")
        expect(all(svc.data["metadata"]["labels"].get(k) == v for k, v in sm["spec"]["selector"]["matchLabels"].items()), "the ServiceMonitor does not select the Service")
        rules = one(r, "PrometheusRule").data["spec"]["groups"][0]["rules"]
        exported = set(re.findall(r'"(gatehouse_[a-z_]+)"', (Path(__file__).resolve().parents[2] / "webhook/src/metrics.rs").read_text()))
        exported |= set(re.findall(r"# TYPE (gatehouse_[a-z_]+)", (Path(__file__).resolve().parents[2] / "webhook/src/metrics.rs").read_text()))
        histograms = {m + s for m in exported for s in ("_bucket", "_sum", "_count")}
        used = {m for rule in rules for m in re.findall(r"gatehouse_[a-z_]+", rule["expr"])}
        expect(used and used <= exported | histograms, f"alerts use metrics the webhook does not export: {sorted(used - exported - histograms)}")
        alerts = {rule["alert"] for rule in rules}
        for a in ("GatehouseWebhookDown", "GatehouseWebhookLatencyHigh", "GatehouseWebhookErrorsHigh", "GatehouseBundleReloadFailing"):
            expect(a in alerts, f"alert {a} missing ({sorted(alerts)})")
        nps = [n.name for n in all_of(r, "NetworkPolicy") if n.name.endswith("metrics-ingress")]
        expect(nps, "monitoring on, but no NetworkPolicy lets the scraper in")
        expect(not all_of(default, "ServiceMonitor") and not all_of(default, "PrometheusRule"), "the defaults render monitoring CRDs")
    h.check("ServiceMonitor scrapes over HTTPS with the CA; alerts use exported metrics", monitoring)

    # -- the webhook binary starts with the rendered arguments, bundle, configuration and
    # certificate (mounted as the kubelet mounts them), and judges over HTTPS.
    def binary_serves() -> None:
        r = gen
        dep = one(r, "Deployment")
        c = dep.data["spec"]["template"]["spec"]["containers"][0]
        secret = one(r, "Secret")
        data = {k: base64.b64decode(v).decode() for k, v in secret.data["data"].items()}
        svc = one(r, "Service")
        server_name = f"{svc.name}.{h.namespace}.svc"
        with socket.socket() as s_:
            s_.bind(("127.0.0.1", 0))
            port = s_.getsockname()[1]
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "etc-gatehouse"
            mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
            for name, files in (("policies", bundle_files(r)), ("config", {"gatehouse.yaml": rendered_config(r)}),
                                ("tls", {"tls.crt": data["tls.crt"], "tls.key": data["tls.key"], "ca.crt": data["ca.crt"]})):
                mount = root / Path(mounts[name]).relative_to("/etc/gatehouse")
                mount.mkdir(parents=True)
                kubelet_layout(files, mount)
            args = []
            for a in c["args"]:
                a = a.replace("/etc/gatehouse", str(root))
                if a.startswith("--listen="):
                    expect(a.endswith(f":{c['ports'][0]['containerPort']}"), f"--listen {a} is not the container port")
                    a = f"--listen=127.0.0.1:{port}"
                args.append(a)
            env = dict(os.environ, POD_NAMESPACE=h.namespace, RUST_LOG="warn")
            log = Path(tmp) / "webhook.log"
            with log.open("w") as out:
                proc = subprocess.Popen([str(h.policy_webhook), *args, "--no-cluster"], stdout=out, stderr=subprocess.STDOUT, env=env)
                try:
                    deadline = time.monotonic() + 30
                    status = None
                    while time.monotonic() < deadline:
                        if proc.poll() is not None:
                            fail(f"policy-webhook {' '.join(args)} exited {proc.returncode}: {log.read_text()[-2000:]}")
                        try:
                            status, body = https(port, server_name, data["ca.crt"], "GET", c["readinessProbe"]["httpGet"]["path"])
                            if status == 200:
                                break
                        except (OSError, ssl.SSLError, http.client.HTTPException):
                            pass
                        time.sleep(0.3)
                    expect(status == 200, f"/readyz never answered 200 over HTTPS for {server_name} (last {status}): {log.read_text()[-2000:]}")
                    status, _ = https(port, server_name, data["ca.crt"], "GET", c["livenessProbe"]["httpGet"]["path"])
                    expect(status == 200, f"liveness {c['livenessProbe']['httpGet']['path']} answered {status}")
                    status, body = https(port, server_name, data["ca.crt"], "GET", "/metrics")
                    expect(status == 200 and b"gatehouse_bundle_policies" in body, f"/metrics answered {status}")
                    paths = {webhook_class(w["name"]): w["clientConfig"]["service"]["path"] for _, w in webhooks(r)}
                    status, body = https(port, server_name, data["ca.crt"], "POST", paths["security"] + "?timeout=5s", pod_review("smoke"))
                    expect(status == 200, f"POST {paths['security']} answered {status} {body[:300]!r}: does {h.policy_webhook} serve that path?")
                    resp = json.loads(body).get("response") or {}
                    expect(status == 200 and resp.get("allowed") is False and "pod-security-restricted" in json.dumps(resp),
                           f"a privileged pod in namespace smoke was not denied by {paths['security']}: {status} {body[:500]!r}")
                    status, body = https(port, server_name, data["ca.crt"], "POST", paths["security"] + "?timeout=5s", pod_review(h.namespace))
                    expect(status == 200, f"POST {paths['security']} answered {status} {body[:300]!r}")
                    expect( json.loads(body)["response"]["allowed"] is True,
                           f"a pod in the release namespace {h.namespace} was judged (POD_NAMESPACE not honoured?): {body[:500]!r}")
                    for cls in ("practices", "mutate"):
                        status, body = https(port, server_name, data["ca.crt"], "POST", paths[cls] + "?timeout=5s", pod_review("smoke"))
                        expect(status == 200 and "response" in json.loads(body or b"{}"), f"POST {paths[cls]} answered {status}: {body[:300]!r}")
                finally:
                    proc.terminate()
                    try:
                        proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
    h.check("the webhook binary serves the rendered bundle, config and certificate over HTTPS and denies a privileged pod", binary_serves)

    # -- the packaged chart carries the bundle (the link resolved), without tests and samples.
    def packaged() -> None:
        import helm_python  # noqa: PLC0415 - the harness's dependency
        with tempfile.TemporaryDirectory() as tmp:
            from check_charts import go_stderr_filtered  # type: ignore[import-not-found]  # noqa: PLC0415
            with go_stderr_filtered():
                tgz = helm_python.package(str(h.chart_dir), destination=tmp)
            with tarfile.open(tgz) as tar:
                names = tar.getnames()
            bundled = [n for n in names if "/files/policies/" in n]
            expect(not [n for n in bundled if n.endswith("_test.rego") or "/samples/" in n], "the package ships Rego tests or samples")
            expect(len([n for n in bundled if n.endswith("/policy.rego")]) == len(list((bundle / "kubernetes").glob("*/policy.rego"))),
                   f"the package holds {len(bundled)} bundle files: the files/policies link was not followed")
            expect(not [n for n in names if "/ci/" in n], "the package ships ci/ values")
            with go_stderr_filtered():
                from_package = helm_python.Chart.load(tgz).render({}, name=h.release, namespace=h.namespace, is_install=True)
            key = [k for k in from_package if k.endswith("configmap-policies.yaml")][0]
            expect(from_package[key] == default.files[key], "the packaged chart renders another bundle ConfigMap than the chart directory")
    h.check("the packaged chart holds the bundle without tests or samples and renders the same", packaged)

    # -- generated mode across upgrades. `lookup` answers nothing offline, so this renders a copy
    # of the chart whose lookup is replaced by a value standing for the Secret in the cluster.
    def generated_reuse() -> None:
        import shutil  # noqa: PLC0415
        lookup = '{{- $existing := lookup "v1" "Secret" .Release.Namespace $name -}}'
        helpers = (h.chart_dir / "templates" / "_helpers.tpl").read_text()
        expect(lookup in helpers, f"_helpers.tpl no longer looks the Secret up with `{lookup}`: update this test")
        first = one(gen, "Secret").data
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / h.chart
            shutil.copytree(h.chart_dir, copy, symlinks=True, ignore=shutil.ignore_patterns("files"))
            (copy / "files").mkdir()
            (copy / "files" / "policies").symlink_to((h.chart_dir / "files" / "policies").resolve())
            (copy / "templates" / "_helpers.tpl").write_text(helpers.replace(lookup, '{{- $existing := .Values.testExistingSecret | default dict -}}'))
            schema = json.loads((copy / "values.schema.json").read_text())
            schema["properties"]["testExistingSecret"] = {"type": "object"}
            (copy / "values.schema.json").write_text(json.dumps(schema))
            from check_charts import render_chart  # type: ignore[import-not-found]  # noqa: PLC0415
            values = dict(gen.values)

            def upgrade(not_after: str) -> tuple[dict, list[bytes]]:
                existing = {"metadata": {"annotations": {"gatehouse.dev/certificate-not-after": not_after}}, "data": first["data"]}
                r = render_chart(copy, dict(values, testExistingSecret=existing), "upgrade", h.release, h.namespace)
                bundles = {w["clientConfig"]["caBundle"] for _, w in webhooks(r)}
                expect(len(bundles) == 1, "after an upgrade the webhooks carry different caBundles")
                return one(r, "Secret").data, [base64.b64decode(b) for b in bundles]
            kept, bundles = upgrade(first["metadata"]["annotations"]["gatehouse.dev/certificate-not-after"])
            expect(kept["data"] == first["data"], "an upgrade while the certificate is valid made a new one (the Secret was not reused)")
            expect(bundles[0] == base64.b64decode(first["data"]["ca.crt"]), "an upgrade that reused the Secret changed the caBundle")
            rotated, bundles = upgrade("2000-01-01T00:00:00Z")
            expect(rotated["data"]["tls.crt"] != first["data"]["tls.crt"], "an upgrade of an expired certificate kept it")
            old_ca = base64.b64decode(first["data"]["ca.crt"]).strip()
            new_ca = base64.b64decode(rotated["data"]["ca.crt"]).strip()
            expect(old_ca in bundles[0] and new_ca in bundles[0],
                   "after a rotation the caBundle must trust the new CA and the old one (pods serve the old certificate until the kubelet updates their volume)")
    h.check("generated mode: an upgrade reuses a valid Secret, and a rotation trusts the old and new CA", generated_reuse)
