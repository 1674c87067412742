# Helpdesk: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime follows the Python that packages: prefer 3.13, accept 3.11+.
PYTHON_BOOT := $(shell for c in python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) python3.12 python3.11 python3; do \
	if $$c -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1; then echo $$c; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python
STAGE ?= dev
PACKAGE_DIR ?= build/package
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help install run test lint typecheck unit functional bench preview package deploy admin clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# chalice 1.34 (it packages with pip) requires pip<26.3.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON_BOOT)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<26.3"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed ## Create the virtual environment and install everything

run: install ## Run the whole helpdesk locally on embedded moto, with demo data
	$(PY) -m local

lint: install ## ruff
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: install ## mypy
	$(PY) -m mypy

unit: install
	$(PY) -m pytest tests/unit

functional: install
	$(PY) -m pytest tests/functional

test: install lint typecheck ## Lint, type-check and run every test tier
	$(PY) -m pytest

bench: install ## DynamoDB round trips, items read and import time per operation; stream handler throughput
	$(PY) -m tests.bench.run

PREVIEW_DIR ?= build/preview

preview: install ## Render every notification template with sample data into build/preview
	$(PY) -m local.preview $(PREVIEW_DIR)

package: install ## Build the CloudFormation package into build/package
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' || { \
		echo "make package needs the virtual environment on Python 3.13: Chalice gives Lambda the runtime"; \
		echo "of the Python that packages. Install 3.13, then: make clean && make package"; exit 1; }
	rm -rf $(PACKAGE_DIR)
	$(VENV)/bin/chalice package --stage $(STAGE) --merge-template infra/template.json $(PACKAGE_DIR)
	$(PY) infra/compile_package.py $(PACKAGE_DIR)/deployment.zip

# Template parameters for deploy, e.g. DEPLOY_PARAMETERS="PublicUrl=https://help.example.com".
DEPLOY_PARAMETERS ?=

deploy: package ## Deploy with CloudFormation (needs AWS credentials and DEPLOY_BUCKET)
	@test -n "$(DEPLOY_BUCKET)" || { echo "set DEPLOY_BUCKET to an S3 bucket for the code"; exit 1; }
	aws cloudformation package --template-file $(PACKAGE_DIR)/sam.json \
		--s3-bucket $(DEPLOY_BUCKET) --output-template-file $(PACKAGE_DIR)/packaged.yaml
	aws cloudformation deploy --template-file $(PACKAGE_DIR)/packaged.yaml \
		--stack-name helpdesk-$(STAGE) --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
		--no-fail-on-empty-changeset $(if $(DEPLOY_PARAMETERS),--parameter-overrides $(DEPLOY_PARAMETERS))

# The first admin of a deployed stack (the API's staff endpoint needs an admin already).
admin: install ## Create a staff admin in the deployed stack: STAGE, EMAIL, NAME; asks for the password
	@test -n "$(EMAIL)" && test -n "$(NAME)" || { echo "set EMAIL and NAME, e.g. make admin STAGE=prod EMAIL=ada@example.com NAME='Ada Lovelace'"; exit 1; }
	$(PY) -m infra.create_admin --stack helpdesk-$(STAGE) --email "$(EMAIL)" --name "$(NAME)"

clean: ## Remove the virtual environment and build output
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
