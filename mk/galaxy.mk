# The Galaxy wrappers (tool_xml/) and the Tool Shed folder.
#   make check-galaxy  the runner's self-tests; every tool_xml/*.xml expanded,
#                      validated against galaxy.xsd and linted; the <tests> of
#                      the tools in GALAXY_TOOLS run against the fixture Hub
#   make shed          build/shed/: wrappers, macros.xml, the binaries
#                      (build/static/hf-* when built, else bin/hf-*), the
#                      test-data the tests use, .shed.yml (the suite);
#                      build/data_managers/NAME/: each data manager as its own
#                      Tool Shed repository (IUC layout, hf-fetch beside its tool);
#                      build/iwc/NAME/: each workflow as IWC takes it (.ga, tests,
#                      test-data, README, CHANGELOG, .dockstore.yml)
#   make shed-test     the tests of every tool, data manager and workflow, run
#                      from those folders alone
# GALAXY_TOOLS lists the tools whose tests check-galaxy runs: a tool joins it
# when its binary exists (never skip a listed tool whose binary is missing).
GALAXY_TOOLS   ?= hf_list,hf_fetch,hf_bundle,hf_upload,data_manager_hf_fetch
# Data managers (IUC layout), linted and tested like Galaxy runs them (tests/galaxy/gxdm.py).
GALAXY_DATA_MANAGERS := data_managers/data_manager_hf_fetch
# Workflows (IWC layout: workflows/NAME/NAME.ga and NAME-tests.yml), their tests run
# step by step against the fixture Hub (tests/galaxy/gxworkflow.py); a rerun from each
# run's manifest must give the same archive, byte for byte.
GALAXY_WORKFLOWS     := workflows/hf-pinned-snapshot/hf-pinned-snapshot.ga
GALAXY_REPRODUCE     := 'Manifest of an earlier run=manifest:archive'

# The oldest Galaxy release the suite supports (README, "Which Galaxy"): every tool's
# profile must be exactly this (credentials need 25.1; an older Galaxy refuses the tools).
GALAXY_PROFILE_FLOOR := 25.1
GALAXY_PYTHON  ?= /usr/bin/python3
GALAXY_SCHEMA  ?= $(CURDIR)/tests/galaxy/schema
GALAXY_BIN_DIR ?= $(or $(HF_BIN_DIR),$(CURDIR)/$(BIN))
GALAXY_RUN      = $(GALAXY_PYTHON) tests/galaxy/gxrun.py --xsd $(GALAXY_SCHEMA)/galaxy.xsd \
                  --datatypes $(GALAXY_SCHEMA)/datatypes.txt --profile-floor $(GALAXY_PROFILE_FLOOR)
SHED_DIR       := build/shed
SHED_BINS      := hf-list hf-fetch hf-bundle hf-upload
SHED_DM_DIR    := build/data_managers
IWC_DIR        := build/iwc
GALAXY_WORKFLOW_RUN = $(GALAXY_PYTHON) tests/galaxy/gxworkflow.py --xsd $(GALAXY_SCHEMA)/galaxy.xsd \
                  --datatypes $(GALAXY_SCHEMA)/datatypes.txt

CHECK_EXTRA += check-galaxy

.PHONY: check-galaxy shed shed-test

check-galaxy: $(TOOL_BIN)
	$(GALAXY_PYTHON) tests/galaxy/selftest.py
	$(GALAXY_RUN) --xml-dir tool_xml --bin-dir $(GALAXY_BIN_DIR) --tools $(GALAXY_TOOLS) \
	  $(addprefix --data-manager ,$(GALAXY_DATA_MANAGERS))
	$(GALAXY_WORKFLOW_RUN) --xml-dir tool_xml --bin-dir $(GALAXY_BIN_DIR) \
	  --reproduce $(GALAXY_REPRODUCE) $(GALAXY_WORKFLOWS)

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
	@rm -rf $(SHED_DM_DIR) $(IWC_DIR)
	@mkdir -p $(SHED_DM_DIR) $(IWC_DIR)
	@set -e; for d in $(GALAXY_DATA_MANAGERS); do \
	  n=$$(basename $$d); cp -RL $$d $(SHED_DM_DIR)/$$n; \
	  cp $(SHED_DIR)/hf-fetch $(SHED_DM_DIR)/$$n/data_manager/hf-fetch; \
	  chmod 755 $(SHED_DM_DIR)/$$n/data_manager/hf-fetch; echo "shed: $(SHED_DM_DIR)/$$n"; done
	@set -e; for w in $(GALAXY_WORKFLOWS); do \
	  d=$$(dirname $$w); cp -RL $$d $(IWC_DIR)/; echo "shed: $(IWC_DIR)/$$(basename $$d)"; done
	$(GALAXY_RUN) --tool-dir $(SHED_DIR) --no-tests \
	  $(addprefix --data-manager $(SHED_DM_DIR)/,$(notdir $(GALAXY_DATA_MANAGERS)))
	$(GALAXY_WORKFLOW_RUN) --tool-dir $(SHED_DIR) --lint-only \
	  $(addprefix $(IWC_DIR)/,$(foreach w,$(GALAXY_WORKFLOWS),$(notdir $(patsubst %/,%,$(dir $(w))))/$(notdir $(w))))
	@echo "shed: $(SHED_DIR), $(SHED_DM_DIR) and $(IWC_DIR) are ready (planemo test against make hub: see tests/galaxy/README.md)"

shed-test: shed
	$(GALAXY_RUN) --tool-dir $(SHED_DIR) --test-data $(SHED_DIR)/test-data \
	  $(addprefix --data-manager $(SHED_DM_DIR)/,$(notdir $(GALAXY_DATA_MANAGERS)))
	$(GALAXY_WORKFLOW_RUN) --tool-dir $(SHED_DIR) --reproduce $(GALAXY_REPRODUCE) \
	  $(addprefix $(IWC_DIR)/,$(foreach w,$(GALAXY_WORKFLOWS),$(notdir $(patsubst %/,%,$(dir $(w))))/$(notdir $(w))))
