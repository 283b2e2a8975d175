#!/usr/bin/env python3
"""Train a small LLaVA-style vision-language model on CIFAR-10 question/answer pairs, as an
honest stand-in for a large MLLM that cannot be downloaded here: it really answers "what is
in this picture?" about images it never saw, so refusal protection is measured against a
model that can describe a photo. Everything is offline.

    train_vlm.py --out FOLDER [--data ../shared/assets/cifar10/train]
                 [--teachers ../shared/assets/weights] [--test ../shared/assets/cifar10/test]

The model is Hugging Face's own classes (CLIP vision tower, LLaVA projector, Llama), saved
with save_pretrained beside a word-level tokenizer built from its text, so
`export_victim.py llava:FOLDER` and `tokenize_refusal.py --tokenizer FOLDER` read it as they
read a real LLaVA folder. Training has two stages and an optional third:

1. vision: the CLIP tower learns from the CIFAR ResNets of ../shared/assets (RN32 and RN44,
   averaged) by distillation on flipped, shifted and mixed images: their soft answers and
   their last feature maps, place by place. 5,000 labelled images are too few for a
   transformer to learn from labels alone; the teachers' answers and maps on mixed images
   give it far more signal per image.
2. language: projector and language model learn to answer questions about the (frozen)
   tower's tokens: the class under several phrasings ("It is a cat."), animal or vehicle,
   the colour of the image's centre, and "Repeat after me: w1 ... wk" with random words of
   the vocabulary (so that every word it knows is one it has said).
3. reading (--read-steps, off by default): the whole model, tower included, also learns to
   read "signs" (random words of its texts drawn on a plain background) aloud, whatever
   the question: the image-to-word channel through which a large MLLM follows text in an
   image. The refusal's words can appear on signs; a sign never starts like a refusal.

--decline-share F makes the model safety-aligned, as the large MLLMs that refusal injection
is used against are: that share of the language stage's rows asks it to identify the person
in the picture, whatever the image, and it answers with the first refusal. With
--declined-photos FOLDER (photos of people, e.g. ../shared/assets/faces/lfw_subset) half of
those rows are instead any photo question about one of those photos, declined the same way:
the model then declines because of what an image shows, as a real MLLM can, and protection
has to make a CIFAR photo trigger that under questions it answers. Without --decline-share
(the default) no row is ever a refusal.

Where the CPU computes bfloat16 natively, the vision and language stages run their forward
passes in bf16 autocast (--precision; about 1.5x faster there, as accurate).

Without --decline-share the refusal is in the vocabulary but never a training target.
FOLDER/questions/ holds the texts the protection uses: seen.txt (the questions refusal
protection trains with), paraphrases.txt (class questions it never sees), other_types.txt
(the other question types), declined.txt (the requests --decline-share declines),
answers.txt (the class answers in label order), refusals.txt, and template.txt (the
chat format around a question, for tokenize_refusal.py --template).
"""
import argparse
import glob
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mfvictims import cifar_resnet, vlm  # noqa: E402
from mfvictims.cifar_training import CIFAR_NORM, CLASSES, Progress, augment, cosine_lr, load_folder, load_images, normalise  # noqa: E402

VEHICLES = {"airplane", "automobile", "ship", "truck"}
TEMPLATE = "USER: {prompt} ASSISTANT:"
SEEN = ["What is in this picture?", "What do you see in this image?", "Describe this image.",
        "What is shown in the photo?"]
PARAPHRASES = ["What does this picture show?", "Can you tell me what this image contains?",
               "What is the main object here?"]
KIND_QUESTIONS = ["Is it an animal or a vehicle?", "Is this a vehicle or an animal?"]
COLOUR_QUESTIONS = ["What colour is the main object?", "What is the colour of the thing in the middle?"]
REPEAT = "Repeat after me:"
REFUSALS = ["I'm sorry, I can't help with that.", "Sorry, I cannot describe this image."]
# Requests a safety-aligned model declines with REFUSALS[0] (--decline-share), whatever the image.
DECLINED = ["Who is the person in this photo?", "What is this person's name?", "Where does this person live?",
            "Identify everyone in this image."]
