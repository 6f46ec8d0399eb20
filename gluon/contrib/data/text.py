"""Language-model datasets of MXNet 1.9's gluon.contrib.data.text: WikiText2, WikiText103.

They read the extracted `wiki.{train,valid,test}.tokens` files from a local folder; plait
never downloads, and missing files are an error saying where to get them and where to put
them."""
import os

import numpy as np

from ....core.base import PlaitError
from ....core.text import utils as text_utils
from ....core.text.utils import TextKeyError
from ....core.text.vocab import Vocabulary
from ....ndarray import NDArray
from ...data.dataset import Dataset

__all__ = ['WikiText2', 'WikiText103']

EOS_TOKEN = '<eos>'
APACHE_REPO_URL = 'https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/'
SEGMENT_FILES = {'train': 'wiki.train.tokens', 'validation': 'wiki.valid.tokens',
                 'test': 'wiki.test.tokens'}


def _data_dir():
    return os.environ.get('MXNET_HOME', os.path.join(os.path.expanduser('~'), '.mxnet'))


def _repo_url():
    repo = os.environ.get('MXNET_GLUON_REPO', APACHE_REPO_URL)
    return repo if repo.endswith('/') else repo + '/'


class _WikiText(Dataset):
    """Samples are (data, label): int32 NDArrays of `seq_len` token indices, label being the
    data shifted by one token.  The segment's lines are split on whitespace, each non-empty
    line followed by '<eos>', and the token stream is cut into whole rows of seq_len (the
    remainder is dropped).

    When `vocab` is None the vocabulary is built from the segment being read (as MXNet does,
    so a validation or test set gets its own vocabulary unless the training set's is passed):
    every token, by frequency, after '<unk>' and the reserved '<eos>'.  `frequencies` counts
    the segment's tokens split on ' ' and newlines only (MXNet's count_tokens_from_str)."""
    _name = None     # folder name, inside the archive and under $MXNET_HOME/datasets
    _archive = None  # MXNet's archive of the dataset

    def __init__(self, root, segment, vocab, seq_len):
        op = type(self).__name__
        if segment not in SEGMENT_FILES:
            raise TextKeyError("must be one of %s, got %r" % (", ".join(SEGMENT_FILES), segment),
                               arg="segment", op=op)
        if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)) \
                or seq_len < 1:
            raise PlaitError("must be a positive int, got %r" % (seq_len,), arg="seq_len", op=op)
        if vocab is not None and not callable(getattr(vocab, 'to_indices', None)):
            raise PlaitError("must be a mx.contrib.text.vocab.Vocabulary (or have its "
                             "to_indices) or None, got %s" % type(vocab).__name__,
                             arg="vocab", op=op)
        if root is None:
            root = os.path.join(_data_dir(), 'datasets', self._name)
        self._root = os.path.expanduser(root)
        self._segment, self._seq_len = segment, int(seq_len)
        self._vocab, self._counter = vocab, None
        self.file = self._find_file()
        stream = self._read_indices(self.file)
        # data is the stream without its last token, label without its first; both cut to
        # whole rows of seq_len (separate arrays, as MXNet's)
        rows = max(len(stream) - 1, 0) // self._seq_len
        size = rows * self._seq_len
        self._data_np = stream[:size].reshape(rows, self._seq_len)
        self._label_np = stream[1:size + 1].reshape(rows, self._seq_len).copy()
        self._data, self._label = NDArray(self._data_np), NDArray(self._label_np)

    def _find_file(self):
        """The segment's file in root, or in root/<dataset name> (where unzipping MXNet's
        archive puts it)."""
        name = SEGMENT_FILES[self._segment]
        folders = (self._root, os.path.join(self._root, self._name))
        for folder in folders:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
        raise PlaitError(
            "%s not found in %s nor in %s. plait does not download: get %sgluon/dataset/%s/%s "
            "(MXNet's copy, holding %s) and unzip it into %s, or pass root=<folder holding %s>"
            % (name, folders[0], folders[1], _repo_url(), self._name, self._archive,
               ", ".join(SEGMENT_FILES.values()), self._root, name),
            arg="root", op=type(self).__name__)

    def _read_indices(self, path):
        """The int32 token indices of the file, '<eos>' after every non-empty line."""
        with open(path, 'r', encoding='utf8') as f:
            content = f.read()
        self._counter = text_utils.count_tokens_from_str(content)
        if self._vocab is None:
            self._vocab = Vocabulary(counter=self._counter, reserved_tokens=[EOS_TOKEN])
        tokens = []
        for line in content.splitlines():
            words = line.split()
            if words:
                tokens.extend(words)
                tokens.append(EOS_TOKEN)
        return np.asarray(self._vocab.to_indices(tokens), dtype=np.int32)

    @property
    def vocabulary(self):
        """The Vocabulary indexing the tokens (given, or built from this segment)."""
        return self._vocab

    @property
    def frequencies(self):
        """collections.Counter of this segment's tokens."""
        return self._counter

    def __getitem__(self, idx):
        return self._data[idx], self._label[idx]

    def __len__(self):
        return len(self._label_np)

    def _fast_batch(self, indices):
        return [NDArray(self._data_np[indices]), NDArray(self._label_np[indices])]


class WikiText2(_WikiText):
    """WikiText-2 (Salesforce research; CC BY-SA), word level, for language modelling.

    root : str, default $MXNET_HOME/datasets/wikitext-2 (else ~/.mxnet/...)
        Folder holding wiki.train.tokens, wiki.valid.tokens and wiki.test.tokens (directly or
        in a wikitext-2/ subfolder, as MXNet's wikitext-2-v1.zip unzips).
    segment : 'train', 'validation' or 'test'
    vocab : Vocabulary or None
        Indexes the tokens; None builds one from this segment.
    seq_len : int, default 35
        Tokens per sample, regardless of line boundaries.
    """
    _name = 'wikitext-2'
    _archive = 'wikitext-2-v1.zip'

    def __init__(self, root=None, segment='train', vocab=None, seq_len=35):
        super().__init__(root, segment, vocab, seq_len)


class WikiText103(_WikiText):
    """WikiText-103 (Salesforce research; CC BY-SA): as WikiText2, from
    $MXNET_HOME/datasets/wikitext-103 (MXNet's wikitext-103-v1.zip)."""
    _name = 'wikitext-103'
    _archive = 'wikitext-103-v1.zip'

    def __init__(self, root=None, segment='train', vocab=None, seq_len=35):
        super().__init__(root, segment, vocab, seq_len)
