import os

os.environ.setdefault("MPLBACKEND", "Agg")

import warnings

warnings.filterwarnings("ignore", message="ArviZ is undergoing a major refactor", category=FutureWarning)
