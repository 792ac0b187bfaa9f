# The Galaxy wrappers (tool_xml/) and the Tool Shed folder.
#   make check-galaxy  the runner's self-tests; every tool_xml/*.xml expanded,
#                      validated against galaxy.xsd and linted; the <tests> of
#                      the tools in GALAXY_TOOLS run against the fixture Hub
#   make shed          build/shed/: wrappers, macros.xml, the binaries
#                      (build/static/hf-* when built, else bin/hf-*), the
#                      test-data the tests use, .shed.yml
#   make shed-test     the tests of every tool, run from build/shed alone
# GALAXY_TOOLS lists the tools whose tests check-galaxy runs: a tool joins it
# when its binary exists (never skip a listed tool whose binary is missing).
GALAXY_TOOLS   ?= hf_list,hf_fetch,hf_bundle,hf_upload
GALAXY_PYTHON  ?= /usr/bin/python3
GALAXY_SCHEMA  ?= $(CURDIR)/tests/galaxy/schema
GALAXY_BIN_DIR ?= $(or $(HF_BIN_DIR),$(CURDIR)/$(BIN))
GALAXY_RUN      = $(GALAXY_PYTHON) tests/galaxy/gxrun.py --xsd $(GALAXY_SCHEMA)/galaxy.xsd \
                  --datatypes $(GALAXY_SCHEMA)/datatypes.txt
SHED_DIR       := build/shed
SHED_BINS      := hf-list hf-fetch hf-bundle hf-upload

CHECK_EXTRA += check-galaxy

.PHONY: check-galaxy shed shed-test

check-galaxy: $(TOOL_BIN)
	$(GALAXY_PYTHON) tests/galaxy/selftest.py
	$(GALAXY_RUN) --xml-dir tool_xml --bin-dir $(GALAXY_BIN_DIR) --tools $(GALAXY_TOOLS)

shed:
	@rm -rf $(SHED_DIR)
	@mkdir -p $(SHED_DIR)/test-data
	cp tool_xml/*.xml .shed.yml $(SHED_DIR)/
	@set -e; for b in $(SHED_BINS); do \
	  if [ -x build/static/$$b ]; then src=build/static/$$b; \
	  elif [ -x bin/$$b ]; then src=bin/$$b; \
	  else echo "shed: no build/static/$$b nor bin/$$b (make static, or make)" >&2; exit 1; fi; \
	  cp $$src $(SHED_DIR)/$$b; chmod 755 $(SHED_DIR)/$$b; echo "shed: $$b from $$src"; \
	done
	@set -e; $(GALAXY_PYTHON) tests/galaxy/gxrun.py --xml-dir tool_xml --list-test-data | \
	  while IFS= read -r f; do mkdir -p "$(SHED_DIR)/test-data/$$(dirname "$$f")"; \
	    cp "test-data/$$f" "$(SHED_DIR)/test-data/$$f"; done
	$(GALAXY_RUN) --tool-dir $(SHED_DIR) --no-tests
	@echo "shed: $(SHED_DIR) is ready (planemo test $(SHED_DIR) against make hub: see tests/galaxy/README.md)"

shed-test: shed
	$(GALAXY_RUN) --tool-dir $(SHED_DIR) --test-data $(SHED_DIR)/test-data
