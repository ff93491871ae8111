"""DINEOF, Data Interpolating Empirical Orthogonal Functions: sstfill's own implementation.

Beckers & Rixen (2003, J. Atmos. Oceanic Technol. 20, 1839-1856); Alvera-Azcárate et al.
(2005, Ocean Modelling 9, 325-346). numpy and scipy only.

The gappy daily fields become a matrix X (observed ocean pixels x days) of anomalies about
the mean of all valid values, divided by their standard deviation (one scale factor: it
changes the conditioning, not the result). Unknown entries start at 0, the mean. A random
~3 % of the valid entries (seeded) is set aside for cross-validation and treated as
unknown. For k = 1, 2, ... modes, the unknown entries are replaced by the rank-k truncated
SVD of X, again and again, until they change by less than ``tol`` (relative 2-norm) or
``max_iter`` iterations have run; each k starts from the matrix k - 1 left. The RMSE at the
cross-validation points picks the number of modes k* (a further mode must lower it by more
than tol times the data's standard deviation, the accuracy each k is iterated to; the search
stops once ``patience`` further modes have not); the whole reconstruction is then redone,
modes 1..k*, with the cross-validation points put back as data. Valid entries come back
untouched.

What the matrix cannot hold:

- A day without any valid ocean value is a column of unknowns: its temporal EOF values
  cannot be estimated. It is left out of the matrix; its output is NaN and
  :func:`dineof_monthly` leaves it out of the monthly mean.
- A pixel never valid on any day is a row of unknowns. Classic DINEOF cannot estimate it:
  the pixel's spatial EOF value is the projection of its own row, which starts at 0 and so
  stays 0 (the mean) however long the iteration runs. Such rows are left out of the
  matrix; with ``fill_unseen=True`` (default) the reconstruction is extended into them,
  day by day, by normalised convolution from the observed ocean
  (:func:`sstfill.data.baseline.fill_gaps`), which, that fill being linear, is the same as
  interpolating each spatial EOF from its neighbours. ``fill_unseen=False`` leaves them
  NaN, as other DINEOF implementations do.

Cost, for an m x n matrix (m observed ocean pixels, n days): one iteration is
O(m n min(m, n)): the Gram matrix of the shorter side, a partial eigendecomposition and a
projection (scipy's ``svds`` instead when both sides exceed ``GRAM_MAX``). For a month
n <= 31, so an iteration is O(1000 m) flops; a 128 x 128 x 31 month (60 % cloud) takes
about 0.5 s, 200 iterations in all, on one BLAS thread (see SINGLE_THREAD_MAX).
Memory is about 30 bytes per matrix entry (X, its reconstruction, the flat index of the
unknowns); ``max_entries`` (2e7 by default, about 0.6 GB) refuses larger matrices with
:class:`DineofTooLarge`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import asdict, dataclass

import numpy as np
from scipy.linalg import eigh
from scipy.sparse.linalg import svds

from sstfill.data.baseline import fill_gaps

log = logging.getLogger(__name__)

MAX_ENTRIES = 20_000_000
"""Default limit on pixels x days of the DINEOF matrix (about 0.6 GB of working memory)."""

GRAM_MAX = 2000
"""Above this on both sides of the matrix, the truncated SVD uses scipy's svds (ARPACK)."""

BYTES_PER_ENTRY = 30

SINGLE_THREAD_MAX = 2_000_000
"""Up to this many matrix entries (about 256 x 256 x 31), BLAS runs on one thread.
The products are then a few milliseconds each, threads gain little, and on a machine with
more busy threads than cores every one of the thousands of small products would wait for a
descheduled BLAS thread."""


class DineofTooLarge(ValueError):
    """The DINEOF matrix would exceed max_entries (pixels x days)."""


@dataclass(frozen=True)
class DineofResult:
    """Filled daily fields and what the reconstruction did."""

    # (T, H, W): valid values untouched, reconstruction elsewhere over ocean; NaN on land and dropped days
    filled: np.ndarray
    modes: int  # EOF modes retained: chosen by cross-validation, or as given
    cv_rmse: tuple[float, ...]  # cross-validation RMSE in data units for k = 1..len(cv_rmse); () when modes was given
    iterations: tuple[int, ...]  # iterations run for each k of the cross-validation pass
    final_iterations: tuple[int, ...]  # iterations run for each k of the final pass
    converged: bool  # every k of the final pass met tol within max_iter
    cv_points: int  # valid entries set aside for cross-validation
    matrix_shape: tuple[int, int]  # (observed ocean pixels, days kept)
    dropped_days: tuple[int, ...]  # days without any valid ocean value (NaN in filled)
    unseen_pixels: int  # ocean pixels never valid
    seconds: float

    def diagnostics(self) -> dict:
        """Everything but the filled fields, JSON-ready."""
        out = asdict(self)
        del out["filled"]
        return out


