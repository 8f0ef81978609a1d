"""The sandbox image: its inputs and tag, lookup, and an offline build.

The tag is `graders-sandbox:<12 hex>`, a sha256 over the image inputs (the
Dockerfile, the pinned requirements, the worker, the driver kit and every
challenge driver), so an image is rebuilt only when one of them changes.

The build works on a machine whose Docker engine reaches no registry:

1. base image: `python:3.11-slim` if present or pullable (the pull is bounded),
   else `graders-base:bookworm`, made once from a Debian bookworm minbase
   bootstrap (debootstrap, as root) and `docker import`;
2. wheelhouse: `pip download --no-deps` of the exact pins in
   sandbox/requirements.txt into a cache dir on the host (reused), torch from
   pip's find-links only, so that a CUDA build is never downloaded;
3. `docker build --network none` of a context that holds only the Dockerfile,
   the requirements, the wheels, the worker, the driver kit and the drivers.

Steps are named through `log`; the full output goes to a log file in the cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from graders.errors import SandboxUnavailable

if TYPE_CHECKING:
    import docker

__all__ = [
    "REPO_ROOT",
    "IMAGE_REPOSITORY",
    "IMAGE_LABEL",
    "REGISTRY_BASE",
    "LOCAL_BASE",
    "cache_dir",
    "image_inputs",
    "image_tag",
    "find_image",
    "build_image",
    "remove_stale_images",
]

T = TypeVar("T")

REPO_ROOT: Path = Path(__file__).resolve().parents[2]

IMAGE_REPOSITORY = "graders-sandbox"
IMAGE_LABEL = "graders.image"
REGISTRY_BASE = "python:3.11-slim"
LOCAL_BASE = "graders-base:bookworm"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3", "python3-venv")
PULL_TIMEOUT_S = 20.0
BOOTSTRAP_TIMEOUT_S = 30 * 60.0
DOWNLOAD_TIMEOUT_S = 30 * 60.0
BUILD_TIMEOUT_S = 60 * 60.0
STALE_AFTER_S = 6 * 3600.0  # an older image of other inputs is removed by a rebuild

# Wheels for the image's interpreter (CPython 3.11, glibc 2.36, x86_64), whatever
# the host's Python is.
WHEEL_TARGET_ARGS: tuple[str, ...] = (
    "--only-binary=:all:",
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
    "--abi",
    "abi3",
    "--abi",
    "none",
    "--platform",
    "manylinux_2_28_x86_64",
    "--platform",
    "manylinux_2_27_x86_64",
    "--platform",
    "manylinux_2_17_x86_64",
    "--platform",
    "manylinux2014_x86_64",
    "--platform",
    "any",
)

_FIXED_INPUTS = ("sandbox/Dockerfile", "sandbox/requirements.txt", "sandbox/worker.py",
                 "sandbox/driverkit.py")
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*(?:#.*)?$")
_STEP_LINE = re.compile(r"^(Step \d+/\d+ : |#\d+ \[)")


# --------------------------------------------------------------------------- inputs and tag


def cache_dir() -> Path:
    """Where the wheelhouse, build logs and temporary build dirs live."""
    explicit = os.environ.get("GRADERS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "graders"


def image_inputs(repo_root: Path) -> list[Path]:
    """The files whose content defines the image, in hashing order (those that exist)."""
    fixed = [repo_root / rel for rel in _FIXED_INPUTS]
    drivers = sorted(repo_root.glob("challenges/*/driver.py"))
    return [path for path in (*fixed, *drivers) if path.is_file()]


def _inputs_digest(repo_root: Path) -> str:
    digest = hashlib.sha256()
    for path in image_inputs(repo_root):
        data = path.read_bytes()
        digest.update(path.relative_to(repo_root).as_posix().encode())
        digest.update(b"\0")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def image_tag(repo_root: Path) -> str:
    """`graders-sandbox:` + the first 12 hex of the sha256 over the image inputs."""
    return f"{IMAGE_REPOSITORY}:{_inputs_digest(repo_root)[:12]}"


# --------------------------------------------------------------------------- engine


def _engine_errors() -> tuple[type[BaseException], ...]:
    import docker.errors
    import requests

    return (docker.errors.DockerException, requests.RequestException)


def _engine_client() -> docker.DockerClient:
    from graders.sandbox.docker import engine_client

    client = engine_client(timeout=60)
    if client is None:
        raise SandboxUnavailable("No Docker engine answers; start one (see "
                                 ".ci/docker-engine.sh) before building the sandbox image.")
    return client


def find_image(client: docker.DockerClient, tag: str) -> str | None:
    """The id of the image `tag` if the engine has it, else None."""
    import docker.errors

    try:
        return str(client.images.get(tag).id)
    except docker.errors.ImageNotFound:
        return None
    except _engine_errors() as exc:
        raise SandboxUnavailable(
            f"The Docker engine could not be asked for image {tag}: {exc}."
        ) from exc


# --------------------------------------------------------------------------- build


def build_image(
    repo_root: Path,
    *,
    log: Callable[[str], None] = print,
    client: docker.DockerClient | None = None,
) -> str:
    """Build the sandbox image for `repo_root` unless it exists; return its id.

    Raises SandboxUnavailable with one sentence (and the path of the full log)
    when a step fails.
    """
    repo_root = repo_root.resolve()
    if client is None:
        client = _engine_client()
    digest = _inputs_digest(repo_root)
    tag = f"{IMAGE_REPOSITORY}:{digest[:12]}"
    found = find_image(client, tag)
    if found is not None:
        log(f"{tag} is already built ({_short(found)}).")
        return found
    if not (repo_root / "sandbox" / "worker.py").is_file():
        raise SandboxUnavailable(f"{repo_root / 'sandbox' / 'worker.py'} is missing.")

    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    log_dir = cache / "logs"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / f"build-{tag.partition(':')[2]}.log"
    with _exclusive(cache / "build.lock", log):
        found = find_image(client, tag)  # another process may have built it meanwhile
        if found is not None:
            log(f"{tag} is already built ({_short(found)}).")
            return found
        with log_path.open("w", encoding="utf-8") as out:
            image_id = _build(client, repo_root, digest, cache, _Steps(out, log_path, log))
        remove_stale_images(client, keep=tag, log=log)
        return image_id


def _age_s(image: docker.models.images.Image) -> float:
    from datetime import UTC, datetime

    created = datetime.fromisoformat(image.attrs["Created"][:19]).replace(tzinfo=UTC)
    return (datetime.now(UTC) - created).total_seconds()


def remove_stale_images(client: docker.DockerClient, keep: str,
                        log: Callable[[str], None] = print,
                        min_age_s: float = STALE_AFTER_S) -> list[str]:
    """Remove the sandbox images built for other inputs than `keep`'s; return their tags.

    Kept: the current image, the base images and the build's cached install stage
    (untagged), which is what makes a rebuild after a driver change take seconds.
    An old image a container still uses stays, and is named; so does one built less
    than `min_age_s` ago, which another checkout sharing the engine may be grading with.
    """
    import docker.errors

    try:
        images = client.images.list(filters={"label": f"{IMAGE_LABEL}=1"})
        before = client.df().get("LayersSize", 0)
    except _engine_errors() as exc:
        log(f"Could not list old sandbox images ({exc}); nothing removed.")
        return []
    removed = []
    for image in images:
        tags = [t for t in image.tags if t.startswith(f"{IMAGE_REPOSITORY}:")]
        if keep in image.tags or not tags or _age_s(image) < min_age_s:
            continue
        try:
            for stale in tags:
                client.images.remove(stale)
            removed += tags
        except docker.errors.APIError as exc:
            log(f"Kept {', '.join(tags)}: {exc.explanation or exc}.")
    if removed:
        freed = before - client.df().get("LayersSize", 0)
        log(f"Removed {len(removed)} old sandbox image(s): {', '.join(sorted(removed))}; "
            f"freed {freed / 1e9:.2f} GB.")
    return removed


def _build(
    client: docker.DockerClient, repo_root: Path, digest: str, cache: Path, steps: _Steps
) -> str:
    tag = f"{IMAGE_REPOSITORY}:{digest[:12]}"
    started = time.monotonic()
    base = steps.timed("base image", lambda: _ensure_base(client, steps, cache))
    wheels = steps.timed(
        "wheelhouse",
        lambda: _wheelhouse(repo_root / "sandbox" / "requirements.txt", steps, cache),
    )
    image_id = steps.timed(
        "docker build", lambda: _docker_build(repo_root, digest, base, wheels, steps, cache)
    )
    steps.note(f"Built {tag} ({_short(image_id)}) in {time.monotonic() - started:.0f} s.")
    return image_id


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


@contextlib.contextmanager
def _exclusive(lock_path: Path, log: Callable[[str], None]) -> Iterator[None]:
    """One build at a time on this machine (they share the cache and the tags)."""
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("Waiting for another sandbox build to finish...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Steps:
    """Runs the build's commands: full output to the log file, step names to `log`."""

    def __init__(self, out: IO[str], log_path: Path, log: Callable[[str], None]) -> None:
        self.out = out
        self.log_path = log_path
        self.log = log
        self.timings: dict[str, float] = {}

    def note(self, message: str) -> None:
        self.log(message)
        self.out.write(f"## {message}\n")
        self.out.flush()

    def fail(self, message: str) -> SandboxUnavailable:
        self.out.write(f"## FAILED: {message}\n")
        self.out.flush()
        return SandboxUnavailable(f"{message.rstrip('.')}; the full log is in {self.log_path}.")

    def timed(self, name: str, action: Callable[[], T]) -> T:
        started = time.monotonic()
        result = action()
        self.timings[name] = elapsed = time.monotonic() - started
        self.note(f"{name}: done in {elapsed:.1f} s")
        return result

    def run(
        self,
        what: str,
        argv: list[str],
        *,
        timeout: float,
        forward: re.Pattern[str] | None = None,
        stdin: IO[bytes] | None = None,
    ) -> None:
        """Run argv to completion or raise SandboxUnavailable naming `what`."""
        self.out.write(f"$ {' '.join(argv)}\n")
        self.out.flush()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise self.fail(f"{what} could not start ({argv[0]}: {exc.strerror})") from exc
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            proc.kill()

        timer = threading.Timer(timeout, expire)
        timer.start()
        tail: list[str] = []
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                self.out.write(line)
                tail = [*tail[-19:], line.rstrip()]
                if forward is not None and forward.search(line):
                    self.log(f"  {line.strip()[:120]}")
            returncode = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.out.flush()
        if returncode != 0:
            for line in tail[-8:]:
                self.log(f"  | {line}")
            if expired.is_set():
                raise self.fail(f"{what} did not finish within {timeout:.0f} s")
            raise self.fail(f"{what} failed (exit status {returncode})")


