"""The statistics of experiments, pure (numbers in, numbers out; no Django, no database).

- Sample size: the persons per variant a two-sided test of two proportions needs to see a
  relative change `mde` of the baseline rate at level `alpha` with `power`, on Cohen's h as
  statsmodels' NormalIndPower does (checked against it in tests/flags/test_stats.py).
- Bayesian: each conversion rate a Beta(1 + conversions, 1 + failures) posterior (Beta-Binomial,
  as PostHog does), each mean a normal posterior N(mean, variance / n); probability of being best,
  credible intervals and uplifts from Monte Carlo draws with a fixed seed (the page shows the same
  numbers on every reload).
- Frequentist with peeking allowed: the mixture sequential probability ratio test (mSPRT, Johari,
  Pekelis & Walsh 2017, "Always valid inference") on the difference against control under the
  normal approximation; its p-value 1/Λ may be read at every look: the chance that it ever falls
  below alpha while there is no difference is at most alpha (Ville's inequality). The fixed-horizon
  z-test's p-value is shown beside it, for reference only.
- Sample ratio mismatch: Pearson's chi-square of the exposures against the flag's weights.
"""

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

DRAWS = 100_000
SEED = 20_260_101
SRM_P = 0.001  # below this the split is called a mismatch (PostHog's and Microsoft's threshold)
_N = NormalDist()


# --- Sample size ---------------------------------------------------------------------------------


def _two_sided_power(effect: float, n: float, alpha: float) -> float:
    crit = _N.inv_cdf(1 - alpha / 2)
    shift = effect * math.sqrt(n / 2)
    return _N.cdf(shift - crit) + _N.cdf(-shift - crit)


def sample_size(*, baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Persons per variant: baseline rate in (0, 1), mde a relative change (0.1 = +10 %)."""
    if not 0 < baseline < 1:
        raise ValueError("The baseline rate must be between 0 and 1 (exclusive).")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("Alpha and power must be between 0 and 1 (exclusive).")
    target = baseline * (1 + mde)
    if mde == 0 or not 0 < target < 1:
        raise ValueError("The minimum detectable effect must move the rate and keep it between 0 and 1.")
    effect = abs(2 * math.asin(math.sqrt(target)) - 2 * math.asin(math.sqrt(baseline)))  # Cohen's h
    low, high = 1.0, 2.0
    while _two_sided_power(effect, high, alpha) < power:
        low, high = high, high * 2
    for _ in range(200):  # bisection on the exact two-sided power, as statsmodels solves it
        mid = (low + high) / 2
        low, high = (mid, high) if _two_sided_power(effect, mid, alpha) < power else (low, mid)
    return math.ceil(high - 1e-9)


# --- Per-variant summaries -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A variant's exposed persons and those who converted."""

    key: str
    exposed: int
    converted: int

    @property
    def value(self) -> float:
        return self.converted / self.exposed if self.exposed else 0.0

    @property
    def variance(self) -> float:  # of the estimate
        return self.value * (1 - self.value) / self.exposed if self.exposed else math.inf


@dataclass(frozen=True)
class Mean:
    """A variant's exposed persons and the sum and sum of squares of their values."""

    key: str
    exposed: int
    total: float
    squares: float

    @property
    def value(self) -> float:
        return self.total / self.exposed if self.exposed else 0.0

    @property
    def sample_variance(self) -> float:
        if self.exposed < 2:
            return 0.0
        return max(0.0, (self.squares - self.total**2 / self.exposed) / (self.exposed - 1))

    @property
    def variance(self) -> float:  # of the estimate
        return self.sample_variance / self.exposed if self.exposed else math.inf


def _draws(arms, rng) -> np.ndarray:
    rows = []
    for arm in arms:
        if isinstance(arm, Rate):
            rows.append(rng.beta(1 + arm.converted, 1 + arm.exposed - arm.converted, DRAWS))
        else:
            spread = math.sqrt(arm.variance) if arm.exposed else 1e6
            rows.append(rng.normal(arm.value, spread, DRAWS))
    return np.vstack(rows)


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


# --- Sequential test -----------------------------------------------------------------------------


def msprt_p_value(*, difference: float, variance: float, tau: float) -> float:
    """The always-valid p-value of H0 "no difference" after one look: 1 / Λ, with Λ the mixture
    likelihood ratio of the estimate `difference` (variance `variance`) under a N(0, tau²) prior
    on the true difference."""
    if not variance or not math.isfinite(variance) or tau <= 0:
        return 1.0
    t2 = tau * tau
    log_ratio = 0.5 * math.log(variance / (variance + t2)) + t2 * difference**2 / (2 * variance * (variance + t2))
    return 1.0 if log_ratio <= 0 else min(1.0, math.exp(-log_ratio))


def z_test_p_value(*, difference: float, variance: float) -> float:
    """The fixed-horizon two-sided z-test's p-value (valid at one planned look only)."""
    if not variance or not math.isfinite(variance):
        return 1.0
    return 2 * (1 - _N.cdf(abs(difference) / math.sqrt(variance)))


# --- Sample ratio mismatch -----------------------------------------------------------------------


def _upper_gamma_regularized(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a): a series below a + 1, Lentz's continued fraction above
    (Numerical Recipes §6.2)."""
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1 / a
        n = a
        for _ in range(1000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-15:
            break
    return math.exp(log_front) * h


def chi_square_sf(statistic: float, df: int) -> float:
    """P(X ≥ statistic) for X ~ chi-square with df degrees of freedom."""
    return _upper_gamma_regularized(df / 2, statistic / 2)


def sample_ratio(observed: list[int], weights: list[float]) -> tuple[float, float]:
    """Pearson's chi-square of `observed` counts against the split `weights`: (statistic, p)."""
    total, share = sum(observed), sum(weights)
    if total == 0 or len(observed) < 2 or share <= 0:
        return 0.0, 1.0
    expected = [total * w / share for w in weights]
    statistic = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True) if e > 0)
    return statistic, chi_square_sf(statistic, len(observed) - 1)


