#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is installed, from the Debian package `chromium`, for
# the web UI test (test/integration/web-ui.test.ts drives it with playwright-core; no browser is
# ever downloaded). Idempotent: does nothing when the binary is already there.
# Usage: scripts/install-chromium.sh   (needs root, or sudo, to install the package)
set -euo pipefail
# shellcheck source=lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"

BIN=${MRL_CHROMIUM:-/usr/bin/chromium}  # override only to check the failure path

fail() { echo "install-chromium: $*" >&2; exit 1; }

if [[ -x "$BIN" ]]; then
  echo "install-chromium: already present at $BIN"
  exit 0
fi

apt_install install-chromium chromium

[[ -x "$BIN" ]] || fail "package installed but $BIN is missing"
echo "install-chromium: installed $("$BIN" --version 2>/dev/null || echo "$BIN")"
