"""A generated company loaded as `voc company` loads it: through the broker and the worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app import company
from tests.harness import ROOT, make_app, wait_until

pytestmark = pytest.mark.integration

UNITS, RESPONSES, SEED = 5, 300, 11


def test_every_generated_response_is_stored_and_counted_in_the_company_barometer(
    embedded_broker: str, tmp_path: Path
) -> None:
    # On `make run`'s broker and stack only: the command produces as any integrator does, and
    # what the worker and the database make of it is tested on every stack elsewhere.
    broker = embedded_broker
    out = tmp_path / "company"
    out.mkdir()
    # The tree first, as the command's users load it: the worker refuses unknown units.
    firm = company.build(UNITS, seed=SEED)
    tree = company.write_tree(firm, out / "org_tree.yaml")
    app = make_app(broker, tmp_path, org_tree_file=str(tree))
    app.start()
    try:
        command = [sys.executable, "-m", "app.cli", "company", "--units", str(UNITS)]
        command += ["--responses", str(RESPONSES), "--seed", str(SEED), "--days", "6"]
        command += ["--out", str(out), "--bootstrap", broker, "--topic", app.topic]
        loaded = subprocess.run(
            command, env=app.env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        assert f"{RESPONSES} responses to {app.topic}" in loaded.stdout
        wait_until(lambda: len(app.rows()) >= RESPONSES, timeout_s=30, message="every response")
        with app.client() as client:
            whole = client.get("/api/v1/barometers", params={"window": "7d"})
            region = client.get(
                "/api/v1/barometers", params={"window": "7d", "org_unit": "region-01"}
            )
    finally:
        app.stop()
    assert len(app.rows()) == RESPONSES
    assert whole.status_code == 200, whole.text
    assert whole.json()["windows"]["7d"]["responses"] == RESPONSES
    assert region.json()["windows"]["7d"]["responses"] == RESPONSES
    assert region.json()["parent"]["org_unit"] == company.COMPANY_ID
