# Lifecycle and chaos scenarios (scenarios/*.yaml, run by bin/sandbox). Included by the Makefile.

# SCENARIOS names the scenarios to run (default: all of them); SCENARIO_LABELS narrows them by
# label, as kubectl's -l does (e.g. SCENARIO_LABELS=smoke). Reports: report.md, junit.xml and
# the dumps of failed runs in SCENARIO_REPORT_DIR.
SCENARIOS ?=
SCENARIO_LABELS ?=
SCENARIO_REPORT_DIR ?= e2e/_artifacts/scenarios
SCENARIO_FLAGS ?= --keep-going

.PHONY: scenarios-validate
scenarios-validate: ## Check the scenario files (strict decoding, variables, every rule of the format); no sandbox needed.
	$(SHARED_BUILD) $(GO) run ./cmd/sandbox scenario validate

.PHONY: sandbox-cli
sandbox-cli: ## Build bin/sandbox, the sandbox's command line (scenario list, validate, run).
	$(SHARED_BUILD) $(GO) build -o $(BIN)/sandbox ./cmd/sandbox

.PHONY: e2e-scenarios
e2e-scenarios: sandbox sandbox-cli ## After make sandbox: run the scenarios (all; SCENARIO_LABELS=smoke or SCENARIOS="octavia-outage lifecycle" narrows) with report.md and junit.xml in SCENARIO_REPORT_DIR.
	$(BIN)/sandbox scenario run $(if $(SCENARIOS),$(SCENARIOS),$(if $(SCENARIO_LABELS),--label '$(SCENARIO_LABELS)',--all)) \
		--report-dir $(SCENARIO_REPORT_DIR) $(SCENARIO_FLAGS)
