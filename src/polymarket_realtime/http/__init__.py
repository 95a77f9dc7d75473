"""The control room: one Starlette app serving MCP over HTTP (``/mcp``), the dashboard, a JSON API
(``/api``), WebSocket push (``/ws``, ``/ws/sessions/{id}``) and ``/health``. See ``docs/http-api.md``."""
