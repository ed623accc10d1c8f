"""Priors elicited in plain terms and converted to distribution parameters.

Every prior is stated as a 90% range of something an analyst can picture
(a level, a ratio, a number of days) and turned into a Normal on the log scale
(or a LogNormal) whose 5% and 95% quantiles are the two ends of the range.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

from .errors import CaseError

Z90 = 1.6448536269514722  # 95% quantile of the standard Normal


def is_finite_number(value) -> bool:
    """True for a real, finite number (numpy scalars too); False for bool, text, NaN, inf and huge integers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond float range
        return False


def log_normal_from_range(low: float, high: float) -> tuple[float, float]:
    """(mu, sigma) of a Normal on log scale whose 5%/95% quantiles are log(low), log(high)."""
    lo, hi = math.log(low), math.log(high)
    return (lo + hi) / 2, (hi - lo) / (2 * Z90)


# Admiralty reliability -> typical sd of a source's log error (0.18 ~ +/-18%).
RELIABILITY_NOISE = {"A": 0.10, "B": 0.18, "C": 0.30, "D": 0.45, "E": 0.70, "F": 0.30}
# Admiralty credibility -> multiplier on that noise.
CREDIBILITY_FACTOR = {"1": 0.6, "2": 0.8, "3": 1.0, "4": 1.4, "5": 2.0, "6": 1.0}
# log-sd of each source's noise around its grade's typical value; wider when the
# grade says "cannot be judged" (F or 6), or there is no grade.
NOISE_SPREAD = 0.5
UNJUDGED_EXTRA_SPREAD = 0.3


def noise_prior(grade: str | None) -> tuple[float, float]:
    """(median, log-sd) of the LogNormal prior on a source's noise, from its grade."""
    grade = grade or "F6"
    median = RELIABILITY_NOISE[grade[0]] * CREDIBILITY_FACTOR[grade[1]]
    spread = NOISE_SPREAD + UNJUDGED_EXTRA_SPREAD * ((grade[0] == "F") + (grade[1] == "6"))
    return median, spread


@dataclass(frozen=True)
class Priors:
    """Plain-terms priors for a case (every pair is a 90% range).

    Parameters
    ----------
    level : (float, float), optional
        The true level on the case's start date. Default: the median claim
        divided and multiplied by 30 (a data-informed but very wide range).
    ceiling : (float, float), optional
        ``saturating`` only: the level the quantity levels off at. Default: the
        geometric mean of the median and the largest claim, divided and
        multiplied by 30.
    halfway_days : (float, float)
        ``saturating`` only: days to close half the gap between the level and the
        ceiling.
    monthly_change : (float, float)
        ``random_walk`` only: the factor by which the trend moves the level in 30
        days (0.5 = halves, 2 = doubles).
    wander : (float, float)
        Unexplained month-to-month movement of the level around its trend, as a
        fraction (0.1 = typically 10% in 30 days).
    source_bias : (float, float)
        For a typical source without a declared bias: claimed / true.
    projection_bias : (float, float)
        Forward projections' extra ratio projected / actual, beyond their source's bias.
    projection_noise : (float, float)
        Forward projections' extra error (sd of the log) for a target 30 days ahead;
        it grows with the square root of the lead time.
    """

    level: tuple[float, float] | None = None
    ceiling: tuple[float, float] | None = None
    halfway_days: tuple[float, float] = (7.0, 180.0)
    monthly_change: tuple[float, float] = (0.5, 2.0)
    wander: tuple[float, float] = (0.04, 0.4)
    source_bias: tuple[float, float] = (0.67, 1.5)
    projection_bias: tuple[float, float] = (0.67, 1.5)
    projection_noise: tuple[float, float] = (0.05, 0.6)

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            ok = isinstance(v, (list, tuple)) and len(v) == 2 and all(is_finite_number(x) and x > 0 for x in v)
            if not ok or v[0] >= v[1]:
                raise CaseError(f"got {v!r}", entry="priors", field=f.name, value=v,
                                expected="a 90% range [low, high] of positive numbers with low < high")
            object.__setattr__(self, f.name, (float(v[0]), float(v[1])))

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _per_day(monthly: tuple[float, float]) -> tuple[float, float]:
    # a random walk's sd over 30 days is sqrt(30) times its daily sd
    return monthly[0] - 0.5 * math.log(30), monthly[1]


def _claim_figures(case) -> list[float]:
    figs = []
    for r in case.active_reports:
        figs.append(math.sqrt(r.low * r.high) if r.claim == "between" else r.value)
    return figs


def resolve(case) -> dict:
    """Turn a case's plain-terms priors into the numbers the model uses.

    Returns a dict of named (mu, sigma) pairs on the log scale, plus the ranges
    they came from, so outputs can state every prior in plain terms.
    """
    p = case.priors
    figs = sorted(_claim_figures(case))
    median = figs[len(figs) // 2]
    level = p.level or (median / 30, median * 30)
    centre = math.sqrt(median * figs[-1])
    ceiling = p.ceiling or (centre / 30, centre * 30)
    out = {
        "level": log_normal_from_range(*level),
        "ceiling": log_normal_from_range(*ceiling),
        "halfway_days": log_normal_from_range(*p.halfway_days),
        # per-day drift of the log-level
        "drift": tuple(v / 30 for v in log_normal_from_range(*p.monthly_change)),
        # per-day sd of the log-level's innovations
        "wander": _per_day(log_normal_from_range(*p.wander)),
        # pooled sources' log(claimed/true) ~ Normal(centre, scale); the scale itself
        # is uncertain (log-sd 0.5) so sources partially pool, but never to zero.
        "source_bias": log_normal_from_range(*p.source_bias),
        "source_bias_scale_spread": 0.5,
        "projection_bias": log_normal_from_range(*p.projection_bias),
        "projection_noise": log_normal_from_range(*p.projection_noise),
    }
    ranges = {
        "level": level, "ceiling": ceiling, "halfway_days": p.halfway_days,
        "monthly_change": p.monthly_change, "wander": p.wander, "source_bias": p.source_bias,
        "projection_bias": p.projection_bias, "projection_noise": p.projection_noise,
    }
    return {"params": out, "ranges": ranges,
            "defaults_from_claims": [k for k in ("level", "ceiling") if getattr(p, k) is None]}
