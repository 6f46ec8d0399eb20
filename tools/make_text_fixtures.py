"""Fixtures for tests/core/test_text.py and tests/gluon/contrib/data/test_text.py, made with
real MXNet 1.9.1 (mx.contrib.text and mx.gluon.contrib.data.text):

    /tmp/plait-anchors/mxnet/bin/python tools/make_text_fixtures.py

Writes tests/fixtures/text/:
  wikitext/wiki.{train,valid,test}.tokens  a small synthetic WikiText-like corpus (generated
                                           here with a fixed seed; a few kilobytes)
  emb_a.txt, emb_b.txt                     small embedding text files (emb_a: utf8, ' '-delimited,
                                           with a fastText-style header, a duplicate and an
                                           <unk> row; emb_b: latin-1, tab-delimited)
  text.json                                MXNet's results: count_tokens_from_str, Vocabulary,
                                           embeddings (tokens, warnings), pretrained file names,
                                           WikiText2/103 (lengths, vocabularies, frequencies)
  text.npz                                 the arrays (embedding vectors, WikiText samples)

MXNet's WikiText datasets check sha1s and download, and GloVe/FastText check the sha1 of
their file: both are patched here to accept the local fake files and never download.
"""
import collections
import json
import os
import shutil
import tempfile
import warnings

import numpy as np
import mxnet as mx
from mxnet.contrib import text
import mxnet.gluon.utils as gluon_utils
import mxnet.gluon.contrib.data.text as mx_wikitext

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "text")
WIKI = os.path.join(OUT, "wikitext")

WORDS = ("the of and in to a was The is for on as with by he at from his an were that "
         "it which game series first two also had its after been @-@ @,@ @.@ 1 000 3 "
         "Valkyria Chronicles battle team Gallia war unit Japanese released city river "
         "café naïve 東京 Über über Zürich album song band music night storm hurricane "
         "road bridge station church king queen army navy ship island <unk>").split()
PUNCT = [",", ".", "(", ")", ";", ":", '"']

# lines that separate MXNet's two tokenisations: the counter splits on ' ' and '\n' only,
# the token stream on any whitespace and on every line boundary str.splitlines knows
QUIRK_LINES = [" tab\tseparated tokens here \n", " no\u00a0break space \n",
               " form\x0cfeed line \n", " Tab\there again , twice \n"]


def make_corpus():
    """A WikiText-like corpus: ' = Title = ' headings, blank lines, paragraphs of tokens
    drawn with Zipf-like frequencies (so there are many frequency ties)."""
    rng = np.random.RandomState(2024)
    p = 1.0 / np.arange(1, len(WORDS) + 1) ** 1.1
    p /= p.sum()

    def paragraph(n):
        toks = []
        for _ in range(n):
            toks.append(WORDS[rng.choice(len(WORDS), p=p)])
            if rng.rand() < 0.12:
                toks.append(PUNCT[rng.randint(len(PUNCT))])
        return " " + " ".join(toks) + " \n"

    def article(n_par, quirks=()):
        title = " ".join(WORDS[i] for i in rng.randint(30, len(WORDS) - 1, 2))
        lines = [" \n", " = %s = \n" % title, " \n"]
        for i in range(n_par):
            lines.append(paragraph(rng.randint(15, 70)))
            if i == 0:
                lines.extend(quirks)
            lines.append(" \n")
        return lines

    segments = {"train": article(10, QUIRK_LINES[:2]) + article(9, QUIRK_LINES[2:]),
                "valid": article(5, QUIRK_LINES[:1]), "test": article(4)}
    os.makedirs(WIKI, exist_ok=True)
    for seg, lines in segments.items():
        with open(os.path.join(WIKI, "wiki.%s.tokens" % seg), "w", encoding="utf8",
                  newline="") as f:
            f.write("".join(lines))


def vec_line(rng, token, n, delim):
    return delim.join([token] + ["%.6f" % v for v in rng.uniform(-1, 1, n)]) + "\n"


def make_embedding_files():
    rng = np.random.RandomState(7)
    lines = ["26 5\n"]  # a fastText header: token '26' with a 1-element vector
    for tok in ("the of and in to The was is Gallia battle café 東京 Über über army "
                "ship <unk> king queen").split():
        lines.append(vec_line(rng, tok, 5, " "))
    lines.insert(6, vec_line(rng, "of", 5, " "))  # a duplicate: MXNet keeps the first
    lines.append(vec_line(rng, "station", 5, " "))
    with open(os.path.join(OUT, "emb_a.txt"), "w", encoding="utf8") as f:
        f.write("".join(lines))
    lines = [vec_line(rng, tok, 3, "\t") for tok in
             "the of café naïve Zürich and city river road The".split()]
    with open(os.path.join(OUT, "emb_b.txt"), "w", encoding="latin-1") as f:
        f.write("".join(lines))