# --------------------------------------------------------------------------- base image


def _ensure_base(client: docker.DockerClient, steps: _Steps, cache: Path) -> str:
    """The base image to build on: an override, python:3.11-slim, or graders-base:bookworm."""
    override = os.environ.get("GRADERS_SANDBOX_BASE")
    if override:
        if find_image(client, override) is None:
            raise steps.fail(f"The base image {override} (GRADERS_SANDBOX_BASE) is not present")
        steps.note(f"Base image: {override} (from GRADERS_SANDBOX_BASE)")
        return override
    if find_image(client, REGISTRY_BASE) is not None:
        steps.note(f"Base image: {REGISTRY_BASE} (present)")
        return REGISTRY_BASE
    if _try_pull(REGISTRY_BASE, steps):
        steps.note(f"Base image: {REGISTRY_BASE} (pulled)")
        return REGISTRY_BASE
    if find_image(client, LOCAL_BASE) is not None:
        steps.note(f"Base image: {LOCAL_BASE} (present)")
        return LOCAL_BASE
    steps.note(f"No registry answers; making {LOCAL_BASE} from a Debian {DEBIAN_SUITE} bootstrap")
    _bootstrap_base(steps, cache)
    return LOCAL_BASE


def _try_pull(image: str, steps: _Steps) -> bool:
    """Pull `image`, giving up after PULL_TIMEOUT_S; True if it is then present."""
    steps.out.write(f"$ docker pull {image}\n")
    try:
        done = subprocess.run(
            ["docker", "pull", "--quiet", image],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PULL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        steps.out.write(f"(no answer within {PULL_TIMEOUT_S:.0f} s)\n")
        return False
    except OSError as exc:
        steps.out.write(f"({exc})\n")
        return False
    steps.out.write(done.stdout + done.stderr)
    steps.out.flush()
    return done.returncode == 0


def _bootstrap_base(steps: _Steps, cache: Path) -> None:
    if shutil.which("debootstrap") is None or os.geteuid() != 0:
        raise steps.fail(
            f"{REGISTRY_BASE} cannot be pulled and making {LOCAL_BASE} needs debootstrap "
            "run as root (apt-get install debootstrap)"
        )
    work = Path(tempfile.mkdtemp(prefix="bootstrap-", dir=cache))
    root = work / "rootfs"
    try:
        steps.run(
            f"debootstrap of Debian {DEBIAN_SUITE}",
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                DEBIAN_SUITE,
                str(root),
                DEBIAN_MIRROR,
            ],
            timeout=BOOTSTRAP_TIMEOUT_S,
            forward=re.compile(
                r"^I: (Retrieving Release:|Resolving dependencies of required|"
                r"Installing core|Unpacking the base|Configuring the base|Base system)"
            ),
        )
        _unmount_under(work)
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (root / leftover).glob("*"):
                if entry.is_file() and entry.name != "lock":
                    entry.unlink()
        _docker_import(root, steps)
    finally:
        _unmount_under(work)
        shutil.rmtree(work, ignore_errors=True)


