"""Regenerate ``data/tw_reference.csv``: Tracy-Widom cdf/sf from Painleve II, in mpmath.

This reference is *independent* of the library's Fredholm-determinant code
(:mod:`rmt_sparsity.laws.tracy_widom`): it integrates the Hastings-McLeod
solution of Painleve II,

.. math::

    q''(x) = x q(x) + 2 q(x)^3, \\qquad q(x) \\sim \\mathrm{Ai}(x) \\quad (x \\to +\\infty),

together with the integrals :math:`u(x) = \\int_x^\\infty q^2`,
:math:`R(x) = \\int_x^\\infty (y - x) q(y)^2\\,dy` and :math:`J(x) = \\int_x^\\infty q`,
and evaluates (Tracy & Widom 1994, 1996; docs/science.md §2)

.. math::

    F_2(s) = e^{-R(s)}, \\qquad F_1(s) = e^{-(R(s) + J(s))/2}, \\qquad
    F_4(s / \\sqrt{2}) = e^{-R(s)/2} \\cosh(J(s)/2).

``F_4`` is Tracy & Widom's original beta = 4 convention (mean -2.30688...),
so the table's beta = 4 rows hold ``s`` with Painleve variable ``t = s sqrt(2)``.

Method
------
* The system ``(q, q', u, R, J)`` is integrated *backwards* from ``x0 = 20``
  with the Airy initial data ``q = Ai, q' = Ai'`` (the Hastings-McLeod solution
  differs from Ai by a relative ``O(Ai(x0)^2) ~ 1e-52`` there) and ``u, R, J``
  from their Airy values (``mpmath.quad``).
* Integration is by Taylor series of degree ``K = 90`` (the coefficients follow
  from the ODE by a Cauchy-product recurrence), with the step chosen so that the
  last two terms are below ``10**-(dps - 8)`` of the series' size; values at the
  table points come from the same series (dense output).
* The backward problem is unstable: a relative error ``d`` in the amplitude grows
  like ``d exp((2 sqrt 2 / 3)|x|^{3/2})``, about ``1e26 d`` at ``x = -16``.
  Working precision ``dps = 60`` and the ``1e-52`` initial-data error keep the
  error at the table's left end below ``1e-25``, far beneath the 20 digits written.
* As a self-check the means and variances are integrated from these cdf/sf by
  ``mpmath.quad`` and written to ``data/tw_reference_moments.csv``; they agree
  with Bornemann's constants (docs/science.md §2) to all 13 digits quoted there.

Run ``python data/make_tw_reference.py`` (about a minute). Output columns:
``beta, s, cdf, sf`` with 20 significant digits.
"""

from __future__ import annotations

import bisect
import os
import sys
import time

import mpmath as mp

DPS = 60
K = 90  # Taylor degree
X0 = 20  # start of the backward integration (q ~ Ai there)
X_END = -16  # left end of the integration
STEP_OUT = mp.mpf(1) / 10  # spacing of the table in s

#: table ranges in s, per beta: cdf and sf both >= ~1e-40 and t = s*sqrt2 (beta 4) inside [X_END, X0 - 3]
RANGES = {1: (-14.0, 16.0), 2: (-11.0, 11.0), 4: (-11.0, 12.0)}


def _series(x0, y):
    """Taylor coefficients (in h = x - x0) of q, u, R, J at x0, from the state ``y = (q, q', u, R, J)``."""
    q0, p0, u0, r0, j0 = y
    a = [q0, p0]
    s2 = []  # coefficients of q^2
    c = []  # coefficients of q^3
    for k in range(K - 1):
        s2.append(mp.fsum(a[j] * a[k - j] for j in range(k + 1)))
        c.append(mp.fsum(s2[j] * a[k - j] for j in range(k + 1)))
        am1 = a[k - 1] if k >= 1 else 0
        # (k+2)(k+1) a_{k+2} = x0 a_k + a_{k-1} + 2 (q^3)_k   (q'' = x q + 2 q^3, x = x0 + h)
        a.append((x0 * a[k] + am1 + 2 * c[k]) / ((k + 1) * (k + 2)))
    a = a[:K]
    u = [u0] + [-s2[k - 1] / k for k in range(1, K)]  # u' = -q^2
    r = [r0] + [-u[k - 1] / k for k in range(1, K)]  # R' = -u
    j = [j0] + [-a[k - 1] / k for k in range(1, K)]  # J' = -q
    return a, u, r, j


def _horner(coef, h):
    acc = mp.mpf(0)
    for ck in reversed(coef):
        acc = acc * h + ck
    return acc


def _horner_d(coef, h):
    acc = mp.mpf(0)
    for k in range(len(coef) - 1, 0, -1):
        acc = acc * h + k * coef[k]
    return acc


def integrate():
    """Integrate from X0 down to X_END; return the list of steps ``(x_start, h, (a, u, r, j))``."""
    x = mp.mpf(X0)
    q0, p0 = mp.airyai(x), mp.airyai(x, 1)
    u0 = p0**2 - x * q0**2  # int_x^inf Ai^2 (exact for Ai)
    r0 = mp.quad(lambda y: (y - x) * mp.airyai(y) ** 2, [x, x + 2, mp.inf])
    j0 = mp.quad(mp.airyai, [x, x + 2, mp.inf])
    y = (q0, p0, u0, r0, j0)
    tol = mp.mpf(10) ** (-(DPS - 8))
    steps = []
    while x > X_END:
        a, u, r, j = _series(x, y)
        # step: last two terms of every series below tol * (size of its leading terms)
        h = mp.mpf(1)
        for coef in (a, u, r, j):
            scale = abs(coef[0]) + abs(coef[1]) + mp.mpf(10) ** (-2 * DPS)
            for k in (K - 2, K - 1):
                if coef[k] != 0:
                    h = min(h, (tol * scale / abs(coef[k])) ** (mp.mpf(1) / k))
        h = min(h, x - X_END)
        h = -h
        steps.append((x, h, (a, u, r, j)))
        y = (_horner(a, h), _horner_d(a, h), _horner(u, h), _horner(r, h), _horner(j, h))
        x = x + h
    return steps


