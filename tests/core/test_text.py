"""mx.contrib.text (utils, vocab, embedding) against MXNet 1.9.1's results on the same inputs
(tests/fixtures/text/, made by tools/make_text_fixtures.py), plus argument errors, the local
pretrained files of GloVe/FastText and the plait.contrib.text module aliases."""
import collections
import json
import os
import re
import shutil
import warnings

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "text")
with open(os.path.join(FIX, "text.json"), encoding="utf8") as _f:
    FIXTURES = json.load(_f)
EMB_A, EMB_B = os.path.join(FIX, "emb_a.txt"), os.path.join(FIX, "emb_b.txt")
TRAIN = os.path.join(FIX, "wikitext", "wiki.train.tokens")
text = mx.contrib.text
EMB = FIXTURES["embedding"]


@pytest.fixture(scope="module")
def arrays():
    with np.load(os.path.join(FIX, "text.npz"), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# -- module layout ---------------------------------------------------------------------------
def test_module_aliases():
    import plait.contrib.text as by_import
    import plait.contrib.text.embedding as emb_mod
    from plait.contrib.text import utils, vocab
    assert by_import is text
    assert vocab is text.vocab and utils is text.utils and emb_mod is text.embedding
    assert issubclass(text.embedding.CustomEmbedding, text.vocab.Vocabulary)


# -- utils.count_tokens_from_str -------------------------------------------------------------
@pytest.mark.parametrize("case", FIXTURES["count_tokens"], ids=lambda c: repr(c["kwargs"]))
def test_count_tokens_matches_mxnet(case):
    source = case["source"]
    if source is None:
        with open(TRAIN, encoding="utf8") as f:
            source = f.read()
    start = collections.Counter(dict(case["update"])) if "update" in case else None
    out = text.utils.count_tokens_from_str(source, counter_to_update=start, **case["kwargs"])
    assert isinstance(out, collections.Counter)
    if start is not None:
        assert out is start
    # same counts, in the same (first occurrence) order
    assert [[k, v] for k, v in out.items()] == case["result"]


# -- vocab.Vocabulary ------------------------------------------------------------------------
def make_vocab(case):
    counter = case["counter"]
    counter = None if counter is None else collections.Counter(
        {k: v for k, v in counter})
    return text.vocab.Vocabulary(counter, **case["kwargs"])


@pytest.mark.parametrize("case", [c for c in FIXTURES["vocab"] if c["name"] != "int_tokens"],
                         ids=lambda c: c["name"])
def test_vocabulary_matches_mxnet(case):
    v = make_vocab(case)
    assert v.idx_to_token == case["idx_to_token"]
    assert len(v) == case["len"]
    assert sorted(([t, i] for t, i in v.token_to_idx.items()), key=str) == case["token_to_idx"]
    assert v.unknown_token == case["unknown_token"]
    assert v.reserved_tokens == case["reserved_tokens"]
    probes = ["a", "b", "c", "zz", "<unk>", "<pad>", "the", "The", "of", "<eos>", "café"]
    assert v.to_indices(probes) == case["probe_indices"]
    assert v.to_indices("b") == case["single_index"]
    n = len(v)
    assert v.to_tokens([0, n - 1, -1]) == case["to_tokens"]
    assert v.to_tokens(n - 1) == case["to_token"]


def test_vocabulary_int_tokens():
    case = next(c for c in FIXTURES["vocab"] if c["name"] == "int_tokens")
    v = make_vocab(case)
    assert v.idx_to_token == case["idx_to_token"]
    assert v.to_indices([1, 2, 3, 7, 9, -1, 0]) == case["probe_indices"]


def test_vocabulary_reserved_list_is_copied():
    reserved = ["<pad>"]
    v = text.vocab.Vocabulary(reserved_tokens=reserved)
    reserved.append("<bos>")
    assert v.reserved_tokens == ["<pad>"] and v.idx_to_token == ["<unk>", "<pad>"]


@pytest.mark.parametrize("case", FIXTURES["vocab_errors"], ids=lambda c: repr(c["kwargs"]))
def test_vocabulary_bad_arguments(case):
    assert case["error"] == "AssertionError"  # what MXNet raises
    with pytest.raises(AssertionError) as err:
        text.vocab.Vocabulary(**case["kwargs"])
    assert isinstance(err.value, PlaitError)
    arg = next(iter(case["kwargs"]))
    assert "argument '%s'" % arg in str(err.value)


def test_vocabulary_bad_most_freq_count():
    with pytest.raises(PlaitError, match="most_freq_count"):
        text.vocab.Vocabulary(collections.Counter("abc"), most_freq_count="2")


@pytest.mark.parametrize("bad", [3, -4, 1.0, "a", None])
def test_to_tokens_bad_index(bad):
    v = text.vocab.Vocabulary(reserved_tokens=["x", "y"])
    with pytest.raises(ValueError, match="argument 'indices'.*%s" % re.escape(repr(bad))):
        v.to_tokens([0, bad])


def test_to_tokens_numpy_int_and_extensions():
    v = text.vocab.Vocabulary(collections.Counter("aab"), reserved_tokens=["<pad>"])
    assert v.to_tokens(np.int64(2)) == "a" and v.to_tokens([np.int32(3)]) == ["b"]
    # plait additions (not in MXNet 1.9): vocab[token(s)] and `in`
    assert v["a"] == 2 and v[["b", "zz"]] == [3, 0]
    assert "a" in v and "<unk>" in v and "zz" not in v
    assert v.to_indices(("a", "b")) == 0  # a tuple is one (unknown) token, as in MXNet


# -- embeddings ------------------------------------------------------------------------------
EMB_PROBES = ["the", "The", "THE", "of", "Of", "café", "CAFÉ", "Über", "ÜBER", "zz", "<unk>",
              "station", "Station", "naïve", "26"]


@pytest.fixture(scope="module")
def fixture_vocab():
    rec = EMB["vocab"]
    v = text.vocab.Vocabulary(collections.Counter({k: c for k, c in rec["counter"]}),
                              most_freq_count=rec["most_freq_count"],
                              reserved_tokens=rec["reserved_tokens"])
    assert v.idx_to_token == rec["idx_to_token"]
    return v


@pytest.fixture(scope="module")
def pretrained_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("embeddings")
    for cls, fname in (("glove", "glove.6B.50d.txt"), ("fasttext", "wiki.simple.vec")):
        os.makedirs(root / cls)
        shutil.copy(EMB_A, root / cls / fname)
    return str(root)


def build_embedding(name, vocab, root):
    E = text.embedding
    a = lambda **kw: quiet(E.CustomEmbedding, EMB_A, **kw)  # noqa: E731
    b = lambda: E.CustomEmbedding(EMB_B, elem_delim="\t", encoding="latin-1",  # noqa: E731
                                  init_unknown_vec=mx.nd.ones)
    return {
        "a": a, "b": b,
        "a_unknown_upper": lambda: a(unknown_token="<UNK>", init_unknown_vec=mx.nd.ones),
        "a_unknown_the": lambda: a(unknown_token="the"),
        "a_vocab": lambda: a(vocabulary=vocab),
        "composite": lambda: E.CompositeEmbedding(vocab, [a(), b()]),
        "composite_one": lambda: E.CompositeEmbedding(vocab, b()),
        "glove": lambda: quiet(E.create, "GloVe", pretrained_file_name="glove.6B.50d.txt",
                               embedding_root=root),
        "fasttext_vocab": lambda: quiet(E.FastText, embedding_root=root, vocabulary=vocab),
    }[name]()


EMB_CASES = ["a", "b", "a_unknown_upper", "a_unknown_the", "a_vocab", "composite",
             "composite_one", "glove", "fasttext_vocab"]


@pytest.mark.parametrize("name", EMB_CASES)
def test_embedding_matches_mxnet(name, arrays, fixture_vocab, pretrained_root):
    e = build_embedding(name, fixture_vocab, pretrained_root)
    rec, key = EMB[name], "emb/%s/" % name
    assert e.idx_to_token == rec["idx_to_token"]
    assert e.vec_len == rec["vec_len"] and len(e) == rec["len"]
    assert e.unknown_token == rec["unknown_token"]
    assert e.reserved_tokens == rec["reserved_tokens"]
    assert e.to_indices(EMB_PROBES) == rec["probe_indices"]
    assert isinstance(e.idx_to_vec, mx.nd.NDArray) and e.idx_to_vec.dtype == np.float32
    np.testing.assert_array_equal(e.idx_to_vec.asnumpy(), arrays[key + "idx_to_vec"])
    got = e.get_vecs_by_tokens(EMB_PROBES)
    assert isinstance(got, mx.nd.NDArray)
    np.testing.assert_array_equal(got.asnumpy(), arrays[key + "lookup"])
    np.testing.assert_array_equal(e.get_vecs_by_tokens(EMB_PROBES, lower_case_backup=True)
                                  .asnumpy(), arrays[key + "lookup_lower"])
    single = e.get_vecs_by_tokens("of")
    assert single.shape == (e.vec_len,)
    np.testing.assert_array_equal(single.asnumpy(), arrays[key + "single"])
    assert ("of" in e) == ("of" in rec["idx_to_token"]) and "zz" not in e


def test_embedding_file_warnings_match_mxnet():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        text.embedding.CustomEmbedding(EMB_A)
    got = [(int(re.search(r"line (\d+)", str(x.message)).group(1)),
            "header" if "header" in str(x.message) else "duplicate") for x in w]
    want = [(int(re.search(r"line (\d+)", m).group(1)),
             "header" if "header" in m else "duplicate") for m in EMB["a"]["warnings"]]
    assert got == want and len(got) == 2


def test_update_token_vectors_matches_mxnet(arrays):
    e = quiet(text.embedding.CustomEmbedding, EMB_A)
    table = e.idx_to_vec
    for i, tokens in enumerate(EMB["update_steps"]):
        e.update_token_vectors(tokens, mx.nd.array(arrays["upd/new%d" % i]))
        np.testing.assert_array_equal(e.idx_to_vec.asnumpy(), arrays["upd/after%d" % i])
    assert e.idx_to_vec is table  # updated in place, as MXNet


@pytest.mark.parametrize("case", EMB["update_errors"], ids=lambda c: str(c["tokens"]))
def test_update_token_vectors_errors(case):
    e = quiet(text.embedding.CustomEmbedding, EMB_A)
    before = e.idx_to_vec.asnumpy()
    exc = {"ValueError": ValueError, "AssertionError": AssertionError}[case["error"]]
    arg = "tokens" if case["error"] == "ValueError" else "new_vectors"
    with pytest.raises(exc, match="argument '%s'" % arg):
        e.update_token_vectors(case["tokens"], mx.nd.zeros(tuple(case["shape"])))
    np.testing.assert_array_equal(e.idx_to_vec.asnumpy(), before)
    with pytest.raises(PlaitError, match="new_vectors.*NDArray"):
        e.update_token_vectors("the", np.zeros(5, np.float32))


def test_pretrained_file_names_match_mxnet():
    names = text.embedding.get_pretrained_file_names()
    assert {k: names[k] for k in ("glove", "fasttext")} == EMB["pretrained_file_names"]
    assert text.embedding.get_pretrained_file_names("glove") == EMB["pretrained_file_names_glove"]
    with pytest.raises(KeyError, match="embedding_name.*'GloVe'"):
        text.embedding.get_pretrained_file_names("GloVe")


def test_pretrained_missing_file_says_where_and_what(tmp_path):
    with pytest.raises(PlaitError) as err:
        text.embedding.GloVe("glove.6B.100d.txt", embedding_root=str(tmp_path))
    msg = str(err.value)
    assert str(tmp_path / "glove" / "glove.6B.100d.txt") in msg and "embedding_root" in msg
    assert "gluon/embeddings/glove/glove.6B.zip" in msg and "does not download" in msg
    with pytest.raises(PlaitError, match="fasttext/wiki.en.zip"):
        text.embedding.create("fasttext", pretrained_file_name="wiki.en.vec",
                              embedding_root=str(tmp_path))


def test_pretrained_bad_file_name():
    with pytest.raises(KeyError, match="pretrained_file_name.*'glove.7B.txt'"):
        text.embedding.GloVe("glove.7B.txt")


def test_register_and_create():
    E = text.embedding

    class MyEmbed(E.CustomEmbedding):
        pretrained_file_names = ("mine.txt",)

    assert E.register(MyEmbed) is MyEmbed
    try:
        e = quiet(E.create, "MYEMBED", pretrained_file_path=EMB_A)
        assert isinstance(e, MyEmbed) and E.create(e) is e
        assert E.get_pretrained_file_names("myembed") == ["mine.txt"]
    finally:
        E._EMBEDDINGS.pop("myembed")
    with pytest.raises(AssertionError, match="embedding_name.*'nope' is not registered"):
        E.create("nope")
    with pytest.raises(AssertionError, match="embedding_cls"):
        E.register(text.vocab.Vocabulary)


@pytest.mark.parametrize("content,pattern", [
    ("a 1 2\n\nb 3 4\n", "line 2 .*expected a token and vector"),
    ("a 1 2\nb 3 x\n", "line 2 .*'b'.*not a number"),
    ("a 1 2\nb 3 4 5\n", "line 2 .*'b' has 3 vector elements.*2"),
    ("5 300\n", "no token vectors"),
    ("a 1 2\n<unk> 1 2 3\n", "unknown token '<unk>' has 3"),
])
def test_custom_embedding_bad_files(tmp_path, content, pattern):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf8")
    with pytest.raises(PlaitError, match="pretrained_file_path.*" + pattern):
        quiet(text.embedding.CustomEmbedding, str(path))


def test_custom_embedding_argument_errors(tmp_path):
    E = text.embedding
    with pytest.raises(ValueError, match="pretrained_file_path.*not a file"):
        E.CustomEmbedding(str(tmp_path / "missing.txt"))
    with pytest.raises(PlaitError, match="elem_delim"):
        E.CustomEmbedding(EMB_B, elem_delim="")
    # MXNet misaligns the vectors in these cases; plait refuses them
    with pytest.raises(PlaitError, match="reserved_tokens.*vocabulary="):
        E.CustomEmbedding(EMB_B, elem_delim="\t", encoding="latin-1", reserved_tokens=["<pad>"])
    with pytest.raises(PlaitError, match="counter"):
        E.CustomEmbedding(EMB_B, elem_delim="\t", encoding="latin-1",
                          counter=collections.Counter("ab"))
    with pytest.raises(PlaitError, match="vocabulary"):
        E.CustomEmbedding(EMB_B, elem_delim="\t", encoding="latin-1", vocabulary=["the"])
    b = E.CustomEmbedding(EMB_B, elem_delim="\t", encoding="latin-1")
    with pytest.raises(PlaitError, match="vocabulary"):
        E.CompositeEmbedding(["the"], b)
    with pytest.raises(PlaitError, match="token_embeddings"):
        E.CompositeEmbedding(text.vocab.Vocabulary(), [b, "glove"])
    with pytest.raises(PlaitError, match="token_embeddings"):
        E.CompositeEmbedding(text.vocab.Vocabulary(), [])


def test_embedding_file_is_parsed_not_executed(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("__import__('os').system('false') 1 2\nx 3 4\n", encoding="utf8")
    e = text.embedding.CustomEmbedding(str(path))
    assert e.idx_to_token == ["<unk>", "__import__('os').system('false')", "x"]
    np.testing.assert_array_equal(e.get_vecs_by_tokens(["x", "y"]).asnumpy(),
                                  [[3, 4], [0, 0]])
