"""The tokenizer side of Flamingo's special tokens: `<image>` and `<EOC>` get the two ids right after
the language model's vocabulary (where `trainer.model.language.AddedTokens` keeps their embeddings),
and everything between them goes through the LM's own tokenizer, unchanged.

The base tokenizer is read from a local folder only: a sentencepiece `tokenizer.model`, or any Hugging
Face tokenizer saved there. `train_sentencepiece` makes a real one for tests and from-scratch runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import sentencepiece

from schemas.tokens import EOC, IMAGE

SENTENCEPIECE_FILE = "tokenizer.model"
_HF_FILES = ("tokenizer_config.json", "tokenizer.json")
_SPECIAL_SPLIT = re.compile(f"({re.escape(IMAGE)}|{re.escape(EOC)})")


class BaseTokenizer(Protocol):
    """The LM's own tokenizer, without any beginning/end markers added by `encode`."""

    vocab_size: int
    pad_id: int | None
    bos_id: int | None
    eos_id: int | None

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...


class SentencePieceBase:
    def __init__(self, model_file: Path) -> None:
        self.processor = sentencepiece.SentencePieceProcessor(model_file=str(model_file))
        self.vocab_size = self.processor.get_piece_size()
        self.pad_id = _defined(self.processor.pad_id())
        self.bos_id = _defined(self.processor.bos_id())
        self.eos_id = _defined(self.processor.eos_id())

    def encode(self, text: str) -> list[int]:
        return self.processor.encode(text)

    def decode(self, ids: list[int]) -> str:
        return self.processor.decode(ids)


def _defined(sentencepiece_id: int) -> int | None:
    """sentencepiece reports an id it does not have as -1."""
    return sentencepiece_id if sentencepiece_id >= 0 else None


class HuggingFaceBase:
    def __init__(self, folder: Path) -> None:
        from transformers import AutoTokenizer  # slow to import, and only this path needs it

        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.vocab_size = len(self.tokenizer)  # with the tokens added to it, which the LM's vocabulary holds too
        self.pad_id = self.tokenizer.pad_token_id
        self.bos_id = self.tokenizer.bos_token_id
        self.eos_id = self.tokenizer.eos_token_id

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)


class FlamingoTokenizer:
    """`<image>` and `<EOC>` as single ids after the LM's vocabulary, never split; other text goes to the base.

    `lm_vocab_size` is the LM's embedding rows where they exceed the tokenizer's own size (models often
    pad their tables): the added ids must come after the LM's vocabulary, not the tokenizer's.
    """

    def __init__(self, base: BaseTokenizer, lm_vocab_size: int | None = None) -> None:
        if lm_vocab_size is not None and lm_vocab_size < base.vocab_size:
            raise ValueError(f"lm_vocab_size {lm_vocab_size} is smaller than the tokenizer's {base.vocab_size} ids")
        self.base = base
        self.vocab_size = lm_vocab_size if lm_vocab_size is not None else base.vocab_size
        self.image_id = self.vocab_size
        self.eoc_id = self.vocab_size + 1
        self.total_size = self.vocab_size + 2
        self.bos_id = base.bos_id
        self.eos_id = base.eos_id
        # Padded positions are masked out, so any in-vocabulary id serves when the base names none.
        self.pad_id = next((i for i in (base.pad_id, base.eos_id) if i is not None), 0)
        self._special_ids = {IMAGE: self.image_id, EOC: self.eoc_id}
        self._special_texts = {self.image_id: IMAGE, self.eoc_id: EOC}

    @classmethod
    def from_pretrained(cls, path: str, lm_vocab_size: int | None = None) -> FlamingoTokenizer:
        """A local folder with a saved Hugging Face tokenizer, or else a sentencepiece `tokenizer.model`."""
        folder = Path(path)
        if not folder.is_dir():
            raise FileNotFoundError(f"tokenizer folder {path} does not exist or is not a folder")
        if any((folder / name).is_file() for name in _HF_FILES):
            return cls(HuggingFaceBase(folder), lm_vocab_size)
        if (folder / SENTENCEPIECE_FILE).is_file():
            return cls(SentencePieceBase(folder / SENTENCEPIECE_FILE), lm_vocab_size)
        raise FileNotFoundError(f"tokenizer folder {path} has none of {SENTENCEPIECE_FILE}, {', '.join(_HF_FILES)}")

    def encode(self, text: str, add_bos: bool = True) -> list[int]:
        ids = [self.bos_id] if add_bos and self.bos_id is not None else []
        for piece in _SPECIAL_SPLIT.split(text):
            if piece in self._special_ids:
                ids.append(self._special_ids[piece])
            elif piece:
                ids.extend(self.base.encode(piece))
        return ids

    def decode(self, ids: list[int]) -> str:
        """The base decodes each run of ids between special tokens on its own, as `encode` encoded it."""
        pieces: list[str] = []
        run: list[int] = []
        for token_id in ids:
            if token_id in self._special_texts:
                pieces.extend([self.base.decode(run), self._special_texts[token_id]])
                run = []
            else:
                run.append(token_id)
        pieces.append(self.base.decode(run))
        return "".join(pieces)


def train_sentencepiece(texts: Iterable[str], folder: str, vocab_size: int = 512) -> str:
    """Trains a byte-fallback BPE model into `folder/tokenizer.model`; returns the folder.

    Ids: unk 0, bos 1, eos 2 (as Llama's), pad 3. Text is kept as written (no normalisation, no
    whitespace folding) so that decoding gives back exactly what was encoded.
    """
    Path(folder).mkdir(parents=True, exist_ok=True)
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_prefix=str(Path(folder) / Path(SENTENCEPIECE_FILE).stem),
        model_type="bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        character_coverage=1.0,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        split_digits=True,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=3,
        minloglevel=2,
    )
    return folder
