"""What every part of the service stands on: its settings, its version, its logging set-up.

Nothing here imports the rest of :mod:`app`; only :mod:`solver` lies below.
"""
