"""L2 with real tokens: GCG prompt search for 10 sentences on a trained checkpoint, each checked by greedy generation.

Every sentence's words occur in the training text, except the exercise sentence ("squirrel" and "walnut" do not);
the column "in text" counts how often the whole sentence does (case and punctuation ignored).
The search forbids the target's own words in the prompt; success means `gencli lm generate --greedy --prompt
PROMPT` continues with the sentence. Budget per sentence: --steps search steps (default 500).
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_prompts.py [--ckpt checkpoints/lm] [--steps 500]
     [--restart-after N] [--prompt-len 20] [--topk 64] [--candidates 128] [--only 0,2,4]
"""

import argparse
import time
from pathlib import Path

import torch
from cpu_info import cpu_line  # bench/ is on sys.path when a script there runs

from gencli.lm.analyses import (
    EXERCISE_SENTENCE,
    copies_two_words,
    generate_text,
    real_token_prompt,
    training_text_if_readable,
)
from gencli.lm.model.store import load_trained

SENTENCES = [
    EXERCISE_SENTENCE,
    "said the Hatter",
    "the Queen was very angry",
    "Alice went on",
    "said the King",
    "the Mock Turtle sighed",
    "she said to herself",
    "Off with her head",
    "the White Rabbit",
    "said Alice",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="checkpoints/lm")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument(
        "--restart-after", type=int, default=200, help="steps without progress before a random restart (0: never)"
    )
    ap.add_argument("--prompt-len", type=int, default=20, help="prompt length in tokens")
    ap.add_argument("--topk", type=int, default=64, help="swaps considered per position")
    ap.add_argument("--candidates", type=int, default=128, help="candidates scored per step")
    ap.add_argument("--only", default="", help="comma-separated indices of SENTENCES to run (default: all)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    lm = load_trained(Path(args.ckpt))
    print(
        f"CPU: {cpu_line()}; torch {torch.__version__}; {time.strftime('%Y-%m-%d')}; checkpoint {args.ckpt}; "
        f"prompt {args.prompt_len} tokens, top-{args.topk}, {args.candidates} candidates, at most {args.steps} steps, "
        f"restart after {args.restart_after or 'never'}"
    )
    print(f"{'target':<42} {'in text':>7} {'ok':>3} {'check':>5} {'steps':>5} {'s':>6}  prompt -> greedy continuation")
    training_text = training_text_if_readable(lm)
    wins = 0
    chosen = [SENTENCES[int(i)] for i in args.only.split(",")] if args.only else SENTENCES
    for sentence in chosen:
        r = real_token_prompt(
            lm,
            sentence,
            steps=args.steps,
            prompt_len=args.prompt_len,
            topk=args.topk,
            candidates=args.candidates,
            forbid_target_words=True,
            restart_after=args.restart_after,
            training_text=training_text,
        )
        written = generate_text(lm, r.prompt, len(r.target_ids), greedy=True).samples[0][len(r.prompt) :]
        check = written == sentence and not copies_two_words(r.prompt, sentence)
        wins += r.success
        seen = r.evidence["occurrences"] if r.evidence else "?"
        print(
            f"{sentence:<42} {seen:>7} {'yes' if r.success else 'no':>3} {'yes' if check else 'no':>5} {r.steps:>5} "
            f"{r.seconds:>6.0f}  {r.prompt!r} -> {written!r}",
            flush=True,
        )
    print(f"success: {wins} of {len(chosen)}")


if __name__ == "__main__":
    main()
