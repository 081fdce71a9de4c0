#!/usr/bin/env bash
# Makes sure nats-server (Debian's package `nats-server`, 2.9) is installed for the cluster tests
# (test/cluster/ start 3 of them on loopback). Idempotent: does nothing when the binary is there.
# Usage: scripts/install-nats.sh   (needs root, or sudo, to install the package)
set -euo pipefail
# shellcheck source=lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"

BIN=${NATS_SERVER:-nats-server}

fail() { echo "install-nats: $*" >&2; exit 1; }

if command -v "$BIN" >/dev/null; then
  echo "install-nats: already present: $("$BIN" --version 2>/dev/null || echo "$BIN")"
  exit 0
fi

apt_install install-nats nats-server

command -v "$BIN" >/dev/null || fail "package installed but $BIN is missing"
echo "install-nats: installed $("$BIN" --version)"
