#!/usr/bin/env bash
# Make sure Graphviz's `dot` binary is installed: procflow draws diagrams with it.
# As root on Debian/Ubuntu it installs the package; otherwise it says exactly what to run.
set -euo pipefail
if command -v dot >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Graphviz's dot is missing: installing the graphviz package with apt-get..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq graphviz >/dev/null
  command -v dot >/dev/null 2>&1 && exit 0
fi
cat >&2 <<'MSG'
procflow needs Graphviz's `dot` binary to render diagrams, and it is not installed.
Install it, then run make again:
  Debian/Ubuntu:  sudo apt-get install graphviz
  Fedora/RHEL:    sudo dnf install graphviz
  macOS:          brew install graphviz
  Windows:        winget install graphviz
MSG
exit 1
