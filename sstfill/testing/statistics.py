"""The generator's statistics in one place: what ``synthetic_sst`` uses, and random draws of it.

A model trained on one fixed set of statistics learns those statistics (its eddy sizes,
noise level, cloud shapes, flagging habits) and is over-confident on data that differ.
``GeneratorStatistics()`` holds the values the generator has always used, so default output
does not change; ``random_statistics`` draws every one of them over wide ranges, to train on
many families of data instead of one. Pairs are (low, high) bounds of a per-feature draw.
"""

from dataclasses import dataclass, fields, replace

import numpy as np


@dataclass(frozen=True)
class GeneratorStatistics:
    """Numbers behind ``synthetic_sst``'s truth and its L3-like observation (K, km, days)."""

    # Climatology
    zonal_contrast_K: float = 30.3  # equator-to-pole contrast of the zonal-mean profile
    seasonal_factor: float = 1.0  # multiplies the seasonal cycle (0.4-4.4 K by latitude)
    gyre_K: tuple = (1.0, 2.0)  # subtropical west-east gyre asymmetry
    upwelling_K: tuple = (1.5, 3.5)  # eastern-boundary upwelling cooling
    upwelling_width_km: tuple = (100.0, 220.0)
    # Western-boundary-current fronts and their rings
    front_jump_K: tuple = (2.0, 6.0)
    front_width_km: tuple = (25.0, 50.0)
    front_speed_km_day: tuple = (3.0, 8.0)  # eastward propagation of meanders
    front_wander_km: float = 80.0  # standing excursions of the mean path
    front_wander_scale_km: float = 400.0
    meander_near_km: float = 15.0  # meander amplitude off the western coast ...
    meander_growth_km: float = 45.0  # ... plus this far downstream
    meander_scale_km: float = 90.0
    meander_days: float = 20.0
    ring_spacing_km: float = 500.0  # one ring per this length of front
    ring_life_days: tuple = (60.0, 180.0)
    ring_amplitude_K: tuple = (1.5, 3.0)
    ring_radius_km: tuple = (50.0, 90.0)
    ring_drift_km_day: tuple = (2.0, 6.0)
    # Mesoscale eddies
    eddy_spacing_km: float = 250.0  # one eddy alive per this length squared of ocean
    eddy_mean_life_days: float = 60.0
    eddy_min_life_days: float = 20.0
    eddy_amplitude_K: tuple = (0.3, 1.5)
    eddy_radius_km: float = 35.0  # at 90 degrees; grows as 1/sin(lat) like the Rossby radius
    eddy_radius_clip_km: tuple = (30.0, 100.0)
    eddy_radius_spread: float = 0.2  # log-normal sigma
    eddy_drift_factor: float = 1.0  # multiplies the westward (Rossby) and meridional drifts
    # Gaussian random anomalies
    synoptic_K: float = 0.3
    synoptic_km: float = 180.0
    synoptic_days: float = 8.0
    texture_K: float = 0.1  # submesoscale texture
    texture_km: float = 15.0
    texture_days: float = 2.0
    # Clouds: three Gaussian random fields summed, thresholded at the cloud cover
    cloud_weights: tuple = (0.8, 0.5, 0.35)
    cloud_scales_km: tuple = (120.0, 35.0, 8.0)
    cloud_days: tuple = (3.0, 1.5, 0.7)  # persistence of each part
    cloud_edge_quantile: float = 0.85  # clear-sky quantile where the cloud-edge margin begins
    screening: float = 0.75  # pixels further than this into the margin are screened out
    unseen_spacing_km: float = 1500.0  # one month-long unseen patch per this length squared
    unseen_radius_km: tuple = (50.0, 150.0)
    # Polar-orbiter swaths; None: no swath gaps (geostationary-like)
    swath_width_km: tuple | None = (1750.0, 2050.0)
    swath_edge: float = 0.7  # beyond this share of the half width: quality 4
    # Retrievals
    pixel_noise_best_K: float = 0.12  # at quality 5
    pixel_noise_acceptable_K: float = 0.25  # at quality 4
    regional_error_K: float = 0.1  # a correlated retrieval error field
    regional_error_km: float = 100.0
    regional_error_days: float = 2.0
    undetected_share: float = 0.25  # of cloud-edge pixels, holding cold undetected-cloud values
    unflagged_share: float = 0.0  # of those, left at quality 4 instead of flagged 1-3
    cloud_bias_K: float = 4.8  # cold bias up to about this much at the cloud edge ...
    cloud_bias_min_K: float = 0.4  # ... and at least this much