def _unmount_under(path: Path) -> None:
    """Unmount anything a failed debootstrap left mounted below `path` (deepest first)."""
    prefix = str(path.resolve()) + "/"
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    points = [fields[1] for fields in (m.split() for m in mounts) if len(fields) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _docker_import(root: Path, steps: _Steps) -> None:
    steps.note(f"Importing the bootstrap as {LOCAL_BASE}")
    steps.out.flush()
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(root), "-c", "."],
        stdout=subprocess.PIPE,
        stderr=steps.out,
    )
    assert tar.stdout is not None
    try:
        steps.run(
            f"docker import of {LOCAL_BASE}",
            [
                "docker",
                "import",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                "ENV LANG=C.UTF-8",
                "--change",
                'CMD ["/bin/bash"]',
                "--message",
                f"Debian {DEBIAN_SUITE} minbase + {' '.join(BASE_PACKAGES)}",
                "-",
                LOCAL_BASE,
            ],
            stdin=tar.stdout,
            timeout=BOOTSTRAP_TIMEOUT_S,
        )
    except BaseException:
        tar.kill()  # the import's own failure is the one to report, not tar's broken pipe
        raise
    finally:
        tar.stdout.close()
        tar.wait()
    if tar.returncode != 0:
        raise steps.fail(f"tar of the bootstrap failed (exit status {tar.returncode})")


