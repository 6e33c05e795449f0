"""One FAQ for every replica: two action servers, each with its own FAQ copy and index directory (as on two
machines), answer an entry published in the handoff service within seconds, without a restart; a third one
started later catches up; with the handoff service gone they keep answering."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from scripts.replicas import Replicas

pytestmark = pytest.mark.e2e

QUESTION = "Can I bring my dog to your shop?"
ANSWER = "Dogs on a lead are welcome in all our shops."
ENTRY = {
    "id": "dogs-in-shops",
    "language": "en",
    "new": True,
    "answer": ANSWER,
    "questions": ["Can I bring my dog to your shop?", "Are dogs allowed in your stores?"],
}


def _database(backend: str, base: Path):
    if backend == "sqlite":
        return "", None
    from scripts.prod import LocalPostgres, pg_bindir

    if pg_bindir() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    base.chmod(0o755)  # the postgres user must reach its cluster directory
    from scripts.stack import free_port

    postgres = LocalPostgres(base / "pg", port=free_port(), durable=False).start()
    postgres.create_database("handoff")
    return postgres.url("handoff"), postgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def replicas(request):
    base = Path(tempfile.mkdtemp(prefix="faq-replicas-"))
    url, postgres = _database(request.param, base)
    running = Replicas(base, count=3, database_url=url)
    try:
        running.prepare()
        running.start_handoff()
        running.start_actions(0)
        running.start_actions(1)
        yield running
    except Exception:
        for log in sorted((base / "logs").glob("*.log")):
            print(f"----- {log.name} -----\n{log.read_text(errors='replace')[-4000:]}")
        raise
    finally:
        running.stop()
        if postgres is not None:
            postgres.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


def test_every_replica_answers_a_published_entry_within_seconds(replicas):
    assert not replicas.answers(0, QUESTION, ANSWER) and not replicas.answers(1, QUESTION, ANSWER)

    replicas.publish(ENTRY)
    delays = [replicas.wait_until_answered(n, QUESTION, ANSWER, timeout=10) for n in (0, 1)]
    assert None not in delays, f"not answered within 10 s by every replica: {delays}"
    assert max(delays) < 5, delays
    for n in (0, 1):  # each replica's own FAQ files and index are untouched: the change lives in memory
        home = replicas.base / f"actions-{n}"
        assert "dogs-in-shops" not in (home / "faq" / "en.yml").read_text(encoding="utf-8")
        assert not (home / "kb_index" / "live.json").exists()

    replicas.start_actions(2)  # a replica that starts later catches up from the stored changes
    assert replicas.answers(2, QUESTION, ANSWER)

    replicas.stop_handoff()  # the handoff service gone: every replica keeps answering from its index
    deadline = time.monotonic() + 10
    while "cannot read FAQ changes" not in replicas.log("actions-0") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "cannot read FAQ changes" in replicas.log("actions-0")  # said once, and retried
    for n in (0, 1, 2):
        assert replicas.answers(n, QUESTION, ANSWER)
        other = replicas.ask(n, "How do I reset my password?")["responses"]
        assert [r["response"] for r in other][:1] == ["utter_kb_answer"], other
