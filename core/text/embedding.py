"""mx.contrib.text.embedding: token embeddings (a Vocabulary whose every index has a vector).

Vectors are read from text files, one token per line followed by its elements.  Reading a
file only parses text: nothing is unpickled or evaluated.  GloVe and FastText read MXNet's
pretrained files from a local folder (see pretrained.py); plait never downloads them."""
import os
import warnings

import numpy as np

from ... import ndarray as nd
from ...ndarray import NDArray, zeros
from . import pretrained
from .utils import TextArgumentError, TextKeyError
from .vocab import UNKNOWN_IDX, Vocabulary

# registered embedding classes, by lower-cased class name
_EMBEDDINGS = {}


def register(embedding_cls):
    """Register a _TokenEmbedding subclass under its lower-cased name (usable as a decorator),
    so that create(name) and get_pretrained_file_names(name) know it."""
    if not (isinstance(embedding_cls, type) and issubclass(embedding_cls, _TokenEmbedding)):
        raise TextArgumentError("can only register subclasses of _TokenEmbedding, got %r"
                                % (embedding_cls,), arg="embedding_cls", op="register")
    name = embedding_cls.__name__.lower()
    old = _EMBEDDINGS.get(name)
    if old is not None and old is not embedding_cls:
        warnings.warn("token embedding %s.%s registered as %r overrides %s.%s"
                      % (embedding_cls.__module__, embedding_cls.__name__, name,
                         old.__module__, old.__name__), UserWarning, stacklevel=2)
    _EMBEDDINGS[name] = embedding_cls
    return embedding_cls


def create(embedding_name, **kwargs):
    """An instance of the registered embedding `embedding_name` (case-insensitive), made with
    `kwargs`; an embedding instance is returned as is."""
    if isinstance(embedding_name, _TokenEmbedding):
        if kwargs:
            raise TextArgumentError("is already an instance; extra arguments %s are invalid"
                                    % sorted(kwargs), arg="embedding_name", op="create")
        return embedding_name
    if not isinstance(embedding_name, str):
        raise TextArgumentError("must be a str, got %s" % type(embedding_name).__name__,
                                arg="embedding_name", op="create")
    cls = _EMBEDDINGS.get(embedding_name.lower())
    if cls is None:
        raise TextArgumentError("%r is not registered; registered: %s (register with "
                                "embedding.register first)" % (
                                    embedding_name.lower(), ", ".join(sorted(_EMBEDDINGS))),
                                arg="embedding_name", op="create")
    return cls(**kwargs)


def _file_names(cls):
    # MXNet's embedding classes list their files as the keys of pretrained_file_name_sha1;
    # plait's (which check no hashes) as pretrained_file_names
    names = getattr(cls, 'pretrained_file_names', None)
    if names is None:
        names = getattr(cls, 'pretrained_file_name_sha1', {})
    return list(names)


def get_pretrained_file_names(embedding_name=None):
    """The pretrained file names of registered embedding `embedding_name` (its exact,
    lower-case registered name), or a dict {embedding name: file names} when it is None."""
    if embedding_name is None:
        return {name: _file_names(cls) for name, cls in _EMBEDDINGS.items()}
    if embedding_name not in _EMBEDDINGS:
        raise TextKeyError("cannot find embedding %r; valid names: %s" % (
            embedding_name, ", ".join(_EMBEDDINGS)), arg="embedding_name",
            op="get_pretrained_file_names")
    return _file_names(_EMBEDDINGS[embedding_name])


def _to_numpy(value):
    return value.asnumpy() if isinstance(value, NDArray) else np.asarray(value)


def _parse_vector_line(line, elem_delim, line_num, path):
    """(token, list of floats) of one line of an embedding text file."""
    elems = line.rstrip().split(elem_delim)
    if len(elems) < 2:
        raise TextArgumentError(
            "line %d of %s: expected a token and vector elements separated by %r, got %r"
            % (line_num, path, elem_delim, line.rstrip()), arg="pretrained_file_path")
    try:
        return elems[0], [float(x) for x in elems[1:]]
    except ValueError as e:
        raise TextArgumentError("line %d of %s: token %r has a vector element that is not "
                                "a number (%s)" % (line_num, path, elems[0], e),
                                arg="pretrained_file_path") from None


