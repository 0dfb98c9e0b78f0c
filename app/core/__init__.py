"""The kernel: settings, wire schemas, barometers, ports, errors; imports nothing of ours."""
