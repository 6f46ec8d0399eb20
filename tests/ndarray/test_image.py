"""mx.nd.image: MXNet's call forms (positional parameters), and the random image ops:
reproducible under mx.random.seed, drawing from the documented ranges."""
import colorsys

import numpy as np
import pytest

import plait as mx
from plait.core.ops import image_color

R = np.random.RandomState(3)
IMG = R.randint(0, 256, (6, 5, 3)).astype(np.uint8)


def nd(a):
    return mx.nd.array(a, dtype=a.dtype)


def test_positional_calls_as_in_mxnet_docs():
    x = nd(IMG)
    np.testing.assert_array_equal(mx.nd.image.crop(x, 1, 2, 3, 2).asnumpy(), IMG[2:4, 1:4])
    assert mx.nd.image.resize(x, (3, 4)).shape == (4, 3, 3)
    assert mx.nd.image.resize(x, 4, True).shape == (4 * 6 // 5, 4, 3)
    t = mx.nd.image.to_tensor(x)
    assert t.dtype == np.float32 and t.shape == (3, 6, 5)
    np.testing.assert_array_equal(t.asnumpy(), np.moveaxis(IMG, -1, 0).astype(np.float32) / 255)
    n = mx.nd.image.normalize(t, (0.5, 0.4, 0.3), (0.2, 0.2, 0.2))
    np.testing.assert_allclose(n.asnumpy()[1], (t.asnumpy()[1] - 0.4) / 0.2, rtol=1e-6)
    b = mx.nd.image.random_brightness(x.astype("float32"), 0.5, 0.5)
    np.testing.assert_allclose(b.asnumpy(), IMG * 0.5, rtol=1e-6)


RANDOM_CALLS = [
    ("random_flip_left_right", {}), ("random_flip_top_bottom", {}),
    ("random_brightness", dict(min_factor=0.2, max_factor=1.8)),
    ("random_contrast", dict(min_factor=0.2, max_factor=1.8)),
    ("random_saturation", dict(min_factor=0.2, max_factor=1.8)),
    ("random_hue", dict(min_factor=0.0, max_factor=0.5)),
    ("random_color_jitter", dict(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.2)),
    ("random_lighting", dict(alpha_std=0.5))]


@pytest.mark.parametrize("name,kw", RANDOM_CALLS)
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_random_ops_are_reproducible_under_seed_and_vary(name, kw, dtype):
    x = nd(IMG.astype(dtype))
    fn = getattr(mx.nd.image, name)

    def draws(seed, n=12):
        mx.random.seed(seed)
        return [fn(x, **kw).asnumpy() for _ in range(n)]
    a, b = draws(7), draws(7)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
        assert u.dtype == np.dtype(dtype) and u.shape == IMG.shape
    assert len({u.tobytes() for u in a}) > 1, "%s never changes its draw" % name


@pytest.mark.parametrize("name,axis", [("random_flip_left_right", 1),
                                       ("random_flip_top_bottom", 0)])
def test_random_flips_flip_half_of_the_time(name, axis):
    mx.random.seed(0)
    x = nd(IMG)
    flipped = 0
    for _ in range(400):
        y = getattr(mx.nd.image, name)(x).asnumpy()
        if np.array_equal(y, np.flip(IMG, axis)):
            flipped += 1
        else:
            np.testing.assert_array_equal(y, IMG)
    assert 150 < flipped < 250


def test_random_brightness_factors_cover_the_range():
    mx.random.seed(1)
    x = nd(IMG.astype(np.float64) + 1)
    f = [float((mx.nd.image.random_brightness(x, 0.5, 1.5).asnumpy() / (IMG + 1.0)).mean())
         for _ in range(300)]
    assert 0.5 <= min(f) < 0.55 and 1.45 < max(f) <= 1.5
    assert abs(np.mean(f) - 1.0) < 0.05


def test_color_jitter_brightness_alone_is_one_plus_uniform():
    mx.random.seed(2)
    x = nd(IMG.astype(np.float32) + 1)
    f = []
    for _ in range(200):
        y = mx.nd.image.random_color_jitter(x, 0.3, 0, 0, 0).asnumpy()
        ratio = y / (IMG + 1.0)
        np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-5)
        f.append(ratio.flat[0])
    assert 0.7 <= min(f) < 0.75 and 1.25 < max(f) <= 1.3
    assert mx.nd.image.random_color_jitter(x, 0, 0, 0, 0).asnumpy().tolist() == \
        x.asnumpy().tolist()


def test_random_hue_rotates_in_turns_like_colorsys():
    mx.random.seed(3)
    x = IMG.astype(np.float64) / 255
    y = mx.nd.image.random_hue(nd(IMG.astype(np.float32)), 0.25, 0.25).asnumpy() / 255
    want = np.array([[colorsys.hls_to_rgb((h + 0.25) % 1, l_, s) for h, l_, s in
                      (colorsys.rgb_to_hls(*p) for p in row)] for row in x])
    np.testing.assert_allclose(y, want, atol=1e-5)


def test_random_lighting_adds_one_pca_shift_per_call():
    mx.random.seed(4)
    x = nd(IMG.astype(np.float64))
    shifts = []
    for _ in range(200):
        d = (mx.nd.image.random_lighting(x, 0.1).asnumpy() - IMG).reshape(-1, 3)
        np.testing.assert_allclose(d, np.broadcast_to(d[0], d.shape), atol=1e-9)
        alpha = np.linalg.solve(image_color.EIGVEC.astype(np.float64), d[0]) / \
            image_color.EIGVAL.astype(np.float64)
        shifts.append(alpha)
    s = np.array(shifts)
    assert np.all(np.abs(s.mean(axis=0)) < 0.03) and np.all(np.abs(s.std(axis=0) - 0.1) < 0.02)


def test_batches_get_one_draw_for_all_images():
    mx.random.seed(5)
    batch = nd(np.stack([IMG, IMG]))
    for name, kw in RANDOM_CALLS:
        y = getattr(mx.nd.image, name)(batch, **kw).asnumpy()
        np.testing.assert_array_equal(y[0], y[1], err_msg=name)
