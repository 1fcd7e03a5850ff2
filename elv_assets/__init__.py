"""ELV platform: Expected Lead Value assets for paid-media marketers."""

__version__ = "0.1.0"
