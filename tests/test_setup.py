"""The set-up installs every host program the engine and the image build run."""

import ast
import re
import subprocess
from pathlib import Path

from tests.conftest import REPO

PACKAGES = REPO / "sandbox" / "host-packages.txt"
# Commands run inside the container, by its own programs, not on the host.
IN_CONTAINER = {"WORKER_COMMAND"}


def listed_programs() -> dict[str, str]:
    """program -> the Debian package that provides it, from host-packages.txt."""
    programs = {}
    for line in PACKAGES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            package, *names = line.split()
            programs.update(dict.fromkeys(names, package))
    return programs


def programs_run(path: Path) -> set[str]:
    """Programs a module runs: the first word of every literal argv, and shutil.which()."""
    tree = ast.parse(path.read_text())
    skipped = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
               and any(isinstance(t, ast.Name) and t.id in IN_CONTAINER for t in node.targets)}
    found = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.List) and id(node) not in skipped and node.elts
                and isinstance(node.elts[0], ast.Constant) and isinstance(node.elts[0].value, str)
                and re.fullmatch(r"[a-z][a-z0-9.-]*", node.elts[0].value)):
            found.add(node.elts[0].value)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "which" and isinstance(node.args[0], ast.Constant)):
            found.add(node.args[0].value)
    return found


def test_every_program_the_build_and_the_engine_run_is_on_the_list():
    programs = listed_programs()
    for module in ("image.py", "docker.py"):
        run = programs_run(REPO / "graders" / "sandbox" / module)
        assert run, f"found no program in {module}: the scan is broken"
        missing = run - set(programs)
        assert not missing, f"{module} runs {sorted(missing)}: add them to {PACKAGES.name}"


def test_the_scan_sees_the_build_programs():
    """The scan is not vacuous: it finds what image.py is known to run."""
    assert {"docker", "debootstrap", "tar", "umount"} <= programs_run(
        REPO / "graders" / "sandbox" / "image.py")


def test_the_set_up_script_reads_the_list_and_names_a_failed_package():
    script = (REPO / ".ci" / "docker-engine.sh").read_text()
    assert "sandbox/host-packages.txt" in script
    assert "could not install $package" in script


def test_each_listed_program_comes_from_its_package_where_installed():
    """On this machine, each program that is installed belongs to the package named."""
    for program, package in listed_programs().items():
        where = subprocess.run(["sh", "-c", f"command -v {program}"], capture_output=True,
                               text=True, check=False).stdout.strip()
        if not where:
            continue
        real = Path(where).resolve()
        owners = subprocess.run(["dpkg", "-S", str(real)], capture_output=True, text=True,
                                check=False).stdout + subprocess.run(
            ["dpkg", "-S", where], capture_output=True, text=True, check=False).stdout
        if owners:  # a program outside dpkg (e.g. /usr/local/bin) is not the package's
            assert f"{package}:" in owners or where.startswith("/usr/local"), \
                f"{program} ({where}) is not provided by {package}: {owners.strip()}"
