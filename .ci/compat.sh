#!/usr/bin/env bash
# CI: audit over the third-party slog handlers (issue 16, point 1). The
# compat module has its own go.mod, so the root's ./... never reaches it.
set -euo pipefail
cd "$(dirname "$0")/../compat"

echo "== compat: gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"
	echo "$unformatted"
	exit 1
fi

echo "== compat: go vet"
go vet ./...

echo "== compat: go test"
go test ./...
