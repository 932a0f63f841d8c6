#!/usr/bin/env bash
# The log viewer in a real browser: installs Debian's Chromium when missing,
# then runs TestViewerInBrowser, which builds the demo, serves it on
# loopback (-serve 127.0.0.1:0), opens /_viewer in headless Chromium with
# and without filters and checks the rows a person would see.
#
#   bash .ci/browser.sh                      # as root, or with chromium installed
#   FILESERVER_SCREENSHOT=/tmp/viewer.png bash .ci/browser.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

chromium=${FILESERVER_CHROMIUM:-/usr/bin/chromium}
if ! [ -x "$chromium" ]; then
	echo "browser: installing chromium from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Fonts are a recommendation of chromium; without one, text has no glyphs.
	apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
"$chromium" --version

out=$(mktemp)
trap 'rm -f "$out"' EXIT
FILESERVER_CHROMIUM=$chromium go test -count=1 -run '^TestViewerInBrowser$' -v ./examples/fileserver | tee "$out"
# A skipped test passes too: make sure it ran.
grep -q -- '--- PASS: TestViewerInBrowser ' "$out"
echo "browser: passed in $((SECONDS - start)) s"
