"""Shared feed through Redis (issue 7): one feed process publishes, many MCP servers consume.

Modules (import them directly; this package imports nothing so embedded mode never loads redis):

* ``keys``      key and stream names; ``streams`` pure stream-id/reply helpers;
* ``publisher`` feed side: routed events -> Redis Streams (fenced, batched, checkpointed);
* ``leases``    what each server wants, with a TTL; the feed subscribes to their union;
* ``ha``        token-checked locks (feed leader, session ownership); ``ownership`` the sessions rule;
* ``feedproc``  the feed process (leader/standby, WebSocketManager + publisher + lease watcher);
  its ``polymarket-realtime-mcp feed`` command lives in :mod:`polymarket_realtime.cli.feed`;
* ``consumer``  ``RedisFeedBackend``, the server's FeedBackend in shared mode (``wants`` ref counts,
  ``reader`` stream cursors).
"""