# --- One metric's results ------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantResult:
    key: str
    exposed: int
    value: float  # conversion rate or mean
    interval: tuple[float, float]  # credible interval of the value
    probability_best: float
    uplift: float | None  # relative to control (None for control)
    uplift_interval: tuple[float, float] | None
    p_value: float | None  # always-valid (mSPRT) against control
    z_p_value: float | None  # fixed-horizon, for reference
    significant: bool


def compare(arms: list, *, control: str = "control", alpha: float = 0.05, tau: float | None = None, level=0.95):
    """Each variant's results against `control` (arms: all Rate or all Mean, control among them).
    tau: the prior spread of the true difference for the mSPRT (default: a fifth of control's
    value, or of its spread for means when that is 0)."""
    rng = np.random.default_rng(SEED)
    draws = _draws(arms, rng)
    best = np.bincount(np.argmax(draws, axis=0), minlength=len(arms)) / DRAWS
    keys = [arm.key for arm in arms]
    base_index = keys.index(control)
    base = arms[base_index]
    if tau is None:
        tau = abs(base.value) / 5 or (math.sqrt(getattr(base, "sample_variance", 0.0)) / 5) or 0.01
    results = []
    for i, arm in enumerate(arms):
        uplift = uplift_interval = p = z = None
        if i != base_index:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = draws[i] / draws[base_index] - 1
            ratio = ratio[np.isfinite(ratio)]
            uplift = (arm.value / base.value - 1) if base.value else None
            uplift_interval = _interval(ratio, level) if ratio.size else None
            difference, variance = arm.value - base.value, arm.variance + base.variance
            p = msprt_p_value(difference=difference, variance=variance, tau=tau)
            z = z_test_p_value(difference=difference, variance=variance)
        results.append(
            VariantResult(
                key=arm.key,
                exposed=arm.exposed,
                value=arm.value,
                interval=_interval(draws[i], level),
                probability_best=float(best[i]),
                uplift=uplift,
                uplift_interval=uplift_interval,
                p_value=p,
                z_p_value=z,
                significant=p is not None and p < alpha,
            )
        )
    return results
