"""Every course question about the language model as a function: loaded model and options in, result out.

    training     L1 training_summary
    generation   generate_text
    inversion    L2 invert_sentence (input vectors) and real_token_prompt (GCG)
    attention    L3/L4 attention_maps
    scoring      L5 sequence_logprob, file_logprob
    compression  L6 compression_comparison

None of them prints or writes a file; randomness comes from explicit seeds.
"""

from gencli.lm.analyses.attention import attention_maps
from gencli.lm.analyses.common import (
    encode_fitting,
    fitting_words,
    held_out_text,
    text_start,
    training_text_if_readable,
)
from gencli.lm.analyses.compression import compression_comparison
from gencli.lm.analyses.generation import check_sampling, generate_text
from gencli.lm.analyses.inversion import (
    copies_two_words,
    invert_sentence,
    real_token_prompt,
    sentence_evidence,
)
from gencli.lm.analyses.scoring import file_logprob, sequence_logprob
from gencli.lm.analyses.training import training_summary
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE

__all__ = [
    "ATTENTION_PROMPT",
    "EXERCISE_SENTENCE",
    "attention_maps",
    "check_sampling",
    "compression_comparison",
    "copies_two_words",
    "encode_fitting",
    "file_logprob",
    "fitting_words",
    "generate_text",
    "held_out_text",
    "invert_sentence",
    "real_token_prompt",
    "sentence_evidence",
    "sequence_logprob",
    "text_start",
    "training_summary",
    "training_text_if_readable",
]
