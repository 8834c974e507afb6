"""The built-in sources: what a Debian machine (plus deploy/local/apt-packages.txt) provides.

``package`` is the Debian package to install when a source is missing; ``license`` applies to
files owned by ``license_packages`` (or to all files when that is empty); other files get their
package's Debian copyright file in ``meta.license_file``.
"""

from __future__ import annotations

from mira.corpus.sources import SourceSpec

PSF = "PSF-2.0"
PERL = "Artistic-1.0-Perl OR GPL-1.0-or-later"
BSD3 = "BSD-3-Clause"
_PY_DOC = (
    "/usr/share/doc/python3.[0-9]*-doc/html/_sources",
    "/usr/share/doc/python3-doc/html/_sources",
)
_SK_DOC = "/usr/share/doc/python-sklearn-doc/html/_sources"
_CONFIG_ROOTS = ("/etc", "/usr/share", "/usr/lib/node_modules", "/usr/lib/python3/dist-packages")

DEFAULT_SOURCES: tuple[SourceSpec, ...] = (
    # ------------------------------------------------------------------ code
    SourceSpec(
        "code_python",
        "Python standard library modules",
        ("/usr/lib/python3.[0-9]*",),
        r"\.py$",
        r"(^|/)(site-packages|dist-packages|test|tests|idle_test)/",
        package="libpython3-stdlib",
        license=PSF,
        license_packages=("libpython3",),
        newest_only=True,
    ),
    SourceSpec(
        "code_c",
        "C headers in /usr/include",
        ("/usr/include",),
        r"\.h$",
        r"^c\+\+/",
        package="libc6-dev",
    ),
    SourceSpec(
        "code_cpp",
        "C++ standard library headers",
        ("/usr/include/c++/[0-9]*",),
        r"(^|/)[a-z_]+$|\.(h|hpp|tcc)$",
        package="libstdc++-12-dev",
        license="GPL-3.0-or-later WITH GCC-exception-3.1",
        newest_only=True,
    ),
    SourceSpec(
        "code_go",
        "Go standard library source",
        ("/usr/share/go-*/src", "/usr/lib/go-*/src"),
        r"\.go$",
        r"(^|/)testdata/|_test\.go$",
        package="golang-1.19-src",
        license=BSD3,
        newest_only=True,
    ),
    SourceSpec(
        "code_java",
        "OpenJDK class library source (src.zip members)",
        (
            "/usr/lib/jvm/openjdk-*/lib/src.zip",
            "/usr/lib/jvm/java-*-openjdk-*/lib/src.zip",
            "/usr/lib/jvm/*/lib/src.zip",
        ),
        r"\.java$",
        container="zip",
        package="openjdk-17-source",
        license="GPL-2.0-only WITH Classpath-exception-2.0",
        newest_only=True,
    ),
    SourceSpec(
        "code_js",
        "JavaScript of globally installed npm packages",
        ("/usr/lib/node_modules", "/usr/share/nodejs"),
        r"\.(js|mjs|cjs)$",
        r"\.min\.js$|(^|/)(test|tests|dist)/",
        package="npm",
    ),
    SourceSpec(
        "code_perl",
        "Perl modules",
        (
            "/usr/share/perl/5.*",
            "/usr/share/perl5",
            "/usr/lib/x86_64-linux-gnu/perl/5.*",
            "/usr/lib/x86_64-linux-gnu/perl5/*",
        ),
        r"\.pm$",
        package="perl-modules-5.36",
        license=PERL,
        license_packages=("perl-modules", "perl-base", "libperl"),
    ),
    SourceSpec(
        "code_python_pkgs",
        "Python packages installed by Debian (dist-packages)",
        ("/usr/lib/python3/dist-packages",),
        r"\.py$",
        r"(^|/)(test|tests)/",
        package="python3-yaml",
    ),
    SourceSpec(
        "code_shell",
        "Shell scripts",
        ("/usr/share", "/etc", "/usr/lib/git-core", "/usr/lib/perf-core"),
        r"\.(sh|bash)$",
        package="bash",
    ),
    SourceSpec(
        "code_cmake",
        "CMake modules",
        ("/usr/share/cmake-*/Modules",),
        r"\.cmake$",
        package="cmake-data",
        license=BSD3,
        newest_only=True,
    ),
    # ------------------------------------------------------------------ docs
    SourceSpec(
        "docs_man",
        "English man pages (troff rendered as text)",
        ("/usr/share/man",),
        r"^man[1-9][^/]*/[^/]+\.gz$",
        r"/gcloud_",
        reader="gzip_troff",
        package="man-db",
    ),
    SourceSpec(
        "docs_python",
        "Python documentation (reST sources)",
        _PY_DOC,
        r"\.rst\.txt$",
        r"^faq/",
        package="python3-doc",
        license=PSF,
        newest_only=True,
    ),
    SourceSpec(
        "docs_cmake",
        "CMake documentation (reST)",
        ("/usr/share/cmake-*/Help",),
        r"\.rst$",
        package="cmake-data",
        license=BSD3,
        newest_only=True,
    ),
    SourceSpec(
        "docs_perlpod",
        "Perl documentation (POD, perlfaq excluded)",
        ("/usr/share/perl/5.*/pod",),
        r"\.pod$",
        r"perlfaq",
        package="perl-doc",
        license=PERL,
        newest_only=True,
    ),
    SourceSpec(
        "docs_sklearn",
        "scikit-learn user guide (reST sources)",
        (_SK_DOC,),
        r"\.rst\.txt$",
        r"(^|/)(auto_examples/|faq\.rst)",
        package="python-sklearn-doc",
        license=BSD3,
    ),
    SourceSpec(
        "docs_rust",
        "Rust books and reference (HTML rendered as text)",
        ("~/.rustup/toolchains/*/share/doc/rust/html", "/usr/share/doc/rust-doc/html"),
        r"^(book|reference|nomicon|rust-by-example|edition-guide|embedded-book|rustc|cargo"
        r"|style-guide)/.*\.html$",
        r"(^|/)(print|toc|404|index)\.html$",
        reader="html",
        package="rust-doc",
        license="MIT OR Apache-2.0",
        newest_only=True,
    ),
    SourceSpec(
        "docs_markdown",
        "Markdown READMEs and guides",
        ("/usr/lib/node_modules", "/usr/share/doc"),
        r"\.md(\.gz)?$",
        package="npm",
    ),
    # ------------------------------------------------------------------ notebooks
    SourceSpec(
        "nb_sklearn",
        "scikit-learn example notebooks (cells as text)",
        ("/usr/share/doc/python-sklearn-doc",),
        r"\.ipynb$",
        reader="notebook",
        package="python-sklearn-doc",
        license=BSD3,
    ),
    # ------------------------------------------------------------------ Q&A
    SourceSpec(
        "qa_python_faq",
        "Python FAQ, one question per document",
        tuple(f"{r}/faq" for r in _PY_DOC),
        r"\.rst\.txt$",
        splitter="rst_qa",
        package="python3-doc",
        license=PSF,
        newest_only=True,
    ),
    SourceSpec(
        "qa_perlfaq",
        "perlfaq, one question per document",
        ("/usr/share/perl/5.*/pod",),
        r"^perlfaq[1-9]\.pod$",
        splitter="pod_qa",
        package="perl-doc",
        license=PERL,
        newest_only=True,
    ),
    SourceSpec(
        "qa_sklearn_faq",
        "scikit-learn FAQ, one question per document",
        (_SK_DOC,),
        r"(^|/)faq\.rst\.txt$",
        splitter="rst_qa",
        package="python-sklearn-doc",
        license=BSD3,
    ),
    # ------------------------------------------------------------------ configs
    SourceSpec(
        "config_json",
        "JSON files (package manifests, data, settings)",
        _CONFIG_ROOTS,
        r"\.json$",
        r"(^|/)(searchindex|package-lock)\.json$",
    ),
    SourceSpec("config_conf", "*.conf configuration files", ("/etc", "/usr/share"), r"\.conf$"),
    SourceSpec(
        "config_yaml_toml",
        "YAML, TOML, INI and cfg files",
        _CONFIG_ROOTS,
        r"\.(ya?ml|toml|ini|cfg)$",
    ),
)


def by_slug(slugs: list[str] | None = None) -> list[SourceSpec]:
    """The default sources, optionally only the named ones (KeyError names an unknown slug)."""
    if not slugs:
        return list(DEFAULT_SOURCES)
    index = {s.slug: s for s in DEFAULT_SOURCES}
    unknown = [s for s in slugs if s not in index]
    if unknown:
        raise KeyError(f"unknown source(s) {unknown}; known: {sorted(index)}")
    return [index[s] for s in slugs]
