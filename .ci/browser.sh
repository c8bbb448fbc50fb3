#!/usr/bin/env bash
# Installs Debian's chromium for the pool view's browser test (tests/Orleans.Licensing.Browser.Tests, Playwright with
# ExecutablePath = the system chromium: no Playwright browser download). Does nothing when chromium is there.
set -euo pipefail
if command -v chromium > /dev/null || [ -x /usr/bin/chromium ]; then
    echo "== chromium: $(chromium --version 2>/dev/null || echo present)"
    exit 0
fi
echo "== installing chromium"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
chromium --version
