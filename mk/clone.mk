# A fresh clone needs nothing beside it (tests/clone/check.sh).
#   make check-clone   (part of make ci) the checkout's files copied into a folder with no
#                      sibling directories; make demo and make check-galaxy run there
CI_EXTRA += check-clone

.PHONY: check-clone
check-clone:
	@tests/clone/check.sh
