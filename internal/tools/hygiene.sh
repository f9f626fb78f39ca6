#!/usr/bin/env bash
# The hygiene gate of `make vet` (so `make test` and CI run it), beside go
# vet and gofmt:
#   - go.mod and go.sum are tidy (go mod tidy -diff);
#   - no function is unreachable from every program of the module
#     (deadcode), but those internal/tools/deadcode.allow lists with why;
#   - staticcheck finds nothing (checks: staticcheck.conf), but what
#     internal/tools/staticcheck.allow lists with why.
# The linters are pinned to exact versions the Go module proxy serves and
# installed into bin/tools, outside go.mod: they are no dependency of
# unicat. Findings reach internal/tools/allowlist without line numbers, so
# an entry survives edits elsewhere in its file.
set -euo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
DEADCODE=golang.org/x/tools/cmd/deadcode@v0.53.0
STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
tools=$PWD/bin/tools
module=$($GO list -m)
failed=0

if ! $GO mod tidy -diff; then
	echo "go.mod or go.sum is not tidy: run go mod tidy" >&2
	failed=1
fi

GOBIN=$tools $GO install "$DEADCODE"
GOBIN=$tools $GO install "$STATICCHECK"
$GO build -o "$tools/allowlist" ./internal/tools/allowlist

# One line per function: package path (less the module's) "." name.
dead=$("$tools/deadcode" -f '{{range .Funcs}}{{$.Path}}.{{.Name}}{{"\n"}}{{end}}' ./...)
if ! sed "s|^$module/||" <<<"$dead" | "$tools/allowlist" internal/tools/deadcode.allow; then
	echo "deadcode: remove the functions no program calls, or list them in internal/tools/deadcode.allow with why" >&2
	failed=1
fi

# staticcheck exits 1 when it finds anything: the list decides.
rc=0
found=$("$tools/staticcheck" ./... 2>&1) || rc=$?
if [ "$rc" -ne 0 ] && [ -z "$found" ]; then
	echo "staticcheck failed (exit $rc) without saying why" >&2
	exit 1
fi
# file:line:col: message (CHECK)  ->  file CHECK: message
if ! sed -E 's/^([^:]+):[0-9]+:[0-9]+: (.*) \(([A-Z]+[0-9]+)\)$/\1 \3: \2/' <<<"$found" |
	"$tools/allowlist" internal/tools/staticcheck.allow; then
	echo "staticcheck: fix these, or list them in internal/tools/staticcheck.allow with why" >&2
	failed=1
fi
exit $failed
