"""Settings of the offline commands: corpus, discovery and its teacher, distillation, export."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from mira.settings.section import Section


class CorpusSettings(Section):
    """Corpus builder (``mira corpus build``)."""

    seed: int = Field(0, description="Sampling seed.")
    max_docs: int | None = Field(
        None, ge=1, description="Total documents, spread round-robin over sources."
    )
    per_source_cap: int | None = Field(
        None, ge=1, description="At most this many documents per source."
    )
    max_doc_bytes: int = Field(
        32 * 1024, ge=64, description="Longer documents are cut (or skipped)."
    )
    min_doc_bytes: int = Field(200, ge=0, description="Shorter documents are skipped.")
    oversize: Literal["cut", "skip"] = Field("cut", description="What to do past max_doc_bytes.")
    max_file_bytes: int = Field(
        16 * 1024 * 1024, ge=1, description="Files larger than this are skipped unread."
    )
    require_sources: int = Field(
        0, ge=0, description="Fail (exit 1) if fewer sources have documents."
    )


class TeacherSettings(Section):
    """Teacher LLM for discovery (``mira discover``); env e.g. MIRA_TEACHER_URL."""

    backend: Literal["local", "openai", "vllm"] = Field("local", description="Teacher backend.")
    url: str | None = Field(None, description="OpenAI-compatible server URL (openai).")
    model: str | None = Field(None, description="Local folder, served model name or hub id.")
    api_key: SecretStr | None = None
    timeout_s: float = Field(120.0, gt=0, description="Timeout of one HTTP request.")
    concurrency: int = Field(4, ge=1, description="Parallel HTTP requests.")
    batch_size: int = Field(8, ge=1, description="Documents per teacher batch.")
    max_new_tokens: int = Field(256, ge=8, description="Token limit of one answer.")
    max_retries: int = Field(2, ge=0, description="Retries of an invalid answer.")
    device: str = Field("cpu", description="Local backend device: cpu, cuda, cuda:1, ...")
    quantize: bool = Field(
        True,
        description="Local backend on CPU: int8 linear layers "
        "(1.7x faster prefill, 2.9x faster decoding steps).",
    )


class DiscoverySettings(Section):
    """Sizes of ``mira discover`` (grouping, rubrics, annotation)."""

    k: int | None = Field(
        None,
        ge=1,
        description="Number of groups (default: chosen by silhouette between k_min and k_max).",
    )
    k_min: int = Field(
        3,
        ge=1,
        description="Smallest k tried (k=2 only ever splits code from "
        "the rest: docs/benchmarks.md).",
    )
    k_max: int = Field(8, ge=1, description="Largest k tried.")
    samples_per_source: int = Field(16, ge=1, description="Documents embedded per source.")
    feature_docs: int = Field(
        64, ge=1, description="Documents per source whose format features are averaged."
    )
    embed_weight: float = Field(
        0.3,
        ge=0,
        description="Weight of the topic embedding beside the format features (0: format only).",
    )
    embed_max_length: int = Field(128, ge=8, description="Tokens embedded per document.")
    anchors: int = Field(15, ge=1, description="Anchors per group at most.")
    samples_per_group: int = Field(
        16, ge=1, description="Documents whose proposals make the rubric."
    )
    dims_per_doc: int = Field(2, ge=1, description="Dimensions proposed per document.")
    proposal_rounds: int = Field(
        3,
        ge=1,
        description="Rounds of proposals: a group without a "
        "valid proposal gets samples_per_group new documents per round.",
    )
    proposal_temperature: float = Field(
        0.7, ge=0, description="Sampling temperature of proposals (greedy repeats one idea)."
    )
    proposal_tokens: int = Field(
        16,
        ge=1,
        description="Budget of each proposal's high/low "
        "text (4 characters per token, in the answer's JSON Schema).",
    )
    docs_per_group: int = Field(64, ge=1, description="Documents annotated per group.")
    max_chars: int = Field(1500, ge=1, description="Characters of a document shown to the teacher.")
    rationale_tokens: int = Field(
        12,
        ge=1,
        description="Budget of each rationale (4 "
        "characters per token, in the answer's JSON Schema).",
    )
    seed: int = Field(0, description="Seed of every sample.")

    @model_validator(mode="after")
    def _k_range(self) -> DiscoverySettings:
        if self.k_min > self.k_max:
            raise ValueError(f"k_min ({self.k_min}) must not exceed k_max ({self.k_max})")
        return self


class DistillSettings(Section):
    """Student training (``mira distill``)."""

    heldout: float = Field(0.2, gt=0, lt=1, description="Held-out fraction of documents.")
    seed: int = Field(0, description="Split and init seed.")
    max_length: int = Field(128, ge=8, le=512, description="Tokens per document.")
    max_chars: int = Field(2048, ge=64, description="Characters kept before tokenizing.")
    trainable_layers: int = Field(
        0, ge=0, le=6, description="Encoder layers to fine-tune, from the top; 0 = frozen encoder."
    )
    max_epochs: int = Field(40, ge=1, description="Epoch limit.")
    patience: int = Field(6, ge=1, description="Early-stopping patience in epochs.")
    batch_size: int = Field(16, ge=1, description="Training batch size.")
    lr: float = Field(1e-2, gt=0, description="Head learning rate (layers get lr/100).")
    device: str = Field("auto", description="auto | cpu | cuda.")
    drop_flagged: bool = Field(
        True,
        description="Leave out annotations of documents flagged as addressing the teacher "
        "(prompt injection): their scores may follow the document, not the rubric.",
    )


class ExportSettings(Section):
    """Model repository export and threshold calibration (``mira export``)."""

    budget: float = Field(0.5, gt=0, le=1, description="Share of tokens to keep.")
    flavour: Literal["python", "onnxruntime"] = Field(
        "python",
        description="config.pbtxt flavour: python (CPU, onnxruntime inside) or onnxruntime (GPU).",
    )
    calibration_docs: int = Field(2000, ge=1, description="Documents sampled for thresholds.")
    seed: int = Field(0, description="Calibration sample seed.")
    max_batch_size: int = Field(128, ge=1, description="Triton max_batch_size.")
    instances: int = Field(1, ge=1, description="Triton instances per model.")
    queue_timeout_ms: int = Field(
        10_000,
        ge=1,
        description="Triton rejects a request still "
        "queued after this (config default_queue_policy REJECT; a "
        "request may lower it): work its client gave up on is never "
        "computed later.",
    )
    execution_env: str | None = Field(None, description="python flavour: EXECUTION_ENV_PATH.")
    parity_tol: float = Field(1e-4, gt=0, description="Max abs ONNX-vs-torch difference.")
    parity_docs: int = Field(16, ge=1, description="Documents of the parity check.")
    quantize: Literal["none", "int8"] = Field(
        "none",
        description="python (CPU) flavour: int8 dynamic quantization of the student (1.5-1.7x "
        "faster on CPU; scores rank alike but 2-4% of decisions differ from fp32, so opt-in); "
        "the onnxruntime (GPU) flavour always publishes fp32. See docs/benchmarks.md.",
    )
    quantize_docs: int = Field(
        256, ge=3, description="Documents on which the int8 graph is compared with fp32."
    )
    quantize_min_spearman: float = Field(
        0.99,
        ge=0,
        le=1,
        description="Publish the int8 graph only if its scores' Spearman correlation with "
        "fp32 reaches this; else fp32 is published (with a warning).",
    )
    keep_versions: int = Field(
        2,
        ge=1,
        description="config.pbtxt version policy: Triton keeps "
        "the newest N versions loaded, so the previous one still serves "
        "requests while scorers switch.",
    )
    warmup: bool = Field(
        True,
        description="config.pbtxt model_warmup: a batch of 1 and one of "
        "max_batch_size at max_length (zero tokens) run before a version is "
        "ready.",
    )
