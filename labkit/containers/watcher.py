"""The container's stand-in process: ``python -m labkit.containers.watcher SPEC``.

The lab starts this small process through the supervisor (so it has the lab's
lifetime, its log file and the reaper behind it). It creates and starts the
container described in the JSON file ``SPEC``, copies the container's output into
its own stdout (the lab's server log), forwards SIGHUP (config reload) to the
container, and exits when the container exits. On SIGTERM (``lab.stop()``, or the
reaper when the lab's owner died, even by SIGKILL) it stops and removes the
container first: an ephemeral lab leaves no container behind.
"""

from __future__ import annotations

import json
import signal
import sys
import threading


def _stream_logs(container, out) -> None:
    try:
        for chunk in container.logs(stream=True, follow=True):
            out.write(chunk)
            out.flush()
    except Exception:  # the container is gone; nothing more to copy
        pass


def remove_quietly(client, name: str) -> None:
    import docker.errors

    try:
        client.containers.get(name).remove(force=True)
    except docker.errors.NotFound:
        pass


def run(spec: dict) -> int:
    import docker

    client = docker.DockerClient(base_url=spec["socket"], timeout=60)
    remove_quietly(client, spec["name"])  # left by a watcher that was SIGKILLed itself
    stop = threading.Event()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a reload before the container exists
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    container = client.containers.create(
        spec["image"], spec["command"], name=spec["name"], labels=spec["labels"],
        network_mode="host", user=spec["user"], environment=spec["environment"],
        volumes={path: {"bind": path, "mode": "rw"} for path in spec["mounts"]},
        working_dir=spec["workdir"], detach=True,
    )
    signal.signal(signal.SIGHUP, lambda *_: container.kill(signal="SIGHUP"))
    try:
        container.start()
        print(f"[labkit] container {spec['name']} ({spec['image']}) started", flush=True)
        logs = threading.Thread(target=_stream_logs, args=(container, sys.stdout.buffer), daemon=True)
        logs.start()
        while not stop.wait(0.25):
            container.reload()
            if container.status not in ("created", "running"):
                break
        code = 0
        if stop.is_set():
            container.stop(timeout=spec.get("stop_timeout", 10))
        else:
            code = int(container.attrs.get("State", {}).get("ExitCode") or 0)
            logs.join(3)  # the last lines name the cause
            print(f"[labkit] container {spec['name']} exited with status {code}", flush=True)
        return code
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        remove_quietly(client, spec["name"])


def main(argv: list[str]) -> int:
    with open(argv[1]) as fh:
        spec = json.load(fh)
    return run(spec)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
