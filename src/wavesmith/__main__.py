"""``python -m wavesmith`` runs the CLI."""

from wavesmith.cli import main

main()