def counter_items(counter):
    return [[k, v] for k, v in counter.items()]


def make_count_tokens():
    with open(os.path.join(WIKI, "wiki.train.tokens"), encoding="utf8") as f:
        corpus = f.read()
    cases = [
        {"source": " Life is great ! \n life is good . \n", "kwargs": {}},
        {"source": " Life is great ! \n life is good . \n", "kwargs": {"to_lower": True}},
        {"source": "*Life*is*great*!*\n*life*is*good*.*\n",
         "kwargs": {"token_delim": "\\*", "seq_delim": "\n", "to_lower": True}},
        {"source": "a,b;;c,(a);b", "kwargs": {"token_delim": ",", "seq_delim": ";"}},
        {"source": "a,b;c,a", "kwargs": {"token_delim": "(,)", "seq_delim": ";"}},
        {"source": "Äb äB Äb  x\tY\n\nx", "kwargs": {"to_lower": True}},
        {"source": "", "kwargs": {}},
        {"source": "b a b c", "kwargs": {}, "update": [["a", 5], ["z", 1]]},
        {"source": corpus, "kwargs": {}, "name": "train_corpus"},
    ]
    for c in cases:
        if "update" in c:
            out = text.utils.count_tokens_from_str(
                c["source"], counter_to_update=collections.Counter(dict(c["update"])),
                **c["kwargs"])
        else:
            out = text.utils.count_tokens_from_str(c["source"], **c["kwargs"])
        c["result"] = counter_items(out)
        if c.get("name") == "train_corpus":
            c["source"] = None  # the test reads the file itself
    return cases


TIE_COUNTER = {"c": 3, "a": 3, "b": 3, "e": 1, "d": 2, "f": 2, "<unk>": 5, "<pad>": 4, "g": 1}
PROBES = ["a", "b", "c", "zz", "<unk>", "<pad>", "the", "The", "of", "<eos>", "café"]


def vocab_case(counter, kwargs, name):
    v = text.vocab.Vocabulary(collections.Counter(counter) if counter is not None else None,
                              **kwargs)
    n = len(v)
    return {"name": name, "counter": counter_items(counter) if counter is not None else None,
            "kwargs": kwargs, "idx_to_token": v.idx_to_token, "len": n,
            "token_to_idx": sorted([[t, i] for t, i in v.token_to_idx.items()], key=str),
            "unknown_token": v.unknown_token, "reserved_tokens": v.reserved_tokens,
            "probe_indices": v.to_indices(PROBES), "single_index": v.to_indices("b"),
            "to_tokens": v.to_tokens([0, n - 1, -1]), "to_token": v.to_tokens(n - 1)}


def make_vocab():
    corpus = text.utils.count_tokens_from_str(
        open(os.path.join(WIKI, "wiki.train.tokens"), encoding="utf8").read())
    corpus = dict(corpus)
    cases = [vocab_case(None, {}, "empty")]
    for m in (None, 0, 1, 2, 3, 4, 5, 100, -1):
        cases.append(vocab_case(TIE_COUNTER, {"most_freq_count": m}, "tie_mfc_%s" % m))
    for f in (1, 2, 3, 4, 0.5, 6):
        cases.append(vocab_case(TIE_COUNTER, {"min_freq": f}, "tie_minfreq_%s" % f))
    cases.append(vocab_case(TIE_COUNTER, {"reserved_tokens": ["<pad>", "<bos>"]}, "reserved"))
    cases.append(vocab_case(TIE_COUNTER, {"reserved_tokens": []}, "reserved_empty"))
    cases.append(vocab_case(TIE_COUNTER, {"unknown_token": "<UNK>", "reserved_tokens": ["b"],
                                          "most_freq_count": 3, "min_freq": 2}, "mixed"))
    cases.append(vocab_case(TIE_COUNTER, {"unknown_token": "a"}, "unknown_is_key"))
    cases.append(vocab_case(None, {"reserved_tokens": ["x", "y"], "unknown_token": "?"},
                            "no_counter_reserved"))
    cases.append(vocab_case(corpus, {}, "corpus"))
    cases.append(vocab_case(corpus, {"most_freq_count": 25, "min_freq": 2,
                                     "reserved_tokens": ["<eos>"]}, "corpus_capped"))
    v = text.vocab.Vocabulary(collections.Counter({3: 2, 1: 2, 2: 5, 7: 1}), unknown_token=-1,
                              reserved_tokens=[0])
    cases.append({"name": "int_tokens", "counter": [[3, 2], [1, 2], [2, 5], [7, 1]],
                  "kwargs": {"unknown_token": -1, "reserved_tokens": [0]},
                  "idx_to_token": v.idx_to_token, "len": len(v),
                  "probe_indices": v.to_indices([1, 2, 3, 7, 9, -1, 0])})
    errors = []
    for kwargs in ({"min_freq": 0}, {"min_freq": -1},
                   {"reserved_tokens": ["<pad>", "<pad>"]},
                   {"reserved_tokens": ["<unk>"]}, {"counter": {"a": 1}}):
        try:
            text.vocab.Vocabulary(**kwargs)
            errors.append({"kwargs": kwargs, "error": None})
        except Exception as e:  # noqa: BLE001  (record what MXNet raises)
            errors.append({"kwargs": kwargs, "error": type(e).__name__})
    return cases, errors


