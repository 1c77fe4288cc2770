#!/usr/bin/env bash
# Install a real Bluesky PDS (npm @atproto/dev-env) into .pds/ for the end-to-end publisher test.
#
# Idempotent: does nothing when the pinned version is already installed. Needs Node 20 and npm;
# @atproto/dev-env 0.3.215 is the last release that runs on Node 20 (newer ones need Node >= 22).
# Usage: scripts/install_pds.sh [folder]   (default: .pds under the repository root)
set -euo pipefail

VERSION="0.3.215"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:-$ROOT/.pds}"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install_pds: node and npm are needed (apt-get install -y nodejs npm)" >&2
  exit 1
fi

mkdir -p "$DIR"
INSTALLED="$DIR/node_modules/@atproto/dev-env/package.json"
if [ -f "$INSTALLED" ] && grep -q "\"version\": \"$VERSION\"" "$INSTALLED"; then
  echo "install_pds: @atproto/dev-env $VERSION already in $DIR"
else
  cd "$DIR"
  [ -f package.json ] || echo '{"name": "castmill-pds", "private": true}' > package.json
  npm install --no-audit --no-fund --loglevel=error "@atproto/dev-env@$VERSION"
  echo "install_pds: installed @atproto/dev-env $VERSION in $DIR"
fi

# The launcher the test runs: starts a PDS and a PLC directory on the given ports, creates one
# account, prints one JSON line {pdsUrl, handle, did, password}, then runs until killed.
cat > "$DIR/serve.cjs" <<'JS'
const { TestNetworkNoAppView } = require('@atproto/dev-env')

async function main() {
  const [pdsPort, plcPort] = process.argv.slice(2).map(Number)
  const network = await TestNetworkNoAppView.create({ pds: { port: pdsPort }, plc: { port: plcPort } })
  const agent = network.pds.getClient()
  const handle = 'castmill.test'
  const password = 'castmill-test-password'
  const res = await agent.api.com.atproto.server.createAccount({ handle, email: 'castmill@example.com', password })
  console.log(JSON.stringify({ pdsUrl: network.pds.url, handle, did: res.data.did, password }))
  const stop = async () => { await network.close(); process.exit(0) }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((err) => { console.error(err); process.exit(1) })
JS
