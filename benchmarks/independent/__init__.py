"""An evaluation family for sstfill built on real SST fields, independent of sstfill.testing.

Every accuracy figure of sstfill used to come from ``sstfill.testing``, the generator its
bundled model was trained on, so a model could score well by having learned that
generator's habits (its spectra, time scales, noise and clouds). This family shares no
building block with it: backgrounds are real fields that packages ship (OSTIA monthly SST,
the Shea-Trenberth-Reynolds climatology, a day of NOAA OISST v2, the NCAR 1-degree land-sea
mask), large anomalies take their shapes from 50 winters of HadISST anomalies, mesoscale
structure is spectral with random-phase evolution, clouds are the shapes of a real SEVIRI
10.8 micron image, noise is heavy-tailed and heteroscedastic with per-pass biases, and
cloud-contaminated retrievals are only partly flagged. Nothing here imports sstfill.testing.

Modules, one concern each: ``sources`` (reading the packaged real fields), ``regrid``
(moving fields between grids and from months to days), ``sampling`` (mirror-tiled sampling
of small images onto larger grids), ``anomalies`` (day-to-day SST variability), ``clouds``
(cloud and swath-gap masks), ``noise`` (retrieval errors and quality levels), ``files``
(GHRSST-L3-like daily files and monthly truth files) and ``cases`` (the named cases).
"""
