#!/usr/bin/env bash
# Puts policy-scan on PATH: the release's Linux binary, verified against its SHA256SUMS, or a
# build of this action's own checkout when VERSION is `source`.
set -euo pipefail
: "${VERSION:?}" "${RUNNER_TEMP:?}" "${GITHUB_PATH:?}"
bin="$RUNNER_TEMP/policy-scan/bin"
mkdir -p "$bin"
if [ "$VERSION" = source ]; then
  cargo install --locked --quiet --root "$RUNNER_TEMP/policy-scan" --path "${ACTION_ROOT:?}/scanner"
else
  case "$VERSION" in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) echo "::error::version must be a release such as 0.1.0, or source; got '$VERSION'"; exit 2 ;;
  esac
  base="https://github.com/gatehouse/gatehouse/releases/download/v$VERSION"
  archive="policy-scan-$VERSION-x86_64-unknown-linux-gnu.tar.gz"
  work="$(mktemp -d)"
  curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 -o "$work/$archive" "$base/$archive"
  curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 -o "$work/SHA256SUMS" "$base/SHA256SUMS"
  (cd "$work" && grep " $archive\$" SHA256SUMS | sha256sum --check --strict -)
  tar -xzf "$work/$archive" -C "$RUNNER_TEMP/policy-scan"
fi
echo "$bin" >> "$GITHUB_PATH"
"$bin/policy-scan" --version
