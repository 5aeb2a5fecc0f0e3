"""README.md cannot go stale: what it names exists, and its Python examples run.

The README is read as data. Every dotted ``zoo.*`` name, every architecture or catalogue
name, every ``zoo`` command and flag and every file it points to must exist; every
keyword it shows must be one that zoo accepts; its error examples must match what zoo
raises; and every ```` ```python ```` block runs, in a temporary folder with
``ZOO_SAVED_MODELS`` there and ``ZOO_OFFLINE=1``, on tiny stand-ins where the README uses
data or weights that a test machine does not have. The stand-ins are the tables below,
each with its reason; a stand-in that no longer matches the README fails too, so the
tables cannot go stale either.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import doctest
import importlib
import inspect
import io
import linecache
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest

import zoo
from zoo import cli, registry
from zoo.data import standard

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "README.md").read_text()


# --- reading the README --------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    language: str
    heading: str
    code: str


def _parse(text: str) -> tuple[list[Block], str]:
    """The fenced blocks (with the heading above each) and the prose outside them."""
    blocks, prose, heading, fence = [], [], "", None
    for line in text.splitlines():
        if fence is None and line.startswith("```"):
            fence = (line[3:].strip(), heading, [])
        elif fence is None:
            if match := re.match(r"#+ (.+)", line):
                heading = match.group(1).strip()
            prose.append(line)
        elif line.startswith("```"):
            blocks.append(Block(fence[0], fence[1], "\n".join(fence[2]) + "\n"))
            fence = None
        else:
            fence[2].append(line)
    return blocks, "\n".join(prose)


BLOCKS, PROSE = _parse(TEXT)
PYTHON = [b for b in BLOCKS if b.language == "python"]
SHELL = [b for b in BLOCKS if b.language in ("bash", "sh", "shell", "console")]
# Inline code (it may wrap a line), with the line it starts on.
INLINE = [
    (PROSE.count("\n", 0, m.start()), " ".join(m.group(1).split()))
    for m in re.finditer(r"`([^`]+)`", PROSE)
]


def _block_ids(blocks: list[Block]) -> list[str]:
    ids, seen = [], {}
    for block in blocks:
        seen[block.heading] = seen.get(block.heading, 0) + 1
        ids.append(block.heading + ("" if seen[block.heading] == 1 else f" #{seen[block.heading]}"))
    return ids


def _code(text: str) -> ast.Module | None:
    """Python code (a block, or inline code such as ``fine_tune(model, data)``), or None."""
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def _dotted(node: ast.AST) -> str | None:
    """``zoo.a.b`` for an attribute chain on a plain name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


# Everything in the README's code that is Python: the blocks, and inline code that parses
# (`fine_tune(model, data)`, `zoo.data.load(..., tokenize=False)`, ...).
BLOCK_CODE = [tree for tree in map(_code, [b.code for b in PYTHON]) if tree is not None]
INLINE_CODE = [tree for _, text in INLINE if "(" in text and (tree := _code(text))]
CODE = BLOCK_CODE + INLINE_CODE

# Inline code spelled like a dotted name that is a file, not an attribute.
NOT_NAMES = {"zoo.json": "the model card's file name"}


def _dotted_names(roots=("zoo", "keras")) -> list[str]:
    """`zoo.a.b` (and `keras.a.b`) names in code and inline code, the longest of each chain."""
    names = set()
    for tree in CODE:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and (name := _dotted(node)):
                names.add(name)
    names |= {text for _, text in INLINE if re.fullmatch(r"\w+(\.\w+)+", text)}
    names = {n for n in names if n.split(".")[0] in roots and n not in NOT_NAMES}
    return sorted(n for n in names if not any(m.startswith(n + ".") for m in names))


