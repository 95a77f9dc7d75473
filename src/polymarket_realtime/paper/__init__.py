"""Paper trading: pure fill engine, ledger, risk limits and session states, plus the async PaperService."""
