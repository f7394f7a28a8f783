"""Syntax without meaning: a character model trained on Python writes code that looks right and does not run.

Sources: 001 (generated C++ that "does not even compile"; networks "learn a lot of the syntax ... the text is
semantically meaningless"), 003 (no amount of data lets a model write a codebase from a description). Karpathy, The
unreasonable effectiveness of recurrent neural networks, 2015 (character LSTMs writing Linux source: brackets and
indentation right, the code meaningless); Hochreiter & Schmidhuber 1997 (LSTM); Shannon 1951 (character n-grams).

Protocol: the corpus is the Python standard library on this machine (`data.stdlib_source`: a fixed, sorted file
selection capped at `max_chars`); held-out files (disjoint) give the real-code reference and the validation text. A
character LSTM (`models.charlm`) is trained by `models.fit` on consecutive windows of `seq_len` characters until its
held-out loss stops falling (`patience` epochs without a new best; the best epoch is kept), capped at `train_steps`
steps; a character n-gram model of order `ngram_order` (longest seen context) is the baseline. Each writes `num_samples`
texts per temperature, `sample_chars` characters after a blank line, each made a program by `trim` (from its first code
line to the end of that line's block, dedented; an empty result counts as a failure). Real code: `num_samples` runs of
whole top-level statements of the held-out files, up to `sample_chars` characters each. Measured per source
(`data.pycheck`), each rate with two standard errors over samples as noise floor: lines that parse in context (read line
by line, a line is kept if the lines kept so far and it are still Python, a module that parses or an unfinished one,
else dropped), lines that tokenize alone, samples that parse, compile and run to the end in the sandbox
(`limitlab.codeexec`, `timeout` seconds; not measured when there is no sandbox), names read never defined.

Verdict: "syntax" = at its best temperature the share of the LSTM's lines that parse in context is >= 0.8 x that of real
code, by a margin beyond both floors (surface syntax is grammar in context: brackets, blocks, indentation; a line alone
need not tokenize, real code's multi-line statements do not); "meaning" = at every temperature the LSTM's samples run to
the end at most half as often as real code, by a margin beyond both floors (beyond them on the other side: it does not
hold; within them: not shown). The claim holds if both hold; it fails if "meaning" does not (the samples run about as
often as real code); otherwise inconclusive.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from limitlab import figures
from limitlab.codeexec import Outcome
from limitlab.config import Checked, Each, Interval
from limitlab.context import Context
from limitlab.data.program_runs import STATUSES, measured, outcome_row, run_all
from limitlab.data.pycheck import static_checks
from limitlab.data.pycode import real_programs, syntax_corpora, trim
from limitlab.figures import Figure  # its re-export: with the names below, the line would pass 120 columns
from limitlab.models import TrainConfig
from limitlab.models.charlm import CharLSTM, NGram, Vocab, sample_lstm, train_char_lstm
from limitlab.result import Metrics, MetricValues, Result, Table, Verdict, at_least, at_most, every, fmt
from limitlab.studies._rules import values_noise
from limitlab.study import Study, register

MEASURES = {"context": "lines that parse in context", "tokenize": "lines that tokenize alone",
            "parse": "samples that parse", "compile": "samples that compile", "run": "samples that run to the end",
            "undefined": "names read but never defined"}


def label(src: str) -> str:
    """A source's name in the report: "real code (held out)", "character LSTM at temperature 0.8", ..."""
    kind, _, t = src.partition("_T")
    return "real code (held out)" if src == "real" else f"{dict(lstm='character LSTM').get(kind, 'n-gram')} at T={t}"


@dataclass(frozen=True)
class SyntaxConfig(Checked):
    constraints: ClassVar = {
        "max_chars": Interval(5_000), "hidden": Interval(1), "seq_len": Interval(1), "batch_size": Interval(1),
        "max_epochs": Interval(1), "patience": Interval(1), "train_steps": Interval(1),
        "lr": Interval(0, closed="neither"), "ngram_order": Interval(1, 8),
        "temperatures": Each(Interval(0, closed="neither"), min_len=1), "num_samples": Interval(2),
        "sample_chars": Interval(50), "timeout": Interval(0, 10, closed="right"), "num_shown": Interval(0)}
    max_chars: int = 150_000  # training corpus size (characters)
    hidden: int = 128
    seq_len: int = 64
    batch_size: int = 32
    max_epochs: int = 40  # passes over the corpus, at most
    patience: int = 1  # epochs without a lower held-out loss: the plateau, where training stops
    train_steps: int = 1500  # a cap on optimizer steps (the time budget)
    lr: float = 4e-3  # Adam: reaches the held-out plateau (~epoch 10) well within the cap; 2e-3 did not
    ngram_order: int = 6
    temperatures: tuple[float, ...] = (0.5, 0.8, 1.0)
    num_samples: int = 24  # per model and temperature (and real programs)
    sample_chars: int = 400
    timeout: float = 0.5  # seconds each program may run
    num_shown: int = 2  # samples per source shown in the report


