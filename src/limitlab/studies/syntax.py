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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from limitlab import figures
from limitlab.codeexec import Outcome, run_programs
from limitlab.config import Checked, Each, Interval
from limitlab.context import Context
from limitlab.data.pycode import real_programs, static_checks, trim
from limitlab.data.stdlib_source import stdlib_corpus
from limitlab.models.charlm import NGram, Vocab, sample_lstm, train_lstm
from limitlab.models.lstm import SequenceLSTM
from limitlab.result import Figure, Metrics, MetricValues, Result, Table, Verdict, at_least, at_most, every, fmt
from limitlab.study import Study, register

STATUSES = ("ok", "error", "timeout", "blocked")  # what the sandbox can say about a program
MEASURES = {"tokenize": "lines that tokenize", "parse": "samples that parse", "compile": "samples that compile",
            "run": "samples that run to the end", "undefined": "names read but never defined"}


@dataclass(frozen=True)
class SyntaxConfig(Checked):
    constraints: ClassVar = {
        "max_chars": Interval(5_000), "hidden": Interval(1), "seq_len": Interval(1), "batch_size": Interval(1),
        "train_steps": Interval(1), "lr": Interval(0, closed="neither"), "ngram_order": Interval(1, 8),
        "temperatures": Each(Interval(0, closed="neither"), min_len=1), "num_samples": Interval(1),
        "sample_chars": Interval(50), "timeout": Interval(0, 10, closed="right"), "num_shown": Interval(0)}
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
        v = len(vocab.chars)
        with ctx.seeded_torch("init", "lstm"):
            model = SequenceLSTM(in_features=32, out_features=v, hidden=cfg.hidden, vocab_size=v)
        losses = train_lstm(model, codes, seq_len=cfg.seq_len, batch_size=cfg.batch_size, steps=cfg.train_steps,
                            lr=cfg.lr, ctx=ctx, corpus_digest=corpus.digest, hidden=cfg.hidden)
        ngram = NGram(codes, len(vocab.chars), cfg.ngram_order)
        texts: dict[str, list[str]] = {}
        for t in cfg.temperatures:
            texts[f"lstm_T{t:g}"] = sample_lstm(model, vocab, num_samples=cfg.num_samples, num_chars=cfg.sample_chars,
                                                temperature=t, generator=ctx.generator("lstm", t))
            rng = ctx.rng("ngram", t)
            texts[f"ngram_T{t:g}"] = [vocab.decode(ngram.sample(vocab.encode("\n\n"), cfg.sample_chars, t, rng))
                                      for _ in range(cfg.num_samples)]
        texts["real"] = real_programs(held_out, cfg.num_samples, cfg.sample_chars, ctx.rng("real"))
        programs = {src: [trim(x) for x in xs] for src, xs in texts.items()}
        flat = [p for ps in programs.values() for p in ps if p]
        outcomes = iter(run_programs(flat, timeout=cfg.timeout, jobs=max(1, ctx.threads)))
        ran = {src: [next(outcomes) if p else Outcome("error", "empty program") for p in ps]
               for src, ps in programs.items()}
        checks = {src: [static_checks(p) for p in ps] for src, ps in programs.items()}
        metrics = self.measure(checks, ran)
        metrics.add("corpus_chars", len(corpus.text), "characters", f"training text: {len(corpus.files)} stdlib files")
        metrics.add("final_loss", float(np.mean(losses[-20:])), "nats/char",
                    "LSTM training loss, mean of the last 20 steps")
        tables = [self.outcome_table(ran), Table("Corpus", ["set", "files", "characters", "sha256"], [
            ["training", ", ".join(corpus.files), len(corpus.text), corpus.digest[:16]],
            ["held out (real code)", ", ".join(held_out.files), len(held_out.text), held_out.digest[:16]]])]
        return self.result(ctx, metrics=metrics, figures=[self.figure(metrics)], tables=tables,
                           samples=self.samples(programs, checks, ran))

    def measure(self, checks: Mapping[str, list[dict]], ran: Mapping[str, list[Outcome]]) -> Metrics:
        metrics = Metrics()
        for src, rows in checks.items():
            for m in ("tokenize", "parse", "compile", "undefined"):
                values = [r[m] for r in rows if r[m] is not None]
                metrics.add(f"{m}_{src}", float(np.mean(values)) if values else None, "fraction",
                            f"{MEASURES[m]}, {self.label(src)}")
            metrics.add(f"run_{src}", float(np.mean([o.status == "ok" and r["parse"] for o, r in zip(ran[src], rows)])),
                        "fraction", f"{MEASURES['run']}, {self.label(src)}")
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
            rows.append([self.label(src), *(sum(o.status == s for o in outs) for s in STATUSES), top])
        return Table("What happened when the samples ran", ["source", *STATUSES, "most common errors"], rows,
                     caption="Blocked: the program tried to leave its temporary folder, open a socket or start a "
                             "process.")

    def figure(self, metrics: Metrics) -> Figure:
        temps = self.config.temperatures
        panels = []
        for m, title in MEASURES.items():
            series = [figures.series(name, temps, [metrics[f"{m}_{kind}_T{t:g}"].value for t in temps])
                      for kind, name in (("lstm", "character LSTM"), ("ngram", f"{self.config.ngram_order}-gram"))]
            real = metrics[f"{m}_real"].value
            hlines = [] if real is None else [{"y": real, "label": "real code"}]
            panels.append(figures.lines(series, title=title, xlabel="sampling temperature", ylabel="fraction",
                                        ylim=(0, 1.02), hlines=hlines))
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

    def judge(self, m: MetricValues) -> Verdict:
        temps = self.config.temperatures
        real_tok, real_run = m["tokenize_real"], m["run_real"]
        best = max(temps, key=lambda t: -1.0 if m[f"tokenize_lstm_T{t:g}"] is None else m[f"tokenize_lstm_T{t:g}"])
        tok = m[f"tokenize_lstm_T{best:g}"]
        runs = {t: m[f"run_lstm_T{t:g}"] for t in temps}
        parts = {"syntax": at_least(tok, None if real_tok is None else 0.8 * real_tok),
                 "meaning": every(at_most(r, None if real_run is None else 0.5 * real_run) for r in runs.values())}
        run_text = ", ".join(f"{fmt(r, '.0%')} at T={t:g}" for t, r in runs.items())
        text = (f"At temperature {best:g} {fmt(tok, '.0%')} of the LSTM's lines tokenize (real code "
                f"{fmt(real_tok, '.0%')}), {fmt(m[f'parse_lstm_T{best:g}'], '.0%')} of its samples parse (real "
                f"{fmt(m['parse_real'], '.0%')}); samples run to the end {run_text} vs {fmt(real_run, '.0%')} of "
                "real code")
        return Verdict.combine(parts, text, decisive=("meaning",), missing={
            "meaning": "The samples run about as often as real code.",
            "syntax": "Not shown: syntax (the model did not learn it in this budget)."})
