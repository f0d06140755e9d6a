"""The Store contract, run against both backends through the parametrized ``any_store``."""

from __future__ import annotations

import os
import threading

import pytest

from lifecycle.errors import InvalidInputError, KeyNotFoundError
from lifecycle.store import Store


def test_put_then_get_returns_the_bytes(any_store: Store) -> None:
    any_store.put_bytes("a/b.json", b'{"x": 1}')
    assert any_store.get_bytes("a/b.json") == b'{"x": 1}'


def test_put_overwrites(any_store: Store) -> None:
    any_store.put_bytes("k", b"old")
    any_store.put_bytes("k", b"new")
    assert any_store.get_bytes("k") == b"new"


def test_empty_and_binary_objects_round_trip(any_store: Store) -> None:
    payload = bytes(range(256)) * 64
    any_store.put_bytes("bin/blob", payload)
    any_store.put_bytes("bin/empty", b"")
    assert any_store.get_bytes("bin/blob") == payload
    assert any_store.get_bytes("bin/empty") == b""


def test_get_missing_raises_key_not_found(any_store: Store) -> None:
    with pytest.raises(KeyNotFoundError, match="nope/x"):
        any_store.get_bytes("nope/x")


def test_exists(any_store: Store) -> None:
    assert not any_store.exists("a/b")
    any_store.put_bytes("a/b", b"1")
    assert any_store.exists("a/b")
    assert not any_store.exists("a")  # a folder is not an object


def test_list_keys_is_recursive_sorted_and_scoped_to_the_folder(any_store: Store) -> None:
    for key in ["b/2", "a/x/1", "a/1", "ab/1", "c"]:
        any_store.put_bytes(key, b"")
    assert any_store.list_keys() == ["a/1", "a/x/1", "ab/1", "b/2", "c"]
    assert any_store.list_keys("a/") == ["a/1", "a/x/1"]
    assert any_store.list_keys("a") == ["a/1", "a/x/1"]  # a folder, not a string prefix
    assert any_store.list_keys("a/x/") == ["a/x/1"]
    assert any_store.list_keys("missing/") == []


def test_delete_removes_and_ignores_absent_keys(any_store: Store) -> None:
    any_store.put_bytes("d/1", b"1")
    any_store.put_bytes("d/2", b"2")
    any_store.delete("d/1")
    any_store.delete("d/never-written")
    assert any_store.list_keys("d/") == ["d/2"]
    assert not any_store.exists("d/1")


def test_get_many_keeps_the_order(any_store: Store) -> None:
    keys = [f"many/{i:03d}" for i in range(40)]
    for key in keys:
        any_store.put_bytes(key, key.encode())
    order = list(reversed(keys))
    assert any_store.get_many(order) == [key.encode() for key in order]
    assert any_store.get_many([]) == []


def test_get_many_raises_for_a_missing_key(any_store: Store) -> None:
    any_store.put_bytes("m/1", b"1")
    with pytest.raises(KeyNotFoundError):
        any_store.get_many(["m/1", "m/2", "m/1"])


def test_put_if_absent_creates_once(any_store: Store) -> None:
    assert any_store.put_if_absent("claims/1.0", b"first") is True
    assert any_store.put_if_absent("claims/1.0", b"second") is False
    assert any_store.get_bytes("claims/1.0") == b"first"


def test_put_if_absent_is_exclusive_under_a_race(any_store: Store) -> None:
    """Eight threads create each of 10 keys at once: exactly one wins each."""
    contenders = 8
    for round_ in range(10):
        key = f"race/{round_}"
        barrier = threading.Barrier(contenders)
        wins: list[int] = []

        def contend(
            index: int, key: str = key, barrier: threading.Barrier = barrier, wins: list[int] = wins
        ) -> None:
            barrier.wait()
            if any_store.put_if_absent(key, f"writer-{index}".encode()):
                wins.append(index)

        threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(wins) == 1, f"{key}: {len(wins)} creators won"
        assert any_store.get_bytes(key) == f"writer-{wins[0]}".encode()


