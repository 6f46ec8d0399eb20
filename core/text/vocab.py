"""mx.contrib.text.vocab: Vocabulary, the token <-> index mapping of MXNet 1.9's contrib.text."""
import collections
import numbers

from .utils import TextArgumentError

# the unknown token is always index 0; unknown tokens are looked up as this index
UNKNOWN_IDX = 0


class Vocabulary:
    """Indices for text tokens: the unknown token, then the reserved tokens, then the keys of
    `counter` from the most to the least frequent.

    counter : collections.Counter or None
        Token frequencies; its keys are indexed subject to `most_freq_count` and `min_freq`.
        Tokens of equal frequency are indexed in ascending token order (so all keys must be
        mutually comparable).  Keys equal to the unknown or a reserved token are skipped.
    most_freq_count : int or None
        At most this many keys of `counter` are indexed (reserved and unknown tokens not
        counted).  None, or a negative value (as in MXNet), means no limit.
    min_freq : number > 0
        Keys rarer than this are not indexed.
    unknown_token : hashable
        What every token outside the vocabulary maps to (index 0).
    reserved_tokens : list or None
        Always indexed, at 1, 2, ...; no duplicates and not `unknown_token`.

    `vocab[token]` and `token in vocab` are plait additions (MXNet 1.9's Vocabulary has
    neither): `vocab[x]` is `vocab.to_indices(x)`, `x in vocab` tests `token_to_idx`.
    """

    def __init__(self, counter=None, most_freq_count=None, min_freq=1, unknown_token='<unk>',
                 reserved_tokens=None):
        if not min_freq > 0:
            raise TextArgumentError("must be positive, got %r" % (min_freq,), arg="min_freq",
                                    op="Vocabulary")
        if reserved_tokens is not None:
            if unknown_token in reserved_tokens:
                raise TextArgumentError("cannot contain the unknown token %r"
                                        % (unknown_token,), arg="reserved_tokens",
                                        op="Vocabulary")
            if len(set(reserved_tokens)) != len(reserved_tokens):
                dups = sorted({repr(t) for t in reserved_tokens
                               if list(reserved_tokens).count(t) > 1})
                raise TextArgumentError("contains duplicates: %s" % ", ".join(dups),
                                        arg="reserved_tokens", op="Vocabulary")
        self._index_unknown_and_reserved_tokens(unknown_token, reserved_tokens)
        if counter is not None:
            self._index_counter_keys(counter, most_freq_count, min_freq)

    def _index_unknown_and_reserved_tokens(self, unknown_token, reserved_tokens):
        self._unknown_token = unknown_token
        self._reserved_tokens = None if reserved_tokens is None else list(reserved_tokens)
        self._idx_to_token = [unknown_token] + (self._reserved_tokens or [])
        self._token_to_idx = {tok: i for i, tok in enumerate(self._idx_to_token)}

    def _index_counter_keys(self, counter, most_freq_count, min_freq):
        if not isinstance(counter, collections.Counter):
            raise TextArgumentError("must be a collections.Counter, got %s"
                                    % type(counter).__name__, arg="counter", op="Vocabulary")
        if most_freq_count is not None and not isinstance(most_freq_count, numbers.Integral):
            raise TextArgumentError("must be an int or None, got %r" % (most_freq_count,),
                                    arg="most_freq_count", op="Vocabulary")
        special = set(self._idx_to_token)
        # ascending token order first, then a stable sort by descending frequency: ties keep
        # the token order
        by_freq = sorted(sorted(counter.items(), key=lambda kv: kv[0]),
                         key=lambda kv: kv[1], reverse=True)
        # MXNet stops when the vocabulary reaches exactly this size, so a negative
        # most_freq_count is never reached and means "no limit"
        cap = len(special) + (len(counter) if most_freq_count is None else most_freq_count)
        for token, freq in by_freq:
            if freq < min_freq or len(self._idx_to_token) == cap:
                break
            if token not in special:
                self._token_to_idx[token] = len(self._idx_to_token)
                self._idx_to_token.append(token)

    def __len__(self):
        return len(self._idx_to_token)

    def __contains__(self, token):
        return token in self._token_to_idx

    def __getitem__(self, tokens):
        return self.to_indices(tokens)

    @property
    def token_to_idx(self):
        """dict: token -> index."""
        return self._token_to_idx

    @property
    def idx_to_token(self):
        """list: the indexed tokens, position = index."""
        return self._idx_to_token

    @property
    def unknown_token(self):
        return self._unknown_token

    @property
    def reserved_tokens(self):
        return self._reserved_tokens

    def to_indices(self, tokens):
        """The index of a token, or the list of indices of a list of tokens (unknown tokens
        give UNKNOWN_IDX).  Only a list counts as several tokens; a tuple is one token."""
        if not isinstance(tokens, list):
            return self._token_to_idx.get(tokens, UNKNOWN_IDX)
        lookup = self._token_to_idx.get
        return [lookup(tok, UNKNOWN_IDX) for tok in tokens]

    def to_tokens(self, indices):
        """The token at an index, or the tokens at a list of indices.  Indices are ints
        (NumPy integers too); negative ones count from the end, as Python lists do."""
        single = not isinstance(indices, list)
        if single:
            indices = [indices]
        size = len(self._idx_to_token)
        tokens = []
        for idx in indices:
            if not isinstance(idx, numbers.Integral) or not -size <= idx < size:
                raise TextArgumentError("token index %r is invalid for a vocabulary of %d "
                                        "tokens" % (idx, size), arg="indices",
                                        op="Vocabulary.to_tokens")
            tokens.append(self._idx_to_token[idx])
        return tokens[0] if single else tokens
