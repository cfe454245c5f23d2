"""A real SMTP server for Roster's tests (aiosmtpd), on 127.0.0.1 only.

Every message it accepts is written, as received, to DIR/<n>.eml (under a temporary name,
then renamed). Files in DIR steer it while it runs:

  .reject  refuse every recipient for good (550)
  .defer   refuse every recipient for now (451)
  .hold    after storing a message, wait with the reply until the file is removed: the
           client has sent the mail but does not know it yet

With --tls starttls the server offers STARTTLS and requires it; with --tls implicit it speaks
TLS from the first byte (smtps). --auth USER:PASSWORD requires AUTH PLAIN or LOGIN with those
credentials before MAIL FROM (and refuses others with 535).

Prints "listening on 127.0.0.1:PORT" once bound. Stops on SIGTERM or SIGINT.

Usage: smtp_sink.py --dir DIR [--port PORT] [--tls starttls|implicit --cert PEM --key PEM]
                    [--auth USER:PASSWORD]
"""

import argparse
import asyncio
import itertools
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


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


def authenticator(expected):
    user, password = expected.split(":", 1)

    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        # handled=False: aiosmtpd itself answers a failure (535); True would leave it silent.
        return AuthResult(success=ok, handled=False)

    return check


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls", choices=["starttls", "implicit"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--auth")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Sink(args.dir)
    context = None
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    options = dict(hostname="sink.test", enable_SMTPUTF8=True)
    if args.tls == "starttls":
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        # With STARTTLS, AUTH only once TLS is up. aiosmtpd does not see implicit TLS (it is
        # the listening socket's), so there, and with no TLS at all, it must not insist.
        options.update(
            authenticator=authenticator(args.auth),
            auth_required=True,
            auth_require_tls=args.tls == "starttls",
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **options),
        host="127.0.0.1",
        port=args.port,
        ssl=context if args.tls == "implicit" else None,
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
