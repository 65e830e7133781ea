"""`helm template`, as far as policy-scan runs it, over Helm v4 as a library (helm-python-sdk).

Build machines have no Helm binary and cannot download one; the library is Helm's own Go code,
so what this prints is what `helm template` prints: `---`, `# Source: <chart>/<path>` and each
document of each rendered template, hooks and test hooks included, CRDs with --include-crds.

    helm template [NAME] CHART [-f FILE]... [--set K=V]... [--set-string K=V]...
                  [-n NS | --namespace NS] [--include-crds]
"""

from __future__ import annotations

import re
import sys

import helm_python

SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


def fail(message: str) -> None:
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)


def deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def parse(argv: list[str]) -> dict:
    if not argv or argv[0] != "template":
        fail("this helm implements only `helm template` (tests/helm/helm_template.py)")
    args = {"positional": [], "values": [], "sets": [], "namespace": "default", "crds": False}
    it = iter(argv[1:])
    for arg in it:
        name, eq, inline = arg.partition("=")
        take = (lambda: inline) if eq else (lambda: next(it, None))
        if name in ("-f", "--values"):
            args["values"].append(take())
        elif name == "--set":
            args["sets"].append(("set", take()))
        elif name == "--set-string":
            args["sets"].append(("string", take()))
        elif name in ("-n", "--namespace"):
            args["namespace"] = take()
        elif arg == "--include-crds":
            args["crds"] = True
        elif arg.startswith("-"):
            fail(f"unknown flag: {arg}")
        else:
            args["positional"].append(arg)
    if None in args["values"] or any(v is None for _, v in args["sets"]) or args["namespace"] is None:
        fail("flag needs an argument")
    if len(args["positional"]) not in (1, 2):
        fail(f"expected [NAME] CHART, got {args['positional']}")
    return args


def split_documents(text: str) -> list[str]:
    return [d.strip() for d in SEPARATOR.split(text) if d.strip()]


def main(argv: list[str]) -> None:
    args = parse(argv)
    name, chart_path = (["release-name"] + args["positional"])[-2:]
    values: dict = {}
    try:
        for path in args["values"]:
            with open(path, encoding="utf-8") as f:
                values = deep_merge(values, helm_python.values_from_yaml(f.read()) or {})
        for how, expression in args["sets"]:
            parse_set = helm_python.parse_set_string if how == "set" else helm_python.parse_set_string_values
            values = deep_merge(values, parse_set(expression))
        chart = helm_python.Chart.load(chart_path)
        if chart.metadata.get("type") == "library":
            fail("library charts are not installable")
        chart.validate_schema(chart.merge_values(values))
        rendered = chart.render(values, name=name, namespace=args["namespace"], is_install=True)
    except (helm_python.HelmError, OSError) as e:
        fail(str(e))
    out = []
    if args["crds"]:
        for crd in chart.crds:
            for doc in split_documents(crd["data"] if isinstance(crd["data"], str) else crd["data"].decode()):
                out.append(f"---\n# Source: {chart.name}/{crd['filename']}\n{doc}\n")
    for template in sorted(rendered):
        if template.endswith("NOTES.txt"):
            continue
        for doc in split_documents(rendered[template]):
            out.append(f"---\n# Source: {template}\n{doc}\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