#: Factors that ``random_statistics`` draws log-uniformly and applies to today's values:
#: name -> (fields scaled, low, high). One factor per name, so related numbers move together.
RANDOM_FACTORS = {
    "zonal_contrast": (("zonal_contrast_K",), 0.9, 1.1),
    "seasonal": (("seasonal_factor",), 0.5, 1.5),
    "gyre": (("gyre_K",), 0.5, 1.5),
    "upwelling": (("upwelling_K",), 0.5, 1.5),
    "upwelling_width": (("upwelling_width_km",), 0.5, 2.0),
    "front_strength": (("front_jump_K", "ring_amplitude_K"), 0.3, 1.5),
    "front_width": (("front_width_km",), 0.5, 2.0),
    "meander": (("front_wander_km", "meander_near_km", "meander_growth_km"), 0.5, 2.0),
    "meander_scale": (("front_wander_scale_km", "meander_scale_km"), 0.5, 2.0),
    "meander_days": (("meander_days",), 0.5, 2.0),
    "eddy_spacing": (("eddy_spacing_km", "ring_spacing_km"), 0.7, 1.4),
    "eddy_life": (("eddy_mean_life_days", "eddy_min_life_days", "ring_life_days"), 0.5, 2.0),
    "eddy_amplitude": (("eddy_amplitude_K",), 0.3, 2.0),
    "eddy_radius": (("eddy_radius_km", "eddy_radius_clip_km", "ring_radius_km"), 0.5, 2.0),
    "drift": (("eddy_drift_factor", "ring_drift_km_day", "front_speed_km_day"), 0.5, 2.0),
    "synoptic_amplitude": (("synoptic_K",), 0.3, 3.0),
    "synoptic_scale": (("synoptic_km",), 0.5, 3.0),
    "synoptic_days": (("synoptic_days",), 0.5, 4.0),
    "texture_amplitude": (("texture_K",), 0.3, 3.0),
    "texture_scale": (("texture_km",), 0.5, 2.0),
    "texture_days": (("texture_days",), 0.5, 4.0),
    "cloud_scale": (("cloud_scales_km",), 0.5, 2.0),
    "cloud_persistence": (("cloud_days",), 0.5, 3.0),
    "unseen_spacing": (("unseen_spacing_km",), 0.6, 1.8),  # patches 0.3-2.8 times as many
    "unseen_radius": (("unseen_radius_km",), 0.5, 2.0),
    "swath_width": (("swath_width_km",), 0.7, 1.3),
    "regional_error_scale": (("regional_error_km",), 0.5, 3.0),
    "regional_error_days": (("regional_error_days",), 0.5, 4.0),
    "cloud_bias": (("cloud_bias_K", "cloud_bias_min_K"), 0.5, 1.5),
}

#: Values that ``random_statistics`` draws uniformly: field -> (low, high).
RANDOM_VALUES = {
    "eddy_radius_spread": (0.1, 0.4),
    "regional_error_K": (0.0, 0.3),
    "undetected_share": (0.0, 0.4),
    "unflagged_share": (0.0, 0.6),
    "cloud_edge_quantile": (0.7, 0.95),
    "screening": (0.5, 1.0),
    "swath_edge": (0.5, 0.9),
}

#: A factor on the weights of the two smaller cloud parts: ragged (> 1) or smooth (< 1) clouds.
CLOUD_DETAIL = (0.5, 2.0)
#: Pixel noise at quality 5, drawn log-uniformly (K); quality 4 gets 1-2.5 times as much.
PIXEL_NOISE_K = (0.05, 0.5)
ACCEPTABLE_NOISE_RATIO = (1.0, 2.5)
#: Chance of no swath gaps at all, as from a geostationary sensor.
NO_SWATH_CHANCE = 0.2


def random_statistics(rng: np.random.Generator) -> GeneratorStatistics:
    """Statistics drawn over the ranges above, for training on many families of data."""
    base = GeneratorStatistics()
    changes = {}
    for names, lo, hi in RANDOM_FACTORS.values():
        factor = _log_uniform(rng, lo, hi)
        for name in names:
            changes[name] = _scaled(getattr(base, name), factor)
    for name, (lo, hi) in RANDOM_VALUES.items():
        changes[name] = float(rng.uniform(lo, hi))
    detail = _log_uniform(rng, *CLOUD_DETAIL)
    changes["cloud_weights"] = (base.cloud_weights[0], *(w * detail for w in base.cloud_weights[1:]))
    best = _log_uniform(rng, *PIXEL_NOISE_K)
    changes["pixel_noise_best_K"] = best
    changes["pixel_noise_acceptable_K"] = best * float(rng.uniform(*ACCEPTABLE_NOISE_RATIO))
    if rng.random() < NO_SWATH_CHANCE:
        changes["swath_width_km"] = None
    return replace(base, **changes)


def describe(statistics: GeneratorStatistics) -> str:
    """The fields that differ from the defaults, compactly, for logs."""
    base = GeneratorStatistics()
    out = []
    for f in fields(statistics):
        value = getattr(statistics, f.name)
        if value != getattr(base, f.name):
            out.append(f"{f.name}={_compact(value)}")
    return " ".join(out) or "defaults"


def _log_uniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _scaled(value, factor):
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(v * factor for v in value)
    return value * factor


def _compact(value):
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(f"{v:.3g}" for v in value)
    return f"{value:.3g}"
