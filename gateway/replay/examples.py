"""The example messages shipped inside the package (gateway/examples/): where they are and what they are called.

An example's name is its path under that folder without `.xml` (`pacs.008-single`, `invalid/missing-uetr`);
files that are not XML keep their suffix (`invalid/not-xml.txt`). The folder also holds the manifest that replays
them as a set (replay.toml), its golden answers (goldens/) and a README saying what each one shows.
"""

from __future__ import annotations

from pathlib import Path

examples_dir = Path(__file__).resolve().parent.parent / "examples"
goldens_folder_name = "goldens"


def example_names() -> list[str]:
    """Every example, sorted by name; the goldens are not examples."""
    names = []
    for path in examples_dir.rglob("*"):
        relative = path.relative_to(examples_dir)
        if not path.is_file() or relative.parts[0] == goldens_folder_name:
            continue
        if path.suffix == ".xml":
            names.append(relative.with_suffix("").as_posix())
        elif path.suffix == ".txt":
            names.append(relative.as_posix())
    return sorted(names)


def example_path(name: str) -> Path | None:
    """The file of the example `name`, or None when there is no such example."""
    if name not in example_names():
        return None
    path = examples_dir / name
    return path if path.suffix == ".txt" else path.with_name(path.name + ".xml")
