#!/usr/bin/env bash
# shellcheck disable=SC2034 # RECIPE_REV is read only through the hash
# Builds the libraries of the fully static (musl) binaries from Debian source
# packages into a cache prefix, and nothing when that prefix is already
# complete (so `make static` can call it every time).
#
#   mk/static-deps.sh              build if needed; print the prefix
#   mk/static-deps.sh --out DIR    the same, and record in DIR/deps-prefix the
#                                  prefix and in DIR/VERSIONS the versions built
#                                  (each rewritten only when it changes)
#   mk/static-deps.sh --prefix     print the prefix of the pinned versions
#   mk/static-deps.sh --versions   print the pinned versions
#
# Pins are preferences, not requirements: a pinned version the apt sources no
# longer offer (Debian's security suite keeps only the newest) is replaced by
# the newest version they offer of that package, said in one line; apt
# authenticates what it downloads either way. The versions actually built are
# in the prefix's .versions file, in DIR/VERSIONS and in `hf-fetch -V -v`.
#
# The prefix is CACHE/<key>/ (include/ lib/ lib/pkgconfig/), the key hashing
# the recipe below with the versions built, and the compiler's version. CACHE
# is outside the checkout, shared by every clone and worktree of the machine:
# $STATIC_DEPS_DIR, else ${XDG_CACHE_HOME:-~/.cache}/hf-galaxy/static-deps.
# Sources are downloaded with `apt-get source` into $STATIC_SRC_DIR, else
# ${XDG_CACHE_HOME:-~/.cache}/hf-galaxy/static-src. STATIC_JOBS sets make's -j
# (2). STATIC_PIN_OVERRIDE="pkg=version ..." replaces pins for one run (to
# try a version, or to check the fallback with a version that does not exist).
# The recipe and its measurements: the project's static-build notes.
set -euo pipefail

# ---- PINNED: begin (hashed: any change here rebuilds the cache) -------------
# Debian bookworm source packages, in build order: package=version.
# When the mirror drops a version (security suites keep only the newest), the
# newest one offered is built instead (said in one line): bump the pin here,
# nowhere else, when convenient.
PINS=(
  zlib=1:1.2.13.dfsg-1
  openssl=3.0.22-1~deb12u2
  nghttp2=1.52.0-1+deb12u3
  libzstd=1.5.4+dfsg2-5
  libarchive=3.6.2-1+deb12u5
  libyaml=0.2.5-1
  curl=7.88.1-10+deb12u15
  jansson=2.14-2
)
# Built from the upstream orig tarball alone (the mirror serves the orig
# tarball of the security-suite openssl but not its .dsc or debian tarball).
ORIG_ONLY=(openssl)
# Bump when the build steps below change in a way that changes the output.
RECIPE_REV=2
OPT_CFLAGS="-Os -ffunction-sections -fdata-sections"
ZLIB_FLAGS=(--static)
# no-autoload-config: libssl/libcrypto never load openssl.cnf on their own;
# only an explicit OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG) would.
OPENSSL_FLAGS=(linux-x86_64 --libdir=lib --openssldir=/etc/ssl no-shared
  no-module no-engine no-dso no-async no-afalgeng no-secure-memory no-tests
  no-autoload-config -Os)
NGHTTP2_FLAGS=(--enable-lib-only --disable-shared --enable-static)
LIBARCHIVE_FLAGS=(--disable-shared --enable-static --disable-maintainer-mode
  --disable-bsdtar --disable-bsdcpio --disable-bsdcat --disable-acl
  --disable-xattr --without-xml2 --without-expat --without-openssl
  --without-nettle --without-mbedtls --without-lzma --without-bz2lib
  --without-lz4 --without-libb2 --without-cng --without-iconv --without-lzo2
  --with-zlib --with-zstd)
