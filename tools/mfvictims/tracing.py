"""What a module traced for export must do so that the export runs on any device."""


def positions(like, n, dtype=None):
    """0, 1, ..., n - 1 on like's device (in like's dtype unless given). Not torch.arange:
    tracing records a factory call's device (even device=like.device) as a constant, and the
    export would then run on the CPU only."""
    return like.new_ones(n, dtype=dtype).cumsum(0) - 1
