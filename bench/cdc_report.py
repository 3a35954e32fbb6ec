"""The report of `make bench-cdc` (cdc_bench.py): bench/results/cdc.json as measured, cdc.md as tables."""

import json
import os
from pathlib import Path

from common import DAEMONS


def save(report: dict, out: str) -> None:
    """After every phase: a run cut short still leaves what it measured."""
    report["load_average_at_end"] = os.getloadavg()[0]
    Path(out + ".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    Path(out + ".md").write_text(markdown(report))


def markdown(r: dict) -> str:
    def ms(s: dict) -> str:
        if s.get("p50_ms") is None:
            return "not observed"
        late = s.get("rows_missing_at_cutoff")
        return (f"p50 {s['p50_ms']:,.0f} ms, p99 {s['p99_ms']:,.0f} ms"
                + (f" ({late:,} rows not there {r.get('latency_wait_seconds', 120)} s after the last commit: "
                   "counted as ≥ their wait)"
                   if late else ""))

    def drain(x: dict | None) -> str:
        if x is None:
            return "–"
        if x["drain_seconds"] is None:
            return (f"not drained in {x['deadline_seconds']:.0f} s: {x['applied_at_deadline']:,} applied "
                    f"(≤ {x['changes_per_second_at_most']:,}/s), equal: {x['target_equals_source']}")
        return f"{x['drain_seconds']} s ({x['changes_per_second']:,}/s), equal: {x['target_equals_source']}"

    def phase(lat: dict) -> str:
        return f"{lat.get('phase', 'warm')} {lat['rate']:,}/s"

    cold = r.get("cold_start")
    lines = [f"# CDC: cdcflow vs a bare Debezium pair vs native logical replication ({r['when']})", "",
             f"{r['machine']}, load average {r['load_average_at_start']:.1f} at start, "
             f"{r['load_average_at_end']:.1f} at end; source database synchronous_commit = "
             f"{r.get('source_synchronous_commit', 'off')}. {r['label']}", "",
             f"Connect's JVM: `{r.get('connect_jvm', '')}`"
             + (f"; after `stackctl connect-restart` the worker answered in {cold['worker_ready_seconds']} s and "
                f"the pipeline ran again after {cold['pipeline_running_seconds']} s (the cold phase starts then)"
                if cold else ""), "",
             "| what | cdcflow | bare Debezium pair, tuned | native logical replication | cdcflow / bare |",
             "|---|---|---|---|---|"]
    for lat in r["latency"]:
        m = lat["methods"]
        when = ("right after a Connect restart, no warm-up (cold)" if lat.get("phase") == "cold" else "warm worker")
        lines.append(f"| commit → row visible on target, {lat['rate']:,} single-row commits/s for "
                     f"{lat['seconds']:.0f} s, {when} (achieved {lat['achieved_rate']:,}/s) | {ms(m['cdcflow'])} | – | "
                     f"{ms(m['native'])} | – |")
    for b in r["burst"]:
        m = b["methods"]
        ratio = f"{b['cdcflow_over_bare']}×" if b.get("cdcflow_over_bare") else "–"
        lines.append(f"| 300,000 changes in a burst (20 × 10k-row inserts, then one 100k-row UPDATE), "
                     f"{b['tables']} table(s) | {drain(m['cdcflow'])} | {drain(m.get('bare'))} | {drain(m['native'])} "
                     f"| {ratio} |")
    if r["burst"]:
        lines += ["", "cdcflow and native replication drain each burst together while it is written (their time counts "
                  "from the burst's first statement); the bare pair drains it afterwards from its own slot, alone "
                  "(its time counts from the creation of its connectors), so each path's CPU is its own."]
    width = r.get("window_seconds", 10)
    if any(lat.get("windows") for lat in r["latency"]):
        heads = [lat for lat in r["latency"] if lat.get("windows")]
        lines += ["", f"Latency per {width:.0f}-second window of source commit time (p50 / p99 ms; how long a path "
                  "stays behind):", "",
                  "| from s | " + " | ".join(f"{phase(lat)} {m}" for lat in heads for m in ("cdcflow", "native"))
                  + " |",
                  "|---|" + "---|" * (2 * len(heads))]
        for i in range(max(len(lat["windows"]["cdcflow"]) for lat in heads)):
            cells = []
            for lat in heads:
                for m in ("cdcflow", "native"):
                    ws = lat["windows"][m]
                    cells.append(f"{ws[i]['p50_ms']:,.0f} / {ws[i]['p99_ms']:,.0f}" if i < len(ws) else "")
            lines.append(f"| {i * width:.0f} | " + " | ".join(cells) + " |")
    if r["latency"]:
        lines += ["", "cdcflow's latency by stage (per row; commit times from pg_xact_commit_timestamp):", "",
                  "| phase | stage | p50 ms | p99 ms | rows |", "|---|---|---|---|---|"]
    for lat in r["latency"]:
        for stage, st in lat["cdcflow_stages"].items():
            lines.append(f"| {phase(lat)} | {stage} | {st['p50_ms']} | {st['p99_ms']} | {st['count']} |")
    lines += ["", "CPU per change (ms) in each phase: Connect (Debezium and the JDBC sink), Kafka, the API (which runs "
              "the event logger) and the PostgreSQL processes working for the path (its walsender, its sink's "
              "backends, and for cdcflow the API's and logger's backends); *stack* is their sum for the path (the "
              "bare pair has no API; native replication is PostgreSQL only). PostgreSQL's total also holds the "
              "benchmark's own writer and pollers (*bench*), background processes and connections that ended during"
              " the phase (*exited*: the API's short probes among them).", "",
              "| phase | path | Connect | Kafka | API | PostgreSQL (path's) | **stack** | PostgreSQL total | bench | "
              "exited |", "|---|---|---|---|---|---|---|---|---|---|"]

    def cpu_row(name: str, cpu: dict | None) -> None:
        if not cpu:
            return
        pgc, path = cpu.get("postgres", {}), cpu["path"]
        shown = {"cdcflow": DAEMONS, "bare": ("connect", "kafka"), "native": ()}[path]
        lines.append(f"| {name} | {path} | " + " | ".join(str(cpu.get(d, "–")) if d in shown else "–"
                                                       for d in DAEMONS)
                     + f" | {pgc.get(path, '–')} | **{cpu['stack']}** | {pgc.get('total', '–')} | "
                       f"{pgc.get('bench', '–')} | {pgc.get('exited', '–')} |")

    for lat in r["latency"]:
        cpu_row(phase(lat), lat.get("cpu"))
    for b in r["burst"]:
        for key in ("cpu", "cpu_native", "cpu_bare"):
            cpu_row(f"burst, {b['tables']} table(s)", b.get(key))
    for b in r["burst"]:
        lines.append(f"\nBurst over {b['tables']} table(s): event log complete "
                     f"{b['event_log_complete_seconds']} s after the first source commit.")
    return "\n".join(lines) + "\n"