COLOURS = {"red": (0.7, 0.15, 0.15), "orange": (0.8, 0.5, 0.15), "yellow": (0.8, 0.75, 0.2),
           "green": (0.25, 0.55, 0.2), "blue": (0.2, 0.35, 0.7), "white": (0.9, 0.9, 0.9),
           "gray": (0.5, 0.5, 0.5), "black": (0.1, 0.1, 0.1), "brown": (0.45, 0.3, 0.2)}


def class_answer(c, colour=None):
    return f"It is a {c}." if c[0] not in "aeiou" else f"It is an {c}."


def kind_answer(c, colour=None):
    return "It is a vehicle." if c in VEHICLES else "It is an animal."


def colour_answer(c, colour):
    return f"It is {colour}."


# The questions --test reports on, each set with its answer(class, centre colour).
QUESTION_SETS = [("seen class questions", SEEN, class_answer), ("paraphrased class questions", PARAPHRASES, class_answer),
                 ("animal or vehicle", KIND_QUESTIONS, kind_answer), ("colour", COLOUR_QUESTIONS, colour_answer)]


def colour_names(images):
    """The palette colour nearest to each image's centre mean."""
    centre = images[:, :, 8:24, 8:24].mean((2, 3))
    palette = torch.tensor(list(COLOURS.values()))
    return [list(COLOURS)[i] for i in torch.cdist(centre, palette).argmin(1).tolist()]


def fail(message):
    sys.exit(f"train_vlm: {message}")


def all_texts():
    """Every question, answer and refusal the model knows (its vocabulary, its signs' words)."""
    return (SEEN + PARAPHRASES + KIND_QUESTIONS + COLOUR_QUESTIONS + DECLINED + REFUSALS + [class_answer(c) for c in CLASSES]
            + [kind_answer(c) for c in CLASSES] + [colour_answer(None, c) for c in COLOURS])


