"""Timing figures for ``pipeline.core.diff.diff_texts`` on synthetic CJK text (run: ``python bench/bench_diff.py``).

Cases: a ~100 KB (UTF-8) Chinese document with ~20 edits, two unrelated ~100 KB texts (hits the
timeout by design), and a ~1 MB document with ~20 edits. Prints milliseconds (best of N runs),
the diff size and whether the diff timed out. Inputs are generated from a fixed seed.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from pipeline.core.diff import diff_texts
from pipeline.core.render_diff import render_inline, render_unified

_HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种"
    "面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本"
    "去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比"
    "或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做"
    "必战先回则任取据处府队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共"
    "权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张"
    "信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验"
    "连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写"
    "存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
)
_EDIT_CHARS = "あいうえおかきくけこさしすせそたちつてと"  # kana: never in the base text, so edits are unambiguous


def cjk_document(n_bytes: int, seed: int) -> str:
    """Synthetic Chinese legal-looking text: clauses separated by ，。； and newlines."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < n_bytes:
        sentence = "".join(rng.choice(_HANZI) for _ in range(rng.randint(8, 40)))
        sentence += rng.choice("，，。。。；") + ("\n" if rng.random() < 0.2 else "")
        parts.append(sentence)
        size += len(sentence.encode("utf-8"))
    return "".join(parts)


def edit(text: str, n_edits: int, seed: int) -> tuple[str, int, int]:
    """Apply ``n_edits`` spaced replacements, insertions and deletions; return (text, +chars, -chars)."""
    rng = random.Random(seed)
    step = len(text) // (n_edits + 1)
    out: list[str] = []
    pos = inserted = deleted = 0
    for i in range(1, n_edits + 1):
        at = i * step
        out.append(text[pos:at])
        word = "".join(rng.choice(_EDIT_CHARS) for _ in range(rng.randint(2, 12)))
        cut = rng.randint(2, 12)
        kind = i % 3  # 0 replace, 1 insert, 2 delete
        if kind in (0, 1):
            out.append(word)
            inserted += len(word)
        if kind in (0, 2):
            deleted += cut
        pos = at + cut if kind in (0, 2) else at
    out.append(text[pos:])
    return "".join(out), inserted, deleted


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=0.5, help="diff_texts timeout in seconds")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    doc = cjk_document(100_000, seed=1)
    big = cjk_document(1_000_000, seed=2)
    unrelated = cjk_document(100_000, seed=4)
    edited, ins, dels = edit(doc, 20, seed=3)
    big_edited, big_ins, big_dels = edit(big, 20, seed=5)
    cases = {
        "100 KB CJK, 20 edits": (doc, edited, f"+{ins}/-{dels}"),
        "two unrelated 100 KB texts": (doc, unrelated, "replace-all"),
        "1 MB CJK, 20 edits": (big, big_edited, f"+{big_ins}/-{big_dels}"),
    }
    print(f"diff_texts timeout={args.timeout}s, best of {args.repeat}")
    print(f"{'case':<28} {'chars':>8} {'ms':>8} {'+chars':>7} {'-chars':>7} {'ops':>5} {'expected':>12}  timed_out")
    for name, (old, new, expected) in cases.items():
        diff = diff_texts(old, new, timeout=args.timeout)
        ms = best_ms(lambda o=old, n=new: diff_texts(o, n, timeout=args.timeout), args.repeat)
        print(
            f"{name:<28} {len(old):>8} {ms:>8.1f} {diff.inserted_chars:>7} {diff.deleted_chars:>7} "
            f"{len(diff.ops):>5} {expected:>12}  {diff.timed_out}"
        )
    diff = diff_texts(doc, edited, timeout=args.timeout)
    print(f"{'render_inline (100 KB case)':<28} {'':>8} {best_ms(lambda: render_inline(diff), args.repeat):>8.1f}")
    print(f"{'render_unified (100 KB case)':<28} {'':>8} {best_ms(lambda: render_unified(diff), args.repeat):>8.1f}")


if __name__ == "__main__":
    main()
