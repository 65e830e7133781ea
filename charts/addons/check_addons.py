#!/usr/bin/env python3
"""Checks charts/addons: the pinned add-on list and the guideline traceability of its values.

    python3 charts/addons/check_addons.py [--guidelines docs/infrastructure-guidelines.md]

What it checks, each failure reported as `file:line: message`, exit status 1 when any:

- versions.yaml is a list of entries with exactly the keys name, repository, chart, version,
  namespace, values (and optionally podSecurity, extraNamespaces, dependsOn, description);
  names are unique; the repository is an https:// or oci:// URL; the version is one exact
  release (semver, optional leading "v"), never a range, wildcard or "latest"; the namespace is a
  DNS label; the values file exists beside this script, is named <name>/values.yaml, and parses
  as YAML; dependsOn names other entries.
- every `# guideline: <Section> / <bullet text>` comment in a values file names a real bullet of
  the guidelines: a section is a markdown heading, a bullet is a "- " line under it, and the
  bullet text must match exactly (case and punctuation included);
- every guideline comment annotates a value: the next line that is not a comment is a YAML key
  (a comment at the end of a file, or before a blank line, annotates nothing);
- every values file carries at least one guideline comment, and the README names every entry
  with its pinned version.

Only the standard library and PyYAML are used.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_GUIDELINES = HERE.parent.parent / "docs" / "infrastructure-guidelines.md"

REQUIRED_KEYS = {"name", "repository", "chart", "version", "namespace", "values"}
OPTIONAL_KEYS = {"podSecurity", "extraNamespaces", "dependsOn", "description"}
EXACT_VERSION = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
GUIDELINE = re.compile(r"#\s*guideline:\s*(?P<ref>.*?)\s*$")
KEY_LINE = re.compile(r"^\s*(-\s+)?[\"']?[A-Za-z0-9_./@-]+[\"']?\s*:(\s|$)")
PSA_LEVELS = {"restricted", "baseline", "privileged"}


def parse_guidelines(path: Path) -> dict[str, set[str]]:
    """Sections (markdown headings) and their bullets ("- " lines), text as written."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            current = heading.group(1)
            sections.setdefault(current, set())
        elif line.startswith("- ") and current is not None:
            sections[current].add(line[2:].strip())
    return sections


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: Path, line: int, message: str) -> None:
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        self.errors.append(f"{shown}:{line}: {message}")


def check_guideline_ref(ref: str, sections: dict[str, set[str]]) -> str | None:
    """None when ref names a real bullet, else why not."""
    if " / " not in ref:
        return f"guideline {ref!r} is not '<Section> / <bullet text>'"
    section, bullet = ref.split(" / ", 1)
    if section not in sections:
        return f"guideline section {section!r} is not a heading of the guidelines (known: {', '.join(sorted(sections))})"
    if bullet not in sections[section]:
        close = [b for b in sections[section] if b.lower() == bullet.lower() or b.startswith(bullet[:20])]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"guideline bullet {bullet!r} is not a bullet of section {section!r}{hint}"
    return None


def check_values_file(path: Path, sections: dict[str, set[str]], report: Report) -> int:
    """Checks one values file; returns how many guideline comments it has."""
    text = path.read_text(encoding="utf-8")
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        report.error(path, (mark.line + 1) if mark else 1, f"does not parse as YAML: {e}")
        return 0
    lines = text.splitlines()
    count = 0
    for i, line in enumerate(lines):
        m = GUIDELINE.search(line)
        if not m:
            continue
        if not line.lstrip().startswith("#"):
            report.error(path, i + 1, "a guideline comment stands on its own line, above the value it explains")
            continue
        count += 1
        problem = check_guideline_ref(m.group("ref"), sections)
        if problem:
            report.error(path, i + 1, problem)
        # The comment must annotate a value: the next non-comment line is a key.
        j = i + 1
        while j < len(lines) and lines[j].lstrip().startswith("#"):
            j += 1
        if j >= len(lines) or not KEY_LINE.match(lines[j]):
            report.error(path, i + 1, "guideline comment annotates no value: put it right above the key it explains")
    if count == 0:
        report.error(path, 1, "values file has no '# guideline: <Section> / <bullet>' comment")
    return count


