"""Signal fusion: technical setup, model probability, sentiment, events and regime into one signal."""
