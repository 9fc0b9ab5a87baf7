"""Every JSON request body of the API, declared once as a msgspec model. Pure.

The web layer decodes bodies with these models (check.decode) and the OpenAPI document takes
its request-body schemas from them (app/web/openapi/bodies.py), so the two cannot drift. The
domain's readers still check what no shape can say (check digits, cross-field rules, the
clock), and read page forms with the same rules.
"""