def dineof(days: np.ndarray, ocean: np.ndarray, *, modes: int | None = None, k_max: int = 20, patience: int = 3,
           cv_fraction: float = 0.03, tol: float = 1e-3, max_iter: int = 300, seed: int = 0, fill_unseen: bool = True,
           periodic_x: bool = False, max_entries: int | None = None) -> DineofResult:
    """Fill the gaps of daily fields (T, H, W) over ocean (H, W) by DINEOF.

    days: finite where valid, NaN where missing; values off ``ocean`` are ignored.
    modes: the number of EOF modes to use; None (default) chooses it by cross-validation
    among 1..k_max, stopping early once ``patience`` further modes have not lowered the
    cross-validation RMSE. cv_fraction: share of the valid entries set aside (at least one);
    seed: which ones. tol, max_iter: convergence of each k. fill_unseen, periodic_x: see the
    module docstring. Raises DineofTooLarge above max_entries matrix entries (None: the
    module's MAX_ENTRIES) and ValueError when there is nothing to work from.
    """
    began = time.perf_counter()
    days = np.asarray(days)
    ocean = np.asarray(ocean, dtype=bool)
    if days.ndim != 3 or ocean.shape != days.shape[1:]:
        raise ValueError(f"expected days (T, H, W) and ocean (H, W), found days {days.shape} and ocean {ocean.shape}")
    if modes is not None and modes < 1:
        raise ValueError(f"modes must be a positive integer or None, got {modes}")
    if k_max < 1 or patience < 1 or max_iter < 1 or not tol > 0 or not 0 <= cv_fraction < 1:
        raise ValueError(f"expected k_max, patience, max_iter >= 1, tol > 0 and 0 <= cv_fraction < 1, found "
                         f"k_max={k_max}, patience={patience}, max_iter={max_iter}, tol={tol}, "
                         f"cv_fraction={cv_fraction}")
    valid = np.isfinite(days) & ocean
    seen = valid.any(axis=0)
    kept = valid.reshape(len(days), -1).any(axis=1)
    m, n = int(seen.sum()), int(kept.sum())
    max_entries = MAX_ENTRIES if max_entries is None else max_entries
    if m * n == 0:
        raise ValueError("DINEOF needs valid ocean values, found none; check the period and the ocean mask")
    if m * n > max_entries:
        raise DineofTooLarge(
            f"DINEOF matrix of {m} pixels x {n} days = {m * n:.3g} entries exceeds max_entries = {max_entries:.3g} "
            f"(about {m * n * BYTES_PER_ENTRY / 1e9:.1f} GB of working memory); use a smaller domain or raise "
            "max_entries"
        )

    # The matrix: rows are the observed ocean pixels, columns the days kept, both in order.
    data = np.ascontiguousarray(days[kept][:, seen].T, dtype=np.float64)  # (m, n)
    known = valid[kept][:, seen].T
    centre = float(data[known].mean())
    scale = float(data[known].std()) or 1.0
    data = np.ascontiguousarray(np.where(known, (data - centre) / scale, 0.0))
    rng = np.random.default_rng(seed)
    cv_rmse: tuple[float, ...] = ()
    iterations: tuple[int, ...] = ()
    cv_points = 0
    with _blas_threads(m * n):
        if modes is None:
            modes, cv_rmse, iterations, cv_points = _cross_validate(data, known, k_max=k_max, patience=patience,
                                                                    cv_fraction=cv_fraction, tol=tol, max_iter=max_iter,
                                                                    rng=rng)
            log.debug("DINEOF cross-validation RMSE by modes: %s; chose %d",
                      ", ".join(f"{k}: {e * scale:.4f}" for k, e in enumerate(cv_rmse, 1)), modes)
        modes = min(modes, max(1, min(m, n) - 1))
        X = data  # the final pass: all valid entries as data, modes 1..k*
        unknown = np.flatnonzero(~known.reshape(-1))
        final_iterations: list[int] = []
        converged = True
        for k in range(1, modes + 1):
            its, ok = _iterate(X, unknown, k, tol, max_iter, rng)
            final_iterations.append(its)
            converged &= ok
    if not converged:
        log.warning("DINEOF did not converge to tol %g within %d iterations for every mode", tol, max_iter)

    dtype = np.result_type(days.dtype, np.float32)
    filled = np.full(days.shape, np.nan, dtype=dtype)
    kept_days = np.flatnonzero(kept)
    recon = (X * scale + centre).T  # (n, m)
    block = filled[kept_days]
    block[:, seen] = recon
    block[valid[kept_days]] = days[kept_days][valid[kept_days]]  # valid entries exactly as given
    unseen = ocean & ~seen
    if fill_unseen and unseen.any():
        for d in range(len(block)):
            block[d] = fill_gaps(block[d], ocean, periodic_x=periodic_x)
    filled[kept_days] = block
    seconds = time.perf_counter() - began
    log.debug("DINEOF %dx%d matrix, %d modes, %.2f s", m, n, modes, seconds)
    return DineofResult(filled=filled, modes=int(modes), cv_rmse=tuple(e * scale for e in cv_rmse),
                        iterations=iterations, final_iterations=tuple(final_iterations), converged=bool(converged),
                        cv_points=int(cv_points), matrix_shape=(m, n),
                        dropped_days=tuple(int(d) for d in np.flatnonzero(~kept)), unseen_pixels=int(unseen.sum()),
                        seconds=seconds)


