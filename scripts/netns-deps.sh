#!/usr/bin/env bash
# Installs what test/e2e/nat.test.ts needs to build its NAT lab (nftables), where apt-get can.
# The test runs this itself when `nft` is missing; without root or apt-get it changes nothing and
# the test reports why it skipped.
set -euo pipefail
command -v nft >/dev/null && exit 0
[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq nftables >/dev/null
