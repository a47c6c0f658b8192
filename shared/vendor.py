"""Refresh every vendored static file from the npm registry: `python -m shared.vendor`.

Nothing labourx serves or prints is fetched at run time: offices may have no route to a CDN,
and running labourx must not need Node.js. This script (which does need `npm`) is the one way
those files change: each comes from a pinned package version, with its licence beside it, and
`VERSIONS.json` in each folder says where every file came from.

- `shared/fonts/`: TrueType fonts for printing (certificates, slips, rosters): Noto Sans Lao,
  and Noto Sans cut down to the Latin ranges labourx prints.
- `shared/static/swagger-ui/`: the assets of every service's `/docs` page.
- `services/console/static/vendor/`: what the staff console's pages load: htmx, idb-keyval (the
  offline queue's IndexedDB store) and Noto Sans Lao as web fonts (Lao and Latin subsets).
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Package:
    spec: str  # name@version
    files: dict[str, str]  # path inside the package -> vendored name
    licence: str = "LICENSE"


TARGETS: dict[str, list[Package]] = {
    "shared/fonts": [
        Package(
            "@expo-google-fonts/noto-sans-lao@0.4.2",
            {
                "400Regular/NotoSansLao_400Regular.ttf": "NotoSansLao-Regular.ttf",
                "700Bold/NotoSansLao_700Bold.ttf": "NotoSansLao-Bold.ttf",
            },
            licence="LICENSE_FONT",
        ),
        Package(
            "@expo-google-fonts/noto-sans@0.4.2",
            {
                "400Regular/NotoSans_400Regular.ttf": "NotoSans-Regular.ttf",
                "700Bold/NotoSans_700Bold.ttf": "NotoSans-Bold.ttf",
            },
            licence="LICENSE_FONT",
        ),
    ],
    "shared/static/swagger-ui": [
        Package(
            "swagger-ui-dist@5.35.0",
            {
                "swagger-ui-bundle.js": "swagger-ui-bundle.js",
                "swagger-ui.css": "swagger-ui.css",
                "favicon-32x32.png": "favicon-32x32.png",
            },
        ),
    ],
    "services/console/static/vendor": [
        Package("htmx.org@2.0.11", {"dist/htmx.min.js": "htmx.min.js"}),
        Package("idb-keyval@6.3.0", {"dist/umd.js": "idb-keyval.js"}, licence="LICENCE"),
        Package(
            "@fontsource/noto-sans-lao@5.3.0",
            {
                f"files/noto-sans-lao-{subset_}-{weight}-normal.woff2": (
                    f"noto-sans-lao-{subset_}-{weight}.woff2"
                )
                for subset_ in ("lao", "latin")
                for weight in (400, 700)
            },
        ),
    ],
}

# Printing fonts: Basic Latin, Latin-1, Latin Extended-A (names romanised with diacritics),
# general punctuation, currency signs (₭, ฿), arrows and the replacement character.
LATIN_RANGES = "U+0020-024F,U+2000-206F,U+20A0-20CF,U+2190-21FF,U+FFFD"


def _unpack(spec: str, into: Path) -> Path:
    name = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    target = into / name.removesuffix(".tgz")
    with tarfile.open(into / name) as archive:
        archive.extractall(target, filter="data")
    return target / "package"


def _subset_latin(source: Path, target: Path) -> None:
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset.parse_unicodes(LATIN_RANGES))
    subsetter.subset(font)
    subset.save_font(font, str(target), options)


def refresh(folder: str, packages: list[Package], work: Path) -> None:
    out = REPO / folder
    out.mkdir(parents=True, exist_ok=True)
    versions: dict[str, dict[str, object]] = {}
    for package in packages:
        unpacked = _unpack(package.spec, work)
        for source, target in package.files.items():
            if target.startswith("NotoSans-"):  # the Latin printing font: only what we print
                _subset_latin(unpacked / source, out / target)
            else:
                (out / target).write_bytes((unpacked / source).read_bytes())
        name = package.spec.rsplit("@", 1)[0].replace("@", "").replace("/", "-")
        licence = f"{name}.LICENSE.txt"
        (out / licence).write_text((unpacked / package.licence).read_text())
        versions[package.spec] = {"files": sorted(package.files.values()), "licence": licence}
    (out / "VERSIONS.json").write_text(json.dumps(versions, indent=2) + "\n")
    print(f"{folder}: {', '.join(versions)}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for folder, packages in TARGETS.items():
            refresh(folder, packages, Path(tmp))


if __name__ == "__main__":
    main()
