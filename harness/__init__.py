"""On-device measurement (`submit run`): transports, DUT client, interface boards, energy monitors.

Empty until the harness issue lands; the package exists so the fixed top-level layout installs.
"""