# --------------------------------------------------------------------------- wheelhouse


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _read_pins(requirements: Path, steps: _Steps) -> dict[str, str]:
    """{canonical name: version} from a requirements file of exact `name==version` pins."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(requirements.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _PIN.match(line)
        if match is None:
            raise steps.fail(
                f"{requirements.name} line {number} is not an exact `name==version` pin: {line!r}"
            )
        pins[_canonical(match[1])] = match[2]
    if "torch" not in pins:
        raise steps.fail(f"{requirements.name} does not pin torch")
    return pins


def _wheel_name_version(wheel: Path) -> tuple[str, str]:
    name, version = wheel.name.split("-")[:2]
    return _canonical(name), version


def _select_wheels(wheelhouse: Path, pins: dict[str, str]) -> dict[str, Path]:
    """For each pin, the wheel in the wheelhouse that satisfies it (a +cpu torch first)."""
    chosen: dict[str, Path] = {}
    for wheel in sorted(wheelhouse.glob("*.whl")):
        name, version = _wheel_name_version(wheel)
        if name not in pins or version.partition("+")[0] != pins[name]:
            continue
        if name == "torch" and "+cpu" not in version:
            continue
        chosen.setdefault(name, wheel)
    return chosen


def _wheelhouse(requirements: Path, steps: _Steps, cache: Path) -> list[Path]:
    """The wheels pinned by `requirements`, downloaded into the cache's wheelhouse once."""
    pins = _read_pins(requirements, steps)
    wheelhouse = cache / "wheelhouse"
    wheelhouse.mkdir(parents=True, exist_ok=True)
    chosen = _select_wheels(wheelhouse, pins)
    missing = {name: version for name, version in pins.items() if name not in chosen}
    if not missing:
        steps.note(f"Wheelhouse: all {len(pins)} pinned wheels already in {wheelhouse}")
        return sorted(chosen.values())
    steps.note(f"Wheelhouse: downloading {len(missing)} pinned wheels into {wheelhouse}")
    pip = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--progress-bar",
        "off",
        *WHEEL_TARGET_ARGS,
        "--dest",
        str(wheelhouse),
    ]
    others = [f"{name}=={version}" for name, version in missing.items() if name != "torch"]
    if others:
        with tempfile.NamedTemporaryFile(
            "w", suffix=".txt", prefix="requirements-", dir=cache, delete=False
        ) as req:
            req.write("\n".join(others) + "\n")
        try:
            steps.run(
                "pip download of the pinned wheels",
                [*pip, "-r", req.name],
                timeout=DOWNLOAD_TIMEOUT_S,
            )
        finally:
            Path(req.name).unlink(missing_ok=True)
    if "torch" in missing:
        # Only from pip's find-links (--no-index): the index would serve the CUDA build.
        steps.run(
            f"pip download of the CPU build of torch=={pins['torch']} from pip's find-links "
            "(--no-index)",
            [*pip, "--no-index", f"torch=={pins['torch']}"],
            timeout=DOWNLOAD_TIMEOUT_S,
        )
    chosen = _select_wheels(wheelhouse, pins)
    still = sorted(set(pins) - set(chosen))
    if still:
        raise steps.fail(
            f"No suitable wheel in {wheelhouse} for {', '.join(still)}"
            + (" (torch must be a +cpu build)" if "torch" in still else "")
        )
    return sorted(chosen.values())


