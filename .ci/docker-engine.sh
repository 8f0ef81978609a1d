#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine and that every host package
# the sandbox image build needs is installed; start the engine if none answers.
#
# Idempotent. The packages are those of sandbox/host-packages.txt (the one list):
# each one missing is installed with apt-get, and a failure is one line naming
# the package and the log. Then, if no engine answers, dockerd is started in the
# background without a bridge network or iptables rules (the sandbox runs
# containers with --network none only), and waited for up to 60 s.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
PACKAGES_FILE="$HERE/sandbox/host-packages.txt"
LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
APT_LOG=${APT_LOG:-/tmp/graders-apt.log}
WAIT_SECONDS=${DOCKERD_WAIT_SECONDS:-60}

engine_answers() {
    command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1
}

installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
while read -r package _; do
    case "$package" in ""|\#*) continue ;; esac
    installed "$package" || missing+=("$package")
done <"$PACKAGES_FILE"

if [ ${#missing[@]} -gt 0 ]; then
    echo "docker-engine: installing ${missing[*]} with apt-get (log: $APT_LOG)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get update -qq >>"$APT_LOG" 2>&1; then
        echo "docker-engine: apt-get update failed; see $APT_LOG" >&2
        exit 1
    fi
    for package in "${missing[@]}"; do
        if ! apt-get install -y -qq --no-install-recommends "$package" >>"$APT_LOG" 2>&1; then
            echo "docker-engine: apt-get could not install $package; see $APT_LOG" >&2
            exit 1
        fi
    done
fi

if engine_answers; then
    echo "docker-engine: an engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
    echo "docker-engine: starting dockerd (log: $LOG)"
    # setsid: the engine must not die with this shell or its process group.
    setsid nohup dockerd --bridge=none --iptables=false >>"$LOG" 2>&1 </dev/null &
fi

for _ in $(seq 1 "$WAIT_SECONDS"); do
    if engine_answers; then
        echo "docker-engine: engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
        exit 0
    fi
    sleep 1
done

echo "docker-engine: dockerd did not answer within ${WAIT_SECONDS}s; last lines of $LOG:" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
