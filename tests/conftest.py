"""Project-wide test configuration (the eventstore pytest plugin is loaded by entry point)."""
