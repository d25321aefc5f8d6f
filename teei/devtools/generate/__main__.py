"""`python -m teei.devtools.generate`: rewrite the bundled sample data."""

from __future__ import annotations

from teei.devtools.generate import BUNDLED_SAMPLE_DIR, MANIFEST_NAME, refresh_bundled_sample


def main() -> None:
    """Regenerate `sample_data/` and say what it holds."""
    bundled = refresh_bundled_sample()
    rows = sum(counts.rows_in for counts in bundled.files.values())
    print(f"{BUNDLED_SAMPLE_DIR}: {len(bundled.files)} files, {rows} rows; expected counts in {MANIFEST_NAME}")


if __name__ == "__main__":
    main()
