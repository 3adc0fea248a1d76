"""Micro-batching: concurrent requests share one model call and get their own answers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from ...errors import ConfigError
from ...tasks import Predictions
from .. import routes
from ..app import create_app
from ..batching import Columns, MicroBatcher, as_frame, combine, split
from ..metrics import NAMESPACE
from ..routes import EXTENSION

TASKS = ["classification", "regression"]
CLIENTS = 12
SLOW_CALL = 0.3


def frame(*values):
    return pd.DataFrame({"x": [float(value) for value in values]})


def doubled(features):
    """A fake model: labels are twice ``x``, probabilities ``x`` and ``-x``."""
    x = features["x"].to_numpy()
    return Predictions(labels=2 * x, probabilities=np.column_stack([x, -x]), classes=("a", "b"))


class SlowFirstCall:
    """Wrap a scoring function: the first call waits, so that concurrent requests queue up."""

    def __init__(self, score):
        self.score = score
        self.sizes = []
        self.lock = threading.Lock()

    def __call__(self, *args):
        with self.lock:
            first = not self.sizes
            self.sizes.append(len(args[-1]))
        if first:
            time.sleep(SLOW_CALL)
        return self.score(*args)


def submit_all(batcher, frames):
    with ThreadPoolExecutor(len(frames)) as pool:
        return list(pool.map(lambda f: batcher.submit(lambda: f), frames))


def test_concurrent_requests_are_scored_together_and_get_their_own_rows():
    score = SlowFirstCall(doubled)
    batches = []
    batcher = MicroBatcher(
        score, max_rows=64, max_wait=0.01, observe=lambda *batch: batches.append(batch)
    )
    frames = [frame(n, n + 0.5) for n in range(CLIENTS)]
    results = submit_all(batcher, frames)
    for features, (returned, predictions) in zip(frames, results):
        assert returned is features
        assert predictions.labels.tolist() == (2 * features["x"]).tolist()
        assert predictions.probabilities[:, 0].tolist() == features["x"].tolist()
        assert predictions.classes == ("a", "b")
    assert max(score.sizes) > 2, "requests arriving during a model call should share the next"
    assert sum(requests for requests, _, _ in batches) == CLIENTS
    assert sum(rows for _, rows, _ in batches) == 2 * CLIENTS
    assert all(len(waits) == requests for requests, _, waits in batches)


def test_a_batch_never_exceeds_max_rows_but_a_larger_request_is_scored_alone():
    score = SlowFirstCall(doubled)
    batcher = MicroBatcher(score, max_rows=4, max_wait=0.01)
    frames = [frame(*range(n, n + 3)) for n in range(6)] + [frame(*range(9))]
    results = submit_all(batcher, frames)
    assert [p.labels.tolist() for _, p in results] == [(2 * f["x"]).tolist() for f in frames]
    assert sorted(score.sizes)[-1] == 9 and all(size <= 4 for size in sorted(score.sizes)[:-1])


def test_a_request_alone_is_scored_at_once_whatever_the_max_wait():
    batcher = MicroBatcher(doubled, max_rows=64, max_wait=5.0)
    started = time.perf_counter()
    _, predictions = batcher.submit(lambda: frame(1))
    assert time.perf_counter() - started < 1.0
    assert predictions.labels.tolist() == [2.0]


def busy(score, max_wait, clients):
    """A batcher whose last batch held ``clients`` requests (queued behind a slow first call)."""
    batcher = MicroBatcher(score, max_rows=64, max_wait=max_wait)
    submit_all(batcher, [frame(n) for n in range(clients + 1)])
    assert score.sizes == [1, clients], "the requests should have queued behind the first"
    return batcher


def test_under_load_a_batch_waits_for_as_many_requests_as_the_last_one_held():
    score = SlowFirstCall(doubled)
    batcher = busy(score, max_wait=5.0, clients=3)

    def late(n):
        time.sleep(0.1 * n)  # each request arrives while the earlier ones wait
        return batcher.submit(lambda: frame(n))[1].labels.tolist()

    started = time.perf_counter()
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(late, range(3)))
    assert answers == [[0.0], [2.0], [4.0]]
    assert score.sizes[2:] == [3], "the three requests should share one model call"
    assert time.perf_counter() - started < 2.5, "the batch is scored once it is full"


def test_when_the_load_drops_one_batch_waits_then_requests_are_scored_at_once():
    batcher = busy(SlowFirstCall(doubled), max_wait=0.3, clients=3)
    started = time.perf_counter()
    assert batcher.submit(lambda: frame(1))[1].labels.tolist() == [2.0]
    assert 0.25 < time.perf_counter() - started < 1.5, "waits at most max_wait, in vain"
    started = time.perf_counter()
    assert batcher.submit(lambda: frame(2))[1].labels.tolist() == [4.0]
    assert time.perf_counter() - started < 0.2, "after a batch of one, no wait"


def test_a_failed_validation_is_the_requests_own_and_leaves_the_batcher_usable():
    batcher = MicroBatcher(doubled, max_rows=64, max_wait=1.0)

    def invalid():
        raise ValueError("bad request")

    with pytest.raises(ValueError, match="bad request"):
        batcher.submit(invalid)
    started = time.perf_counter()
    assert batcher.submit(lambda: frame(3))[1].labels.tolist() == [6.0]
    assert time.perf_counter() - started < 0.5, "nobody is arriving any more: no wait"


def test_a_failing_batch_is_scored_again_request_by_request():
    def fragile(features):
        if (features["x"] < 0).any():
            raise RuntimeError("cannot score negative rows")
        return doubled(features)

    score = SlowFirstCall(fragile)
    batcher = MicroBatcher(score, max_rows=64, max_wait=0.01)
    frames = [frame(n) for n in range(-1, CLIENTS)]
    outcomes = []

    def one(features):
        try:
            outcomes.append((features["x"][0], batcher.submit(lambda: features)[1]))
        except RuntimeError as error:
            outcomes.append((features["x"][0], error))

    with ThreadPoolExecutor(len(frames)) as pool:
        list(pool.map(one, frames))
    for x, outcome in outcomes:
        if x < 0:
            assert isinstance(outcome, RuntimeError)
        else:
            assert outcome.labels.tolist() == [2 * x]


def test_batching_off_scores_each_request_in_its_own_call():
    score = SlowFirstCall(doubled)
    batcher = MicroBatcher(score, max_rows=0)
    assert not batcher.enabled
    submit_all(batcher, [frame(n) for n in range(4)])
    assert score.sizes == [1, 1, 1, 1]


def test_columns_and_frames_combine_into_one_frame_in_order():
    # Plainly valid JSON requests arrive as Columns, others (CSV) as frames.
    columns = Columns({"x": np.array([1.0, 2.0]), "c": np.array(["a", np.nan], dtype=object)}, 2)
    one_frame = pd.DataFrame({"x": [3.0], "c": pd.Series(["b"], dtype=object)})
    expected = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0], "c": pd.Series(["a", np.nan, "b"], dtype=object)}
    )
    pd.testing.assert_frame_equal(combine([columns, one_frame]), expected)
    more = Columns({"x": np.array([3.0]), "c": np.array(["b"], dtype=object)}, 1)
    pd.testing.assert_frame_equal(combine([columns, more]), expected)
    pd.testing.assert_frame_equal(as_frame(columns), expected.head(2))
    assert as_frame(one_frame) is one_frame and len(columns) == 2


def test_split_cuts_predictions_by_request():
    parts = split(doubled(frame(1, 2, 3)), [2, 0, 1])
    assert [part.labels.tolist() for part in parts] == [[2.0, 4.0], [], [6.0]]
    assert parts[2].probabilities.tolist() == [[3.0, -3.0]]
    assert split(Predictions(labels=np.arange(3)), [1, 2])[1].probabilities is None


def post_concurrently(app, bodies):
    def post(body):
        response = app.test_client().post("/predict", json=body)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def skew_counts(app):
    """``feature_skew_total`` by (feature, kind), from the app's registry."""
    registry = app.extensions[EXTENSION].metrics.registry
    return {
        (sample.labels["feature"], sample.labels["kind"]): sample.value
        for metric in registry.collect()
        if metric.name == f"{NAMESPACE}_feature_skew"
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


@pytest.mark.parametrize("task", TASKS)
def test_concurrent_http_requests_get_exactly_the_unbatched_answers(
    artifact_dir, instances, numeric, monkeypatch
):
    unbatched_app = create_app(artifact_dir, {"MICROBATCH_MAX_ROWS": 0})
    unbatched = unbatched_app.test_client()
    bodies = [{"instances": instances[n : n + 1 + n % 3]} for n in range(CLIENTS)]
    bodies[1]["instances"] = [{**row, numeric: 1e9} for row in bodies[1]["instances"]]
    bodies.append(instances[-1])  # a single instance, not a list
    answers = [unbatched.post("/predict", json=body).get_json() for body in bodies]
    slow = SlowFirstCall(routes.score_features)
    monkeypatch.setattr(routes, "score_features", slow)
    app = create_app(artifact_dir, {"MICROBATCH_MAX_WAIT_MS": 10})
    assert post_concurrently(app, bodies) == [(200, answer) for answer in answers]
    assert max(slow.sizes) > 2
    registry = app.extensions[EXTENSION].metrics.registry
    batches = registry.get_sample_value(f"{NAMESPACE}_batch_size_count")
    assert batches == len(slow.sizes)
    assert registry.get_sample_value(f"{NAMESPACE}_batch_size_sum") == len(bodies)
    assert registry.get_sample_value(f"{NAMESPACE}_batch_rows_sum") == sum(
        len(body.get("instances", [body])) for body in bodies
    )
    assert registry.get_sample_value(f"{NAMESPACE}_batch_queue_wait_seconds_count") == len(bodies)
    # Skew is counted once per model call; the counts are those of unbatched scoring.
    assert skew_counts(app) == skew_counts(unbatched_app)
    assert skew_counts(app)[(numeric, "out_of_range")] >= 2


def test_a_bad_request_in_a_burst_gets_its_own_422(artifact_dir, instances, numeric, monkeypatch):
    monkeypatch.setattr(routes, "score_features", SlowFirstCall(routes.score_features))
    app = create_app(artifact_dir)
    bad = {"instances": [{**instances[0], numeric: "not a number"}]}
    bodies = [{"instances": [row]} for row in instances[:CLIENTS]]
    bodies.insert(CLIENTS // 2, bad)
    results = post_concurrently(app, bodies)
    statuses = [status for status, _ in results]
    assert statuses.pop(CLIENTS // 2) == 422
    assert statuses == [200] * CLIENTS
    assert numeric in results[CLIENTS // 2][1]["error"]["details"]["fields"]


def test_with_batching_off_no_batch_is_recorded(make_client, instances, expected):
    client = make_client({"MICROBATCH_MAX_ROWS": 0})
    response = client.post("/predict", json={"instances": instances})
    assert response.get_json()["predictions"] == expected
    registry = client.application.extensions[EXTENSION].metrics.registry
    assert registry.get_sample_value(f"{NAMESPACE}_batch_size_count") == 0


@pytest.mark.parametrize(
    "setting",
    [
        {"MICROBATCH_MAX_ROWS": -1},
        {"MICROBATCH_MAX_ROWS": 1.5},
        {"MICROBATCH_MAX_ROWS": True},
        {"MICROBATCH_MAX_WAIT_MS": -0.1},
        {"MICROBATCH_MAX_WAIT_MS": "2"},
        {"MICROBATCH_MAX_WAIT_MS": float("nan")},
    ],
)
def test_invalid_batching_settings_are_refused(artifact_dir, setting):
    (key,) = setting
    with pytest.raises(ConfigError, match=key):
        create_app(artifact_dir, setting)


def test_batching_settings_come_from_the_environment(artifact_dir, monkeypatch):
    monkeypatch.setenv(f"{NAMESPACE.upper()}_MICROBATCH_MAX_ROWS", "7")
    monkeypatch.setenv(f"{NAMESPACE.upper()}_MICROBATCH_MAX_WAIT_MS", "0.5")
    batcher = create_app(artifact_dir).extensions[EXTENSION].batcher
    assert (batcher.max_rows, batcher.max_wait) == (7, 0.0005)
