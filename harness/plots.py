"""Plots a session keeps next to its numbers, rendered off-screen (matplotlib's Agg backend)."""

from __future__ import annotations

from pathlib import Path

from submission_tools.runmodel import EnergyTrial


def energy_plot(path: Path, trial: EnergyTrial, sample_rate_hz: float = 1000.0) -> Path:
    """The runner's `energy_inf_NNN.png`: power over the trial, red lines at the timestamp events."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3), dpi=100)
    axes = figure.add_subplot()
    times = [i / sample_rate_hz for i in range(len(trial.samples_j))]
    axes.plot(times, [v * 1e3 * sample_rate_hz for v in trial.samples_j], linewidth=0.6)  # J/sample -> mW
    for _counter, index in trial.events:
        axes.axvline(index / sample_rate_hz, color="red", linewidth=0.8)
    axes.set_xlabel("time in trial (s)")
    axes.set_ylabel("power (mW)")
    axes.set_title(f"{trial.iterations} inferences between the last two events")
    figure.tight_layout()
    figure.savefig(path, format="png", metadata={"Software": None})
    return path
