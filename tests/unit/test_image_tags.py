"""lifecycle.images: content tags follow exactly the inputs each image is built from."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from lifecycle import images
from lifecycle.images import (
    BASE,
    IMAGES,
    MINIO,
    ROOT,
    STAGES,
    content_tags,
    image_tag,
    kustomize_images,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of what the images are built from (and some of what they are not)."""
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("images", "lifecycle", "components", "pipelines"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {image for image in IMAGES if before[image] != after[image]}


def test_tags_are_twelve_hex_and_stable(repo: Path) -> None:
    tags = content_tags(repo)
    assert set(tags) == set(IMAGES)
    assert all(re.fullmatch(r"[0-9a-f]{12}", tag) for tag in tags.values())
    assert content_tags(repo) == tags
    assert len(set(tags.values())) == len(IMAGES), "every image has its own tag"


def test_a_change_to_stage_code_changes_the_base_and_every_stage_tag(repo: Path) -> None:
    before = content_tags(repo)
    logic = repo / "components" / "train" / "logic.py"
    logic.write_text(logic.read_text() + "\n# a change\n")
    assert changed(before, content_tags(repo)) == {BASE, *STAGES}


def test_a_change_to_a_dependency_pin_changes_the_base_and_every_stage_tag(repo: Path) -> None:
    before = content_tags(repo)
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("numpy==", "numpy==0+"))
    assert changed(before, content_tags(repo)) == {BASE, *STAGES}


def test_a_stage_dockerfile_changes_only_that_stage(repo: Path) -> None:
    before = content_tags(repo)
    dockerfile = repo / "images" / "train" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "\nLABEL extra=1\n")
    assert changed(before, content_tags(repo)) == {"train"}
    # A file beside it (say, a stage's own requirements) is an input too.
    (repo / "images" / "evaluate" / "requirements.txt").write_text("shap==0.1\n")
    assert changed(before, content_tags(repo)) == {"train", "evaluate"}


def test_the_minio_pin_changes_only_the_minio_tag(repo: Path) -> None:
    before = content_tags(repo)
    (repo / "images" / "minio" / "minio.version").write_text("v0.0.0-20990101000000-abcdef\n")
    assert changed(before, content_tags(repo)) == {MINIO}


def test_compiled_yaml_docs_and_caches_are_not_inputs(repo: Path) -> None:
    before = content_tags(repo)
    (repo / "components" / "train" / "component.yaml").write_text("image: anything\n")
    (repo / "pipelines" / "monitoring_pipeline.yaml").write_text("changed\n")
    (repo / "components" / "train" / "README.md").write_text("docs\n")
    (repo / "README.md").write_text("docs\n")
    (repo / "lifecycle" / "__pycache__").mkdir()
    (repo / "lifecycle" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (repo / "lifecycle" / "image_tags.json").write_text("{}")
    assert changed(before, content_tags(repo)) == set()


def test_a_renamed_source_changes_the_tag(repo: Path) -> None:
    before = content_tags(repo)
    source = repo / "lifecycle" / "keys.py"
    source.rename(source.with_name("keys2.py"))
    assert BASE in changed(before, content_tags(repo))


def test_the_installed_wheel_reads_the_baked_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baked = tmp_path / "image_tags.json"
    assert images.main(["--bake", str(baked)]) == 0
    assert json.loads(baked.read_text()) == content_tags()
    # As in an image: no build folders beside the package, only the baked file.
    monkeypatch.setattr(images, "in_repository", lambda root=ROOT: False)
    monkeypatch.setattr(images, "BAKED_TAGS", baked)
    assert content_tags() == json.loads(baked.read_text())
    baked.write_text(json.dumps({"train": "0" * 12}))
    with pytest.raises(images.ImageTagError, match="no tag for"):
        content_tags()
    monkeypatch.setattr(images, "BAKED_TAGS", tmp_path / "absent.json")
    with pytest.raises(images.ImageTagError, match="make wheel"):
        image_tag("train")


def test_kustomize_component_maps_the_manifests_short_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = kustomize_images("registry.example:5000/team")
    assert "kind: Component" in text
    for image in (BASE, MINIO):
        repository, tag = image_tag(image, "registry.example:5000/team").rsplit(":", 1)
        assert (
            f"  - name: lifecycle-{image}\n    newName: {repository}\n    newTag: {tag}\n" in text
        )


def test_cli_lists_the_stages_or_every_image(capsys: pytest.CaptureFixture[str]) -> None:
    assert images.main([]) == 0
    stages = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert stages == list(STAGES)
    assert images.main(["--all", "--registry", "r.example"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(IMAGES)
    assert all(line.split()[1].startswith("r.example/lifecycle-") for line in lines)


def test_unknown_image_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown image"):
        image_tag("serve-v2")