def _resolve(dotted: str):
    """The object a ``zoo.a.b`` name means: attributes first, then modules to import."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=2):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[:i]))
    return obj


# --- catalogue names -----------------------------------------------------------------

ROWS = set(registry.names())
ALIASES = set(registry.aliases())
# A word is taken for a catalogue name if it starts like one (`resnet`, `vgg`, ...) and
# has an underscore, a tag or a digit (so "image" or "text" in prose are not names).
STEMS = {re.split(r"[_.\d]", name)[0] for name in ROWS | ALIASES} - {""}
NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)?")

# Functions whose first argument is an architecture (a catalogue row or an alias).
ARCHITECTURE_ARGUMENT = {
    "build",
    "count_params",
    "train",
    "tune",
    "cross_validate",
    "fine_tune",
    "image_classifier",
    "text_classifier",
    "get_entry",
    "find",
    "canonical_name",
    "search_space",
}
# Functions whose first argument is a shell-style pattern over the catalogue.
PATTERN_ARGUMENT = {"list_architectures"}
# `zoo` commands whose positional arguments are architectures or patterns.
CLI_ARCHITECTURES = {"build", "train", "tune", "finetune", "pull"}
CLI_PATTERNS = {"list"}


def _is_name_like(word: str) -> bool:
    if word in ROWS or word in ALIASES:
        return True
    if word in standard.DATASETS:  # `fashion_mnist` is a dataset, though `fashion_...` rows exist
        return False
    stem = re.split(r"[_.\d]", word)[0]
    return bool(NAME.fullmatch(word)) and stem in STEMS and bool(re.search(r"[_.\d]", word))


def _expand(word: str) -> list[str]:
    """``resnet_50/101/152_v2`` -> resnet_50_v2, resnet_101_v2, resnet_152_v2."""
    parts = word.split("/")
    if len(parts) == 1:
        return [word]
    head = re.fullmatch(r"([a-z][a-z0-9_]*_)(\d+)", parts[0])
    tails = [re.fullmatch(r"(\d+)(_[a-z0-9_]+)?", p) for p in parts[1:]]
    if not head or not all(tails):
        return []  # a path
    suffix = tails[-1].group(2) or ""
    return [head.group(1) + n + suffix for n in [head.group(2), *(t.group(1) for t in tails)]]


def _prose_names() -> set[str]:
    """Names in inline code; ``_tiny`` after `convnet` on the same line is convnet_tiny."""
    names, previous = set(), (None, [])
    for line, text in INLINE:
        if re.fullmatch(r"_[a-z0-9_]+", text):
            if previous[0] == line:
                names |= {name + text for name in previous[1]}
            continue
        expanded = [w for w in _expand(text) if _is_name_like(w)]
        if expanded:
            names |= set(expanded)
            previous = (line, expanded)
    return names


def _comment_names() -> set[str]:
    """Names in the Python blocks' comments (printed tables, `bare name = ...`)."""
    words = set()
    for block in PYTHON:
        for comment in re.findall(r"#(.*)", block.code):
            words |= set(re.findall(r"[A-Za-z_][\w.]*\w", comment))
    return {w for w in words if _is_name_like(w)}


def _code_names() -> tuple[set[str], set[str]]:
    names, patterns = set(), set()
    for tree in CODE:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = _dotted(node.func) or ""
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            if "/" in first.value:
                continue  # a folder or file, not a name
            if func.rsplit(".", 1)[-1] in ARCHITECTURE_ARGUMENT:
                names.add(first.value)
            elif func.rsplit(".", 1)[-1] in PATTERN_ARGUMENT:
                patterns.add(first.value)
    return names, patterns


# --- the command line ----------------------------------------------------------------


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse has no public way to list subcommands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def _cli_lines(text: str) -> list[str]:
    """Every `zoo ...` command line in a shell block, without its comment."""
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("zoo ") or line == "zoo":
            lines.append(re.sub(r"\s+#.*$", "", line))
    return lines


