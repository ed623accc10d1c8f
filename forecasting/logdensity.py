"""The model's log density and its gradient, compiled once with numba.

This is the same density as :func:`forecasting.model.build_model` (the PyMC
model is the definition; ``tests/test_logdensity.py`` checks the two agree to
1e-9 at random points, gradients included), written out by hand so that:

* it compiles once per machine (numba's on-disk cache), not once per case or
  per refit: a new case, a new report or a new ``as_of`` only changes the data
  arrays passed in, so a warm refit starts sampling at once;
* one evaluation costs microseconds, linear in reports and reading days
  (reverse-mode gradient of the Kalman filter, no computation graph).

Unconstrained parameter vector, in this order (PyMC's value variables):
``log(wander)``, then ``drift`` (random walk) or ``log_ceiling, log(halfway_days)``
(saturating), ``bias_z[R]`` (sources sampled non-centred), ``log(bias_scale)``, then for the C
sources sampled centred ``bias_mean`` and ``bias_dev`` (C - 1 free values of a zero-sum vector,
PyMC's ``ZeroSumNormal`` transform), ``log_noise[S]``,
then ``projection_bias, log(projection_noise)`` if the case has projections,
then ``log_share[Q]`` if it has subset quantities (:mod:`forecasting.quantities`),
then one latent value per bound or range (``claim_latent_raw[C]``).
"""

from __future__ import annotations

import math

import numpy as np

from .model import KIND_CODE, NOISE_POOL_SD, Design, latent_scale

try:  # numba comes with nutpie; without it the fast path is unavailable
    import numba

    _jit = numba.njit(cache=True, fastmath=False, error_model="numpy")
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None

    def _jit(f):
        return f

LOG_2PI = math.log(2 * math.pi)
LN2 = math.log(2.0)

# columns of the per-report float table
Y, LO, HI, LEAD30, IS_PROJ, LOG_WIDTH, KAPPA = range(7)
# columns of the per-report int table (SHARE: subset quantity's share index, -1 for none)
SRC, DAY, CENS, SHARE = range(4)
# columns of the per-source table
# (POS: the source's place among the non-centred or among the centred sources)
DECLARED, OWN_MU, OWN_SD, NOISE_LOG_MEDIAN, NOISE_LOG_SD, CENTRED, POS = range(7)
# entries of the settings vector
(KIND, N_SRC, HAS_PROJ, M0, V0, W_MU, W_SD, T1_MU, T1_SD, T2_MU, T2_SD, POOL_MU, BS_MU, BS_SD,
 PB_MU, PB_SD, PN_MU, PN_SD, N_SHARE) = range(19)
SHARE0 = 19  # then (mu, sd) of each log(share): settings has 19 + 2 * Q entries


def pack(d: Design) -> dict:
    """The design as the flat arrays the compiled density reads."""
    if d.kind not in ("random_walk", "saturating"):
        raise ValueError(f"unknown trajectory kind {d.kind!r}")
    P = d.priors["params"]
    n = d.n_reports
    cens = d.censored
    cens_of = np.full(n, -1, np.int64)
    cens_of[cens] = np.arange(len(cens))
    reports = np.zeros((n, 7))
    reports[:, Y] = np.nan_to_num(d.y)
    reports[:, LO] = d.lower
    reports[:, HI] = d.upper
    reports[:, LEAD30] = d.lead / 30.0
    reports[:, IS_PROJ] = d.claim == KIND_CODE["projection"]
    with np.errstate(invalid="ignore"):  # inf - inf for open bounds: NaN, skipped below
        width = d.upper - d.lower
    # log(hi - lo) of ranges, computed once here, not in every evaluation
    np.log(width, out=reports[:, LOG_WIDTH], where=np.isfinite(width) & (width > 0))
    reports[:, KAPPA] = np.where(np.isfinite(d.lower) & np.isfinite(d.upper), 1.0, latent_scale(d))
    share = d.report_share if len(d.report_share) == n else np.full(n, -1)
    index = np.stack([d.source, d.reading_pos, cens_of, share], axis=1).astype(np.int64)
    # rows grouped by kind of claim (point, range, lower bound, upper bound), by day within each: the
    # density's branches then go the same way for long runs, which at 10,000 mixed reports is most of its cost
    lo_open, hi_open = ~np.isfinite(reports[:, LO]), ~np.isfinite(reports[:, HI])
    kind = np.where(cens_of < 0, 0, np.where(~lo_open & ~hi_open, 1, np.where(hi_open, 2, 3)))
    order = np.lexsort((index[:, DAY], kind))
    reports, index = reports[order], index[order]
    S = len(d.source_names)
    sources = np.zeros((S, 7))
    sources[:, DECLARED] = d.source_declared_bias
    sources[:, OWN_MU] = d.source_bias_prior[:, 0]
    sources[:, OWN_SD] = np.where(d.source_declared_bias, d.source_bias_prior[:, 1], 1.0)
    sources[:, NOISE_LOG_MEDIAN] = np.log(d.source_noise_prior[:, 0])
    sources[:, NOISE_LOG_SD] = d.source_noise_prior[:, 1]
    centred = d.source_centred
    sources[:, CENTRED] = centred
    sources[:, POS] = np.where(centred, np.cumsum(centred) - 1, np.cumsum(~centred) - 1)
    gaps = np.diff(np.concatenate([[0], d.reading_days])).astype(float)
    t1, t2 = (P["drift"], (0.0, 1.0)) if d.kind == "random_walk" else (P["ceiling"], P["halfway_days"])
    settings = np.array([
        0.0 if d.kind == "random_walk" else 1.0, S, float(d.has_projections),
        P["level"][0], P["level"][1] ** 2, *P["wander"], *t1, *t2,
        P["source_bias"][0], math.log(P["source_bias"][1]), P["source_bias_scale_spread"],
        *P.get("projection_bias", (0.0, 1.0)), *P.get("projection_noise", (0.0, 1.0)),
        len(d.share_names), *np.asarray(d.share_prior, float).reshape(-1),
    ], float)
    return {"reports": reports, "index": index, "sources": sources, "gaps": gaps, "settings": settings,
            "n_days": np.int64(len(d.reading_days))}


