#!/usr/bin/env bash
# `make check-clone`: the checkout needs nothing beside it. Its files (what git
# tracks, plus new files it does not ignore) are copied into a fresh folder
# that has no sibling directories (no shared docs folder, nothing else), and the
# README's main job (`make demo`) and the Galaxy checks (`make check-galaxy`:
# schema, lint and every tool test) run there. Anything that reads outside the
# checkout fails here.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
box=$(mktemp -d)
trap 'rm -rf "$box"' EXIT
clone="$box/hf-galaxy"
mkdir "$clone"

cd "$root"
git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
  # a tracked file deleted in the work tree is not part of it
  if [ -e "$f" ] || [ -L "$f" ]; then cp -a --parents -- "$f" "$clone/"; fi
done
[ "$(ls -A "$box")" = "hf-galaxy" ] || { echo "check-clone: $box is not empty" >&2; exit 1; }
echo "check-clone: $(find "$clone" -type f | wc -l) files in $clone, nothing beside it"

cd "$clone"
make --no-print-directory demo
make --no-print-directory check-galaxy
echo "check-clone: make demo and make check-galaxy pass in a folder with nothing beside it"
