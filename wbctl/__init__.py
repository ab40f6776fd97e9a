"""wbctl: safe, scriptable operations for a self-managed W&B NextGen deployment on Google Cloud."""

__version__ = "0.1.0"
