"""Words that make a message a question about reaching the company (a number, opening hours, an address).

Such a question is for the FAQ to answer, however much it mentions a person or a call: "What is your hotline
number?" is no request to talk to someone. One list for both sides: the Rasa side's request guard
(bot/routing.py) and the action server's requests by meaning (actions/requests.py).
"""

from __future__ import annotations

import re

ABOUT_CONTACT = re.compile(
    r"\b(number|hotline|opening hours|address|nummer|rufnummer|öffnungszeiten|erreichbar|adresse)\b", re.IGNORECASE
)
