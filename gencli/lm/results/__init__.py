"""Result objects of the language-model analyses (L1-L6), one module per topic: numbers, strings and numpy arrays,
no torch."""

from gencli.lm.results.attention import AttentionMaps, spread
from gencli.lm.results.compression import ADAPTIVE, STATIC, CodedText, CompressionComparison, slug
from gencli.lm.results.generation import Generation
from gencli.lm.results.inversion import TextInversion, TokenPrompt, prompt_search_rate
from gencli.lm.results.scoring import TextScore, TokenLogProbs
from gencli.lm.results.training import LMTrainingSummary

__all__ = [
    "ADAPTIVE",
    "STATIC",
    "AttentionMaps",
    "CodedText",
    "CompressionComparison",
    "Generation",
    "LMTrainingSummary",
    "TextInversion",
    "TextScore",
    "TokenLogProbs",
    "TokenPrompt",
    "prompt_search_rate",
    "slug",
    "spread",
]
