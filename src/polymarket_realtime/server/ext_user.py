"""Extension ``user``: the user tools over :class:`~polymarket_realtime.app.user.UserService`."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ..app.services import start_user

if TYPE_CHECKING:
    from ..app.root import Application
    from .app import PolymarketMCP

__all__ = ["EXTENSION", "UserExtension"]


class UserExtension:
    name = "user"
    toolsets: tuple[str, ...] = ("user",)

    def register_tools(self, mcp: PolymarketMCP) -> None:
        from .tools_user import register

        register(mcp)

    async def start(self, app: Application, stack: contextlib.AsyncExitStack) -> None:
        await start_user(app, stack)


EXTENSION = UserExtension()
