"""Record raw venue frames to files, read them back, and backtest strategies on them.

* :mod:`.format` the file format (gzip members of JSON lines), :mod:`.writer` the streaming recorder,
  :mod:`.reader` the reader (damage reported at a byte offset), :mod:`.service` start/stop/list;
* :mod:`.backtest` the deterministic backtest engine. The ``record`` and ``backtest`` subcommands live in
  :mod:`polymarket_realtime.cli`; replay over sockets lives in :mod:`polymarket_realtime.simulator.replay`.
"""
