#!/bin/sh
# Runs a compiled entry script on Node 24, the project's runtime: this machine's node if it is a 24 (from 24.11),
# else the pinned release from the user cache, installed from the npm registry on first use
# (dist/scripts/node-path.js). exec, not a child process: the script keeps this pid and gets the signals sent to
# it, as npm start's session file (.ci/run stops it through that pid) and Ctrl-C expect.
# Usage: sh scripts/node24.sh dist/scripts/start.js [args...]
set -e
node24=$(node "$(dirname "$0")/../dist/scripts/node-path.js")
exec "$node24" "$@"
