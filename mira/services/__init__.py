"""Real local services (Kafka, Triton, Prometheus) for tests and local runs."""
