#!/usr/bin/env bash
# Runs one static binary inside an empty chroot: a temporary folder holding
# only the binary (/bin/NAME), /etc/hosts, a CA file and what the options add,
# with an empty environment (env -i) but for --env; the working folder is /. Exits with the binary's
# exit code; its stdout and stderr pass through. Needs root (chroot), or
# unprivileged user namespaces (unshare -r).
#
#   chroot-run.sh [options] BINARY [ARGS...]
#   --ca FILE           CA bundle to copy in (default: $HF_TEST_CA, else the
#                       host's /etc/ssl/certs/ca-certificates.crt)
#   --ca-path PATH      where the CA goes inside (default
#                       /etc/ssl/certs/ca-certificates.crt); repeatable, to
#                       lay it out as RHEL, Alpine, ... would
#   --no-ca             no CA file at all
#   --hosts FILE        /etc/hosts to copy in (default: the host's)
#   --file SRC:DEST     copy SRC to DEST inside (repeatable)
#   --dir PATH          create an empty folder inside, mode 1777 (repeatable)
#   --tree SRC:DEST     copy the folder SRC to DEST inside, recursively
#                       (repeatable)
#   --copy-out PATH:DEST after the run, copy PATH from inside (file or folder)
#                       to DEST outside (repeatable; a missing PATH is skipped)
#   --env NAME=VALUE    pass this variable (repeatable); nothing else is passed
#   --strace LOG        run under strace -f, logging file opens to LOG
#   --keep              keep the folder and print its path on stderr
#
# It writes a poisoned /etc/ssl/openssl.cnf inside (--file can replace it): a
# binary that loaded OpenSSL's configuration would fail every TLS handshake,
# and --strace would show the open.
set -euo pipefail

ca_src=${HF_TEST_CA:-/etc/ssl/certs/ca-certificates.crt}
ca_paths=()
no_ca=0
hosts=/etc/hosts
files=()
dirs=()
trees=()
outs=()
envs=()
strace_log=
keep=0

die() { echo "chroot-run: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --ca) ca_src=$2; shift 2 ;;
    --ca-path) ca_paths+=("$2"); shift 2 ;;
    --no-ca) no_ca=1; shift ;;
    --hosts) hosts=$2; shift 2 ;;
    --file) files+=("$2"); shift 2 ;;
    --dir) dirs+=("$2"); shift 2 ;;
    --tree) trees+=("$2"); shift 2 ;;
    --copy-out) outs+=("$2"); shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --strace) strace_log=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --) shift; break ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || die "usage: chroot-run.sh [options] BINARY [ARGS...]"
bin=$1; shift
[ -f "$bin" ] || die "no such binary: $bin"
name=$(basename "$bin")

root=$(mktemp -d "${TMPDIR:-/tmp}/hf-chroot.XXXXXX")
# shellcheck disable=SC2317 # run by the trap
cleanup() { if [ "$keep" -eq 1 ]; then echo "chroot-run: kept $root" >&2; else rm -rf "$root"; fi; }
trap cleanup EXIT

# put SRC DEST: copies a file to DEST inside the chroot
put() { mkdir -p "$root$(dirname "$2")"; cp -L "$1" "$root$2"; }

mkdir -p "$root/bin" "$root/etc/ssl"
cp "$bin" "$root/bin/$name"
chmod 755 "$root/bin/$name"
[ -f "$hosts" ] && put "$hosts" /etc/hosts
if [ $no_ca -eq 0 ]; then
  [ -f "$ca_src" ] || die "no CA file $ca_src (give --ca FILE or --no-ca)"
  [ ${#ca_paths[@]} -gt 0 ] || ca_paths=(/etc/ssl/certs/ca-certificates.crt)
  for p in "${ca_paths[@]}"; do put "$ca_src" "$p"; done
fi
# Loaded, this configuration makes every TLS handshake with a default server
# fail (TLS 1.3 with a suite servers do not enable): the static binaries must
# never read it (OpenSSL built no-autoload-config, curl told not to load it).
cat >"$root/etc/ssl/openssl.cnf" <<'EOF'
openssl_conf = hf_poison
[hf_poison]
ssl_conf = hf_poison_ssl
[hf_poison_ssl]
system_default = hf_poison_tls
[hf_poison_tls]
MinProtocol = TLSv1.3
Ciphersuites = TLS_AES_128_CCM_8_SHA256
EOF
for f in "${files[@]}"; do put "${f%%:*}" "${f#*:}"; done
for d in "${dirs[@]}"; do mkdir -p "$root$d"; chmod 1777 "$root$d"; done
for t in "${trees[@]}"; do
  [ -d "${t%%:*}" ] || die "--tree: no such folder ${t%%:*}"
  mkdir -p "$root$(dirname "${t#*:}")"
  cp -R "${t%%:*}" "$root${t#*:}"
done

# Absolute paths: env -i leaves no PATH to find them with.
chroot_cmd=$(command -v chroot) || die "chroot is not installed"
if [ "$(id -u)" -eq 0 ]; then
  run=("$chroot_cmd" "$root")
else
  run=("$(command -v unshare)" -r "$chroot_cmd" "$root")
fi
if [ -n "$strace_log" ]; then
  strace_cmd=$(command -v strace) || die "--strace: strace is not installed"
  # shellcheck disable=SC2054 # strace's own comma list
  run=("$strace_cmd" -f -qq -o "$strace_log" -e trace=open,openat,execve "${run[@]}")
fi

set +e
env -i "${envs[@]}" "${run[@]}" "/bin/$name" "$@"
rc=$?
for o in "${outs[@]}"; do
  [ -e "$root${o%%:*}" ] || continue
  rm -rf "${o#*:}"
  cp -R "$root${o%%:*}" "${o#*:}"
done
set -e
exit $rc