LIBYAML_FLAGS=(--disable-shared --enable-static)
CURL_FLAGS=(--disable-shared --enable-static --enable-http --enable-file
  --disable-ftp --disable-ldap --disable-ldaps --disable-rtsp --disable-dict
  --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smtp
  --disable-gopher --disable-mqtt --disable-smb --disable-manual
  --disable-ntlm --disable-ntlm-wb --without-libpsl --without-libidn2
  --without-librtmp --without-libssh2 --without-libssh --without-gssapi
  --without-brotli --without-zstd --without-libgsasl --without-hyper
  --without-ca-bundle --without-ca-path --with-ca-fallback
  --enable-threaded-resolver --disable-ares
  --disable-openssl-auto-load-config)
JANSSON_FLAGS=(--disable-shared --enable-static)
# ---- PINNED: end -------------------------------------------------------------

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$ROOT/mk/static-deps.sh"
USER_CACHE=${XDG_CACHE_HOME:-${HOME:-$ROOT/build}/.cache}/hf-galaxy
DEPS_BASE=${STATIC_DEPS_DIR:-$USER_CACHE/static-deps}
SRC_BASE=${STATIC_SRC_DIR:-$USER_CACHE/static-src}
JOBS=${STATIC_JOBS:-2}
TOOLS=(musl-tools autoconf automake libtool dpkg-dev pkg-config make file
  patch xz-utils bzip2)

say() { printf 'static-deps: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

pinned_section() { sed -n '/^# ---- PINNED: begin/,/^# ---- PINNED: end/p' "$SELF"; }
compiler_id() {
  printf 'musl-dev %s\n' "$(dpkg-query -W -f='${Version}' musl-dev 2>/dev/null || echo none)"
  printf 'gcc %s\n' "$(x86_64-linux-gnu-gcc -dumpfullversion 2>/dev/null || echo none)"
}
# The key of a set of versions (one pkg=version a line on stdin): the recipe
# without its PINS lines, those versions, the compiler.
cache_key() {
  { pinned_section | sed '/^PINS=(/,/^)/d'; echo "versions:"; cat; compiler_id; } |
    sha256sum | cut -c1-16
}

# The pins, with STATIC_PIN_OVERRIDE applied.
PIN_LIST=()
for pin in "${PINS[@]}"; do
  for o in ${STATIC_PIN_OVERRIDE:-}; do
    [ "${o%%=*}" = "${pin%%=*}" ] && pin=$o
  done
  PIN_LIST+=("$pin")
done
pinned_key() { printf '%s\n' "${PIN_LIST[@]}" | cache_key; }

OUT_DIR=""
case "${1:-}" in
  --prefix) echo "$DEPS_BASE/$(pinned_key)"; exit 0 ;;
  --versions) printf '%s\n' "${PIN_LIST[@]}"; exit 0 ;;
  --out) [ -n "${2:-}" ] || die "--out takes a folder"; OUT_DIR=$2 ;;
  "") ;;
  *) die "unknown argument: $1" ;;
esac

# ---- the machine: tools and deb-src lines, installed only when missing ------
SUDO_HINT="run it as root, or install them: apt-get install"
apt_updated=0
apt_update() {
  [ $apt_updated -eq 1 ] && return 0
  say "apt-get update"
  apt-get update -qq >/dev/null 2>&1 || apt-get update
  apt_updated=1
}

ensure_tools() {
  local missing=() p
  for p in "${TOOLS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; $SUDO_HINT ${missing[*]}"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_update
  local log
  log=$(mktemp)
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1 ||
    { cat "$log" >&2; rm -f "$log"; die "apt-get install ${missing[*]} failed"; }
  rm -f "$log"
}