class _TokenEmbedding(Vocabulary):
    """Base of the token embeddings: a Vocabulary plus `idx_to_vec`, an NDArray of shape
    (len(self), vec_len) whose row i is the vector of token i.

    Row 0 (the unknown token) is the file's vector for `unknown_token` when the file has
    one, else `init_unknown_vec(shape=vec_len)`.  A token seen twice keeps its first vector.
    With a `vocabulary`, the embedding is re-indexed as that vocabulary, and each of its
    tokens gets the loaded vector of the same token (the unknown vector when absent)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def _load_embedding(self, pretrained_file_path, elem_delim, init_unknown_vec,
                        encoding='utf8'):
        """Append the tokens of a text embedding file to the index and set idx_to_vec.

        Lines '<token> <v1>'... with one element only (such as fastText's 'count dim'
        header) are skipped with a warning, as are repeated tokens."""
        path = os.path.expanduser(pretrained_file_path)
        if not os.path.isfile(path):
            raise TextArgumentError("%r is not a file; it must be the path of a text "
                                    "embedding file" % (pretrained_file_path,),
                                    arg="pretrained_file_path", op=type(self).__name__)
        if not isinstance(elem_delim, str) or not elem_delim:
            raise TextArgumentError("must be a non-empty str, got %r" % (elem_delim,),
                                    arg="elem_delim", op=type(self).__name__)
        if len(self._idx_to_token) != 1:
            # MXNet keeps one vector slot before the file's vectors, so reserved or counter
            # tokens indexed first would shift every vector onto the wrong token
            raise TextArgumentError(
                "a file embedding indexes only its unknown token before the file's tokens; "
                "pass reserved tokens or a counter through vocabulary=Vocabulary(...) instead "
                "(already indexed: %r)" % (self._idx_to_token[1:6],),
                arg="reserved_tokens" if self._reserved_tokens else "counter",
                op=type(self).__name__)
        rows, loaded_unknown = [], None
        seen = set()
        with open(path, 'r', encoding=encoding) as f:
            for line_num, line in enumerate(f, 1):
                token, vec = _parse_vector_line(line, elem_delim, line_num, path)
                if token == self._unknown_token and loaded_unknown is None:
                    loaded_unknown = vec
                    seen.add(token)
                elif token in seen:
                    warnings.warn("line %d of %s: token %r already has a vector; this "
                                  "duplicate is skipped" % (line_num, path, token))
                elif len(vec) == 1:
                    warnings.warn("line %d of %s: token %r with the 1-element vector %s is "
                                  "taken for a header and skipped" % (line_num, path, token, vec))
                else:
                    if rows and len(vec) != len(rows[0]):
                        raise TextArgumentError(
                            "line %d of %s: token %r has %d vector elements, the previous "
                            "tokens %d; all must have the same length" % (
                                line_num, path, token, len(vec), len(rows[0])),
                            arg="pretrained_file_path", op=type(self).__name__)
                    rows.append(np.array(vec, dtype=np.float32))
                    self._token_to_idx[token] = len(self._idx_to_token)
                    self._idx_to_token.append(token)
                    seen.add(token)
        if not rows:
            raise TextArgumentError("%s holds no token vectors of 2 or more elements" % path,
                                    arg="pretrained_file_path", op=type(self).__name__)
        vec_len = len(rows[0])
        table = np.empty((len(rows) + 1, vec_len), dtype=np.float32)
        table[1:] = rows
        if loaded_unknown is None:
            table[UNKNOWN_IDX] = _to_numpy(init_unknown_vec(shape=vec_len))
        elif len(loaded_unknown) != vec_len:
            raise TextArgumentError("%s: the unknown token %r has %d vector elements, the "
                                    "other tokens %d" % (path, self._unknown_token,
                                                         len(loaded_unknown), vec_len),
                                    arg="pretrained_file_path", op=type(self).__name__)
        else:
            table[UNKNOWN_IDX] = loaded_unknown
        self._vec_len = vec_len
        self._idx_to_vec = NDArray(table)

    def _index_tokens_from_vocabulary(self, vocabulary):
        self._token_to_idx = dict(vocabulary.token_to_idx)
        self._idx_to_token = list(vocabulary.idx_to_token)
        self._unknown_token = vocabulary.unknown_token
        reserved = vocabulary.reserved_tokens
        self._reserved_tokens = None if reserved is None else list(reserved)

    def _set_idx_to_vec_by_embeddings(self, token_embeddings, vocab_len, vocab_idx_to_token):
        """idx_to_vec for the tokens `vocab_idx_to_token`: the concatenated vectors of
        `token_embeddings`; row 0 is their unknown vectors whatever token index 0 holds."""
        width = sum(embed.vec_len for embed in token_embeddings)
        table = np.zeros((vocab_len, width), dtype=np.float32)
        col = 0
        for embed in token_embeddings:
            end = col + embed.vec_len
            table[UNKNOWN_IDX, col:end] = _to_numpy(embed.idx_to_vec[UNKNOWN_IDX])
            if vocab_len > 1:
                table[1:, col:end] = _to_numpy(
                    embed.get_vecs_by_tokens(list(vocab_idx_to_token[1:])))
            col = end
        self._vec_len = width
        self._idx_to_vec = NDArray(table)

    def _build_embedding_for_vocabulary(self, vocabulary):
        if vocabulary is None:
            return
        if not isinstance(vocabulary, Vocabulary):
            raise TextArgumentError("must be a mx.contrib.text.vocab.Vocabulary, got %s"
                                    % type(vocabulary).__name__, arg="vocabulary",
                                    op=type(self).__name__)
        self._set_idx_to_vec_by_embeddings([self], len(vocabulary), vocabulary.idx_to_token)
        self._index_tokens_from_vocabulary(vocabulary)

    @property
    def vec_len(self):
        """int: the length of every token's vector."""
        return self._vec_len

    @property
    def idx_to_vec(self):
        """NDArray (len(self), vec_len): row i is the vector of token i."""
        return self._idx_to_vec

    def get_vecs_by_tokens(self, tokens, lower_case_backup=False):
        """The vector of a token (1-D NDArray), or of a list of tokens (2-D NDArray, one row
        per token); unknown tokens get row 0.  With lower_case_backup, a token not indexed
        as written is looked up lower-cased before falling back to the unknown vector."""
        single = not isinstance(tokens, list)
        if single:
            tokens = [tokens]
        lookup = self._token_to_idx
        if lower_case_backup:
            indices = [lookup[t] if t in lookup else lookup.get(t.lower(), UNKNOWN_IDX)
                       for t in tokens]
        else:
            indices = [lookup.get(t, UNKNOWN_IDX) for t in tokens]
        table = self._idx_to_vec
        vecs = nd.Embedding(NDArray(np.asarray(indices, dtype=np.int64)), table,
                            input_dim=table.shape[0], output_dim=table.shape[1])
        return vecs[0] if single else vecs

    def update_token_vectors(self, tokens, new_vectors):
        """Overwrite, in idx_to_vec, the vectors of `tokens` (a token or a list) with the rows
        of NDArray `new_vectors` (one row per token; 1-D allowed for a single token).  The
        unknown vector is updated only when the unknown token is named explicitly."""
        op = "update_token_vectors"
        if getattr(self, '_idx_to_vec', None) is None:
            raise TextArgumentError("idx_to_vec has not been set", arg="tokens", op=op)
        several = isinstance(tokens, list) and len(tokens) != 1
        if not isinstance(new_vectors, NDArray):
            raise TextArgumentError("must be an NDArray, got %s" % type(new_vectors).__name__,
                                    arg="new_vectors", op=op)
        if several and new_vectors.ndim != 2:
            raise TextArgumentError("must be 2-D when tokens is a list of several tokens, got "
                                    "shape %s" % (new_vectors.shape,), arg="new_vectors", op=op)
        if not several:
            if new_vectors.ndim not in (1, 2):
                raise TextArgumentError("must be 1-D or 2-D for a single token, got shape %s"
                                        % (new_vectors.shape,), arg="new_vectors", op=op)
            tokens = tokens if isinstance(tokens, list) else [tokens]
            if new_vectors.ndim == 1:
                new_vectors = new_vectors.reshape((1, -1))
        if tuple(new_vectors.shape) != (len(tokens), self.vec_len):
            raise TextArgumentError("shape %s should be (number of tokens, vec_len) = %s"
                                    % (tuple(new_vectors.shape), (len(tokens), self.vec_len)),
                                    arg="new_vectors", op=op)
        indices = []
        for token in tokens:
            if token not in self._token_to_idx:
                raise TextArgumentError(
                    "token %r is unknown; to update the unknown vector name the unknown token "
                    "%r itself (this avoids unintended updates)"
                    % (token, self._idx_to_token[UNKNOWN_IDX]), arg="tokens", op=op)
            indices.append(self._token_to_idx[token])
        self._idx_to_vec[NDArray(np.asarray(indices, dtype=np.int64))] = new_vectors

    @classmethod
    def _check_pretrained_file_names(cls, pretrained_file_name):
        names = _file_names(cls)
        if pretrained_file_name not in names:
            name = cls.__name__.lower()
            raise TextKeyError("cannot find pretrained file %r for token embedding %s; valid "
                               "files: %s" % (pretrained_file_name, name, ", ".join(names)),
                               arg="pretrained_file_name", op=name)


