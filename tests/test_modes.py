"""The modes: set_grad_enabled, enable_grad, and each mode belonging to its own thread or asyncio task.

The thread tests force the interleaving that once went wrong with events and barriers (never with
sleeps), so each runs the same way every time; every wait has a timeout, so a failure cannot hang.
"""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.models import LogisticRegression

WAIT = 10.0  # seconds: only reached when a test is failing


def _records() -> bool:
    """Whether an operation on a parameter records itself for backward here and now."""
    return (tg.tensor([1.0], requires_grad=True) * 2).requires_grad


def _modes() -> tuple[bool, str | None, bool]:
    """The calling thread's (grad_enabled, scope, detect_anomaly)."""
    mode = tg.modes.mode
    return mode.grad_enabled, mode.scope, mode.detect_anomaly


def _data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, (X @ [1.0, -2.0, 0.5] > 0).astype(float)


def _in_thread(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


# ----------------------------------------------------------------------------- set_grad_enabled, enable_grad
def test_set_grad_enabled_called_as_a_function_switches_recording_until_switched_back():
    try:
        tg.set_grad_enabled(False)
        assert not tg.is_grad_enabled() and not _records()
        tg.set_grad_enabled(True)
        assert tg.is_grad_enabled() and _records()
    finally:
        tg.set_grad_enabled(True)


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_as_a_context_manager_sets_the_mode_inside_and_restores_it(mode):
    for outside in (False, True):
        with tg.set_grad_enabled(outside):
            with pytest.raises(KeyError):
                with tg.set_grad_enabled(mode):
                    assert tg.is_grad_enabled() is mode and _records() is mode
                    raise KeyError
            assert tg.is_grad_enabled() is outside
    assert tg.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator_sets_the_mode_for_each_call_only():
    @tg.set_grad_enabled(False)
    def evaluate():
        return _records()

    assert tg.is_grad_enabled()  # decorating set nothing
    assert evaluate() is False
    assert tg.is_grad_enabled()


def test_enable_grad_records_inside_no_grad_and_restores_it():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            y = (w * 2).sum()
        assert not tg.is_grad_enabled()
    y.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 2.0])


def test_enable_grad_and_no_grad_work_as_decorators():
    @tg.enable_grad()
    def recorded():
        return _records()

    @tg.no_grad()
    def unrecorded():
        return _records()

    with tg.no_grad():
        assert recorded() is True
    assert unrecorded() is False and tg.is_grad_enabled()


def test_the_mode_view_is_read_only_so_old_style_assignments_fail_loudly():
    with pytest.raises(AttributeError):
        tg.modes.mode.grad_enabled = False
    assert tg.is_grad_enabled()


def test_modes_are_exported_under_pytorch_names():
    assert {"no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"} <= set(tg.__all__)


# ----------------------------------------------------------------------------- threads
def test_no_grad_in_one_thread_never_affects_another():
    inside, done = threading.Event(), threading.Event()
    seen = []

    def evaluate():
        with tg.no_grad():
            inside.set()
            seen.append(_records())
            assert done.wait(WAIT)

    thread = _in_thread(evaluate)
    assert inside.wait(WAIT)
    assert _records()  # while the other thread is inside no_grad
    done.set()
    thread.join(WAIT)
    assert seen == [False]


def test_set_grad_enabled_in_one_thread_never_affects_another():
    switched, done = threading.Event(), threading.Event()

    def switch_off():
        tg.set_grad_enabled(False)  # and never switched back: it is this thread's business
        switched.set()
        assert done.wait(WAIT)

    thread = _in_thread(switch_off)
    assert switched.wait(WAIT)
    assert _records()
    done.set()
    thread.join(WAIT)


def test_a_new_thread_starts_with_the_default_modes():
    seen = []
    with tg.no_grad(), tg.name_scope("outer"), tg.detect_anomaly():
        thread = _in_thread(lambda: seen.append(_modes()))
        thread.join(WAIT)
    assert seen == [(True, None, False)]


def test_threads_calling_predict_proba_at_once_never_leave_grad_mode_off():
    # Thread 0 enters predict_proba's no_grad first, threads 1-3 after it; all four wait inside
    # until thread 0 has left. Were the mode shared, threads 1-3 would each restore the "off"
    # they found on entry, and grad mode would stay off for everyone.
    X, y = _data()
    model = LogisticRegression(n_features=3, seed=0)
    forward = model.forward
    entered = [threading.Event() for _ in range(4)]
    first_left = threading.Event()
    all_inside = threading.Barrier(4, timeout=WAIT)
    index = threading.local()
    seen = {}

    def forward_in_turn(X):
        i = index.value
        out = forward(X)
        entered[i].set()
        all_inside.wait()
        if i > 0:
            assert first_left.wait(WAIT)
        return out

    def predict(i):
        index.value = i
        if i > 0:
            assert entered[i - 1].wait(WAIT)
        probabilities = model.predict_proba(X)
        if i == 0:
            first_left.set()
        seen[i] = (probabilities.shape, _records())

    model.forward = forward_in_turn
    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(predict, i) for i in range(4)]:
            future.result(WAIT)
    del model.forward

    assert seen == {i: ((len(X),), True) for i in range(4)}
    assert _records()
    # This once failed with "backward() called on a tensor that does not require grad".
    model.fit(X, y, epochs=2, progress=False)


