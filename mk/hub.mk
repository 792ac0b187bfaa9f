# The fixture Hub (tests/hub/hub.py) and its self-tests.
CHECK_EXTRA += check-hub

.PHONY: check-hub
check-hub:
	$(PYTHON) tests/hub/test_hub.py
