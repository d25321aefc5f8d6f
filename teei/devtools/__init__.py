"""For development and tests, not production: embedded services, the sample generator, the docs generators."""