def load_recording_warnings(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(x.message) for x in w if issubclass(x.category, UserWarning)]


EMB_PROBES = ["the", "The", "THE", "of", "Of", "café", "CAFÉ", "Über", "ÜBER", "zz", "<unk>",
              "station", "Station", "naïve", "26"]


def emb_record(name, e, arrays, extra=None):
    arrays["emb/%s/idx_to_vec" % name] = e.idx_to_vec.asnumpy()
    arrays["emb/%s/lookup" % name] = e.get_vecs_by_tokens(EMB_PROBES).asnumpy()
    arrays["emb/%s/lookup_lower" % name] = e.get_vecs_by_tokens(
        EMB_PROBES, lower_case_backup=True).asnumpy()
    arrays["emb/%s/single" % name] = e.get_vecs_by_tokens("of").asnumpy()
    rec = {"idx_to_token": e.idx_to_token, "vec_len": e.vec_len,
           "unknown_token": e.unknown_token, "reserved_tokens": e.reserved_tokens,
           "len": len(e), "probe_indices": e.to_indices(EMB_PROBES)}
    rec.update(extra or {})
    return rec


def make_embeddings():
    emb_a, emb_b = os.path.join(OUT, "emb_a.txt"), os.path.join(OUT, "emb_b.txt")
    arrays, cases = {}, {}
    corpus = text.utils.count_tokens_from_str(
        open(os.path.join(WIKI, "wiki.train.tokens"), encoding="utf8").read())
    vocab = text.vocab.Vocabulary(corpus, most_freq_count=40, reserved_tokens=["<eos>"])
    a, warns = load_recording_warnings(lambda: text.embedding.CustomEmbedding(emb_a))
    cases["a"] = emb_record("a", a, arrays, {"warnings": warns})
    b = text.embedding.CustomEmbedding(emb_b, elem_delim="\t", encoding="latin-1",
                                       init_unknown_vec=mx.nd.ones)
    cases["b"] = emb_record("b", b, arrays)
    a_unk, _ = load_recording_warnings(lambda: text.embedding.CustomEmbedding(
        emb_a, unknown_token="<UNK>", init_unknown_vec=mx.nd.ones))
    cases["a_unknown_upper"] = emb_record("a_unknown_upper", a_unk, arrays)
    a_the, _ = load_recording_warnings(lambda: text.embedding.CustomEmbedding(
        emb_a, unknown_token="the"))
    cases["a_unknown_the"] = emb_record("a_unknown_the", a_the, arrays)
    a_voc, _ = load_recording_warnings(lambda: text.embedding.CustomEmbedding(
        emb_a, vocabulary=vocab))
    cases["a_vocab"] = emb_record("a_vocab", a_voc, arrays)
    comp = text.embedding.CompositeEmbedding(vocab, [a, b])
    cases["composite"] = emb_record("composite", comp, arrays)
    comp1 = text.embedding.CompositeEmbedding(vocab, b)
    cases["composite_one"] = emb_record("composite_one", comp1, arrays)

    # update_token_vectors, in sequence on a fresh copy of emb_a
    upd, _ = load_recording_warnings(lambda: text.embedding.CustomEmbedding(emb_a))
    steps = [(["the", "<unk>"], np.arange(10, dtype=np.float32).reshape(2, 5)),
             ("of", np.full(5, -3.5, np.float32)),
             (["café"], np.full((1, 5), 7.25, np.float32)),
             (["and", "and"], np.array([[1] * 5, [2] * 5], np.float32))]
    for i, (toks, vec) in enumerate(steps):
        upd.update_token_vectors(toks, mx.nd.array(vec))
        arrays["upd/new%d" % i] = vec
        arrays["upd/after%d" % i] = upd.idx_to_vec.asnumpy()
    cases["update_steps"] = [s[0] for s in steps]
    errs = []
    for toks, shape in ((["zz"], (1, 5)), ("the", (5, 1)), (["the", "of"], (5,)),
                        (["the", "of"], (3, 5)), ("the", (4,))):
        try:
            upd.update_token_vectors(toks, mx.nd.zeros(shape))
            errs.append({"tokens": toks, "shape": shape, "error": None})
        except Exception as e:  # noqa: BLE001
            errs.append({"tokens": toks, "shape": shape, "error": type(e).__name__})
    cases["update_errors"] = errs

    # GloVe / FastText from a local embedding_root (their sha1 check patched to pass)
    gluon_utils.check_sha1 = lambda *a, **k: True

    def no_download(*a, **k):
        raise RuntimeError("fixture script: no downloads")
    gluon_utils.download = no_download
    root = tempfile.mkdtemp()
    try:
        for cls, fname in (("glove", "glove.6B.50d.txt"), ("fasttext", "wiki.simple.vec")):
            os.makedirs(os.path.join(root, cls))
            shutil.copy(emb_a, os.path.join(root, cls, fname))
        g, _ = load_recording_warnings(lambda: text.embedding.create(
            "GloVe", pretrained_file_name="glove.6B.50d.txt", embedding_root=root))
        cases["glove"] = emb_record("glove", g, arrays)
        ft, _ = load_recording_warnings(lambda: text.embedding.FastText(
            embedding_root=root, vocabulary=vocab))
        cases["fasttext_vocab"] = emb_record("fasttext_vocab", ft, arrays)
    finally:
        shutil.rmtree(root)
    cases["vocab"] = {"counter": counter_items(corpus), "most_freq_count": 40,
                      "reserved_tokens": ["<eos>"], "idx_to_token": vocab.idx_to_token}
    names = text.embedding.get_pretrained_file_names()
    cases["pretrained_file_names"] = names
    cases["pretrained_file_names_glove"] = text.embedding.get_pretrained_file_names("glove")
    return cases, arrays


