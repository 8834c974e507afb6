from mira.engine.backend import BackendUnavailable, BatchRejected
from mira.engine.triton import Ambiguous, classify


class E(Exception):
    def __init__(self, code: str) -> None:
        self.code = code

    def status(self) -> str:
        return self.code

    def message(self) -> str:
        return "msg"


def test_classify_grpc_codes() -> None:
    unavailable = classify(E("StatusCode.UNAVAILABLE"))
    assert isinstance(unavailable, BackendUnavailable) and not isinstance(unavailable, Ambiguous)
    assert isinstance(classify(E("StatusCode.DEADLINE_EXCEEDED")), BackendUnavailable)
    assert isinstance(classify(E("StatusCode.INTERNAL")), Ambiguous)
    assert isinstance(classify(E("StatusCode.INVALID_ARGUMENT")), BatchRejected)
    assert isinstance(classify(RuntimeError("socket")), BackendUnavailable)
