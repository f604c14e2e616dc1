"""Build the sample plugin's UI: one self-contained HTML file (a plugin UI cannot load scripts
by relative URL), with the figma-auth JS client inlined and your API's URL filled in.

    python clients/figma-plugin/build.py https://abc123.execute-api.eu-west-1.amazonaws.com
    python clients/figma-plugin/build.py http://127.0.0.1:3000      # against `make run`

Then in Figma desktop: Plugins → Development → Import plugin from manifest… → this folder's
manifest.json (put the same URL in its networkAccess.allowedDomains).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENT = HERE.parent / "js" / "figma-auth.js"


def build(api: str) -> str:
    api = api.rstrip("/")
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d+)?", api):
        raise SystemExit(f"not an API base URL (scheme://host[:port], no path): {api!r}")
    client = re.sub(r"^export ", "", CLIENT.read_text(), flags=re.MULTILINE)  # a classic script here
    page = (HERE / "ui.html").read_text()
    return page.replace("/*FIGMA_AUTH_CLIENT*/", client).replace('"__FIGMA_AUTH_API__"', json.dumps(api))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = HERE / "dist" / "ui.html"
    out.parent.mkdir(exist_ok=True)
    out.write_text(build(argv[0]))
    print(f"wrote {out.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