class _PretrainedEmbedding(_TokenEmbedding):
    """An embedding read from one of MXNet's pretrained files, found in
    <embedding_root>/<lower-cased class name>/ (default root $MXNET_HOME/embeddings, else
    ~/.mxnet/embeddings).  The file is used as found: plait checks no sha1."""
    pretrained_file_names = ()
    default_file_name = None

    def __init__(self, pretrained_file_name=None, embedding_root=None, init_unknown_vec=zeros,
                 vocabulary=None, **kwargs):
        if pretrained_file_name is None:
            pretrained_file_name = self.default_file_name
        self._check_pretrained_file_names(pretrained_file_name)
        super().__init__(**kwargs)
        root = pretrained.default_embedding_root() if embedding_root is None else embedding_root
        path = pretrained.local_file(type(self).__name__.lower(), pretrained_file_name, root)
        self._load_embedding(path, ' ', init_unknown_vec)
        self._build_embedding_for_vocabulary(vocabulary)


@register
class GloVe(_PretrainedEmbedding):
    """GloVe word vectors (https://nlp.stanford.edu/projects/glove/), from a local copy of
    MXNet's pretrained file (default glove.840B.300d.txt)."""
    pretrained_file_names = pretrained.GLOVE_FILES
    default_file_name = 'glove.840B.300d.txt'


