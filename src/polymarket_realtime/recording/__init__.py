"""Record raw venue frames to files and read them back.

* :mod:`.format` the file format (gzip members of JSON lines), :mod:`.writer` the streaming recorder,
  :mod:`.reader` the reader (damage reported at a byte offset), :mod:`.service` start/stop/list;
* backtests over a recording live above, in :mod:`polymarket_realtime.backtest`; the ``record`` subcommand in
  :mod:`polymarket_realtime.cli.record`; replay over sockets in :mod:`polymarket_realtime.simulator.replay`.
"""
