#!/usr/bin/env bash
# Installs the Debian packages dialflow's tests use, only when they are missing:
# espeak-ng (the default text-to-speech engine) and sip-tester (sipp, a foreign SIP peer).
set -euo pipefail
missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]} with apt-get" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"; } >&2; then
  echo "WARNING: could not install ${missing[*]}; tests that need them will skip loudly" >&2
fi
