"""The application layer: services that know neither MCP nor HTTP, and the composition root that builds them."""
