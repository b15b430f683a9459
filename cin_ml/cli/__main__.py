"""``python -m cin_ml.cli``."""

from cin_ml.cli import main

main()
