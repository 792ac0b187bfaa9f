# The benchmark (not part of `make check`): tests/bench/bench.py and tests/bench/bundle_bench.py,
# results in BENCHMARKS.md.
#   make bench        the three benchmarks below, one after the other (about 13 minutes):
#                     1. hf-fetch on one 1 GiB LFS file (bytes from nginx on loopback as the
#                     CDN) and on 300 files of 8 KiB, against `openssl dgst -sha256`, curl,
#                     a curl -L loop and @huggingface/hub's snapshotDownload (pinned, npm-
#                     installed into build/bench/node_modules); the folder, both sync modes
#                     and curl -o FILE; cache hits on 1 GiB and on ten files of 4 GiB in all
#                     (generated once into build/bench/data); and hf-list of a 100,000-file
#                     repository, peak RSS in TSV and JSON (case listing). About 5 minutes.
#                     2. hf-bundle (the `bench-bundle` target alone). About 3.5 minutes.
#                     3. hf-upload (the `bench-upload` target alone).
#   make bench-bundle hf-bundle of a 1 GiB snapshot against `tar cf` and `tar -I 'zstd -T2'`,
#                     `hf-bundle --repo` against `hf-fetch --local-dir` then hf-bundle, and
#                     `hf-bundle --verify` of 60,000 folders against `tar -tzf` (verify-folders).
#   make bench-upload hf-upload of a 1 GiB LFS file (multipart, 64 MiB parts, 8 at a time) to
#                     the fixture's storage against `openssl dgst -sha256` plus curl PUTting the
#                     same parts (--parallel) and the completion call; hf-upload's peak RSS.
#                     Target: within 1.3x, under 32 MiB.
# BENCH_ARGS passes options to bench.py (python3 tests/bench/bench.py --help), e.g.
#   make bench BENCH_ARGS='--runs 3 --cases small,small-front'
# BUNDLE_BENCH_ARGS passes options to bundle_bench.py (its --help), e.g.
#   make bench-bundle BUNDLE_BENCH_ARGS='--runs 3 --cases source,direct'
# Data, servers' files and results (results.md, results.json) live in build/bench/ (hf-fetch)
# and build/bench/bundle/ (hf-bundle). If one benchmark fails, `make bench` still runs the
# others, then fails.
# The binaries measured are the ones that ship: the fully static build (musl, -Os; libzstd
# -O3), whose libraries are cached after the first `make static`. BENCH_BIN=bin measures
# the development build (glibc, dynamic) instead.
BENCH_BIN ?= build/static
BENCH_ARGS ?=
BUNDLE_BENCH_ARGS ?=
UPLOAD_BENCH_ARGS ?=

.PHONY: bench-bundle bench-upload

# zstd (for the tar -I zstd rows) through apt-get, only when it is missing
BENCH_ZSTD = command -v zstd >/dev/null 2>&1 || { \
	  echo "bench: installing zstd" >&2; \
	  if [ "$$(id -u)" -ne 0 ]; then echo "bench: not root; the zstd cases will be skipped" >&2; \
	  else export DEBIAN_FRONTEND=noninteractive; { apt-get update -qq >/dev/null || apt-get update; } && \
	    apt-get install -y -qq --no-install-recommends zstd >/dev/null || \
	    echo "bench: zstd not installed; the zstd cases will be skipped" >&2; fi; }
BENCH_FETCH_CMD = BENCH_COMMAND="make bench$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" \
	  $(PYTHON) tests/bench/bench.py --bin $(CURDIR)/$(BENCH_BIN) $(BENCH_ARGS)
BENCH_BUNDLE_CMD = BENCH_COMMAND="make $@$(if $(BUNDLE_BENCH_ARGS), BUNDLE_BENCH_ARGS='$(BUNDLE_BENCH_ARGS)')" \
	  $(PYTHON) tests/bench/bundle_bench.py --bin $(CURDIR)/$(BENCH_BIN) $(BUNDLE_BENCH_ARGS)
BENCH_UPLOAD_CMD = $(PYTHON) tests/bench/upload_bench.py --bin $(CURDIR)/$(BENCH_BIN) $(UPLOAD_BENCH_ARGS)

bench: deps all $(if $(filter build/static,$(BENCH_BIN)),static)
	@tests/bench/deps.sh
	@$(BENCH_ZSTD)
	rc=0; $(BENCH_FETCH_CMD) || rc=$$?; \
	$(BENCH_BUNDLE_CMD) || rc=$$?; \
	$(BENCH_UPLOAD_CMD) || rc=$$?; \
	exit $$rc

bench-bundle: deps all $(if $(filter build/static,$(BENCH_BIN)),static)
	@tests/bench/deps.sh
	@$(BENCH_ZSTD)
	$(BENCH_BUNDLE_CMD)

bench-upload: deps all $(if $(filter build/static,$(BENCH_BIN)),static)
	$(BENCH_UPLOAD_CMD)
