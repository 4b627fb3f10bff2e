"""Print a pip.conf for the stand-in Python image: this machine's pip index settings, nothing host-local.

Reads `pip config list` and the PIP_* environment. Keeps index-url, extra-index-url, trusted-host and
timeout; drops file:// and filesystem entries (they do not exist inside the image). A configured
certificate bundle becomes the image's own bundle, which stand_ins.sh fills with this machine's extra CAs.
"""

from __future__ import annotations

import os
import subprocess
import sys

KEYS = ("index-url", "extra-index-url", "trusted-host", "timeout", "default-timeout")
IMAGE_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def configured() -> dict[str, str]:
    """pip's merged settings as key -> value, the environment winning over files."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    settings: dict[str, str] = {}
    for line in listed.splitlines():
        name, _, value = line.partition("=")
        key = name.split(".", 1)[-1]
        settings[key] = value.strip().strip("'\"")
    for key in (*KEYS, "cert"):
        env_value = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        if env_value:
            settings[key] = env_value
    return settings


def remote_only(value: str) -> str:
    return " ".join(item for item in value.split() if item.startswith(("http://", "https://")))


def main() -> int:
    settings = configured()
    lines = ["[global]"]
    for key in KEYS:
        value = settings.get(key, "")
        if key.endswith("index-url"):
            value = remote_only(value)
        if value:
            lines.append(f"{key} = {value}")
    if settings.get("cert"):
        lines.append(f"cert = {IMAGE_CA_BUNDLE}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
