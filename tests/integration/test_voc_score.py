"""`voc score` as an analyst runs it: a survey export on stdin, one JSON line out per line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _score(stdin: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "score"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )


def test_an_export_is_scored_line_for_line_in_order(tmp_path: Path) -> None:
    rows = [
        {
            "id": "a",
            "comment": "Third time I call about the same invoice.",
            "score": 2,
            "score_kind": "nps",
        },
        {
            "id": "b",
            "comment": "Friendly engineer, fixed in ten minutes. Thank you!",
            "score": 10,
            "score_kind": "nps",
        },
        {"id": "c", "comment": "Colis jamais livré et aucune réponse du service client."},
        {"id": "d", "comment": "Il tecnico non è mai venuto.", "score": 1, "score_kind": "csat"},
        {"id": "e", "score": 6, "score_kind": "ces"},
        {
            "id": "f",
            "comment": "Der Techniker ist nicht gekommen.",
            "score": 1,
            "score_kind": "csat",
        },
    ]
    done = _score("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), tmp_path)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c", "d", "e", "f"]
    a, b, c, d, e, f = out
    assert (a["language"], a["dissatisfied"], a["severity"]) == ("en", True, "high")
    assert (
        a["sentiment"] < 0
        and {"kind": "score", "label": "NPS 2: very poor (0\u20133)"} in a["reasons"]
    )
    assert (b["dissatisfied"], b["severity"], b["reasons"]) == (False, "none", [])
    assert b["sentiment"] > 0
    assert (c["language"], c["dissatisfied"]) == ("fr", True)
    assert "jamais livré" in [r["label"] for r in c["reasons"] if r["kind"] == "phrase"]
    # Italian is read: the comment adds its own reasons to the score's.
    assert (d["language"], d["dissatisfied"], d["severity"]) == ("it", True, "high")
    assert d["sentiment"] < 0 and "mai venuto" in [r["label"] for r in d["reasons"]]
    assert e["language"] is None and e["sentiment"] is None and e["severity"] == "low"
    # German: not assessed (null, never 0.0); the score alone flags it.
    assert (f["language"], f["sentiment"], f["severity"]) == ("de", None, "medium")


def test_bad_lines_are_answered_in_place_and_the_exit_status_says_so(tmp_path: Path) -> None:
    stdin = '{"comment": "Still waiting."}\n{"comment": \n{"score": 4}\n\n{"comment": "Great!"}\n'
    done = _score(stdin, tmp_path)
    assert done.returncode == 1
    assert "2 line(s) could not be scored" in done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["dissatisfied"] is True
    assert out[1]["line"] == 2 and "Invalid JSON" in out[1]["error"]
    assert out[2] == {
        "line": 3,
        "error": "line: Value error, score needs score_kind (nps, csat or ces)",
    }
    assert out[3]["language"] == "en" and out[3]["dissatisfied"] is False
