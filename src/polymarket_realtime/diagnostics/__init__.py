"""Diagnostics of the whole stack: :mod:`.doctor` (endpoints, clock skew, credentials, sockets) used by the
``doctor`` subcommand and the ``diagnose_connection`` tool; :mod:`.doctor_polybolt` its reference-price check."""
