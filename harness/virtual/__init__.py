"""Virtual devices: a DUT, interface boards and an energy monitor that speak the real wire protocols
(shared/docs/protocol.md) over pseudo-terminals, on one simulated clock, so every harness path runs
without hardware."""
