"""On-device measurement (`submit run`): transports, the DUT protocol client, interface boards,
energy monitors, the four modes, session files, and virtual devices that stand in for hardware."""
