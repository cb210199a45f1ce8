#!/usr/bin/env bash
# Installs the real peers the test suite talks to, from Debian, when any is missing:
# tftp-hpa/atftp (TFTP clients), tftpd-hpa (reference server), sip-tester (sipp plays a
# phone's SIP side), curl, iproute2 (network namespaces), kamailio + utils modules + lua
# (runs the docs/pbx.md routing block; the PBX in front of the hot-desk line), baresip-core
# (baresip, a second SIP phone on the hot-desk line), chromium (headless, for the web console's
# browser tests through playwright-core), espeak-ng and sox (voice prompts: scripts/generate-prompts.sh,
# WAV files from a real encoder), postgresql (Debian's PostgreSQL 15 server: throwaway clusters from
# test/helpers/postgres.ts for the PostgreSQL store's tests and the bench; its own default cluster is
# not used). Used by `make test` (which `.ci/run` runs).
# On a machine without Debian's package tools it installs nothing and says what it skipped.
set -euo pipefail
PACKAGES="tftp-hpa atftp tftpd-hpa sip-tester curl iproute2 kamailio kamailio-utils-modules lua5.1 baresip-core chromium espeak-ng sox postgresql"
if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt/dpkg on this machine: not installing the test peers ($PACKAGES systemd);" >&2
  echo "tests that talk to a missing peer will fail: install the equivalents by hand" >&2
  exit 0
fi
missing=""
for p in $PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
# systemd-analyze verifies packaging/hotdesk.service (containers often lack systemd).
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
[ -z "$missing" ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "missing Debian packages:$missing (install them as root: apt-get install$missing)" >&2
    exit 1
  fi
fi
echo "installing test peers from Debian:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
