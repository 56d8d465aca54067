#!/usr/bin/env bash
# Installs the Debian packages livebuy needs, quietly when they are all present.
# Usage: scripts/deps.sh [extra-package ...]
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libh2o-dev libuv1-dev libmariadb-dev libmsgpack-dev libjansson-dev libssl-dev libcurl4-openssl-dev libnghttp2-dev
    libmimalloc-dev
    libpng-dev libjpeg62-turbo-dev libwebp-dev
    mariadb-server mariadb-client mariadb-backup
    curl nghttp2-client
    "$@"
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "livebuy: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
