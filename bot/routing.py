"""Is this message really asking for a person (or a phone call)? Plain functions, no Rasa.

The intent classifier learns `request_human` from phrases full of "talk to", "help me", "someone":
on its own it also sends "Can someone help me unblock my PIN?" or "talk to me faster" to the
handoff, and "please call me Tom" to the callback form. A customer who asks a question should get
the answer first (and the offer of a person when there is none), so the guard in bot/nlu.py keeps
`request_human` / `request_callback` only when the message names a person or a call.
"""

from __future__ import annotations

import re

from core.contact import ABOUT_CONTACT

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
_SOMEONE = re.compile(
    r"\b(someone|somebody|anyone|anybody|jemand(?:em|en)?|jmd|irgendwer|irgendjemand(?:em|en)?)\b", re.IGNORECASE
)
_TALK = re.compile(
    r"\b(talk|speak|chat|write|transfer|put me through|connect|sprechen|reden|chatten|schreiben|übernehmen|"
    r"uebernehmen|verbinden|weiterleiten)\b",
    re.IGNORECASE,
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


# --- Requests the intent classifier missed ---------------------------------------------------------------
# The classifier learns requests for a person from a few hundred phrases; customers find other words
# ("this bot is useless, get me a person", "Verbinde mich bitte mit dem Support"). A message that names a
# person (or a call) AND asks for one in so many words is a request, whatever the classifier said.
# Person words that mean a person to talk to and little else ("people", "service", "support" as a verb do not).
_A_PERSON = re.compile(
    r"\b(humans?|human being|(?:a|an|one|real|actual|live|living|single) person|agents?|operators?|representatives?|"
    r"reps?|employees?|staff(?: member)?|consultants?|advisors?|advisers?|supervisors?|managers?|colleagues?|"
    r"customer (?:service|support|care)|support (?:team|staff|agent|desk)|(?:the|your|a|to) support|live (?:chat|agent|support)|"
    r"someone real|somebody real|(?:someone|somebody|anyone|one|a person) (?:from|of|in) (?:the |your )?(?:support|service|team|customer)\w*|"
    r"(?:someone|somebody|one) of (?:you|yours|your people)|real (?:support|help|people)|not (?:an? )?(?:automated|automatic)|"
    r"(?:einer|eine|einen|mit einer) (?:\w+ )?person|fachm(?:a|ä)nn\w*|fachfrau|fachleute\w*|expert(?:e|en|in)|spezialist(?:en|in)?|"
    r"(?:jemand\w*|irgendwer|irgendjemand\w*) (?:vom fach|am anderen ende)|(?:someone|somebody|anyone) (?:on the other end|who knows)|mensch(?:en)?|menschliche[nmrs]? \w+|mitarbeiter(?:in|innen|n)?|servicemitarbeiter\w*|"
    r"berater(?:in)?|kundenberater(?:in)?|kolleg(?:e|en|in)|kundenservice|kundendienst|kundenbetreuung|servicekraft|"
    r"sachbearbeiter(?:in)?|ansprechpartner(?:in)?|vorgesetzten?|verantwortliche[nmr]?|zuständige[nmr]?|"
    r"(?:dem|den|zum|mit dem|ans?|vom|von eurem|von ihrem) (?:support|service|team|kundenservice)|"
    r"(?:jemand\w*|wem|wen|einer?) (?:von (?:euch|ihnen|dir)|aus dem (?:team|support|service))|persönliche (?:beratung|hilfe)|"
    r"(?:jemand\w*|irgendwer|irgendjemand\w*|someone|somebody|anyone|anybody) (?:\w+ ){0,2}(?:persönlich|personally|in person)|"
    r"support-?team|aus fleisch und blut|(?:of )?flesh and blood|echte[nmrs]? (?:person|support|hilfe|menschen)|richtige[nmrs]? (?:person|support|hilfe)|jemand(?:en|em)? (?:echtes|echten|richtiges))\b",
    re.IGNORECASE,
)
_ASK = re.compile(
    r"\b(get me|give me|gimme|put me (?:through|in touch)|(?:be|get|being) put through|"
    r"connect(?: me)?(?: to| with)?|transfer(?: me)?|"
    r"hand me over|escalate|i (?:want|need)|i(?: would|'d|’d) (?:like|prefer)|let me (?:talk|speak|chat)|"
    r"(?:can|could|may) i (?:talk|speak|chat|get|have)|is there (?:a|an|any)|are there any|"
    r"(?:talk|speak|chat) (?:to|with)|an actual|a real|take over|forward me|help me|"
    r"ich (?:will|möchte|moechte|mag|hätte gerne?|haette gerne?|brauche|würde gerne?|wuerde gerne?)|"
    r"gib mir|geben sie mir|hol(?:en sie)? mir|verbinde\w*|verbunden|durchstellen|weiterleit\w*|leite\w*|übernehm\w*|"
    r"ich (?:bräuchte|braeuchte|hätte gern\w*)|(?:würde|wuerde|möchte|moechte|hätte|haette) ich (?:\w+ )?gern\w*|(?:weiter)?helfen|hilft|"
    r"besprechen|klären|klaeren|durchgehen|loswerden|sort (?:this|it) out|go through|"
    r"(?:kann|könnte|koennte) (?:mir|ihr|ihm|uns) (?:ein|eine|jemand)|(?:ist|sitzt) (?:hier|da|bei euch) (?:\w+ )?(?:ein|eine|jemand|irgendwer|irgendjemand)|"
    r"gibt'?s|gibt es|"
    r"(?:kann|könnte|koennte|darf) ich (?:mit|einen|eine|bitte)|gibt es (?:hier |da |bei euch |bei ihnen )?(?:auch )?"
    r"(?:einen|eine|jemand)|(?:mit|einen?|eine[mn]?) (?:echten|richtigen|menschlichen|lebendigen)|sprechen|reden|"
    r"chatten|please|pls|plz|bitte|now|jetzt|sofort)\b",
    re.IGNORECASE,
)
# Asking about a contact channel (number, hours, address) or a price is a question the FAQ answers; so is a
# question about the bot itself, or why something does not work. Stopping a callback is a cancellation.
_ABOUT_CONTACT = ABOUT_CONTACT  # core/contact.py: actions/requests.py uses the same words
_NOT_A_REQUEST = re.compile(
    r"\b(cost|costs|price|kostet|kosten|preis|gebühr|how much|wie viel|are you|you are|be a|am i|bist du|"
    r"sind sie ein|jobs?|job openings?|careers?|vacanc\w*|hiring|stellenangebot\w*|offene stellen|ausbildung\w*|praktik\w*|"
    r"bewerb\w*)\b|"
    r"^\s*(?:why|warum|wieso|weshalb)\b",
    re.IGNORECASE,
)
# ... and so is not wanting calls at all ("ich will nicht, dass ihr mich anruft", "Werbeanrufe verhindern", "ihr ruft
# mich ständig an, wie stell ich das ab").
_CANCELS = re.compile(
    r"\b(cancel\w*|stornier\w*|absagen|abbrechen|nicht mehr|no longer|don't need|brauche? kein\w*|"
    r"(?:will|möchte|moechte|wollen|möchten) (?:\w+ )?nicht,? dass|nicht (?:\w+ )?angerufen werden|keine anrufe|"
    r"(?:don't|dont|do not) (?:want (?:you|anyone|to be)|call)|no calls|stop (?:calling|ringing)|"
    r"verhinder\w*|blockier\w*|sperr\w*|block\w*|unterbind\w*|werbe\w*|spam\w*|"
    r"(?:ruft|rufen|ruf) (?:\w+ ){0,2}(?:ständig|staendig|dauernd|andauernd|immer wieder|jeden tag)|"
    r"(?:ständig|staendig|dauernd|andauernd|immer wieder) (?:\w+ ){0,3}angerufen|keeps? (?:on )?calling|"
    r"(?:constantly|always) call\w*|call\w* (?:me|us) (?:all the time|constantly|every day)|"
    r"(?:nobody|no one|noone|niemand|keiner) (?:\w+ ){0,2}(?:call|ring|phone|reach|anrufen|erreichen|anrufe?n?))\b",
    re.IGNORECASE,
)
_NOT_A_BOT = re.compile(
    r"\b((?:don't|dont|do not|no|not) (?:want )?(?:to )?(?:talk|speak|chat)? ?(?:to |with )?(?:a |the |this |your )?(?:chat)?bot|"
    r"kein(?:en)? (?:chat)?bot|nicht (?:mit )?(?:einem|dem|diesem) (?:chat)?bot|"
    r"(?:oder|or) (?:nur|just|only) (?:ein(?:en)? |a )?(?:chat)?(?:bots?|roboter|robots?|maschinen?|machines?|computer)|"
    r"(?:oder|or) (?:nur|just|only) (?:automatische\w*|automated|automatic|canned|vorgefertigte\w*) \w+|"
    r"(?:don't|dont|do not) want (?:any )?(?:more )?(?:automated|automatic|canned|bot) (?:answers|responses|replies)|"
    r"(?:keine|nicht noch mehr) (?:automatischen|vorgefertigten|automatisierten) (?:antworten|textbausteine))\b",
    re.IGNORECASE,
)
# A first sentence that asks who, or whether the bot is a person: "Who can I talk to? I need an actual person.",
# "Are you a robot? Can I chat with an actual agent?" The rest of the message says what the customer wants.
_WHO_ASKS = re.compile(r"^\s*(?:who|wer|wem|wen|are you|bist du|sind sie)\b[^.?!]*[.?!]\s*", re.IGNORECASE)
_IS_IT_A_BOT = re.compile(
    r"^\s*(?:are you|bist du|sind sie)\b[^.?!]*\b(?:bot|robot|roboter|machine|person|human|mensch|"
    r"maschine|ki|ai|echt)\b",
    re.IGNORECASE,
)
_GET_ONE = re.compile(
    r"\b(get me|give me|gimme|i want|i need|ich will|ich möchte|ich brauche|gib mir|hol mir)\b", re.IGNORECASE
)  # "... if not, get me one"
_SENTENCE = re.compile(r"(?<=[.?!])\s+")
# After a question about who is in charge, a sentence that wants to talk to that one: "Wer ist bei euch zuständig?
# Den will ich sprechen.", "Who's in charge there? I want to speak to them." Alone, who is responsible is a question
# (the data-protection FAQ answers it).
_WHO = re.compile(r"\b(?:wer|who(?:'s)?)\b", re.IGNORECASE)
_TALK_TO_THEM = re.compile(
    r"\b(?:(?:den|die|ihn|sie|mit (?:dem|der|ihm|ihr|denen|so jemandem))\s+(?:\w+\s+)?(?:will|möchte|moechte|muss|würde|wuerde)"
    r"\s+ich\s+(?:\w+\s+)?(?:sprechen|reden|haben)|"
    r"ich\s+(?:will|möchte|moechte|muss)\s+(?:\w+\s+)?(?:den|die|ihn|sie|mit (?:dem|der|ihm|ihr|denen))\s+(?:\w+\s+)?(?:sprechen|reden)|"
    r"(?:i (?:want|need|would like|'d like|’d like) to|let me|can i|could i) (?:talk|speak|chat) (?:to|with) "
    r"(?:them|him|her|that person|whoever))\b",
    re.IGNORECASE,
)
# "Ist gerade jemand vom Support erreichbar?", "is anyone available?": asking for someone now, not for the hours
# (which "wann", "when", "bis wie viel Uhr" ask).
_SOMEONE_AVAILABLE = re.compile(
    r"\b(?:ist|is|are) (?:(?:da|hier|gerade|jetzt|now|there|noch) )*(?:jemand|irgendwer|irgendjemand|someone|anyone|"
    r"somebody|anybody)\b[^.?!]*\b(?:erreichbar|available|online)\b",
    re.IGNORECASE,
)
_HOURS = re.compile(r"\b(wann|when|what time|which times|hours|zeiten|uhr|bis wie)\b", re.IGNORECASE)
# "Ist da jemand?", "Sitzt da irgendwer am anderen Ende?", "is anybody there?"
_ANYONE_THERE = re.compile(
    r"\b((?:ist|sitzt|sind) (?:da|hier|dort) (?:\w+ )?(?:jemand|irgendwer|irgendjemand|wer|menschen)|"
    r"(?:is|are) (?:there )?(?:anybody|anyone|somebody|someone) (?:there|out there|real|human)|hello\?* anybody)\b",
    re.IGNORECASE,
)
# Being called back, with the customer as the one called: "ruf mich zurück", "call me back", "Rückruf bitte".
_CALL_ME = re.compile(
    r"\b(call me|ring me|phoned? me|call us|(?:someone|somebody|jemand) (?:\w+ ){0,3}(?:call|phone|ring)\w* me|e-?mail me|write me an? e-?mail|get back to me|contact me|by phone|"
    r"(?:a|the) (?:phone )?call (?:instead|back)|prefer (?:a )?(?:phone )?call|give me a (?:ring|call|buzz)|"
    r"(?:schedule|arrange|book|set up|get) (?:a|an) (?:phone |quick |short )?call|"
    r"(?:send|drop) (?:me|us) an? (?:e-?mail|mail|line)|"
    r"(?:angerufen|zurückgerufen|zurueckgerufen|kontaktiert) (?:zu )?werden|"
    r"ruf(?:e|en|t)? (?:sie |du )?(?:mich|uns)|"
    r"rufen sie (?:sie|ihn) (?:\w+ ){0,6}an\b|(?:call|ring|phone) (?:her|him) (?:back|on|at)\b|"  # someone else
    r"(?:mich|uns)\b[^.?!]{0,80}?\b(?:zurückrufen|zurueckrufen|anrufen|anruft|"
    r"zurückruft|zurueckruft|kontaktieren|kontaktiert|anschreiben|anschreibt)\b|rückruf\w*|rueckruf\w*|callback|call-back|call back|um (?:einen )?(?:anruf|rückruf)|"
    r"telefonisch (?:\w+ ){0,2}(?:melden|meldet|kontaktier\w*)|telefonier\w* lieber|lieber telefon\w*|(?:melden|kontaktieren) sie sich|"
    r"kontaktier\w* (?:sie |du )?mich|(?:schreib\w*|schicken sie) (?:sie )?mir (?:lieber )?(?:eine )?e-?mail)",
    re.IGNORECASE,
)


def asks_for_person(text: str) -> bool:
    """A message that both names a person to talk to and asks for one ("Verbinde mich mit dem Support")."""
    if _WHO.search(text) and _TALK_TO_THEM.search(text) and not _NOT_A_REQUEST.search(text):
        return True
    if _ABOUT_A_PERSON.search(text):
        if not _WHO_ASKS.search(text):
            return False  # "who is your supervisor"
        asked_if_bot = bool(_IS_IT_A_BOT.search(text))
        text = _WHO_ASKS.sub("", text)  # "Who can I talk to about this? I need an actual person."
        if asked_if_bot and _GET_ONE.search(text) and not _NOT_A_REQUEST.search(text):
            return True  # "are you a real person? if not, get me one"
    if _SOMEONE_AVAILABLE.search(text) and not _HOURS.search(text) and not _NOT_A_REQUEST.search(text):
        return True
    # A sentence about a contact channel ("Wann seid ihr erreichbar?") is a question; another may still ask.
    text = " ".join(s for s in _SENTENCE.split(text) if not _ABOUT_CONTACT.search(s))
    if not text.strip() or _NOT_A_REQUEST.search(text):
        return False
    if _NOT_A_BOT.search(text) or _ANYONE_THERE.search(text):
        return True
    if _SOMEONE.search(text) and _TALK.search(text) and _ASK.search(text):
        return True
    if not _A_PERSON.search(text):
        return False
    if _ASK.search(text):
        return True
    # A few words naming a person, alone or as a sentence of their own: "menschlicher Mitarbeiter", "live support
    # agent", "Das bringt nichts. Mitarbeiter!", "STOP. Operator!"
    return any(len(sentence.split()) <= 4 and _A_PERSON.search(sentence) for sentence in _SENTENCE.split(text))


def asks_for_call(text: str) -> bool:
    """A message that asks to be called (or written to) back."""
    if _NOT_A_REQUEST.search(text) or _CANCELS.search(text) or _CALL_ME_NAME.search(text):
        return False
    if re.search(r"\b(refer to me as|nenn(?:e|en sie)? mich|call me an?)\b", text, re.IGNORECASE):
        return False
    return bool(_CALL_ME.search(text))


def promoted_intent(intent: str, text: str) -> str | None:
    """request_callback / request_human, with full confidence, when the words ask for one: whatever the
    classifier said, and however unsure it was (an unsure request would become nlu_fallback)."""
    if text.startswith("/"):
        return None
    if asks_for_call(text):
        return "request_callback"
    if asks_for_person(text):
        return "request_human"
    return None
