#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, and nothing when
# all of them are already there (so `make check` can call it every time).
set -eu
pkgs=(
  build-essential pkg-config
  libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev libarchive-dev
  check
  python3 openssl curl strace file python3-docutils
  libxml2-utils python3-cheetah libarchive-tools unzip zstd
  ${EXTRA_DEPS:-}
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: not root; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || apt-get update
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