def _epilog_lines() -> list[str]:
    """The examples in ``zoo --help``: two spaces or more start their description."""
    lines = []
    for line in cli.EPILOG.splitlines():
        if line.strip().startswith("zoo "):
            lines.append(re.split(r"\s{2,}", line.strip())[0])
    return lines


CLI = sorted(
    {line for block in SHELL for line in _cli_lines(block.code)}
    | {text for _, text in INLINE if text.startswith("zoo ") or text == "zoo"}
)


def _placeholder(token: str) -> bool:
    return token == "..." or bool(re.fullmatch(r"[A-Z][A-Z_]*", token))


def _check_command(tokens: list[str]) -> list[str]:
    """Problems with one `zoo` command line (tokens after `zoo`), checked on the parser."""
    problems = []
    if "--" in tokens:  # zoo launch ... -- zoo train ...
        cut = tokens.index("--")
        tokens, inner = tokens[:cut], tokens[cut + 1 :]
        if inner[:1] == ["zoo"]:
            problems += _check_command(inner[1:])
    parser, path, positionals = cli.make_parser(), [], []
    for i, token in enumerate(tokens):
        commands = _commands(parser)
        if not token.startswith("-") and commands and not _placeholder(token):
            if token not in commands:
                return [f"`zoo {' '.join([*path, token])}`: no such command ({sorted(commands)})"]
            parser = commands[token]
            path.append(token)
        elif token.startswith("-") and not re.fullmatch(r"-\d.*", token):
            flag = token.split("=")[0]
            if flag not in _options(parser):
                problems.append(f"`zoo {' '.join(path)}` has no option {flag}")
        elif path and not (i and tokens[i - 1].startswith("-")):
            positionals.append(token)  # not an option's value
    # Catalogue names in the positions that take them.
    command = path[-1] if path else None
    for token in positionals:
        if _placeholder(token) or token == "all":
            continue
        if command in CLI_ARCHITECTURES and registry.find(token, warn=False) is None:
            problems.append(f"`zoo {' '.join(path)} {token}`: {token!r} is not in the catalogue")
        if command in CLI_PATTERNS and not registry.select(token):
            problems.append(f"`zoo list {token}`: no catalogue name matches")
    return problems


