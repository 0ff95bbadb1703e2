"""The hub's version, for plugins to say which hubs they support (PluginConfig checks it).

A semantic version, raised with each release: a minor step for a new feature, a major step for
a change that may break plugins. (HUB_VERSION, the build identifier written into backups, is
the exact commit; this is the compatibility level.)
"""

__version__ = "0.7.0"


def parse(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of "1", "1.2" or "1.2.3" (a suffix such as "-dev" is ignored)."""
    core = version.strip().split("-")[0].split("+")[0]
    parts = core.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{version!r} is not a version like 1.2.3")
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    return numbers[0], numbers[1], numbers[2]