def node_line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def check_versions(versions: Path, sections: dict[str, set[str]], report: Report) -> list[dict]:
    text = versions.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        report.error(versions, (mark.line + 1) if mark else 1, f"does not parse as YAML: {e}")
        return []
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode) or not data:
        report.error(versions, 1, "versions.yaml must be a non-empty list of add-ons")
        return []
    names: dict[str, int] = {}
    entries = []
    for node, entry in zip(root.value, data):
        line = node_line(node)
        if not isinstance(entry, dict):
            report.error(versions, line, "an entry is a mapping")
            continue
        key_lines = {k.value: node_line(k) for k, _ in node.value} if isinstance(node, yaml.MappingNode) else {}
        missing = REQUIRED_KEYS - entry.keys()
        unknown = entry.keys() - REQUIRED_KEYS - OPTIONAL_KEYS
        if missing:
            report.error(versions, line, f"entry lacks {', '.join(sorted(missing))}")
        for key in sorted(unknown):
            report.error(versions, key_lines.get(key, line), f"unknown key {key!r}")
        name = str(entry.get("name", ""))
        if name in names:
            report.error(versions, line, f"add-on {name!r} is listed twice (first at line {names[name]})")
        names[name] = line
        if not DNS_LABEL.match(name):
            report.error(versions, key_lines.get("name", line), f"name {name!r} is not a DNS label")
        repo = str(entry.get("repository", ""))
        if not (repo.startswith("https://") or repo.startswith("oci://")):
            report.error(versions, key_lines.get("repository", line), f"repository {repo!r} is not an https:// or oci:// URL")
        version = entry.get("version")
        if not isinstance(version, str) or not EXACT_VERSION.match(version):
            report.error(
                versions,
                key_lines.get("version", line),
                f"version {version!r} of {name!r} is not one exact release (quote it; no ranges, wildcards or latest)",
            )
        namespace = str(entry.get("namespace", ""))
        if not DNS_LABEL.match(namespace):
            report.error(versions, key_lines.get("namespace", line), f"namespace {namespace!r} is not a DNS label")
        level = entry.get("podSecurity", "restricted")
        if level not in PSA_LEVELS:
            report.error(versions, key_lines.get("podSecurity", line), f"podSecurity {level!r} is not one of {sorted(PSA_LEVELS)}")
        for extra in entry.get("extraNamespaces", []) or []:
            if not isinstance(extra, dict) or not DNS_LABEL.match(str(extra.get("name", ""))) or extra.get(
                "podSecurity", "restricted"
            ) not in PSA_LEVELS or set(extra) - {"name", "podSecurity"}:
                report.error(versions, key_lines.get("extraNamespaces", line), f"extraNamespaces entry {extra!r} is not {{name, podSecurity}}")
        values = entry.get("values")
        if isinstance(values, str):
            if values != f"{name}/values.yaml":
                report.error(versions, key_lines.get("values", line), f"values file of {name!r} is {values!r}, expected {name}/values.yaml")
            path = HERE / values
            if not path.is_file():
                report.error(versions, key_lines.get("values", line), f"values file {values} of {name!r} does not exist")
            else:
                check_values_file(path, sections, report)
        entries.append(entry)
    for node, entry in zip(root.value, data):
        if isinstance(entry, dict):
            for dep in entry.get("dependsOn", []) or []:
                if dep not in names:
                    report.error(versions, node_line(node), f"dependsOn {dep!r} names no add-on of versions.yaml")
    return entries


def check_readme(readme: Path, entries: list[dict], report: Report) -> None:
    if not readme.is_file():
        report.error(readme, 1, "README.md is missing")
        return
    text = readme.read_text(encoding="utf-8")
    for entry in entries:
        row = re.search(rf"^\|\s*`?{re.escape(str(entry.get('name')))}`?\s*\|.*$", text, re.M)
        if not row:
            report.error(readme, 1, f"the README's table has no row for {entry.get('name')!r}")
        elif str(entry.get("version")) not in row.group(0):
            line = text[: row.start()].count("\n") + 1
            report.error(readme, line, f"the README's row for {entry.get('name')!r} does not give version {entry.get('version')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guidelines", type=Path, default=DEFAULT_GUIDELINES, help="the guidelines markdown")
    args = parser.parse_args(argv)
    report = Report()
    if not args.guidelines.is_file():
        print(f"{args.guidelines}: guidelines file not found", file=sys.stderr)
        return 2
    sections = parse_guidelines(args.guidelines)
    entries = check_versions(HERE / "versions.yaml", sections, report)
    listed = {f"{e.get('name')}/values.yaml" for e in entries}
    for path in sorted(HERE.glob("*/values.yaml")):
        if path.relative_to(HERE).as_posix() not in listed:
            report.error(path, 1, "values file of no versions.yaml entry")
    check_readme(HERE / "README.md", entries, report)
    for error in report.errors:
        print(error, file=sys.stderr)
    if report.errors:
        print(f"check_addons: {len(report.errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_addons: {len(entries)} add-ons, every values file traced to the guidelines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
