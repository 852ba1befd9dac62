"""The GPT language model: corpus, tokenizer, model, training and analyses."""
