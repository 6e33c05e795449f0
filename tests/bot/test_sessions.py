"""Widget session ids: issued and signed by the server; the conversation id is derived from them one way."""

from bot.sessions import new_session_id, sender_for, session_for, verified

SECRET = b"test-secret"


def test_issued_ids_verify_and_are_resumed():
    issued = new_session_id(SECRET)
    assert verified(issued, SECRET)
    assert session_for(issued, SECRET) == issued


def test_ids_the_server_did_not_issue_get_a_new_session():
    issued = new_session_id(SECRET)
    nonce, signature = issued.split(".")
    for claimed in (
        None,
        "",
        42,
        nonce,
        f"{nonce}.{'0' * 32}",
        f"{nonce}.{signature.upper()}",
        issued + "x",
        new_session_id(b"another-secret"),
        sender_for(issued, SECRET),
    ):
        fresh = session_for(claimed, SECRET)
        assert fresh != claimed and verified(fresh, SECRET)


def test_the_conversation_id_does_not_reveal_the_session():
    issued = new_session_id(SECRET)
    sender = sender_for(issued, SECRET)
    assert sender.startswith("web-") and issued.split(".")[0] not in sender
    assert sender == sender_for(issued, SECRET) != sender_for(new_session_id(SECRET), SECRET)
