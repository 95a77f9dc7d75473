"""The MCP surface: ``create_server(settings)`` (in :mod:`.app`), the core tools, resources, push
notifications for both protocol eras, and the extension contract (:mod:`.extensions`).

Import :mod:`.app` explicitly; this package stays import-light so ``cli`` can list subcommands fast.
"""