def _parse_whole(tokens: list[str]) -> str | None:
    """Parse a concrete command line with the real parser; the error, if any."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            cli.make_parser().parse_args(tokens)
    except SystemExit as exit:
        return err.getvalue().strip() or f"exit {exit.code}"
    return None


def _check_line(line: str) -> list[str]:
    tokens = shlex.split(line.replace("[", "").replace("]", ""))[1:]
    problems = _check_command(tokens)
    concrete = not any(_placeholder(t) or t in ("-h", "--help") for t in tokens)
    if not problems and concrete and (error := _parse_whole(tokens)):
        problems.append(f"`{line}` does not parse: {error}")
    return problems


# --- what the static tests check -----------------------------------------------------

ZOO_NAMES = _dotted_names()
CODE_ARCHITECTURES, CODE_PATTERNS = _code_names()
ARCHITECTURES = sorted(CODE_ARCHITECTURES | _prose_names() | _comment_names())
PATTERNS = sorted(CODE_PATTERNS)


def test_the_readme_is_read():
    """The extraction finds what the README obviously holds (so the checks check)."""
    assert len(PYTHON) >= 10 and len(SHELL) >= 3
    assert {"zoo.train", "zoo.data.load", "zoo.transfer.fine_tune"} <= set(ZOO_NAMES)
    assert {"resnet_50", "convnet_digits", "digits_convnet_pretrained"} <= set(ARCHITECTURES)
    assert any(line.startswith("zoo launch") for line in CLI)


def test_dotted_names_exist():
    """`zoo.train`, `zoo.transfer.fine_tune`, `zoo.tasks`, `keras.applications.ResNet50`."""
    missing = []
    for name in ZOO_NAMES:
        try:
            _resolve(name)
        except (AttributeError, ImportError) as error:
            missing.append(f"{name}: {error}")
    assert missing == []


# Where class names in prose (`TokenAndPositionEmbedding`, `Diffusion`, `AdamW`) may live
# besides zoo's own modules.
UPSTREAM = ("keras", "keras.layers", "keras.optimizers", "tensorflow.distribute", "builtins")
UPSTREAM += ("matplotlib.figure",)


def test_class_names_exist():
    words = {t for _, t in INLINE if re.fullmatch(r"[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*", t)}
    assert "TokenAndPositionEmbedding" in words
    for name in zoo.__all__:
        _resolve(f"zoo.{name}")  # load zoo's modules
    modules = [m for n, m in list(sys.modules.items()) if n.split(".")[0] == "zoo"]
    modules += [_resolve(name) for name in UPSTREAM]
    assert sorted(w for w in words if not any(hasattr(m, w) for m in modules)) == []


def test_architectures_are_in_the_catalogue():
    """Names in calls, commands, prose and printed tables; `vgg_11/13/16/19` is four."""
    assert [name for name in ARCHITECTURES if registry.find(name, warn=False) is None] == []
    assert [pattern for pattern in PATTERNS if not registry.select(pattern)] == []


def test_command_lines_exist():
    """Every `zoo ...` line: its command, options and catalogue names; parsed when concrete."""
    assert {line: problems for line in CLI if (problems := _check_line(line))} == {}


def test_help_examples_exist():
    """The examples `zoo --help` prints hold too."""
    lines = _epilog_lines()
    assert len(lines) > 5
    assert {line: problems for line in lines if (problems := _check_line(line))} == {}


# `zoo` commands of the README cheap enough to run for real (a bad --set value fails here).
RUN_COMMANDS = ("build",)


def test_cheap_command_lines_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    lines = [line for line in CLI if line.split()[1:2] and line.split()[1] in RUN_COMMANDS]
    assert lines
    for line in lines:
        assert cli.main(shlex.split(line)[1:]) == 0, (line, capsys.readouterr().err)


def _public_parameters() -> set[str]:
    """Every parameter name of zoo's public functions and classes, and of its builders."""
    modules = {_resolve(f"zoo.{name}") for name in zoo.__all__}
    modules = {m for m in modules if inspect.ismodule(m)} | {zoo, _resolve("zoo.tasks")}
    found = set()
    for module in modules:
        for attribute in getattr(module, "__all__", None) or dir(module):
            obj = getattr(module, attribute, None)
            if callable(obj) and getattr(obj, "__module__", "").startswith("zoo"):
                with contextlib.suppress(TypeError, ValueError):
                    found |= set(inspect.signature(obj).parameters)
    for name in ROWS:
        with contextlib.suppress(TypeError, ValueError):
            found |= set(inspect.signature(registry.get_entry(name).builder).parameters)
    return found


# Keywords shown alone in prose: `resume=True`, `unfreeze=N`, `path=`, ...
KEYWORDS = sorted(
    {m.group(1) for _, text in INLINE if (m := re.fullmatch(r"([a-z_]\w*)=\S*", text))}
)
# Bare function names in inline code (`fine_tune(...)`, `hub_layer(...)`) live here.
NAMESPACES = ("zoo", "zoo.transfer", "zoo.data", "zoo.tuning", "zoo.plots")


def _calls() -> dict[str, tuple[list[str], set[str]]]:
    """Calls of zoo functions: `name(keywords)` -> (where the function may be, keywords)."""
    calls = {}
    for tree in CODE:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not (func := _dotted(node.func)):
                continue
            if func.startswith("zoo."):
                candidates = [func]
            elif "." not in func and any(tree is t for t in INLINE_CODE):
                candidates = [f"{namespace}.{func}" for namespace in NAMESPACES]
            else:
                continue  # a method of a variable: the blocks run below
            keywords = {k.arg for k in node.keywords if k.arg}
            calls.setdefault(f"{func}({', '.join(sorted(keywords))})", (candidates, keywords))
    return calls


