"""Getting source records into `raw`: the one loader, bulk record checks, pseudonymous user ids, webhook deliveries."""
