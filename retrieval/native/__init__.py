"""C sources compiled at install time (see retrieval/e5_engine.py); no Python code."""
