"""The dbt project, shipped as package data so an installed wheel finds it (`teei.platform.packaged_files`)."""
