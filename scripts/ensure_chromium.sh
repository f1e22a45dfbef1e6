#!/usr/bin/env bash
# Make sure Debian's chromium and chromedriver are here for the browser test of /docs: install
# them with apt when they are missing and we can (root, apt-get). Never fails the run by itself:
# without them the browser test skips with its reason (and fails under CI=true).
set -u
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  echo "chromium: $(chromium --version 2>/dev/null | head -1)"; exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: missing and cannot apt-get install it here (not root or no apt); the browser test will skip"
  exit 0
fi
echo "chromium: installing Debian's chromium and chromium-driver"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/tmp/smartshelf-apt.log 2>&1; then
  apt-get update -q >>/tmp/smartshelf-apt.log 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >>/tmp/smartshelf-apt.log 2>&1 \
    || echo "chromium: apt-get failed; see /tmp/smartshelf-apt.log"
fi
