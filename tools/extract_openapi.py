#!/usr/bin/env python3
"""Machine-made extract of the Intercom OpenAPI 2.15 description, for spec-fidelity tests.

Reads the official description (MIT licensed, Intercom Inc.) and writes a compact JSON file that
keeps only what a response validator needs: every path and method with its response status codes
and their `application/json` schemas, plus `components.schemas`. All prose (descriptions,
examples, summaries, titles, vendor `x-*` keys, defaults) is stripped; `$ref`s are kept as they
are (they all point into `#/components/schemas/`) and are resolved by `tests/it/openapi.rs`.

Regenerate (from the repository root):

    python3 tools/extract_openapi.py SPEC [OUT]

SPEC is Intercom's official OpenAPI description of version 2.15, as JSON (Intercom publishes it
in its Intercom-OpenAPI repository on GitHub); OUT defaults to
tests/fixtures/intercom-openapi-2.15-extract.json. Python 3 standard library only.

Extract layout:

    {"source": {...},
     "paths": {"/contacts/{contact_id}": {"get": {"200": <schema>, "404": <schema>, ...}}},
     "schemas": {"contact": <schema>, ...}}

A status whose response has no `application/json` schema (202 with an empty body, a 302
redirect, an examples-only error) maps to `null`: the status is documented, the body is not.
"""

import json
import os
import sys

DEFAULT_OUT = os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "tests",
    "fixtures",
    "intercom-openapi-2.15-extract.json",
))

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# Schema keywords kept verbatim (their values are data, not prose).
SCALAR_KEYWORDS = (
    "type",
    "$ref",
    "nullable",
    "enum",
    "format",
    "required",
    "maxItems",
    "minItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "pattern",
)
# Keywords whose value is a schema, or a list / map of schemas.
SCHEMA_KEYWORDS = ("items", "not")
SCHEMA_LIST_KEYWORDS = ("allOf", "oneOf", "anyOf")
# Keywords dropped on purpose: prose and presentation only.
DROPPED_KEYWORDS = ("description", "example", "examples", "title", "summary", "default")


def strip_schema(schema, where):
    """Return a copy of an OpenAPI 3.0 schema object with prose removed.

    Walks the schema structurally, so a *property* called `description` or `title` is kept
    while the `description` keyword is dropped. Unknown non-`x-` keywords stop the script,
    so a future spec cannot silently lose a constraint.
    """
    if not isinstance(schema, dict):
        raise SystemExit(f"{where}: schema is not an object: {schema!r}")
    out = {}
    for key, value in schema.items():
        if key in SCALAR_KEYWORDS:
            out[key] = value
        elif key in SCHEMA_KEYWORDS:
            out[key] = strip_schema(value, f"{where}/{key}")
        elif key in SCHEMA_LIST_KEYWORDS:
            out[key] = [strip_schema(v, f"{where}/{key}/{i}") for i, v in enumerate(value)]
        elif key == "properties":
            out[key] = {
                name: strip_schema(sub, f"{where}/properties/{name}")
                for name, sub in value.items()
            }
        elif key == "additionalProperties":
            if isinstance(value, bool):
                out[key] = value
            else:
                out[key] = strip_schema(value, f"{where}/{key}")
        elif key in DROPPED_KEYWORDS or key.startswith("x-"):
            continue
        else:
            raise SystemExit(f"{where}: unhandled schema keyword {key!r}")
    return out


def resolve_response(spec, response):
    """Follow a `$ref` to `#/components/responses/...` (one level is all 2.15 uses)."""
    ref = response.get("$ref")
    if ref is None:
        return response
    prefix = "#/components/responses/"
    if not ref.startswith(prefix):
        raise SystemExit(f"unexpected response $ref {ref}")
    return spec["components"]["responses"][ref[len(prefix):]]


def extract(spec):
    paths = {}
    for template, item in spec["paths"].items():
        methods = {}
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue  # path-level `parameters`, `summary`, ...
            statuses = {}
            for status, response in operation.get("responses", {}).items():
                response = resolve_response(spec, response)
                media = response.get("content", {}).get("application/json", {})
                schema = media.get("schema")
                where = f"{method.upper()} {template} {status}"
                statuses[status] = None if schema is None else strip_schema(schema, where)
            methods[method] = statuses
        paths[template] = methods
    schemas = {
        name: strip_schema(schema, f"#/components/schemas/{name}")
        for name, schema in spec["components"]["schemas"].items()
    }
    info = spec.get("info", {})
    return {
        "source": {
            "file": "api.intercom.io.2.15.json",
            "openapi": spec.get("openapi"),
            "api_version": info.get("version"),
            "license": "MIT (Intercom Inc.); machine-made extract, prose removed",
            "generator": "tools/extract_openapi.py",
        },
        "paths": paths,
        "schemas": schemas,
    }


def main(argv):
    if len(argv) < 2:
        sys.exit("usage: extract_openapi.py SPEC [OUT] (SPEC: Intercom's OpenAPI 2.15 JSON)")
    spec_path = argv[1]
    out_path = argv[2] if len(argv) > 2 else DEFAULT_OUT
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    result = extract(spec)
    text = json.dumps(result, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")
    operations = sum(len(m) for m in result["paths"].values())
    print(
        f"wrote {out_path}: {len(result['paths'])} paths, {operations} operations, "
        f"{len(result['schemas'])} schemas, {len(text)} bytes"
    )


if __name__ == "__main__":
    main(sys.argv)
