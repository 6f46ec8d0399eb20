"""Text utilities of mx.contrib.text: token counting, and the argument errors of the package."""
import collections
import re

from ..base import PlaitError


class TextArgumentError(PlaitError, AssertionError):
    """A bad argument.  MXNet 1.9 rejects these with `assert`, so code written for it may
    catch AssertionError; plait's errors are also ValueError/PlaitError and name the argument."""


class TextKeyError(PlaitError, KeyError):
    """An unknown name (embedding, pretrained file, dataset segment): a KeyError in MXNet."""


def count_tokens_from_str(source_str, token_delim=' ', seq_delim='\n', to_lower=False,
                          counter_to_update=None):
    """A collections.Counter of the tokens of `source_str`.

    `token_delim` and `seq_delim` are regular expressions (escape special characters, e.g.
    '\\*'); the string is split on either and empty pieces are dropped.  With `to_lower` the
    tokens are lower-cased.  When `counter_to_update` is given it is updated in place and
    returned, else a new Counter is returned.  Counter order is first-occurrence order."""
    pieces = [t for t in re.split(token_delim + '|' + seq_delim, source_str) if t]
    if to_lower:
        pieces = [t.lower() for t in pieces]
    if counter_to_update is None:
        return collections.Counter(pieces)
    counter_to_update.update(pieces)
    return counter_to_update