@register
class FastText(_PretrainedEmbedding):
    """fastText word vectors (https://fasttext.cc/), from a local copy of MXNet's pretrained
    file (default wiki.simple.vec)."""
    pretrained_file_names = pretrained.FASTTEXT_FILES
    default_file_name = 'wiki.simple.vec'


class CustomEmbedding(_TokenEmbedding):
    """Token vectors from a user's text file: each line is a token and its vector elements,
    separated by `elem_delim` (a literal string, not a regex), in `encoding`."""

    def __init__(self, pretrained_file_path, elem_delim=' ', encoding='utf8',
                 init_unknown_vec=zeros, vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        self._load_embedding(pretrained_file_path, elem_delim, init_unknown_vec, encoding)
        self._build_embedding_for_vocabulary(vocabulary)


class CompositeEmbedding(_TokenEmbedding):
    """The tokens of `vocabulary`, each with the concatenation of its vectors in
    `token_embeddings` (an embedding or a list of them)."""

    def __init__(self, vocabulary, token_embeddings):  # pylint: disable=super-init-not-called
        if not isinstance(vocabulary, Vocabulary):
            raise TextArgumentError("must be a mx.contrib.text.vocab.Vocabulary, got %s"
                                    % type(vocabulary).__name__, arg="vocabulary",
                                    op="CompositeEmbedding")
        if not isinstance(token_embeddings, list):
            token_embeddings = [token_embeddings]
        if not token_embeddings:
            raise TextArgumentError("needs at least one embedding", arg="token_embeddings",
                                    op="CompositeEmbedding")
        for embed in token_embeddings:
            if not isinstance(embed, _TokenEmbedding):
                raise TextArgumentError("must be a token embedding or a list of them, got "
                                        "a %s" % type(embed).__name__,
                                        arg="token_embeddings", op="CompositeEmbedding")
        self._index_tokens_from_vocabulary(vocabulary)
        self._set_idx_to_vec_by_embeddings(token_embeddings, len(self), self.idx_to_token)
