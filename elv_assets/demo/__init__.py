"""The demo world generator and the importers of real public exports."""
