"""``python -m service.ocr.train``: train the small CTC recognizer on CPU in resumable chunks.

    pip install -r requirements-train.txt            # PyTorch CPU; never needed by make test/run
    python -m service.ocr.train --out runs/tiny --minutes 30        # one chunk (resumes)
    python -m service.ocr.train --out runs/tiny --eval 300 --export models/tiny-ctc.onnx

Deterministic for a seed: the sample stream is seeded by (seed, step), so a resumed run sees the
same lines as an uninterrupted one. One thread (``torch.set_num_threads(1)``): the appliance class
has 2 cores shared with the service. A checkpoint is written every 200 steps and at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import random
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import torch

from service.ocr.lexicon import TONES
from service.ocr.manifest import sha256_of
from service.ocr.metrics import levenshtein, normalize
from service.ocr.recognizer import ctc_dropped, ctc_greedy
from service.ocr.train.lines import corpus_text, font_files, make_sample, to_input, vocabulary
from service.ocr.train.model import FastCtc

SQUEEZE = (0.6, 0.9)  # horizontal scale range in training; the engine runs the model at 0.75


def _real_sample(rng: random.Random, crops: list[tuple[np.ndarray, str, str]]) -> tuple[np.ndarray, str]:
    """A harvested crop (32 px high, natural width), squeezed and lightly jittered in contrast."""
    gray, text, _ = crops[rng.randrange(len(crops))]
    x = to_input(gray, rng.uniform(*SQUEEZE), 1 << 16)
    x = np.clip(x * rng.uniform(0.9, 1.05) + rng.uniform(-0.04, 0.06), 0.0, 1.0).astype(np.float32)
    return x, text


#: input-width buckets (px at 32 px high); one per step in turn, so a batch pads little. The batch
#: size scales inversely with the bucket's width (the same columns per step).
BUCKETS = ((16, 256), (256, 512), (512, 768), (768, 1025))


def _batch(step: int, args: argparse.Namespace, sentences: list[str], fonts: list[Path], index: dict[str, int],
           crops: list[tuple[np.ndarray, str, str]]) -> tuple[torch.Tensor, ...]:
    """One batch of one width bucket: synthetic lines and (share ``--real``) harvested crops."""
    rng = random.Random(args.seed * 1_000_003 + step)
    lo, hi = BUCKETS[step % len(BUCKETS)]
    hi = min(hi, args.max_width + 1)
    size = max(4, round(args.batch * 512 / hi))
    xs: list[np.ndarray] = []
    ys: list[list[int]] = []
    misses = 0
    while len(xs) < size:
        if crops and (rng.random() < args.real or misses > 20):
            x, text = _real_sample(rng, crops)
        else:
            x, text = make_sample(rng, sentences, fonts, SQUEEZE)
        label = [index[c] for c in text if c in index]
        if not lo <= x.shape[1] < hi or not label or 2 * len(label) + 2 > x.shape[1] // 4:
            misses += 1  # wrong bucket, or too little room for CTC's blanks between letters
            if misses > 2000:
                lo, hi = 16, args.max_width + 1  # (no crops that wide): any width
            continue
        misses = 0
        xs.append(x)
        ys.append(label)
    width = (max(x.shape[1] for x in xs) + 3) // 4 * 4
    batch = np.ones((len(xs), 1, 32, width), np.float32)
    for i, x in enumerate(xs):
        batch[i, 0, :, :x.shape[1]] = x
    targets = torch.tensor([c for y in ys for c in y], dtype=torch.long)
    return (torch.from_numpy(batch), targets, torch.tensor([x.shape[1] // 4 for x in xs], dtype=torch.long),
            torch.tensor([len(y) for y in ys], dtype=torch.long))


def load_crops(paths: list[str]) -> list[tuple[np.ndarray, str, str]]:
    """Harvested crops (python -m service.ocr.train.harvest) from every pickle named."""
    crops: list[tuple[np.ndarray, str, str]] = []
    for p in paths:
        with open(p, "rb") as fh:
            crops.extend(pickle.load(fh))  # noqa: S301 - our own harvest files
    return crops


def _lr(step: int, args: argparse.Namespace) -> float:
    """Linear warm-up over 300 steps, then cosine decay to 5 % at ``--steps``."""
    if step < 300:
        return args.lr * (step + 1) / 300
    t = min(1.0, (step - 300) / max(1, args.steps - 300))
    return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def train(args: argparse.Namespace) -> None:
    """Run (or resume) training until ``--minutes`` or ``--steps`` is reached; checkpoint as it goes."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sentences, fonts = corpus_text(), font_files(args.extra_fonts)
    crops = load_crops(args.crops)
    chars = vocabulary(sentences + [t for _, t, _ in crops])
    model = FastCtc(len(chars))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    step = 0
    ckpt = out / "checkpoint.pt"
    if args.init and not ckpt.is_file():  # warm start from an exported model (same vocabulary)
        from service.ocr.train.warm import from_onnx

        chars = json.loads(Path(args.init).with_suffix(".vocab.json").read_text(encoding="utf-8"))["chars"]
        index = {c: i for i, c in enumerate(chars)}
        model, chars = from_onnx(Path(args.init), _batch(0, args, sentences, fonts, index, crops)[0])
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        chars = state["chars"]
        model = FastCtc(len(chars))
        model.load_state_dict(state["model"])
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
        opt.load_state_dict(state["opt"])
        step = state["step"]
    index = {c: i for i, c in enumerate(chars)}
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    started, losses = time.monotonic(), []
    model.train()

    def save() -> None:
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "chars": chars},
                   out / "checkpoint.tmp")
        (out / "checkpoint.tmp").replace(ckpt)

    while step < args.steps and time.monotonic() - started < 60 * args.minutes:
        x, targets, in_len, tgt_len = _batch(step, args, sentences, fonts, index, crops)
        for group in opt.param_groups:
            group["lr"] = _lr(step, args)
        loss = ctc(model(x), targets, in_len, tgt_len)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(loss.item())
        step += 1
        if step % 50 == 0:
            print(json.dumps({"step": step, "loss": round(float(np.mean(losses[-50:])), 4),
                              "lr": round(_lr(step, args), 6), "elapsed_s": round(time.monotonic() - started)}),
                  flush=True)
        if step % 200 == 0:
            save()
    save()
    (out / "vocab.json").write_text(json.dumps({"chars": chars}, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({"done_step": step}), flush=True)


def _tone(ch: str) -> str:
    marks = [m for m in unicodedata.normalize("NFD", ch) if m in TONES]
    return TONES[marks[0]] if marks else "ngang"


def evaluate(args: argparse.Namespace) -> None:
    """CER of the checkpoint and of AsterNet int8 on held-out harvested crops (never trained on), per
    condition; the cascade's fallback share and CER per threshold; per-tone confusions."""
    from service.ocr.config import OcrConfig
    from service.ocr.manifest import resolve
    from service.ocr.recognizer import Recognizer

    torch.set_num_threads(1)
    state = torch.load(Path(args.out) / "checkpoint.pt", weights_only=False)
    chars = state["chars"]
    model = FastCtc(len(chars))
    model.load_state_dict(state["model"])
    model.eval()
    # unsqueezed, as the cascade re-reads on a CPU without int8 dot products (ocr.fallback_squeeze: auto)
    aster = Recognizer(resolve("rec-asternet-int8", OcrConfig().manifest), threads=1, squeeze=1.0, short_squeeze=1.0)
    crops = load_crops(args.eval_crops)[: args.eval]
    # condition, chars, fast errs, aster errs, weakest, cols, dropped
    rows: list[tuple[str, int, int, int, float, int, float]] = []
    tones: dict[tuple[str, str], int] = {}
    t_fast = t_aster = 0.0
    for gray, text, condition in crops:
        x = to_input(gray, 0.75, 1 << 16)
        t0 = time.process_time()
        with torch.no_grad():
            lp = model(torch.from_numpy(x)[None, None])[:, 0].numpy()
        raw, confs = ctc_greedy(lp, chars)
        got = normalize(raw)
        t1 = time.process_time()
        ref = aster.read(gray).text
        t_fast, t_aster = t_fast + t1 - t0, t_aster + time.process_time() - t1
        rows.append((condition, len(text), levenshtein(text, got), levenshtein(text, ref),
                     min(confs) if confs else 0.0, x.shape[1], ctc_dropped(lp)))
        if len(got) == len(text):
            for a, b in zip(text, got, strict=True):
                if unicodedata.normalize("NFD", a)[:1].lower() == unicodedata.normalize("NFD", b)[:1].lower():
                    key = (_tone(a), _tone(b))
                    tones[key] = tones.get(key, 0) + 1
    print(f"held-out crops: {len(rows)} ({', '.join(args.eval_crops)}); step {state['step']}")
    print("| condition | lines | fast CER % | AsterNet int8 (unsqueezed) CER % |\n|---|---|---|---|")
    for cond in sorted({r[0] for r in rows}):
        sub = [r for r in rows if r[0] == cond]
        n = max(1, sum(r[1] for r in sub))
        fast_cer, ref_cer = 100 * sum(r[2] for r in sub) / n, 100 * sum(r[3] for r in sub) / n
        print(f"| {cond} | {len(sub)} | {fast_cer:.2f} | {ref_cer:.2f} |")
    n = max(1, sum(r[1] for r in rows))
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"\nfast {params:.2f} M params: {1000 * t_fast / max(1, len(rows)):.1f} CPU ms/line (torch); "
          f"AsterNet int8 {1000 * t_aster / max(1, len(rows)):.1f} ms/line")
    print("\n| fallback below (weakest char) | or dropped above | lines re-read % | columns re-read % | "
          "cascade CER % |\n|---|---|---|---|---|")
    cols = max(1, sum(r[5] for r in rows))
    for th, dr in [(t, 1.0) for t in (0.3, 0.5, 0.6, 0.7, 0.8, 0.9)] + [(0.5, d) for d in (0.3, 0.2, 0.1)]:
        back = [r for r in rows if r[4] < th or r[6] > dr]
        errs = sum(r[3] if r[4] < th or r[6] > dr else r[2] for r in rows)
        print(f"| {th} | {dr if dr < 1 else 'off'} | {100 * len(back) / max(1, len(rows)):.1f} | "
              f"{100 * sum(r[5] for r in back) / cols:.1f} | {100 * errs / n:.2f} |")
    names = ["ngang", *TONES.values()]
    print("\nfast tone confusions (rows: truth, columns: read; same-length readings only)")
    print("| truth \\ read | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for a in names:
        print(f"| {a} | " + " | ".join(str(tones.get((a, b), 0)) for b in names) + " |")


class _ThreeChannel(torch.nn.Module):
    """The engine's recognizer interface: ``(N, 3, 32, W)`` in (grey in every channel), as AsterNet."""

    def __init__(self, inner: FastCtc) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(T, N, classes)`` of the first channel (all three hold the same grey)."""
        return self.inner(x[:, :1])


def export(args: argparse.Namespace) -> None:
    """Write the checkpoint as ONNX (dynamic batch and width) with its vocabulary next to it."""
    state = torch.load(Path(args.out) / "checkpoint.pt", weights_only=False)
    inner = FastCtc(len(state["chars"]))
    inner.load_state_dict(state["model"])
    model = _ThreeChannel(inner).eval()
    target = Path(args.export)
    torch.onnx.export(model, (torch.ones(1, 3, 32, 256),), str(target), input_names=["images"],
                      output_names=["log_probs"], opset_version=17, dynamo=False,
                      dynamic_axes={"images": {0: "batch", 3: "width"}, "log_probs": {0: "steps", 1: "batch"}})
    target.with_suffix(".vocab.json").write_text(json.dumps({"chars": state["chars"]}, ensure_ascii=False),
                                                 encoding="utf-8")
    vocab = target.with_suffix(".vocab.json")
    print(f"exported {target} (step {state['step']}): sha256 {sha256_of(target)}; "
          f"{vocab.name}: sha256 {sha256_of(vocab)}, {len(state['chars'])} symbols")


def main(argv: list[str]) -> int:
    """Parse arguments; train, then evaluate and/or export when asked."""
    ap = argparse.ArgumentParser(prog="python -m service.ocr.train")
    ap.add_argument("--out", default="runs/tiny-ctc", help="run folder (checkpoint, vocabulary)")
    ap.add_argument("--minutes", type=float, default=0.0, help="training time for this chunk (0: no training)")
    ap.add_argument("--steps", type=int, default=20_000, help="total steps of the schedule")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-width", type=int, default=512, help="widest training input (px at 32 px high)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the appliance class has 2 cores)")
    ap.add_argument("--crops", action="append", default=[], help="harvested crops (pickle), repeatable")
    ap.add_argument("--extra-fonts", action="store_true", help="also render lines in lines.EXTRA_FONTS")
    ap.add_argument("--init", default="", help="exported FastCtc ONNX to start from (first chunk only)")
    ap.add_argument("--real", type=float, default=0.5, help="share of harvested crops in a batch")
    ap.add_argument("--eval", type=int, default=0, help="held-out crops to score (0: none)")
    ap.add_argument("--eval-crops", action="append", default=[], help="held-out harvested crops (pickle)")
    ap.add_argument("--export", default="", help="ONNX file to write")
    args = ap.parse_args(argv)
    if args.minutes > 0:
        train(args)
    if args.eval:
        evaluate(args)
    if args.export:
        export(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
