"""These test the service as a whole: deployment files, the served app, docs, TS client, fuzzing, properties."""