WIKI_CASES = [("WikiText2", "train", 35, None), ("WikiText2", "validation", 35, None),
              ("WikiText2", "validation", 35, "train"), ("WikiText2", "test", 7, "train"),
              ("WikiText2", "train", 1, None), ("WikiText2", "test", 100000, "train"),
              ("WikiText103", "train", 10, None)]


def make_wikitext():
    mx_wikitext.check_sha1 = lambda *a, **k: True

    def no_download(*a, **k):
        raise RuntimeError("fixture script: no downloads")
    mx_wikitext.download = no_download
    cases, arrays = [], {}
    train = mx_wikitext.WikiText2(root=WIKI)
    for i, (cls, seg, seq_len, vocab) in enumerate(WIKI_CASES):
        ds = getattr(mx_wikitext, cls)(root=WIKI, segment=seg, seq_len=seq_len,
                                       vocab=train.vocabulary if vocab else None)
        n = len(ds)
        arrays["wiki/%d/data" % i] = np.stack([ds[j][0].asnumpy() for j in range(n)]) \
            if n else np.zeros((0, seq_len), np.int32)
        arrays["wiki/%d/label" % i] = np.stack([ds[j][1].asnumpy() for j in range(n)]) \
            if n else np.zeros((0, seq_len), np.int32)
        first = ds[0] if n else None
        cases.append({"cls": cls, "segment": seg, "seq_len": seq_len, "vocab": vocab,
                      "len": n, "idx_to_token": ds.vocabulary.idx_to_token,
                      "frequencies": counter_items(ds.frequencies),
                      "item_dtype": str(first[0].dtype.__name__) if n else None,
                      "item_shape": list(first[0].shape) if n else None})
    return cases, arrays


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_corpus()
    make_embedding_files()
    fixtures = {"count_tokens": make_count_tokens()}
    fixtures["vocab"], fixtures["vocab_errors"] = make_vocab()
    fixtures["embedding"], emb_arrays = make_embeddings()
    fixtures["wikitext"], wiki_arrays = make_wikitext()
    with open(os.path.join(OUT, "text.json"), "w", encoding="utf8") as f:
        json.dump(fixtures, f, ensure_ascii=False, indent=1)
    np.savez_compressed(os.path.join(OUT, "text.npz"), **emb_arrays, **wiki_arrays)
    print("wrote", OUT)
