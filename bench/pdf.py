"""Benchmark: render and sign a realistic 3-page acceptance record.

Run from the project root: ``.venv/bin/python bench/pdf.py``. Prints the cold time (first
render + sign in this fresh process, after imports and key generation), the warm median of
10 runs, the PDF size and the peak resident memory, each against its target. Writes the
last signed PDF to bench/out/acceptance_record.pdf. Exits 1 if a target is missed.
"""
from __future__ import annotations

import resource
import statistics
import sys
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The repository instead of this script's folder: other bench scripts there (workflow_transitions.py used to)
# would shadow installed packages of the same name.
sys.path[0] = str(ROOT)

IMPORT_START = time.perf_counter()
from documents import pki  # noqa: E402
from documents.pdf import render_template_pdf  # noqa: E402
from documents.samples import sample_acceptance_record  # noqa: E402
from documents.signing import sign_pdf  # noqa: E402
from documents.verify import verify_pdf  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - IMPORT_START

TEMPLATE = "pdf/acceptance_record.html"
WARM_RUNS = 10
TARGETS = {"warm_s": 0.6, "cold_s": 2.0, "size_kb": 600, "peak_mb": 350}


def render_and_sign(context: dict, key: pki.SigningKey, cert, chain: list) -> bytes:
    pdf = render_template_pdf(None, TEMPLATE, context)
    return sign_pdf(
        pdf, key, cert, chain,
        field_name="committee", reason="联合验收签署", location="山东省淄博市张店区",
    )


def timed(context: dict, key: pki.SigningKey, cert, chain: list) -> tuple[float, bytes]:
    start = time.perf_counter()
    pdf = render_and_sign(context, key, cert, chain)
    return time.perf_counter() - start, pdf


def peak_rss_mb() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def page_count(pdf: bytes) -> int:
    return int(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"])


def report_line(label: str, value: float, unit: str, target: float) -> bool:
    ok = value <= target
    print(f"  {label:<28}{value:>10.3f} {unit:<3} target <= {target:g} {unit:<3} "
          f"{'ok' if ok else 'MISSED'}")
    return ok


def main() -> int:
    ca_key, ca_cert = pki.create_ca("无极基准测试根证书", "无极")
    key, cert = pki.issue_org_certificate(
        ca_key, ca_cert, "和平社区居民委员会", "553703037628401234"
    )
    context = sample_acceptance_record(items=60, signoffs=8)

    cold, pdf = timed(context, key, cert, [ca_cert])
    warm_runs = [timed(context, key, cert, [ca_cert])[0] for _ in range(WARM_RUNS)]
    verify_start = time.perf_counter()
    report = verify_pdf(pdf, [ca_cert])
    verify_seconds = time.perf_counter() - verify_start

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "acceptance_record.pdf").write_bytes(pdf)

    print(f"Acceptance record: {len(context['checklist'])} checklist items, "
          f"{len(context['signoffs'])} sign-offs, {page_count(pdf)} pages, "
          f"signature valid: {report.valid}")
    print(f"  {'imports (not counted)':<28}{IMPORT_SECONDS:>10.3f} s")
    print(f"  {'warm min / max':<28}{min(warm_runs):>10.3f} / {max(warm_runs):.3f} s")
    print(f"  {'verify (1 signature)':<28}{verify_seconds:>10.3f} s")
    results = [
        report_line("render+sign warm (median)", statistics.median(warm_runs), "s",
                    TARGETS["warm_s"]),
        report_line("render+sign cold (first)", cold, "s", TARGETS["cold_s"]),
        report_line("signed PDF size", len(pdf) / 1024, "KB", TARGETS["size_kb"]),
        report_line("peak memory (maxrss)", peak_rss_mb(), "MB", TARGETS["peak_mb"]),
    ]
    return 0 if all(results) and report.valid else 1


if __name__ == "__main__":
    sys.exit(main())
