#!/usr/bin/env bash
# `make bench`: install the reference servers and clients if missing, then run
# every scenario (bench/bench.mjs), print one table and write bench/results.md.
# `make bench` builds dist/ first; run this script directly only after `make build`.
# Knobs: BENCH_PHONES (10000), BENCH_SECONDS (8 per timed run), BENCH_KEEP=1 keeps bench/work/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# nginx: static HTTP baseline; tftpd-hpa: TFTP baseline; atftp: TFTP client that speaks blksize/windowsize
need=()
command -v nginx    >/dev/null 2>&1 || need+=(nginx)
command -v in.tftpd >/dev/null 2>&1 || need+=(tftpd-hpa)
command -v atftp    >/dev/null 2>&1 || need+=(atftp)
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "bench: installing ${need[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # the Debian packages start system services on their own ports; the bench starts its own instances
  $SUDO systemctl disable --now nginx tftpd-hpa >/dev/null 2>&1 || true
fi

[ -f node_modules/.installed ] || [ -d node_modules/undici ] || npm ci --no-audit --no-fund
[ -f dist/agent/cli/main.js ] || npx tsc -p tsconfig.build.json

# The phones' SIP side binds 127.0.0.1:5060 (a phone's default SIP port); it must be free.
exec node bench/bench.mjs "$@"
