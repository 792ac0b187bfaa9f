# hf-galaxy: Hugging Face Hub tools for Galaxy.
#   make            build bin/hf-list, bin/hf-fetch, bin/hf-bundle, bin/hf-upload
#   make check      install missing Debian packages, build, run every test
#   make ci         what CI runs: check, then check again under ASan+UBSan
#   make demo       list and fetch a fixture repository, offline
#   make hub        run the fixture Hub in the foreground
VERSION := 0.2.0

CC      ?= cc
PYTHON  ?= python3
PKGS    := libcurl openssl jansson yaml-0.1 libarchive

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-missing-field-initializers
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g

ifeq ($(SANITIZE),1)
BUILD   := build/asan
BIN     := build/asan/bin
SANFLAGS:= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD   := build/default
BIN     := bin
SANFLAGS:=
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

ALL_CFLAGS  = $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -DHF_VERSION='"$(VERSION)"' -Isrc $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

LIB_SRC  := $(sort $(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/src/%.o)
LIB      := $(BUILD)/libhf.a
TOOLS    := $(patsubst tools/%.c,%,$(sort $(wildcard tools/hf-*.c)))
TOOL_BIN := $(TOOLS:%=$(BIN)/%)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check ci unit cli demo hub clean format bench
.DEFAULT_GOAL := all

all: $(TOOL_BIN)

deps:
	@mk/deps.sh

$(BUILD)/src/%.o: src/%.c $(wildcard src/*.h) Makefile
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BIN)/%: tools/%.c $(LIB) $(wildcard src/*.h) Makefile
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) $< $(LIB) -o $@ $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(wildcard src/*.h) tests/unit/unit.h
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -Itests/unit $< $(LIB) -o $@ $(ALL_LDFLAGS) $(PKG_LIBS) $(CHECK_LIBS)

# Every test; `deps` first so that a fresh machine needs nothing else.
check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@$(MAKE) --no-print-directory unit cli $(CHECK_EXTRA)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do CK_FORK=yes $$t; done

cli: $(TOOL_BIN)
	HF_BIN_DIR=$(CURDIR)/$(BIN) $(PYTHON) tests/run.py

# The last line says green and how long it took; any failure stops it before.
ci: deps
	@set -e; start=$$(date +%s); \
	$(MAKE) --no-print-directory check; \
	$(MAKE) --no-print-directory check SANITIZE=1; \
	$(MAKE) --no-print-directory $(CI_EXTRA); \
	echo "ci: green: check, check SANITIZE=1, $(CI_EXTRA) in $$(($$(date +%s) - start)) s"

demo: deps all
	@$(PYTHON) tests/demo.py --bin $(CURDIR)/$(BIN)

hub:
	@$(PYTHON) tests/hub/hub.py --port $${HUB_PORT:-8765}

format:
	clang-format -i src/*.[ch] tools/*.c tests/unit/*.[ch]

clean:
	rm -rf build bin

-include mk/*.mk
