#!/usr/bin/env bash
# System packages the tests need beyond the Python venv (Debian):
#   java            - a Java 17 runtime for PySpark's JVM (a JRE is enough)
#   chromium        - the browser test drives the real Dagster UI (playwright uses this binary)
#   docker-compose  - v1 CLI, used only to validate docker-compose.yaml (`config -q`); no engine needed
# --no-install-recommends keeps docker-compose from pulling in the docker.io engine.
# Idempotent and quick when everything is present: `apt-get update` runs only if something is missing.
set -euo pipefail

# Usage: scripts/system-deps.sh [java] [chromium] [docker-compose]   (default: all three)
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(java chromium docker-compose)

missing=()
for component in "${wanted[@]}"; do
    case "$component" in
        java) command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless) ;;
        # A font package too: without any font, headless screenshots render text as boxes.
        chromium) command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation) ;;
        docker-compose) command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose) ;;
        *) echo "system-deps: unknown component $component" >&2; exit 2 ;;
    esac
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "system-deps: ${wanted[*]} already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: missing ${missing[*]} and no apt-get here; install a Java 17 runtime (and, for the tests," >&2
    echo "chromium and docker-compose) with your system's package manager, then run again" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: done"
