"""wasteroute's service layer: HTTP API, configuration, command line.

Imports run one way, ``app -> solver``: nothing in :mod:`solver` imports from here.
"""
