"""What the submitter README says, gathered from the manifest and the sessions' manifest.json:
systems, per result its code, models and sessions (runner, date, DUT, harness version, config
fingerprint, inputs digest), and every harness configuration used. Sorted, so stable."""

from __future__ import annotations

import os

from submission_tools import __version__
from submission_tools.package import render
from submission_tools.package.sessions import SessionFolder
from submission_tools.runners import MLC


def readme_data(manifest, systems: list[tuple[str, dict]], results: list, named_models: bool) -> dict:
    m = manifest
    rows_systems = [{"id": sid, "board": f.get("Board Name", ""), "processor": f.get("Processor(s) Name", ""),
                     "status": f.get("Status", ""), "framework": f.get("Inference Framework", "")}
                    for sid, f in sorted(systems, key=lambda item: item[0])]
    rows, configs, versions = [], {}, set()
    for result in sorted(results, key=lambda r: (r.system, r.benchmark)):
        sessions = []
        for session, provenance in result.sessions:
            sessions.append(session_row(session, provenance))
            recorded = session.manifest
            if recorded is None:
                continue
            versions.add(str((recorded.get("tool") or {}).get("version", "?")))
            config = recorded.get("config") or {}
            fingerprint = str(config.get("fingerprint") or "")
            if fingerprint:
                slot = configs.setdefault(fingerprint, {
                    "fingerprint": fingerprint, "short": fingerprint[:12],
                    "source": os.path.basename(str(config.get("source") or "")) or "–",
                    "yaml": render.config_yaml(config.get("document")), "used_by": []})
                slot["used_by"].append(f"{result.system}/{result.benchmark}/{session.mode}")
        rows.append({"system": result.system, "benchmark": result.benchmark, "implementation": result.implementation,
                     "code": f"{result.benchmark}/{result.implementation}",
                     "model_id": m.ruleset.benchmarks[result.benchmark].model_id,
                     "reference_int8": result.reference_int8,
                     "models": sorted(result.models, key=lambda x: x["path"]), "sessions": sessions})
    return {"tool_version": __version__, "manifest_name": m.name, "manifest_sha256": m.sha256,
            "round": m.round, "division": m.division, "submitter": m.submitter, "notes": m.notes,
            "checksums": render.CHECKSUMS, "systems": rows_systems, "results": rows,
            "configs": [configs[k] for k in sorted(configs)], "harness_versions": sorted(versions),
            "hookup": m.energy_hookup is not None, "models_yaml": m.division == "closed" or named_models}


def session_row(session: SessionFolder, provenance: str | None) -> dict:
    manifest = session.manifest or {}
    dut = manifest.get("dut") or {}
    config = manifest.get("config") or {}
    inputs = manifest.get("inputs")
    if session.runner == MLC and session.manifest is not None:
        runner = "submit run (MLCommons runner files)"
    else:
        runner = session.runner_name
    return {
        "mode": session.mode, "runner": runner, "name": session.folder.name, "provenance": provenance,
        "started": str(manifest.get("started") or "not recorded"),
        "dut": f"{dut.get('name', '?')} ({dut.get('model', '?')})" if dut else "not recorded",
        "harness": f"submit {(manifest.get('tool') or {}).get('version', '?')}" if manifest else "not recorded",
        "config": f"`{str(config.get('fingerprint'))[:12]}`" if config.get("fingerprint") else "not recorded",
        "inputs": (f"{len(inputs)}, sha256 `{render.inputs_digest(inputs)}`" if isinstance(inputs, list) and inputs
                   else "not recorded"),
    }