@register("syntax", chapter="reasoning", sources=("001", "003"))
class Syntax(Study[SyntaxConfig]):
    """A character LSTM and an n-gram model write Python: syntax vs meaning. Sources: 001, 003."""

    claim = "A sequence model trained on code learns its surface syntax but not its meaning."
    Config = SyntaxConfig
    presets = {"tiny": {"max_chars": 20_000, "hidden": 32, "seq_len": 32, "train_steps": 20, "ngram_order": 4,
                        "temperatures": (0.7,), "num_samples": 4, "sample_chars": 150, "timeout": 0.3, "num_shown": 1},
               "full": {"max_chars": 600_000, "hidden": 256, "seq_len": 128, "batch_size": 64, "train_steps": 6000,
                        "patience": 3, "temperatures": (0.3, 0.5, 0.8, 1.0, 1.2), "num_samples": 64,
                        "sample_chars": 800, "timeout": 1.0}}

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        corpus, held_out = syntax_corpora(max_chars=cfg.max_chars, sample_chars=cfg.sample_chars)
        vocab = Vocab(corpus.text + held_out.text)
        codes = vocab.encode(corpus.text)
        with ctx.seeded_torch("init", "lstm"):
            model = CharLSTM(len(vocab.chars), hidden=cfg.hidden)
        hist = train_char_lstm(model, codes, vocab.encode(held_out.text), seq_len=cfg.seq_len, ctx=ctx,
                               config=TrainConfig(epochs=cfg.max_epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                                                  patience=cfg.patience, max_steps=cfg.train_steps, eval_train=False))
        ngram = NGram(codes, len(vocab.chars), cfg.ngram_order)
        size: dict[str, Any] = {"num_samples": cfg.num_samples, "num_chars": cfg.sample_chars}
        texts: dict[str, list[str]] = {}
        for t in cfg.temperatures:
            texts[f"lstm_T{t:g}"] = sample_lstm(model, vocab, temperature=t, generator=ctx.generator("lstm", t), **size)
            texts[f"ngram_T{t:g}"] = ngram.texts(vocab, temperature=t, rng=ctx.rng("ngram", t), **size)
        texts["real"] = real_programs(held_out, cfg.num_samples, cfg.sample_chars, ctx.rng("real"))
        programs = {src: [trim(x) for x in xs] for src, xs in texts.items()}
        ran = run_all(programs, timeout=cfg.timeout, jobs=max(1, ctx.threads))
        checks = {src: [static_checks(p) for p in ps] for src, ps in programs.items()}
        metrics = self.measure(checks, ran)
        metrics.add("corpus_chars", len(corpus.text), "characters", f"training text: {len(corpus.files)} stdlib files")
        metrics.add("heldout_loss", min(hist.val_loss, default=None), "nats/char", "LSTM held-out loss (best epoch)")
        metrics.add("train_steps", hist.steps, "steps", f"LSTM optimizer steps (stopped: {hist.stopped})")
        metrics.add("plateaued", float(hist.stopped == "early_stop"), "yes/no", "1: the LSTM's held-out loss plateaued")
        tables = [self.outcome_table(ran), Table("Corpus", ["set", "files", "characters", "sha256"], [
            [name, ", ".join(c.files), len(c.text), c.digest[:16]] for name, c in (("training", corpus),
                                                                                 ("held out (real code)", held_out))])]
        return self.result(ctx, metrics=metrics, figures=[self.figure(metrics)], tables=tables,
                           samples=self.samples(programs, checks, ran))

    def measure(self, checks: Mapping[str, list[dict]], ran: Mapping[str, list[Outcome]]) -> Metrics:
        """Each measure's mean over a source's samples, two standard errors its noise floor (run: None if not run)."""
        metrics = Metrics()
        for src, rows in checks.items():
            per_sample = {m: [r[m] for r in rows if r[m] is not None] for m in MEASURES if m != "run"}
            per_sample["run"] = [float(o.status == "ok" and r["parse"]) for o, r in zip(ran[src], rows)] \
                if measured(ran[src]) else []
            for m, values in per_sample.items():
                metrics.add(f"{m}_{src}", float(np.mean(values)) if values else None, "fraction",
                            f"{MEASURES[m]}, {label(src)}", noise=values_noise(values))
        return metrics

    def outcome_table(self, ran: Mapping[str, list[Outcome]]) -> Table:
        return Table("What happened when the samples ran", ["source", *STATUSES, "not run", "most common errors"],
                     [[label(src), *outcome_row(outs)] for src, outs in ran.items()],
                     caption="Blocked: the program tried to leave its temporary folder, open a socket or start a "
                             "process. Not run: no sandbox was available, so execution was not measured.")

    def figure(self, metrics: Metrics) -> Figure:
        temps, panels = self.config.temperatures, []
        for m, title in MEASURES.items():
            series = [figures.series(name, temps, [metrics[f"{m}_{kind}_T{t:g}"].value for t in temps])
                      for kind, name in (("lstm", "character LSTM"), ("ngram", f"{self.config.ngram_order}-gram"))]
            real = [{"y": v, "label": "real code"} for v in [metrics[f"{m}_real"].value] if v is not None]
            panels.append(figures.lines(series, title=title, xlabel="sampling temperature", ylabel="fraction",
                                        ylim=(0, 1.02), hlines=real))
        return Figure("rates", "Generated Python: syntax vs meaning", panels, caption=(
            "Dashed: the same measure on held-out standard-library code cut the same way. Names: over samples "
            "that parse, the share of names read that the sample never defines (builtins count as defined)."))

    def samples(self, programs: Mapping[str, list[str]], checks: Mapping[str, list[dict]],
                ran: Mapping[str, list[Outcome]]) -> list[dict[str, str]]:
        shown = [s for s in programs if not s.startswith("ngram") or s == f"ngram_T{self.config.temperatures[-1]:g}"]
        out = []  # the LSTM at every temperature, real code, and one temperature of the baseline
        for src in shown:
            for k, (p, c, o) in enumerate(list(zip(programs[src], checks[src], ran[src]))[:self.config.num_shown]):
                result = "runs to the end" if o.status == "ok" else f"{o.status}{': ' + o.error if o.error else ''}"
                state = f"{'parses' if c['parse'] else 'does not parse'}; {result}" if p else "empty after trimming"
                out.append({"title": f"{label(src)}, sample {k + 1}: {state}", "text": p or "(empty after trimming)"})
        return out

    def judge(self, m: MetricValues) -> Verdict:
        temps = self.config.temperatures

        def against_real(name: str, measure: str, k: float, below: bool) -> bool | None:
            """On the asked side of k x real code's `measure` beyond both noise floors: True; beyond them on
            the other side: False; within them (or not measured): None."""
            noises = [x.noise for x in (m.metric(name), m.metric(f"{measure}_real")) if x and x.noise is not None]
            args = (m[name], None if (real := m[f"{measure}_real"]) is None else k * real)
            noise = math.hypot(noises[0], k * noises[1]) if len(noises) == 2 else None
            side, other = (at_most, at_least) if below else (at_least, at_most)
            return True if side(*args, noise=noise) else (False if other(*args, noise=noise) else None)

        best = max(temps, key=lambda t: m[f"context_lstm_T{t:g}"] or -1.0)
        runs = {t: m[f"run_lstm_T{t:g}"] for t in temps}
        parts = {"syntax": against_real(f"context_lstm_T{best:g}", "context", 0.8, below=False),
                 "meaning": every(against_real(f"run_lstm_T{t:g}", "run", 0.5, below=True) for t in temps)}
        pct = lambda name: fmt(m[name], ".0%")  # noqa: E731
        run_text = ", ".join(f"{fmt(r, '.0%')} at T={t:g}" for t, r in runs.items())
        trained = {1.0: " (stopped at the held-out plateau)", 0.0: " (stopped at the step cap)", None: ""}
        text = (f"At temperature {best:g}, {pct(f'context_lstm_T{best:g}')} of the LSTM's lines parse in context "
                f"(real code {pct('context_real')}; n-gram {pct(f'context_ngram_T{best:g}')}), "
                f"{pct(f'tokenize_lstm_T{best:g}')} tokenize alone (real {pct('tokenize_real')}), "
                f"{pct(f'parse_lstm_T{best:g}')} of its samples parse (real {pct('parse_real')}); samples run to the "
                f"end {run_text} vs {pct('run_real')} of real code; held-out loss {fmt(m['heldout_loss'], '.2f')} "
                f"nats/char after {fmt(m['train_steps'], '.0f')} steps{trained.get(m['plateaued'], '')}")
        return Verdict.combine(parts, text, decisive=("meaning",), missing={
            "meaning": "The samples run about as often as real code." if parts["meaning"] is False else
                       "Not shown: meaning (within the noise, or execution was not measured: no sandbox).",
            "syntax": "Not shown: syntax (the LSTM's lines do not parse in context as real code's do)."})
