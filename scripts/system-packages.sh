#!/usr/bin/env bash
# Make sure the Debian packages the app (or its tests) need are installed.
# Usage: scripts/system-packages.sh run|test
# As root it installs what is missing with apt-get; otherwise it prints the command and fails.
set -euo pipefail

run_packages=(fonts-noto-cjk fontconfig graphviz libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
test_packages=(poppler-utils libnss3-tools chromium)

wanted=("${run_packages[@]}")
if [ "${1:-run}" = "test" ]; then
  wanted+=("${test_packages[@]}")
fi

missing=()
for package in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages: ${missing[*]} (install them with your package manager)" >&2
  exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
