"""The exercise machinery itself: stubs report "not attempted yet" without failing, a wrong
answer fails with its feedback, a right one says what was verified."""

import numpy as np
import pytest
import torch

from d2lmini.exercises import _core
from d2lmini.exercises._core import ExerciseFailed, call, close, exercise, require, value


@exercise("0.1 double")
def check_double(fn):
    for x in (torch.tensor([1.0, -2.0]), torch.zeros(3)):
        close(call(fn, x), 2 * x, f"double({x.tolist()}) is wrong: multiply by 2")
    return "two inputs"


@exercise("0.2 answer")
def check_answer(answer):
    require(value(answer) == 42, f"{answer} is not the answer: think about the question")


def stub(x):
    raise NotImplementedError


def test_stub_function_is_not_attempted(capsys):
    check_double(stub)
    assert "Exercise 0.1 double: not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("placeholder", [None, ...])
def test_stub_value_is_not_attempted(capsys, placeholder):
    check_answer(placeholder)
    assert "not attempted yet" in capsys.readouterr().out


def test_right_answer_says_what_was_verified(capsys):
    check_double(lambda x: x * 2)
    check_answer(42)
    out = capsys.readouterr().out
    assert "Exercise 0.1 double: correct (two inputs)" in out and "Exercise 0.2 answer: correct" in out


def test_wrong_answer_fails_with_feedback():
    with pytest.raises(ExerciseFailed, match=r"^Exercise 0.1 double: double\(\[1.0, -2.0\]\) is wrong"):
        check_double(lambda x: x * 3)
    with pytest.raises(ExerciseFailed, match="7 is not the answer"):
        check_answer(7)


def test_exercise_failed_is_an_assertion_error():
    # so nbval and pytest show it as a failed check, in red
    assert issubclass(ExerciseFailed, AssertionError)


def test_learner_bugs_become_feedback_naming_the_case():
    with pytest.raises(ExerciseFailed, match=r"raised ZeroDivisionError: .*on input tensor \[1.0, -2.0\]"):
        check_double(lambda x: 1 / 0)
    with pytest.raises(ExerciseFailed, match="returned None: did you forget `return`"):
        check_double(lambda x: None)
    with pytest.raises(ExerciseFailed, match="expected shape \\(2,\\), got \\(1, 2\\)"):
        check_double(lambda x: (2 * x).reshape(1, -1))
    with pytest.raises(ExerciseFailed, match="expected a tensor, got list"):
        check_double(lambda x: (2 * x).tolist())
    with pytest.raises(ExerciseFailed, match="expected a function, got int"):
        check_double(3)


def test_describe_args_shortens_large_tensors():
    assert _core._short(torch.zeros(10, 10)) == "a torch.float32 tensor of shape (10, 10)"


@exercise("0.3 module")
def check_module(module_class) -> str:
    net = _core.attempt(module_class)
    out = call(net, torch.ones(2, 3))
    require(out.shape == (2, 3), "wrong shape")
    return "ok"


class _Identity(torch.nn.Module):
    def forward(self, x):
        return x


class _Misspelled(torch.nn.Module):
    def foward(self, x):  # the typo learners make
        return x


class _StubModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        raise NotImplementedError


class _StubForward(torch.nn.Module):
    def forward(self, x):
        raise NotImplementedError


class _OwnMessage(torch.nn.Module):
    def forward(self, x):
        raise NotImplementedError("half done")


def test_a_module_without_forward_is_a_broken_answer_not_a_stub(capsys):
    with pytest.raises(ExerciseFailed, match="exactly `forward`"):
        check_module(_Misspelled)
    with pytest.raises(ExerciseFailed, match="half done"):
        check_module(_OwnMessage)


@pytest.mark.parametrize("stub", [_StubModule, _StubForward])
def test_a_bare_not_implemented_in_the_learners_module_is_a_stub(capsys, stub):
    check_module(stub)
    assert "not attempted yet" in capsys.readouterr().out


def test_a_right_module_passes(capsys):
    check_module(_Identity)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("given", [3, 2.5, np.float32(0.5), np.int64(7), np.array(1.5),
                                   torch.tensor(4.0), torch.tensor([2]), np.array([0.25])])
def test_number_takes_numbers_as_learners_write_them(given):
    assert _core.number(given, "x") == pytest.approx(float(np.asarray(given).reshape(())))


@pytest.mark.parametrize("given", [True, "1.0", [1.0], torch.ones(2), None, 1 + 2j])
def test_number_refuses_what_is_not_one_number(given):
    with pytest.raises(ExerciseFailed, match="expected one number"):
        _core.number(given, "x")


