"""The course's fixed texts for the language-model analyses (kept apart so the CLI can show them without torch)."""

EXERCISE_SENTENCE = "I am a little squirrel holding a walnut"  # L2's target
ATTENTION_PROMPT = "The Queen looked at Alice and said that the little"  # L3/L4: the model writes words 11 and 12
