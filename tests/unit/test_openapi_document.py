"""What schemathesis found in /api/openapi.json (tests/integration/test_api_schemathesis.py),
each kept as a check of the document itself."""

from __future__ import annotations

from app.domain.ids import MAX_ID
from app.web.openapi import document


def test_a_material_is_documented_as_the_file_types_it_is_served_as() -> None:
    """Found: a material download answered image/png where the document said JSON."""
    operation = document()["paths"]["/api/cases/{case_id}/materials/{material_id}"]["get"]
    served = set(operation["responses"]["200"]["content"])
    assert served == {"application/pdf", "image/jpeg", "image/png"}


def test_every_path_id_is_documented_within_an_integer_key() -> None:
    """Ids past MAX_ID name nothing (404): the document bounds them, so clients know."""
    for path, item in document()["paths"].items():
        for parameter in item.get("parameters", []):
            schema = parameter["schema"]
            assert schema["type"] == "integer", (path, parameter)
            assert schema["maximum"] == MAX_ID, (path, parameter)
            assert schema["minimum"] in (0, 1), (path, parameter)
