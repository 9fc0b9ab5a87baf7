"""Benchmark: render, sign (B-B), render+sign, and B-T against a local development TSA.

Run: .venv/bin/python -m bench.ruling [--runs 50]
Prints median, p95 and throughput (documents per second, one thread) for each step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, too

from app.ruling.devtsa import tsa_in_thread
from app.ruling.model import Agent, NaturalPerson, RulingData
from app.ruling.pki import ensure_dev_pki, ensure_dev_tsa, load_dev_identity
from app.ruling.render import RulingRenderer
from app.ruling.sign import PdfSigner, SignOptions

COURT = "深圳市光明区人民法院"


def sample() -> RulingData:
    a = NaturalPerson(
        "张三", "男", date(1985, 3, 2), "汉族", "广东省深圳市光明区华夏路8号", "440311198503021234"
    )
    b = NaturalPerson(
        "李四",
        "女",
        date(1990, 7, 15),
        "汉族",
        "广东省深圳市宝安区创业二路18号",
        "44030619900715262X",
    )
    terms = (
        "张三于2026年12月10日前一次性向李四支付医疗费、误工费、护理费、交通费等各项损失共计"
        "人民币35,000元（大写：叁万伍仟元整），款项通过银行转账方式支付至李四指定账户。",
        "李四收到上述款项后，不再就2026年10月3日发生的人身损害事件向张三主张任何权利。",
        "本协议自双方签字、人民调解员签名并加盖人民调解委员会印章之日起生效。",
    )
    return RulingData(
        court_name=COURT, case_number="（2026）粤0311民特123号", outcome="confirmed",
        applicants=(a, b), agents=(Agent("赵六", "李四", "特别授权"),),
        committee_name="光明街道人民调解委员会", application_date=date(2026, 11, 20),
        agreement_date=date(2026, 11, 18), terms=terms, judge_name="陈明", clerk_name="林静",
        decision_date=date(2026, 11, 27),
        verification_url="https://sifa.example.cn/verify/2026-0311-123?k=Q7f3Xa9",
    )  # fmt: skip


def measure(name: str, runs: int, fn: Callable[[], object]) -> None:
    fn()  # warm-up: first-use costs (font subsetting tables, imports) are not steady state
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    times.sort()
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"{name:<22} median {median * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
        f"throughput {len(times) / sum(times):6.1f}/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    started = time.perf_counter()
    renderer = RulingRenderer()
    print(f"renderer start-up (font + templates): {(time.perf_counter() - started) * 1000:.0f} ms")
    data = sample()
    pdf = renderer.render_ruling(data)
    with tempfile.TemporaryDirectory() as tmp:
        pki = ensure_dev_pki(Path(tmp), COURT, "粤0311")
        identity = load_dev_identity(pki)
        signer = PdfSigner(identity)
        signed = signer.sign(pdf, reason="r", location="l")
        print(f"ruling: {len(pdf)} bytes unsigned, {len(signed)} signed")
        measure("render", args.runs, lambda: renderer.render_ruling(data))
        measure(
            "sign B-B", args.runs, lambda: signer.sign(pdf, reason="民事裁定书", location=COURT)
        )
        measure(
            "render+sign B-B",
            args.runs,
            lambda: signer.sign(renderer.render_ruling(data), reason="民事裁定书", location=COURT),
        )
        tsa = ensure_dev_tsa(Path(tmp), pki)
        with tsa_in_thread(tsa) as url:
            bt = PdfSigner(identity, SignOptions(timestamp_url=url))
            measure(
                "sign B-T (local TSA)",
                max(10, args.runs // 2),
                lambda: bt.sign(pdf, reason="民事裁定书", location=COURT),
            )


if __name__ == "__main__":
    main()
