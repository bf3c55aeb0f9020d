#!/usr/bin/env bash
# Installs the Debian packages the real-parts tests use, only when missing and only as root.
set -euo pipefail
need=()
command -v 7zz >/dev/null || need+=(7zip)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v chromium >/dev/null || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || need+=(fonts-noto-cjk)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${need[*]} (not root: install them yourself; tests needing them skip outside CI)" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