@pytest.mark.parametrize(
    "key",
    ["", "/abs", "/etc/passwd", "../up", "a/../b", "a//b", "a/", "./a", "a/./b", "a b", "a\\b"],
)
def test_unsafe_keys_are_rejected_by_every_operation(any_store: Store, key: str) -> None:
    operations = [
        lambda: any_store.put_bytes(key, b"x"),
        lambda: any_store.put_if_absent(key, b"x"),
        lambda: any_store.get_bytes(key),
        lambda: any_store.exists(key),
        lambda: any_store.delete(key),
        lambda: any_store.put_file(key, __file__),
        lambda: any_store.get_file(key, os.devnull),
    ]
    for operation in operations:
        with pytest.raises(InvalidInputError):
            operation()
    assert any_store.list_keys() == []


@pytest.mark.parametrize("prefix", ["../", "/abs/", "a/../", "a/./b/"])
def test_unsafe_list_prefixes_are_rejected(any_store: Store, prefix: str) -> None:
    with pytest.raises(InvalidInputError):
        any_store.list_keys(prefix)


def test_clear_deletes_everything(any_store: Store) -> None:
    for i in range(25):
        any_store.put_bytes(f"x/{i % 3}/{i}", b"1")
    any_store.put_bytes("top", b"1")
    any_store.clear()
    assert any_store.list_keys() == []
    any_store.put_bytes("x/again", b"2")  # still usable afterwards
    assert any_store.list_keys() == ["x/again"]


@pytest.mark.parametrize("size", [0, 1000, 20 * 1024 * 1024 + 7])
def test_put_file_and_get_file_stream_whole_objects(any_store: Store, tmp_path, size) -> None:
    """Up to past the MinIO part size (16 MiB): a multipart upload there, one object after."""
    payload = os.urandom(size)
    source = tmp_path / "source.bin"
    source.write_bytes(payload)
    any_store.put_file("files/data.parquet", source)
    assert source.read_bytes() == payload  # copied, not taken over
    assert any_store.get_bytes("files/data.parquet") == payload
    any_store.get_file("files/data.parquet", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == payload
    assert any_store.list_keys() == ["files/data.parquet"]


def test_put_file_moves_a_staged_file_and_leaves_no_temporary(any_store: Store, tmp_path) -> None:
    staged = any_store.staging_path(".parquet") or tmp_path / "staged.parquet"
    staged.write_bytes(b"staged bytes")
    assert any_store.list_keys() == []  # a staged file is not an object
    any_store.put_file("files/moved", staged, move=True)
    assert not staged.exists()
    assert any_store.get_bytes("files/moved") == b"staged bytes"
    assert any_store.list_keys() == ["files/moved"]


def test_put_file_overwrites_and_get_file_of_a_missing_key_raises(any_store: Store, tmp_path):
    source = tmp_path / "v"
    for version in (b"one", b"two"):
        source.write_bytes(version)
        any_store.put_file("files/v", source)
    assert any_store.get_bytes("files/v") == b"two"
    with pytest.raises(KeyNotFoundError, match="files/none"):
        any_store.get_file("files/none", tmp_path / "none")


def test_open_ranged_reads_any_range_and_each_open_keeps_its_own_position(any_store: Store):
    payload = os.urandom(3 * 1024 * 1024 + 11)
    any_store.put_bytes("files/ranged", payload)
    ranged = any_store.open_ranged("files/ranged")
    assert ranged.size == len(payload)
    first, second = ranged.open(), ranged.open()
    first.seek(-100, os.SEEK_END)
    assert first.read() == payload[-100:]
    assert second.read(5) == payload[:5]  # not moved by the other file's seek
    second.seek(2 * 1024 * 1024 + 3)
    assert second.read(1024 * 1024 + 8) == payload[2 * 1024 * 1024 + 3 :]
    assert second.read(10) == b""  # past the end


def test_open_ranged_of_a_missing_key_raises(any_store: Store) -> None:
    with pytest.raises(KeyNotFoundError, match="files/none"):
        any_store.open_ranged("files/none")
