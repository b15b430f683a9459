"""cin-ml: ML research and model-governance workbench of Quebec's education network.

Importing ``cin_ml`` does no work and no I/O; heavy libraries are imported where used.
See ``docs/architecture.md`` for the design and package map and ``README.md`` for the tour.
"""

__version__ = "0.1.0"