# Adds deb-src entries mirroring the Debian deb entries, when there are none.
DEBSRC_FILE=/etc/apt/sources.list.d/hf-galaxy-deb-src.sources
DEBSRC_LIST=/etc/apt/sources.list.d/hf-galaxy-deb-src.list
has_debsrc() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    grep -Eq '^[[:space:]]*deb-src[[:space:]]|^Types:.*\bdeb-src\b' "$f" && return 0
  done
  return 1
}
ensure_debsrc() {
  has_debsrc && return 0
  [ "$(id -u)" -eq 0 ] || die "no deb-src lines in the apt sources; run this as root once"
  local f out
  say "adding deb-src entries ($DEBSRC_FILE)"
  out=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822 stanzas of Debian archives (a URI path containing /debian) whose
    # Types include deb, copied as deb-src.
    out+=$(awk 'BEGIN { RS = ""; ORS = "\n\n" }
      /(^|\n)Enabled:[ \t]*no/ { next }
      /(^|\n)Types:[^\n]*(^|[ \t])deb([ \t]|\n|$)/ && /(^|\n)URIs:[^\n]*\/debian/ {
        sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' "$f")
    out+=$'\n\n'
  done
  if [ -n "${out//[[:space:]]/}" ]; then
    printf '%s\n' "$out" >"$DEBSRC_FILE"
  fi
  local lists=()
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && [ "$f" != "$DEBSRC_LIST" ] && lists+=("$f")
  done
  if [ ${#lists[@]} -gt 0 ]; then
    sed -n 's/^[[:space:]]*deb\([[:space:]]\+.*\/debian[^[:space:]]*[[:space:]].*\)$/deb-src\1/p' \
      "${lists[@]}" >"$DEBSRC_LIST.tmp"
    if [ -s "$DEBSRC_LIST.tmp" ]; then mv "$DEBSRC_LIST.tmp" "$DEBSRC_LIST"; else rm -f "$DEBSRC_LIST.tmp"; fi
  fi
  has_debsrc || die "found no Debian deb entries to copy as deb-src; add deb-src lines by hand"
  apt_updated=0
  apt_update
}

# ---- sources ----------------------------------------------------------------
pkg_of() { echo "${1%%=*}"; }
ver_of() { echo "${1#*=}"; }
noepoch() { echo "${1#*:}"; }
is_orig_only() { local p; for p in "${ORIG_ONLY[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

# `apt-get source --print-uris` lines: 'URI' NAME SIZE SHA256:HASH
uris_of() { apt-get source --print-uris -qq "$1" 2>/dev/null | grep "^'" || true; }

# The newest version of PKG that the apt sources offer (empty when none).
newest_offered() {
  local pkg=$1 v best=""
  while IFS= read -r v; do
    [ -n "$v" ] || continue
    [ -n "$(uris_of "$pkg=$v")" ] || continue
    if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
  done < <(apt-cache showsrc "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | sort -u)
  echo "$best"
}

# Prints the pin when the apt sources offer it, else PKG=the newest version
# they offer (saying so); fails only when they offer none. Runs in $(...):
# the package lists must be fresh before.
resolve_pin() {
  local pin=$1 pkg newest
  pkg=$(pkg_of "$pin")
  if [ -z "$(uris_of "$pin")" ]; then
    newest=$(newest_offered "$pkg")
    [ -n "$newest" ] || die "the apt sources offer no version of $pkg (pinned $pin)"
    say "pinned $pin is no longer offered; building $pkg=$newest instead"
    pin="$pkg=$newest"
  fi
  echo "$pin"
}

# Checks NAME in the download folder against the hash apt-get prints.
verify_file() {
  local line=$1 name hash
  name=$(echo "$line" | awk '{print $2}')
  hash=$(echo "$line" | awk '{print $4}')
  [ -f "$DL/$name" ] || return 1
  case "$hash" in
    SHA256:*) echo "${hash#SHA256:}  $DL/$name" | sha256sum --quiet -c - >/dev/null 2>&1 ;;
    *) return 0 ;;  # apt itself checked it on download
  esac
}

download() {
  local pin=$1 pkg line ok=1 want
  pkg=$(pkg_of "$pin")
  if is_orig_only "$pkg"; then
    want=$(uris_of "$pin" | grep -E "\.orig\.tar\.[a-z0-9]+' " || true)
    [ -n "$want" ] || die "no orig tarball listed for $pin"
  else
    want=$(uris_of "$pin")
  fi
  while IFS= read -r line; do verify_file "$line" || ok=0; done <<<"$want"
  [ $ok -eq 1 ] && return 0
  say "downloading $pin"
  # Runs as root without apt's sandbox user: the folder is ours.
  (cd "$DL" && apt-get source --download-only -qq -o APT::Sandbox::User=root "$pin" >/dev/null 2>"$LOGS/$pkg.download.log") || true
  while IFS= read -r line; do
    verify_file "$line" || { cat "$LOGS/$pkg.download.log" >&2; die "could not download $(echo "$line" | awk '{print $2}') of $pin"; }
  done <<<"$want"
}

# Unpacks PIN into $WORK/PKG (Debian patches applied by dpkg-source).
unpack() {
  local pin=$1 pkg ver tarball
  pkg=$(pkg_of "$pin"); ver=$(noepoch "$(ver_of "$pin")")
  rm -rf "${WORK:?}/$pkg"
  if is_orig_only "$pkg"; then
    tarball=$(uris_of "$pin" | grep -E "\.orig\.tar\.[a-z0-9]+' " | awk '{print $2}' | head -n1)
    mkdir -p "$WORK/$pkg"
    tar -xf "$DL/$tarball" -C "$WORK/$pkg" --strip-components=1
  else
    dpkg-source --no-check --no-copy -x "$DL/${pkg}_${ver}.dsc" "$WORK/$pkg" >"$LOGS/$pkg.unpack.log" 2>&1 ||
      { cat "$LOGS/$pkg.unpack.log" >&2; die "dpkg-source failed for $pin"; }
  fi
}

# ---- builds (run in $WORK/PKG, installing into $P) ---------------------------
build_zlib() {
  ./configure --static --prefix="$P" "${ZLIB_FLAGS[@]}"
  make -j"$JOBS" libz.a
  make install
}
build_openssl() {
  ./Configure --prefix="$P" "${OPENSSL_FLAGS[@]}"
  make -j"$JOBS" build_libs
  make install_dev
}
build_nghttp2() {
  autoreconf -fi
  ./configure --prefix="$P" "${NGHTTP2_FLAGS[@]}"
  make -j"$JOBS" -C lib
  make -C lib install
}
build_libzstd() {
  # zstd at its own -O3: at -Os a 256 MiB text .tar.zst took 1.13x `tar | zstd -T2`, at -O3
  # 0.93x (make bench); the size the binaries gain is small
  make -j"$JOBS" -C lib libzstd.a-mt CFLAGS="-O3 -ffunction-sections -fdata-sections"
  make -C lib install-static install-includes install-pc PREFIX="$P"
}
build_libarchive() {
  ./configure --prefix="$P" "${LIBARCHIVE_FLAGS[@]}"
  make -j"$JOBS" libarchive.la
  make install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA
}
build_libyaml() {
  autoreconf -fi
  ./configure --prefix="$P" "${LIBYAML_FLAGS[@]}"
  make -j"$JOBS" -C src
  make -C src install
  make -C include install
  make install-pkgconfigDATA
}
build_curl() {
  ./configure --prefix="$P" "${CURL_FLAGS[@]}" \
    --with-openssl="$P" --with-nghttp2="$P" --with-zlib="$P"
  make -j"$JOBS" -C lib
  make -C lib install
  make -C include install
  make install-pkgconfigDATA
}
build_jansson() {
  [ -x configure ] || autoreconf -fi
  ./configure --prefix="$P" "${JANSSON_FLAGS[@]}"
  make -j"$JOBS" -C src
  make -C src install
  make install-pkgconfigDATA
}

# A build must see only musl and the prefix: no host header, library or .pc.
audit_log() {
  local log=$1
  if grep -En -- '(-I|-isystem[[:space:]]*)/usr/(local/)?include(/|[[:space:]]|$)|-L/usr/(local/)?lib(64)?(/|[[:space:]]|$)' "$log" |
     grep -v 'x86_64-linux-musl' | head -n5 | grep -q .; then
    grep -En -- '(-I|-isystem[[:space:]]*)/usr/(local/)?include|-L/usr/(local/)?lib' "$log" | grep -v 'x86_64-linux-musl' | head -n5 >&2
    die "a host header or library path leaked into the build ($log)"
  fi
}

audit_prefix() {
  local f
  for f in "$P"/lib/pkgconfig/*.pc; do
    if grep -Eq -- '-I/usr/(local/)?include|-L/usr/(local/)?lib' "$f"; then
      die "host path in $f"
    fi
  done
  local libs
  libs=$(PKG_CONFIG_LIBDIR="$P/lib/pkgconfig" pkg-config --static --libs libcurl libarchive yaml-0.1 jansson libcrypto) ||
    die "pkg-config cannot resolve the static libraries in $P"
  case " $libs " in
    *" -L/usr"*) die "pkg-config --libs names a host folder: $libs" ;;
  esac
}

build_one() {
  local pin=$1 pkg t0 t1 log
  pkg=$(pkg_of "$pin")
  log="$LOGS/$pkg.log"
  unpack "$pin"
  t0=$(date +%s)
  say "building $pin"
  if ! (cd "$WORK/$pkg" && "build_$pkg") >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "$pkg failed; full log: $log"
  fi
  audit_log "$log"
  t1=$(date +%s)
  say "built $pkg in $((t1 - t0)) s"
  printf '%s %s\n' "$pkg" "$((t1 - t0))" >>"$P/.timings"
  rm -rf "${WORK:?}/$pkg"
}

# DIR/NAME := content, rewritten only when it changes (make compares times).
record() {
  local file=$1 content=$2
  if [ ! -f "$file" ] || [ "$(cat "$file")" != "$content" ]; then
    printf '%s\n' "$content" >"$file.tmp" && mv "$file.tmp" "$file"
  fi
}

# The prefix is ready: say where, and what it holds.
finish() {
  if [ -n "$OUT_DIR" ]; then
    mkdir -p "$OUT_DIR"
    record "$OUT_DIR/deps-prefix" "$P"
    record "$OUT_DIR/VERSIONS" "$(cat "$P/.versions")"
  fi
  echo "$P"
}

main() {
  ensure_tools
  command -v musl-gcc >/dev/null || die "musl-gcc not found (musl-tools)"
  mkdir -p "$DEPS_BASE"
  exec 9>"$DEPS_BASE/.lock"
  flock 9
  # The pinned versions, built before: no apt needed.
  P="$DEPS_BASE/$(pinned_key)"
  [ -f "$P/.complete" ] && { finish; return 0; }

  ensure_debsrc
  local pin resolved=() key
  # Fresh package lists before deciding that a pin is gone (once, not per pin).
  for pin in "${PIN_LIST[@]}"; do
    [ -n "$(uris_of "$pin")" ] || { apt_update; break; }
  done
  for pin in "${PIN_LIST[@]}"; do resolved+=("$(resolve_pin "$pin")"); done
  key=$(printf '%s\n' "${resolved[@]}" | cache_key)
  P="$DEPS_BASE/$key"
  [ -f "$P/.complete" ] && { finish; return 0; }

  DL="$SRC_BASE/dl"; WORK="$SRC_BASE/work"; LOGS="$SRC_BASE/logs"
  mkdir -p "$DL" "$WORK" "$LOGS"
  for pin in "${resolved[@]}"; do download "$pin"; done

  say "building into $P (make -j$JOBS)"
  rm -rf "$P"
  mkdir -p "$P/include" "$P/lib/pkgconfig"

  # The environment every build sees: musl, the prefix and nothing else.
  unset CPATH C_INCLUDE_PATH CPLUS_INCLUDE_PATH LIBRARY_PATH LD_LIBRARY_PATH \
    PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR CONFIG_SITE MAKEFLAGS MFLAGS MAKELEVEL
  export LC_ALL=C CC=musl-gcc CFLAGS="$OPT_CFLAGS" CPPFLAGS="-I$P/include" \
    LDFLAGS="-L$P/lib" PKG_CONFIG_LIBDIR="$P/lib/pkgconfig" PKG_CONFIG=pkg-config
  export P JOBS

  local t0
  t0=$(date +%s)
  : >"$P/.timings"
  for pin in "${resolved[@]}"; do build_one "$pin"; done
  audit_prefix
  printf 'total %s\n' "$(($(date +%s) - t0))" >>"$P/.timings"
  printf '%s\n' "${resolved[@]}" >"$P/.versions"
  { pinned_section; compiler_id; } >"$P/.complete"
  say "done in $(($(date +%s) - t0)) s: $P"
  finish
}

main
