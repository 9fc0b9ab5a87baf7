"""Rulings (民事裁定书) and electronic service vouchers (电子送达凭证): render, sign, verify.

A library with no database or HTTP. Build the heavy objects once per process:

    renderer = RulingRenderer(RenderConfig(...))          # app.ruling.render
    signer = PdfSigner(identity, SignOptions(...))        # app.ruling.sign
    pdf = signer.sign(renderer.render_ruling(data), reason=..., location=...)
    result = verify_pdf(pdf, trust_roots, expected_sha256)  # app.ruling.verify

Modules: model (input), chinese (numerals, dates, line breaking), blocks (template markup),
wording (the provisions each decision cites; the judge's text as sentences), templates (jinja2
loading), layout (pages), marks (QR, seal), render, pki, sign, verify, devtsa (development
timestamp authority). Submodules are imported explicitly so that
importing the pure model does not load reportlab or pyHanko.
"""