# --------------------------------------------------------------------------- docker build


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _make_context(repo_root: Path, wheels: list[Path], context: Path) -> None:
    """Dockerfile, requirements.txt, wheels/, worker.py, driverkit.py and
    challenges/<id>/driver.py only."""
    sandbox = repo_root / "sandbox"
    for name in ("Dockerfile", "requirements.txt", "worker.py", "driverkit.py"):
        shutil.copy2(sandbox / name, context / name)
    (context / "wheels").mkdir()
    for wheel in wheels:
        _link_or_copy(wheel, context / "wheels" / wheel.name)
    (context / "challenges").mkdir()
    for driver in sorted(repo_root.glob("challenges/*/driver.py")):
        target = context / "challenges" / driver.parent.name
        target.mkdir()
        shutil.copy2(driver, target / "driver.py")


def _docker_build(
    repo_root: Path, digest: str, base: str, wheels: list[Path], steps: _Steps, cache: Path
) -> str:
    tag = f"{IMAGE_REPOSITORY}:{digest[:12]}"
    with tempfile.TemporaryDirectory(prefix="context-", dir=cache) as tmp:
        context = Path(tmp) / "context"
        context.mkdir()
        _make_context(repo_root, wheels, context)
        iidfile = Path(tmp) / "image-id"
        steps.note(f"Building {tag} on {base} (docker build --network none)")
        steps.run(
            f"docker build of {tag}",
            [
                "docker",
                "build",
                "--network",
                "none",
                "--build-arg",
                f"BASE={base}",
                "--label",
                f"{IMAGE_LABEL}=1",
                "--label",
                f"graders.inputs={digest}",
                "--label",
                f"graders.base={base}",
                "--iidfile",
                str(iidfile),
                "--tag",
                tag,
                str(context),
            ],
            timeout=BUILD_TIMEOUT_S,
            forward=_STEP_LINE,
        )
        image_id = iidfile.read_text().strip() if iidfile.is_file() else ""
    if not image_id:
        raise steps.fail(f"docker build of {tag} reported no image id")
    return image_id