def _takes(func, keywords: set[str]) -> bool:
    parameters = inspect.signature(func).parameters
    return keywords <= set(parameters) or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def test_keywords_are_accepted():
    """`zoo.tune(..., max_trials=20)`, inline `hub_layer(h, trainable=False)`: accepted;
    a keyword shown alone (`train_batchnorm=True`) is a parameter of some public function."""
    problems = []
    for call, (candidates, keywords) in sorted(_calls().items()):
        found = []
        for candidate in candidates:
            with contextlib.suppress(AttributeError, ImportError):
                found.append(_resolve(candidate))
        if not any(callable(f) and _takes(f, keywords) for f in found):
            problems.append(f"{call}: no function in {candidates} takes these")
    parameters = _public_parameters()
    problems += [f"{k}=: no public function takes it" for k in KEYWORDS if k not in parameters]
    assert problems == []


def test_environment_variables_are_read():
    variables = set(re.findall(r"\bZOO_[A-Z_]+\b", TEXT))
    sources = [*(ROOT / "zoo").rglob("*.py"), *(ROOT / "notebooks").glob("*.ipynb")]
    text = "".join(path.read_text() for path in sources)
    assert sorted(v for v in variables if v not in text) == []


def _files() -> list[str]:
    """Files of the repository the README points to: links, and paths in inline code."""
    top = {p.name for p in ROOT.iterdir()} - {"saved_models"}
    paths = set(re.findall(r"\]\(([^)#:]+)\)", PROSE))
    for _, text in INLINE:
        for word in text.split():
            if word.split("/")[0] in top and "/" in word and "<" not in word:
                paths.add(word)
    return sorted(paths)


def test_files_exist():
    files = _files()
    assert "docs/architecture.md" in files
    assert [path for path in files if not (ROOT / path).exists()] == []


def test_make_targets_and_markers_exist():
    """`make demo`, `make format`, `pytest -m slow`: Makefile targets, pytest markers."""
    code = "\n".join([b.code for b in SHELL] + [text for _, text in INLINE])
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    markers = set(re.findall(r'^\s*"(\w+):', (ROOT / "pyproject.toml").read_text(), re.M))
    used_targets = set(re.findall(r"\bmake ([\w-]+)", code))
    used_markers = set(re.findall(r"pytest .*-m (\w+)", code))
    assert used_targets and used_markers
    assert used_targets - targets == set() and used_markers - markers == set()


# --- the error examples (```text blocks: a `>>>` line, then the error it raises) ------


def _error_examples() -> dict[str, tuple[str, str]]:
    examples = {}
    for block in BLOCKS:
        if block.language == "text" and ">>>" in block.code:
            for chunk in block.code.split(">>> ")[1:]:
                source, _, shown = chunk.partition("\n")
                examples[source] = (source, shown)
    return examples


@pytest.mark.parametrize("source", sorted(_error_examples()))
def test_error_example_is_what_zoo_raises(source):
    """The exception type (or a base of it) and the message, `...` matching anything."""
    _, shown = _error_examples()[source]
    kind, _, message = shown.partition(": ")
    with pytest.raises(getattr(builtins, kind)) as info:
        eval(source, {"zoo": zoo})
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    assert doctest.OutputChecker().check_output(message, str(info.value), flags), (
        f"README shows:\n{message}\nzoo raises:\n{info.value}"
    )


# --- the Python blocks run, on tiny stand-ins ----------------------------------------

