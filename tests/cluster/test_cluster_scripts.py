"""The scripts behind the cluster make targets, run against fake ``kind``/``kubectl``/``docker``.

No cluster is needed: each fake records its arguments (and, for ``kubectl port-forward``,
listens on the local port), so the tests check what the scripts would run, how they wait and
what they report. shellcheck runs on every script in tests/test_shell_scripts.py.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
KUSTOMIZE = REPO / ".tools" / "bin" / "kustomize"
VENV_BIN = Path(sys.executable).parent
NAMESPACE = "kubeflow"
CLUSTER = "lifecycle"
KIND_CONTEXT = f"kind-{CLUSTER}"
UPSTREAM = "https://example.invalid/cluster-scoped-resources?ref=2.17.0"


def _run(
    script: str,
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str = "",
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=REPO,
        timeout=timeout,
    )


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _require_kustomize() -> Path:
    if KUSTOMIZE.is_file():
        return KUSTOMIZE
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail("REQUIRE_SERVICES=1 but .tools/bin/kustomize is not built")
    pytest.skip(".tools/bin/kustomize is not built: run `make kustomize-install`")


# --- namespace and tools -------------------------------------------------------------------


def test_scripts_use_the_manifests_namespace_which_is_not_a_make_variable() -> None:
    base = yaml.safe_load((REPO / "manifests/base/kustomization.yaml").read_text())
    assert base["namespace"] == NAMESPACE
    for script in ("kfp-deploy.sh", "kfp-port-forward.sh", "kfp-upload-data.sh"):
        assert re.search(rf"^namespace={NAMESPACE}$", (SCRIPTS / script).read_text(), re.M), script
    # KFP_NAMESPACE is the client's multi-user profile namespace (read from the environment by
    # pipelines/kfp_client.py), never a make variable that would move our manifests.
    for makefile in (REPO / "mk").glob("*.mk"):
        assert not re.search(r"^\s*(export\s+)?KFP_NAMESPACE\s*[:?+]?=", makefile.read_text(), re.M)


@pytest.mark.skipif(shutil.which("make") is None, reason="make absent")
@pytest.mark.parametrize(
    ("target", "script"),
    [
        ("kind-up", "kind-up.sh"),
        ("kfp-deploy", "kfp-deploy.sh"),
        ("ui", "kfp-port-forward.sh"),
        ("api", "kfp-port-forward.sh"),
        ("upload-data", "kfp-upload-data.sh"),
    ],
)
def test_make_passes_kubectl_to_the_script(target: str, script: str) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target, "KUBECTL=/opt/k8s/kubectl"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stdout.replace("\\\n", " ").splitlines() if script in x]
    assert "/opt/k8s/kubectl" in line.split(), line


# --- manifests-secret, manifests-check -----------------------------------------------------


# env file -> the variables that may set its access and secret key.
SECRET_FILES = {
    "minio-root.env": ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"),
    "minio.env": ("KFP_MINIO_ACCESS_KEY", "KFP_MINIO_SECRET_KEY"),
    "lifecycle-stage.env": ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"),
}


def _secret_env(**given: str) -> dict[str, str]:
    names = {name for pair in SECRET_FILES.values() for name in pair} | {"FORCE"}
    return {**{k: v for k, v in os.environ.items() if k not in names}, **given}


def _values(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_manifests_secret_writes_random_hex_once_per_user(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(SCRIPTS / "manifests-secret.sh"), str(tmp_path)],
        capture_output=True, text=True, check=False, env=_secret_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    first = {name: (tmp_path / name).read_text() for name in SECRET_FILES}
    access_keys = set()
    for name in SECRET_FILES:
        values = _values(tmp_path / name)
        assert re.fullmatch(r"[0-9a-f]{16}", values["accesskey"]), name
        assert re.fullmatch(r"[0-9a-f]{40}", values["secretkey"]), name
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
        access_keys.add(values["accesskey"])
    assert len(access_keys) == 3
    again = subprocess.run(
        ["bash", str(SCRIPTS / "manifests-secret.sh"), str(tmp_path)],
        capture_output=True, text=True, check=False, env=_secret_env(FORCE="0"),
    )  # fmt: skip
    assert again.returncode == 0 and again.stdout.count("keeping") == 3
    assert {name: (tmp_path / name).read_text() for name in SECRET_FILES} == first


def test_manifests_secret_takes_given_keys_and_rejects_unsafe_or_shared_ones(
    tmp_path: Path,
) -> None:
    given = {
        "MINIO_ROOT_USER": "root01",
        "MINIO_ROOT_PASSWORD": "rootsecret01",
        "KFP_MINIO_ACCESS_KEY": "kfp01",
        "KFP_MINIO_SECRET_KEY": "kfpsecret01",
        "MINIO_ACCESS_KEY": "stage01",
        "MINIO_SECRET_KEY": "s3cretvalue1",
        "FORCE": "1",
    }
    run = ["bash", str(SCRIPTS / "manifests-secret.sh"), str(tmp_path)]
    result = subprocess.run(run, capture_output=True, text=True, env=_secret_env(**given))
    assert result.returncode == 0, result.stderr
    for name, (access, secret) in SECRET_FILES.items():
        assert _values(tmp_path / name) == {"accesskey": given[access], "secretkey": given[secret]}
    written = (tmp_path / "lifecycle-stage.env").read_text()

    unsafe = {**given, "MINIO_SECRET_KEY": "has:colon@and/slash"}
    result = subprocess.run(run, capture_output=True, text=True, env=_secret_env(**unsafe))
    assert result.returncode == 1 and "MINIO_SECRET_KEY" in result.stderr
    assert (tmp_path / "lifecycle-stage.env").read_text() == written

    shared = {**given, "MINIO_ACCESS_KEY": "root01"}
    result = subprocess.run(run, capture_output=True, text=True, env=_secret_env(**shared))
    assert result.returncode == 1 and "must all differ" in result.stderr
    assert (tmp_path / "lifecycle-stage.env").read_text() == written


def test_manifests_check_names_the_overlay_and_resource_that_fail(tmp_path: Path) -> None:
    kustomize = _require_kustomize()
    validator = VENV_BIN / "kubernetes-validate"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "kustomization.yaml").write_text("resources:\n  - svc.yaml\n")
    (broken / "svc.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: wrong\nspec:\n  portz: []\n"
    )
    args = (str(kustomize), str(validator), "1.37.0", str(tmp_path / "out"))
    result = _run("manifests-check.sh", *args, str(broken))
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "service/wrong" in output and "portz" in output
    assert f"FAILED schema validation of {broken}" in output


# --- kind-up, kind-load --------------------------------------------------------------------


def test_kind_up_uses_the_given_kind_and_kubectl(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(bin_dir / "docker", "#!/usr/bin/env bash\nexit 0\n")
    log = tmp_path / "tools.log"
    kind = _executable(
        tmp_path / "my-kind",
        f'#!/usr/bin/env bash\necho "kind $*" >> {log}\n[[ "$1" == get ]] && echo {CLUSTER}\n',
    )
    kubectl = _executable(
        tmp_path / "my-kubectl", f'#!/usr/bin/env bash\necho "kubectl $*" >> {log}\n'
    )
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = _run("kind-up.sh", str(kind), str(kubectl), CLUSTER, "cluster.yaml", env=env)
    assert result.returncode == 0, result.stderr
    assert f"cluster '{CLUSTER}' already exists" in result.stdout
    assert log.read_text().splitlines() == [
        "kind get clusters",
        f"kubectl cluster-info --context {KIND_CONTEXT}",
    ]


def _fake_kind_and_docker(tmp_path: Path, built: set[str]) -> tuple[dict[str, str], Path]:
    """``kind`` that records its arguments and ``docker`` that knows the ``built`` images."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "kind.log"
    _executable(bin_dir / "kind", f'#!/usr/bin/env bash\necho "$*" >> {log}\n')
    known = " ".join(sorted(built))
    _executable(
        bin_dir / "docker",
        f'#!/usr/bin/env bash\nfor t in {known}; do [[ "$3" == "$t" ]] && exit 0; done\nexit 1\n',
    )
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, log


