"""The platform every room stands on: settings, the database engine and roles, migrations, Dagster's home."""
