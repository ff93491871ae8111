"""sstfill: gap-free monthly SST maps from gappy daily observations.

Importing the package is cheap: it does not import torch.
"""

__version__ = "0.2.0"
