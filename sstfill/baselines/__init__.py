"""Classic gap-filling baselines, numpy and scipy only (never torch), scored beside sstfill.

dineof: Data Interpolating Empirical Orthogonal Functions (sstfill.baselines.dineof).
"""
