# Sourced by the install-*.sh scripts: installs Debian packages with apt-get, as root or through
# sudo, or stops with a message naming what to install by hand.
# apt_install TAG PACKAGE...   (TAG prefixes every message, e.g. "install-chromium")
apt_install() {
  local tag=$1
  shift
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "$tag: not root and no sudo: install the Debian package(s) $* by hand" >&2; exit 1; }
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null || { echo "$tag: apt-get not found: install the Debian package(s) $* by hand" >&2; exit 1; }
  echo "$tag: installing $* with apt-get" >&2
  "${sudo[@]}" apt-get update -qq || { echo "$tag: apt-get update failed" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" \
    || { echo "$tag: apt-get install $* failed" >&2; exit 1; }
}
