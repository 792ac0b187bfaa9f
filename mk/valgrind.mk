# The end-to-end tests once more, every hf-* run under valgrind's memcheck.
#   make check-valgrind   (part of make ci) no leak (definite, indirect) and no memory error
#                         in any run of tests/cli/*, else it fails and shows valgrind's report
# How: build/valgrind/bin/hf-{list,fetch,bundle} are wrappers that exec valgrind on the real
# bin/ binaries; tests/run.py runs with HF_BIN_DIR pointing at them. Each process writes its
# report to build/valgrind/logs/<pid>.log (stderr stays the tool's own, which the tests read);
# an error also makes the run exit 99, which fails the test that ran it.
# VALGRIND_SKIP: tests left out (mk/valgrind-run.py; tests/run.py has no option for it), each
# one whose subject is time, size or bytes rather than memory, and that takes minutes under
# memcheck (the whole run stays under about 10 minutes on 2 cores):
#   test_hardening.test_huge_listing_memory_bounded      (150 s) peak RSS of a 100,000-file
#       listing: under valgrind getrusage sees valgrind's memory; the 3-page listing of
#       test_hf_list.test_many_files_three_pages runs the same paging code
#   test_hf_bundle.test_zstd_threads_do_not_change_bytes (75 s) the same bytes whatever the
#       zstd threads; test_hf_bundle.test_*_round_trip_every_format write tar.zst too
#   test_presence.test_present_snapshot_is_not_read_again   counts the bytes the process reads
#       (strace): under valgrind that is valgrind's own reading of the binary and its symbols
#       (10 MB); the other test_presence tests run the same code under memcheck
#   test_shared_cache.test_both_at_once_python_first   two clients at once, on timing: under
#       memcheck hf-fetch starts so slowly that the other client has finished before it asks
#       for the lock (the ASan+UBSan run of make check covers the waiting path, and
#       tests/unit/test_lockfile.c the locks)
# valgrind 3.19 (Debian 12) does not know openat2 (syscall 437): it says so in five lines and
# answers ENOSYS, and src/beneath.c falls back to its component walk; that warning alone is
# not a report (anything else in a log is).
# VALGRIND_SUPP: suppressions, for noise inside the libraries only (none needed so far with
# Debian 12's libcurl, OpenSSL, jansson, libyaml and libarchive; the file is read if present).
VALGRIND        ?= valgrind
VALGRIND_DIR    := build/valgrind
VALGRIND_SUPP   ?= mk/valgrind.supp
VALGRIND_JOBS   ?= 2
VALGRIND_SKIP   ?= test_hardening.test_huge_listing_memory_bounded \
                   test_hf_bundle.test_zstd_threads_do_not_change_bytes \
                   test_presence.test_present_snapshot_is_not_read_again \
                   test_shared_cache.test_both_at_once_python_first
VALGRIND_OPTS   := -q --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
                   --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
                   --num-callers=30 --child-silent-after-fork=yes \
                   $(if $(wildcard $(VALGRIND_SUPP)),--suppressions=$(CURDIR)/$(VALGRIND_SUPP))

CI_EXTRA += check-valgrind

.PHONY: check-valgrind valgrind-wrappers

valgrind-wrappers: $(TOOL_BIN)
	@rm -rf $(VALGRIND_DIR)/bin $(VALGRIND_DIR)/logs
	@mkdir -p $(VALGRIND_DIR)/bin $(VALGRIND_DIR)/logs
	@set -e; for t in $(TOOLS); do \
	  w=$(VALGRIND_DIR)/bin/$$t; \
	  printf '#!/bin/sh\n# valgrind wrapper made by mk/valgrind.mk\nexec %s %s --log-file=%s/%%p.log %s "$$@"\n' \
	    '$(VALGRIND)' '$(VALGRIND_OPTS)' '$(CURDIR)/$(VALGRIND_DIR)/logs' '$(CURDIR)/$(BIN)/'$$t > $$w; \
	  chmod 755 $$w; done

check-valgrind:
	@EXTRA_DEPS=valgrind mk/deps.sh
	@$(MAKE) --no-print-directory valgrind-wrappers SANITIZE=
	@echo "check-valgrind: tests/cli under memcheck ($(VALGRIND_JOBS) modules at a time)"
	@start=$$(date +%s); \
	HF_BIN_DIR=$(CURDIR)/$(VALGRIND_DIR)/bin TEST_JOBS=$(VALGRIND_JOBS) VALGRIND_SKIP="$(VALGRIND_SKIP)" \
	  $(PYTHON) mk/valgrind-run.py; rc=$$?; \
	bad=$$(for f in $$(find $(VALGRIND_DIR)/logs -name '*.log' -size +0 | sort); do \
	  sed -e '/WARNING: unhandled amd64-linux syscall: 437$$/,+4d' "$$f" | grep -q . && echo "$$f"; \
	done); \
	for f in $$bad; do echo "==== $$f"; cat $$f; done; \
	runs=$$(ls $(VALGRIND_DIR)/logs | wc -l); \
	echo "check-valgrind: $$runs runs under memcheck in $$(( $$(date +%s) - start )) s, $$(echo $$bad | wc -w) with a report"; \
	[ $$rc -eq 0 ] && [ -z "$$bad" ]
