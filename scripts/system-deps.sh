#!/usr/bin/env bash
# System packages the tests need beyond the Python venv (Debian):
#   java            - PySpark's JVM
#   chromium        - the browser test drives the real Dagster UI (playwright uses this binary)
#   docker-compose  - v1 CLI, used only to validate docker-compose.yaml (`config -q`); no engine needed
# --no-install-recommends keeps docker-compose from pulling in the docker.io engine.
# Idempotent and quick when everything is present: `apt-get update` runs only if something is missing.
set -euo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
# A font package too: without any font, headless screenshots render text as boxes.
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)

if [ ${#missing[@]} -eq 0 ]; then
    echo "system-deps: java, chromium and docker-compose already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: done"
