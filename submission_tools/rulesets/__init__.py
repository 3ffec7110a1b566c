"""Per-round rule sets, kept as data (one YAML file per round over `_common.yaml`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from submission_tools.errors import UsageError

SUPPORTED_ROUNDS = ("v1.0", "v1.1", "v1.2", "v1.3", "v1.4")
# Rounds whose trees exist but have no rule set of their own; checked with the nearest one.
OLDER_ROUNDS = ("v0.5", "v0.7")


@dataclass(frozen=True)
class Benchmark:
    name: str
    model_id: str
    metric: str
    closed_target: Any
    label_sets: tuple[str, ...]
    runners: tuple[str, ...] | None  # None: any runner the round allows
    requires: tuple[str, ...]


@dataclass(frozen=True)
class Ruleset:
    version: str
    divisions: tuple[str, ...]
    modes: tuple[str, ...]
    availability: tuple[str, ...]
    runners: tuple[str, ...]
    benchmarks: dict[str, Benchmark]
    benchmark_aliases: dict[str, str]
    mode_aliases: dict[str, str]
    required_modes_by_benchmark: dict[str, tuple[str, ...]]
    optional_modes_by_benchmark: dict[str, tuple[str, ...]]
    required_files: dict[str, dict[str, tuple[str, ...]]]
    eembc_marker_required: bool
    session_window: tuple[str, str] | None = None  # ISO dates (after, before)

    @property
    def checklist_name(self) -> str:
        return f"TinyMLPerf_{self.version}_Submission_Checklist.pdf"

    def required_modes(self, benchmark: str) -> tuple[str, ...]:
        return self.required_modes_by_benchmark.get(benchmark, self.required_modes_by_benchmark["default"])

    def allowed_modes(self, benchmark: str) -> tuple[str, ...]:
        optional = self.optional_modes_by_benchmark.get(
            benchmark, self.optional_modes_by_benchmark["default"])
        return self.required_modes(benchmark) + optional

    def runners_for(self, benchmark: str) -> tuple[str, ...]:
        bench = self.benchmarks.get(benchmark)
        if bench is not None and bench.runners is not None:
            return tuple(r for r in bench.runners if r in self.runners)
        return self.runners


def _load_yaml(name: str) -> dict:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.lstrip("v").split("."))


@lru_cache(maxsize=None)
def load_ruleset(version: str) -> Ruleset:
    """The rule set of a supported round ("v1.1" or "1.1")."""
    version = normalise_version(version)
    if version not in SUPPORTED_ROUNDS:
        raise UsageError(
            f"no rule set for round {version}; choose one of {', '.join(SUPPORTED_ROUNDS)}")
    common = _load_yaml("_common.yaml")
    own = _load_yaml(f"{version}.yaml")
    benchmarks = {**common["benchmarks"], **own.get("benchmarks", {})}
    required = {**common["required_modes"], **own.get("required_modes", {})}
    optional = {**common["optional_modes"], **own.get("optional_modes", {})}
    return Ruleset(
        version=version,
        divisions=tuple(common["divisions"]),
        modes=tuple(common["modes"]),
        availability=tuple(common["availability"]),
        runners=tuple(own["runners"]),
        benchmarks={
            name: Benchmark(
                name=name,
                model_id=spec["model_id"],
                metric=spec["metric"],
                closed_target=spec["closed_target"],
                label_sets=tuple(spec.get("label_sets", ())),
                runners=tuple(spec["runners"]) if "runners" in spec else None,
                requires=tuple(spec.get("requires", ())),
            )
            for name, spec in benchmarks.items()
        },
        benchmark_aliases=dict(common["benchmark_aliases"]),
        mode_aliases=dict(common["mode_aliases"]),
        required_modes_by_benchmark={k: tuple(v) for k, v in required.items()},
        optional_modes_by_benchmark={k: tuple(v) for k, v in optional.items()},
        required_files={
            runner: {mode: tuple(files) for mode, files in modes.items()}
            for runner, modes in common["required_files"].items()
        },
        eembc_marker_required=bool(own.get("eembc_marker_required", common["eembc_marker_required"])),
        session_window=(str(own["session_window"]["after"]), str(own["session_window"]["before"]))
        if "session_window" in own else None,
    )


def normalise_version(text: str) -> str:
    match = re.fullmatch(r"\s*v?(\d+)\.(\d+)\s*", text or "")
    if not match:
        raise UsageError(f"'{text}' is not a round version; write it like v1.3")
    return f"v{int(match.group(1))}.{int(match.group(2))}"


def nearest_supported(version: str) -> str:
    """The supported round closest to `version` (older trees use the oldest, newer the newest)."""
    key = _version_key(version)
    return min(SUPPORTED_ROUNDS, key=lambda v: (abs(_version_key(v)[0] * 100 + _version_key(v)[1]
                                                      - (key[0] * 100 + key[1])), v))
