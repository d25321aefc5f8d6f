"""Upskilling connector: eCornell and itslearning progress exports, and credentials, mapped by `mapping.yaml`."""
