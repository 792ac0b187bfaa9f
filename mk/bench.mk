# The benchmark (not part of `make check`): tests/bench/bench.py, results in BENCHMARKS.md.
#   make bench        hf-fetch on one 1 GiB LFS file (bytes from nginx on loopback as the
#                     CDN) and on 300 files of 8 KiB, against `openssl dgst -sha256`, curl,
#                     a curl -L loop and @huggingface/hub's snapshotDownload (pinned, npm-
#                     installed into build/bench/node_modules). About 3 minutes.
# BENCH_ARGS passes options on (python3 tests/bench/bench.py --help), e.g.
#   make bench BENCH_ARGS='--runs 3 --cases small,small-front'
# Data, servers' files and results (results.md, results.json) live in build/bench/.
BENCH_ARGS ?=

bench: deps all
	@tests/bench/deps.sh
	BENCH_COMMAND="make bench$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" \
	  $(PYTHON) tests/bench/bench.py --bin $(CURDIR)/$(BIN) $(BENCH_ARGS)
