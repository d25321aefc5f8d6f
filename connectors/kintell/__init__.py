"""Kintell connector: session exports (CSV files and webhook bodies), mapped by `mapping.yaml`."""
