"""Regional news aggregator: county sources in, merged feeds per region and channel out."""

__version__ = "0.1.0"
