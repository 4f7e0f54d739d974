"""serverless-c2: find C2 traffic relayed through serverless platforms in Zeek and Suricata logs.

The package is a typed library; :mod:`analyzer.cli` is a thin click layer over it.
Library code never prints or exits.
"""

__version__ = "0.1.0"
