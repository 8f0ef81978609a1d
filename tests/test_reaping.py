"""Which leftover containers may be reaped: only those whose owner is certainly gone."""

import subprocess
import time

from graders.sandbox.docker import EXPIRES_LABEL, OWNER_ID_LABEL, owner_gone, owner_id

NOW = time.time()
FUTURE = str(int(NOW) + 600)
PAST = str(int(NOW) - 1)


def test_a_live_owner_in_this_namespace_keeps_its_containers_past_expiry():
    assert not owner_gone({OWNER_ID_LABEL: owner_id(), EXPIRES_LABEL: PAST}, NOW)


def test_a_dead_owner_in_this_namespace_is_gone_before_expiry():
    child = subprocess.Popen(["sleep", "5"])
    label = owner_id(child.pid)
    child.kill()
    child.wait()
    assert owner_gone({OWNER_ID_LABEL: label, EXPIRES_LABEL: FUTURE}, NOW)


def test_a_reused_pid_is_not_the_owner():
    boot_ns_pid, _, start = owner_id().rpartition("/")
    other_start = f"{boot_ns_pid}/{int(start) + 1}"
    assert owner_gone({OWNER_ID_LABEL: other_start, EXPIRES_LABEL: FUTURE}, NOW)


def test_an_owner_in_another_namespace_is_gone_only_after_expiry():
    foreign = "00000000-0000-0000-0000-000000000000/4026531999/1/100"
    assert not owner_gone({OWNER_ID_LABEL: foreign, EXPIRES_LABEL: FUTURE}, NOW)
    assert owner_gone({OWNER_ID_LABEL: foreign, EXPIRES_LABEL: PAST}, NOW)


def test_a_container_without_owner_labels_is_reaped():
    assert owner_gone({}, NOW)
