"""Syntax without meaning: a character model trained on Python writes code that looks right and does not run.

Sources: 001 (generated C++ that "does not even compile"; networks "learn a lot of the syntax ... the text
is semantically meaningless"), 003 (no amount of data lets a model write a codebase from a description).
Karpathy, The unreasonable effectiveness of recurrent neural networks, 2015 (character LSTMs on Linux
source); Hochreiter & Schmidhuber 1997 (LSTM); Shannon 1951 (character n-grams).

Protocol: the corpus is the Python standard library on this machine (`limitlab.data.stdlib_source`:
a fixed, sorted file selection capped at `max_chars`); held-out files (disjoint) give the "real code"
reference. A character LSTM (`SequenceLSTM`, trained `train_steps` steps on random windows; its weights
cached through `ctx.cache`) and a character n-gram model of order `ngram_order` (longest seen context)
each write `num_samples` texts per temperature, `sample_chars` characters after a blank line, each made
a program by `trim`: from its first code line to the end of that line's block (or the unfinished last
line), with that indentation removed (the most favourable reading of a window of code); an empty result
counts as a failure. The real-code reference is `num_samples` real programs: runs of consecutive whole
top-level statements of the held-out files, up to `sample_chars` characters each. Measured per source:
the fraction of non-blank lines that tokenize on their own (`tokenize`), of samples that parse
(`ast.parse`), that compile (`compile`), that parse and run to the end in the sandbox
(`limitlab.codeexec`: a fresh temporary folder, no network, no files outside it, `timeout` seconds), and,
over samples that parse, the fraction of names read that are defined nowhere in the sample (nor builtins).

Verdict: "syntax" = at its best temperature the LSTM's line-tokenize rate is >= 0.8 x that of real code;
"meaning" = at every temperature the LSTM's samples run to the end at most half as often as real code.
The claim holds if both hold; it fails if "meaning" does not (the samples run about as often as real
code); otherwise (the model did not learn the surface syntax in its budget) inconclusive.
"""
from __future__ import annotations

import ast
import builtins
import io
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from limitlab import figures
from limitlab.cache import digest
from limitlab.codeexec import Outcome, run_programs
from limitlab.config import check
from limitlab.context import Context
from limitlab.data.stdlib_source import Corpus, stdlib_corpus
from limitlab.errors import DataError
from limitlab.models.lstm import SequenceLSTM
from limitlab.result import Figure, Result, Table, Verdict
from limitlab.study import Study, register

MEASURES = {"tokenize": "lines that tokenize", "parse": "samples that parse", "compile": "samples that compile",
            "run": "samples that run to the end", "undefined": "names read but never defined"}
BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__", "__builtins__", "__spec__", "__loader__"}


@dataclass(frozen=True)
class SyntaxConfig:
    max_chars: int = 150_000  # training corpus size (characters)
    hidden: int = 128
    seq_len: int = 64
    batch_size: int = 32
    train_steps: int = 200
    lr: float = 8e-3
    ngram_order: int = 6
    temperatures: tuple[float, ...] = (0.5, 0.8, 1.0)
    num_samples: int = 16  # per model and temperature (and real chunks)
    sample_chars: int = 400
    timeout: float = 0.5  # seconds each program may run
    num_shown: int = 2  # samples per source shown in the report

    def __post_init__(self) -> None:
        check(self.max_chars >= 5_000, f"max_chars={self.max_chars}; expected >= 5000")
        check(min(self.hidden, self.seq_len, self.batch_size, self.train_steps) >= 1,
              "hidden, seq_len, batch_size and train_steps must be >= 1")
        check(self.lr > 0, f"lr={self.lr}; expected > 0")
        check(1 <= self.ngram_order <= 8, f"ngram_order={self.ngram_order}; expected 1..8")
        check(len(self.temperatures) >= 1 and all(t > 0 for t in self.temperatures),
              f"temperatures={self.temperatures}; expected values > 0")
        check(self.num_samples >= 1 and self.sample_chars >= 50, "num_samples >= 1 and sample_chars >= 50 expected")
        check(0 < self.timeout <= 10, f"timeout={self.timeout}; expected 0 < timeout <= 10 seconds")
        check(self.num_shown >= 0, f"num_shown={self.num_shown}; expected >= 0")


