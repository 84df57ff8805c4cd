"""The machine a benchmark ran on, recorded beside its figures."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

import psutil


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, else the platform's answer."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def describe() -> dict:
    """Return nproc, memory, CPU model, OS, Python version and the UTC date."""
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
