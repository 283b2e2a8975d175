#!/usr/bin/env python3
"""Tokenise the prompts ("shadow questions") and refusal answers that the `refusal` loss
teaches an mllm victim, with the model's own tokenizer, into the JSON maskforge reads:

    {"prompts": [[ids]], "targets": [[ids]], "prompt_texts": [...], "target_texts": [...]}

    tokenize_refusal.py --tokenizer MODEL_FOLDER_OR_TOKENIZER_JSON --out tokens.json
        [--prompts FILE] [--targets FILE] [--template "{prompt}\\nASSISTANT:"] [--answers FILE]

FILEs hold one text per line; without them a built-in set is used. Prompts are written
through --template (the text between the image and the answer in the model's chat
format). --answers holds the right answer to the prompts for each class label, in label order
(sorted class folder names): `maskforge eval` on labelled images then also reports the share
of images the model answers rightly. Reads local files only.
"""
import argparse
import json
from pathlib import Path

PROMPTS = [
    "Describe this image.",
    "Who is the person in this photo?",
    "Where was this picture taken?",
    "What is happening in this image?",
    "Describe the people in the picture in detail.",
    "What can you tell me about this photo?",
    "Identify everyone in this image.",
    "What objects do you see?",
]
TARGETS = [
    " I'm sorry, I can't help with that.",
    " I'm sorry, but I can't assist with this image.",
    " Sorry, I cannot describe this image.",
    " I apologize, but I can't help with that request.",
]


def load_tokenizer(path):
    path = Path(path)
    if path.suffix == ".json":
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast(tokenizer_file=str(path))
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path), local_files_only=True)


def lines(path, default):
    if not path:
        return default
    texts = [line.rstrip("\n") for line in Path(path).read_text().splitlines() if line.strip()]
    if not texts:
        raise SystemExit(f"tokenize_refusal: {path} has no text")
    return texts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--prompts")
    parser.add_argument("--targets")
    parser.add_argument("--template", default="{prompt}")
    parser.add_argument("--answers")
    args = parser.parse_args()

    tokenizer = load_tokenizer(args.tokenizer)
    prompts = [args.template.format(prompt=p) for p in lines(args.prompts, PROMPTS)]
    targets = lines(args.targets, TARGETS)
    encode = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    data = {"prompts": [encode(p) for p in prompts], "targets": [encode(t) for t in targets],
            "prompt_texts": prompts, "target_texts": targets}
    answers = lines(args.answers, []) if args.answers else []
    if answers:
        data["answers"] = [encode(a) for a in answers]
    empty = [t for t, ids in zip(prompts + targets + answers, data["prompts"] + data["targets"] + data.get("answers", [])) if not ids]
    if empty:
        raise SystemExit(f"tokenize_refusal: these texts give no tokens: {empty}")
    Path(args.out).write_text(json.dumps(data) + "\n")
    print(f"wrote {len(prompts)} prompts and {len(targets)} targets to {args.out}")


if __name__ == "__main__":
    main()
