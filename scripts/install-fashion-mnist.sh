#!/usr/bin/env bash
# Makes sure the full Fashion-MNIST set (60k train / 10k test, MIT) is on disk, from the Debian
# package `dataset-fashion-mnist`. Idempotent: does nothing when the four files are already there.
# Usage: scripts/install-fashion-mnist.sh   (needs root, or sudo, to install the package)
set -euo pipefail
# shellcheck source=lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"

DIR=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}  # override only to check the failure path
FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

all_present() {
  local f
  for f in "${FILES[@]}"; do [[ -s "$DIR/$f" ]] || return 1; done
}

fail() { echo "install-fashion-mnist: $*" >&2; exit 1; }

if all_present; then
  echo "install-fashion-mnist: already present in $DIR"
  exit 0
fi

apt_install install-fashion-mnist dataset-fashion-mnist

all_present || fail "package installed but files are missing from $DIR: expected ${FILES[*]}"
echo "install-fashion-mnist: installed into $DIR"
