#!/usr/bin/env bash
# Installs what the lab needs, then gets out of the way. Safe and fast to re-run.
#   scripts/bootstrap.sh          the lab: Debian packages, .venv with labkit
#   scripts/bootstrap.sh --test   the same plus what the test suite needs
# As root it installs Debian packages itself; otherwise it prints the exact command.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# 1. System packages -------------------------------------------------------
lists=(environments/apt-packages.txt)
[ "$want_test" = 1 ] && [ -f environments/apt-packages-test.txt ] && lists+=(environments/apt-packages-test.txt)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  while read -r pkg _; do
    case "$pkg" in ''|\#*) continue;; esac
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < <(cat "${lists[@]}")
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      say "Installing Debian packages: ${missing[*]}"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      say "Not root, so these Debian packages are not installed: ${missing[*]}"
      echo "    Install them with:  sudo apt-get install -y --no-install-recommends ${missing[*]}"
      echo "    The lab runs without them; \`labkit doctor\` shows what each one enables."
    fi
  fi
elif [ "$(uname -s)" = Darwin ]; then
  command -v softhsm2-util >/dev/null 2>&1 || echo "    For the HSM lessons: brew install softhsm opensc postgresql@15"
fi

# 2. Python environment ----------------------------------------------------
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "No $PY found. Install Python 3.10 or newer (Debian: apt-get install -y python3 python3-venv; macOS: brew install python)." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ] && ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  # Debian splits venv/ensurepip out of python3.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Installing python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "$PY cannot make virtual environments. Install it with: sudo apt-get install -y python3-venv" >&2
    exit 1
  fi
fi
if [ ! -x .venv/bin/python ]; then
  say "Creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.labkit-installed
want="$(cat pyproject.toml | sha256sum 2>/dev/null || shasum -a 256 pyproject.toml) test=$want_test"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "Installing labkit and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  if [ "$want_test" = 1 ]; then
    .venv/bin/python -m pip install -q -e ".[dev]"
  else
    .venv/bin/python -m pip install -q -e .
  fi
  printf '%s' "$want" > "$stamp"
fi

# 3. Go modules (plugins, the PKCS#11 KMS plugin) --------------------------
GO=$(command -v go || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || true)
if [ -n "$GO" ]; then
  for mod in $(find environments -name go.mod 2>/dev/null); do
    (cd "$(dirname "$mod")" && "$GO" mod download >/dev/null 2>&1) || echo "    go mod download failed in $(dirname "$mod"); builds will retry"
  done
else
  echo "    Go is not installed: plugin and KMS lessons will say how to get it (https://go.dev/doc/install)."
fi
say "Ready. \`.venv/bin/labkit doctor\` shows what this machine has for each part of the lab."
