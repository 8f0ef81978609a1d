#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine; start one if none does.
#
# Idempotent: if `docker info` already answers, it does nothing. Otherwise it
# installs docker.io from Debian if dockerd is missing, starts dockerd in the
# background without a bridge network or iptables rules (the sandbox runs
# containers with --network none only), and waits up to 60 s for it to answer.
# Exits non-zero with one clear line if the engine never answers.
set -euo pipefail

LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
WAIT_SECONDS=${DOCKERD_WAIT_SECONDS:-60}

engine_answers() {
    command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1
}

if engine_answers; then
    echo "docker-engine: an engine already answers"
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    echo "docker-engine: installing docker.io with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io tini; } \
        >>"$LOG.apt" 2>&1; then
        echo "docker-engine: apt-get could not install docker.io (see $LOG.apt)" >&2
        exit 1
    fi
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
