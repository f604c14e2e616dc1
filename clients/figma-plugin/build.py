"""Build the sample plugin into dist/: its UI as one self-contained HTML file (a plugin UI
cannot load scripts by relative URL) with the figma-auth JS client inlined and your API's URL
filled in, code.js, and a manifest.json whose network access names that URL. The client comes
from its npm package (clients/js/dist/figma-auth-client-<version>.tgz, packed by `npm pack`
when absent; `--client` names another), as your own plugin would get it from npm.

    python clients/figma-plugin/build.py https://abc123.execute-api.eu-west-1.amazonaws.com
    python clients/figma-plugin/build.py http://127.0.0.1:3000      # against `make run`
    python clients/figma-plugin/build.py https://auth.example.com --dev http://127.0.0.1:3000

A local URL (127.0.0.1, localhost) goes in devAllowedDomains (Figma allows those only while
developing); any other in allowedDomains. Then in Figma desktop: Plugins → Development →
Import plugin from manifest… → clients/figma-plugin/dist/manifest.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent / "js"


def packed_client() -> Path:
    """The JS client's npm package, packed from clients/js when it is not there yet."""
    version = json.loads((PACKAGE / "package.json").read_text())["version"]
    tarball = PACKAGE / "dist" / f"figma-auth-client-{version}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("the plugin inlines the figma-auth-client npm package: install Node.js and npm")
        subprocess.run([npm, "pack", "--silent", "--pack-destination", "dist"], cwd=PACKAGE, check=True)
    return tarball


def client_source(tarball: Path) -> str:
    """The client module as the package ships it (its exports' default entry)."""
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile("package/package.json"))  # type: ignore[arg-type]
        entry = manifest["exports"]["."]["default"].removeprefix("./")
        member = archive.extractfile(f"package/{entry}")
        assert member is not None
        return member.read().decode("utf-8")


def _base_url(api: str) -> str:
    api = api.rstrip("/")
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d+)?", api):
        raise SystemExit(f"not an API base URL (scheme://host[:port], no path): {api!r}")
    return api


def _local(api: str) -> bool:
    return urlsplit(api).hostname in ("127.0.0.1", "localhost")


def manifest(api: str, dev: str | None = None) -> dict[str, object]:
    """The sample's manifest.json with its network access generated from the endpoint(s)."""
    base = json.loads((HERE / "manifest.json").read_text())
    urls = [_base_url(u) for u in (api, dev) if u]
    production = [u for u in urls if not _local(u)]
    development = [u for u in urls if _local(u)]
    access = {**base["networkAccess"], "allowedDomains": production or ["none"]}
    access["devAllowedDomains"] = development
    if not development:
        del access["devAllowedDomains"]
    return {**base, "main": "code.js", "ui": "ui.html", "networkAccess": access}


def build(api: str, tarball: Path | None = None) -> str:
    api = _base_url(api)
    source = client_source(tarball or packed_client())
    client = re.sub(r"^export ", "", source, flags=re.MULTILINE)  # a classic script here
    page = (HERE / "ui.html").read_text()
    return page.replace("/*FIGMA_AUTH_CLIENT*/", client).replace('"__FIGMA_AUTH_API__"', json.dumps(api))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Build the sample Figma plugin into dist/ for your figma-auth API.")
    parser.add_argument("api", help="figma-auth's ApiUrl (or http://127.0.0.1:3000 for make run)")
    parser.add_argument("--dev", help="a second, local URL to allow while developing")
    parser.add_argument("--client", type=Path, help="the figma-auth-client .tgz to inline (default: clients/js's)")
    args = parser.parse_args(argv)
    out = HERE / "dist"
    out.mkdir(exist_ok=True)
    (out / "ui.html").write_text(build(args.api, args.client))
    shutil.copyfile(HERE / "code.js", out / "code.js")
    (out / "manifest.json").write_text(json.dumps(manifest(args.api, args.dev), indent=2) + "\n")
    print(f"wrote {out.relative_to(HERE.parent.parent)}/: manifest.json, code.js, ui.html")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
