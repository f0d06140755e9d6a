"""scripts/kfp-upload-data.sh (``make upload-data``) against a real MinIO and a fake kubectl.

The fake ``kubectl port-forward`` forwards 127.0.0.1:LOCAL to the test MinIO server, as the
real one forwards to svc/minio-service; the script must read the credentials from the env
file, copy the course data under ``incoming/`` and stop the forward afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lifecycle.store import open_store
from pipelines.kfp_client import course_files
from tests.fixtures.minio import MinioServer, free_port

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "kfp-upload-data.sh"

FAKE_KUBECTL = textwrap.dedent(
    f"""\
    #!{sys.executable}
    import os, socket, sys, threading
    args = sys.argv[1:]
    with open(os.environ["FAKE_KUBECTL_LOG"], "a") as log:
        log.write(" ".join(args) + "\\n")
    if os.environ.get("FAKE_KUBECTL_FAIL"):
        print('error: services "minio-service" not found', file=sys.stderr)
        sys.exit(1)
    assert args[:4] == ["-n", "kubeflow", "port-forward", "svc/minio-service"], args
    local, remote = args[4].split(":")
    assert remote == "9000", args
    server = socket.create_server(("127.0.0.1", int(local)))
    target = int(os.environ["FAKE_MINIO_PORT"])

    def pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    while True:
        client, _ = server.accept()
        upstream = socket.create_connection(("127.0.0.1", target))
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
    """
)


def fake_kubectl(tmp_path: Path) -> Path:
    path = tmp_path / "kubectl"
    path.write_text(FAKE_KUBECTL)
    path.chmod(0o755)
    return path


def run_script(tmp_path: Path, env_file: Path, port: int, extra_env: dict[str, str]):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINIO_", "AWS_"))}
    env.update({"FAKE_KUBECTL_LOG": str(tmp_path / "kubectl.log"), **extra_env})
    return subprocess.run(
        [
            "bash",
            str(SCRIPT),
            sys.executable,
            str(fake_kubectl(tmp_path)),
            str(env_file),
            str(port),
            "lifecycle",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=REPO,
        env=env,
    )


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.minio
def test_copies_the_course_data_through_the_forward(
    tmp_path: Path, minio_server: MinioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    if minio_server.process is None or minio_server.process.poll() is not None:
        minio_server.start()
    env_file = tmp_path / "minio.env"
    env_file.write_text(
        f"accesskey={minio_server.access_key}\nsecretkey={minio_server.secret_key}\n"
    )
    port = free_port()

    result = run_script(tmp_path, env_file, port, {"FAKE_MINIO_PORT": str(minio_server.port)})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "put incoming/course/data_init.csv" in result.stdout
    assert "incoming/latest.csv" in result.stdout
    assert minio_server.secret_key not in result.stdout + result.stderr
    assert (tmp_path / "kubectl.log").read_text().split() == [
        "-n",
        "kubeflow",
        "port-forward",
        "svc/minio-service",
        f"{port}:9000",
    ]
    assert not port_is_open(port), "the port-forward must be stopped"
    for name, value in minio_server.env.items():
        monkeypatch.setenv(name, value)
    store = open_store(minio_server.bucket_uri("lifecycle"))
    for key, path in course_files().items():
        assert store.get_bytes(key) == path.read_bytes()


def test_refuses_without_the_env_file(tmp_path: Path) -> None:
    result = run_script(tmp_path, tmp_path / "absent.env", free_port(), {})
    assert result.returncode == 1
    assert "make kfp-deploy" in result.stderr
    assert not (tmp_path / "kubectl.log").exists()


def test_refuses_a_busy_local_port(tmp_path: Path) -> None:
    env_file = tmp_path / "minio.env"
    env_file.write_text("accesskey=abc\nsecretkey=def\n")
    with socket.create_server(("127.0.0.1", 0)) as busy:
        result = run_script(tmp_path, env_file, busy.getsockname()[1], {})
    assert result.returncode == 1
    assert "MINIO_FORWARD_PORT" in result.stderr


def test_reports_a_failed_port_forward(tmp_path: Path) -> None:
    env_file = tmp_path / "minio.env"
    env_file.write_text("accesskey=abc\nsecretkey=def\n")
    result = run_script(tmp_path, env_file, free_port(), {"FAKE_KUBECTL_FAIL": "1"})
    assert result.returncode == 1
    assert "port-forward stopped" in result.stderr
    assert "minio-service" in result.stderr
    assert "def" not in result.stdout
