"""Agents (price alerts, market scanner, strategies) driven by routed events, and system control."""
