"""The phrases a comment is made of, for spotting topics nobody has made a theme yet.

A phrase is one to three words in a row, none of them a stop word ("the", "de", "che"...),
folded as the taxonomy folds them (lower case, no accents): "l'application plante" gives
"application", "plante" and "application plante". A comment counts once per phrase, however
often it says it, so a phrase's count is the number of comments that say it.
"""

from __future__ import annotations

import re

from sentiment.themes import fold

MAX_WORDS = 3
# Longer than this, a comment's later words are not read: a phrase that matters is said by many
# comments, and a pasted letter would otherwise count as much as fifty comments.
MAX_WORDS_READ = 120
_WORD = re.compile(r"[a-z0-9]+")
# Longer words are links, codes or run-together text, not a topic; a phrase fits in 80 letters.
MAX_LETTERS = 25

# Function words, and words every comment about a service uses, folded as comments are.
_STOP = {
    "en": """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    im ive its dont didnt doesnt isnt wasnt cant couldnt wont wouldnt thats theres also get got
    one two us ll ve re still even really much many well back since like know ever going go
    said say thanks thank please yes ok okay""",
    "fr": """a ai aie ainsi alors au aucun aussi autre aux avec avoir avons ayant bon c ca car ce
    ceci cela celle celui ces cet cette chaque chez comme comment d dans de des deja du donc dont
    elle elles en encore entre est et etaient etait ete etre eu eux fait faire fois hors ici il
    ils j je jusqu l la le les leur leurs lui m ma mais me meme mes moi mon n ne ni nos notre nous
    on ont ou par pas peu peut plus pour pourquoi puis qu quand que quel quelle quelles quels qui
    s sa sans se ses si sien son sont sous suis sur t ta tandis te tes toi ton tous tout toute
    toutes tres tu un une vers voila vos votre vous y etes sommes avez avait avaient""",
    "it": """a ad agli ai al alla alle allo anche avere aveva avevo c che chi ci come con contro
    cui da dagli dai dal dalla dalle dei del dell della delle dello di dove e ed era erano essere
    fa fino gli ha hai hanno ho i il in io l la le lei li lo loro lui ma me mi mia mie miei mio
    molto ne nei nel nella nelle nello noi non nostra nostro o per perche piu po poi qual quale
    quando quanto quella quelle quelli quello questa queste questi questo se sei si sia siamo
    sono sta stata stato su sua sue sui sul sulla suo suoi ti tra tu tua tue tuo tutti tutto un
    una uno vi voi gia ancora sempre cosi solo stati state""",
}
STOP_WORDS = {language: frozenset(words.split()) for language, words in _STOP.items()}


def phrases(comment: str, language: str) -> frozenset[str]:
    """The phrases of a comment in a language with stop words (none for any other)."""
    stop = STOP_WORDS.get(language)
    if stop is None:
        return frozenset()
    found: set[str] = set()
    run: list[str] = []
    for word in _WORD.findall(fold(comment))[:MAX_WORDS_READ]:
        # A stop word, a letter or a number ends a phrase: "mise à jour" is "mise", "jour".
        if word in stop or not 2 <= len(word) <= MAX_LETTERS or word.isdigit():
            run = []
            continue
        run.append(word)
        # The phrases ending at this word: itself, and with the one or two before it.
        for n in range(1, min(len(run), MAX_WORDS) + 1):
            found.add(" ".join(run[-n:]))
    return frozenset(found)
