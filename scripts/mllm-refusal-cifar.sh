#!/usr/bin/env bash
# Refusal protection against a vision-language model that really answers, from scratch:
# trains the small LLaVA-style model of tools/train_vlm.py on CIFAR-10 questions (about 16
# minutes), exports it as a victim, tokenises the seen questions, the paraphrases and the
# other question types, trains and exports the SPAM generator of
# configs/spam_mllm_refusal_cifar.yaml, then runs configs/eval_mllm_refusal_cifar.yaml.
# Steps whose output exists are skipped.
#
#   scripts/mllm-refusal-cifar.sh [BUILD_DIR] [--set ...]      (after make build or make test)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift $(( $# > 0 ? 1 : 0 ))
python="${MASKFORGE_PYTHON:-$HOME/.cache/maskforge/venv/bin/python}"
model=runs/vlm_cifar
[[ -f $model/config.json ]] || "$python" tools/train_vlm.py --out "$model" --test ../shared/assets/cifar10/test
[[ -f $model/vlm.pt ]] || "$python" tools/export_victim.py "llava:$model" --out "$model/vlm.pt"
for questions in seen paraphrases other_types; do
  answers=()
  [[ $questions == other_types ]] || answers=(--answers "$model/questions/answers.txt")
  [[ -f $model/$questions.json ]] || "$python" tools/tokenize_refusal.py --tokenizer "$model" --template "$(cat "$model/questions/template.txt")" \
    --prompts "$model/questions/$questions.txt" --targets "$model/questions/refusals.txt" "${answers[@]}" --out "$model/$questions.json"
done
scripts/train-once.sh "$build" configs/spam_mllm_refusal_cifar.yaml spam_mllm_refusal_cifar generator.ts.pt
"$build/maskforge" eval configs/eval_mllm_refusal_cifar.yaml "$@"
