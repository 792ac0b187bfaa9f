# The release tarball of the static binaries.
#   make dist   build/dist/hf-galaxy-VERSION-linux-ARCH.tar.gz (and .sha256):
#                 hf-galaxy-VERSION-linux-ARCH/
#                   bin/hf-*               the static binaries (make static)
#                   share/man/man1/hf-*.1  the man pages (docs/*.1)
#                   README.md LICENSE
#                   SHA256SUMS             of every other file (sha256sum -c)
# Deterministic: the same inputs give the same bytes (entries sorted by name,
# every mtime SOURCE_DATE_EPOCH, else the last commit's date; owner and group
# 0, fixed modes, gzip -n). The tarball is unpacked again and its SHA256SUMS
# checked before it is declared done.
.PHONY: dist dist-clean

DIST_ARCH  ?= $(shell uname -m)
DIST_NAME  := hf-galaxy-$(VERSION)-linux-$(DIST_ARCH)
DIST_DIR   := build/dist
DIST_TAR   := $(DIST_DIR)/$(DIST_NAME).tar.gz
DIST_MAN    = $(sort $(wildcard docs/*.1))
# Copied to the top folder; every one must exist.
DIST_FILES ?= README.md LICENSE

dist: static
	@set -eu; \
	epoch=$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || true)}; \
	case "$$epoch" in ''|*[!0-9]*) echo "dist: no SOURCE_DATE_EPOCH and no git commit to date the entries" >&2; exit 1 ;; esac; \
	for f in $(DIST_FILES) $(DIST_MAN) $(STATIC_BINS); do \
	  [ -f "$$f" ] || { echo "dist: $$f is missing" >&2; exit 1; }; done; \
	[ -n "$(strip $(DIST_MAN))" ] || { echo "dist: no man pages (docs/*.1)" >&2; exit 1; }; \
	stage=$(DIST_DIR)/$(DIST_NAME); \
	rm -rf "$$stage" $(DIST_TAR) $(DIST_TAR).sha256; \
	mkdir -p "$$stage/bin" "$$stage/share/man/man1"; \
	cp $(STATIC_BINS) "$$stage/bin/"; \
	cp $(DIST_MAN) "$$stage/share/man/man1/"; \
	cp $(DIST_FILES) "$$stage/"; \
	chmod 644 "$$stage"/share/man/man1/* $(addprefix "$$stage"/,$(notdir $(DIST_FILES))); \
	chmod 755 "$$stage"/bin/*; \
	(cd "$$stage" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | \
	  xargs -d '\n' sha256sum >SHA256SUMS); \
	chmod 644 "$$stage/SHA256SUMS"; \
	find "$$stage" -type d -exec chmod 755 {} +; \
	LC_ALL=C tar --sort=name --format=gnu --mtime=@$$epoch --owner=0 --group=0 --numeric-owner \
	  -C $(DIST_DIR) -cf - $(DIST_NAME) | gzip -9n >$(DIST_TAR).tmp; \
	mv $(DIST_TAR).tmp $(DIST_TAR); \
	rm -rf "$$stage"; \
	check=$$(mktemp -d); trap 'rm -rf "$$check"' EXIT; \
	tar -C "$$check" -xzf $(DIST_TAR); \
	(cd "$$check/$(DIST_NAME)" && sha256sum --quiet -c SHA256SUMS) || \
	  { echo "dist: SHA256SUMS does not check in the unpacked tarball" >&2; exit 1; }; \
	(cd $(DIST_DIR) && sha256sum $(DIST_NAME).tar.gz >$(DIST_NAME).tar.gz.sha256); \
	echo "dist: $(DIST_TAR) ($$(stat -c %s $(DIST_TAR)) bytes, entries dated @$$epoch)"; \
	cat $(DIST_TAR).sha256; \
	tar -tvzf $(DIST_TAR)

dist-clean:
	rm -rf $(DIST_DIR)