@pytest.mark.parametrize("given, ok", [(3, True), (3.0, True), (np.int32(3), True),
                                       (torch.tensor(3), True), (2.5, False), (float("nan"), False),
                                       (float("inf"), False), ("3", False)])
def test_whole_number_follows_the_same_rule(given, ok):
    if ok:
        assert _core.whole_number(given, "n") == 3
    else:
        with pytest.raises(ExerciseFailed, match="whole number"):
            _core.whole_number(given, "n")


# one dtype for every comparison (issue 27: float64 answers crashed the hint selection of five
# checks with "Double did not match Float")

def test_close_and_matches_compare_in_one_dtype():
    want = torch.tensor([1.0, 2.0])
    close(want.double(), want, "unused")
    assert _core.matches(want.double(), want) and _core.matches(want, want.double())
    assert not _core.matches(want.double() + 1, want)
    with pytest.raises(ExerciseFailed, match="off"):
        close(want.double() + 1, want, "off")


def test_a_float_answer_is_not_truncated_to_an_integer_reference():
    # casting the answer to the reference's int64 would turn 2.7 into 2 and accept it
    with pytest.raises(ExerciseFailed, match="not a count"):
        close(torch.tensor([2.7]), torch.tensor([2]), "not a count")
    assert not _core.matches(torch.tensor([2.7]), torch.tensor([2]))


def test_matches_never_raises():
    assert not _core.matches(torch.ones(2), None)
    assert not _core.matches([1.0, 1.0], torch.ones(2))
    assert not _core.matches(torch.ones(3), torch.ones(2))


# the learner's function must leave its inputs as they were

@exercise("0.4 centre")
def check_centre(fn):
    X = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    close(call(fn, X.clone()), X - X.mean(dim=0), "subtract each column's mean")
    return "one input"


def centre_in_place(X):
    X -= X.mean(dim=0)
    return X


def test_an_answer_that_overwrites_its_input_is_rejected(capsys):
    check_centre(lambda X: X - X.mean(dim=0))
    assert "correct" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match=r"changed its argument `X` \(a tensor of shape "
                                             r"\(2, 2\)\) in place.*x = x.clone\(\)"):
        check_centre(centre_in_place)
    check_centre(lambda X: centre_in_place(X.clone()))  # a copy first is fine
    assert "correct" in capsys.readouterr().out


def test_inputs_are_guarded_in_lists_and_modules_but_not_when_marked_in_place():
    def zero_first(tensors, module):
        tensors[0].zero_()
        return True

    def zero_bias(tensors, module):
        with torch.no_grad():
            module.bias.zero_()
        return True

    layer = torch.nn.Linear(2, 2)
    with pytest.raises(ExerciseFailed, match=r"its argument `tensors`\[0\]"):
        call(zero_first, [torch.ones(2)], layer)
    with pytest.raises(ExerciseFailed, match=r"its argument `module`'s bias"):
        call(zero_bias, [torch.ones(2)], torch.nn.Linear(2, 2))
    tensors = [torch.ones(2)]
    assert call(zero_first, _core.in_place(tensors), layer) is True
    assert torch.equal(tensors[0], torch.zeros(2))  # the marked argument was passed on as it is


def test_a_nan_input_left_alone_counts_as_unchanged():
    assert call(lambda x: x + 1, torch.tensor([float("nan"), 1.0])) is not None


# numpy arrays: the rule of `number`, for several numbers

def test_a_numpy_array_returned_is_read_as_a_tensor(capsys):
    check_double(lambda x: 2 * x.numpy())
    assert "correct" in capsys.readouterr().out
    got = call(lambda: (np.zeros(2), np.ones(3, dtype=np.float32), 4))
    assert isinstance(got, tuple) and [type(g) for g in got] == [torch.Tensor, torch.Tensor, int]


def test_a_flipped_numpy_view_is_read_too():
    # np.flip returns a view with negative strides, which torch.as_tensor refuses
    got = call(lambda: np.flip(np.arange(3)))
    assert torch.equal(got, torch.tensor([2, 1, 0]))


@pytest.mark.parametrize("given", [[1, 2], (1, 2), torch.tensor([1, 2]), np.array([1, 2])])
def test_entries_takes_several_numbers_as_learners_write_them(given):
    assert [_core.whole_number(g, "n") for g in _core.entries(given, "f()")] == [1, 2]


@pytest.mark.parametrize("given", [3, torch.tensor(3), np.float64(3.0), "12", {1: 2}, None])
def test_entries_refuses_what_holds_no_list(given):
    with pytest.raises(ExerciseFailed, match=r"f\(\) returned .*: return a list \(as a list, a "
                                             r"tuple, a tensor or a numpy array\)"):
        _core.entries(given, "f()")
