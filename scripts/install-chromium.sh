#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is installed, from the Debian package `chromium`, for
# the web UI test (test/integration/web-ui.test.ts drives it with playwright-core; no browser is
# ever downloaded). Idempotent: does nothing when the binary is already there.
# Usage: scripts/install-chromium.sh   (needs root, or sudo, to install the package)
set -euo pipefail

BIN=${MRL_CHROMIUM:-/usr/bin/chromium}  # override only to check the failure path

fail() { echo "install-chromium: $*" >&2; exit 1; }

if [[ -x "$BIN" ]]; then
  echo "install-chromium: already present at $BIN"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || fail "not root and no sudo: install the Debian package chromium by hand"
  SUDO=(sudo)
fi
command -v apt-get >/dev/null || fail "apt-get not found: install Chromium by hand and point MRL_CHROMIUM at its binary"

echo "install-chromium: installing chromium with apt-get" >&2
"${SUDO[@]}" apt-get update -qq || fail "apt-get update failed"
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium \
  || fail "apt-get install chromium failed"

[[ -x "$BIN" ]] || fail "package installed but $BIN is missing"
echo "install-chromium: installed $("$BIN" --version 2>/dev/null || echo "$BIN")"
