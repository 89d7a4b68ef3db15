#!/usr/bin/env bash
# Make sure a Chromium browser is installed: the tests of `procflow report` open
# the HTML page in headless Chromium (driven by Playwright for Python, which uses
# this system browser; Playwright's own browser download is not needed).
# As root on Debian/Ubuntu it installs the package; otherwise it says exactly what to run.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing: installing the chromium package with apt-get..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  command -v chromium >/dev/null 2>&1 && exit 0
fi
cat >&2 <<'MSG'
The tests of `procflow report` open the HTML report in headless Chromium, and the
`chromium` command is not installed. Install it, then run make again:
  Debian:         sudo apt-get install chromium
  Ubuntu:         sudo snap install chromium   (or the chromium package of your release)
  Fedora/RHEL:    sudo dnf install chromium
  macOS:          brew install --cask chromium
MSG
exit 1
