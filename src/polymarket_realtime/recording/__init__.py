"""Record raw venue frames to files, read them back, and backtest strategies on them.

* :mod:`.format` the file format (gzip members of JSON lines), :mod:`.writer` the streaming recorder,
  :mod:`.reader` the reader (damage reported at a byte offset), :mod:`.service` start/stop/list;
* :mod:`.backtest` the deterministic backtest engine (and its CLI); :mod:`.cli` and :mod:`.backtest.cli` the
  ``record`` and ``backtest`` subcommands. Replay over sockets lives in :mod:`..simulator.replay`.
"""
