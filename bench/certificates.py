"""Benchmark: certificate PDFs against the floor of a bare WeasyPrint render.

    .venv/bin/python bench/certificates.py [--count 200] [--max-ratio 3]

Renders COUNT certificates with varied names in one process, then as many bare one-line pages
(`weasyprint.HTML(string="<p>x</p>").write_pdf()`). Prints per-PDF median and p95 times, the
median ratio certificate/floor, the process's peak RSS after the certificates (also before any
PDF, once Django and WeasyPrint are loaded, and after the floor pass) and, in a separate slower
pass (tracemalloc slows Python down), the peak of Python allocations while rendering one
certificate. `--max-ratio` makes it exit 1 when the ratio is above that.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# Run as a script, this folder comes first on sys.path, and this file is itself called
# `certificates`: put the project root there instead, so that `certificates` is the app.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

FIRST_NAMES = ["Siobhán", "Zoë", "Mohammed", "Aoife", "Dafydd", "Priya", "Jürgen", "Kwame"]
LAST_NAMES = ["Ní Bhriain", "Łukasiewicz", "Okafor", "MacLeod", "ap Gruffydd", "Øvergård"]
FORCES = ["Police Scotland", "Metropolitan Police Service", "Dyfed-Powys Police", ""]
COURSES = [
    "Naloxone: recognising and responding to an opioid overdose",
    "Trauma-informed practice",
    "Reducing stigma in everyday policing",
    "Recorded police warnings and diversion into treatment: a practical guide for response "
    "officers and custody sergeants",
]


def _signature() -> bytes:
    import segno

    out = io.BytesIO()
    segno.make("Signature", micro=False).save(out, kind="png", scale=3)
    return out.getvalue()


def certificates(count: int) -> list:
    from certificates.pdf import CertificateData

    signature = _signature()
    issued = date(2026, 1, 5)
    result = []
    for index in range(count):
        number = f"PW-2026-{index + 1:06d}"
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
        result.append(
            CertificateData(
                number=number,
                officer_name=f"{first} {last}",
                service_number=f"S{10000 + index * 37}",
                force_name=FORCES[index % len(FORCES)],
                course_title=COURSES[index % len(COURSES)],
                issued_on=issued + timedelta(days=index),
                expires_on=None if index % 3 == 0 else issued + timedelta(days=index + 3 * 365),
                verify_url=f"https://pathways.example.police.uk/certificates/verify/{number}/",
                signatory_name="Dr Jane Smith" if index % 2 else "",
                signatory_role="Head of Training" if index % 2 else "",
                signatory_image=signature if index % 4 == 1 else None,
            )
        )
    return result


def _summary(samples: list[float]) -> str:
    p95 = statistics.quantiles(samples, n=100)[94] if len(samples) > 1 else samples[0]
    return f"median_ms={statistics.median(samples):.2f} p95_ms={p95:.2f}"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="PDFs of each kind to render")
    parser.add_argument("--max-ratio", type=float, default=None, help="fail above this ratio")
    args = parser.parse_args(argv)
    count = max(args.count, 2)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pathways.settings_test")
    import django

    django.setup()
    # WeasyPrint logs every rendering step at INFO; the settings log INFO to the console.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)

    import weasyprint

    from certificates.pdf import render_certificate_pdf

    data = certificates(count)
    rss_before_mb = _peak_rss_mb()

    start = time.perf_counter()
    first = render_certificate_pdf(data[0])
    first_ms = (time.perf_counter() - start) * 1000
    weasyprint.HTML(string="<p>x</p>").write_pdf()  # warm the floor too

    # Certificates first, then the floor: not interleaved, so that the peak RSS after the first
    # pass is the certificates' own. (A bare render builds a new FontConfiguration each time, and
    # each one keeps about a quarter of a megabyte that is never given back: pdf.py reuses one.)
    certificate_ms: list[float] = []
    sizes: list[int] = []
    for item in data:
        start = time.perf_counter()
        sizes.append(len(render_certificate_pdf(item)))
        certificate_ms.append((time.perf_counter() - start) * 1000)
    certificate_rss_mb = _peak_rss_mb()

    floor_ms: list[float] = []
    for _ in data:
        start = time.perf_counter()
        weasyprint.HTML(string="<p>x</p>").write_pdf()
        floor_ms.append((time.perf_counter() - start) * 1000)
    floor_rss_mb = _peak_rss_mb()

    traced = data[: min(count, 20)]
    tracemalloc.start()
    peaks = []
    for item in traced:
        tracemalloc.reset_peak()
        render_certificate_pdf(item)
        peaks.append(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()

    ratio = statistics.median(certificate_ms) / statistics.median(floor_ms)
    print(
        f"certificate_pdf count={count} {_summary(certificate_ms)} first_ms={first_ms:.1f} "
        f"mean_kb={statistics.mean(sizes) / 1024:.1f} first_kb={len(first) / 1024:.1f}"
    )
    print(f"floor_pdf count={count} {_summary(floor_ms)}")
    print(f"ratio median_certificate/median_floor={ratio:.2f}")
    print(
        f"memory peak_rss_mb={certificate_rss_mb:.1f} (after the certificates) "
        f"rss_before_rendering_mb={rss_before_mb:.1f} floor_peak_rss_mb={floor_rss_mb:.1f} "
        f"tracemalloc_peak_mb={max(peaks) / 1024 / 1024:.2f} (one certificate, max of "
        f"{len(traced)})"
    )
    if args.max_ratio is not None and ratio > args.max_ratio:
        print(f"FAIL ratio {ratio:.2f} > {args.max_ratio}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
