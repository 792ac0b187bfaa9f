#!/usr/bin/env bash
# What `make bench` needs beyond `make deps`: nginx (nginx-light, unless an nginx is already
# there), GNU time, node/npm (for @huggingface/hub; its rows are skipped without them).
# Debian packages through apt-get, only the missing ones.
set -eu
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/bin/time ] || missing+=(time)
command -v node >/dev/null 2>&1 || echo "bench: no node: the @huggingface/hub rows will be skipped" >&2
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bench: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "bench: not root; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || apt-get update
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# the package's own service is not wanted (the bench runs its own nginx on loopback)
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v service >/dev/null 2>&1; then
  service nginx stop >/dev/null 2>&1 || true
fi
