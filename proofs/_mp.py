"""Symbols and expressions shared by the Marchenko–Pastur derivations (internal).

``s`` is the entry variance σ² (the law's ``scale``), ``r = √c`` with ``c = p/n``
the ratio, and the bulk is parametrised by the angle ``φ ∈ [0, π]``:
``x(φ) = s(1 + r² − 2r cos φ)``, which runs from ``a = s(1−r)²`` to ``b = s(1+r)²``.
"""

from __future__ import annotations

import sympy as sp

s = sp.Symbol("s", positive=True)  # sigma^2
r = sp.Symbol("r", positive=True)  # sqrt(ratio)
rho = sp.Symbol("rho", positive=True)  # min(r, 1/r) in (0, 1)
phi = sp.Symbol("phi", real=True)
x = sp.Symbol("x", positive=True)
z = sp.Symbol("z")

c = r**2
a = s * (1 - r) ** 2
b = s * (1 + r) ** 2
x_of_phi = s * (1 + r**2 - 2 * r * sp.cos(phi))


def pdf(xx, rr=r, ss=s):
    """MP density of the continuous part (the library's formula, full law)."""
    aa, bb = ss * (1 - rr) ** 2, ss * (1 + rr) ** 2
    return sp.sqrt((bb - xx) * (xx - aa)) / (2 * sp.pi * ss * rr**2 * xx)


#: density with respect to phi: p(x(phi)) x'(phi)
dens_phi = 2 * sp.sin(phi) ** 2 / (sp.pi * (1 + r**2 - 2 * r * sp.cos(phi)))


def F_closed(rr, mass, ph=phi):
    """The library's closed-form continuous CDF in the angle variable."""
    return mass / sp.pi * (ph + sp.sin(ph) / rr - (1 - rr**2) / rr**2 * sp.atan(rr * sp.sin(ph) / (1 - rr * sp.cos(ph))))


def phi_of_x(xx, rr=r, ss=s):
    aa, bb = ss * (1 - rr) ** 2, ss * (1 + rr) ** 2
    return 2 * sp.asin(sp.sqrt((xx - aa) / (bb - aa)))


def draw_params(rng, n, lo=0.02, hi=50.0):
    """Log-uniform ratios in [lo, hi] and scales in [0.1, 10] (numpy arrays)."""
    import numpy as np

    cs = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    ss = np.exp(rng.uniform(np.log(0.1), np.log(10.0), n))
    return cs, ss
