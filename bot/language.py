"""Tell German from English in short customer messages, without models or dependencies."""
from __future__ import annotations

import re
from typing import Optional, Tuple

_GERMAN = frozenset(
    """ich du sie er es wir ihr mein meine meinen meiner mir mich dich dir ihnen ist sind bin
    bist war habe hast hat haben nicht kein keine keinen und oder aber der die das den dem des
    ein eine einen einem einer wie wo was wer warum wieso weshalb wann welche welcher welches
    kann können kannst könnte möchte möchten will wollen muss müssen soll darf bitte danke
    hallo moin servus tschüss tschüs ja nein doch mit für auf aus bei nach von vom zum zur im
    ins am auch noch schon nur jetzt heute morgen gestern geht gibt mehr sehr gut schlecht
    mal man sich über unter wenn dass weil ob hier da dort meinem meines euer eure unser
    unsere wurde wird werden funktioniert kaputt rechnung vertrag kündigen kündigung
    bestellung lieferung störung umzug mitarbeiter mensch rückruf gerne gern""".split()
)
_ENGLISH = frozenset(
    """i you he she it we they my mine me your yours our is are am was were be been have has had
    not no yes and or but the a an how what where who why when which can could would should will
    shall may might must please thanks thank hello hey bye goodbye with for on from at by of to
    in into about also still already only now today tomorrow yesterday does do did doesn't
    don't isn't can't won't there here this that these those want need get got more very good
    bad working broken invoice bill contract cancel cancellation order delivery fault moving
    agent human person callback call back speak talk someone anyone""".split()
)
_WORD = re.compile(r"[a-zäöüß']+")
_UMLAUT = re.compile(r"[äöüß]")


def detect(text: str) -> Tuple[Optional[str], float]:
    """Return ("de"|"en"|None, confidence). None when the text gives no clear evidence."""
    lowered = (text or "").lower()
    words = _WORD.findall(lowered)
    german = sum(word in _GERMAN for word in words) + 2 * len(_UMLAUT.findall(lowered))
    english = sum(word in _ENGLISH for word in words)
    if german == english:
        return None, 0.0
    total = german + english
    winner = "de" if german > english else "en"
    margin = abs(german - english)
    # One marker word against none is enough ("danke", "thanks"); otherwise want a clear margin.
    if min(german, english) > 0 and margin < 2:
        return None, 0.0
    return winner, round(max(german, english) / total, 3)