def dineof_monthly(days: np.ndarray, ocean: np.ndarray, **kwargs) -> tuple[np.ndarray, DineofResult]:
    """The month's mean of the DINEOF-filled days (H, W), and the DineofResult.

    Days without any valid value are left out of the mean; keyword arguments go to dineof.
    """
    result = dineof(days, ocean, **kwargs)
    kept = np.setdiff1d(np.arange(len(result.filled)), result.dropped_days)
    mean = result.filled[kept].mean(axis=0, dtype=np.float64).astype(result.filled.dtype)
    return mean, result


def _cross_validate(data: np.ndarray, known: np.ndarray, *, k_max: int, patience: int, cv_fraction: float, tol: float,
                    max_iter: int, rng: np.random.Generator) -> tuple[int, tuple[float, ...], tuple[int, ...], int]:
    """(modes, CV RMSE per k in units of the scaled data, iterations per k, CV points) for the scaled matrix."""
    known_flat = np.flatnonzero(known)
    cv_points = min(max(1, round(cv_fraction * known_flat.size)), known_flat.size - 1) if cv_fraction > 0 else 0
    if cv_points == 0:
        log.debug("DINEOF: %d valid entries and cv_fraction %g, nothing to cross-validate; using 1 mode",
                  known_flat.size, cv_fraction)
        return 1, (), (), 0
    cv_index = np.sort(rng.choice(known_flat, size=cv_points, replace=False))
    cv_truth = data.reshape(-1)[cv_index]
    X = data.copy()
    X.reshape(-1)[cv_index] = 0.0
    unknown = np.union1d(np.flatnonzero(~known.reshape(-1)), cv_index)
    cv_rmse: list[float] = []
    iterations: list[int] = []
    best = 0
    for k in range(1, min(k_max, max(1, min(X.shape) - 1)) + 1):
        its, _ = _iterate(X, unknown, k, tol, max_iter, rng)
        iterations.append(its)
        cv_rmse.append(float(np.sqrt(np.mean((X.reshape(-1)[cv_index] - cv_truth) ** 2))))
        # The unknowns are only resolved to about tol (in units of the data's standard
        # deviation, 1 here); a smaller gain from one more mode is convergence noise.
        if best == 0 or cv_rmse[-1] < cv_rmse[best - 1] - tol:
            best = k
        elif k - best >= patience:
            break
    return best, tuple(cv_rmse), tuple(iterations), int(cv_points)


def _blas_threads(entries: int):
    """One BLAS thread for small matrices (up to SINGLE_THREAD_MAX entries); else as configured."""
    if entries > SINGLE_THREAD_MAX:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _iterate(X: np.ndarray, unknown: np.ndarray, k: int, tol: float, max_iter: int,
             rng: np.random.Generator) -> tuple[int, bool]:
    """Replace X's unknown entries (flat indices) by its rank-k reconstruction until they settle; in place."""
    flat = X.reshape(-1)
    current = flat[unknown]
    if not unknown.size:
        return 0, True
    for it in range(1, max_iter + 1):
        new = _rank_k(X, k, rng).reshape(-1)[unknown]
        change = float(np.linalg.norm(new - current))
        size = float(np.linalg.norm(new))
        flat[unknown] = new
        current = new
        if change <= tol * size or size == 0:
            return it, True
    return max_iter, False


def _rank_k(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """The rank-k truncated SVD reconstruction of X."""
    m, n = X.shape
    if min(m, n) > GRAM_MAX:
        u, s, vt = svds(X, k=k, v0=rng.standard_normal(min(m, n)))
        return (u * s) @ vt
    if n <= m:  # right singular vectors from the n x n Gram matrix
        _, V = eigh(X.T @ X, subset_by_index=[n - k, n - 1])
        return (X @ V) @ V.T
    _, U = eigh(X @ X.T, subset_by_index=[m - k, m - 1])
    return U @ (U.T @ X)
