"""``polymarket-realtime-mcp record --tokens ... | --markets ... | --reference CH:SYM ... | --sports --out F``.

``--rtds TOPIC[:TYPE]`` adds RTDS topics (not the retired price topics: ``--reference`` records prices).

Connects to the venue (or whatever ``POLYMARKET_*_URL`` points at), subscribes the tokens, and streams
every raw frame to ``FILE`` until ``--duration`` seconds passed or Ctrl-C / SIGTERM; the file is closed
cleanly either way (and a hard kill loses at most the last flush interval). A status line on stderr
shows frames, bytes and drops.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from pathlib import Path

import anyio

from ..clock import SYSTEM_CLOCK
from ..config import Settings
from ..errors import InvalidInputError, PolymarketRealtimeError
from ..recording.format import SUFFIX
from ..recording.service import RecordingInfo, RecordingService
from .logging import configure_logging

__all__ = ["add_arguments", "record", "run"]

logger = logging.getLogger(__name__)


def _say(text: str, *, end: str = "\n") -> None:
    """Progress and errors for the person at the terminal go to stderr (stdout is never written)."""
    sys.stderr.write(text + end)
    sys.stderr.flush()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("what to record (at least one)")
    what.add_argument("--tokens", nargs="+", default=[], metavar="TOKEN_ID", help="outcome token ids")
    what.add_argument("--markets", nargs="+", default=[], metavar="MARKET", help="condition ids or slugs")
    what.add_argument(
        "--rtds",
        nargs="+",
        default=[],
        metavar="TOPIC[:TYPE]",
        help="RTDS topics, e.g. activity (prices: use --reference)",
    )
    what.add_argument(
        "--reference",
        nargs="+",
        default=[],
        metavar="CHANNEL:SYMBOL",
        help="PolyBolt reference prices, e.g. crypto:btcusd equity:aapl (needs API credentials)",
    )
    what.add_argument("--sports", action="store_true", help="the sports socket's game updates (every game)")
    parser.add_argument("--out", type=Path, default=None, help=f"output file (*{SUFFIX}); default in data_dir")
    parser.add_argument("--name", default="", help="recording name (used for the default file name)")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--max-part-mb", type=float, default=64.0, help="rotate to a new part file at this size")
    parser.add_argument("--quiet", action="store_true", help="no status line")


def _rtds(specs: list[str]) -> list[tuple[str, str]]:
    """``topic[:type]`` specs; the retired RTDS price topics are refused (InvalidInputError with the fix)."""
    from ..venues.polymarket.schemas import RTDS_PRICE_TOPICS

    out = []
    for spec in specs:
        topic, _, kind = spec.partition(":")
        if topic in RTDS_PRICE_TOPICS:
            raise InvalidInputError(
                f"--rtds {topic}: the RTDS price topics are retired (reference prices come from PolyBolt); "
                "use --reference crypto:btcusd (or equity:aapl, ...) instead"
            )
        if topic:
            out.append((topic, kind or "*"))
    return out


def _reference(specs: list[str]) -> list[str]:
    """``channel:symbol[:provider]`` specs -> validated feed keys (InvalidInputError names a bad one)."""
    from ..app.reference import reference_keys

    keys: list[str] = []
    for spec in specs:
        channel, _, rest = spec.partition(":")
        symbol, _, provider = rest.partition(":")
        keys.extend(reference_keys([symbol], channel, provider or None))
    return keys


async def record(
    settings: Settings,
    *,
    tokens: list[str],
    markets: list[str],
    rtds: list[tuple[str, str]],
    out: Path | None,
    reference: list[str] | None = None,
    sports: bool = False,
    name: str = "",
    duration_s: float | None = None,
    max_part_bytes: int = 64 << 20,
    status: bool = True,
) -> RecordingInfo:
    """Record until ``duration_s`` passed or a SIGINT/SIGTERM arrives; returns the final info."""
    from ..app.polybolt_credentials import install_polybolt_credentials
    from ..feed.books import BookStore
    from ..feed.manager import WebSocketManager
    from ..routing.router import EventRouter
    from ..venues.polymarket.gamma import GammaClient
    from ..venues.polymarket.rest import ClobRestClient

    if out is not None and not out.name.endswith(SUFFIX):
        out = out.with_name(out.name + SUFFIX)
    books = BookStore()
    router = EventRouter(books)
    async with (
        ClobRestClient(settings) as rest,
        GammaClient(settings) as gamma,
        contextlib.AsyncExitStack() as stack,  # the credentials' HTTP client outlives the sockets
        WebSocketManager(settings, books=books, router=router, clob_rest=rest) as manager,
        anyio.create_task_group() as tg,
    ):
        service = RecordingService(
            settings.recordings_dir,
            manager,
            books,
            markets=gamma,
            max_part_bytes=max_part_bytes,
            source=settings.market_ws_url.split("?", 1)[0],
        )
        await service.start(tg)
        if reference:
            await install_polybolt_credentials(settings, manager, stack)
        info = await service.start_recording(
            tokens, markets, name, rtds=rtds, reference=reference or (), path=out, sports=sports
        )
        _say(f"recording {len(info.token_ids)} tokens to {info.path}")
        stop = anyio.Event()

        async def on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    stop.set()
                    return

        tg.start_soon(on_signal)
        started = SYSTEM_CLOCK.monotonic()
        tty = sys.stderr.isatty()
        while not stop.is_set():
            with anyio.move_on_after(1.0):
                await stop.wait()
            elapsed = SYSTEM_CLOCK.monotonic() - started
            if status:
                current = service.info(info.recording_id)
                line = (
                    f"{elapsed:7.1f} s  {current.frames or 0:>9,} frames  {current.bytes / 1024:>9,.1f} KiB  "
                    f"dropped {current.dropped or 0}"
                )
                _say(("\r" + line) if tty else line, end="" if tty else "\n")
            if duration_s is not None and elapsed >= duration_s:
                break
        final = await service.stop_recording(info.recording_id)
        tg.cancel_scope.cancel()
    if status and sys.stderr.isatty():
        _say("")
    return final


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    configure_logging(settings)
    if not (args.tokens or args.markets or args.rtds or args.reference or args.sports):
        _say("record: give --tokens, --markets, --rtds, --reference and/or --sports")
        return 2
    try:
        reference = _reference(args.reference)
        rtds = _rtds(args.rtds)
    except PolymarketRealtimeError as exc:
        _say(f"record: {exc}")
        return 2
    try:
        final = anyio.run(
            lambda: record(
                settings,
                tokens=args.tokens,
                markets=args.markets,
                rtds=rtds,
                reference=reference,
                out=args.out,
                sports=args.sports,
                name=args.name,
                duration_s=args.duration,
                max_part_bytes=int(args.max_part_mb * (1 << 20)),
                status=not args.quiet,
            )
        )
    except PolymarketRealtimeError as exc:
        print(f"record failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"recorded {final.frames} frames ({final.dropped} dropped) in {final.parts} part(s): {final.path}",
        file=sys.stderr,
    )
    return 0
