"""Routing a question to tool calls.

- :mod:`~assistant.intent.extract`: extractors every language shares (normalising, a
  destination distance in km, which tyre, which energy, follow-up units);
- :mod:`~assistant.intent.languages`: the language tables ``assistant/data/intents/<lang>.yaml``
  (schema, loading, detecting a question's language);
- :mod:`~assistant.intent.matcher`: the rules that turn a question into tool calls with a table's words;
- :mod:`~assistant.intent.router`: follow-ups, off-topic questions and the model for the rest.
"""
