"""Tests of the command line (``polymarket_realtime.cli``): one module per subcommand or concern."""
