"""A stand-in for `plutarc bot run` as the local provider's host command, steered by variables.

HOST_TARGET=host:port   connect there from $PLUTARC_HOST_ADDRESS and send the bot's id
HOST_EXIT=N             exit with status N at once (a host that fails)
HOST_HOLD=path          become ready only once this file exists
HOST_DELAY=seconds      become ready only after this long
HOST_CHILD=1            start a child process in the same group (a proxy beside the bot)
HOST_SLOW_STOP=path     on SIGTERM, write this file and exit only once it is removed
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time


def stop(*_: object) -> None:
    slow = os.environ.get("HOST_SLOW_STOP")
    if slow:
        with open(slow, "w") as stopping:
            stopping.write(str(os.getpid()))
        while os.path.exists(slow):
            time.sleep(0.02)
    sys.exit(0)


def main() -> int:
    if "HOST_EXIT" in os.environ:
        print("host: failing on purpose", flush=True)
        return int(os.environ["HOST_EXIT"])
    signal.signal(signal.SIGTERM, stop)
    address = os.environ["PLUTARC_HOST_ADDRESS"]
    target = os.environ.get("HOST_TARGET")
    if target:
        host, port = target.rsplit(":", 1)
        conn = socket.create_connection((host, int(port)), source_address=(address, 0))
        conn.sendall(os.environ["PLUTARC_BOT_ID"].encode() + b"\n")
    if os.environ.get("HOST_CHILD"):
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    hold = os.environ.get("HOST_HOLD")
    while hold and not os.path.exists(hold):
        time.sleep(0.02)
    time.sleep(float(os.environ.get("HOST_DELAY", "0")))
    with open(os.environ["PLUTARC_HOST_READY_FILE"], "w") as ready:
        ready.write(str(os.getpid()))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
