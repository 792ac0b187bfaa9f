#!/usr/bin/env bash
# End-to-end checks of the static binaries, each run in an empty chroot
# (chroot-run.sh: the binary, /etc/hosts, a CA file, the output folder, an
# empty environment) against the fixture Hub over HTTPS with a CA made at test
# time, compared with the ordinary build (bin/) run outside the chroot against
# the same Hub:
#   * hf-list of acme/tiny-model: stdout and stderr byte for byte (tsv, json);
#   * hf-fetch -o /out -m /out.json: every file's sha256 and the manifest's
#     files array;
#   * hf-bundle -o /out.tar of that folder, and --repo straight from the Hub,
#     SOURCE_DATE_EPOCH set for both: the archives' sha256;
#   * CA probing: the CA at each of the probed places alone (the 6 fixed
#     paths, $CURL_CA_BUNDLE, $SSL_CERT_FILE, a hashed $SSL_CERT_DIR) works;
#     no CA, or another CA, fails with exit 6 before any request reaches the
#     Hub (its request log stays empty);
#   * under strace, no HTTPS run opens openssl.cnf (and each opens the CA).
#
# check.sh sources this file and calls e2e_main (sharing its ok/bad counts);
# run on its own it prints its own summary:
#   e2e.sh --ref-bin DIR --static-dir DIR [--python PYTHON]
# E2E_KEEP=1 keeps the work folder (outputs, strace logs, the Hub's log).

E2E_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_HERE/../.." && pwd)
E2E_REPO=acme/tiny-model
E2E_EPOCH=1700000000
# The places src/cabundle.c probes, in its order.
E2E_CA_PATHS=(
  /etc/ssl/certs/ca-certificates.crt
  /etc/pki/tls/certs/ca-bundle.crt
  /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem
  /etc/ssl/ca-bundle.pem
  /etc/ssl/cert.pem
  /etc/pki/tls/cacert.pem
)

# e2e_cr NAME [chroot-run options] BINARY [ARGS...]: runs BINARY in an empty
# chroot with the Hub's address and the test /etc/hosts; stdout, stderr in
# $E2E_W/NAME.out, NAME.err; exit code in $E2E_RC.
e2e_cr() {
  local name=$1; shift
  "$E2E_HERE/chroot-run.sh" --hosts "$E2E_W/hosts" --env "HF_ENDPOINT=$E2E_EP" "$@" \
    >"$E2E_W/$name.out" 2>"$E2E_W/$name.err"
  E2E_RC=$?
}

