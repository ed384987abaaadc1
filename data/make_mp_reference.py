"""Regenerate ``data/mp_reference.csv``: Marchenko–Pastur reference values at 50 digits.

Independent of the library's closed forms: the CDF and survival function are
computed by mpmath (tanh-sinh) quadrature of the *defining* density after the
change of variables

    x = a + (b - a) sin^2(theta),  theta in [0, pi/2],

under which ``p(x) dx = 16 sin^2(theta) cos^2(theta) / (pi x/sigma^2) dtheta``
(a smooth integrand: both square-root edge singularities, and the 1/sqrt(x)
hard edge at ratio = 1, are removed). ``cdf = atom + int_0^theta_x`` and
``sf = int_{theta_x}^{pi/2}`` are two separate quadratures; the script checks
``cdf + sf = 1`` and the quadrature error estimates. The pdf is the defining
formula ``sqrt((b-x)(x-a)) / (2 pi sigma^2 c x)`` evaluated in 50-digit
arithmetic with the exact edges of the float64 ratio/scale.

Points, for each ratio in {1e-3, 0.1, 0.5, 1, 2, 10} (scale 1, plus scale 2.5
for ratios 0.5 and 2): 21 bulk points, relative offsets 1e-12 ... 1e-2 inside
each edge (absolute offsets b*1e-12 ... and 1e-300 ... at the hard edge of
ratio 1), and a few points outside the bulk. Every x is the float64 the
library receives, stored exactly (``float.hex``) and as ``repr``.

Run: ``python data/make_mp_reference.py`` (about a minute).
"""

from __future__ import annotations

import csv
import io
import math
import pathlib

import mpmath as mm

from rmt_sparsity._io import atomic_write_text

DPS = 50
RATIOS = [1e-3, 0.1, 0.5, 1.0, 2.0, 10.0]
EXTRA_SCALES = {0.5: [2.5], 2.0: [2.5]}
OFFSETS = [10.0**-k for k in range(12, 1, -1)]  # 1e-12 ... 1e-2
HARD_EDGE_ABS = [1e-300, 1e-200, 1e-100, 1e-50, 1e-20]
OUT = pathlib.Path(__file__).with_name("mp_reference.csv")


def _edges(c, s):
    c, s = mm.mpf(c), mm.mpf(s)
    r = mm.sqrt(c)
    return s * (1 - r) ** 2, s * (1 + r) ** 2


def _float_edges(c, s):
    r = math.sqrt(c)
    return s * (1 - r) ** 2, s * (1 + r) ** 2


def points(c, s):
    """(x, region) pairs, x a float64."""
    a, b = _float_edges(c, s)
    pts = []
    for k in range(1, 22):
        pts.append((a + (b - a) * k / 22.0, "bulk"))
    for d in OFFSETS:
        if c == 1.0:
            pts.append((b * d, "lower"))
        else:
            pts.append((a * (1.0 + d), "lower"))
        pts.append((b * (1.0 - d), "upper"))
    if c == 1.0:
        for d in HARD_EDGE_ABS:
            pts.append((d * s, "lower"))
    pts += [(-1.0 * s, "outside"), (0.0, "outside"), (b * (1.0 + 1e-9), "outside"), (2.0 * b, "outside")]
    if c != 1.0:
        pts.append((a * (1.0 - 1e-9), "outside"))
    if c > 1.0:
        pts.append((0.5 * a, "outside"))
    return pts


def reference(x, c, s):
    """(pdf, cdf, sf, max quadrature error estimate) at 50 digits."""
    xm, cm, sm = mm.mpf(x), mm.mpf(c), mm.mpf(s)
    a, b = _edges(c, s)
    atom = 1 - 1 / cm if cm > 1 else mm.mpf(0)
    mass = 1 - atom
    if xm < 0:
        return mm.mpf(0), mm.mpf(0), mm.mpf(1), mm.mpf(0)
    if xm == 0 and a == 0:  # ratio = 1: the density diverges like x^(-1/2) at the hard edge
        return mm.inf, mm.mpf(0), mm.mpf(1), mm.mpf(0)
    if xm <= a:
        return mm.mpf(0), atom, mass, mm.mpf(0)
    if xm >= b:
        return mm.mpf(0), mm.mpf(1), mm.mpf(0), mm.mpf(0)
    pdf = mm.sqrt((b - xm) * (xm - a)) / (2 * mm.pi * sm * cm * xm)
    a0, w0 = a / sm, (b - a) / sm

    def g(t):
        st, ct = mm.sin(t), mm.cos(t)
        return 16 * st**2 * ct**2 / (mm.pi * (a0 + w0 * st**2))

    th = mm.asin(mm.sqrt((xm - a) / (b - a)))
    hl = mm.pi / 2 - th
    # mpmath's quad stops on an *absolute* error: integrate a normalised integrand over
    # tau in [0, 1] (theta = th*tau below, theta = pi/2 - hl*tau above), scaled by g(th) > 0,
    # on pieces split geometrically towards the edge (tau = 0).
    g_th = g(th)
    taus = [mm.mpf(0)] + [mm.mpf(2) ** -k for k in range(8, 0, -1)] + [mm.mpf(1)]
    F, eF = mm.quad(lambda t: g(th * t) / g_th, taus, error=True)
    S, eS = mm.quad(lambda t: g(mm.pi / 2 - hl * t) / g_th, taus, error=True)
    eF, eS = eF / F, eS / S
    F, S = F * th * g_th, S * hl * g_th
    err = max(eF, eS, abs(F + S - mass) / mass)
    return pdf, atom + F, S, err


def main():
    mm.mp.dps = DPS
    rows = []
    worst = 0
    for c in RATIOS:
        for s in [1.0] + EXTRA_SCALES.get(c, []):
            for x, region in points(c, s):
                pdf, cdf, sf, err = reference(x, c, s)
                worst = max(worst, err)
                rows.append(
                    {
                        "ratio": repr(c), "scale": repr(s), "x": repr(x), "x_hex": float.hex(x),
                        "region": region,
                        "pdf": mm.nstr(pdf, 30, min_fixed=1, max_fixed=0),
                        "cdf": mm.nstr(cdf, 30, min_fixed=1, max_fixed=0),
                        "sf": mm.nstr(sf, 30, min_fixed=1, max_fixed=0),
                    }
                )
    if worst > mm.mpf(10) ** -35:
        raise RuntimeError(f"quadrature not converged: worst relative error estimate {mm.nstr(worst, 3)}")
    fh = io.StringIO(newline="")  # built in memory, then written atomically (and readable by others: umask)
    fh.write(
        "# Marchenko-Pastur reference values (mpmath %d digits, quadrature in theta, x = a+(b-a)sin^2 theta).\n"
        "# Generated by data/make_mp_reference.py; cdf includes the atom 1-1/ratio for ratio > 1;\n"
        "# pdf is the continuous part. Worst quadrature error estimate / mass defect: %s.\n"
        % (DPS, mm.nstr(worst, 3))
    )
    w = csv.DictWriter(fh, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(OUT, fh.getvalue())
    print(f"wrote {len(rows)} rows to {OUT}; worst quadrature error estimate {mm.nstr(worst, 3)}")


if __name__ == "__main__":
    main()
