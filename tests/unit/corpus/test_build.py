"""The builder on small tmp-dir sources: skip reasons, limits, balance, ids, determinism."""

from __future__ import annotations

import gzip
from pathlib import Path

from mira.contracts import Document
from mira.corpus.build import CorpusBuild, cut_text, doc_id
from mira.corpus.report import too_few_sources
from mira.corpus.sources import SourceSpec
from mira.corpus.writer import dumps_document, write_documents
from mira.settings import CorpusSettings
from mira.tokens import tokens_of_bytes

GOOD = "def f(x):\n    return x + 1\n" * 20  # 560 bytes


def _spec(slug: str, root: Path, **kw: object) -> SourceSpec:
    return SourceSpec(
        slug,
        "test source",
        (str(root),),
        kw.pop("include", r"\.txt$"),  # type: ignore[arg-type]
        package="test-pkg",
        license="MIT",
        **kw,
    )  # type: ignore[arg-type]


def _tree(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "good.txt").write_text(GOOD, encoding="utf-8")
    (root / "dup.txt").write_text(GOOD, encoding="utf-8")
    (root / "binary.txt").write_bytes(b"ELF\x00\x01\x02" + b"x" * 400)
    (root / "latin1.txt").write_bytes(("caf\xe9 " * 100).encode("latin-1"))
    (root / "tiny.txt").write_text("x = 1\n", encoding="utf-8")
    (root / "blank.txt").write_text("\n  \n", encoding="utf-8")
    (root / "big.txt").write_text("line of text\n" * 400, encoding="utf-8")  # 5200 bytes
    (root / "skipped.bin").write_bytes(b"\x00" * 10)  # not matched by include
    return root


def _build(specs: list[SourceSpec], **opts: object) -> tuple[list[Document], CorpusBuild]:
    job = CorpusBuild(specs, CorpusSettings(**opts))  # type: ignore[arg-type]
    return list(job.documents()), job


def test_every_skip_reason_is_counted(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    (root / "huge.txt").write_text("y" * 3000, encoding="utf-8")
    docs, job = _build(
        [_spec("code_t", root)],
        min_doc_bytes=100,
        max_doc_bytes=4096,
        max_file_bytes=2999,
        oversize="skip",
    )
    report = job.report()
    src = report.sources[0]
    assert src.skipped == {
        "bad_utf8": 1,
        "binary": 1,
        "duplicate": 1,
        "empty": 1,
        "too_large": 2,
        "too_small": 1,
    }
    assert src.candidates == 8 and src.docs == 1 == len(docs)
    assert report.skipped == src.skipped and report.sources_ok == 1
    assert docs[0].text == GOOD.rstrip()


def test_oversize_cut_keeps_a_truncated_prefix(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    docs, job = _build([_spec("code_t", root)], max_doc_bytes=1000)
    big = next(d for d in docs if d.meta["origin"].endswith("big.txt"))
    assert big.meta["truncated"] is True and big.meta["orig_bytes"] == 5199
    assert big.meta["bytes"] == len(big.text.encode()) <= 1000 and big.text.endswith("text")
    assert job.report().sources[0].truncated == 1


def test_meta_and_stable_ids(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    docs, _ = _build([_spec("code_t", root)])
    good = next(d for d in docs if d.meta["origin"].endswith("good.txt"))
    assert good.id == doc_id("code_t", str(root / "good.txt"), "") and good.source == "code_t"
    assert good.meta["kind"] == "code" and good.meta["license"] == "MIT"
    assert good.meta["approx_tokens"] == tokens_of_bytes(len(GOOD.rstrip())) == 135
    assert len({d.id for d in docs}) == len(docs)


def test_round_robin_balances_sources_and_respects_caps(tmp_path: Path) -> None:
    many, few = tmp_path / "many", tmp_path / "few"
    many.mkdir()
    few.mkdir()
    for i in range(30):
        (many / f"{i:02d}.txt").write_text(f"many {i}\n" + GOOD, encoding="utf-8")
    for i in range(3):
        (few / f"{i}.txt").write_text(f"few {i}\n" + GOOD, encoding="utf-8")
    specs = [_spec("code_many", many), _spec("docs_few", few)]
    docs, _ = _build(specs, max_docs=10)
    assert [d.source for d in docs[:6]] == ["code_many", "docs_few"] * 3
    assert sum(d.source == "code_many" for d in docs) == 7  # few is exhausted, many fills up
    docs, _ = _build(specs, per_source_cap=2)
    assert sorted(d.source for d in docs) == ["code_many"] * 2 + ["docs_few"] * 2


def test_seed_changes_sample_and_same_seed_is_byte_identical(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    for i in range(40):
        (root / f"{i:02d}.txt").write_text(f"doc {i}\n" + GOOD, encoding="utf-8")
    spec = [_spec("code_t", root)]
    outs: list[bytes] = []
    for seed in (1, 1, 2):
        out = tmp_path / f"out{len(outs)}.jsonl"
        write_documents(CorpusBuild(spec, CorpusSettings(max_docs=5, seed=seed)).documents(), out)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and outs[0] != outs[2]


def test_gzip_troff_source_and_missing_source(tmp_path: Path) -> None:
    man = tmp_path / "man" / "man1"
    man.mkdir(parents=True)
    page = ".TH FOO 1\n.SH NAME\nfoo \\- does things\n.SH DESCRIPTION\n" + "Foo does. " * 40
    (man / "foo.1.gz").write_bytes(gzip.compress(page.encode()))
    (man / "bad.1.gz").write_bytes(b"\x1f\x8bnot really gzip")
    specs = [
        _spec("docs_t", tmp_path / "man", include=r"\.gz$", reader="gzip_troff"),
        _spec("qa_absent", tmp_path / "nowhere"),
    ]
    docs, job = _build(specs)
    assert len(docs) == 1 and docs[0].text.startswith("FOO(1)\n\nNAME\nfoo - does things")
    report = job.report()
    assert report.sources[0].skipped == {"bad_format": 1}
    assert report.missing == ["qa_absent"] and report.sources[1].status == "missing"
    problem = too_few_sources(report, 2)
    assert problem is not None and "qa_absent (test-pkg)" in problem
    assert too_few_sources(report, 1) is None


def test_cut_text_is_utf8_safe() -> None:
    text = "é" * 100
    assert cut_text(text, 51) == "é" * 25
    assert cut_text("a\n" * 10, 7) == "a\na\na"


def test_parquet_round_trip(tmp_path: Path) -> None:
    import pyarrow.parquet as pq  # a dependency of the `stream` extra: never skipped

    doc = Document(id="a", source="code_t", text="x", meta={"kind": "code", "bytes": 1})
    out = tmp_path / "c.parquet"
    assert write_documents([doc], out) == 1
    row = pq.read_table(out).to_pylist()[0]
    assert row["meta"] == '{"bytes":1,"kind":"code"}' and row["text"] == "x"
    assert dumps_document(doc) == (
        '{"id":"a","meta":{"bytes":1,"kind":"code"},"source":"code_t","text":"x"}'
    )
