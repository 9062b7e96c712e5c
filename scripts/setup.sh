#!/usr/bin/env bash
# Installs what timebok needs on a Debian or Ubuntu machine that has Swift 6, where it is missing.
#   scripts/setup.sh demo    what building and running needs (libxml2, SQLite, OpenSSL libcrypto, pkg-config)
#   scripts/setup.sh test    that, plus what the tests use (xmllint, tzdata, faketime)
# Uses apt-get as root or through sudo; otherwise says exactly what to install. Installs nothing
# that is already there.
set -euo pipefail

packages=(libxml2-dev libsqlite3-dev libssl-dev pkg-config)
case "${1:-demo}" in
  demo) ;;
  test) packages+=(libxml2-utils tzdata faketime xmlsec1) ;;
  *) echo "usage: scripts/setup.sh demo|test" >&2; exit 64 ;;
esac

if ! command -v swift >/dev/null 2>&1; then
  echo "timebok is built with Swift 6, and swift is not on PATH. Install Swift 6 (https://www.swift.org/install/) and try again." >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "timebok needs these packages (Debian names; install your system's equivalents): ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  run=(env)
elif command -v sudo >/dev/null 2>&1; then
  run=(sudo env)
else
  echo "timebok needs these packages, and installing them needs root: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing what is missing: ${missing[*]}"
"${run[@]}" DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${run[@]}" DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