def _stage_tags() -> list[str]:
    listing = subprocess.run(
        [sys.executable, "-m", "lifecycle.images"],
        capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout  # fmt: skip
    return [line.split()[1] for line in listing.splitlines()]


def test_kind_load_loads_every_stage_image(tmp_path: Path) -> None:
    tags = _stage_tags()
    env, log = _fake_kind_and_docker(tmp_path, set(tags))
    stdin = "".join(f"stage{i} {tag}\n" for i, tag in enumerate(tags))
    result = _run("kind-load.sh", "kind", CLUSTER, env=env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        f"load docker-image --name {CLUSTER} {tag}" for tag in tags
    ]


def test_kind_load_refuses_when_an_image_is_not_built(tmp_path: Path) -> None:
    tags = _stage_tags()
    env, log = _fake_kind_and_docker(tmp_path, set(tags[1:]))
    stdin = "".join(f"stage {tag}\n" for tag in tags)
    result = _run("kind-load.sh", "kind", CLUSTER, env=env, stdin=stdin)
    assert result.returncode == 1
    assert tags[0] in result.stderr and "make images" in result.stderr
    assert not log.exists(), "nothing is loaded when an image is missing"


# --- kfp-deploy ----------------------------------------------------------------------------

# kubectl: `config current-context` prints $FAKE_CONTEXT; `wait` sleeps $FAKE_WAIT_SLEEP and
# fails when one of its arguments is in $FAKE_WAIT_FAIL; `get deployments` shows ml-pipeline
# with no available replica.
FAKE_DEPLOY_KUBECTL = textwrap.dedent(
    f"""\
    #!{sys.executable}
    import os, sys, time
    args = sys.argv[1:]
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write("kubectl " + " ".join(args) + "\\n")
    words = [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] != "-n"]
    verb = words[0]
    if verb == "config":
        print(os.environ["FAKE_CONTEXT"])
    elif verb == "apply":
        sys.stdin.read()
    elif verb == "wait":
        time.sleep(float(os.environ.get("FAKE_WAIT_SLEEP", "0")))
        sys.exit(1 if set(args) & set(os.environ.get("FAKE_WAIT_FAIL", "").split()) else 0)
    elif verb == "get" and words[1] == "deployments":
        print("minio 1 1")
        print("ml-pipeline  1")
        print("ml-pipeline-ui 1 1")
    elif verb == "get":
        print("NAME              READY   STATUS")
        print("ml-pipeline-abc   0/1     ImagePullBackOff")
    """
)


def _deploy(
    tmp_path: Path, timeout: str, *overlay: str, **fake: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tmp_path / "deploy.log"
    kubectl = _executable(tmp_path / "kubectl", FAKE_DEPLOY_KUBECTL)
    kustomize = _executable(
        tmp_path / "kustomize", f'#!/usr/bin/env bash\necho "kustomize $*" >> {log}\n'
    )
    env = {"FAKE_LOG": str(log), "FAKE_CONTEXT": KIND_CONTEXT}
    env.update({f"FAKE_{k.upper()}": v for k, v in fake.items()})
    args = (str(kustomize), str(kubectl), UPSTREAM, "manifests/overlays", KIND_CONTEXT, timeout)
    result = _run("kfp-deploy.sh", *args, *overlay, env=env)
    return result, log.read_text().splitlines() if log.exists() else []


def _wait_timeouts(log: list[str]) -> list[int]:
    return [
        int(re.search(r"--timeout=(\d+)s", line).group(1))
        for line in log
        if line.startswith("kubectl") and " wait " in f"{line} "
    ]


@pytest.mark.parametrize(
    ("context", "given", "applied"),
    [
        (KIND_CONTEXT, (), "manifests/overlays/kind"),
        ("prod-cluster", (), "manifests/overlays/kfp"),
        ("prod-cluster", ("my/overlay",), "my/overlay"),
    ],
)
def test_kfp_deploy_applies_the_kind_overlay_only_on_the_kind_cluster(
    tmp_path: Path, context: str, given: tuple[str, ...], applied: str
) -> None:
    result, log = _deploy(tmp_path, "60s", *given, context=context)
    assert result.returncode == 0, result.stdout + result.stderr
    builds = [line for line in log if line.startswith("kustomize build")]
    assert builds == [f"kustomize build {UPSTREAM}", f"kustomize build {applied}"]
    assert f"overlay {applied}" in result.stdout
    assert "KFP is ready" in result.stdout


def test_kfp_deploy_waits_against_one_deadline(tmp_path: Path) -> None:
    result, log = _deploy(tmp_path, "8s", wait_sleep="1.2")
    assert result.returncode == 0, result.stdout + result.stderr
    timeouts = _wait_timeouts(log)
    assert len(timeouts) == 4, log  # CRD, MinIO, the bucket Job, every Deployment
    assert timeouts[0] <= 8
    assert timeouts == sorted(timeouts, reverse=True) and len(set(timeouts)) == 4, timeouts
    assert "all waits share one 8s deadline" in result.stdout


def test_kfp_deploy_names_what_is_not_ready_when_the_deadline_has_passed(tmp_path: Path) -> None:
    result, log = _deploy(tmp_path, "2s", wait_sleep="2.5")
    assert result.returncode == 1
    assert "not ready: deployment/minio" in result.stderr
    assert "2s deadline" in result.stderr and "KFP_WAIT_TIMEOUT" in result.stderr
    assert "ImagePullBackOff" in result.stderr, "the pods are shown"
    assert len(_wait_timeouts(log)) == 1, "nothing is waited for once the deadline passed"


def test_kfp_deploy_names_the_deployments_that_are_not_available(tmp_path: Path) -> None:
    result, _ = _deploy(tmp_path, "60s", wait_fail="--all")
    assert result.returncode == 1
    assert "ml-pipeline (0/1 available)" in result.stderr
    assert "minio (" not in result.stderr and "ml-pipeline-ui (" not in result.stderr


def test_kfp_deploy_refuses_a_timeout_that_is_not_a_duration(tmp_path: Path) -> None:
    result, log = _deploy(tmp_path, "soon")
    assert result.returncode == 2
    assert "KFP_WAIT_TIMEOUT 'soon'" in result.stderr
    assert log == []


# --- ui / api: kfp-port-forward --------------------------------------------------------------

# kubectl port-forward: listens on the local port until killed.
FAKE_FORWARD_KUBECTL = textwrap.dedent(
    f"""\
    #!{sys.executable}
    import os, socket, sys
    args = sys.argv[1:]
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write(" ".join(args) + "\\n")
    server = socket.create_server(("127.0.0.1", int(args[-1].split(":")[0])))
    while True:
        server.accept()[0].close()
    """
)
# docker port NODE: prints $FAKE_DOCKER_PORTS for the kind node container, else fails.
FAKE_DOCKER = textwrap.dedent(
    f"""\
    #!/usr/bin/env bash
    if [[ "$1" == port && "$2" == {CLUSTER}-control-plane && -n "${{FAKE_DOCKER_PORTS:-}}" ]]; then
        printf '%s\\n' "$FAKE_DOCKER_PORTS"
        exit 0
    fi
    echo "Error: No such container: $2" >&2
    exit 1
    """
)


def _forward_setup(tmp_path: Path, docker_ports: str = "") -> tuple[list[str], dict[str, str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    _executable(bin_dir / "docker", FAKE_DOCKER)
    kubectl = _executable(tmp_path / "kubectl", FAKE_FORWARD_KUBECTL)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_LOG": str(tmp_path / "kubectl.log"),
        "FAKE_DOCKER_PORTS": docker_ports,
    }
    return [str(kubectl), CLUSTER, str(tmp_path / "forwards")], env


def test_port_forward_refuses_a_port_held_by_another_process(tmp_path: Path) -> None:
    args, env = _forward_setup(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = str(other.getsockname()[1])
        result = _run("kfp-port-forward.sh", *args, "ml-pipeline-ui", port, "80", env=env)
    assert result.returncode == 1
    assert f"localhost:{port} is in use by another process" in result.stderr
    assert not (tmp_path / "kubectl.log").exists(), "no port-forward is started"


def test_port_forward_ignores_a_stale_pid_file(tmp_path: Path) -> None:
    args, env = _forward_setup(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = str(other.getsockname()[1])
        pid_file = tmp_path / "forwards" / f"ml-pipeline-ui-{port}.pid"
        pid_file.parent.mkdir()
        pid_file.write_text(f"{os.getpid()}\n")  # alive, but not a port-forward
        result = _run("kfp-port-forward.sh", *args, "ml-pipeline-ui", port, "80", env=env)
    assert result.returncode == 1
    assert "in use by another process" in result.stderr


def test_port_forward_accepts_kinds_port_mapping(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as docker_proxy:
        port = docker_proxy.getsockname()[1]
        args, env = _forward_setup(tmp_path, f"30080/tcp -> 127.0.0.1:{port}")
        result = _run("kfp-port-forward.sh", *args, "ml-pipeline-ui", str(port), "80", env=env)
    assert result.returncode == 0, result.stderr
    assert f"served by kind's port mapping of cluster '{CLUSTER}'" in result.stdout
    assert not (tmp_path / "kubectl.log").exists()


def test_port_forward_runs_kubectl_and_recognises_its_own_forward(tmp_path: Path) -> None:
    args, env = _forward_setup(tmp_path)
    port = str(_free_port())
    pid_file = tmp_path / "forwards" / f"ml-pipeline-{port}.pid"
    forward = subprocess.Popen(
        ["bash", str(SCRIPTS / "kfp-port-forward.sh"), *args, "ml-pipeline", port, "8888"],
        env={**os.environ, **env}, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        if not _wait_until(lambda: pid_file.exists() and _port_open(int(port))):
            forward.send_signal(signal.SIGTERM)  # the script's trap stops its kubectl
            pytest.fail(f"no forward on port {port}: {' '.join(forward.communicate(timeout=20))}")
        assert (tmp_path / "kubectl.log").read_text().split() == [
            "-n", NAMESPACE, "port-forward", "svc/ml-pipeline", f"{port}:8888",
        ]  # fmt: skip
        again = _run("kfp-port-forward.sh", *args, "ml-pipeline", port, "8888", env=env)
        assert again.returncode == 0, again.stderr
        assert f"already forwarded to svc/ml-pipeline by pid {pid_file.read_text().strip()}" in (
            again.stdout
        )
    finally:
        if forward.returncode is None:
            forward.send_signal(signal.SIGTERM)
            forward.communicate(timeout=20)
    assert not pid_file.exists(), "the pid file is removed when the forward stops"
    assert _wait_until(lambda: not _port_open(int(port))), "kubectl port-forward is stopped"
