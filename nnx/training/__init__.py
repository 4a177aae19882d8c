"""Training: the fit/evaluate loop, batching, input conversion and the non-finite guard."""
