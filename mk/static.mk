# Fully static (musl) binaries, the ones a Tool Shed repository carries.
#   make static-deps   build the libraries from Debian sources (mk/static-deps.sh,
#                      once: again only when its PINNED section, the versions
#                      offered or the compiler change); build/static/VERSIONS
#                      says which versions the binaries are built with
#   make static        build/static/hf-*: musl, -static, stripped
#   make check-static  each is statically linked and under 6 MiB, and runs in
#                      an empty chroot (tests/static/check.sh); then, in empty
#                      chroots against the fixture Hub over HTTPS, hf-list,
#                      hf-fetch, hf-bundle give what the ordinary build (bin/)
#                      gives, every CA place the library probes works, no CA
#                      fails with exit 6, openssl.cnf is never read
#                      (tests/static/e2e.sh; a few seconds)
#   make static-clean  remove build/static (not the library cache)
#   make check-static-pins  a pin made stale (a version that does not exist)
#                      still builds, with the newest version offered, saying so
# The libraries live outside the checkout, in ${XDG_CACHE_HOME:-~/.cache}/
# hf-galaxy/static-deps/<key>/ (STATIC_DEPS_DIR, absolute, moves it), keyed by
# the recipe, the versions and the compiler, shared by every clone of the
# machine; build/static/deps-prefix names the one in use.
.PHONY: static static-deps static-bins check-static check-static-pins static-clean

STATIC_OUT    := build/static
STATIC_STAMP  := $(STATIC_OUT)/deps-prefix
STATIC_PREFIX  = $(shell cat $(STATIC_STAMP) 2>/dev/null)
STATIC_CC     := musl-gcc
STATIC_PKGS   := libcurl libarchive yaml-0.1 jansson libcrypto
STATIC_MAX    := 6291456

# pkg-config reads the prefix's .pc files and never the host's. Recursive (=):
# expanded only in the recipes, after static-deps has built the prefix.
STATIC_PKGCONF = PKG_CONFIG_LIBDIR=$(STATIC_PREFIX)/lib/pkgconfig PKG_CONFIG_PATH= \
                 PKG_CONFIG_SYSROOT_DIR= pkg-config --static
STATIC_CFLAGS  = -std=c11 -D_GNU_SOURCE -Os -ffunction-sections -fdata-sections \
                 $(WARN) -DHF_VERSION='"$(VERSION)"' -Isrc \
                 -DHF_BUILT_FROM='"$(shell tr '\n' ' ' 2>/dev/null <$(STATIC_OUT)/VERSIONS | sed 's/ $$//')"' \
                 $(shell $(STATIC_PKGCONF) --cflags $(STATIC_PKGS))
STATIC_LDFLAGS = -static -Wl,--gc-sections -s
STATIC_LIBS    = $(shell $(STATIC_PKGCONF) --libs $(STATIC_PKGS))

STATIC_LIB_OBJ := $(LIB_SRC:src/%.c=$(STATIC_OUT)/obj/%.o)
STATIC_LIB     := $(STATIC_OUT)/libhf.a
STATIC_BINS    := $(TOOLS:%=$(STATIC_OUT)/%)

CI_EXTRA += check-static check-static-pins

static-deps:
	@mk/static-deps.sh --out $(STATIC_OUT) >/dev/null

# A second make so that the rules below see the prefix static-deps just made.
static: static-deps
	@$(MAKE) --no-print-directory static-bins

static-bins: $(STATIC_BINS)

$(STATIC_STAMP):
	@mk/static-deps.sh --out $(STATIC_OUT) >/dev/null

$(STATIC_OUT)/obj/%.o: src/%.c $(wildcard src/*.h) $(STATIC_STAMP) Makefile
	@mkdir -p $(@D)
	$(STATIC_CC) $(STATIC_CFLAGS) -c $< -o $@

$(STATIC_LIB): $(STATIC_LIB_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(STATIC_OUT)/hf-%: tools/hf-%.c $(STATIC_LIB) $(wildcard src/*.h) $(STATIC_STAMP) Makefile
	@mkdir -p $(@D)
	$(STATIC_CC) $(STATIC_CFLAGS) $< $(STATIC_LIB) -o $@ $(STATIC_LDFLAGS) $(STATIC_LIBS)

# The ordinary build too: e2e.sh compares the static binaries with it.
check-static: static $(TOOL_BIN)
	@tests/static/check.sh --version '$(VERSION)' --max-bytes $(STATIC_MAX) \
	  --versions-file $(STATIC_OUT)/VERSIONS \
	  --ref-bin $(BIN) --python '$(PYTHON)' $(STATIC_BINS)

check-static-pins: static-deps
	@tests/static/pins.sh

static-clean:
	rm -rf $(STATIC_OUT)
