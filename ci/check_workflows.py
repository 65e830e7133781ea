#!/usr/bin/env python3
"""The rules of this repository's pipelines that no generic linter checks (scripts/lint-ci runs
it after zizmor, check-jsonschema, hadolint and shellcheck):

- every remote `uses:` is pinned to a full commit SHA with the version in a trailing comment;
  local ones start with ./; docker:// ones carry a sha256 digest;
- every workflow sets `permissions` at the top (empty: each job asks for its own) and every job
  sets its own, and `timeout-minutes`;
- a job that reads `secrets.*` runs in an `environment` (secrets come from environment secrets
  only, which protection rules gate); GITHUB_TOKEN goes through `github.token`;
- every actions/checkout sets `persist-credentials: false`;
- every repository script a workflow or action runs exists and is executable;
- the chart values the deploy uses (ci/deploy/*-values.yaml) pass the chart's values schema.

`--self-test` first checks that each rule rejects a workflow that breaks it.
Exits 1 naming file and rule of every failure.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\s*$")
SCRIPT = re.compile(r"(?:^|[\s\"'])((?:ci|scripts)/[A-Za-z0-9_./-]+)")


def uses_lines(text: str) -> list[tuple[int, str, str]]:
    """(line, value, rest of line) of every `uses:`."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", line)
        if m:
            found.append((n, m.group(1).strip("'\""), m.group(2)))
    return found


def check_uses(name: str, text: str) -> list[str]:
    problems = []
    for n, value, rest in uses_lines(text):
        if value.startswith("./"):
            continue
        if value.startswith("docker://"):
            if not re.search(r"@sha256:[0-9a-f]{64}$", value):
                problems.append(f"{name}:{n}: {value}: a docker action needs a sha256 digest")
            continue
        if not PINNED.match(value):
            problems.append(f"{name}:{n}: {value}: not pinned to a full commit SHA")
        elif not VERSION_COMMENT.search(rest):
            problems.append(f"{name}:{n}: {value}: no `# vX.Y.Z` comment naming the pinned version")
    return problems


def walk_steps(job: dict) -> list[dict]:
    return [s for s in job.get("steps") or [] if isinstance(s, dict)]


def check_workflow(name: str, text: str) -> list[str]:
    problems = check_uses(name, text)
    doc = yaml.safe_load(text) or {}
    if "permissions" not in doc:
        problems.append(f"{name}: no top-level permissions (set `permissions: {{}}` and grant per job)")
    for job_id, job in (doc.get("jobs") or {}).items():
        where = f"{name}: job {job_id}"
        if "permissions" not in job:
            problems.append(f"{where}: no permissions of its own")
        calls_workflow = "uses" in job
        if not calls_workflow and "timeout-minutes" not in job:
            problems.append(f"{where}: no timeout-minutes")
        if "secrets." in yaml.safe_dump(job) and "environment" not in job:
            problems.append(f"{where}: reads secrets outside an environment")
        if job.get("secrets") == "inherit":
            problems.append(f"{where}: `secrets: inherit` passes every secret on")
        for step in walk_steps(job):
            uses = str(step.get("uses", ""))
            if uses.startswith("actions/checkout@") and (step.get("with") or {}).get("persist-credentials") is not False:
                problems.append(f"{where}: actions/checkout without `persist-credentials: false`")
    return problems


def check_scripts(name: str, text: str) -> list[str]:
    problems = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#") or "uses:" in line:
            continue
        for path in SCRIPT.findall(line):
            path = path.rstrip(".")
            target = ROOT / path
            if path.endswith((".yaml", ".yml", ".json", ".md", ".txt", ".sql", ".tfplan")) or "/" not in path:
                if not target.exists() and not any(c in path for c in "*$"):
                    problems.append(f"{name}:{n}: {path} does not exist")
                continue
            if any(c in path for c in "*$"):
                continue
            if not target.is_file():
                problems.append(f"{name}:{n}: {path} does not exist")
            elif not target.stat().st_mode & 0o111:
                problems.append(f"{name}:{n}: {path} is not executable")
    return problems


