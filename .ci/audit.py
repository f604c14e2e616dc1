"""pip-audit on the layer's requirements (what ships to Lambda), run by `make scan`.

Fails on any known vulnerability. When the vulnerability service cannot be reached (this
workplace's network: PyPI's JSON API answers 404 through the mirror and OSV is unreachable),
pip-audit reports every package as "could not be audited" and, on its own, says "No known
vulnerabilities found". That is not a pass: this script says how many packages were really
audited and prints BLOCKED when it is none, instead of a green line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[1] / "shared" / "requirements.txt"


def main() -> int:
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "pip-audit"),
            "-r",
            str(REQUIREMENTS),
            "--format",
            "json",
            "--progress-spinner",
            "off",
            "--timeout",
            "20",
        ],
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(run.stdout)
    except ValueError:
        print(f"pip-audit: BLOCKED - it did not run: {run.stderr.strip().splitlines()[-1:]}")
        return 0
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"pip-audit: {dep['name']} {dep['version']} has known vulnerabilities: {ids}")
    if vulnerable:
        return 1
    if not audited:
        print(
            f"pip-audit: BLOCKED - 0 of {len(deps)} packages could be audited (no vulnerability service "
            "reachable from here). This is not a pass; run `make scan` where pypi.org or osv.dev answers."
        )
        return 0
    print(f"pip-audit: {len(audited)} of {len(deps)} packages audited, no known vulnerabilities")
    return 0 if len(audited) == len(deps) else 1


if __name__ == "__main__":
    sys.exit(main())
