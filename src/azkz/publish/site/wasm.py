"""DuckDB-WASM for the site's SQL console, vendored from npm into a local cache.

The site must work from a plain static file server with no CDN, so the browser build of
DuckDB is copied into every generated site. It is fetched once with the machine's `npm`
into the cache directory the releases use too (`$AZKZ_CACHE_DIR`, else the platform's user
cache directory: `$XDG_CACHE_HOME/azkz` or `~/.cache/azkz` on Linux); later site builds are
offline.

Only the "eh" (WebAssembly exceptions) bundle is kept: every current browser supports it,
and adding the "mvp" fallback would double the download for no reader we know of.
`@duckdb/duckdb-wasm`'s ESM entry imports `apache-arrow` by bare name, which a browser
cannot resolve, so it is bundled with esbuild into one self-contained module at vendoring
time (pinned versions below, the Arrow version is the one duckdb-wasm 1.32.0 depends on).

DuckDB-WASM 1.32 does not contain the Parquet reader: it downloads it as an extension from
DuckDB's extension server at first use, which is a CDN and unreachable from our build
machines. Parquet is therefore read by `parquet-wasm` (the Rust arrow/parquet crates,
Apache-2.0/MIT) into Arrow IPC, which DuckDB-WASM ingests natively.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from azkz.access.remote import cache_root

DUCKDB_WASM_VERSION = "1.32.0"
APACHE_ARROW_VERSION = "17.0.0"
ESBUILD_VERSION = "0.28.2"
PARQUET_WASM_VERSION = "0.8.0"

MODULE = "duckdb-browser.mjs"  # duckdb-wasm's browser API with apache-arrow bundled in
WORKER = "duckdb-browser-eh.worker.js"
WASM = "duckdb-eh.wasm"
PARQUET_MODULE = "parquet_wasm.js"
PARQUET_WASM = "parquet_wasm_bg.wasm"
MANIFEST = "VENDOR.json"  # which npm packages (versions, licenses) went into the files
FILES = (MODULE, WORKER, WASM, PARQUET_MODULE, PARQUET_WASM, MANIFEST)

NPM_TIMEOUT_SECONDS = 600


class VendorError(Exception):
    """DuckDB-WASM is not in the cache and could not be fetched; the message says why."""


def vendored_dir(root: Path | None = None) -> Path:
    return (root or cache_root()) / f"duckdb-wasm-{DUCKDB_WASM_VERSION}"


def is_vendored(root: Path | None = None) -> bool:
    target = vendored_dir(root)
    return all((target / name).is_file() for name in FILES)


def _run(args: list[str], cwd: Path) -> None:
    try:
        subprocess.run(
            args, cwd=cwd, check=True, capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS
        )
    except subprocess.CalledProcessError as exc:
        tail = "\n".join((exc.stderr or exc.stdout or "").strip().splitlines()[-8:])
        raise VendorError(f"`{' '.join(args)}` failed (exit {exc.returncode}):\n{tail}") from None
    except subprocess.TimeoutExpired:
        raise VendorError(f"`{' '.join(args)}` did not finish in {NPM_TIMEOUT_SECONDS} s") from None


def _manifest(node_modules: Path) -> dict:
    """Name, version and license of every npm package whose code ships in the site."""
    shipped = [
        "@duckdb/duckdb-wasm",
        "apache-arrow",
        "flatbuffers",
        "tslib",
        "json-bignum",
        "parquet-wasm",
    ]
    packages = []
    for name in shipped:
        meta_path = node_modules / name / "package.json"
        if meta_path.is_file():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            packages.append(
                {"name": name, "version": meta.get("version"), "license": meta.get("license")}
            )
    return {
        "packages": packages,
        "files": list(FILES[:-1]),
        "bundled_with": f"esbuild@{ESBUILD_VERSION}",
    }


def vendor(root: Path | None = None) -> Path:
    """Install the pinned packages with npm into a temp dir and keep only the needed files."""
    target = vendored_dir(root)
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError(
            f"DuckDB-WASM is not in {target} and `npm` was not found: install Node.js/npm "
            f"(Debian: apt-get install -y npm) or copy {', '.join(FILES)} into {target}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".vendor-") as tmp:
        work = Path(tmp)
        _run(
            [
                npm,
                "install",
                "--prefix",
                str(work),
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--loglevel=error",
                f"@duckdb/duckdb-wasm@{DUCKDB_WASM_VERSION}",
                f"apache-arrow@{APACHE_ARROW_VERSION}",
                f"esbuild@{ESBUILD_VERSION}",
                f"parquet-wasm@{PARQUET_WASM_VERSION}",
            ],
            work,
        )
        node_modules = work / "node_modules"
        dist = node_modules / "@duckdb" / "duckdb-wasm" / "dist"
        staged = work / "staged"
        staged.mkdir()
        _run(
            [
                str(node_modules / ".bin" / "esbuild"),
                str(dist / MODULE),
                "--bundle",
                "--format=esm",
                "--minify",
                "--legal-comments=eof",
                "--log-level=error",
                f"--outfile={staged / MODULE}",
            ],
            work,
        )
        for name in (WORKER, WASM):
            shutil.copyfile(dist / name, staged / name)
        for name in (PARQUET_MODULE, PARQUET_WASM):
            shutil.copyfile(node_modules / "parquet-wasm" / "esm" / name, staged / name)
        (staged / MANIFEST).write_text(
            json.dumps(_manifest(node_modules), indent=2) + "\n", encoding="utf-8"
        )
        if target.exists():  # a partial earlier attempt
            shutil.rmtree(target)
        staged.rename(target)
    return target


def ensure_vendored(root: Path | None = None) -> Path:
    """The cached DuckDB-WASM directory, fetching it with npm the first time."""
    return vendored_dir(root) if is_vendored(root) else vendor(root)