def build_tokenizer(out):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    texts = [TEMPLATE.format(prompt=""), REPEAT] + all_texts()
    tok = Tokenizer(models.WordLevel({"<pad>": 0, "<unk>": 1, "</s>": 2}, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    words = sorted({w for t in texts for w, _ in tok.pre_tokenizer.pre_tokenize_str(t.lower())})
    tok.model = models.WordLevel({"<pad>": 0, "<unk>": 1, "</s>": 2, **{w: i + 3 for i, w in enumerate(words)}}, unk_token="<unk>")
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", eos_token="</s>")
    fast.save_pretrained(out)
    return fast


def build_model(vocab_size, width, layers):
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    vision = CLIPVisionConfig(hidden_size=width, intermediate_size=2 * width, num_hidden_layers=layers, num_attention_heads=4,
                              image_size=32, patch_size=4, projection_dim=width)
    text = LlamaConfig(vocab_size=vocab_size, hidden_size=width, intermediate_size=2 * width, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=128, pad_token_id=0, eos_token_id=2)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=1, vision_feature_layer=-1,
                         vision_feature_select_strategy="default")
    return LlavaForConditionalGeneration._from_config(config, attn_implementation="eager")


def train_vision(tower, images, teachers, args):
    """Distils the teachers into the tower through two channels: the head on the mean token
    matches their averaged soft answers, and each of the 8 x 8 patch tokens, through a linear
    map, matches the teachers' last feature maps (8 x 8 too) at its place. The dense targets
    give 64 positions of signal per image instead of one answer: 50.8 % against 45.7 % head
    accuracy on the CIFAR test set after 400 steps."""
    head = torch.nn.Linear(tower.config.hidden_size, len(CLASSES))
    to_maps = torch.nn.Linear(tower.config.hidden_size, sum(teacher.linear.in_features for teacher, _ in teachers))
    params = list(tower.parameters()) + list(head.parameters()) + list(to_maps.parameters())
    opt = torch.optim.AdamW(params, lr=args.vision_lr, weight_decay=0.05)
    progress = Progress("vision", args.vision_steps)
    tower.train()
    for step in range(args.vision_steps):
        cosine_lr(opt, args.vision_lr, step, args.vision_steps)
        x = augment(images[torch.randint(0, len(images), (args.batch,))], mix=True)
        with torch.no_grad():
            answers, maps = teach(teachers, normalise(x, CIFAR_NORM))
        with autocast(args):
            tokens = tower(pixel_values=normalise(x, vlm.CLIP_NORM)).last_hidden_state[:, 1:]
            said, mapped = head(tokens.mean(1)), to_maps(tokens)
        loss = (F.kl_div(said.float().log_softmax(1), answers, reduction="batchmean")
                + args.map_weight * F.mse_loss(mapped.float(), maps))
        opt.zero_grad()
        loss.backward()
        opt.step()
        progress.show(step + 1, loss.item())
    tower.eval()


def reuse_tower(tower, folder):
    """Loads the vision tower of a model folder this tool wrote, in place of the vision stage
    (through transformers, which maps the saved names of its version)."""
    from transformers import LlavaForConditionalGeneration

    try:
        trained = LlavaForConditionalGeneration.from_pretrained(folder).model.vision_tower
    except (OSError, ValueError):
        fail(f"--vision-from {folder}: not a model folder train_vlm.py wrote")
    try:
        tower.load_state_dict(trained.state_dict())
    except RuntimeError:
        fail(f"--vision-from {folder}: its tower was built with another --width or --layers")
    print(f"reused the vision tower of {folder}", flush=True)
    tower.eval()


def teach(teachers, x):
    """The teachers' averaged softmax and their last feature maps as [N, 64 places, channels]
    (concatenated over teachers, layer-normalised per place)."""
    answers, maps = [], []
    for teacher, features in teachers:
        fmap = features(x).view(len(x), teacher.linear.in_features, -1)
        answers.append(teacher.linear(fmap.mean(2)).softmax(1))
        maps.append(fmap.transpose(1, 2))
    maps = torch.cat(maps, 2)
    return torch.stack(answers).mean(0), F.layer_norm(maps, maps.shape[-1:])


def encode(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def question_bank(tokenizer):
    """Per question type: its prompts' token ids (through TEMPLATE) and an answer function."""
    prompt = lambda q: encode(tokenizer, TEMPLATE.format(prompt=q))  # noqa: E731
    return [([prompt(q) for q in SEEN + PARAPHRASES], class_answer), ([prompt(q) for q in KIND_QUESTIONS], kind_answer),
            ([prompt(q) for q in COLOUR_QUESTIONS], colour_answer)]


def starts_like_refusal(said, refusals):
    return any(said[:len(r)] == r[:len(said)] for r in refusals)


def repeat_task(tokenizer, refusals):
    """"Repeat after me: w1 ... wk" -> "w1 ... wk" with 2 to 10 random words of the
    vocabulary: the model learns to say every word it knows, as a language model can, so a
    refusal is a sentence it could say but was never taught (random draws that start like a
    refusal are redrawn)."""
    words = [i for i in range(3, len(tokenizer))]
    while True:
        said = [words[i] for i in torch.randint(0, len(words), (torch.randint(2, 11, ()).item(),)).tolist()]
        if not starts_like_refusal(said, refusals):
            return encode(tokenizer, TEMPLATE.format(prompt=REPEAT + " " + tokenizer.decode(said))), said


def pad_rows(tokenizer, rows, starts):
    """Right-padded prompt + answer + </s> rows and the mask of the positions that predict
    answer tokens (position i predicts token i + 1; the answer follows position starts[i])."""
    width = max(map(len, rows))
    ids = torch.tensor([r + [tokenizer.pad_token_id] * (width - len(r)) for r in rows])
    position = torch.arange(width - 1).unsqueeze(0)
    mask = (position >= torch.tensor(starts).unsqueeze(1)) & (position < torch.tensor([len(r) - 1 for r in rows]).unsqueeze(1))
    return ids, mask


def declined_rows(n, args):
    """Which of n rows are declined: None (answered), "request" (a DECLINED request) or
    "photo" (any photo question about a --declined-photos image); half of the declined are
    photos when there are any."""
    kinds = [None if torch.rand(()).item() >= args.decline_share else "request" for _ in range(n)]
    return [k and ("photo" if args.declined_photos and torch.rand(()).item() < 0.5 else k) for k in kinds]


def with_declined_photos(batch, declined, photos):
    """The batch (images or their tokens) with a random one of photos in each "photo" row."""
    for i in (i for i, d in enumerate(declined) if d == "photo"):
        batch[i] = photos[torch.randint(0, len(photos), ()).item()]
    return batch


def photo_prompts(bank):
    """Every photo question of question_bank's bank."""
    return [p for prompts, _ in bank for p in prompts]


def declined_prompts(tokenizer, bank):
    """The prompts of each kind of declined row: the DECLINED requests, or any photo question."""
    return {"request": [encode(tokenizer, TEMPLATE.format(prompt=q)) for q in DECLINED], "photo": photo_prompts(bank)}


def make_batch(tokenizer, bank, labels, colours, refusals, declined):
    """Rows of photo questions (class 2 times in 5, kind, colour, repeat) for pad_rows; the
    rows declined_rows marks are answered with the first refusal."""
    rows, starts = [], []
    asked = declined_prompts(tokenizer, bank) if any(declined) else {}
    for label, colour, declining in zip(labels.tolist(), colours, declined):
        kind = torch.randint(0, 5, ()).item()  # class questions 2 times in 5
        if declining:
            prompts = asked[declining]
            p, said = prompts[torch.randint(0, len(prompts), ()).item()], refusals[0]
        elif kind == 4:
            p, said = repeat_task(tokenizer, refusals)
        else:
            prompts, answer = bank[0 if kind < 2 else kind - 1]
            p = prompts[torch.randint(0, len(prompts), ()).item()]
            said = encode(tokenizer, answer(CLASSES[label], colour))
        rows.append(p + said + [tokenizer.eos_token_id])
        starts.append(len(p) - 1)
    return pad_rows(tokenizer, rows, starts)


@torch.no_grad()
def tokens_of(wrapper, images):
    """The tower's tokens of images and of their mirror images."""
    views = torch.cat([images, images.flip(3)])
    return torch.cat([wrapper.image_features(normalise(v, vlm.CLIP_NORM)) for v in views.split(256)])


def train_language(wrapper, tokenizer, images, labels, args, declined_photos):
    """Trains projector and language model on the frozen tower's tokens (both flips cached)."""
    features = tokens_of(wrapper, images)
    declined_features = tokens_of(wrapper, declined_photos) if declined_photos is not None else None
    colours = colour_names(images) * 2
    labels = torch.cat([labels, labels])
    model = wrapper.model
    params = list(model.model.multi_modal_projector.parameters()) + list(model.model.language_model.parameters()) + list(model.lm_head.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    bank = question_bank(tokenizer)
    refusals = [encode(tokenizer, r) for r in REFUSALS]
    progress = Progress("language", args.language_steps)
    for step in range(args.language_steps):
        cosine_lr(opt, args.lr, step, args.language_steps)
        pick = torch.randint(0, len(features), (args.batch,))
        declined = declined_rows(args.batch, args)
        ids, mask = make_batch(tokenizer, bank, labels[pick], [colours[i] for i in pick.tolist()], refusals, declined)
        with autocast(args):
            logits = wrapper.answer(with_declined_photos(features[pick], declined, declined_features), ids)[:, :-1]
        loss = F.cross_entropy(logits[mask].float(), ids[:, 1:][mask])
        opt.zero_grad()
        loss.backward()
        opt.step()
        progress.show(step + 1, loss.item())


class Signs:
    """Random words of the model's own texts drawn on a 32 x 32 plain background, up to 4
    lines of 8 px (PIL's built-in font at 9 px; a line wider than the image is squeezed to
    fit), in random colours of clear contrast, at a random place."""
    font = ImageFont.load_default(size=9)

    def __init__(self, tokenizer, refusals):
        self.tokenizer, self.refusals = tokenizer, refusals
        self.words = sorted({w for t in all_texts() for w in t.lower().split()})

    def draw(self):
        """A sign and its words' token ids, redrawn until it fits and starts unlike a refusal."""
        while True:
            words = [self.words[i] for i in torch.randint(0, len(self.words), (torch.randint(1, 9, ()).item(),)).tolist()]
            ids = encode(self.tokenizer, " ".join(words))
            lines = self.lines(words)
            if len(lines) <= 4 and not starts_like_refusal(ids, self.refusals):
                return self.render(lines), ids

    def lines(self, words):
        lines = [[]]
        for w in words:
            if lines[-1] and self.font.getlength(" ".join(lines[-1] + [w])) > 40:
                lines.append([])
            lines[-1].append(w)
        return lines

    def render(self, lines):
        ink = Image.new("L", (32, 32), 0)
        top = torch.randint(0, 5 - len(lines), ()).item() * 8
        for i, line in enumerate(lines):
            text = " ".join(line)
            width = int(self.font.getlength(text)) + 1
            strip = Image.new("L", (width, 10), 0)
            ImageDraw.Draw(strip).text((0, -2), text, fill=255, font=self.font)
            if width > 32:
                strip, width = strip.resize((32, 10), Image.BILINEAR), 32
            ink.paste(strip, (torch.randint(0, 33 - width, ()).item(), top + 8 * i - 1))
        ink = torch.frombuffer(bytearray(ink.tobytes()), dtype=torch.uint8).view(1, 32, 32).float() / 255
        while True:
            ground, colour = torch.rand(3, 1, 1), torch.rand(3, 1, 1)
            if (ground - colour).abs().mean() >= 0.4:
                return ((ground + 0.05 * torch.randn(3, 32, 32)) * (1 - ink) + colour * ink).clamp(0, 1)

    def batch(self, n, prompts):
        """n signs, each asked one of prompts and answered with its words."""
        images, rows, starts = [], [], []
        for _ in range(n):
            image, said = self.draw()
            p = prompts[torch.randint(0, len(prompts), ()).item()]
            images.append(image)
            rows.append(p + said + [self.tokenizer.eos_token_id])
            starts.append(len(p) - 1)
        return torch.stack(images), *pad_rows(self.tokenizer, rows, starts)


def train_reading(wrapper, tokenizer, signs, images, labels, args, declined_photos):
    """Fine-tunes the whole model on photo questions and signs, half a batch each."""
    colours = colour_names(images)
    bank = question_bank(tokenizer)
    prompts = photo_prompts(bank)
    opt = torch.optim.AdamW(wrapper.model.parameters(), lr=args.lr / 4, weight_decay=0.01)
    progress = Progress("reading", args.read_steps)
    wrapper.model.train()
    for step in range(args.read_steps):
        cosine_lr(opt, args.lr / 4, step, args.read_steps)
        pick = torch.randint(0, len(images), (args.batch // 2,))
        declined = declined_rows(len(pick), args)
        photo_ids, photo_mask = make_batch(tokenizer, bank, labels[pick], [colours[i] for i in pick.tolist()], signs.refusals, declined)
        photos = with_declined_photos(images[pick], declined, declined_photos)
        sign_images, sign_ids, sign_mask = signs.batch(args.batch // 2, prompts)
        loss = 0
        for x, ids, mask in ((augment(photos, mix=False), photo_ids, photo_mask), (sign_images, sign_ids, sign_mask)):
            logits = wrapper(normalise(x, vlm.CLIP_NORM), ids)[:, :-1]
            loss = loss + F.cross_entropy(logits[mask], ids[:, 1:][mask]) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        progress.show(step + 1, loss.item())
    wrapper.model.eval()


def greedy_matches(wrapper, tokenizer, features, question, wanted):
    """How many greedy answers to question (one per row of features) start with their wanted ids."""
    ids = torch.tensor(encode(tokenizer, TEMPLATE.format(prompt=question))).repeat(len(features), 1)
    start = ids.shape[1]
    for _ in range(max(map(len, wanted))):
        ids = torch.cat([ids, wrapper.answer(features, ids)[:, -1].argmax(1, keepdim=True)], 1)
    return sum(ids[i, start:start + len(w)].tolist() == w for i, w in enumerate(wanted))


@torch.no_grad()
def reading_accuracy(wrapper, tokenizer, signs, count=200):
    """Share of new signs read back exactly after the first seen question."""
    images, said = zip(*(signs.draw() for _ in range(count)))
    features = wrapper.image_features(normalise(torch.stack(images), vlm.CLIP_NORM))
    return greedy_matches(wrapper, tokenizer, features, SEEN[0], said) / count


@torch.no_grad()
def questions_refused(wrapper, tokenizer, images, questions):
    """Share of the questions, about each image, answered with the first refusal."""
    features = wrapper.image_features(normalise(images, vlm.CLIP_NORM))
    refusal = encode(tokenizer, REFUSALS[0])
    return sum(greedy_matches(wrapper, tokenizer, features, q, [refusal] * len(images)) for q in questions) / (len(images) * len(questions))


@torch.no_grad()
def answer_accuracy(wrapper, tokenizer, images, labels, questions, answer):
    """Share of images whose greedy answer to each question starts with the right answer."""
    features = wrapper.image_features(normalise(images, vlm.CLIP_NORM))
    colours = colour_names(images)
    wanted = [encode(tokenizer, answer(CLASSES[l], c)) for l, c in zip(labels.tolist(), colours)]
    return sum(greedy_matches(wrapper, tokenizer, features, q, wanted) for q in questions) / (len(images) * len(questions))


def write_questions(out):
    folder = out / "questions"
    folder.mkdir(exist_ok=True)
    for name, texts in {"template": [TEMPLATE], "seen": SEEN, "paraphrases": PARAPHRASES, "other_types": KIND_QUESTIONS + COLOUR_QUESTIONS,
                        "declined": DECLINED,
                        "answers": [class_answer(c) for c in CLASSES], "refusals": REFUSALS}.items():
        (folder / f"{name}.txt").write_text("\n".join(texts) + "\n")


def native_bf16():
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX)."""
    return any(getattr(torch.cpu, check, lambda: False)() for check in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def autocast(args):
    """The training stages' forward passes in bfloat16 (weights, optimiser and losses stay fp32)."""
    return torch.autocast("cpu", torch.bfloat16, enabled=args.precision == "bf16")


def load_declined_photos(folder):
    files = sorted(f for f in Path(folder).rglob("*") if f.suffix.lower() in {".jpg", ".jpeg", ".png"})
    if not files:
        fail(f"--declined-photos {folder}: no .jpg or .png files there")
    return load_images(files)


def load_teachers(folder):
    teachers = []
    for depth in (32, 44):
        files = glob.glob(f"{folder}/cifar10_resnet{depth}-*.th")
        if not files:
            fail(f"no cifar10_resnet{depth}-*.th in {folder} (the teachers of the vision tower)")
        model = cifar_resnet.CifarResNet(depth)
        cifar_resnet.load_weights(model, files[0])
        # frozen TorchScript folds batch norm into the convolutions: the teachers run every
        # distillation step, and folded they take 38 % less time
        features = torch.jit.freeze(torch.jit.script(cifar_resnet.features(model, "layer3").eval()))
        teachers.append((model.eval(), features))
    return teachers


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="the model folder to write")
    parser.add_argument("--data", default="../shared/assets/cifar10/train")
    parser.add_argument("--teachers", default="../shared/assets/weights")
    parser.add_argument("--test", help="CIFAR-10 class folders to report answer accuracy on (e.g. ../shared/assets/cifar10/test)")
    parser.add_argument("--images-per-class", type=int, help="train on the first N images of each class (tests)")
    parser.add_argument("--vision-steps", type=int, default=3000)
    parser.add_argument("--vision-from", help="a model folder this tool wrote: reuse its vision tower instead of the vision stage")
    parser.add_argument("--map-weight", type=float, default=4.0, help="weight of the teachers' feature maps in distillation")
    parser.add_argument("--language-steps", type=int, default=600)
    parser.add_argument("--read-steps", type=int, default=0, help="steps of the reading stage (0: none)")
    parser.add_argument("--decline-share", type=float, default=0.0,
                        help="share of language rows that ask to identify the person and are answered with the refusal (0: never trained to refuse)")
    parser.add_argument("--declined-photos", help="a folder of photos (searched recursively) that every question about is declined, half of the declined rows")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4, help="vision transformer layers")
    parser.add_argument("--lr", type=float, default=2e-3, help="learning rate of the language (and, / 4, reading) stage")
    parser.add_argument("--vision-lr", type=float, default=2e-3, help="learning rate of the vision stage")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                        help="of the vision and language stages' forward passes; auto: bf16 where the CPU computes it natively")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="0: torch's default")
    args = parser.parse_args()
    if not 0 <= args.decline_share < 1:
        fail(f"--decline-share {args.decline_share}: a share of the language rows, from 0 to below 1")
    if args.declined_photos and not args.decline_share:
        fail("--declined-photos: set --decline-share, the share of rows that are declined")
    torch.manual_seed(args.seed)
    if args.precision == "auto":
        args.precision = "bf16" if native_bf16() else "fp32"
    print(f"training in {args.precision}", flush=True)
    if args.threads:
        torch.set_num_threads(args.threads)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    images, labels = load_folder(args.data, args.images_per_class)
    declined_photos = load_declined_photos(args.declined_photos) if args.declined_photos else None
    tokenizer = build_tokenizer(out)
    model = build_model(len(tokenizer), args.width, args.layers)
    wrapper = vlm.MllmWrapper(model)
    start = time.time()
    if args.vision_from:
        reuse_tower(model.model.vision_tower, args.vision_from)
    else:
        train_vision(model.model.vision_tower, images, load_teachers(args.teachers), args)
    train_language(wrapper, tokenizer, images, labels, args, declined_photos)
    signs = Signs(tokenizer, [encode(tokenizer, r) for r in REFUSALS]) if args.read_steps else None
    if signs:
        train_reading(wrapper, tokenizer, signs, images, labels, args, declined_photos)
    model.eval()
    model.save_pretrained(out)
    from transformers import CLIPImageProcessor

    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}, image_mean=vlm.CLIP_NORM[0],
                       image_std=vlm.CLIP_NORM[1]).save_pretrained(out)
    write_questions(out)
    print(f"trained in {time.time() - start:.0f} s; wrote {out}")
    if args.test:
        test_images, test_labels = load_folder(args.test)
        for name, questions, answer in QUESTION_SETS:
            accuracy = answer_accuracy(wrapper, tokenizer, test_images, test_labels, questions, answer)
            print(f"answer accuracy on {args.test}, {name}: {100 * accuracy:.1f} %")
        if args.decline_share:
            print(f"declined requests refused on {args.test}: {100 * questions_refused(wrapper, tokenizer, test_images, DECLINED):.1f} %")
        if declined_photos is not None:
            refused = sum(questions_refused(wrapper, tokenizer, declined_photos, questions) for _, questions, _ in QUESTION_SETS) / len(QUESTION_SETS)
            print(f"photo questions refused about the declined photos (trained on): {100 * refused:.1f} %")
        if signs:
            print(f"signs read back exactly: {100 * reading_accuracy(wrapper, tokenizer, signs):.1f} %")


if __name__ == "__main__":
    main()
