"""mx.contrib.text: MXNet 1.9's text utilities: token counting (utils), token indexing
(vocab.Vocabulary) and token embeddings (embedding), all read from local files."""
from . import utils  # noqa: F401
from . import vocab  # noqa: F401
from . import embedding  # noqa: F401