class Painleve:
    """Dense output of the integrated Hastings-McLeod system."""

    def __init__(self, steps):
        self.steps = steps
        self.neg_ends = [-(s[0] + s[1]) for s in steps]  # increasing

    def rj(self, t):
        """``(R(t), J(t))`` at ``t`` in ``[X_END, X0]``."""
        t = mp.mpf(t)
        if not (X_END <= t <= X0):
            raise ValueError(f"t={t} outside the integrated range")
        # steps[i] covers [ends[i], x_start_i]; ends decreasing -> search in negated list
        i = bisect.bisect_left(self.neg_ends, -t)
        i = min(i, len(self.steps) - 1)
        x, h, (a, u, r, j) = self.steps[i]
        dt = t - x
        return _horner(r, dt), _horner(j, dt)

    def cdf_sf(self, beta, s):
        """``(cdf, sf)`` of TW_beta at ``s`` (beta = 4: Tracy-Widom's original convention)."""
        s = mp.mpf(s)
        if beta == 1:
            rr, jj = self.rj(s)
            e = -(rr + jj) / 2
            return mp.exp(e), -mp.expm1(e)
        if beta == 2:
            rr, _ = self.rj(s)
            return mp.exp(-rr), -mp.expm1(-rr)
        if beta == 4:
            rr, jj = self.rj(s * mp.sqrt(2))
            cdf = mp.exp(-rr / 2) * mp.cosh(jj / 2)
            # 1 - cdf without the cancellation against 1: the two terms are O(Ai^2) and their
            # difference (the second-order sf) loses about 15 of the 60 digits at s = 12
            sf = -mp.expm1(-rr / 2) - 2 * mp.exp(-rr / 2) * mp.sinh(jj / 4) ** 2
            return cdf, sf
        raise ValueError(beta)


def moments(pv, beta):
    """Mean and variance from the reference cdf/sf (independent check of Bornemann's constants, arXiv 0804.2543)."""
    lo, hi = RANGES[beta]
    with mp.workdps(30):
        cdf = lambda s: pv.cdf_sf(beta, s)[0]  # noqa: E731
        sf = lambda s: pv.cdf_sf(beta, s)[1]  # noqa: E731
        pts_l = [lo] + [v for v in range(int(lo) + 1, 0)] + [0]
        pts_r = [0] + [v for v in range(1, int(hi))] + [hi]
        m1 = mp.quad(sf, pts_r) - mp.quad(cdf, pts_l)
        m2 = 2 * mp.quad(lambda s: s * sf(s), pts_r) - 2 * mp.quad(lambda s: s * cdf(s), pts_l)
        return m1, m2 - m1**2


def main(out_dir=None):
    out_dir = out_dir or os.path.dirname(os.path.abspath(__file__))
    mp.mp.dps = DPS
    t0 = time.time()
    steps = integrate()
    print(f"integrated {len(steps)} Taylor steps in {time.time() - t0:.1f} s", file=sys.stderr)
    pv = Painleve(steps)
    rows = []
    for beta in (1, 2, 4):
        lo, hi = RANGES[beta]
        n = int(round((hi - lo) / float(STEP_OUT)))
        for i in range(n + 1):
            s_f = round(lo + i * float(STEP_OUT), 10)
            cdf, sf = pv.cdf_sf(beta, mp.mpf(s_f))  # evaluate at the double that is written
            rows.append(f"{beta},{s_f!r},{mp.nstr(cdf, 20, min_fixed=1, max_fixed=0)},"
                        f"{mp.nstr(sf, 20, min_fixed=1, max_fixed=0)}")
    path = os.path.join(out_dir, "tw_reference.csv")
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("# Tracy-Widom F_beta from Painleve II (Hastings-McLeod), mpmath dps=60; "
                 "beta=4 in Tracy-Widom's original convention (mean -2.3068848932...).\n")
        fh.write("# generated by data/make_tw_reference.py; 20 significant digits\n")
        fh.write("beta,s,cdf,sf\n")
        fh.write("\n".join(rows) + "\n")
    os.replace(tmp, path)
    print(f"wrote {len(rows)} rows to {path} ({time.time() - t0:.1f} s)", file=sys.stderr)
    mom = []
    for beta in (1, 2, 4):
        m, v = moments(pv, beta)
        mom.append(f"{beta},{mp.nstr(m, 20)},{mp.nstr(v, 20)}")
        print(f"beta={beta}: mean {mp.nstr(m, 16)} var {mp.nstr(v, 16)}", file=sys.stderr)
    path = os.path.join(out_dir, "tw_reference_moments.csv")
    with open(path + ".tmp", "w") as fh:
        fh.write("# Tracy-Widom mean and variance integrated (mpmath.quad) from the Painleve II cdf/sf\n")
        fh.write("beta,mean,var\n" + "\n".join(mom) + "\n")
    os.replace(path + ".tmp", path)
    print(f"done in {time.time() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