def n_params(d: Design) -> int:
    """Length of the unconstrained parameter vector."""
    trend = 2 if d.kind == "random_walk" else 3
    return trend + 2 * len(d.source_names) + 1 + 2 * d.has_projections + len(d.share_names) + len(d.censored)


def param_slices(d: Design) -> dict:
    """Where each of PyMC's value variables sits in the parameter vector."""
    S = len(d.source_names)
    names = (["wander_log__", "drift"] if d.kind == "random_walk"
             else ["wander_log__", "log_ceiling", "halfway_days_log__"])
    out, i = {}, 0
    for name in names:
        out[name] = slice(i, i + 1)
        i += 1
    C = int(d.source_centred.sum())
    blocks = (("bias_z", S - C), ("bias_scale_log__", 1), ("bias_mean", 1 if C else 0),
              ("bias_dev_zerosum__", C - 1 if C else 0), ("log_noise", S))
    for name, size in blocks:
        if not size:
            continue
        out[name] = slice(i, i + size)
        i += size
    if d.has_projections:
        out["projection_bias"] = slice(i, i + 1)
        out["projection_noise_log__"] = slice(i + 1, i + 2)
        i += 2
    if d.has_shares:
        out["log_share"] = slice(i, i + len(d.share_names))
        i += len(d.share_names)
    if len(d.censored):
        out["claim_latent_raw"] = slice(i, i + len(d.censored))
    return out


@_jit
def _normal(u, mu, sd, grad, i):
    z = (u - mu) / sd
    grad[i] += -z / sd
    return -0.5 * (LOG_2PI + z * z) - math.log(sd)


if numba is not None:
    # contraction into fused multiply-adds only: no reassociation, no NaN/inf assumptions
    _jit_vector = numba.njit(cache=True, error_model="numpy", fastmath={"contract"})
else:  # pragma: no cover
    _jit_vector = _jit

LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two so that k * LN2_HI is exact (fdlibm's constants)
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.0 / LN2


@_jit_vector
def _exp_nonpositive(x, out, bits):
    """exp(x) for x <= 0, elementwise, within 1 ulp of libm down to x = -708 (then exp(-708)).

    Written without calls or branches so that LLVM vectorises it: at 7,500 bounds this and
    :func:`_log1p_unit` take 17 us against 99 us for the loop over ``math.exp`` and ``math.log``.
    """
    for i in range(x.shape[0]):
        xi = max(x[i], -708.0)
        k = math.floor(xi * INV_LN2 + 0.5)
        r = (xi - k * LN2_HI) - k * LN2_LO  # |r| <= ln(2) / 2: Taylor to r^13 is exact to 4e-18
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        out[i] = p * r + 1.0
        bits[i] = (np.int64(k) + 1023) << 52  # 2**k, built from its exponent bits
    scale = bits.view(np.float64)
    for i in range(x.shape[0]):
        out[i] *= scale[i]


@_jit_vector
def _log1p_unit(e, out):
    """log(1 + e) for e in [0, 1], elementwise: 2 atanh(s) with s = e / (2 + e) <= 1/3 (series to s^33)."""
    for i in range(e.shape[0]):
        s = e[i] / (2.0 + e[i])
        s2 = s * s
        p = 1.0 / 33.0
        p = p * s2 + 1.0 / 31.0
        p = p * s2 + 1.0 / 29.0
        p = p * s2 + 1.0 / 27.0
        p = p * s2 + 1.0 / 25.0
        p = p * s2 + 1.0 / 23.0
        p = p * s2 + 1.0 / 21.0
        p = p * s2 + 1.0 / 19.0
        p = p * s2 + 1.0 / 17.0
        p = p * s2 + 1.0 / 15.0
        p = p * s2 + 1.0 / 13.0
        p = p * s2 + 1.0 / 11.0
        p = p * s2 + 1.0 / 9.0
        p = p * s2 + 1.0 / 7.0
        p = p * s2 + 1.0 / 5.0
        p = p * s2 + 1.0 / 3.0
        p = p * s2 + 1.0
        out[i] = 2.0 * s * p


@_jit
def _latent_terms(theta, i_lat, reports, index, j0):
    """For the bounds' and ranges' rows (j0 onwards): v (u, or u / kappa), e = exp(-|v|), log(1 + e).

    The transcendental functions of every latent at once, vectorised, before the loop over reports.
    """
    m = reports.shape[0] - j0
    v = np.empty(m)
    neg = np.empty(m)
    for i in range(m):
        j = j0 + i
        v[i] = theta[i_lat + index[j, CENS]] / reports[j, KAPPA]
        neg[i] = -abs(v[i])
    e = np.empty(m)
    _exp_nonpositive(neg, e, np.empty(m, np.int64))
    l1 = np.empty(m)
    _log1p_unit(e, l1)
    return v, e, l1


@_jit
def _latent(u, lo, hi, log_width, kappa, v, e, l1):
    """A bound's or range's latent reading from its free value: (y, dy/du, log Jacobian, its derivative).

    ``v, e, l1``: u / kappa (u for a range), exp(-|v|) and log(1 + e), from :func:`_latent_terms`.
    """
    small = e / (1.0 + e)
    if v >= 0:
        sg, sgm = 1.0 - small, small
    else:
        sg, sgm = small, 1.0 - small
    if math.isfinite(lo) and math.isfinite(hi):
        # logistic: sigmoid(u), sigmoid(-u) and their logs from the one exp, stable in both tails
        width = hi - lo
        return lo + width * sg, width * sg * sgm, log_width - abs(u) - 2.0 * l1, sgm - sg
    # kappa * softplus(u / kappa) beyond the bound (see model.latent_scale); its log Jacobian is log sigmoid(v)
    if v >= 0:
        sp, log_sg = v + l1, -l1
    else:
        sp, log_sg = l1, v - l1
    d_log_sg = sgm / kappa
    if math.isfinite(lo):
        return lo + kappa * sp, sg, log_sg, d_log_sg
    return hi - kappa * sp, -sg, log_sg, d_log_sg


@_jit
def _blocks(start, sources):
    """Number of centred sources and where each bias block starts in theta."""
    S = sources.shape[0]
    C = 0
    for s in range(S):
        if sources[s, CENTRED] > 0.5:
            C += 1
    i_bz = start
    i_bs = i_bz + S - C
    i_bm = i_bs + 1
    i_bd = i_bm + (1 if C > 0 else 0)
    i_nz = i_bd + (C - 1 if C > 0 else 0)
    return C, i_bz, i_bs, i_bm, i_bd, i_nz


@_jit
def _zero_sum(theta, i0, n):
    """PyMC's ZeroSumTransform backward: n - 1 free values -> n values summing to zero (an isometry)."""
    dev = np.zeros(n)
    if n == 0:
        return dev
    su = 0.0
    for k in range(n - 1):
        su += theta[i0 + k]
    rn = math.sqrt(n)
    norm = su / (rn + n)
    for k in range(n - 1):
        dev[k] = theta[i0 + k] - norm
    dev[n - 1] = -su / rn
    return dev


@_jit
def _biases(theta, sources, pool_mu, i_bz, i_bs, i_bm, i_bd, C):
    """Every source's log bias: declared (own prior), pooled non-centred, or pooled centred (mean + zero-sum)."""
    S = sources.shape[0]
    bias_scale = math.exp(theta[i_bs])
    dev = _zero_sum(theta, i_bd, C)
    bias = np.empty(S)
    for s in range(S):
        pos = int(sources[s, POS])
        if sources[s, CENTRED] > 0.5:
            bias[s] = theta[i_bm] + dev[pos]
        elif sources[s, DECLARED] > 0.5:
            bias[s] = sources[s, OWN_MU] + sources[s, OWN_SD] * theta[i_bz + pos]
        else:
            bias[s] = pool_mu + bias_scale * theta[i_bz + pos]
    return bias, dev


@_jit
def _log_noise_prior(theta, sources, i0, grad):
    # MvNormal(median, diag(spread^2) + pool^2) by Sherman-Morrison: O(S), no matrix
    S = sources.shape[0]
    c = NOISE_POOL_SD * NOISE_POOL_SD
    a = 0.0
    b = 0.0
    quad = 0.0
    logdet = 0.0
    for s in range(S):
        d = sources[s, NOISE_LOG_SD] ** 2
        r = theta[i0 + s] - sources[s, NOISE_LOG_MEDIAN]
        a += r / d
        b += 1.0 / d
        quad += r * r / d
        logdet += math.log(d)
    k = c / (1.0 + c * b)
    for s in range(S):
        d = sources[s, NOISE_LOG_SD] ** 2
        r = theta[i0 + s] - sources[s, NOISE_LOG_MEDIAN]
        grad[i0 + s] -= (r - k * a) / d
    return -0.5 * (S * LOG_2PI + logdet + math.log(1.0 + c * b) + quad - k * a * a)


@_jit
def logp_grad(theta, reports, index, sources, gaps, settings, n_days):  # noqa: C901 - one pass, kept together
    """Log density and gradient at ``theta`` (see the module docstring for the layout)."""
    n = reports.shape[0]
    S = sources.shape[0]
    K = n_days
    grad = np.zeros(theta.shape[0])
    saturating = settings[KIND] > 0.5
    has_proj = settings[HAS_PROJ] > 0.5

    # --- parameters and their priors (Normal on the unconstrained scale) ---
    lp = _normal(theta[0], settings[W_MU], settings[W_SD], grad, 0)
    wander2 = math.exp(2.0 * theta[0])
    lp += _normal(theta[1], settings[T1_MU], settings[T1_SD], grad, 1)
    i = 2
    if saturating:
        lp += _normal(theta[2], settings[T2_MU], settings[T2_SD], grad, 2)
        i = 3
    C, i_bz, i_bs, i_bm, i_bd, i_nz = _blocks(i, sources)
    i_pb = i_nz + S
    i_sh = i_pb + (2 if has_proj else 0)
    Q = int(settings[N_SHARE])
    i_lat = i_sh + Q
    for q in range(Q):
        lp += _normal(theta[i_sh + q], settings[SHARE0 + 2 * q], settings[SHARE0 + 2 * q + 1], grad, i_sh + q)
    lp += _normal(theta[i_bs], settings[BS_MU], settings[BS_SD], grad, i_bs)
    bias_scale = math.exp(theta[i_bs])
    for k in range(S - C):
        lp += _normal(theta[i_bz + k], 0.0, 1.0, grad, i_bz + k)
    bias, dev = _biases(theta, sources, settings[POOL_MU], i_bz, i_bs, i_bm, i_bd, C)
    g_dev = np.zeros(C)
    if C > 0:
        # mean of the centred biases ~ Normal(centre, scale / sqrt(C)); deviations ~ ZeroSumNormal(scale)
        sd_m = bias_scale / math.sqrt(C)
        z = (theta[i_bm] - settings[POOL_MU]) / sd_m
        lp += -0.5 * (LOG_2PI + z * z) - math.log(sd_m)
        grad[i_bm] -= z / sd_m
        grad[i_bs] += z * z - 1.0
        ss = 0.0
        for k in range(C):
            ss += dev[k] * dev[k]
            g_dev[k] = -dev[k] / (bias_scale * bias_scale)
        lp += -0.5 * ss / (bias_scale * bias_scale) - (C - 1) * (0.5 * LOG_2PI + theta[i_bs])
        grad[i_bs] += ss / (bias_scale * bias_scale) - (C - 1)
    lp += _log_noise_prior(theta, sources, i_nz, grad)
    pb = 0.0
    pn2 = 0.0
    if has_proj:
        lp += _normal(theta[i_pb], settings[PB_MU], settings[PB_SD], grad, i_pb)
        lp += _normal(theta[i_pb + 1], settings[PN_MU], settings[PN_SD], grad, i_pb + 1)
        pb = theta[i_pb]
        pn2 = math.exp(2.0 * theta[i_pb + 1])

    noise = np.empty(S)
    src_prec = np.empty(S)  # a report's precision is its source's unless it is a projection
    for s in range(S):
        noise[s] = math.exp(theta[i_nz + s])
        src_prec[s] = 1.0 / (noise[s] * noise[s])

    # --- each report's reading (value less offsets) and precision, merged per day into one
    # precision-weighted reading (exact); transcendental calls per report are the cost at
    # 10,000 reports, so there are none beyond the bounds' own transform ---
    zj = np.empty(n)
    prec = np.empty(n)
    dy_du = np.zeros(n)
    W = np.zeros(K)
    Sw = np.zeros(K)
    j0 = n - (theta.shape[0] - i_lat)  # rows are packed points first, then bounds and ranges
    v, e, l1 = _latent_terms(theta, i_lat, reports, index, j0)
    for j in range(n):
        s = index[j, SRC]
        c = index[j, CENS]
        if c < 0:
            y = reports[j, Y]
        else:
            y, dy_du[j], log_jac, d_log_jac = _latent(theta[i_lat + c], reports[j, LO], reports[j, HI],
                                                      reports[j, LOG_WIDTH], reports[j, KAPPA],
                                                      v[j - j0], e[j - j0], l1[j - j0])
            lp += log_jac
            grad[i_lat + c] += d_log_jac
        proj = reports[j, IS_PROJ]
        zj[j] = y - bias[s] - proj * pb
        if index[j, SHARE] >= 0:
            zj[j] -= theta[i_sh + index[j, SHARE]]
        if proj > 0.5:
            prec[j] = 1.0 / (noise[s] * noise[s] + pn2 * reports[j, LEAD30])
        else:
            prec[j] = src_prec[s]
        k = index[j, DAY]
        W[k] += prec[j]
        Sw[k] += zj[j] * prec[j]
    M = Sw / W  # each report's own term, given M, is added in the reverse pass below
    for k in range(K):
        lp += 0.5 * (LOG_2PI - math.log(W[k]))

    # --- Kalman filter over reading days (forward, keeping what the gradient needs) ---
    a = np.empty(K)
    q = np.empty(K)
    c_ = np.empty(K)
    log_ceiling = theta[1]
    if saturating:
        L = LN2 * math.exp(-theta[2])
        phi = math.exp(-L)
        denom = 1.0 - phi * phi
    else:
        L = 0.0
        phi = 0.0
        denom = 1.0
    for k in range(K):
        g = gaps[k]
        if saturating:
            a[k] = math.exp(-L * g)
            c_[k] = (1.0 - a[k]) * log_ceiling
            q[k] = wander2 * (1.0 - a[k] * a[k]) / denom
        else:
            a[k] = 1.0
            c_[k] = theta[1] * g
            q[k] = wander2 * g
    m_prev = np.empty(K)
    p_prev = np.empty(K)
    mp = np.empty(K)
    pp = np.empty(K)
    sv = np.empty(K)
    ev = np.empty(K)
    m = settings[M0]
    p = settings[V0]
    for k in range(K):
        m_prev[k] = m
        p_prev[k] = p
        mp[k] = a[k] * m + c_[k]
        pp[k] = a[k] * a[k] * p + q[k]
        R = 1.0 / W[k]
        sv[k] = pp[k] + R
        ev[k] = M[k] - mp[k]
        lp += -0.5 * (LOG_2PI + math.log(sv[k]) + ev[k] * ev[k] / sv[k])
        m = mp[k] + pp[k] / sv[k] * ev[k]
        p = pp[k] * R / sv[k]

    # --- reverse pass through the filter ---
    dM = np.zeros(K)
    dW = np.zeros(K)
    g_wander2 = 0.0
    g_t1 = 0.0
    g_L = 0.0
    g_phi = 0.0
    gm = 0.0
    gp = 0.0
    for k in range(K - 1, -1, -1):
        R = 1.0 / W[k]
        s_ = sv[k]
        e_ = ev[k]
        ds = -0.5 * (1.0 / s_ - e_ * e_ / (s_ * s_))
        de = -e_ / s_
        dmp = gm
        dpp = gm * e_ / s_
        de += gm * pp[k] / s_
        ds += -gm * pp[k] * e_ / (s_ * s_)
        dpp += gp * R / s_
        dR = gp * pp[k] / s_
        ds += -gp * pp[k] * R / (s_ * s_)
        dpp += ds
        dR += ds
        dM[k] += de
        dmp -= de
        da = dmp * m_prev[k] + dpp * 2.0 * a[k] * p_prev[k]
        dc = dmp
        dq = dpp
        gm = dmp * a[k]
        gp = dpp * a[k] * a[k]
        dW[k] += -dR * R * R
        g = gaps[k]
        if saturating:
            g_t1 += dc * (1.0 - a[k])
            da += -dc * log_ceiling
            g_wander2 += dq * (1.0 - a[k] * a[k]) / denom
            da += dq * wander2 * (-2.0 * a[k]) / denom
            g_phi += dq * wander2 * (1.0 - a[k] * a[k]) * 2.0 * phi / (denom * denom)
            g_L += da * (-g * a[k])
        else:
            g_t1 += dc * g
            g_wander2 += dq * g
    grad[0] += g_wander2 * 2.0 * wander2
    grad[1] += g_t1
    if saturating:
        g_L += g_phi * (-phi)
        grad[2] += g_L * (-L)

    # --- reverse pass through the day merge: d/dz_j and d/dvar_j ---
    # (the within-day term is stationary in M, so M's own derivative there is 0)
    dS = np.empty(K)
    for k in range(K):
        dW[k] += -0.5 / W[k] - dM[k] * M[k] / W[k]
        dS[k] = dM[k] / W[k]
    g_bias = np.zeros(S)
    g_noise = np.zeros(S)
    g_pb = 0.0
    g_pn2 = 0.0
    for j in range(n):
        k = index[j, DAY]
        s = index[j, SRC]
        w = prec[j]
        r = zj[j] - M[k]
        # log(var) is 2 log(noise) unless a projection adds lead-time error
        log_var = -math.log(w) if reports[j, IS_PROJ] > 0.5 else 2.0 * theta[i_nz + s]
        lp += -0.5 * (LOG_2PI + log_var) - 0.5 * r * r * w
        dz = -w * r + dS[k] * w
        dw = -0.5 * r * r + dW[k] + dS[k] * zj[j]
        dv = -0.5 * w - dw * w * w
        c = index[j, CENS]
        if c >= 0:
            grad[i_lat + c] += dz * dy_du[j]
        g_bias[s] -= dz
        if index[j, SHARE] >= 0:
            grad[i_sh + index[j, SHARE]] -= dz
        proj = reports[j, IS_PROJ]
        g_pb -= proj * dz
        g_noise[s] += dv * 2.0 * noise[s]
        g_pn2 += dv * proj * reports[j, LEAD30]

    for s in range(S):
        pos = int(sources[s, POS])
        if sources[s, CENTRED] > 0.5:
            grad[i_bm] += g_bias[s]
            g_dev[pos] += g_bias[s]
        elif sources[s, DECLARED] > 0.5:
            grad[i_bz + pos] += g_bias[s] * sources[s, OWN_SD]
        else:
            grad[i_bz + pos] += g_bias[s] * bias_scale
            grad[i_bs] += g_bias[s] * theta[i_bz + pos] * bias_scale
        grad[i_nz + s] += g_noise[s] * noise[s]
    if C > 1:  # through the zero-sum transform to its free values
        rn = math.sqrt(C)
        head = 0.0
        for k in range(C - 1):
            head += g_dev[k]
        for k in range(C - 1):
            grad[i_bd + k] += g_dev[k] - head / (rn + C) - g_dev[C - 1] / rn
    if has_proj:
        grad[i_pb] += g_pb
        grad[i_pb + 1] += g_pn2 * 2.0 * pn2
    return lp, grad


def initial_point(d: Design, data: dict, rng: np.random.Generator) -> np.ndarray:
    """Prior centres on the unconstrained scale, jittered by U(-1, 1) as PyMC does."""
    st = data["settings"]
    theta = np.zeros(n_params(d))
    sl = param_slices(d)
    theta[sl["wander_log__"]] = st[W_MU]
    if d.kind == "random_walk":
        theta[sl["drift"]] = st[T1_MU]
    else:
        theta[sl["log_ceiling"]] = st[T1_MU]
        theta[sl["halfway_days_log__"]] = st[T2_MU]
    theta[sl["bias_scale_log__"]] = st[BS_MU]
    if "bias_mean" in sl:
        theta[sl["bias_mean"]] = st[POOL_MU]
    theta[sl["log_noise"]] = data["sources"][:, NOISE_LOG_MEDIAN]
    if d.has_projections:
        theta[sl["projection_bias"]] = st[PB_MU]
        theta[sl["projection_noise_log__"]] = st[PN_MU]
    if d.has_shares:
        theta[sl["log_share"]] = st[SHARE0:SHARE0 + 2 * len(d.share_names):2]
    return theta + rng.uniform(-1.0, 1.0, theta.shape)


@_jit
def _readings(theta, reports, index, sources, settings, n_days, out):
    """Write the expanded posterior variables for one draw into ``out`` (see :func:`expanded_layout`)."""
    n = reports.shape[0]
    S = sources.shape[0]
    K = n_days
    saturating = settings[KIND] > 0.5
    has_proj = settings[HAS_PROJ] > 0.5
    C, i_bz, i_bs, i_bm, i_bd, i_nz = _blocks(3 if saturating else 2, sources)
    i_pb = i_nz + S
    i_sh = i_pb + (2 if has_proj else 0)
    i_lat = i_sh + int(settings[N_SHARE])
    j0 = n - (theta.shape[0] - i_lat)
    v, e, l1 = _latent_terms(theta, i_lat, reports, index, j0)
    # the parameters themselves, on their natural scale; the bounds' latent readings only
    # when ``out`` has room for them (see MAX_STORED_LATENTS)
    n_theta = theta.shape[0] if out.shape[0] == theta.shape[0] + 2 * S + 2 * K else i_lat
    for i in range(n_theta):
        out[i] = theta[i]
    out[0] = math.exp(theta[0])
    if saturating:
        out[2] = math.exp(theta[2])
    out[i_bs] = math.exp(theta[i_bs])
    pb = 0.0
    pn2 = 0.0
    if has_proj:
        out[i_pb + 1] = math.exp(theta[i_pb + 1])
        pb = theta[i_pb]
        pn2 = math.exp(2.0 * theta[i_pb + 1])
    o = n_theta
    bias, _ = _biases(theta, sources, settings[POOL_MU], i_bz, i_bs, i_bm, i_bd, C)
    for s in range(S):
        out[o + s] = bias[s]
        out[o + S + s] = math.exp(theta[i_nz + s])
    o_mean = o + 2 * S
    o_var = o_mean + K
    for k in range(K):
        out[o_mean + k] = 0.0
        out[o_var + k] = 0.0
    for j in range(n):
        s = index[j, SRC]
        c = index[j, CENS]
        if c < 0:
            y = reports[j, Y]
        else:
            y = _latent(theta[i_lat + c], reports[j, LO], reports[j, HI], reports[j, LOG_WIDTH],
                        reports[j, KAPPA], v[j - j0], e[j - j0], l1[j - j0])[0]
        proj = reports[j, IS_PROJ]
        var = out[o + S + s] ** 2 + proj * pn2 * reports[j, LEAD30]
        k = index[j, DAY]
        if index[j, SHARE] >= 0:
            y -= theta[i_sh + index[j, SHARE]]
        out[o_var + k] += 1.0 / var  # precision for now
        out[o_mean + k] += (y - out[o + s] - proj * pb) / var
    for k in range(K):
        out[o_mean + k] /= out[o_var + k]
        out[o_var + k] = 1.0 / out[o_var + k]


SCALARS = ("wander_log__", "drift", "log_ceiling", "halfway_days_log__", "bias_scale_log__", "bias_mean",
           "projection_bias", "projection_noise_log__")


MAX_STORED_LATENTS = 2000  # beyond, storing every bound's latent reading costs more memory than the fit


def stores_latents(d: Design) -> bool:
    """Whether the sampler keeps the bounds' latent readings (``claim_latent_raw``) in the posterior.

    They are nuisance parameters: nothing downstream reads them, but with few of them
    their R-hat and ESS are cheap extra convergence checks. With 7,500 bounds they were
    most of the memory of a fit (4 chains x 2,000 iterations x 7,500 doubles, twice).
    """
    return len(d.censored) <= MAX_STORED_LATENTS


def expanded_layout(d: Design, latents: bool = True) -> tuple[list, list]:
    """Names and shapes of the posterior variables, in the order :func:`_readings` writes them."""
    names, shapes = [], []
    for name, s in param_slices(d).items():
        if name == "claim_latent_raw" and not latents:
            continue
        size = s.stop - s.start
        names.append(name.replace("_log__", "").replace("_zerosum__", "_free"))
        shapes.append(() if name in SCALARS else (size,))
    S, K = len(d.source_names), len(d.reading_days)
    names += ["bias", "noise", "reading_mean", "reading_var"]
    shapes += [(S,), (S,), (K,), (K,)]
    return names, shapes


def expand(theta: np.ndarray, d: Design, data: dict, latents: bool = True) -> dict:
    """The posterior variables (as the PyMC model names them) at one parameter vector."""
    names, shapes = expanded_layout(d, latents=latents)
    flat = np.empty(sum(int(np.prod(s)) for s in shapes))
    _readings(theta, data["reports"], data["index"], data["sources"], data["settings"], data["n_days"], flat)
    out, i = {}, 0
    for name, shape in zip(names, shapes):
        size = int(np.prod(shape))
        out[name] = flat[i:i + size].reshape(shape) if shape else float(flat[i])
        i += size
    return out


# --- C entry points for nutpie: the sampler calls these without Python or the GIL ---

if numba is not None:
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def _as_pointer(typingctx, address):
        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], cgutils.voidptr_t)
        return types.voidptr(address), codegen

    @numba.njit(cache=True)
    def _unpack(user_data):
        # user_data: int64[10] = addresses and sizes of the packed arrays (u[9]: length of settings)
        u = numba.carray(user_data, (10,), np.int64)
        n, S, K = u[1], u[4], u[6]
        reports = numba.carray(_as_pointer(u[0]), (n, 7), np.float64)
        index = numba.carray(_as_pointer(u[2]), (n, 4), np.int64)
        sources = numba.carray(_as_pointer(u[3]), (S, 7), np.float64)
        gaps = numba.carray(_as_pointer(u[5]), (K,), np.float64)
        settings = numba.carray(_as_pointer(u[7]), (u[9],), np.float64)
        return reports, index, sources, gaps, settings, K, u[8]

    _LOGP_SIG = types.int64(types.uint64, types.CPointer(types.double), types.CPointer(types.double),
                            types.CPointer(types.double), types.voidptr)
    _EXPAND_SIG = types.int64(types.uint64, types.uint64, types.CPointer(types.double),
                              types.CPointer(types.double), types.voidptr)

    @numba.cfunc(_LOGP_SIG, cache=True, error_model="numpy")
    def _logp_c(dim, x_, out_, logp_, user_data):
        reports, index, sources, gaps, settings, K, n_expanded = _unpack(user_data)
        x = numba.carray(x_, (dim,))
        lp, grad = logp_grad(x, reports, index, sources, gaps, settings, K)
        if not math.isfinite(lp):
            return 4
        out = numba.carray(out_, (dim,))
        for i in range(dim):
            if not math.isfinite(grad[i]):
                return 3
            out[i] = grad[i]
        logp_[0] = lp
        return 0

    @numba.cfunc(_EXPAND_SIG, cache=True, error_model="numpy")
    def _expand_c(dim, expanded, x_, out_, user_data):
        reports, index, sources, gaps, settings, K, n_expanded = _unpack(user_data)
        if expanded != n_expanded:
            return -1
        x = numba.carray(x_, (dim,))
        out = numba.carray(out_, (expanded,))
        _readings(x, reports, index, sources, settings, K, out)
        return 0


