"""A real SMTP server for Roster's tests (aiosmtpd), on 127.0.0.1 only.

Every message it accepts is written, as received, to DIR/<n>.eml (under a temporary name,
then renamed). Files in DIR steer it while it runs:

  .reject  refuse every recipient for good (550)
  .defer   refuse every recipient for now (451)
  .hold    after storing a message, wait with the reply until the file is removed: the
           client has sent the mail but does not know it yet

Prints "listening on 127.0.0.1:PORT" once bound. Stops on SIGTERM or SIGINT.

Usage: smtp_sink.py --dir DIR [--port PORT]
"""

import argparse
import asyncio
import itertools
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    def _flag(self, name):
        return os.path.exists(os.path.join(self.directory, name))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._flag(".reject"):
            return "550 5.1.1 mailbox unavailable"
        if self._flag(".defer"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        final = os.path.join(self.directory, f"{n:06d}.eml")
        partial = os.path.join(self.directory, f".{n:06d}.partial")
        with open(partial, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.replace(partial, final)
        while self._flag(".hold"):
            await asyncio.sleep(0.05)
        return "250 OK: queued"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Sink(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", enable_SMTPUTF8=True),
        host="127.0.0.1",
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
