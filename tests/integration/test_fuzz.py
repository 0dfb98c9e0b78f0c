"""Fuzzing the REST API from its OpenAPI schema: no 5xx, every error a JSON body with a message."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import settings
from schemathesis import Case, CheckContext, Response, checks
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.harness import PASSWORD, App, make_app
from tests.integration.conftest import PRODUCTION_STACK

pytestmark = pytest.mark.integration

# The fuzzer signs in as an admin of its own, so no other user's sessions are involved.
FUZZ_ADMIN = "fuzz.admin"
LOGOUT = "/api/v1/auth/logout"
CONFIG = {
    # Deterministic generation from a fixed seed: CI sees the same cases on every run.
    "seed": 20240601,
    "generation": {"deterministic": True, "database": "none"},
    # Report every distinct failure of an operation, not only the first.
    "continue-on-failure": True,
    # The stateful phase follows links between operations; the schema declares none.
    "phases": {"stateful": {"enabled": False}},
}
# Left out everywhere: "schema-valid request rejected". Rules the schema cannot state (a score's
# range depends on score_kind, unknown or out-of-scope org units, an opaque cursor) answer 4xx by
# design. Every status the API answers is documented, so status codes are checked.
EXCLUDED = [checks.positive_data_acceptance]
EXCLUDED_FOR = {
    # Signing out without a session is not an error, yet the schema marks the bearer required.
    f"POST {LOGOUT}": [
        checks.ignored_auth,
        checks.missing_required_header,
        checks.negative_data_rejection,
    ],
    # Prometheus text, while FastAPI documents every answer as application/json.
    "GET /metrics": [checks.content_type_conformance],
}
# "Schema-violating request accepted" misfires on query strings: FastAPI ignores unknown query
# parameters, `action=false` is a valid string on the wire, and `since=0.5` reads as a Unix time.
EXCLUDED_FOR_GET = [checks.negative_data_rejection]


@dataclass
class Fuzzed:
    """The app under fuzz and the credentials its cases carry."""

    app: App
    headers: dict[str, str]
    # A second session of the fuzz admin, the only one POST /auth/logout may end.
    logout_headers: dict[str, str]


@pytest.fixture(scope="module")
def fuzzed(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    # Sign-ins are rate limited per address; the fuzzer's many attempts must reach the handler.
    app = make_app(broker, tmp_path_factory.mktemp("fuzz"), login_attempts_per_minute="100000")
    app.start()
    app.add_user(FUZZ_ADMIN, "admin", ())
    headers = {"Authorization": f"Bearer {app.sign_in(FUZZ_ADMIN, PASSWORD)}", "X-API-Key": app.key}
    logout = {"Authorization": f"Bearer {app.sign_in(FUZZ_ADMIN, PASSWORD)}"}
    yield Fuzzed(app, headers, logout)
    app.stop()


@pytest.fixture(scope="module")
def api(fuzzed: Fuzzed) -> OpenApiSchema:
    return schemathesis.openapi.from_url(
        f"{fuzzed.app.url}/openapi.json", config=schemathesis.Config.from_dict(CONFIG)
    )


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32 names each operation's subtest by editing `Node._nodeid`, an attribute
    # pytest 9.2 no longer has (it reads `_id`); without it every lazily loaded test errors out.
    node = request.node
    if not hasattr(node, "_nodeid"):
        node._nodeid = node.nodeid


def json_error_problem(status: int, content_type: str, text: str) -> str | None:
    """What is wrong with an answer, if it is an error that is not JSON with a `message`."""
    if status < 400:
        return None
    media_type = content_type.split(";")[0].strip()
    if media_type != "application/json":
        return f"{status} answered {media_type or 'no Content-Type'}: {text[:200]!r}"
    try:
        body = json.loads(text)
    except ValueError:
        return f"{status} body is not JSON: {text[:200]!r}"
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        return f"{status} body has no message: {text[:200]!r}"
    return None


def error_is_json_with_message(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """Every 4xx and 5xx answer is `application/json` with a non-empty string `message`."""
    content_type = response.headers.get("content-type", [""])[0]
    problem = json_error_problem(response.status_code, content_type, response.text)
    assert problem is None, problem


def _validate(case: Case[Any], headers: dict[str, str] | None = None) -> None:
    excluded = EXCLUDED + EXCLUDED_FOR.get(case.operation.label, [])
    if case.method == "GET":
        excluded += EXCLUDED_FOR_GET
    case.call_and_validate(
        headers=headers, additional_checks=[error_is_json_with_message], excluded_checks=excluded
    )


schema = schemathesis.pytest.from_fixture("api")

# The generated cases run on production's stack: PostgreSQL refuses more than SQLite does (a
# string over its column's length, a time without its zone), and both stacks answer from the
# same handlers. What SQLite refuses in its own way (an integer past 64 bits) is pinned below
# and runs on both.
ON_POSTGRESQL = pytest.mark.stacks(PRODUCTION_STACK)


@ON_POSTGRESQL
@schema.parametrize()
@settings(max_examples=25, deadline=None)
def test_admin_and_integrator_get_no_server_error_and_json_errors(
    case: Case[Any], fuzzed: Fuzzed
) -> None:
    # A new password, another role or disabling would sign the fuzzer's own admin out.
    if (case.path_parameters or {}).get("username") == FUZZ_ADMIN:
        return
    _validate(case, fuzzed.logout_headers if case.path == LOGOUT else fuzzed.headers)


@ON_POSTGRESQL
@schema.parametrize()
@settings(max_examples=10, deadline=None)
def test_callers_without_valid_credentials_get_no_server_error_and_json_errors(
    case: Case[Any],
) -> None:
    # The fuzzer sends no credentials or ones it made up (its generated security parameters).
    _validate(case)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


# Integers past the database's 64-bit range, which the fuzzer found (the cursor by review):
# random generation reaches them only now and then, so they are pinned here.
OUT_OF_RANGE = [
    ("DELETE", f"/api/v1/admin/keys/{2**63}", {}),
    ("GET", "/api/v1/admin/audit", {"before": str(2**63)}),
    ("GET", "/api/v1/responses", {"cursor": _cursor(f"r{2**63}")}),
]


@pytest.mark.parametrize(("method", "path", "params"), OUT_OF_RANGE)
def test_integer_past_the_database_range_answers_a_json_4xx(
    fuzzed: Fuzzed, method: str, path: str, params: dict[str, str]
) -> None:
    with httpx.Client(base_url=fuzzed.app.url, headers=fuzzed.headers, timeout=15) as client:
        answer = client.request(method, path, params=params)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    problem = json_error_problem(
        answer.status_code, answer.headers.get("content-type", ""), answer.text
    )
    assert problem is None, problem