# Text stand-ins, applied to every block in this order: (README text, stand-in, why).
STAND_INS = [
    (
        '"mobilenet_v3_small", "photos/"',
        '"digits_convnet_pretrained", "photos/"',
        "ImageNet weights are a download; zoo's shipped checkpoint is pretrained and on disk",
    ),
    (
        'zoo.transfer.image_classifier("mobilenet_v3_small", num_classes=5)',
        'zoo.build("digits_convnet_pretrained", num_classes=5)',
        "ImageNet weights are a download; zoo's shipped checkpoint is pretrained and on disk",
    ),
    (
        '"resnet_50", "photos/"',
        '"resnet_20", "photos/"',
        "ResNet-50 trains for minutes on a CPU; ResNet-20 is small (not resnet_tiny: with"
        " TensorFlow 2.21's oneDNN kernels it corrupts the heap on a partial batch)",
    ),
    (
        '"resnet_50.keras_in1k", num_classes=10)',
        '"resnet_50.keras_in1k", num_classes=10, weights=None)',
        "ImageNet weights are a download: the same network without them",
    ),
    (
        '"mobilenet_v3_small", num_classes=3)',
        '"mobilenet_v3_small", num_classes=3, weights=None)',
        "ImageNet weights are a download: the same network without them",
    ),
    (
        'zoo.build("bert_tiny_en_uncased", num_classes=2)',
        'zoo.registry.get_entry("bert_tiny_en_uncased")',
        "a keras-hub preset is a download (tests/transfer/test_text.py builds a local one)",
    ),
    (
        'zoo.build("tfhub_nnlm_en_dim50", num_classes=2)',
        'zoo.registry.get_entry("tfhub_nnlm_en_dim50")',
        "a TF Hub module is a download (tests/transfer/test_hub.py builds a local one)",
    ),
]

STAND_INS.append(
    (
        'zoo.data.load("fashion_mnist")',
        'zoo.data.load("digits")',
        "Fashion-MNIST is on disk only where Debian's package is installed; "
        "tests/data/test_standard.py loads it there",
    )
)

# Keywords set in every call of these functions (added where missing; ".fit" is any
# model's): one epoch, one trial, in-process tuning (its worker processes each start
# TensorFlow; tests/tuning runs them) show that a call works as written.
FAST = {
    "zoo.train": {"epochs": 1},
    "zoo.cross_validate": {"epochs": 1, "folds": 2},
    "zoo.transfer.fine_tune": {"epochs": 1, "fine_tune_epochs": 1},
    "zoo.tune": {"epochs": 1, "max_trials": 1, "workers": 0},
    "zoo.transfer.lr_find": {"steps": 10},
    ".fit": {"epochs": 1},
}

# What a block takes from the reader (or from an earlier section), made tiny:
# {heading: (code run before the block, why)}.
DIGITS = (
    "from sklearn.datasets import load_digits\n"
    "images = (load_digits().images[:64, :, :, None] / 16).astype('float32')"
)
TABLES = (
    "import pandas as pd\n"
    "rows = np.random.default_rng(0).normal(size=(60, 3))\n"
    "table = pd.DataFrame(rows, columns=['a', 'b', 'c']).assign(target=np.arange(60) % 2)\n"
    "table[:40].to_csv('train.csv', index=False)\n"
    "table[40:].to_csv('test.csv', index=False)"
)
GIVEN = {
    "Data, training and devices": (TABLES, "`train.csv` and `test.csv`: the reader's tables"),
    "Transfer learning": ("data = zoo.data.load('photos/')", "`data`: the reader's images"),
    "Transformers": (
        "token_windows = np.random.default_rng(0).integers(0, 64, size=(64, 32))",
        "`token_windows`: (batch, length) ids within gpt_tiny's 64 symbols and 32 positions",
    ),
    "Autoencoders": (DIGITS, "`images`: 8x8 images in [0, 1]"),
    "GANs": (
        DIGITS + " * 2 - 1\nlabels = load_digits().target[:64]",
        "`images`: 8x8 images in [-1, 1], and their `labels`",
    ),
    "Diffusion": (DIGITS + " * 2 - 1", "`images`: 8x8 images in [-1, 1]"),
    "Plots": (
        "\n".join(
            [
                DIGITS,
                "result = zoo.train('mlp_tiny', 'digits', epochs=1)",
                "search = zoo.tune('mlp_tiny', 'digits', max_trials=1, epochs=1)",
                "data = zoo.data.load('digits')",
                "model = zoo.build('convnet_tiny', num_classes=10)",
                "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')",
                "gan, vae = zoo.build('dcgan_tiny'), zoo.build('vae_tiny')",
            ]
        ),
        "a training and a search result, a model with data, a GAN and a VAE, as earlier",
    ),
    "Export for serving": (
        "zoo.save(zoo.build('mlp_tiny', num_classes=3), 'my_model')",
        "`my_model`: the model saved in Building models",
    ),
}

