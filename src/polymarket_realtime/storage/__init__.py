"""SQLite persistence: numbered migrations, a single-writer database, typed queries, the activity feed."""
