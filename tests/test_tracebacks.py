"""d2lmini's own errors show the learner's line and the message, not d2lmini's frames (issue 19);
the real display in a kernel is what tests/test_learner_path.py's lab serves, this checks the cut."""

import pytest

import d2lmini as d2l
from d2lmini import tracebacks


def frames(tb):
    out = []
    while tb is not None:
        out.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return out


def learners_call():
    d2l.train_ch3(None, [], [], None, 1, 1)  # refused inside d2lmini


def test_an_error_raised_by_d2lmini_is_cut_at_the_learners_last_frame():
    with pytest.raises(TypeError) as info:
        learners_call()
    full = frames(info.tb)
    assert any(f.startswith(tracebacks.PACKAGE) for f in full)
    cut = frames(tracebacks.learners_part(info.tb))
    assert cut and cut[-1] == __file__ and not any(f.startswith(tracebacks.PACKAGE) for f in cut)


def test_other_errors_keep_their_whole_traceback():
    def own_bug():
        return 1 / 0

    with pytest.raises(ZeroDivisionError) as info:
        own_bug()
    assert frames(tracebacks.learners_part(info.tb)) == frames(info.tb)


class Shell:
    def showtraceback(self, exc_tuple, tb_offset=None):
        self.shown = exc_tuple


def test_the_handler_shows_everything_when_asked(monkeypatch):
    with pytest.raises(TypeError) as info:
        learners_call()
    shell = Shell()
    monkeypatch.setenv("D2LMINI_FULL_TRACEBACKS", "1")
    tracebacks._show(shell, info.type, info.value, info.tb)
    assert any(f.startswith(tracebacks.PACKAGE) for f in frames(shell.shown[2]))
    monkeypatch.delenv("D2LMINI_FULL_TRACEBACKS")
    tracebacks._show(shell, info.type, info.value, info.tb)
    assert not any(f.startswith(tracebacks.PACKAGE) for f in frames(shell.shown[2]))


def test_install_registers_in_a_shell_and_does_nothing_without_one(monkeypatch):
    import IPython

    class Registering:
        def set_custom_exc(self, types, handler):
            self.registered = (types, handler)

    shell = Registering()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    tracebacks.install()
    assert shell.registered == ((Exception,), tracebacks._show)
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    tracebacks.install()  # outside IPython: nothing to register with, no error
