#!/usr/bin/env bash
# Prepares this machine for the end-to-end tests (npm run test:e2e): Debian's
# chromium and neovim, the packages code-server's native modules build
# with, and code-server itself, installed from npm into a cache folder
# outside the repository. Idempotent: a second run installs nothing.
#
# Facts behind each step: ../shared/E2E-NOTES.md (measured on this kind of
# machine). Environment:
#   JAILCHECK_E2E_CACHE   where code-server goes (default ~/.cache/jailcheck-e2e)
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
CACHE="${JAILCHECK_E2E_CACHE:-$HOME/.cache/jailcheck-e2e}"
PREFIX="$CACHE/code-server-$CODE_SERVER_VERSION"
BIN="$PREFIX/node_modules/.bin/code-server"

# 1. Debian packages: the browser, the second editor, ripgrep (code-server
#    needs an rg binary), and what node-gyp needs to build code-server's
#    native modules (Kerberos and libsecret headers among them).
packages=(build-essential pkg-config python3 libx11-dev libxkbfile-dev libsecret-1-dev libkrb5-dev ripgrep chromium neovim)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e-setup: installing ${missing[*]}"
  sudo_=""
  [ "$(id -u)" -ne 0 ] && sudo_="sudo"
  $sudo_ apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# 2. code-server from npm, into the cache.
installed_version() {
  node -p "require('$PREFIX/node_modules/code-server/package.json').version" 2>/dev/null || true
}
if [ -x "$BIN" ] && [ "$(installed_version)" = "$CODE_SERVER_VERSION" ]; then
  echo "e2e-setup: code-server $CODE_SERVER_VERSION already in $PREFIX"
  exit 0
fi
echo "e2e-setup: installing code-server $CODE_SERVER_VERSION into $PREFIX"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$PREFIX"

# @vscode/ripgrep's postinstall downloads rg from GitHub unless it finds the
# release tarball in $TMPDIR/vscode-ripgrep-cache-<version>/: give it one
# holding Debian's rg.
rgcache="$scratch/tmp/vscode-ripgrep-cache-1.15.11"
mkdir -p "$rgcache/pkg"
cp /usr/bin/rg "$rgcache/pkg/rg"
tar -C "$rgcache/pkg" -czf "$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg

# Native modules whose prebuilt binaries would come from GitHub (argon2)
# are compiled instead; node-gyp then needs Node's headers, which it would
# download unless npm's nodedir names an installation that has them.
nodedir_env=()
if [ -z "$(npm config get nodedir 2>/dev/null | grep -v '^undefined$' || true)" ]; then
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  [ -f "$node_prefix/include/node/node_version.h" ] && nodedir_env=(npm_config_nodedir="$node_prefix")
fi

# npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which would
# wait for a "y" without a TTY. npm_config_unsafe_perm: code-server's own
# postinstall refuses to run as root otherwise (npm warns the key is
# unknown, and still passes it on). npm's cache goes to the scratch folder.
(
  cd "$PREFIX"
  [ -f package.json ] || echo '{"name":"jailcheck-e2e-code-server","private":true}' > package.json
  env TMPDIR="$scratch/tmp" npm_config_yes=true npm_config_unsafe_perm=true npm_config_cache="$scratch/npm-cache" \
    "${nodedir_env[@]}" npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
)
[ "$(installed_version)" = "$CODE_SERVER_VERSION" ] || { echo "e2e-setup: code-server did not install" >&2; exit 1; }
echo "e2e-setup: code-server $CODE_SERVER_VERSION installed"
