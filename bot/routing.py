"""Is this message really asking for a person (or a phone call)? Plain functions, no Rasa.

The intent classifier learns `request_human` from phrases full of "talk to", "help me", "someone":
on its own it also sends "Can someone help me unblock my PIN?" or "talk to me faster" to the
handoff, and "please call me Tom" to the callback form. A customer who asks a question should get
the answer first (and the offer of a person when there is none), so the guard in bot/nlu.py keeps
`request_human` / `request_callback` only when the message names a person or a call.
"""
from __future__ import annotations

import re

# Words that name a person (or the absence of one: "not a bot") in English and German.
_PERSON = re.compile(
    r"\b("
    r"humans?|human being|persons?|people|agents?|operators?|representatives?|reps?|employees?|staff|"
    r"managers?|supervisors?|colleagues?|advisors?|advisers?|consultants?|team|(?:chat)?bots?|robots?|"
    r"customer (?:service|support|care)|support|live (?:chat|agent|person|support)|real (?:one|person|human)|"
    r"mensch(?:en)?|menschliche[nmrs]?|servicekraft|mitarbeiter(?:in|innen|n)?|personal|personen?|berater(?:in)?|kundenberater(?:in)?|"
    r"kundenservice|kundendienst|kundenbetreuung|service(?:team|mitarbeiter)?|support|sachbearbeiter(?:in)?|"
    r"ansprechpartner(?:in)?|vorgesetzten?|chef|kollegen?|kollegin|agent(?:en)?|echte[nmrs]? person|"
    r"(?:someone|somebody|jemand\w*|jmd) (?:real|echt\w*)"
    r")\b",
    re.IGNORECASE,
)
# "someone" only counts together with talking ("talk to someone", "mit jemandem sprechen").
_SOMEONE = re.compile(r"\b(someone|somebody|anyone|anybody|jemand(?:em|en)?|jmd)\b", re.IGNORECASE)
_TALK = re.compile(
    r"\b(talk|speak|chat|write|transfer|put me through|connect|sprechen|reden|chatten|schreiben|übernehmen|"
    r"uebernehmen|verbinden|weiterleiten)\b", re.IGNORECASE
)
# A call in so many words ("callback", "by phone", "Rückruf", "telefonisch") ...
_CALL_NOUN = re.compile(
    r"\b(callback|call-back|(?:a|the) call back|phone call|by phone|on the phone|over the phone|telephone|"
    r"r(?:ü|ue)ckruf\w*|zur(?:ü|ue)ckruf\w*|angerufen|telefon\w*|anruf|"
    r"(?:by|via|per|über|ueber) e-?mail|(?:by|via|per|über|ueber) mail|"
    r"^\s*call back\s*(?:please|pls)?\s*$|call back (?:later|today|tomorrow|asap|soon)|"
    r"(?:a|the) call\s*(?:instead|back|please|pls)?\s*$)",
    re.IGNORECASE,
)
# ... or a verb of contacting with the customer as its object ("call me", "ruf mich an").
_CALL_VERB = re.compile(
    r"\b(call(?:s|ing|ed)?|ring|phone|e-?mail|mail|contact|reach|ruf|rufe|rufen|ruft|anruf\w*|angerufen|"
    r"zur(?:ü|ue)ckruf\w*|kontaktier\w*|erreich\w*|melden)\b",
    re.IGNORECASE,
)
_OBJECT = re.compile(r"\b(me|us|mich|uns|mir)\b", re.IGNORECASE)
# Questions about a person ("who is your supervisor", "are you one of my employees") ask for no one.
_ABOUT_A_PERSON = re.compile(r"^\s*(who|whose|wer|wem|wessen|are you|do you|bist du|sind sie)\b", re.IGNORECASE)
# "call me Tom", "nenn mich Tom": a name, not a phone call.
_CALL_ME_NAME = re.compile(
    r"\bcall me (?!back\b|later\b|tomorrow\b|today\b|tonight\b|at\b|on\b|in\b|please\b|pls\b|asap\b|now\b|"
    r"when\b|after\b|before\b|between\b|this\b|next\b|again\b|instead\b|if\b|as\b|soon\b|right\b|the\b|"
    r"on my\b|by\b|from\b)[a-z]+",
    re.IGNORECASE,
)


def names_a_person(text: str) -> bool:
    """True when the message asks for, or refers to, a person to talk to."""
    if _ABOUT_A_PERSON.search(text):
        return False
    if _PERSON.search(text):
        return True
    return bool(_SOMEONE.search(text) and _TALK.search(text))


def names_a_call(text: str) -> bool:
    """True when the message is about being called (or contacted) back."""
    if _CALL_ME_NAME.search(text) or re.search(r"\b(refer to me as|nenn(?:e|en sie)? mich)\b", text, re.IGNORECASE):
        return False
    if _CALL_NOUN.search(text):
        return True
    if _CALL_VERB.search(text) and _OBJECT.search(text):
        return True
    return names_a_person(text)


def keeps_intent(intent: str, text: str) -> bool:
    """Whether a predicted request for a person/callback is backed by the words of the message."""
    if intent == "request_human":
        return names_a_person(text)
    if intent == "request_callback":
        return names_a_call(text)
    return True