def test_concurrent_fits_give_the_parameters_of_the_same_fits_run_one_after_another():
    # Model "a" evaluates its first epoch under no_grad while model "b" computes the loss of its
    # second mini-batch, which must still be recorded: the first two loss computations of each
    # fit run in lock step, the second pair overlapping entirely.
    X, y = _data(n=60)
    settings = {"a": {}, "b": {"batch_size": 30}}
    lock_step = threading.Barrier(2, timeout=WAIT)

    def fit(name, synchronized):
        model = LogisticRegression(n_features=3, seed=1)
        if synchronized:
            objective, calls = model._objective, [0]

            def objective_in_step(X, y):
                calls[0] += 1
                if calls[0] > 2:
                    return objective(X, y)
                lock_step.wait()
                out = objective(X, y)
                lock_step.wait()
                return out

            model._objective = objective_in_step
        model.fit(X, y, epochs=3, lr=0.5, seed=2, progress=False, **settings[name])
        return {k: p.data.copy() for k, p in model.params.items()}

    with ThreadPoolExecutor(2) as pool:
        futures = {name: pool.submit(fit, name, True) for name in settings}
        together = {name: future.result(WAIT) for name, future in futures.items()}
    for name in settings:
        alone = fit(name, False)
        for k in alone:
            np.testing.assert_array_equal(together[name][k], alone[k])


def test_four_fits_in_a_thread_pool_give_the_parameters_of_the_same_fits_one_after_another():
    X, y = _data(n=200)

    def fit(seed):
        model = LogisticRegression(n_features=3, seed=seed)
        model.fit(X, y, epochs=20, lr=0.5, batch_size=20, seed=seed, progress=False)
        return [p.data.copy() for p in model.parameters()]

    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(fit, range(4)))
    for seed, params in enumerate(together):
        for p, q in zip(params, fit(seed)):
            np.testing.assert_array_equal(p, q)


def test_name_scope_belongs_to_the_thread_that_set_it():
    # "first" enters its scope, then "second" enters its own; then "first" creates a node and
    # leaves, and only then does "second" create its node.
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    x = tg.tensor([1.0], requires_grad=True)
    scopes = {}

    def first():
        with tg.name_scope("first"):
            first_in.set()
            assert second_in.wait(WAIT)
            scopes["first"] = (x * 2).node.scope
        first_out.set()

    def second():
        assert first_in.wait(WAIT)
        with tg.name_scope("second"):
            second_in.set()
            assert first_out.wait(WAIT)
            scopes["second"] = (x * 2).node.scope

    threads = [_in_thread(first), _in_thread(second)]
    for thread in threads:
        thread.join(WAIT)
    assert scopes == {"first": "first", "second": "second"}
    assert (x * 2).node.scope is None


def test_detect_anomaly_belongs_to_the_thread_that_set_it():
    inside, done = threading.Event(), threading.Event()

    def watch():
        with tg.detect_anomaly():
            inside.set()
            assert done.wait(WAIT)

    thread = _in_thread(watch)
    assert inside.wait(WAIT)
    with np.errstate(divide="ignore"):
        assert np.isneginf(tg.log(tg.tensor([0.0], requires_grad=True)).data[0])  # not checked here
    done.set()
    thread.join(WAIT)


# ----------------------------------------------------------------------------- asyncio tasks
def test_asyncio_tasks_each_keep_their_own_modes():
    async def evaluate(inside, resume):
        with tg.no_grad(), tg.name_scope("evaluate"), tg.detect_anomaly():
            inside.set()
            await resume.wait()  # the other task runs here
            return _modes(), _records()

    async def train(inside, resume):
        await inside.wait()  # evaluate is suspended inside its modes
        seen = _modes(), _records()
        resume.set()
        return seen

    async def main():
        inside, resume = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(evaluate(inside, resume), train(inside, resume))

    evaluated, trained = asyncio.run(main())
    assert evaluated == ((False, "evaluate", True), False)
    assert trained == ((True, None, False), True)


def test_an_asyncio_task_starts_with_the_modes_of_the_code_that_created_it():
    async def grad_mode_in_task():
        return tg.is_grad_enabled()

    async def main():
        with tg.no_grad():
            task = asyncio.create_task(grad_mode_in_task())  # runs later, outside the block
        return tg.is_grad_enabled(), await task

    assert asyncio.run(main()) == (True, False)


def test_a_scope_restores_only_its_own_switch_and_may_be_entered_again_inside():
    scope = tg.name_scope("outer")
    before = tg.modes.current_mode()
    with scope:
        with tg.name_scope("inner"):
            assert tg.modes.mode.scope == "inner"
        assert tg.modes.mode.scope == "outer"
        with scope:  # the same object, nested
            assert tg.modes.mode.scope == "outer"
        assert tg.modes.mode.scope == "outer"
        tg.set_grad_enabled(False)  # changed inside: stays changed after the block
    assert tg.modes.mode.scope is None and not tg.is_grad_enabled()
    tg.set_grad_enabled(True)
    assert tg.modes.current_mode() == before


def test_a_scope_used_as_a_decorator_holds_for_each_call_even_recursive_ones():
    seen = []

    @tg.name_scope("f")
    def f(n):
        seen.append(tg.modes.mode.scope)
        return f(n - 1) if n else (tg.tensor(1.0, requires_grad=True) * 2).node.scope

    assert f(3) == "f" and seen == ["f"] * 4 and tg.modes.mode.scope is None
