#!/usr/bin/env bash
# Runs the scan, against a baseline of the base ref when one is given, and records the exit code
# and the reports as step outputs; the action's last step fails on it, after the SARIF upload.
set -uo pipefail
: "${RUNNER_TEMP:?}" "${GITHUB_OUTPUT:?}"
read -r -a paths <<< "${SCAN_PATHS:-.}"
read -r -a extra <<< "${EXTRA_ARGS:-}"
args=(--fail-on "${FAIL_ON:-deny}")
if [ -n "${BUNDLE:-}" ]; then
  args+=(--bundle "$(realpath "$BUNDLE")")
elif [ -d "$RUNNER_TEMP/policy-scan/share/policies" ]; then
  args+=(--bundle "$RUNNER_TEMP/policy-scan/share/policies")
fi
if [ "${HELM_CI_VALUES:-true}" = true ]; then
  args+=(--helm-ci-values)
fi
reports="$RUNNER_TEMP/policy-scan/reports"
mkdir -p "$reports"

if [ -n "${BASELINE_REF:-}" ]; then
  base="$RUNNER_TEMP/policy-scan/base"
  git fetch --quiet --depth=1 origin "$BASELINE_REF"
  git worktree add --quiet --detach "$base" FETCH_HEAD
  # Scanned from inside the worktree, so paths (and so finding keys) read as in the head.
  (cd "$base" && policy-scan scan "${args[@]}" "${extra[@]}" --allow-empty --format "json=$reports/baseline.json" "${paths[@]}" > /dev/null)
  code=$?
  git worktree remove --force "$base"
  if [ "$code" -gt 1 ]; then
    echo "::warning::the scan of $BASELINE_REF exited $code: no baseline, every finding counts"
  else
    args+=(--baseline "$reports/baseline.json")
  fi
fi

policy-scan scan "${args[@]}" "${extra[@]}" \
  --format human --format "json=$reports/policy-scan.json" --format "sarif=$reports/policy-scan.sarif" \
  --format "github=$reports/annotations.txt" "${paths[@]}"
code=$?
cat "$reports/annotations.txt" 2>/dev/null || true
{
  echo "exit-code=$code"
  echo "json=$reports/policy-scan.json"
  echo "sarif=$reports/policy-scan.sarif"
} >> "$GITHUB_OUTPUT"
exit 0