def trim(text: str) -> str:
    """A window of code as a program: from its first code line to the end of that line's block (the first
    line indented less, or the unfinished last line), with that line's indentation removed; so a window
    from inside a method becomes top-level code. Empty if the window has no complete code line."""
    lines = text.split("\n")[:-1]  # the part after the last newline is an unfinished line

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip())

    code = [k for k, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not code:
        return ""
    first, depth = code[0], indent(lines[code[0]])
    end = next((k for k in code if k > first and indent(lines[k]) < depth), len(lines))
    return "".join(ln[depth:] + "\n" if ln.strip() else "\n" for ln in lines[first:end])


def line_tokenizes(line: str) -> bool:
    """Whether one line, on its own and unindented, is a sequence of valid Python tokens."""
    try:
        return all(tok.type != tokenize.ERRORTOKEN
                   for tok in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False


def names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names read, names bound) anywhere in a module: assignments, defs, arguments, imports, ..."""
    read, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
    return read, bound


def static_checks(program: str) -> dict[str, float | None]:
    """tokenize / parse / compile measures of one program; `undefined` is None if it does not parse."""
    lines = [ln for ln in program.splitlines() if ln.strip()]
    if not lines:  # nothing left after trimming is not a program
        return {"tokenize": 0.0, "parse": 0.0, "compile": 0.0, "undefined": None}
    out: dict[str, float | None] = {"tokenize": float(np.mean([line_tokenizes(ln) for ln in lines]))}
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return {**out, "parse": 0.0, "compile": 0.0, "undefined": None}
    try:
        compile(program, "<sample>", "exec")
        compiled = 1.0
    except (SyntaxError, ValueError):
        compiled = 0.0
    read, bound = names(tree)
    free = read - bound - BUILTINS
    return {**out, "parse": 1.0, "compile": compiled, "undefined": len(free) / len(read) if read else 0.0}


class Vocab:
    """Characters <-> integer codes (the corpus is ASCII)."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.table = np.zeros(128, dtype=np.int64)
        self.table[[ord(c) for c in self.chars]] = np.arange(len(self.chars))

    def encode(self, text: str) -> np.ndarray:
        return self.table[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]

    def decode(self, codes: Sequence[int]) -> str:
        return "".join(self.chars[int(c)] for c in codes)


def train_lstm(codes: np.ndarray, vocab_size: int, cfg: SyntaxConfig, ctx: Context, corpus_digest: str
               ) -> tuple[SequenceLSTM, list[float]]:
    """Train on random windows (truncated backpropagation through `seq_len` steps), or load from the cache."""
    model = SequenceLSTM(in_features=32, out_features=vocab_size, hidden=cfg.hidden, vocab_size=vocab_size)
    key = digest("syntax-char-lstm", corpus_digest, dict(model.state_dict()), cfg.hidden, cfg.seq_len,
                 cfg.batch_size, cfg.train_steps, cfg.lr, ctx.seed)
    hit = ctx.cache.get(key)
    if hit is not None:
        model.load_state_dict(hit[0])
        return model.eval(), hit[1]["loss"]
    data, gen = torch.as_tensor(codes), ctx.generator("windows")
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses = []
    model.train()
    for _ in ctx.progress.track(range(cfg.train_steps), description="train character LSTM"):
        starts = torch.randint(0, len(data) - cfg.seq_len - 1, (cfg.batch_size,), generator=gen)
        window = data[starts[:, None] + torch.arange(cfg.seq_len + 1)]
        loss = F.cross_entropy(model(window[:, :-1]).transpose(1, 2), window[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
    ctx.cache.put(key, model.state_dict(), {"loss": losses})
    return model.eval(), losses


@torch.no_grad()
def sample_lstm(model: SequenceLSTM, vocab: Vocab, cfg: SyntaxConfig, temperature: float, gen: torch.Generator
                ) -> list[str]:
    """`num_samples` texts of `sample_chars` characters, all in one batch, each primed with a blank line."""
    x = torch.as_tensor(vocab.encode("\n\n")).repeat(cfg.num_samples, 1)
    out, state = model.step(x)
    codes = []
    for _ in range(cfg.sample_chars):
        probs = torch.softmax(out[:, -1] / temperature, dim=-1)
        nxt = torch.multinomial(probs, 1, generator=gen)
        codes.append(nxt[:, 0])
        out, state = model.step(nxt, state)
    return [vocab.decode(row) for row in torch.stack(codes, 1).tolist()]


class NGram:
    """Character n-gram model: counts of (context, next) for every context length 0..order-1."""

    def __init__(self, codes: np.ndarray, vocab_size: int, order: int) -> None:
        self.v, self.order = vocab_size, order
        self.tables = []  # per context length: sorted unique keys context * V + next, and their counts
        for j in range(order):
            ctx_key = np.zeros(len(codes) - j, dtype=np.int64)
            for m in range(j):
                ctx_key = ctx_key * vocab_size + codes[m:len(codes) - j + m]
            keys, counts = np.unique(ctx_key * vocab_size + codes[j:], return_counts=True)
            self.tables.append((keys, counts))

    def sample(self, prime: np.ndarray, num_chars: int, temperature: float, rng: np.random.Generator) -> np.ndarray:
        seq = list(prime)
        for _ in range(num_chars):
            for j in range(min(self.order - 1, len(seq)), -1, -1):  # longest context seen in the corpus
                key = 0
                for c in seq[len(seq) - j:]:
                    key = key * self.v + c
                keys, counts = self.tables[j]
                lo, hi = np.searchsorted(keys, [key * self.v, key * self.v + self.v])
                if hi > lo:
                    break
            weights = counts[lo:hi].astype(float) ** (1 / temperature)
            seq.append(int(keys[lo + rng.choice(hi - lo, p=weights / weights.sum())] % self.v))
        return np.array(seq[len(prime):])


def real_chunks(held_out: Corpus, cfg: SyntaxConfig, rng: np.random.Generator) -> list[str]:
    """`num_samples` runs of consecutive whole top-level statements of held-out files, each starting at a
    random statement that fits and as long as fits in `sample_chars`: real programs."""
    spans = []  # (file, first line, end line) of every top-level statement, 0-based, end exclusive
    lines = [[line + "\n" for line in text.split("\n")] for text in held_out.texts]  # as ast counts lines
    for f, text in enumerate(held_out.texts):
        spans += [(f, node.lineno - 1, node.end_lineno) for node in ast.parse(text).body]
    fits = [k for k, (f, a, b) in enumerate(spans) if len("".join(lines[f][a:b])) <= cfg.sample_chars]
    if not fits:
        raise DataError(f"no top-level statement of the held-out files fits in sample_chars={cfg.sample_chars}; "
                        "raise sample_chars")
    chunks = []
    for k in rng.choice(fits, cfg.num_samples, replace=len(fits) < cfg.num_samples):
        f, first, last = spans[k]
        for g, _, end in spans[k + 1:]:
            if g != f or len("".join(lines[f][first:end])) > cfg.sample_chars:
                break
            last = end
        chunks.append("".join(lines[f][first:last]))
    return chunks


@register("syntax", chapter="reasoning", sources=("001", "003"))
class Syntax(Study[SyntaxConfig]):
    """A character LSTM and an n-gram model write Python: syntax vs meaning. Sources: 001, 003."""

    claim = "A sequence model trained on code learns its surface syntax but not its meaning."
    Config = SyntaxConfig
    presets = {
        "tiny": {"max_chars": 20_000, "hidden": 32, "seq_len": 32, "train_steps": 20, "ngram_order": 4,
                 "temperatures": (0.7,), "num_samples": 4, "sample_chars": 150, "timeout": 0.3, "num_shown": 1},
        "full": {"max_chars": 600_000, "hidden": 256, "seq_len": 128, "batch_size": 64, "train_steps": 3000,
                 "lr": 2e-3, "temperatures": (0.3, 0.5, 0.8, 1.0, 1.2), "num_samples": 48, "sample_chars": 800,
                 "timeout": 1.0},
    }

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        corpus = stdlib_corpus(max_chars=cfg.max_chars)
        held_out = stdlib_corpus(max_chars=max(20 * cfg.sample_chars, 20_000), skip=len(corpus.files))
        vocab = Vocab(corpus.text + held_out.text)
        codes = vocab.encode(corpus.text)
        model, losses = train_lstm(codes, len(vocab.chars), cfg, ctx, corpus.digest)
        ngram = NGram(codes, len(vocab.chars), cfg.ngram_order)
        texts: dict[str, list[str]] = {}
        for t in cfg.temperatures:
            texts[f"lstm_T{t:g}"] = sample_lstm(model, vocab, cfg, t, ctx.generator("lstm", t))
            rng = ctx.rng("ngram", t)
            texts[f"ngram_T{t:g}"] = [vocab.decode(ngram.sample(vocab.encode("\n\n"), cfg.sample_chars, t, rng))
                                      for _ in range(cfg.num_samples)]
        texts["real"] = real_chunks(held_out, cfg, ctx.rng("real"))
        programs = {src: [trim(x) for x in xs] for src, xs in texts.items()}
        flat = [p for ps in programs.values() for p in ps if p]
        outcomes = iter(run_programs(flat, timeout=cfg.timeout, jobs=max(1, ctx.threads)))
        ran = {src: [next(outcomes) if p else Outcome("error", "empty program") for p in ps]
               for src, ps in programs.items()}
        checks = {src: [static_checks(p) for p in ps] for src, ps in programs.items()}
        metrics = self.measure(checks, ran)
        metrics["corpus_chars"] = (len(corpus.text), "characters", f"training text: {len(corpus.files)} stdlib files")
        metrics["final_loss"] = (float(np.mean(losses[-20:])), "nats/char", "LSTM training loss, mean of the last 20 steps")
        tables = [self.outcome_table(ran), Table("Corpus", ["set", "files", "characters", "sha256"], [
            ["training", ", ".join(corpus.files), len(corpus.text), corpus.digest[:16]],
            ["held out (real code)", ", ".join(held_out.files), len(held_out.text), held_out.digest[:16]]])]
        return self.result(ctx, metrics=metrics, figures=[self.figure(metrics)], tables=tables,
                           samples=self.samples(programs, checks, ran))

    def measure(self, checks: Mapping[str, list[dict]], ran: Mapping[str, list[Outcome]]) -> dict[str, tuple]:
        metrics = {}
        for src, rows in checks.items():
            for m in ("tokenize", "parse", "compile", "undefined"):
                values = [r[m] for r in rows if r[m] is not None]
                metrics[f"{m}_{src}"] = (float(np.mean(values)) if values else None, "fraction",
                                         f"{MEASURES[m]}, {self.label(src)}")
            metrics[f"run_{src}"] = (float(np.mean([o.status == "ok" and r["parse"] for o, r in zip(ran[src], rows)])),
                                     "fraction",
                                     f"{MEASURES['run']}, {self.label(src)}")
        return metrics

    @staticmethod
    def label(src: str) -> str:
        if src == "real":
            return "real code (held out)"
        kind, t = src.split("_T")
        return f"{'character LSTM' if kind == 'lstm' else 'n-gram'} at temperature {t}"

    def outcome_table(self, ran: Mapping[str, list[Outcome]]) -> Table:
        rows = []
        for src, outs in ran.items():
            errors: dict[str, int] = {}
            for o in outs:
                if o.status == "error":
                    errors[o.error] = errors.get(o.error, 0) + 1
            top = ", ".join(f"{e} {n}" for e, n in sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))[:4])
            rows.append([self.label(src), *(sum(o.status == s for o in outs) for s in ("ok", "error", "timeout", "blocked")),
                         top])
        return Table("What happened when the samples ran", ["source", "ok", "error", "timeout", "blocked",
                                                             "most common errors"], rows,
                     caption="Blocked: the program tried to leave its temporary folder, open a socket or start a process.")

    def figure(self, metrics: Mapping[str, tuple]) -> Figure:
        temps = self.config.temperatures
        panels = []
        for m, title in MEASURES.items():
            series = [figures.series(name, temps, [metrics[f"{m}_{kind}_T{t:g}"][0] for t in temps])
                      for kind, name in (("lstm", "character LSTM"), ("ngram", f"{self.config.ngram_order}-gram"))]
            real = metrics[f"{m}_real"][0]
            panels.append(figures.lines(series, title=title, xlabel="sampling temperature", ylabel="fraction",
                                        ylim=(0, 1.02), hlines=[{"y": real, "label": "real code"}] if real is not None else []))
        return Figure("rates", "Generated Python: syntax vs meaning", panels, caption=(
            "Dashed: the same measure on held-out standard-library code cut the same way. Names: over samples "
            "that parse, the share of names read that the sample never defines (builtins count as defined)."))

    def samples(self, programs: Mapping[str, list[str]], checks: Mapping[str, list[dict]],
                ran: Mapping[str, list[Outcome]]) -> list[dict[str, str]]:
        out = []
        for src, ps in programs.items():
            if src.startswith("ngram") and src != f"ngram_T{self.config.temperatures[-1]:g}":
                continue  # one temperature of the baseline is enough to show
            for k in range(min(self.config.num_shown, len(ps))):
                c, o = checks[src][k], ran[src][k]
                state = "parses" if c["parse"] else "does not parse"
                result = "runs to the end" if o.status == "ok" else f"{o.status}{': ' + o.error if o.error else ''}"
                verdict = f"{state}; {result}" if ps[k] else "nothing left after trimming"
                out.append({"title": f"{self.label(src)}, sample {k + 1}: {verdict}",
                            "text": ps[k] or "(empty after trimming)"})
        return out

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        temps = self.config.temperatures
        real_tok, real_run = m["tokenize_real"], m["run_real"]
        best = max(temps, key=lambda t: m[f"tokenize_lstm_T{t:g}"])
        tok = m[f"tokenize_lstm_T{best:g}"]
        runs = {t: m[f"run_lstm_T{t:g}"] for t in temps}
        syntax = tok >= 0.8 * real_tok
        meaning_missing = all(r <= 0.5 * real_run for r in runs.values())
        text = (f"At temperature {best:g} {tok:.0%} of the LSTM's lines tokenize (real code {real_tok:.0%}), "
                f"{m[f'parse_lstm_T{best:g}']:.0%} of its samples parse (real {m['parse_real']:.0%}); samples run "
                f"to the end {', '.join(f'{r:.0%} at T={t:g}' for t, r in runs.items())} vs {real_run:.0%} of real code")
        if syntax and meaning_missing:
            return Verdict("holds", text + ".")
        if not meaning_missing:
            return Verdict("fails", text + ". The samples run about as often as real code.")
        return Verdict("inconclusive", text + ". Not shown: syntax (the model did not learn it in this budget).")
