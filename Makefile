# Shortcuts; every target is a script of the repository.
.PHONY: test dev dev-lite dev-down lint-ci

test:           ## everything CI runs
	scripts/test

dev:            ## kind cluster with the platform and the webhook built from this checkout
	ci/local-up

dev-lite:       ## the same without the add-ons (baseline and webhook only)
	ci/local-up --skip-addons

dev-down:       ## remove the local cluster
	ci/local-down

lint-ci:        ## the workflows, actions, Dockerfiles and scripts, linted
	scripts/lint-ci