# Blocks that cannot run here at all: {heading: why}. Few, and never "it failed".
SKIP: dict[str, str] = {}


def _write_photos(root: Path) -> None:
    """`photos/<class>/<image>.jpg`: five classes (the README's `num_classes=5`) of 8x8
    grey images, the input of zoo's shipped checkpoint."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(5):
        (root / f"class_{c}").mkdir(parents=True, exist_ok=True)
        for i in range(6):
            pixels = rng.integers(0, 64, size=(8, 8), dtype=np.uint8) + 48 * c
            Image.fromarray(pixels).save(root / f"class_{c}" / f"{i}.jpg")


def _write_scans(root: Path) -> None:
    """`scans/` (a folder of 8x8 grey digits) and `seven.png`: what zoo.predict is shown on."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    (root / "scans").mkdir(exist_ok=True)
    for i in range(3):
        pixels = (digits.images[i] * 255 / 16).astype(np.uint8)
        Image.fromarray(pixels).save(root / "scans" / f"{i}.png")
    seven = (digits.images[list(digits.target).index(7)] * 255 / 16).astype(np.uint8)
    Image.fromarray(seven).save(root / "seven.png")


class _Fast(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        name = _dotted(node.func) or ""
        if name not in FAST and isinstance(node.func, ast.Attribute):
            name = "." + node.func.attr  # a method
        settings = FAST.get(name, {})
        node.keywords = [k for k in node.keywords if k.arg not in settings]
        node.keywords += [ast.keyword(k, ast.Constant(v)) for k, v in settings.items()]
        return node


def _runnable(block: Block) -> str:
    code = block.code
    for old, new, _ in STAND_INS:
        code = code.replace(old, new)
    tree = ast.fix_missing_locations(_Fast().visit(ast.parse(code)))
    return ast.unparse(tree) + "\n"


BLOCK_IDS = _block_ids(PYTHON)


def test_stand_in_tables_match_the_readme():
    """Every stand-in, preset and skip still refers to something in the README."""
    code = "".join(block.code for block in PYTHON)
    assert [old for old, _, _ in STAND_INS if old not in code] == []
    assert set(GIVEN) - set(BLOCK_IDS) == set()
    assert set(SKIP) - set(BLOCK_IDS) == set()


@pytest.mark.parametrize("block", PYTHON, ids=BLOCK_IDS)
def test_python_block_runs(block, tmp_path, monkeypatch):
    heading = BLOCK_IDS[PYTHON.index(block)]
    if heading in SKIP:
        pytest.skip(SKIP[heading])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # a download attempt fails instead of hanging
    _write_photos(tmp_path / "photos")
    _write_scans(tmp_path)
    namespace = {"zoo": zoo, "np": np, "keras": keras}
    filename = f"README.md ({heading})"
    for part, source in (("given", GIVEN.get(heading, ("", ""))[0]), ("block", _runnable(block))):
        linecache.cache[f"{filename} {part}"] = (len(source), None, source.splitlines(True), "")
        exec(compile(source, f"{filename} {part}", "exec"), namespace)
    import matplotlib.pyplot as plt

    plt.close("all")
