"""Bayesian scenario forecasting from conflicting evidence.

Data flows one way: evidence (:class:`Case`, :class:`Report`, :class:`Source`)
-> model (:func:`fit`) -> posterior (:class:`Forecast`) -> tables and plots.
"""

from .casefile import builtin_case, builtin_case_path, load_case, read_reports_csv, reports_from_frame
from .compare import compare
from .errors import CaseError
from .evidence import CLAIM_KINDS, Case, Outcome, Report, Source
from .fit import fit
from .forecast import Forecast
from .priors import Priors
from .scenarios import Driver, Scenario, ScenarioResult, sensitivity, simulate, what_if
# evaluation: backtests over vintages, what moved the forecast, calibration, batches of fits
from .backtest import Backtest, backtest
from .batch import Job, run_batch
from .calibration import robustness, sbc
from .influence import influence
# evidence as it comes: related quantities and sources' track records (echoes: forecasting.echoes)
from .quantities import Quantity
# (the function track_records stays in its module: the name is the module's)
from .track_records import TrackRecord, apply_track_records, load_track_records, save_track_records

__all__ = [
    "CLAIM_KINDS", "Case", "CaseError", "Driver", "Forecast", "Priors", "Report", "Scenario", "ScenarioResult",
    "Source", "builtin_case", "builtin_case_path", "compare", "fit", "load_case", "read_reports_csv",
    "reports_from_frame", "sensitivity", "simulate", "what_if",
    "Backtest", "Job", "Outcome", "backtest", "influence", "robustness", "run_batch", "sbc",
    "Quantity", "TrackRecord", "apply_track_records", "load_track_records", "save_track_records",
]
__version__ = "0.1.0"
