#!/usr/bin/env bash
# `make bench`: install the reference servers and clients if missing, then run
# every scenario (bench/bench.mjs), print one table and write bench/results.md.
# `make bench` builds dist/ first; run this script directly only after `make build`.
# Knobs: BENCH_PHONES (10000), BENCH_SECONDS (8 per timed run), BENCH_KEEP=1 keeps bench/work/run,
# BENCH_ONLY=tftp-loss runs only the TFTP-under-loss rows (a minute or two instead of several);
# BENCH_ONLY=cold only the cold first fetch of every phone file (printed, results.md untouched);
# BENCH_ONLY=pg only the login storm on two agents sharing a throwaway PostgreSQL (bench/pg-cluster.mjs;
# about 4 minutes, mostly import and first fetches; printed, results.md untouched).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

# nginx: static HTTP baseline; tftpd-hpa: TFTP baseline; atftp: TFTP client that speaks blksize/windowsize;
# nftables: the packet-loss rule of the TFTP-under-loss rows; postgresql: the server of the two-agent
# login storm (the bench runs its own throwaway cluster from /usr/lib/postgresql/*/bin)
need=()
command -v nginx    >/dev/null 2>&1 || need+=(nginx)
command -v in.tftpd >/dev/null 2>&1 || need+=(tftpd-hpa)
command -v atftp    >/dev/null 2>&1 || need+=(atftp)
command -v nft      >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || need+=(nftables)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need+=(postgresql)
if [ "${#need[@]}" -gt 0 ]; then
  echo "bench: installing ${need[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # the Debian packages start system services on their own ports; the bench starts its own instances
  $SUDO systemctl disable --now nginx tftpd-hpa >/dev/null 2>&1 || true
  $SUDO systemctl disable --now postgresql >/dev/null 2>&1 || true
fi

[ -f node_modules/.installed ] || [ -d node_modules/undici ] || npm ci --no-audit --no-fund
[ -f dist/agent/cli/main.js ] || npx tsc -p tsconfig.build.json

# The TFTP-under-loss rows add an nftables table of their own (bench/tftp-loss.mjs) that drops
# UDP to and from 127.77.0.1 only; it is removed here on every exit, failed or interrupted.
export PATH="$PATH:/usr/sbin:/sbin"
export BENCH_NFT="${SUDO:+$SUDO }nft"
remove_loss_rule() { $BENCH_NFT delete table inet hotdesk_bench_loss >/dev/null 2>&1 || true; }
trap remove_loss_rule EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
remove_loss_rule

# The phones' SIP side binds 127.0.0.1:5060 (a phone's default SIP port); it must be free.
node bench/bench.mjs "$@"