# e2e_ref NAME [VAR=VALUE...] TOOL [ARGS...]: the ordinary build's TOOL, outside
# the chroot, with an empty environment but for the Hub, its CA and a HOME.
e2e_ref() {
  local name=$1; shift
  local vars=()
  while [ $# -gt 0 ] && [[ $1 == *=* ]]; do vars+=("$1"); shift; done
  local tool=$1; shift
  env -i HOME="$E2E_W/home" HF_ENDPOINT="$E2E_EP" CURL_CA_BUNDLE="$E2E_W/tls/ca.pem" \
    "${vars[@]}" "$E2E_REF/$tool" "$@" >"$E2E_W/$name.out" 2>"$E2E_W/$name.err"
  E2E_RC=$?
}

e2e_log_lines() { if [ -f "$E2E_W/hub.log" ]; then wc -l <"$E2E_W/hub.log"; else echo 0; fi; }
e2e_first() { head -n 3 "$E2E_W/$1.err" | tr '\n' ' '; }

# e2e_trace WHAT LOG BINARY_NAME: strace saw BINARY start, open a CA, and
# never open openssl.cnf.
e2e_trace() {
  local what=$1 log=$2 name=$3
  if ! grep -q "execve(\"/bin/$name\"" "$log"; then
    bad "$what: strace did not see /bin/$name start"
  elif grep -q 'openssl\.cnf' "$log"; then
    bad "$what opened openssl.cnf: $(grep 'openssl\.cnf' "$log" | head -n1)"
  elif ! grep -q 'open.*"/etc/ssl/certs/ca-certificates.crt"' "$log"; then
    bad "$what: strace saw no open of the CA file (trace: $log)"
  else
    ok "$what: read the CA, never opened openssl.cnf (strace)"
  fi
}

# e2e_tree_sums DIR: "sha256  ./path" of every file but .cache/, sorted.
e2e_tree_sums() {
  (cd "$1" && find . -path ./.cache -prune -o -type f -print0 | LC_ALL=C sort -z |
    xargs -0 -r sha256sum)
}

e2e_start_hub() {
  "$E2E_PY" "$E2E_ROOT/tests/hub/hub.py" --tls "$E2E_W/tls" --port 0 --log "$E2E_W/hub.log" \
    >"$E2E_W/hub.stdout" 2>"$E2E_W/hub.stderr" &
  E2E_HUB_PID=$!
  local _
  for _ in $(seq 1 200); do
    E2E_EP=$(sed -n 's/^HF_ENDPOINT=//p' "$E2E_W/hub.stdout")
    [ -n "$E2E_EP" ] && [ -f "$E2E_W/tls/ca.pem" ] && return 0
    kill -0 "$E2E_HUB_PID" 2>/dev/null || break
    sleep 0.1
  done
  E2E_EP=
  return 1
}

e2e_cleanup() {
  if [ -n "${E2E_HUB_PID:-}" ]; then
    kill "$E2E_HUB_PID" 2>/dev/null
    wait "$E2E_HUB_PID" 2>/dev/null
    E2E_HUB_PID=
  fi
  if [ -n "${E2E_W:-}" ] && [ -d "$E2E_W" ]; then
    if [ -n "${E2E_KEEP:-}" ]; then echo "e2e: kept $E2E_W" >&2; else rm -rf "$E2E_W"; fi
  fi
}

# e2e_main REF_BIN_DIR STATIC_DIR [PYTHON]
e2e_main() {
  E2E_REF=$(cd "$1" 2>/dev/null && pwd) || { bad "e2e: no ordinary build folder $1"; return; }
  E2E_STATIC=$(cd "$2" 2>/dev/null && pwd) || { bad "e2e: no static build folder $2"; return; }
  E2E_PY=${3:-python3}
  local t
  for t in hf-list hf-fetch; do
    [ -x "$E2E_REF/$t" ] || { bad "e2e: ordinary $E2E_REF/$t is not built (make)"; return; }
    [ -x "$E2E_STATIC/$t" ] || { bad "e2e: static $E2E_STATIC/$t is not built"; return; }
  done
  if ! command -v openssl >/dev/null; then bad "e2e: openssl (CLI) is not installed"; return; fi
  # Without strace the openssl.cnf checks cannot run: say so, as a failure.
  E2E_STRACE=1
  if ! command -v strace >/dev/null; then
    E2E_STRACE=
    bad "e2e: strace is not installed (apt-get install strace): the openssl.cnf checks cannot run"
  fi

  E2E_W=$(mktemp -d "${TMPDIR:-/tmp}/hf-e2e.XXXXXX")
  trap e2e_cleanup EXIT
  mkdir -p "$E2E_W/home" "$E2E_W/ref" "$E2E_W/st"
  printf '127.0.0.1 localhost\n' >"$E2E_W/hosts"
  if ! e2e_start_hub; then
    bad "e2e: the fixture Hub did not start: $(tail -n 5 "$E2E_W/hub.stderr" | tr '\n' ' ')"
    e2e_cleanup
    return
  fi
  local ca=$E2E_W/tls/ca.pem
  local S=$E2E_STATIC
  echo "     (fixture Hub at $E2E_EP, CA $ca)"

  # -- No CA, or another CA: exit 6 before any request reaches the Hub. These
  # run first, so the Hub's request log must still be empty afterwards.
  e2e_cr noca --no-ca "$S/hf-list" "$E2E_REPO"
  if [ "$E2E_RC" -eq 6 ] && grep -q SSL_CERT_FILE "$E2E_W/noca.err" && [ "$(e2e_log_lines)" -eq 0 ]; then
    ok "hf-list, no CA in the chroot: exit 6, names SSL_CERT_FILE, no request reached the Hub"
  else
    bad "hf-list, no CA in the chroot: exit $E2E_RC (want 6), Hub log $(e2e_log_lines) lines (want 0): $(e2e_first noca)"
  fi
  e2e_cr nocafetch --no-ca --dir /out --copy-out "/out:$E2E_W/st/nocafetch" \
    "$S/hf-fetch" -o /out "$E2E_REPO" -m /out.json
  if [ "$E2E_RC" -eq 6 ] && grep -q SSL_CERT_FILE "$E2E_W/nocafetch.err" &&
     [ "$(e2e_log_lines)" -eq 0 ] && [ -z "$(find "$E2E_W/st/nocafetch" -type f 2>/dev/null)" ]; then
    ok "hf-fetch, no CA in the chroot: exit 6, names SSL_CERT_FILE, nothing fetched or requested"
  else
    bad "hf-fetch, no CA in the chroot: exit $E2E_RC (want 6), Hub log $(e2e_log_lines) lines: $(e2e_first nocafetch)"
  fi
  if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
       -keyout "$E2E_W/other.key" -out "$E2E_W/other.pem" -days 2 -subj "/CN=not the fixture CA" \
       >/dev/null 2>&1; then
    e2e_cr otherca --ca "$E2E_W/other.pem" "$S/hf-list" "$E2E_REPO"
    if [ "$E2E_RC" -eq 6 ] && [ "$(e2e_log_lines)" -eq 0 ]; then
      ok "hf-list, another CA in the chroot: exit 6, no request reached the Hub ($(head -n1 "$E2E_W/otherca.err" | cut -c1-90)...)"
    else
      bad "hf-list, another CA in the chroot: exit $E2E_RC (want 6), Hub log $(e2e_log_lines) lines: $(e2e_first otherca)"
    fi
  else
    bad "e2e: openssl could not make a second CA"
  fi

  # -- hf-list: the static binary in the chroot prints what bin/hf-list prints.
  local fmt
  for fmt in tsv json; do
    e2e_ref "ref-list-$fmt" hf-list -f "$fmt" "$E2E_REPO"
    if [ "$E2E_RC" -ne 0 ]; then
      bad "bin/hf-list -f $fmt (outside the chroot): exit $E2E_RC: $(e2e_first "ref-list-$fmt")"
      continue
    fi
    local trace_opt=()
    [ "$fmt" = tsv ] && [ -n "$E2E_STRACE" ] && trace_opt=(--strace "$E2E_W/list.trace")
    e2e_cr "list-$fmt" "${trace_opt[@]}" --ca "$ca" "$S/hf-list" -f "$fmt" "$E2E_REPO"
    if [ "$E2E_RC" -ne 0 ]; then
      bad "hf-list -f $fmt in the chroot: exit $E2E_RC: $(e2e_first "list-$fmt")"
    elif ! [ -s "$E2E_W/list-$fmt.out" ]; then
      bad "hf-list -f $fmt in the chroot: empty output"
    elif cmp -s "$E2E_W/list-$fmt.out" "$E2E_W/ref-list-$fmt.out" &&
         cmp -s "$E2E_W/list-$fmt.err" "$E2E_W/ref-list-$fmt.err"; then
      ok "hf-list -f $fmt in the chroot: stdout and stderr identical to bin/hf-list's ($(wc -l <"$E2E_W/list-$fmt.out") lines)"
    else
      bad "hf-list -f $fmt in the chroot differs from bin/hf-list: $(diff "$E2E_W/ref-list-$fmt.out" "$E2E_W/list-$fmt.out" | head -n 4 | tr '\n' ' ') $(diff "$E2E_W/ref-list-$fmt.err" "$E2E_W/list-$fmt.err" | head -n 4 | tr '\n' ' ')"
    fi
    [ ${#trace_opt[@]} -gt 0 ] && e2e_trace "hf-list over HTTPS" "$E2E_W/list.trace" hf-list
  done
  local ref_list=$E2E_W/ref-list-tsv.out

  # -- CA probing: the CA at one probed place only, nothing else in the chroot.
  # layout_ok WHAT: hf-list succeeded with the reference output.
  layout_ok() {
    if [ "$E2E_RC" -eq 0 ] && [ -s "$ref_list" ] && cmp -s "$E2E_W/layout.out" "$ref_list"; then
      ok "CA probing: $1"
    elif [ "$E2E_RC" -eq 0 ]; then
      bad "CA probing: $1: exit 0 but the output differs from bin/hf-list's"
    else
      bad "CA probing: $1: exit $E2E_RC: $(e2e_first layout)"
    fi
  }
  local p
  for p in "${E2E_CA_PATHS[@]}"; do
    e2e_cr layout --ca "$ca" --ca-path "$p" "$S/hf-list" "$E2E_REPO"
    layout_ok "CA only at $p"
  done
  e2e_cr layout --ca "$ca" --ca-path /opt/tls/fixture-bundle.pem \
    --env CURL_CA_BUNDLE=/opt/tls/fixture-bundle.pem "$S/hf-list" "$E2E_REPO"
  layout_ok "CA only at \$CURL_CA_BUNDLE (/opt/tls/fixture-bundle.pem)"
  e2e_cr layout --ca "$ca" --ca-path /srv/ssl/fixture.crt \
    --env SSL_CERT_FILE=/srv/ssl/fixture.crt "$S/hf-list" "$E2E_REPO"
  layout_ok "CA only at \$SSL_CERT_FILE (/srv/ssl/fixture.crt)"
  mkdir -p "$E2E_W/certdir"
  cp "$ca" "$E2E_W/certdir/fixture.pem"
  if openssl rehash "$E2E_W/certdir" >/dev/null 2>&1 && ls "$E2E_W/certdir"/*.0 >/dev/null 2>&1; then
    local files=() f
    # Only the hashed names (copied as plain files): OpenSSL finds the CA by them.
    for f in "$E2E_W/certdir"/*.0; do files+=(--file "$f:/opt/certs/$(basename "$f")"); done
    e2e_cr layout --no-ca "${files[@]}" --env SSL_CERT_DIR=/opt/certs "$S/hf-list" "$E2E_REPO"
    local hashed
    hashed=$(cd "$E2E_W/certdir" && echo ./*.0 | sed 's|\./||g')
    layout_ok "CA only in \$SSL_CERT_DIR (/opt/certs holding only $hashed, from openssl rehash)"
  else
    bad "CA probing: openssl rehash made no hashed name in $E2E_W/certdir"
  fi
  unset -f layout_ok

  # -- hf-fetch: same files, same manifest files array.
  e2e_ref ref-fetch hf-fetch -q -o "$E2E_W/ref/out" -m "$E2E_W/ref/out.json" "$E2E_REPO"
  local ref_fetch_rc=$E2E_RC
  local trace_opt=()
  [ -n "$E2E_STRACE" ] && trace_opt=(--strace "$E2E_W/fetch.trace")
  e2e_cr fetch "${trace_opt[@]}" --ca "$ca" --dir /out \
    --copy-out "/out:$E2E_W/st/out" --copy-out "/out.json:$E2E_W/st/out.json" \
    "$S/hf-fetch" -q -o /out "$E2E_REPO" -m /out.json
  local fetched=0
  if [ "$ref_fetch_rc" -ne 0 ]; then
    bad "bin/hf-fetch (outside the chroot): exit $ref_fetch_rc: $(e2e_first ref-fetch)"
  elif [ "$E2E_RC" -ne 0 ]; then
    bad "hf-fetch -o /out -m /out.json in the chroot: exit $E2E_RC: $(e2e_first fetch)"
  else
    local a b n
    a=$(e2e_tree_sums "$E2E_W/ref/out")
    b=$(e2e_tree_sums "$E2E_W/st/out")
    n=$(printf '%s\n' "$b" | grep -c .)
    if [ -n "$a" ] && [ "$a" = "$b" ]; then
      ok "hf-fetch in the chroot: the $n files' sha256 match bin/hf-fetch's"
      fetched=1
    else
      bad "hf-fetch in the chroot: files differ from bin/hf-fetch's: $(diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -n 4 | tr '\n' ' ')"
    fi
    local why
    if why=$("$E2E_PY" - "$E2E_W/ref/out.json" "$E2E_W/st/out.json" "$n" <<'EOF' 2>&1
import json, sys
a, b = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
fa, fb = a.get("files"), b.get("files")
if not isinstance(fb, list) or not fb:
    sys.exit("no files array in the static build's manifest")
if fa != fb:
    for x, y in zip(fa or [], fb):
        if x != y:
            sys.exit("first difference: %s != %s" % (json.dumps(x), json.dumps(y)))
    sys.exit("%d entries != %d" % (len(fa or []), len(fb)))
if len(fb) != int(sys.argv[3]):
    sys.exit("%d entries for %s files on disk" % (len(fb), sys.argv[3]))
print(len(fb))
EOF
    ); then
      ok "hf-fetch in the chroot: the manifest's files array equals bin/hf-fetch's ($why entries)"
    else
      bad "hf-fetch in the chroot: manifest files array: $why"
      fetched=0
    fi
  fi
  [ ${#trace_opt[@]} -gt 0 ] && e2e_trace "hf-fetch over HTTPS" "$E2E_W/fetch.trace" hf-fetch

  # -- hf-bundle: same archive from the same input, and straight from the Hub.
  if [ ! -x "$E2E_REF/hf-bundle" ] || [ ! -x "$S/hf-bundle" ]; then
    echo "skip hf-bundle: NOT CHECKED, not built:$([ -x "$E2E_REF/hf-bundle" ] || echo " $E2E_REF/hf-bundle")$([ -x "$S/hf-bundle" ] || echo " $S/hf-bundle")"
  elif [ "$fetched" -ne 1 ]; then
    bad "hf-bundle: not run, hf-fetch in the chroot failed"
  else
    e2e_ref ref-bundle "SOURCE_DATE_EPOCH=$E2E_EPOCH" hf-bundle -q -o "$E2E_W/ref/out.tar" \
      -m "$E2E_W/st/out.json" "$E2E_W/st/out"
    local ref_rc=$E2E_RC
    e2e_cr bundle --no-ca --tree "$E2E_W/st/out:/out" --file "$E2E_W/st/out.json:/out.json" \
      --env "SOURCE_DATE_EPOCH=$E2E_EPOCH" --copy-out "/out.tar:$E2E_W/st/out.tar" \
      "$S/hf-bundle" -q -o /out.tar -m /out.json /out
    if [ "$ref_rc" -ne 0 ]; then
      bad "bin/hf-bundle (outside the chroot): exit $ref_rc: $(e2e_first ref-bundle)"
    elif [ "$E2E_RC" -ne 0 ]; then
      bad "hf-bundle -o /out.tar -m /out.json /out in the chroot: exit $E2E_RC: $(e2e_first bundle)"
    else
      local ha hb
      ha=$(sha256sum <"$E2E_W/ref/out.tar" | cut -d' ' -f1)
      hb=$(sha256sum <"$E2E_W/st/out.tar" | cut -d' ' -f1)
      if [ "$ha" = "$hb" ]; then
        ok "hf-bundle -o /out.tar of the fetched folder in the chroot: same sha256 as bin/hf-bundle's (${hb:0:16}..., $(stat -c %s "$E2E_W/st/out.tar") bytes)"
      else
        bad "hf-bundle -o /out.tar in the chroot: sha256 $hb, bin/hf-bundle's $ha"
      fi
      e2e_cr verify --no-ca --file "$E2E_W/st/out.tar:/out.tar" "$S/hf-bundle" -q --verify /out.tar
      if [ "$E2E_RC" -eq 0 ]; then
        ok "hf-bundle --verify /out.tar in the chroot"
      else
        bad "hf-bundle --verify /out.tar in the chroot: exit $E2E_RC: $(e2e_first verify)"
      fi
    fi
    e2e_ref ref-rbundle "SOURCE_DATE_EPOCH=$E2E_EPOCH" hf-bundle -q -o "$E2E_W/ref/repo.tar" \
      --repo "$E2E_REPO"
    ref_rc=$E2E_RC
    trace_opt=()
    [ -n "$E2E_STRACE" ] && trace_opt=(--strace "$E2E_W/bundle.trace")
    e2e_cr rbundle "${trace_opt[@]}" --ca "$ca" --env "SOURCE_DATE_EPOCH=$E2E_EPOCH" \
      --copy-out "/repo.tar:$E2E_W/st/repo.tar" "$S/hf-bundle" -q -o /repo.tar --repo "$E2E_REPO"
    if [ "$ref_rc" -ne 0 ]; then
      bad "bin/hf-bundle --repo (outside the chroot): exit $ref_rc: $(e2e_first ref-rbundle)"
    elif [ "$E2E_RC" -ne 0 ]; then
      bad "hf-bundle -o /repo.tar --repo in the chroot: exit $E2E_RC: $(e2e_first rbundle)"
    elif cmp -s "$E2E_W/ref/repo.tar" "$E2E_W/st/repo.tar"; then
      ok "hf-bundle -o /repo.tar --repo $E2E_REPO in the chroot: same sha256 as bin/hf-bundle's"
    else
      bad "hf-bundle --repo in the chroot: archive differs from bin/hf-bundle's ($(sha256sum "$E2E_W/ref/repo.tar" "$E2E_W/st/repo.tar" | cut -c1-16 | tr '\n' ' '))"
    fi
    [ ${#trace_opt[@]} -gt 0 ] && e2e_trace "hf-bundle --repo over HTTPS" "$E2E_W/bundle.trace" hf-bundle
  fi

  e2e_cleanup
  trap - EXIT
}

# Run on its own: own counts and summary.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  passed=0
  failed=0
  ok() { passed=$((passed + 1)); echo "ok   $*"; }
  bad() { failed=$((failed + 1)); echo "FAIL $*"; }
  ref_bin=bin static_dir=build/static py=python3
  while [ $# -gt 0 ]; do
    case "$1" in
      --ref-bin) ref_bin=$2; shift 2 ;;
      --static-dir) static_dir=$2; shift 2 ;;
      --python) py=$2; shift 2 ;;
      *) echo "usage: e2e.sh [--ref-bin DIR] [--static-dir DIR] [--python PYTHON]" >&2; exit 2 ;;
    esac
  done
  e2e_main "$ref_bin" "$static_dir" "$py"
  echo "e2e: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
fi
