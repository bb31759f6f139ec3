"""``python -m labkit.containers``: image context, tag and build, orphan cleanup.

    python -m labkit.containers context DIR   fill DIR; print "DIR TAG SERVER_NAME FINGERPRINT"
    python -m labkit.containers tag           print the image tag for this machine's server binary
    python -m labkit.containers build         build the image through the Docker API
    python -m labkit.containers cleanup       remove lab containers whose lab is gone
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from ..server.binary import find_server_binary
    from . import image

    command = argv[1] if len(argv) > 1 else ""
    if command == "context":
        binary = find_server_binary()
        folder = image.prepare_context(binary, Path(argv[2]) if len(argv) > 2 else None)
        print(f"{folder} {image.image_tag(binary)} {binary.cli_name} {image.fingerprint(folder)}")
    elif command == "tag":
        print(image.image_tag(find_server_binary()))
    elif command == "build":
        from .engine import connect

        print(image.build_image(connect(), find_server_binary()))
    elif command == "cleanup":
        from .backend import cleanup_orphans

        for name in cleanup_orphans():
            print(f"removed {name}")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
