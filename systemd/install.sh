#!/usr/bin/env bash
# Install the assistant's systemd units on a (Debian-based) head unit.
#   sudo systemd/install.sh [--prefix /opt/assistant] [--bench] [--dest /etc/systemd/system] [--dry-run]
# --bench also installs assistant-vcan.service and assistant-simulator.service.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(cd "$here/.." && pwd)
dest=/etc/systemd/system
bench=0 dry=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift ;;
        --dest) dest=$2; shift ;;
        --bench) bench=1 ;;
        --dry-run) dry=1 ;;
        -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
units=(assistant.service)
[ "$bench" = 1 ] && units+=(assistant-vcan.service assistant-simulator.service)
run() { if [ "$dry" = 1 ]; then echo "+ $*"; else "$@"; fi; }
for u in "${units[@]}"; do
    if [ "$dry" = 1 ]; then echo "+ render $u -> $dest/$u (prefix $prefix)"; else
        mkdir -p "$dest"; sed "s|@PREFIX@|$prefix|g" "$here/$u" > "$dest/$u"; fi
done
if [ "$dest" = /etc/systemd/system ]; then
    getent passwd assistant >/dev/null || run useradd --system --home /var/lib/assistant --shell /usr/sbin/nologin --groups audio assistant
    [ -f /etc/assistant/config.yaml ] || { run mkdir -p /etc/assistant; run cp "$here/config.example.yaml" /etc/assistant/config.yaml; }
    run systemctl daemon-reload
    echo "installed: ${units[*]}; enable with: sudo systemctl enable --now assistant.service"
fi
