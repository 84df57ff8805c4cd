"""`podium-emulator generate` and `podium-emulator serve`."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from pathlib import Path

from podium_emulator.settings import DEFAULT_SCOPES, LIST_ORDERS, Settings

logger = logging.getLogger("podium_emulator")


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError) as error:
        print(f"podium-emulator: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="podium-emulator", description=__doc__)
    parser.add_argument("--log-level", default="WARNING")
    commands = parser.add_subparsers(required=True)
    _generate_parser(commands.add_parser("generate", help="write a corpus folder"))
    _serve_parser(commands.add_parser("serve", help="serve the Podium API emulator"))
    return parser


def _generate_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.set_defaults(run=_generate)


def _serve_parser(parser: argparse.ArgumentParser) -> None:
    defaults = Settings()
    parser.add_argument("--corpus", type=Path, help="a folder written by `generate`")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--rate-limit", type=int, default=defaults.rate_limit)
    parser.add_argument("--rate-window", type=float, default=defaults.rate_window)
    parser.add_argument(
        "--random-5xx-rate", type=float, default=defaults.random_5xx_rate
    )
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
    parser.add_argument("--merge-delay", type=float, default=defaults.merge_delay)
    parser.add_argument("--write-delay", type=float, default=defaults.write_delay)
    parser.add_argument("--token-lifetime", type=float, default=defaults.token_lifetime)
    parser.add_argument(
        "--cursor-lifetime", type=float, default=defaults.cursor_lifetime
    )
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument("--refresh-token", default=defaults.refresh_token)
    parser.add_argument("--scopes", default=" ".join(DEFAULT_SCOPES))
    parser.add_argument(
        "--cross-location-merge", choices=["allow", "block"], default="block"
    )
    parser.add_argument(
        "--list-order",
        choices=LIST_ORDERS,
        default=defaults.list_order,
        help="order of the contact list: by updatedAt, or shuffled per cursor walk",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the random 5xx and the shuffle"
    )
    parser.set_defaults(run=_serve)


def _generate(args: argparse.Namespace) -> int:
    from podium_emulator.generate import generate_corpus

    corpus = generate_corpus(contacts=args.contacts, seed=args.seed)
    corpus.write(args.out)
    logger.info("wrote %d contacts to %s", len(corpus.contacts), args.out)
    print(
        f"wrote {len(corpus.contacts)} contacts, {len(corpus.locations)} locations "
        f"and {len(corpus.truth)} truth rows to {args.out}"
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from podium_emulator.app import build_app
    from podium_emulator.emulator import Emulator

    emulator = Emulator(settings=_settings(args))
    if args.corpus:
        _load(emulator, args.corpus)
    listener = _listen(args.host, args.port)
    host, port = listener.getsockname()[:2]
    print(_banner(host, port, emulator.settings), flush=True)
    config = uvicorn.Config(
        build_app(emulator), log_level="warning", access_log=False, lifespan="off"
    )
    uvicorn.Server(config).run(sockets=[listener])
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        random_5xx_rate=args.random_5xx_rate,
        latency_ms=args.latency_ms,
        merge_delay=args.merge_delay,
        write_delay=args.write_delay,
        token_lifetime=args.token_lifetime,
        cursor_lifetime=args.cursor_lifetime,
        client_id=args.client_id,
        client_secret=args.client_secret,
        refresh_token=args.refresh_token,
        scopes=tuple(args.scopes.split()),
        cross_location_merge=args.cross_location_merge,
        list_order=args.list_order,
        seed=args.seed,
    )


def _load(emulator, folder: Path) -> None:
    from podium_emulator.corpus_io import read_corpus

    contacts, locations = read_corpus(folder)
    emulator.store.load(contacts, locations)
    emulator.corpus_dir = str(folder)
    logger.info(
        "loaded %d contacts and %d locations from %s",
        len(contacts),
        len(locations),
        folder,
    )


def _listen(host: str, port: int) -> socket.socket:
    """Bind and listen before announcing, so the first request never races."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only
    # when the proto says TCP, and without it every small response waits ~40 ms
    # for a delayed ACK (Nagle).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    return listener


def _banner(host: str, port: int, settings: Settings) -> str:
    """The one start-up line: the base URL first, then the demo credentials."""
    return (
        f"podium-emulator listening on http://{host}:{port}/v4"
        f" oauth=http://{host}:{port}/oauth/token"
        f" client_id={settings.client_id} client_secret={settings.client_secret}"
        f" refresh_token={settings.refresh_token}"
    )


if __name__ == "__main__":
    sys.exit(main())
