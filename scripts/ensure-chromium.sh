#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests. The tests drive it through
# playwright-core; browsers downloaded by tools fail on these machines, so apt is the only source.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing at /usr/bin/chromium and apt-get is not available: install Debian's chromium package." >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "Chromium is missing at /usr/bin/chromium and this user cannot install it." >&2
  echo "Install it as root: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi

echo "Installing Chromium with apt (about a minute)..."
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
