"""Routing a question to tool calls.

- :mod:`~assistant.intent.extract`: extractors every language shares (normalising, repairing a
  speech transcript, hiding parts of a question, a destination distance in km, which tyre, which
  energy, follow-up units);
- :mod:`~assistant.intent.languages`: the language tables ``assistant/data/intents/<lang>.yaml``
  (schema, loading, detecting a question's language): topic words and the classes of phrasing
  the rules treat specially (shared words, a wheel named alone, declines, instructions, fillers);
- :mod:`~assistant.intent.matcher`: the rules that turn a question into tool calls with a table's
  words, and :func:`~assistant.intent.matcher.uncertainty`, why a route should not be trusted
  without a capable model;
- :mod:`~assistant.intent.router`: follow-ups, off-topic questions, and the model for what the
  matcher is not certain of (``Route.certain``, ``Route.reason``).
"""