def compile_nutpie(d: Design):
    """A nutpie model over the compiled density: nothing is compiled per case, only data change."""
    from nutpie.compile_pymc import CompiledPyMCModel

    data = {k: np.ascontiguousarray(v) for k, v in pack(d).items() if k != "n_days"}
    names, shapes = expanded_layout(d, latents=stores_latents(d))
    sizes = [int(np.prod(s)) for s in shapes]
    n_expanded = sum(sizes)
    user_data = np.array([data["reports"].ctypes.data, d.n_reports, data["index"].ctypes.data,
                          data["sources"].ctypes.data, len(d.source_names), data["gaps"].ctypes.data,
                          len(d.reading_days), data["settings"].ctypes.data, n_expanded, len(data["settings"])],
                         np.int64)
    full = {**data, "n_days": np.int64(len(d.reading_days))}
    slices, i = [], 0
    for size in sizes:
        slices.append(slice(i, i + size))
        i += size

    def initial_point_func(seed):
        return initial_point(d, full, np.random.default_rng(seed))

    dims = {n: ("source",) for n in ("log_noise", "bias", "noise")}
    dims.update(reading_mean=("reading_day",), reading_var=("reading_day",))
    coords = {"source": list(d.source_names), "reading_day": d.dates[d.reading_days]}
    if d.has_shares:
        dims["log_share"] = ("quantity",)
        coords["quantity"] = list(d.share_names)
    return CompiledPyMCModel(
        _n_dim=n_params(d), dims=dims, _coords=coords, _shapes=dict(zip(names, shapes)),
        compiled_logp_func=_logp_c, compiled_expand_func=_expand_c, initial_point_func=initial_point_func,
        shared_data=data,  # keeps the arrays alive while the sampler reads them through user_data
        user_data=user_data, n_expanded=n_expanded, shape_info=(names, slices, shapes),
        logp_func=None, expand_func=None)
