#!/usr/bin/env bash
# Installs what the web chat page test needs: Debian's headless-capable Chromium (Playwright's own
# browser download does not work here). The test drives it over the DevTools protocol with the
# `websockets` package, which the project's dependencies already bring.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
