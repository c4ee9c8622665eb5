"""Process wiring and configuration: settings, the Temporal connection and payload codec, logging, metrics, the launcher."""