def check_deploy_values() -> list[str]:
    import helm_python  # the chart venv has it

    problems = []
    chart = helm_python.Chart.load(str(ROOT / "charts" / "policy-webhook"))
    for values in sorted((ROOT / "ci" / "deploy").glob("*-values.yaml")):
        try:
            chart.validate_schema(chart.merge_values(yaml.safe_load(values.read_text()) or {}))
            chart.render(yaml.safe_load(values.read_text()) or {}, name="gatehouse", namespace="gatehouse-system", is_install=True)
        except helm_python.HelmError as e:
            problems.append(f"{values.relative_to(ROOT)}: the chart refuses it: {e}")
    return problems


def self_test() -> None:
    sha = "0" * 40
    cases = {
        "unpinned": ("permissions: {}\njobs:\n  a:\n    permissions: {}\n    timeout-minutes: 1\n    steps:\n      - uses: actions/checkout@v4\n", "not pinned"),
        "no comment": (f"permissions: {{}}\njobs:\n  a:\n    permissions: {{}}\n    timeout-minutes: 1\n    steps:\n      - uses: o/r@{sha}\n", "no `# vX.Y.Z`"),
        "no top permissions": ("jobs: {}\n", "no top-level permissions"),
        "no job permissions": ("permissions: {}\njobs:\n  a:\n    timeout-minutes: 1\n    steps: []\n", "no permissions of its own"),
        "no timeout": ("permissions: {}\njobs:\n  a:\n    permissions: {}\n    steps: []\n", "no timeout-minutes"),
        "secret outside environment": ("permissions: {}\njobs:\n  a:\n    permissions: {}\n    timeout-minutes: 1\n    steps:\n      - run: echo\n        env: {K: '${{ secrets.K }}'}\n", "outside an environment"),
        "checkout credentials": (f"permissions: {{}}\njobs:\n  a:\n    permissions: {{}}\n    timeout-minutes: 1\n    steps:\n      - uses: actions/checkout@{sha} # v4.2.2\n", "persist-credentials"),
        "docker tag": ("permissions: {}\njobs:\n  a:\n    permissions: {}\n    timeout-minutes: 1\n    steps:\n      - uses: docker://alpine:3.20\n", "sha256 digest"),
    }
    for label, (text, expected) in cases.items():
        problems = check_workflow(f"<{label}>", text)
        if not any(expected in p for p in problems):
            raise SystemExit(f"self-test: the rule for {label!r} did not fire: {problems}")
    missing = check_scripts("<missing script>", "      run: ci/no-such-script --flag\n")
    if not missing:
        raise SystemExit("self-test: a missing script was not reported")
    print(f"self-test: {len(cases) + 1} broken workflows rejected")


def main() -> int:
    if "--self-test" in sys.argv:
        self_test()
    problems: list[str] = []
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    actions = sorted((ROOT / "ci" / "actions").glob("*/action.yml"))
    for path in workflows:
        text = path.read_text()
        problems += check_workflow(str(path.relative_to(ROOT)), text)
        problems += check_scripts(str(path.relative_to(ROOT)), text)
    for path in actions:
        text = path.read_text()
        problems += check_uses(str(path.relative_to(ROOT)), text)
        for n, line in enumerate(text.splitlines(), 1):
            for script in re.findall(r"\$GITHUB_ACTION_PATH/([A-Za-z0-9_.-]+)", line):
                target = path.parent / script
                if not (target.is_file() and target.stat().st_mode & 0o111):
                    problems.append(f"{path.relative_to(ROOT)}:{n}: {script} is missing or not executable")
    problems += check_deploy_values()
    uses = sum(len(uses_lines(p.read_text())) for p in workflows + actions)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(workflows)} workflows, {len(actions)} actions, {uses} uses: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
