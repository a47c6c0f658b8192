"""Refresh the vendored fonts from the npm registry: `python -m shared.fonts.refresh`.

Printing (certificates, registration slips, rosters) needs TrueType files that carry Lao script
and Latin letters, inside the repository so that nothing is fetched at run time. Noto Sans Lao
and Noto Sans (SIL Open Font License 1.1) come from the `@expo-google-fonts` packages, which
ship the TTF files; Noto Sans is cut down to the Latin ranges labourx prints. Needs Node.js's
`npm` (only here: running labourx never does).
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

from fontTools import subset

HERE = Path(__file__).resolve().parent

# package@version -> {file in the package: vendored name}
PACKAGES = {
    "@expo-google-fonts/noto-sans-lao@0.4.2": {
        "400Regular/NotoSansLao_400Regular.ttf": "NotoSansLao-Regular.ttf",
        "700Bold/NotoSansLao_700Bold.ttf": "NotoSansLao-Bold.ttf",
    },
    "@expo-google-fonts/noto-sans@0.4.2": {
        "400Regular/NotoSans_400Regular.ttf": "NotoSans-Regular.ttf",
        "700Bold/NotoSans_700Bold.ttf": "NotoSans-Bold.ttf",
    },
}
# Basic Latin, Latin-1, Latin Extended-A (names romanised with diacritics), general punctuation,
# currency signs (₭, ฿), arrows and the replacement character.
LATIN_RANGES = "U+0020-024F,U+2000-206F,U+20A0-20CF,U+2190-21FF,U+FFFD"


def _unpack(spec: str, into: Path) -> Path:
    name = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with tarfile.open(into / name) as archive:
        archive.extractall(into / name.removesuffix(".tgz"), filter="data")
    return into / name.removesuffix(".tgz") / "package"


def _subset_latin(source: Path, target: Path) -> None:
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset.parse_unicodes(LATIN_RANGES))
    subsetter.subset(font)
    subset.save_font(font, str(target), options)


def main() -> None:
    versions: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for spec, files in PACKAGES.items():
            package = _unpack(spec, Path(tmp))
            for source, target in files.items():
                if target.startswith("NotoSans-"):
                    _subset_latin(package / source, HERE / target)
                else:
                    (HERE / target).write_bytes((package / source).read_bytes())
            licence = target.split("-")[0] + "-OFL.txt"
            (HERE / licence).write_text((package / "LICENSE_FONT").read_text())
            versions[spec] = licence
    (HERE / "versions.json").write_text(json.dumps(versions, indent=2) + "\n")
    print("fonts refreshed:", ", ".join(versions))


if __name__ == "__main__":
    main()
