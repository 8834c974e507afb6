#!/usr/bin/env bash
# Run HERE (a machine with PyPI), in the checkout that the GPU run will send: fills .gpu/ (git-
# ignored through .git/info/exclude; carried to the GPU machine with carry=[".gpu"]) with what
# the GPU machine lacks (it reaches no registry): Python 3.12 wheels of tritonclient, pydantic
# and friends, a trimmed tritonserver (pytriton 0.7.0's binary, python backend, the 3.12 stub
# and its libraries: ~27 MB), the student's tokenizer.json and its BertConfig.  ~42 MB in all.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
PY=${PY:-.venv/bin/python}
exclude="$(git rev-parse --git-path info/exclude)"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"
rm -rf .gpu && mkdir -p .gpu/whl .gpu/model .gpu/tmp
plat=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
      --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64
      --platform manylinux2014_x86_64 --platform manylinux_2_35_x86_64)
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp "${plat[@]}" -d .gpu/whl \
  tritonclient==2.73.0 python-rapidjson==1.25 grpcio==1.85.3 protobuf==6.33.5 \
  pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3 annotated-types \
  typing-inspection python-dotenv
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp "${plat[@]}" -d .gpu/tmp nvidia-pytriton==0.7.0
(cd .gpu/tmp && unzip -q nvidia_pytriton-*.whl 'pytriton/tritonserver/*' 'nvidia_pytriton.libs/*' \
  && tar -cJf ../tritonserver-min.tar.xz --exclude='libpython3-*' pytriton/tritonserver/bin \
     pytriton/tritonserver/backends/python pytriton/tritonserver/python_backend_stubs/3.12 \
     nvidia_pytriton.libs)
rm -rf .gpu/tmp
"$PY" - <<'PY'
import json
from pathlib import Path
from discovery.distill.student import backbone_dir
src = backbone_dir()
Path(".gpu/model/tokenizer.json").write_bytes((src / "tokenizer.json").read_bytes())
cfg = json.loads((src / "config.json").read_text())
Path(".gpu/model/config.json").write_text(json.dumps(cfg, indent=1))
PY
du -sh .gpu
