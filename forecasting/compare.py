"""Model comparison of fitted forecasts by PSIS-LOO (ArviZ)."""

from __future__ import annotations


def compare(forecasts: dict):
    """Rank fits of the same claims by expected log predictive density (PSIS-LOO).

    Parameters
    ----------
    forecasts : dict of name -> Forecast
        Fits of the same reports (e.g. the two trajectory priors).

    Returns
    -------
    pandas.DataFrame
        ArviZ's comparison table: ``elpd_loo``, ``p_loo``, ``elpd_diff``, ``weight``,
        ``se``, ``dse`` and ``warning`` (True where Pareto k is high and the
        estimate is unreliable), best model first.
    """
    import arviz as az

    ids = {name: f.idata for name, f in forecasts.items()}
    n = {f.design.n_reports for f in forecasts.values()}
    if len(n) != 1:
        raise ValueError("compare needs fits of the same reports")
    import warnings

    with warnings.catch_warnings():
        # ArviZ warns when Pareto k is high; the table's `warning` column says so.
        warnings.simplefilter("ignore", UserWarning)
        # ArviZ 0.x sorts with pandas' deprecated `inplace`; not ours to fix
        warnings.filterwarnings("ignore", message="The inplace keyword")
        return az.compare(ids, ic="loo", var_name="claims")
