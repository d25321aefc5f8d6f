"""Telling other services what happened: the outbox, the one NATS client, the journey consumer."""
