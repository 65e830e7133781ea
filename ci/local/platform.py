#!/usr/bin/env python3
"""Installs the platform into the current kubectl context, as production has it: the add-ons of
charts/addons/versions.yaml at their pinned versions (namespaces labelled with their Pod
Security level, releases in dependsOn order), the platform baseline, and the Gatehouse webhook
in enforce mode (security webhook failurePolicy Fail) with the given image.

    platform.py --image-repository R --image-tag T [--baseline-values F] [--skip-addons] [--dry-run]

Runs `helm` and `kubectl`; --dry-run prints the commands instead. Needs PyYAML (scripts/chart-venv).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ROOT / "charts" / "addons"


def ordered(addons: list[dict]) -> list[dict]:
    """The add-ons in an order where each comes after what it dependsOn."""
    by_name = {a["name"]: a for a in addons}
    done: list[dict] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in path:
            raise SystemExit(f"versions.yaml: dependsOn loops through {' -> '.join(path + (name,))}")
        if name not in by_name:
            raise SystemExit(f"versions.yaml: {path[-1]} dependsOn {name}, which is not listed")
        for dep in by_name[name].get("dependsOn") or []:
            visit(dep, path + (name,))
        seen.add(name)
        done.append(by_name[name])

    for addon in addons:
        visit(addon["name"], ())
    return done


def namespace_manifest(name: str, level: str) -> str:
    labels = {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})


def commands(args: argparse.Namespace) -> list[tuple[list[str], str | None]]:
    """(argv, stdin) of every step, in order."""
    steps: list[tuple[list[str], str | None]] = []
    if not args.skip_addons:
        for addon in ordered(yaml.safe_load((ADDONS / "versions.yaml").read_text())):
            namespaces = [{"name": addon["namespace"], "podSecurity": addon.get("podSecurity", "restricted")}]
            namespaces += addon.get("extraNamespaces") or []
            for ns in namespaces:
                steps.append((["kubectl", "apply", "-f", "-"], namespace_manifest(ns["name"], ns.get("podSecurity", "restricted"))))
            chart = addon["chart"]
            repo = addon["repository"]
            ref = f"{repo}/{chart}" if repo.startswith("oci://") else chart
            argv = ["helm", "upgrade", "--install", addon["name"], ref, "--version", str(addon["version"]),
                    "--namespace", addon["namespace"], "--values", str(ADDONS / addon["values"]), "--wait", "--timeout", "10m"]
            if not repo.startswith("oci://"):
                argv += ["--repo", repo]
            steps.append((argv, None))
    steps.append((["helm", "upgrade", "--install", "platform", str(ROOT / "charts" / "platform-baseline"),
                   "--values", str(args.baseline_values), "--wait", "--timeout", "5m"], None))
    steps.append((["kubectl", "apply", "-f", "-"], namespace_manifest("gatehouse-system", "restricted")))
    steps.append((["helm", "upgrade", "--install", "gatehouse", str(ROOT / "charts" / "policy-webhook"),
                   "--namespace", "gatehouse-system",
                   "--set", f"image.repository={args.image_repository}", "--set", f"image.tag={args.image_tag}",
                   "--set", "image.pullPolicy=IfNotPresent", "--wait", "--timeout", "5m"]
                  # Without the add-ons there is no cert-manager: the chart makes its own certificate.
                  + (["--set", "certificates.mode=generated"] if args.skip_addons else []), None))
    return steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-repository", required=True)
    parser.add_argument("--image-tag", required=True)
    parser.add_argument("--baseline-values", default=ROOT / "charts" / "platform-baseline" / "ci" / "dev-values.yaml", type=Path)
    parser.add_argument("--skip-addons", action="store_true", help="install only the baseline and the webhook")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args()
    for argv, stdin in commands(args):
        print("+ " + shlex.join(argv), flush=True)
        if args.dry_run:
            continue
        done = subprocess.run(argv, input=stdin, text=True, check=False)
        if done.returncode != 0:
            print(f"failed ({done.returncode}): {shlex.join(argv)}", file=sys.stderr)
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
