#!/usr/bin/env bash
# Debian packages Pathways needs outside Python: Pango for WeasyPrint (PDF certificates),
# libharfbuzz-subset0 for fast font subsetting, and (with --browser) Chromium for the
# browser tests. Installs them when run as root on Debian; otherwise prints a hint.
set -u
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "${1:-}" = "--browser" ]; then
  packages+=(chromium)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${missing[*]}"
  if ! { apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null; }; }; then
    echo "WARNING: could not install ${missing[*]}; install them with apt-get." >&2
  fi
else
  echo "HINT: Pathways also needs these Debian packages: ${missing[*]}" >&2
  echo "      sudo apt-get install -y ${missing[*]}" >&2
fi
exit 0
