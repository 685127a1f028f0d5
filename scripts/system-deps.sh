#!/bin/sh
# Installs the Debian packages named as arguments when their command is missing.
# As root it runs apt-get; as anyone else it says what to install and fails.
set -eu
missing=""
for package in "$@"; do
    case "$package" in
        redis-server) command -v redis-server >/dev/null 2>&1 || missing="$missing $package" ;;
        nginx) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing $package" ;;
        *) command -v "$package" >/dev/null 2>&1 || missing="$missing $package" ;;
    esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "chatlab: these Debian packages are needed:$missing" >&2
    echo "chatlab: install them with: sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "chatlab: installing Debian packages:$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
