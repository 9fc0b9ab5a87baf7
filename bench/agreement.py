"""Benchmark: the mediation agreement's costs per request and per seal.

- text + digest: the template rendered and hashed (every agreement read does this: each screen
  following the agreement polls it, the kiosk once a second);
- handwriting check: one canvas PNG decoded and checked for ink, as a signature arrives;
- sealed render: the PDF with three handwritten signatures;
- seal: render and PAdES-sign with a committee's development key.

Run: .venv/bin/python -m bench.agreement [--runs 50]
Prints median, p95 and throughput (one thread) for each.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import io
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, too

from PIL import Image, ImageDraw

from app.domain.mediation_agreement import Term
from app.ruling.agreement_desk import AgreementDesk
from app.ruling.committee_keys import Committee, CommitteeKeys
from app.ruling.handwriting import read_signature
from app.ruling.model import NaturalPerson
from app.ruling.pki import ensure_dev_pki
from app.ruling.render import RulingRenderer
from app.ruling.sign import SignOptions
from bench.ruling import measure

COMMITTEE = "光明街道人民调解委员会"


def context(sealed: bool) -> dict[str, Any]:
    parties = [
        NaturalPerson("张三", "男", dt.date(1980, 5, 12), "汉族", "广东省深圳市光明区碧水路12号",
                      "440311198005120014"),
        NaturalPerson("赵六", "女", dt.date(1975, 9, 3), "汉族", "广东省深圳市光明区东周路8号",
                      "440311197509030026"),
    ]  # fmt: skip
    terms = (
        Term("赵六向张三赔偿医疗费、误工费等各项损失", Decimal("40000"), dt.date(2026, 12, 31)),
        Term("张三不再就本次事故向赵六主张其他权利"),
    )
    return {
        "committee_name": COMMITTEE,
        "reference": "调1",
        "parties": parties,
        "dispute_type": "人身损害赔偿纠纷",
        "facts": "2026年11月，赵六驾驶电动车与张三发生碰撞，致张三受伤住院",
        "responsibility": "赵六负事故全部责任",
        "terms": terms,
        "performance": "银行转账分两期支付",
        "mediator_name": "李华",
        "sealed": sealed,
        "effective_at": dt.datetime(2026, 12, 6, 8, tzinfo=dt.UTC) if sealed else None,
    }


def handwriting(seed: int) -> bytes:
    """A canvas export the size a kiosk's signature box makes (about 576x176 CSS pixels)."""
    image = Image.new("RGBA", (576, 176), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    points = [(20 + i * 25, 88 + (40 if (i + seed) % 2 else -40)) for i in range(22)]
    pen.line(points, fill=(17, 17, 17, 255), width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    renderer = RulingRenderer()
    images = {"party-0": handwriting(0), "party-1": handwriting(1), "mediator": handwriting(2)}
    canvas = "data:image/png;base64," + base64.b64encode(images["party-0"]).decode()
    with tempfile.TemporaryDirectory() as tmp:
        ensure_dev_pki(Path(tmp), "深圳市光明区人民法院", "粤0311")
        keys = CommitteeKeys(Path(tmp), SignOptions())
        desk = AgreementDesk(renderer, lambda: keys, Path(tmp))
        committee = Committee(1, COMMITTEE)
        started = time.perf_counter()
        signer = keys.signer(committee)
        issued = (time.perf_counter() - started) * 1000
        print(f"committee certificate issued and loaded: {issued:.0f} ms")
        drafting, sealed = context(False), context(True)

        def seal() -> bytes:
            doc = desk.document(sealed)
            pdf = renderer.render_document(
                doc,
                title="人民调解协议书",
                issuer=COMMITTEE,
                subject="人民调解协议书",
                images=images,
            )
            return signer.sign(pdf, reason="人民调解协议书", location=COMMITTEE)

        print(
            f"sealed agreement: {len(seal())} bytes, signature PNG {len(images['party-0'])} bytes"
        )
        measure("text + digest", args.runs, lambda: desk.digest(drafting))
        measure("screen blocks", args.runs, lambda: desk.screen_blocks(drafting))
        measure("handwriting check", args.runs, lambda: read_signature(canvas))
        measure(
            "sealed render",
            args.runs,
            lambda: renderer.render_document(
                desk.document(sealed), title="t", issuer=COMMITTEE, subject="s", images=images
            ),
        )
        measure("seal (render+sign)", args.runs, seal)


if __name__ == "__main__":
    main()
