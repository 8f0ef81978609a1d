"""graders: grades take-home coding challenges in a sandbox."""

__version__ = "0.1.0"
