"""``python -m pipeline.cli …`` is ``regwatch …`` (for machines where pip's script directory is not on PATH)."""

from pipeline.cli import main

main()
