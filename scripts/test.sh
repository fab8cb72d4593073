#!/usr/bin/env bash
# The test command of the README and of CI: set up, vet, test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
go vet ./...
go test -timeout 20m ./...
