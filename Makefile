# Two commands, each doing its own set-up on a fresh machine and safe to repeat:
#   make lab    set up, then JupyterLab at the repository root, opening the chapter list
#   make test   set up, then the unit tests and every notebook (smoke profile)
#   make reset CH=08   put chapter 08 back as the course has it (notebook and twin), losing your edits
# A second run skips what is done: the venv is made once, the requirements are installed again
# only when requirements.txt or pyproject.toml changed, the data is looked for before installing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.requirements-installed
DATA_DIR := /usr/share/datasets/fashion-mnist
# Extra options for JupyterLab, e.g. make lab LAB_ARGS="--ip=0.0.0.0 --port=8889"
LAB_ARGS ?=

.PHONY: lab test setup data hooks reset

lab: setup data hooks
	@echo "== JupyterLab: the chapters are in notebooks/ (Ctrl-C here stops the server) =="
	JUPYTER_CONFIG_PATH="$(CURDIR)/.jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks \
		$$( [ "$$(id -u)" -eq 0 ] && echo --allow-root ) $(LAB_ARGS)

test: setup data hooks
	$(BIN)/pytest tests
	$(BIN)/pytest --nbval-lax notebooks

# A chapter is two files, the notebook and its py:percent twin (jupytext reads the cells from the
# twin): a reset restores both, or the lab would see the twin's edits again.
reset:
	@if [ -z "$(CH)" ]; then echo "usage: make reset CH=08 (the chapter's two-digit number)"; exit 2; fi
	@set -- notebooks/$(CH)_*.ipynb; if [ ! -f "$$1" ]; then \
		echo "no chapter $(CH): give its two-digit number, e.g. make reset CH=08"; exit 2; fi; \
	twin=notebooks/py/$$(basename "$$1" .ipynb).py; \
	git checkout HEAD -- "$$1" "$$twin" && echo "reset $$1 and $$twin to the course's version"

setup: $(INSTALLED)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The first set-up is the long one: it says so before it starts, and pip shows a line per package
# (and its progress bar on a terminal). The size is `du -sh .venv` on x86-64 Linux (5.8G); the time
# is a fresh venv to its stamp file on the 2-core AMD EPYC development machine (2 min 10 s, wheels
# read from its disk; about 3 min in the fresh-clone run issue 26 reports).
$(INSTALLED): requirements.txt pyproject.toml | $(BIN)/python
	@echo "== set-up: pip installs torch, torchvision, JupyterLab and the course's other packages" \
	      "into $(VENV)/: about 5.8 GB on x86-64 Linux (where pip takes torch's CUDA build), 2-3" \
	      "minutes on the development machines, longer where they are downloaded; done once, and" \
	      "again only when requirements.txt or pyproject.toml change =="
	$(BIN)/python -m pip install --progress-bar on -r requirements.txt
	@$(BIN)/python -c "import torch, torchvision, d2lmini; print('installed: torch', torch.__version__, '/ torchvision', torchvision.__version__)"
	@du -sh $(VENV) | awk '{print "the virtual environment takes " $$1 " on disk"}'
	@touch $@

# Fashion-MNIST from Debian's package dataset-fashion-mnist, where apt-get can be used: as root
# directly, otherwise through sudo if it needs no password. Where neither works this says how else
# to get the data and goes on (d2lmini can also download it, or read a folder you name).
data:
	@if [ -d $(DATA_DIR) ] && [ -n "$$(ls $(DATA_DIR))" ]; then \
		echo "Fashion-MNIST: found in $(DATA_DIR)"; \
	elif ! command -v apt-get >/dev/null; then \
		echo "Fashion-MNIST: no apt-get here; d2lmini downloads it on first use (needs internet)," \
		     "or set D2LMINI_DATA to a folder holding the four *-ubyte(.gz) files"; \
	else \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
		else SUDO=none; fi; \
		if [ "$$SUDO" = none ]; then \
			echo "Fashion-MNIST: installing it needs root; run once:" \
			     "sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist" \
			     "(or set D2LMINI_DATA, or let d2lmini download it with internet)"; \
		else \
			$$SUDO apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dataset-fashion-mnist \
			|| echo "Fashion-MNIST: apt-get could not install dataset-fashion-mnist" \
			        "(set D2LMINI_DATA, or let d2lmini download it with internet)"; \
		fi; \
	fi

# Strip outputs (and run-specific metadata) from notebooks on their way into git, so running and
# saving a chapter in JupyterLab leaves `git status` clean. Cell ids are kept: they are stable.
hooks: $(INSTALLED)
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
		$(BIN)/nbstripout --install && \
		git config filter.nbstripout.clean '"$(abspath $(BIN))/python" -m nbstripout --keep-id' && \
		git config filter.nbstripout.extrakeys \
			"metadata.language_info metadata.jupytext metadata.widgets cell.metadata.jupyter" && \
		git config filter.nbstripout.required false && \
		echo "git: notebooks are stripped of outputs on their way into git (nbstripout)"; \
	fi
