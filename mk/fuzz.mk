# Fuzzing (libFuzzer, clang) of every parser of outside input: tests/fuzz/fuzz_*.c, seeds in
# tests/fuzz/corpus/<target>/ (see tests/fuzz/README.md).
#   make fuzz          each target for FUZZ_SECONDS (default 60) seconds
#   make check-fuzz    each target for FUZZ_CHECK_SECONDS (default 15): fails on any crash,
#                      leak, sanitizer report or broken invariant (part of make ci)
#   make fuzz-build    only build them (build/fuzz/bin/fuzz_*)
#   make fuzz FUZZ_TARGETS="tree manifest" FUZZ_SECONDS=600   a few targets, longer
# The library is compiled again with clang, ASan+UBSan and coverage into build/fuzz/; what
# a run finds new goes to build/fuzz/work/corpus/<target>/, crashes to
# build/fuzz/work/artifacts/<target>/ (copy a crash into the seed corpus once it is fixed).
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_CHECK_SECONDS ?= 15
FUZZ_DIR           := build/fuzz
FUZZ_ALL           := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
# the model card target only when hf-bundle's card module is there
FUZZ_ALL           := $(if $(wildcard src/bundle_card.c),$(FUZZ_ALL),$(filter-out card,$(FUZZ_ALL)))
FUZZ_TARGETS       ?= $(FUZZ_ALL)
FUZZ_SAN           := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# src/ is not ours to fix here: clang's extra warnings there must not stop the fuzz build
FUZZ_CFLAGS         = $(CSTD) $(filter-out -Werror,$(WARN)) -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
                      -DHF_VERSION='"$(VERSION)"' -Isrc $(PKG_CFLAGS)
FUZZ_LIB_OBJ       := $(LIB_SRC:src/%.c=$(FUZZ_DIR)/src/%.o)
FUZZ_BINS          := $(FUZZ_ALL:%=$(FUZZ_DIR)/bin/fuzz_%)
FUZZ_FAKE_HTTP     := $(FUZZ_DIR)/obj/fake_http.o

CI_EXTRA += check-fuzz

.PHONY: fuzz check-fuzz fuzz-build fuzz-deps fuzz-clean
.SECONDARY: $(FUZZ_ALL:%=$(FUZZ_DIR)/obj/fuzz_%.o) $(FUZZ_FAKE_HTTP)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/src/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/libhf.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_DIR)/obj/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h tests/fuzz/fake_http.h $(wildcard src/*.h)
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -Itests/fuzz -c $< -o $@

# The targets of src/api.c link the fake HTTP layer instead of src/http.c; objects go first
# so that the archive's http.o is never pulled in.
$(FUZZ_DIR)/bin/fuzz_api_info $(FUZZ_DIR)/bin/fuzz_api_tree: $(FUZZ_FAKE_HTTP)

$(FUZZ_DIR)/bin/fuzz_%: $(FUZZ_DIR)/obj/fuzz_%.o $(FUZZ_DIR)/libhf.a
	@mkdir -p $(@D)
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $(filter %.o,$^) $(filter %.a,$^) -o $@ $(PKG_LIBS)

# clang and its libFuzzer runtime, installed like the rest (mk/deps.sh) when missing
fuzz-deps:
	@EXTRA_DEPS="clang libclang-rt-14-dev" mk/deps.sh

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ_DIR)/bin/fuzz_%)
	tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) --bin $(FUZZ_DIR)/bin --work $(FUZZ_DIR)/work $(FUZZ_TARGETS)

check-fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ_DIR)/bin/fuzz_%)
	tests/fuzz/run.sh --seconds $(FUZZ_CHECK_SECONDS) --bin $(FUZZ_DIR)/bin --work $(FUZZ_DIR)/work $(FUZZ_TARGETS)

fuzz-clean:
	rm -rf $(FUZZ_DIR)
